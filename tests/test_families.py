"""Every constraint family on small data where it binds; expected values worked out by hand.

Each test runs under every formulation (tight, strong, aggregated, strong_cover) with the direct HiGHS
back-end, and under strong through the Pyomo reference back-end: they must give the same optimum.
Every solve also passes the independent checker (see conftest.solve_data).
"""

from __future__ import annotations

import math

import pytest

from model.options import FORMULATIONS
from tests.conftest import base, placed, solve_data


@pytest.fixture(params=[*FORMULATIONS, "strong@pyomo"])
def formulation(request: pytest.FixtureRequest) -> str:
    return request.param


def test_stays_when_moving_costs_more(tmp_path, formulation):
    d = base()
    d["industries"][0].update(stay_cost=0, relocation_cost=5)
    out = solve_data(tmp_path, d, formulation)
    assert out.result.status == "optimal"
    assert out.result.objective == pytest.approx(0.0)
    assert placed(out) == {} and out.plan.stay == {"a": 1.0}


def test_must_transfer_moves_to_cheapest_park(tmp_path, formulation):
    d = base()
    d["industries"][0].update(stay_cost=0, relocation_cost=5, must_transfer=True)
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 2}]
    out = solve_data(tmp_path, d, formulation)
    # p1 costs 5 + 2, p2 costs 5.
    assert placed(out) == {("a", "p2"): 1.0}
    assert out.result.objective == pytest.approx(5.0)


def test_a_must_transfer_module_that_may_close_needs_no_park(tmp_path, formulation):
    """A must-transfer industry that may close closes where that is cheaper, and no park opens for
    it: strong_cover's cut (model/families/cover.py) once counted it among what must move and
    opened p1 (open_cost 10) for nothing, an 'optimal' 11 where the optimum is 1."""
    d = base()
    d["industries"][0].update(must_transfer=True, may_retire=True, retire_cost=1, relocation_cost=8,
                              use={"land": 10})
    d["parks"] = [{**d["parks"][0], "open_cost": 10, "capacity": {"land": 12}}]
    out = solve_data(tmp_path, d, formulation)
    # moving costs 10 (open p1) + 8 (relocation) = 18; closing costs 1
    assert out.result.status == "optimal" and out.result.objective == pytest.approx(1.0)
    assert placed(out) == {} and out.plan.retire == {"a": 1.0} and not any(out.plan.open.values())


@pytest.mark.parametrize("target, moved, objective", [
    ({"min_modules": 3}, 3, 3 * 3 + 1 * 1),  # 3 move at 3 each, 1 stays at 1
    ({"min_share": 0.5}, 2, 2 * 3 + 2 * 1),
])
def test_transfer_target(tmp_path, formulation, target, moved, objective):
    d = base()
    d["industries"][0].update(modules=4, stay_cost=1, relocation_cost=3)
    d["rules"] = [{"id": "t", "kind": "transfer_target", "source": "test", **target}]
    out = solve_data(tmp_path, d, formulation)
    assert sum(placed(out).values()) == moved
    assert out.result.objective == pytest.approx(objective)


def test_forbidden_pair_gets_no_variable(tmp_path, formulation):
    d = base()
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 4}]
    d["rules"] = [{"id": "no_p2", "kind": "forbid", "source": "test", "parks": {"ids": ["p2"]}}]
    out = solve_data(tmp_path, d, formulation)
    x = out.problem.var("x")
    assert ("a", "p2") not in set(zip(*x.keys)) and len(x) == 1
    assert list(out.data.pairs["park"]) == ["p1"]
    assert out.data.removed_by_rule == {"no_p2": 1}
    assert placed(out) == {("a", "p1"): 1.0}
    assert out.result.objective == pytest.approx(1 + 4)


def test_disabled_rule_forbids_nothing(tmp_path, formulation):
    d = base()
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 4}]
    d["rules"] = [{"id": "no_p2", "kind": "forbid", "source": "test", "enabled": False,
                   "parks": {"ids": ["p2"]}}]
    out = solve_data(tmp_path, d, formulation)
    assert placed(out) == {("a", "p2"): 1.0}


