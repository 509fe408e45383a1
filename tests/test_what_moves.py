"""What moves together and what must close: the retire fate and capacity replacement, on small
cases worked out by hand. Every plan passes the independent checker (`solve_data`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from model import load
from model.check import check
from model.plan import Plan
from tests.conftest import solve_data, write


def steel(modules: int = 4) -> dict:
    """Bundle s (province A, steel, `modules` modules of 1 Mt each): staying costs 100 a module,
    closing 5, moving 1 to p1 (in C) or 1.5 to p2 (in D). b (province B) moves too (stay 100, move 1)."""
    return {
        "name": "steel",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [
            {"id": "s", "origin": "A", "sector": "steel", "modules": modules, "use": {"land": 1},
             "production_capacity": 1, "may_retire": True, "retire_cost": 5, "stay_cost": 100,
             "value_added": 10, "jobs": 5},
            {"id": "b", "origin": "B", "sector": "textiles", "modules": 1, "use": {"land": 1}, "stay_cost": 100,
             "relocation_cost": 1}],
        "parks": [{"id": "p1", "province": "C", "region": "east", "tags": ["key_air"], "capacity": {"land": 10}},
                  {"id": "p2", "province": "D", "region": "west", "capacity": {"land": 10}}],
        "pairs": [{"industry": "s", "park": "p1", "cost": 1}, {"industry": "s", "park": "p2", "cost": 1.5}],
    }


def one_park(d: dict) -> None:
    d["parks"], d["pairs"] = d["parks"][:1], d["pairs"][:1]


def replacement(ratio: float = 1.5, **extra) -> dict:
    return {"id": "steel_swap", "kind": "capacity_replacement", "source": "MIIT 2021",
            "industries": {"sector": "steel"}, "ratio": ratio, **extra}


def test_a_module_may_close_instead_of_staying(tmp_path):
    # p1 holds one module of s: the rest close at 5 rather than stay at 100.
    d = steel(3)
    one_park(d)
    d["parks"][0]["capacity"]["land"] = 2  # b and one module of s
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("s", "p1"): 1.0, ("b", "p1"): 1.0} and out.plan.retire == {"s": 2.0}
    assert out.result.objective == pytest.approx(1 + 1 + 2 * 5) and out.kpis["retire_cost"] == pytest.approx(10)
    counted = out.summary()["kpis"]
    assert (counted["modules_moved"], counted["modules_stayed"], counted["modules_retired"]) == (2, 0, 2)  # of 4
    table = out.tables["allocations.csv"]
    assert table.groupby("fate")["modules"].sum().to_dict() == {"moved": 2.0, "retired": 2.0}
    ledger = out.tables["ledger.csv"].set_index(["jurisdiction", "measure"])
    assert ledger.loc[("A", "retired"), "plan"] == 2 and ledger.loc[("A", "retire_cost"), "plan"] == 10
    assert ledger.loc[("A", "value_added"), "plan"] == 0  # closed: nothing runs at the origin
    assert ledger.loc[("A", "production_capacity"), "change"] == -3
    assert ledger.loc[("C", "production_capacity"), "plan"] == 1


def test_a_replacement_ratio_forces_a_retirement(tmp_path):
    # Without the rule all four modules move to p1 (4). At 1.5 : 1 each module moved needs half a
    # module closed: m/2 ≤ r with m + r = 4 (staying costs 100): m = 2, r = 2, 2 + 10 = 12. With p2
    # too (1.25 : 1 there, moving 1.5): m1/2 + m2/4 ≤ r, m1 + m2 + r = 4; r = 1 allows m1 = 1, m2 = 2
    # (1 + 3 + 5 = 9; m2 = 3 would cost 9.5, m1 = 2 breaks the rule); r = 2 costs at least 12.
    d = steel()
    one_park(d)
    assert solve_data(tmp_path, d).result.objective == pytest.approx(4 + 1)
    d["rules"] = [replacement(1.5)]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("s", "p1"): 2.0, ("b", "p1"): 1.0} and out.plan.retire == {"s": 2.0}
    assert out.result.objective == pytest.approx(2 + 10 + 1)
    d = steel()
    d["rules"] = [replacement(1.25, ratios=[{"parks": {"tags": "key_air"}, "ratio": 1.5}])]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("s", "p1"): 1.0, ("s", "p2"): 2.0, ("b", "p1"): 1.0} and out.plan.retire == {"s": 1.0}
    assert out.result.objective == pytest.approx(1 + 3 + 5 + 1)
    row = out.tables["limits.csv"].set_index("rule").loc["steel_swap"]
    assert (row["value"], row["bound"]) == pytest.approx((1.5 + 2 * 1.25, 4.0))  # built × ratio, closed


def test_parks_that_may_not_receive_covered_capacity(tmp_path):
    d = steel()
    d["rules"] = [replacement(1.0, no_new_capacity={"province": "D"})]
    out = solve_data(tmp_path, d)
    assert ("s", "p2") not in out.plan.x and out.plan.x[("s", "p1")] == 4.0


def test_replacement_over_periods_counts_closures_by_then(tmp_path):
    # Two periods: closing in t2 does not cover a move in t1.
    d = steel(2)
    one_park(d)
    d["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    d["rules"] = [replacement(2.0)]
    out = solve_data(tmp_path, d)
    moved_at = {q for (_, p, q), v in out.plan.moves.items() if p == "p1" and _ == "s"}
    closed_at = {q for (_, q), v in out.plan.retirements.items()}
    assert out.plan.retire == {"s": 1.0} and out.plan.x[("s", "p1")] == 1.0
    assert min(closed_at) <= min(moved_at)


def test_the_checker_refuses_a_move_without_its_closure(tmp_path):
    d = steel(2)
    one_park(d)
    d["rules"] = [replacement(1.5)]
    inst = load(str(write(tmp_path, d))).instance
    plan = Plan({("s", "p1"): 2.0, ("b", "p1"): 1.0}, {"s": 0.0, "b": 0.0}, {"p1": 1})
    assert check(inst, plan).violations == [
        "rule steel_swap: capacity built × its ratio 3 > capacity closed 2 Mt a year (short by 1)"]
    plan = Plan({("s", "p1"): 1.0, ("b", "p1"): 1.0}, {"s": 0.0, "b": 0.0}, {"p1": 1}, retire={"b": 1.0, "s": 1.0})
    assert "b: 1 modules closed but b may not retire" in check(inst, plan).violations


def test_a_replacement_no_plan_meets_is_diagnosed(tmp_path):
    d = steel(2)
    one_park(d)
    d["industries"][0].update(may_retire=False, must_transfer=True)
    d["rules"] = [replacement(1.5)]
    assert solve_data(tmp_path, d).result.status == "infeasible"
    result = CliRunner().invoke(main, ["diagnose", str(write(tmp_path, d)), "--weight", "must_transfer=100"])
    assert "rule steel_swap (capacity_replacement): build 1 Mt a year less capacity × its ratio, or close that " \
           "much more" in result.output


def _solved_with_closures(tmp_path: Path) -> Path:
    """The steel case under a 1.5:1 replacement rule, solved by the CLI into tmp_path/run; its instance."""
    d = steel(3)
    d["rules"] = [replacement(1.5)]
    path = write(tmp_path, d)
    assert CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")]).exit_code == 0
    return path


def test_results_folder_with_closures_is_checked(tmp_path):
    path = _solved_with_closures(tmp_path)
    assert CliRunner().invoke(main, ["check", str(path), str(tmp_path / "run")]).exit_code == 0


def test_an_intensity_cap_binds(tmp_path):
    # C may use at most 0.15 GWh of power per unit of value added. a (divisible: 3 GWh and 10 of
    # value added a module) and b (1 GWh, 20) both move without it (cost 3). With it, x modules of a
    # and b: (3x + 1) ≤ 0.15 (10x + 20), x ≤ 4/3; the rest of a stays at 100 a module.
    d = {
        "name": "intensity",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [
            {"id": "a", "origin": "A", "sector": "s", "modules": 2, "divisible": True, "use": {"land": 1},
             "value_added": 10, "power_use": 3, "stay_cost": 100, "relocation_cost": 1},
            {"id": "b", "origin": "B", "sector": "s", "modules": 1, "use": {"land": 1}, "value_added": 20,
             "power_use": 1, "stay_cost": 50, "relocation_cost": 1}],
        "parks": [{"id": "p1", "province": "C", "region": "west", "capacity": {"land": 10}}],
    }
    assert solve_data(tmp_path, d).result.objective == pytest.approx(3)
    d["rules"] = [{"id": "dual_control", "kind": "limit", "source": "energy intensity", "kpi": "power_use",
                   "per": "value_added", "provinces": ["C"], "max": 0.15}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): pytest.approx(4 / 3), ("b", "p1"): 1.0}
    assert out.result.objective == pytest.approx(1 + 4 / 3 + 100 * 2 / 3)
    row = out.tables["limits.csv"].iloc[0]
    assert row["kpi"] == "power_use per value_added" and row["value"] == pytest.approx(0.15) and row["binding"]
    # The checker recomputes the intensity: a plan with all of a is refused, with the ratio.
    inst = load(str(write(tmp_path, d))).instance
    report = check(inst, Plan({("a", "p1"): 2.0, ("b", "p1"): 1.0}, {"a": 0.0, "b": 0.0}, {"p1": 1}))
    assert report.violations == ["rule dual_control: power_use per value_added 0.175 above max 0.15 "
                                 "(power_use 7, value_added 40)"]


# ---------------------------------------------------------------------------------------------
# What moves together: chains and clusters (under every formulation)

FORMULATIONS = ["tight", "strong", "aggregated", "strong_cover"]


def chain_case() -> dict:
    """Vehicle maker v (A, 1 module) may go only to p2 (in D); parts f (B, 2 modules) are cheapest at
    p1 (in C, pair cost 0) against p2 (3 a module). Staying costs 100 a module."""
    return {
        "name": "chain",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [
            {"id": "v", "origin": "A", "sector": "vehicles", "modules": 1, "use": {"land": 1}, "stay_cost": 100,
             "tags": ["vehicle_maker"]},
            {"id": "f", "origin": "B", "sector": "auto_parts", "modules": 2, "use": {"land": 1}, "stay_cost": 100}],
        "parks": [{"id": "p1", "province": "C", "region": "west", "capacity": {"land": 10},
                   "location": {"lon": 104.0, "lat": 30.6}},
                  {"id": "p2", "province": "D", "region": "west", "capacity": {"land": 10},
                   "location": {"lon": 106.5, "lat": 29.5}},
                  {"id": "p3", "province": "C", "region": "west", "capacity": {"land": 10},
                   "location": {"lon": 104.1, "lat": 30.7}}],
        "pairs": [{"industry": "f", "park": "p1", "cost": 0}, {"industry": "f", "park": "p2", "cost": 3},
                  {"industry": "f", "park": "p3", "cost": 5}, {"industry": "v", "park": "p2", "cost": 0},
                  {"industry": "v", "park": "p3", "cost": 1}],
        "rules": [{"id": "no_v_at_p1", "kind": "forbid", "source": "test", "industries": {"ids": ["v"]},
                   "parks": {"ids": ["p1"]}}],
    }


def chain(**terms) -> dict:
    return {"id": "parts_follow", "kind": "chain", "source": "test", "industries": {"sector": "auto_parts"},
            "leaders": {"tags": "vehicle_maker"}, **terms}


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_a_must_link_moves_a_bundle_away_from_its_cheapest_park(tmp_path, formulation):
    d = chain_case()
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x == {("v", "p2"): 1.0, ("f", "p1"): 2.0} and out.result.objective == pytest.approx(0)
    d["rules"].append(chain(near="park", must=True))
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x == {("v", "p2"): 1.0, ("f", "p2"): 2.0} and out.result.objective == pytest.approx(6)
    # The same province: v at p3 (1) lets f stay at p1 beside it (C): 1 in all.
    d["rules"][-1]["near"] = "province"
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x == {("v", "p3"): 1.0, ("f", "p1"): 2.0} and out.result.objective == pytest.approx(1)
    # Within 300 km: p1 and p2 are 269 km apart, so the cheapest plan stands.
    d["rules"][-1].update(near="distance", km=300)
    assert solve_data(tmp_path, d, formulation).result.objective == pytest.approx(0)


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_a_bonus_or_a_penalty_pulls_followers_to_their_leader(tmp_path, formulation):
    d = chain_case()
    d["rules"].append(chain(near="park", bonus=2))  # 2 < 3: f stays at p1, no bonus
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x[("f", "p1")] == 2.0 and out.kpis["chain_bonus"] == pytest.approx(0)
    d["rules"][-1]["bonus"] = 4  # 4 > 3: beside v, 2 × (3 − 4) = −2
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x[("f", "p2")] == 2.0 and out.kpis["chain_bonus"] == pytest.approx(8)
    assert out.result.objective == pytest.approx(6 - 8)
    d["rules"][-1].update(bonus=0, penalty=4)  # away from v costs 4 a module: beside it (6) is cheaper than 8
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x[("f", "p2")] == 2.0 and out.result.objective == pytest.approx(6)


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_a_cluster_bonus_pulls_a_third_module_into_a_park(tmp_path, formulation):
    # Three textile modules: two at p1 (cheapest), one cheaper at p2 by 2. A cluster of 3 at a park
    # earns 5 a year: the third joins p1 (2 − 5 = −3).
    d = {
        "name": "cluster",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [{"id": f"t{n}", "origin": "A", "sector": "textiles", "modules": 1, "use": {"land": 1},
                        "stay_cost": 100} for n in range(3)],
        "parks": [{"id": "p1", "province": "C", "region": "west", "capacity": {"land": 10}},
                  {"id": "p2", "province": "D", "region": "west", "capacity": {"land": 10}}],
        "pairs": [{"industry": "t0", "park": "p2", "cost": 4}, {"industry": "t1", "park": "p2", "cost": 4},
                  {"industry": "t2", "park": "p1", "cost": 2}],
    }
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x[("t2", "p2")] == 1.0 and out.result.objective == pytest.approx(0)
    d["rules"] = [{"id": "textile_cluster", "kind": "cluster", "source": "test", "industries": {"sector": "textiles"},
                   "min_modules": 3, "bonus": 5}]
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x[("t2", "p1")] == 1.0 and out.kpis["cluster_bonus"] == pytest.approx(5)
    assert out.result.objective == pytest.approx(2 - 5)
    d["rules"][0].update(bonus=0, bonus_per_module=1)  # 3 × 1 = 3 > 2: it still joins
    out = solve_data(tmp_path, d, formulation)
    assert out.plan.x[("t2", "p1")] == 1.0 and out.result.objective == pytest.approx(2 - 3)


def test_the_checker_refuses_a_follower_without_its_leader(tmp_path):
    d = chain_case()
    d["rules"].append(chain(near="park", must=True))
    inst = load(str(write(tmp_path, d))).instance
    plan = Plan({("v", "p2"): 1.0, ("f", "p1"): 2.0}, {"v": 0.0, "f": 0.0}, {"p1": 1, "p2": 1, "p3": 1})
    assert check(inst, plan).violations == ["rule parts_follow: 2 modules of f at p1, but no leader module at p1"]


def test_chains_clusters_and_closures_over_periods(tmp_path):
    # Two periods: the parts may not run at p2 before the vehicle maker does, and the checker
    # recomputes the bonuses period by period (solve_data checks every plan).
    d = chain_case()
    d["periods"] = [{"id": "t1", "years": 2}, {"id": "t2", "years": 3}]
    d["rules"] += [chain(near="park", must=True),
                   {"id": "parts_cluster", "kind": "cluster", "source": "test", "industries": {"sector": "auto_parts"},
                    "min_modules": 2, "bonus": 1}]
    d["industries"][0].update(relocation_cost={"t1": 500, "t2": 0}, stay_cost=10)  # the maker moves in t2
    out = solve_data(tmp_path, d)
    assert out.result.status == "optimal"
    moves = {(i, q): p for (i, p, q) in out.plan.moves}
    assert moves[("v", "t2")] == "p2" and ("f", "t1") not in moves and moves[("f", "t2")] == "p2"


def test_leader_parks_hold_leaders_already(tmp_path):
    # A vehicle plant already at p2: parts must be in its province (D), whatever moves.
    d = chain_case()
    d["industries"] = d["industries"][1:]
    d["pairs"] = [pr for pr in d["pairs"] if pr["industry"] == "f"]
    d["rules"] = [{"id": "parts_follow", "kind": "chain", "source": "test", "industries": {"sector": "auto_parts"},
                   "leader_parks": {"ids": ["p2"]}, "near": "province", "must": True}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("f", "p2"): 2.0} and out.result.objective == pytest.approx(6)


# ---------------------------------------------------------------------------------------------
# What an attack found: each now fails as it should


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["rules"].append(chain(near="park", must=True, bonus=3)),
     "a bonus or penalty goes with `must: false`"),
    (lambda d: (d["rules"].append(chain(near="park", bonus=3)), d.update(objective={"weights": {"chain_bonus": 0}})),
     "objective.weights: chain_bonus weighs 0 while rule parts_follow gives a bonus"),
    (lambda d: d["rules"].append({"id": "cl", "kind": "cluster", "source": "s", "industries": {"sector": "auto_parts"},
                                  "min_modules": 2, "bonus": 1}) or d.update(objective={"lexicographic": [
                                      {"weights": {"pair_cost": 1, "stay_cost": 1}}]}),
     "cluster_bonus weighs 0 while rule cl gives a bonus"),
    (lambda d: d["rules"].append({"id": "swap", "kind": "capacity_replacement", "source": "s",
                                  "industries": {"sector": "auto_parts"}, "ratio": 1.5}),
     "rules.swap.industries: none of the covered industries gives a production_capacity"),
    (lambda d: d["rules"].extend([
        {"id": "c1", "kind": "limit", "source": "s", "kpi": "co2", "per": "value_added", "provinces": ["C"], "max": 1},
        {"id": "c2", "kind": "limit", "source": "s", "kpi": "co2", "provinces": ["D"], "max": 1},
        {"id": "ets", "kind": "carbon_trade", "source": "s", "caps": ["c1", "c2"]}]),
     "rules.ets.caps[0]: rule c1 is not a cap on co2"),
])
def test_bad_rules_of_what_moves_are_refused(tmp_path, edit, message):
    d = chain_case()
    edit(d)
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, d))])
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_divisible_leaders_lead_together_in_model_and_checker(tmp_path):
    # Two divisible makers with half a module each at p2 lead together (one module in all).
    d = chain_case()
    d["resources"]["plant"] = {"category": "infrastructure", "unit": "lines"}
    d["industries"][0].update(divisible=True, use={"land": 1, "plant": 1})
    d["industries"].insert(1, {**d["industries"][0], "id": "v2"})
    d["parks"][1]["capacity"]["plant"] = 1
    for park in (0, 2):
        d["parks"][park]["capacity"]["plant"] = 0
    d["pairs"].append({"industry": "v2", "park": "p2", "cost": 0})
    d["rules"][0]["industries"] = {"ids": ["v", "v2"]}
    d["rules"].append(chain(near="park", must=True))
    out = solve_data(tmp_path, d)
    assert out.plan.x[("f", "p2")] == 2.0


def test_a_bad_fate_in_an_allocations_file_is_named(tmp_path):
    path = _solved_with_closures(tmp_path)
    table = tmp_path / "run" / "allocations.csv"
    text = table.read_text()
    assert ",retired," in text  # the premise: a closure to corrupt
    table.write_text(text.replace(",retired,", ",exploded,", 1))
    result = CliRunner().invoke(main, ["check", str(path), str(tmp_path / "run")])
    assert result.exit_code == 2 and "fate: got 'exploded' with no park; expected moved (with a park), stays or " \
        "retired (with no park)" in result.stderr


def test_a_retire_rule_lets_a_whole_sector_close(tmp_path):
    # As test_a_module_may_close_instead_of_staying, with the switch given for the sector.
    d = steel(3)
    one_park(d)
    d["parks"][0]["capacity"]["land"] = 2
    d["industries"][0]["may_retire"] = False
    out = solve_data(tmp_path, d)
    assert out.plan.retire == {} and out.result.objective == pytest.approx(1 + 1 + 2 * 100)
    d["rules"] = [{"id": "steel_may_close", "kind": "retire", "source": "test", "industries": {"sector": "steel"}}]
    out = solve_data(tmp_path, d)
    assert out.plan.retire == {"s": 2.0} and out.result.objective == pytest.approx(1 + 1 + 2 * 5)


def test_polish_counts_the_bonus_an_early_incumbent_left_out(tmp_path):
    # An incumbent stopped before optimality may leave u, v, c, w at 0; polish sets them to what
    # the plan earns, as an optimal solve does.
    from model.families import supply_chain

    d = chain_case()
    d["rules"] += [chain(near="park", bonus=4),
                   {"id": "cl", "kind": "cluster", "source": "test", "industries": {"sector": "auto_parts"},
                    "min_modules": 2, "bonus": 1, "bonus_per_module": 0.5}]
    out = solve_data(tmp_path, d)
    problem = out.problem
    earned = {t: problem.expressions[t].value(problem.solution.values) for t in ("chain_bonus", "cluster_bonus")}
    assert earned == pytest.approx({"chain_bonus": 8, "cluster_bonus": 2})
    for block in ("chain_leader", "chain_near", "cluster_at", "cluster_member"):
        problem.solution.values[problem.cols(block)] = 0.0
    supply_chain.polish(problem, out.data)
    again = {t: problem.expressions[t].value(problem.solution.values) for t in ("chain_bonus", "cluster_bonus")}
    assert again == pytest.approx(earned)


@pytest.mark.parametrize("periods", [None, [{"id": "t1", "years": 1}, {"id": "t2", "years": 2}]])
def test_explain_forces_staying_and_closing_as_instances_that_allow_nothing_else(tmp_path, periods):
    """explain's (stays) and (closes) rows force the whole bundle home or shut; each forced
    objective is checked against the instance changed so that nothing else is possible (a rule
    forbids s its one park; for closing, must_transfer too, so it cannot stay), solved on its own. With periods,
    forcing staying must shut closing as well, or s would close instead."""
    from model.explain import explain

    d = steel(3)
    one_park(d)
    d["parks"][0]["capacity"]["land"] = 2  # b and one module of s: two of s close
    if periods:
        d["periods"] = periods
    path = write(tmp_path, d)
    solved = CliRunner().invoke(main, ["solve", str(path), "--mip-gap", "0", "--out", str(tmp_path / "run")])
    assert solved.exit_code == 0, solved.output
    result = explain(tmp_path / "run", "s")
    assert result.placed == {"p1": 1.0, "(closes)": 2.0}
    forced = result.costs.set_index("park")["forced_objective"]

    def alone(**change: object) -> float:
        e = steel(3)
        one_park(e)
        e["parks"][0]["capacity"]["land"] = 2
        e["rules"] = [{"id": "no_s", "kind": "forbid", "source": "test", "industries": {"sector": "steel"},
                       "parks": {"tags": "key_air"}}]  # p1, the one park: s may not move
        e["industries"][0].update(change)
        if periods:
            e["periods"] = periods
        return solve_data(tmp_path, e).result.objective

    assert forced["(stays)"] == pytest.approx(alone(may_retire=False))
    assert forced["(closes)"] == pytest.approx(alone(must_transfer=True))
    assert forced["(stays)"] > forced["(closes)"]  # staying costs 100 a module, closing 5
