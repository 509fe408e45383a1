"""Infeasibility diagnosis: the smallest set of relaxations, named as the instance names things."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from model import load
from model.diagnose import diagnose
from tests.conftest import base, write


def _short_capacity() -> dict:
    d = base()
    # a must move and needs 12 ha; p1 has 11, p2 has 10: the least to add is 1 ha at p1.
    d["industries"][0].update(use={"land": 12}, must_transfer=True)
    d["parks"][0]["capacity"]["land"] = 11
    return d


def test_names_the_short_resource_and_amount(tmp_path):
    result = diagnose(load(str(write(tmp_path, _short_capacity()))))
    assert [r.text for r in result.relaxations] == [
        "park p1: land short by 1 ha (capacity 11; parks.p1.capacity.land=12 would do)"]
    assert result.relaxations[0].amount == pytest.approx(1.0)
    assert result.iis is None  # the LP relaxation is feasible: 11/12 at p1 and 1/12 at p2


def test_the_suggested_fix_works(tmp_path):
    from model.run import solve_instance

    out = solve_instance(load(str(write(tmp_path, _short_capacity())), None, [("parks.p1.capacity.land", 12)]))
    assert out.result.status == "optimal"


def test_a_closed_park_can_be_the_answer(tmp_path):
    d = _short_capacity()
    d["parks"][0]["capacity"]["land"] = 5
    d["parks"][1].update(open_cost=50)
    # p2 (closed, 10 ha) needs 2 more; p1 (open, 5 ha) needs 7: the smaller amount wins.
    result = diagnose(load(str(write(tmp_path, d))))
    assert [r.text for r in result.relaxations] == [
        "park p2: land short by 2 ha (capacity 10; parks.p2.capacity.land=12 would do)"]


def test_limits_and_rules_in_their_own_words(tmp_path):
    d = base()
    d["industries"][0].update(modules=2, must_transfer=True, co2_process=5)
    d["rules"] = [
        {"id": "cap", "kind": "limit", "source": "t", "kpi": "co2", "max": 7},
        {"id": "only_p1", "kind": "forbid", "source": "t", "parks": {"ids": ["p2"]}},
    ]
    result = diagnose(load(str(write(tmp_path, d))))
    # 10 kt must be emitted wherever the modules go: exceed the cap by 3 (forbid is dearer to relax).
    assert [r.text for r in result.relaxations] == ["rule cap (co2 max 7): exceed by 3 kt CO2"]
    heavy = diagnose(load(str(write(tmp_path, d))), {"limit": 1000})
    assert [r.text for r in heavy.relaxations] == ["industry a (must_transfer): let 1 module(s) stay at the origin"]


def test_forbid_rule_relaxed_when_nothing_else_helps(tmp_path):
    d = base()
    d["industries"][0]["must_transfer"] = True
    d["rules"] = [{"id": "nowhere", "kind": "forbid", "source": "t", "industries": {"ids": ["a"]}}]
    result = diagnose(load(str(write(tmp_path, d))), {"must_transfer": 1000})
    assert len(result.relaxations) == 1
    assert result.relaxations[0].text in ("rule nowhere (forbid): allow a at p1 (1 module(s))",
                                          "rule nowhere (forbid): allow a at p2 (1 module(s))")


def test_lp_infeasible_reports_the_irreducible_subset(tmp_path):
    d = _short_capacity()
    d["industries"][0]["use"]["land"] = 25  # more than both parks together
    result = diagnose(load(str(write(tmp_path, d))))
    # By hand: x[a,p1] ≤ 11/25·y[p1] ≤ 0.44 and x[a,p2] ≤ 10/25·y[p2] ≤ 0.4 leave assign's
    # x[a,p1] + x[a,p2] + stay[a] = 1 short with stay[a] ≤ 0 (must move). Every one of these is needed;
    # the lower bounds x ≥ 0 are not (a negative x only makes the sum shorter), and HiGHS marks them
    # free: once listed as "bound of x[a,p1]" all the same.
    assert set(result.iis) == {"assign[a]", "capacity[p1,land]", "capacity[p2,land]", "upper bound of stay[a]",
                               "upper bound of y[p1]", "upper bound of y[p2]"}
    assert [r.text for r in result.relaxations] == [
        "park p1: land short by 14 ha (capacity 11; parks.p1.capacity.land=25 would do)"]


def test_solve_exits_3_with_the_diagnosis(tmp_path):
    path = write(tmp_path, _short_capacity())
    result = CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 3
    assert "  - park p1: land short by 1 ha (capacity 11; parks.p1.capacity.land=12 would do)" in result.stderr
    doc = json.loads((tmp_path / "run" / "diagnosis.json").read_text())
    assert doc["relaxations"][0]["key"] == ["p1", "land"] and doc["relaxations"][0]["amount"] == pytest.approx(1)
    feasible = CliRunner().invoke(main, ["diagnose", str(write(tmp_path, base(), "ok.yaml"))])
    assert feasible.exit_code == 0 and "no relaxation is needed" in feasible.stdout
    one = CliRunner().invoke(main, ["diagnose", str(path), "--threads", "1"])  # as solve takes it, on a shared machine
    assert one.exit_code == 3 and "park p1: land short by 1 ha" in one.stdout + one.stderr
    bad = CliRunner().invoke(main, ["diagnose", str(path), "--weight", "capacities=2"])
    assert bad.exit_code == 2 and "--weight: capacities=2: not a relaxation" in bad.stderr
    for weight in ("capacity=inf", "capacity=-1", "capacity=abc", "capacity=0"):
        bad = CliRunner().invoke(main, ["diagnose", str(path), "--weight", weight])
        assert bad.exit_code == 2 and f"--weight: {weight}: not a relaxation with a finite weight > 0" in bad.stderr
    # 1e6 (text to YAML 1.1) is the number 1000000: capacity then costs more than letting a stay.
    exponent = CliRunner().invoke(main, ["diagnose", str(path), "--weight", "capacity=1e6"])
    plain = CliRunner().invoke(main, ["diagnose", str(path), "--weight", "capacity=1000000"])
    assert exponent.exit_code == plain.exit_code == 3 and exponent.stderr == plain.stderr
    assert "industry a (must_transfer): let 1 module(s) stay" in exponent.stderr


def test_a_pair_two_rules_forbid_needs_both_relaxed(tmp_path):
    """a must move; p2 has no land, p1 is forbidden by two rules. With capacity and must_transfer
    made dear, the only way out is p1, and both rules must give way (one alone would not do)."""
    d = base()
    d["industries"][0]["must_transfer"] = True
    d["parks"][1]["capacity"]["land"] = 0
    d["rules"] = [{"id": "by_id", "kind": "forbid", "source": "t", "parks": {"ids": ["p1"]}},
                  {"id": "by_region", "kind": "forbid", "source": "t", "parks": {"region": "central"}}]
    result = diagnose(load(str(write(tmp_path, d))), {"capacity": 1000, "must_transfer": 1000})
    assert [r.text for r in result.relaxations] == [
        "rule by_id (forbid): allow a at p1 (1 module(s))", "rule by_region (forbid): allow a at p1 (1 module(s))"]


def test_each_diversity_bound_is_relaxed_under_its_own_name(tmp_path):
    d = base()
    d["industries"].append({"id": "b", "origin": "Jiangsu", "sector": "food", "use": {"land": 1}, "stay_cost": 100,
                            "must_transfer": True})
    d["industries"][0]["must_transfer"] = True
    d["parks"][1]["capacity"]["land"] = 0  # both must go to p1
    d["rules"] = [{"id": "one_sector", "kind": "diversity", "source": "t", "max_sectors_per_park": 1}]
    result = diagnose(load(str(write(tmp_path, d))), {"capacity": 1000, "must_transfer": 1000})
    assert [r.text for r in result.relaxations] == [
        "rule one_sector (max_sectors_per_park): allow 1 more sector(s) at park p1"]