@pytest.mark.parametrize("modules, open_cost, expected, objective", [
    (2, 3, {("a", "p2"): 2.0}, 3 + 2 * (1 + 1)),  # open p2: 7 < 2·(1 + 5) = 12
    (1, 5, {("a", "p1"): 1.0}, 1 + 5),  # p1: 6 < 5 + 1 + 1 = 7
])
def test_link_opens_a_park_only_when_it_pays(tmp_path, formulation, modules, open_cost, expected, objective):
    d = base()
    d["industries"][0]["modules"] = modules
    d["parks"][1]["open_cost"] = open_cost
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 5}, {"industry": "a", "park": "p2", "cost": 1}]
    out = solve_data(tmp_path, d, formulation)
    assert placed(out) == expected
    assert out.plan.open["p2"] == (1 if ("a", "p2") in expected else 0)
    assert out.result.objective == pytest.approx(objective)


def test_capacity_binds(tmp_path, formulation):
    d = base()
    d["industries"][0].update(modules=3, use={"land": 4})
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}]
    out = solve_data(tmp_path, d, formulation)
    # p1 holds two modules (8 of 10 ha); the third goes to p2 at 2 more.
    assert placed(out) == {("a", "p1"): 2.0, ("a", "p2"): 1.0}
    assert out.result.objective == pytest.approx(3 * 1 + 2)
    parks = out.tables["parks.csv"].set_index("park")
    assert parks.loc["p1", "use"] == pytest.approx(8) and parks.loc["p1", "slack"] == pytest.approx(2)


@pytest.mark.parametrize("prereq_cost, built, objective", [
    (0.8, [("p1", "base_works"), ("p1", "extension")], 3 + 0.5 + 0.8),  # 4.3 < 5: build both
    (2.5, [], 3 + 2),  # 3 + 3 = 6 > 5: build neither, one module to p2
])
def test_upgrade_with_prerequisite(tmp_path, formulation, prereq_cost, built, objective):
    d = base()
    d["industries"][0].update(modules=3, use={"land": 4})
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}]
    d["parks"][0]["upgrades"] = [
        {"id": "extension", "cost": 0.5, "adds": {"land": 2}, "requires": ["base_works"]},
        {"id": "base_works", "cost": prereq_cost},
    ]
    out = solve_data(tmp_path, d, formulation)
    assert sorted(out.plan.upgrades) == sorted(built)
    assert out.result.objective == pytest.approx(objective)


def test_upgrade_needs_an_open_park(tmp_path, formulation):
    d = base()
    d["industries"][0].update(modules=1, use={"land": 12}, must_transfer=True)
    # Neither park fits 12 ha; p2 is closed (open cost 4) but has an upgrade adding 5 ha.
    d["parks"][1].update(open_cost=4, upgrades=[{"id": "x", "cost": 1, "adds": {"land": 5}}])
    out = solve_data(tmp_path, d, formulation)
    assert placed(out) == {("a", "p2"): 1.0} and out.plan.open["p2"] == 1
    assert out.result.objective == pytest.approx(1 + 4 + 1)


def _co2_case() -> dict:
    d = base()
    d["industries"][0].update(modules=2, power_use=10, value_added=10)
    d["parks"][0]["grid_factor"] = 0.5  # 5 kt per module
    d["parks"][1]["grid_factor"] = 0.1  # 1 kt per module
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 3}]
    return d


def test_limit_max_on_a_group(tmp_path, formulation):
    d = _co2_case()
    d["groups"] = {"central": {"parks": {"region": "central"}}}
    d["rules"] = [{"id": "cap", "kind": "limit", "source": "test", "kpi": "co2", "parks": "central", "max": 5}]
    out = solve_data(tmp_path, d, formulation)
    assert placed(out) == {("a", "p1"): 1.0, ("a", "p2"): 1.0}
    assert out.result.objective == pytest.approx(2 + 3)
    assert out.kpis["co2"] == pytest.approx(5 + 1)
    row = out.tables["limits.csv"].set_index("rule").loc["cap"]
    assert row["value"] == pytest.approx(5) and bool(row["binding"])


