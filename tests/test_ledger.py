"""The ledger per province, and limits on a province's own KPIs; values worked out by hand.

Two bundles: a (province A, 2 modules: value added 10, jobs 5, tax 2, co2 1 each, staying costs 100
a module, moving 1) and b (province B, 1 module: value added 20, jobs 10, tax 4; staying costs
nothing, moving 1, so it stays). One open park p1 in province C. Every solve passes the checker.
"""

from __future__ import annotations

import pytest

from tests.conftest import solve_data


def three_provinces() -> dict:
    return {
        "name": "ledger",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [
            {"id": "a", "origin": "A", "sector": "s", "modules": 2, "use": {"land": 1}, "value_added": 10, "jobs": 5,
             "tax": 2, "co2_process": 1, "stay_cost": 100, "relocation_cost": 1},
            {"id": "b", "origin": "B", "sector": "s", "modules": 1, "use": {"land": 1}, "value_added": 20, "jobs": 10,
             "tax": 4, "stay_cost": 0, "relocation_cost": 1}],
        "parks": [{"id": "p1", "province": "C", "region": "west", "capacity": {"land": 10}}],
    }


def book(out) -> dict:
    table = out.tables["ledger.csv"]
    return {(r.jurisdiction, r.measure): (r.status_quo, r.plan, r.change) for r in table.itertuples()}


def test_the_ledger_of_a_plan(tmp_path):
    # a moves to C (2 × relocation 1); b stays in B.
    out = solve_data(tmp_path, three_provinces())
    assert out.result.objective == pytest.approx(2.0)
    got = book(out)
    assert got["A", "modules"] == (2, 0, -2) and got["A", "value_added"] == (20, 0, -20)
    assert got["A", "tax"] == (4, 0, -4) and got["A", "jobs"] == (10, 0, -10) and got["A", "co2"] == (2, 0, -2)
    assert got["A", "stay_cost"] == (200, 0, -200) and got["A", "relocation_cost"] == (0, 2, 2)  # the sender's
    assert got["B", "modules"] == (1, 1, 0) and got["B", "value_added"] == (20, 20, 0)
    assert got["C", "modules"] == (0, 2, 2) and got["C", "value_added"] == (0, 20, 20)
    assert got["C", "tax"] == (0, 4, 4) and got["C", "co2"] == (0, 2, 2)
    # Summed over the provinces, the plan's costs are the plan's KPIs.
    for kpi in ("co2", "stay_cost", "relocation_cost", "operating_cost"):
        assert sum(got[p, kpi][1] for p in "ABC") == pytest.approx(out.kpis[kpi])


def test_a_province_keeps_value_added_by_a_limit_on_its_own(tmp_path):
    # A keeps at least 10 of value added (its modules at home count): one module of a stays (100).
    d = three_provinces()
    d["rules"] = [{"id": "keep", "kind": "limit", "source": "test", "kpi": "value_added", "provinces": ["A"],
                   "min": 10}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): 1.0} and out.result.objective == pytest.approx(101.0)
    row = out.tables["limits.csv"].iloc[0]
    assert (row["value"], row["bound"], bool(row["binding"])) == (10.0, 10.0, True)


def test_a_province_share_and_a_cap(tmp_path):
    # C's share of all value added (40 in total, wherever it runs) at least 0.5: 20 at C, b (20, moving
    # costs 1) or both modules of a (2). A cap on C's tax of 2 then lets neither b (4) nor both of a (4)
    # in, and one module of a (10) falls short: infeasible.
    d = three_provinces()
    d["industries"][0]["stay_cost"] = 0  # nothing pushes a out but the share
    d["rules"] = [{"id": "share", "kind": "limit", "source": "test", "kpi": "value_added", "provinces": ["C"],
                   "min_share": 0.5}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("b", "p1"): 1.0} and out.result.objective == pytest.approx(1.0)
    d["rules"].append({"id": "cap", "kind": "limit", "source": "test", "kpi": "tax", "provinces": ["C"], "max": 2})
    assert solve_data(tmp_path, d).result.status == "infeasible"


def test_a_province_limit_per_period(tmp_path):
    # Two periods of a year: A keeps 10 of value added in t1 only, so one module of a waits a year
    # at home (100) and moves in t2: 1 + 100 + 1.
    d = three_provinces()
    d["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    d["rules"] = [{"id": "keep", "kind": "limit", "source": "test", "kpi": "value_added", "provinces": ["A"],
                   "min": {"t1": 10}}]
    out = solve_data(tmp_path, d)
    assert out.plan.moves == {("a", "p1", "t1"): 1.0, ("a", "p1", "t2"): 1.0}
    assert out.result.objective == pytest.approx(102.0)
    got = out.tables["ledger.csv"]
    a = got[(got["jurisdiction"] == "A") & (got["measure"] == "modules")]
    assert a["period"].tolist() == ["t1", "t2"] and a["plan"].tolist() == [1.0, 0.0]


def test_provinces_are_checked(tmp_path):
    from click.testing import CliRunner

    from cli import main
    from tests.conftest import write

    d = three_provinces()
    d["rules"] = [{"id": "keep", "kind": "limit", "source": "test", "kpi": "value_added", "provinces": ["Z"],
                   "parks": {"ids": ["p1"]}, "min": 1}]
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, d))])
    assert result.exit_code == 2
    assert "rules.keep.provinces: given with `parks`" in result.stderr
    assert "rules.keep.provinces[0]: no industry comes from and no park is in 'Z'; expected a province, " \
        "a group of provinces or a region: A, B, C, west" \
        in result.stderr
    d["rules"] = [{"id": "keep", "kind": "limit", "source": "test", "kpi": "stay_cost", "provinces": [], "max": 1}]
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, d))])
    assert result.exit_code == 2
    assert "rules.keep.provinces: is empty; expected at least one province" in result.stderr
    assert "rules.keep.kpi: stay_cost cannot be bounded by a limit" in result.stderr
