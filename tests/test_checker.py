"""The independent checker accepts solved plans and rejects tampered ones.

Solved plans of every family test are checked in conftest.solve_data; here the demo's optimal plan
is altered one way at a time, and each alteration must be caught with the right reason.
"""

from __future__ import annotations

import copy

import pytest

from model import load
from model.check import check
from model.run import solve_instance
from tests.conftest import EXACT, INSTANCES, base, solve_data


@pytest.fixture(scope="module")
def solved():
    out = solve_instance(load(str(INSTANCES / "demo.yaml")), None, EXACT)
    assert out.check.ok
    return out


def tamper(solved, change):
    plan = copy.deepcopy(solved.plan)
    change(plan)
    return check(solved.loaded.instance, plan).violations


def test_accepts_the_optimum_and_recomputes_its_kpis(solved):
    report = check(solved.loaded.instance, solved.plan, solved.kpis, solved.result.objective)
    assert report.ok
    assert report.objective == pytest.approx(49.6)


@pytest.mark.parametrize("change, reason", [
    (lambda p: (p.x.pop(("chem_zj", "ganzhou")), p.x.__setitem__(("chem_zj", "wuhu"), 1.0)),
     "rule yangtze_chemicals forbids chem_zj at wuhu"),
    (lambda p: (p.x.pop(("textiles_js", "wuhu")), p.x.__setitem__(("textiles_js", "guangan"), 2.0)),
     "park guangan: labor use 200 > capacity 150 persons (over by 50)"),
    (lambda p: p.stay.__setitem__("electronics_gd", 0.0),
     "electronics_gd: 0 modules placed + 0 staying ≠ its 1 modules"),
    (lambda p: p.stay.__setitem__("chem_zj", 1.0), "chem_zj: 1 modules placed + 1 staying ≠ its 1 modules"),
    (lambda p: p.open.__setitem__("ganzhou", 0), "chem_zj at ganzhou: 1 modules at a park that is not open"),
    (lambda p: p.open.__setitem__("wuhu", 0), "park wuhu: not open but the park is already open"),
    (lambda p: p.upgrades.clear(), "park ganzhou: cod use 6 > capacity 2 t COD (over by 4)"),
    (lambda p: (p.x.__setitem__(("textiles_js", "wuhu"), 0.5), p.stay.__setitem__("textiles_js", 0.5)),
     "is not whole but textiles_js is not divisible"),
    (lambda p: p.x.__setitem__(("electronics_gd", "nowhere"), 1.0), "electronics_gd at nowhere: unknown park"),
])
def test_rejects_tampered_plans(solved, change, reason):
    violations = tamper(solved, change)
    assert any(reason in v for v in violations), violations


def test_rejects_misreported_kpis_and_objective(solved):
    kpis = dict(solved.kpis, co2=solved.kpis["co2"] + 1)
    report = check(solved.loaded.instance, solved.plan, kpis, solved.result.objective + 0.5)
    assert report.feasible and not report.ok  # the plan is fine; what was said of it is not
    assert any(v.startswith("KPI co2: reported") for v in report.mismatches)
    assert any(v.startswith("objective: reported 50.1") for v in report.mismatches)


def test_rejects_broken_limits_targets_and_diversity(tmp_path):
    d = base()
    d["industries"][0].update(modules=2, value_added=10)
    d["industries"].append({"id": "b", "origin": "Zhejiang", "sector": "textiles", "modules": 1,
                            "use": {"land": 1}, "relocation_cost": 1, "stay_cost": 100})
    d["rules"] = [
        {"id": "cap", "kind": "limit", "source": "t", "kpi": "value_added", "parks": {"ids": ["p1"]}, "max": 10},
        {"id": "target", "kind": "transfer_target", "source": "t", "min_modules": 3},
        {"id": "one_park", "kind": "diversity", "source": "t", "max_parks_per_sector": 2},
    ]
    out = solve_data(tmp_path, d)
    assert out.check.ok
    inst = out.loaded.instance
    plan = copy.deepcopy(out.plan)
    plan.x = {("a", "p1"): 2.0, ("b", "p2"): 1.0}
    plan.stay = {"a": 0.0, "b": 0.0}
    assert any(v.startswith("rule cap: value_added 20 > max 10 million yuan (over by 10)")
               for v in check(inst, plan).violations)
    plan.x = {("a", "p1"): 1.0, ("b", "p2"): 1.0}
    plan.stay = {"a": 1.0, "b": 0.0}
    assert any(v.startswith("rule target: 2 modules moved < 3 required (short by 1)")
               for v in check(inst, plan).violations)
    d["rules"][2]["max_parks_per_sector"] = 1
    strict = solve_data(tmp_path, d).loaded.instance
    plan.x = {("a", "p1"): 1.0, ("a", "p2"): 1.0, ("b", "p2"): 1.0}
    plan.stay = {"a": 0.0, "b": 0.0}
    assert any(v.startswith("rule one_park: sector textiles at 2 parks > max_parks_per_sector 1")
               for v in check(strict, plan).violations)


def test_a_move_or_a_closure_is_never_undone_in_a_later_period(tmp_path):
    """A phased plan's moves and closures are each at least 0 (the model's x[i,p,t], retire[i,t] ≥ 0):
    a module moved to p1 in t1 cannot go to p2 in t2 by −1 at p1, nor come home, nor reopen."""
    d = base()
    d["industries"][0].update(modules=2, stay_cost=1, may_retire=True, retire_cost=5)
    d["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    out = solve_data(tmp_path, d)
    inst = out.loaded.instance
    plan = copy.deepcopy(out.plan)
    plan.moves = {("a", "p1", "t1"): 2.0, ("a", "p1", "t2"): -1.0, ("a", "p2", "t2"): 1.0}
    plan.retirements, plan.stay = {}, {"a": 0.0}
    assert check(inst, plan).violations == [
        "period t2: a to p1: -1 modules moved in the period; a move is at least 0 (a module moves once and stays)"]
    plan.moves = {("a", "p1", "t1"): 2.0, ("a", "p1", "t2"): -1.0}  # one goes home
    plan.stay = {"a": 1.0}
    assert any("a to p1: -1 modules moved in the period" in v for v in check(inst, plan).violations)
    plan.moves, plan.stay = {}, {"a": 2.0}
    plan.retirements = {("a", "t1"): 1.0, ("a", "t2"): -1.0}  # closed, then open again
    assert any("a: -1 modules closed in the period; a closure is at least 0" in v
               for v in check(inst, plan).violations)


def test_a_million_modules_are_counted_to_the_module(tmp_path):
    """The checker's relative tolerance of 1e-6 let one module of a million appear or vanish; counts
    of modules are now off by round-off at most."""
    d = base()
    d["industries"][0].update(modules=1_000_000, use={"land": 1e-5}, stay_cost=100)
    d["rules"] = [{"id": "all", "kind": "transfer_target", "source": "t", "min_modules": 1_000_000}]
    out = solve_data(tmp_path, d)
    inst = out.loaded.instance
    plan = copy.deepcopy(out.plan)
    for placed in (999_999.0, 1_000_001.0):
        plan.x, plan.stay = {("a", "p1"): placed}, {"a": 0.0}
        assert f"a: {placed:g} modules placed + 0 staying ≠ its 1000000 modules" in check(inst, plan).violations
    plan.x, plan.stay = {("a", "p1"): 999_999.0}, {"a": 1.0}
    assert "rule all: 999999 modules moved < 1e+06 required (short by 1)" in check(inst, plan).violations