@pytest.mark.parametrize("rule", [
    {"kpi": "value_added", "parks": {"region": "west"}, "min": 10},
    {"kpi": "value_added", "parks": {"region": "west"}, "min_share": 0.5},
    {"kpi": "modules", "parks": {"ids": ["p2"]}, "min": 1},
])
def test_limit_min_and_share(tmp_path, formulation, rule):
    out = solve_data(tmp_path, {**_co2_case(), "rules": [{"id": "r", "kind": "limit", "source": "t", **rule}]},
                     formulation)
    assert placed(out) == {("a", "p1"): 1.0, ("a", "p2"): 1.0}
    assert out.result.objective == pytest.approx(2 + 3)


def test_limit_on_spend_is_a_budget(tmp_path, formulation):
    d = base()
    d["industries"][0].update(modules=4, stay_cost=2, relocation_cost=1)
    d["rules"] = [{"id": "budget", "kind": "limit", "source": "t", "kpi": "spend", "max": 2.5}]
    out = solve_data(tmp_path, d, formulation)
    # Moving saves 1 a module, but the budget pays two relocations (integer modules).
    assert sum(placed(out).values()) == 2
    assert out.result.objective == pytest.approx(2 * 1 + 2 * 2)


def test_limit_on_a_resource_of_some_industries(tmp_path, formulation):
    d = base()
    d["industries"].append({"id": "b", "origin": "Zhejiang", "sector": "textiles", "modules": 3,
                            "use": {"land": 1}, "relocation_cost": 1, "stay_cost": 5})
    d["rules"] = [{"id": "b_land", "kind": "limit", "source": "t", "kpi": "land",
                   "industries": {"ids": ["b"]}, "max": 1}]
    out = solve_data(tmp_path, d, formulation)
    assert sum(v for (i, _), v in placed(out).items() if i == "b") == 1
    assert out.result.objective == pytest.approx(1 + 1 + 2 * 5)


def _two_industries(sector_b: str) -> dict:
    d = base()
    d["industries"].append({"id": "b", "origin": "Zhejiang", "sector": sector_b, "modules": 1,
                            "use": {"land": 1}, "relocation_cost": 1, "stay_cost": 100})
    return d


def test_max_parks_per_sector(tmp_path, formulation):
    d = _two_industries("textiles")
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}, {"industry": "b", "park": "p1", "cost": 3}]
    d["rules"] = [{"id": "one_park", "kind": "diversity", "source": "t", "max_parks_per_sector": 1}]
    out = solve_data(tmp_path, d, formulation)
    # Apart: a→p1, b→p2 (2). Together at p1: 3; at p2: 2 → both at p2, objective 2 + 2.
    assert placed(out) == {("a", "p2"): 1.0, ("b", "p2"): 1.0}
    assert out.result.objective == pytest.approx(4)


def test_max_sectors_per_park(tmp_path, formulation):
    d = _two_industries("electronics")
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}, {"industry": "b", "park": "p2", "cost": 3}]
    d["rules"] = [{"id": "focus", "kind": "diversity", "source": "t", "max_sectors_per_park": 1}]
    out = solve_data(tmp_path, d, formulation)
    # Both prefer p1; one sector must go to p2, and a is the cheaper one to send.
    assert placed(out) == {("a", "p2"): 1.0, ("b", "p1"): 1.0}
    assert out.result.objective == pytest.approx(2 + 2)


@pytest.mark.parametrize("backend", ["", "@pyomo"])
def test_sector_capacity_cut_changes_neither_plan_nor_prices(tmp_path, backend):
    # Both textiles, so z[textiles,p] links two pairs at each park and `tight` cuts with
    # 4·x[b,p] + 1·x[a,p] ≤ 10·z[textiles,p]; one park for the sector (10 ha) cannot hold a (1 ha)
    # and b's 3 divisible modules (12 ha): a and 2.25 modules of b move to p1 (cheaper), 0.75 stay.
    d = _two_industries("textiles")
    d["industries"][1].update(modules=3, divisible=True, use={"land": 4})
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}, {"industry": "b", "park": "p2", "cost": 3}]
    d["rules"] = [{"id": "one_park", "kind": "diversity", "source": "t", "max_parks_per_sector": 1}]
    got = {f: solve_data(tmp_path, d, f + backend) for f in ("tight", "strong")}
    tight, strong = got["tight"], got["strong"]
    assert "sector_capacity" in tight.problem.constraints and "sector_capacity" not in strong.problem.constraints
    assert placed(tight) == placed(strong) == {("a", "p1"): 1.0, ("b", "p1"): 2.25}
    assert tight.result.objective == pytest.approx(strong.result.objective)
    # The land of p1 binds; its price is the capacity row's under both (the cut takes none): one
    # more ha moves 1/4 module of b, which saves its stay cost 100 less its relocation cost 1.
    assert tight.problem.dual("capacity") == pytest.approx(strong.problem.dual("capacity"))
    assert min(tight.problem.dual("capacity")) == pytest.approx(-(100 - 1) / 4)
    assert not tight.problem.dual("sector_capacity").any()


