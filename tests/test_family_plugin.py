"""A family defined only in this file, registered, and handled by every part of the tool.

`min_open` (rule kind `min_open`): at least `min` parks of a group open,
    min_open[r]:  Σ_{p∈G_r} y[p] ≥ min_r          (relaxable, big min_r)
with a KPI of its own, `parks_opened` (Σ_p y[p], unit "park"), which a `limit` rule can bound.
No other file of the tool names it: validate, solve, the checker, limits.csv, compare and
diagnose all reach it through the registry.

By hand: two closed parks (open_cost 5 each), one industry (relocation 1, stays at cost 100).
Without the rule: open p1, move a: 5 + 1 = 6. With min 2: both open: 10 + 1 = 11. With min 3 the
rule asks for more parks than the group has: infeasible, and the diagnosis relaxes it by 1.
"""

from __future__ import annotations

import json
import types
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from model import families, load
from model.check import check
from model.kpis import Kpi
from model.plan import Plan
from model.schema import Count, ParkRef, RuleBase
from model.selectors import parks_of
from model.tables import limit_row
from solvers.problem import Lin, keys_of
from tests.conftest import base, write


class MinOpenRule(RuleBase):
    kind: Literal["min_open"]
    parks: ParkRef
    min: Count


def _add(problem, data, options):
    rules = data.rules_of(MinOpenRule)
    y = problem.var("y")
    lins = [Lin([y.col(p) for p in data.park_set(r.parks)], 1.0) for r in rules]
    problem.add_lin_rows("min_open", keys_of([r.id for r in rules]), lins, lo=[float(r.min) for r in rules],
                         doc="parks open ≥ min", relax="min_open", big=[float(r.min) for r in rules])


def _check(c):
    bad = []
    for r in c.rules(MinOpenRule):
        n = sum(c.plan.open.get(p, 0) for p in parks_of(c.inst, r.parks))
        if n < r.min:
            bad.append(f"rule {r.id}: {n} parks open < min {r.min}")
    return bad


def _rows(ctx):
    if ctx.problem is None or ctx.problem.solution is None:
        return {}
    value = ctx.problem.row_values("min_open")
    prices = ctx.prices("min_open")
    return {"limits.csv": [limit_row(r, "parks_opened", "min", float(r.min), float(value[n]),
                                     float(value[n]) - r.min, prices.get((r.id,), float("nan")),
                                     "money per park", "min_open", r.id)
                           for n, r in enumerate(ctx.data.rules_of(MinOpenRule))]}


def _describe(inst, relax, label, amount):
    return f"rule {label[0]} (min_open): open {amount:.6g} fewer park(s)"


def _validate(rule, path, refs):
    if refs.park_ids is not None and rule.min > len(refs.park_ids):
        refs.problem((*path, "min"), f"min {rule.min} exceeds the {len(refs.park_ids)} parks of the instance",
                     "at most the number of parks")


@pytest.fixture
def min_open():
    family = types.ModuleType("min_open")
    family.NAME = "min_open"
    family.RULES = (MinOpenRule,)
    family.RELAX = {"min_open": 1.0}
    family.KPIS = (Kpi("parks_opened", "park", "parks open", objective=False,
                       park=lambda d: np.ones(len(d.parks)), check_park=lambda park, built: 1.0),)
    family.add, family.check, family.rows = _add, _check, _rows
    family.describe, family.validate = _describe, _validate
    families.register(family)
    yield family
    families.unregister(family)


def _instance(minimum: int) -> dict:
    d = base()
    for p in d["parks"]:
        p["open_cost"] = 5
    d["rules"] = [{"id": "two_hosts", "kind": "min_open", "source": "test", "parks": {"ids": ["p1", "p2"]},
                   "min": minimum}]
    return d