@pytest.mark.parametrize("price, park, objective", [
    (0.0, "p1", 1.0),  # no carbon price: p1 (1) beats p2 (1 + 3)
    (1.0, "p2", 1 + 3 + 1 * 1),  # p1: 1 + 5·1 = 6 > p2: 1 + 3 + 1·1 = 5
])
def test_carbon_price_moves_to_a_cleaner_grid(tmp_path, formulation, price, park, objective):
    d = _co2_case()
    d["industries"][0]["modules"] = 1
    d["objective"] = {"weights": {"co2": price}}
    out = solve_data(tmp_path, d, formulation)
    assert placed(out) == {("a", park): 1.0}
    assert out.result.objective == pytest.approx(objective)


def test_value_added_weight_is_a_benefit(tmp_path, formulation):
    d = base()
    d["industries"][0].update(stay_cost=0, relocation_cost=5, value_added=10)
    d["objective"] = {"weights": {"value_added": -1}}
    out = solve_data(tmp_path, d, formulation)
    assert sum(placed(out).values()) == 1
    assert out.result.objective == pytest.approx(5 - 10)


def test_stays_count_in_co2(tmp_path, formulation):
    d = base()
    d["industries"][0].update(stay_cost=0, relocation_cost=5, co2_process=2, power_use=10, grid_factor=0.7)
    out = solve_data(tmp_path, d, formulation)
    assert out.kpis["co2"] == pytest.approx(2 + 10 * 0.7)


def test_operating_and_logistics_costs(tmp_path, formulation):
    d = base()
    d["industries"][0].update(power_use=2, logistics_cost_per_km=1, location={"lon": 0, "lat": 0}, stay_cost=1000)
    d["parks"][0].update(location={"lon": 1, "lat": 0}, unit_costs={"land": 2}, power_price=1)
    d["parks"][1].update(location={"lon": 2, "lat": 0}, unit_costs={"land": 0.5}, power_price=0.5)
    out = solve_data(tmp_path, d, formulation)
    km = 6371.0088 * math.pi / 180  # one degree of the equator
    # p1: 1 + 2·1 + 1·2 + km; p2: 1 + 0.5 + 0.5·2 + 2·km → p1.
    assert placed(out) == {("a", "p1"): 1.0}
    assert out.kpis["logistics_cost"] == pytest.approx(km, rel=1e-9)
    assert out.kpis["operating_cost"] == pytest.approx(2 + 2)
    assert out.result.objective == pytest.approx(1 + 4 + km)


def test_divisible_industry_splits(tmp_path, formulation):
    d = base()
    d["industries"][0].update(modules=3, use={"land": 4}, divisible=True)
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}]
    out = solve_data(tmp_path, d, formulation)
    assert placed(out) == {("a", "p1"): pytest.approx(2.5), ("a", "p2"): pytest.approx(0.5)}
    assert out.result.objective == pytest.approx(3 + 0.5 * 2)


def test_pair_use_overrides_industry_use(tmp_path, formulation):
    d = base()
    d["industries"][0].update(modules=2, use={"land": 6})
    d["pairs"] = [{"industry": "a", "park": "p1", "use": {"land": 5}}, {"industry": "a", "park": "p2", "cost": 1}]
    out = solve_data(tmp_path, d, formulation)
    # At p1 a module needs 5 ha (not 6): both fit in its 10 ha, so none pays p2's extra 1.
    assert placed(out) == {("a", "p1"): 2.0}


def test_infeasible_is_a_status_not_an_exception(tmp_path, formulation):
    d = base()
    d["industries"][0].update(use={"land": 11}, must_transfer=True)
    out = solve_data(tmp_path, d, formulation)
    assert out.result.status == "infeasible" and out.plan is None