def test_a_registered_family_is_validated_solved_checked_reported_compared_and_diagnosed(tmp_path, min_open):
    runner = CliRunner()
    # validate: the schema and the family's own reference check, in the user's words.
    bad = _instance(2)
    bad["rules"][0]["min"] = "many"
    r = runner.invoke(main, ["validate", str(write(tmp_path, bad, "bad.yaml"))])
    assert r.exit_code == 2 and "rules.two_hosts.min: got 'many'; expected a whole number" in r.stderr
    bad["rules"][0]["min"] = 5
    r = runner.invoke(main, ["validate", str(write(tmp_path, bad, "bad.yaml"))])
    assert r.exit_code == 2 and "rules.two_hosts.min: min 5 exceeds the 2 parks of the instance" in r.stderr

    # solve: both back-ends, the optimum worked out by hand; limits.csv has the family's row.
    path = write(tmp_path, _instance(2))
    for backend in ("direct", "pyomo"):
        out = tmp_path / f"two-{backend}"
        r = runner.invoke(main, ["solve", str(path), "--mip-gap", "0", "--backend", backend, "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert json.loads((out / "kpis.json").read_text())["objective"] == pytest.approx(11)
        limits = pd.read_csv(out / "limits.csv").set_index(["component", "index"])
        row = limits.loc[("min_open", "two_hosts")]
        assert row["value"] == 2 and row["bound"] == 2 and row["binding"] and row["kind"] == "min_open"
    r = runner.invoke(main, ["solve", str(write(tmp_path, _instance(1), "one.yaml")), "--mip-gap", "0",
                             "--out", str(tmp_path / "one")])
    assert r.exit_code == 0 and json.loads((tmp_path / "one" / "kpis.json").read_text())["objective"] == 6

    # the checker: a plan with one park open breaks the rule; `check` says so in the rule's words.
    inst = load(str(path)).instance
    plan = Plan({("a", "p1"): 1.0}, {"a": 0.0}, {"p1": 1, "p2": 0}, [])
    assert "rule two_hosts: 1 parks open < min 2" in check(inst, plan).violations
    r = runner.invoke(main, ["check", str(path), str(tmp_path / "one")])
    assert r.exit_code == 6 and "rule two_hosts: 1 parks open < min 2" in r.output + r.stderr

    # the family's KPI: a limit may bound it, the checker recomputes it.
    capped = _instance(1)
    capped["rules"].append({"id": "few", "kind": "limit", "source": "t", "kpi": "parks_opened", "max": 1})
    out = tmp_path / "capped"
    r = runner.invoke(main, ["solve", str(write(tmp_path, capped, "capped.yaml")), "--mip-gap", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    limits = pd.read_csv(out / "limits.csv").set_index(["component", "index"])
    assert limits.loc[("limit", "few,max"), "value"] == 1 and limits.loc[("limit", "few,max"), "binding"]

    # compare: the family's row is a row of its own, named as the model names it. Two modules of
    # a that fit one per park open both parks anyway: min 1 does not bind, min 2 does.
    for name, minimum in (("loose", 1), ("tight", 2)):
        d = _instance(minimum)
        d["industries"][0]["modules"] = 2
        for p in d["parks"]:
            p["capacity"]["land"] = 1
        r = runner.invoke(main, ["solve", str(write(tmp_path, d, f"{name}.yaml")), "--mip-gap", "0",
                                 "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["compare", str(tmp_path / "loose"), str(tmp_path / "tight"), "--out",
                             str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    assert "min_open[two_hosts]" in r.output
    assert json.loads((tmp_path / "two-direct" / "kpis.json").read_text())["kpis"]["open_cost"] == 10

    # diagnose: three parks asked of two; the relaxation in the family's own sentence.
    r = runner.invoke(main, ["solve", str(write(tmp_path, {**_instance(2), "parks": _instance(2)["parks"]}, "x.yaml")),
                             "--set", "rules.two_hosts.min=3", "--out", str(tmp_path / "three")])
    assert r.exit_code == 2  # refused by the family's own check first: 3 > the 2 parks
    loose = _instance(2)
    loose["parks"].append({"id": "p3", "province": "Hunan", "region": "central", "capacity": {"land": 0},
                           "open_cost": 5})
    loose["rules"].append({"id": "no_p3", "kind": "forbid", "source": "t", "parks": {"ids": ["p3"]}})
    loose["rules"][0]["parks"] = {"ids": ["p1", "p2"]}
    loose["rules"][0]["min"] = 3
    r = runner.invoke(main, ["solve", str(write(tmp_path, loose, "loose.yaml")), "--out", str(tmp_path / "three")])
    assert r.exit_code == 3, r.output
    assert "rule two_hosts (min_open): open 1 fewer park(s)" in r.stderr
    doc = json.loads((tmp_path / "three" / "diagnosis.json").read_text())
    assert doc["relaxations"][0]["family"] == "min_open" and doc["relaxations"][0]["component"] == "min_open"
    r = runner.invoke(main, ["diagnose", "--help"])
    assert "min_open 1" in " ".join(r.output.split())  # the help lists the registered relaxations


def test_registering_twice_or_a_taken_kind_is_refused(min_open):
    with pytest.raises(ValueError, match="registered already"):
        families.register(min_open)
    clash = types.ModuleType("other")
    clash.NAME, clash.RULES, clash.add = "other", (MinOpenRule,), _add
    with pytest.raises(ValueError, match="taken"):
        families.register(clash)


def test_without_the_family_its_rule_kind_is_unknown(tmp_path):
    r = CliRunner().invoke(main, ["validate", str(write(tmp_path, _instance(2)))])
    assert r.exit_code == 2
    assert "got kind 'min_open'; expected kind: retire | forbid | carbon_trade | limit | transfer_target | " \
        "diversity | capacity_replacement | chain | cluster | eco_compensation | participation" in r.stderr
