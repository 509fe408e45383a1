"""The Shapley split of the cooperative gain (`model/shapley.py`): real HiGHS solves, values by hand.

The three-province case. Province A has industry a (1 module, stays at 10 a year, moves for 1),
province B has industry b (1 module, stays at 6, moves for 1), province C has park c, already
open, whose land fits one module. Nothing else costs anything, so the status quo costs
z0 = 10 + 6 = 16, and
    v(∅) = v(A) = v(B) = v(C) = v(AB) = 0   (no park, or nothing to move)
    v(AC)  = 16 − (1 + 6)  = 9              (a moves)
    v(BC)  = 16 − (10 + 1) = 5              (b moves)
    v(ABC) = 16 − 7        = 9              (one fits: a, the larger saving)
Shapley, averaging each player's marginal contribution over the 6 orders:
    φ_A = (0 [A..] + 0 [A..] + 0 [BAC] + 9 [CAB] + 4 [BCA] + 4 [CBA]) / 6 = 17/6
    φ_B = (0 + 0 [B..] + 0 [ABC] + 5 [CBA] + 0 [ACB] + 0 [CAB]) / 6      = 5/6
    φ_C = (0 + 0 [C..] + 9 [ACB] + 5 [BCA] + 9 [ABC] + 9 [BAC]) / 6      = 32/6
    Σφ = 54/6 = 9 = v(ABC).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from model import Loaded, load
from model.check import check
from model.errors import InputError
from model.run import solve_instance
from model.shapley import EXACT_UP_TO, ShapleyResult, _sampled, restrict, shapley, status_quo, table
from tests.conftest import EXACT, write

ABC = ["A", "B", "C"]


def three() -> dict:
    return {
        "name": "shapley",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [
            {"id": "a", "origin": "A", "sector": "s", "use": {"land": 1}, "stay_cost": 10, "relocation_cost": 1},
            {"id": "b", "origin": "B", "sector": "s", "use": {"land": 1}, "stay_cost": 6, "relocation_cost": 1}],
        "parks": [{"id": "c", "province": "C", "region": "west", "capacity": {"land": 1}}],
    }


def loaded(tmp_path, data: dict) -> Loaded:
    return load(str(write(tmp_path, data)))


def by_members(result: ShapleyResult) -> dict[str, float]:
    return {"".join(sorted(s)): v for s, v in result.coalitions.items()}


def test_the_restriction_keeps_the_instance_for_everyone_and_the_status_quo_for_no_one(tmp_path):
    got = loaded(tmp_path, three())
    inst = got.instance
    assert restrict(inst, ABC, ABC) == inst  # the grand coalition's instance is the instance itself
    plain = solve_instance(got, None, EXACT)
    everyone = solve_instance(Loaded(restrict(inst, ABC, ABC), got.raw, None), None, EXACT)
    assert everyone.result.objective == pytest.approx(plain.result.objective) == pytest.approx(7.0)
    z0 = check(inst, status_quo(inst))
    assert z0.objective == pytest.approx(16.0) and z0.violations == []
    nobody = solve_instance(Loaded(restrict(inst, ABC, []), got.raw, None), None, EXACT)
    assert nobody.result.objective == pytest.approx(z0.objective) and nobody.plan.x == {}
    # Only A and C: b may not move even though it fits; the restricted plan passes the checker.
    ac = solve_instance(Loaded(restrict(inst, ABC, ["A", "C"]), got.raw, None), None, EXACT)
    assert ac.plan.x == {("a", "c"): 1.0} and ac.check.ok
    bc = solve_instance(Loaded(restrict(inst, ABC, ["B"]), got.raw, None), None, EXACT)
    assert bc.plan.x == {} and bc.result.objective == pytest.approx(16.0)


def test_exact_values_of_the_three_province_case(tmp_path):
    result = shapley(loaded(tmp_path, three()), ABC, solve_options=EXACT)
    assert result.exact and result.z0 == pytest.approx(16.0) and result.reference_is == "empty coalition"
    assert by_members(result) == pytest.approx({"": 0, "A": 0, "B": 0, "C": 0, "AB": 0, "AC": 9, "BC": 5, "ABC": 9})
    assert result.value == pytest.approx({"A": 17 / 6, "B": 5 / 6, "C": 32 / 6}, abs=1e-6)
    assert sum(result.value.values()) == pytest.approx(result.v_grand, abs=1e-6) and result.v_grand == 9.0
    assert result.std_error == {"A": 0.0, "B": 0.0, "C": 0.0}
    assert result.solves == 8 and result.infeasible == [] and result.not_optimal == []
    frame = table(result, "million yuan")
    assert list(frame.columns) == ["province", "shapley_value", "share_of_gain", "std_error", "unit"]
    assert list(frame["province"]) == ["C", "A", "B"]
    assert frame["share_of_gain"].sum() == pytest.approx(1.0)


def test_sampled_values_approach_the_exact_ones_and_sum_to_the_gain(tmp_path):
    exact = {"A": 17 / 6, "B": 5 / 6, "C": 32 / 6}
    got = loaded(tmp_path, three())
    # The estimator over the game's values as solved (three players: 20 orders meet every coalition,
    # so `shapley` itself reports the exact values, below).
    solved = shapley(got, ABC, solve_options=EXACT)
    v = solved.coalitions.__getitem__
    few, few_error = _sampled(ABC, v, 20, 1)
    many, many_error = _sampled(ABC, v, 3000, 1)
    for value in (few, many):
        assert sum(value.values()) == pytest.approx(9.0, abs=1e-9)  # each order's marginals sum to v(N)
    for p, phi in exact.items():
        assert abs(many[p] - phi) <= 4 * many_error[p] + 1e-12
        assert abs(many[p] - phi) < 0.25
        assert many_error[p] < few_error[p] / 5  # √(3000/20) ≈ 12
    assert _sampled(ABC, v, 20, 1) == (few, few_error)  # the same seed, the same orders
    # One order meets 4 of the 8 coalitions: a sampled estimate, one solve per coalition met.
    one = shapley(got, ABC, samples=1, seed=1, exact_up_to=0, solve_options=EXACT)
    assert not one.exact and one.samples == 1 and one.solves == 4  # ∅ and the order's three coalitions
    assert sum(one.value.values()) == pytest.approx(9.0, abs=1e-9)
    # Orders that met every coalition give the exact values, which cost no further solve: 5 of
    # the 6 orders (seed 1 meets all 8 coalitions with them; seed 0 does not).
    met = shapley(got, ABC, samples=5, seed=1, exact_up_to=0, solve_options=EXACT)
    assert met.exact and met.samples == 5 and met.seed == 1 and len(met.coalitions) == 8
    assert met.value == pytest.approx(exact, abs=1e-9) and met.std_error == {"A": 0.0, "B": 0.0, "C": 0.0}
    assert met.solves == solved.solves
    assert not shapley(got, ABC, samples=5, seed=0, exact_up_to=0, solve_options=EXACT).exact
    # As many orders as there are (3! = 6), or more: each taken once, the exact values (drawn with
    # replacement, 3 orders of 2 players could be one order thrice: a standard error of 0 on a
    # wrong value).
    every = shapley(got, ABC, samples=20, seed=1, exact_up_to=0, solve_options=EXACT)
    assert every.exact and every.samples == 6 and every.seed is None
    assert every.value == pytest.approx(exact, abs=1e-9)


def test_with_periods_the_restriction_holds_in_every_period(tmp_path):
    # Two periods of a year, no discount: staying costs twice, a move once (in the period it
    # happens). z0 = 2 × 16 = 32; v(AC) = 32 − (1 + 2 × 6) = 19; v(BC) = 32 − (1 + 2 × 10) = 11;
    # v(ABC) = 19. φ_A = (19 [CAB] + 2 × 8 [BCA, CBA]) / 6 = 35/6, φ_B = 11/6 [CBA],
    # φ_C = (19 + 11 + 19 + 19) / 6 = 68/6.
    d = three()
    d["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    result = shapley(loaded(tmp_path, d), ABC, solve_options=EXACT)
    assert result.z0 == pytest.approx(32.0) and result.status_quo_violations == []
    assert by_members(result) == pytest.approx({"": 0, "A": 0, "B": 0, "C": 0, "AB": 0, "AC": 19, "BC": 11,
                                                "ABC": 19})
    assert result.value == pytest.approx({"A": 35 / 6, "B": 11 / 6, "C": 68 / 6}, abs=1e-6)


def test_non_players_always_cooperate(tmp_path):
    # Default players: the provinces of the optimal plan (a moves to c): A and C. B is not a player,
    # so b may always move: v(C) = 16 − (10 + 1) = 5, v(A) = 0, v(AC) = 9.
    # φ_A = (0 + (9 − 5)) / 2 = 2, φ_C = (5 + 9) / 2 = 7.
    result = shapley(loaded(tmp_path, three()), solve_options=EXACT)
    assert result.players == ["A", "C"] and result.non_players == ["B"]
    assert by_members(result) == pytest.approx({"": 0, "A": 0, "C": 5, "AC": 9})
    assert result.value == pytest.approx({"A": 2.0, "C": 7.0}, abs=1e-6)
    assert result.solves == 4  # the instance's own solve (the grand coalition), ∅, {A}, {C}


def test_an_infeasible_coalition_is_worth_the_best_of_its_parts(tmp_path):
    # A target: a must move. Without A or without C nothing can meet it, so ∅, A, B, C, AB, BC are
    # infeasible, each worth the best of its parts: 0. AC = ABC = 9 (a moves). The status quo,
    # which misses the target, is the reference. B adds nothing anywhere: φ_B = 0, φ_A = φ_C = 4.5.
    d = three()
    d["rules"] = [{"id": "t", "kind": "transfer_target", "source": "test", "industries": {"origin": ["A"]},
                   "min_modules": 1}]
    got = loaded(tmp_path, d)
    exact = shapley(got, ABC, solve_options=EXACT)
    sampled = shapley(got, ABC, samples=5, seed=1, exact_up_to=0, solve_options=EXACT)  # 5 of the 6 orders
    for result in (exact, sampled):
        assert result.reference_is == "status quo" and result.reference == pytest.approx(16.0)
        assert result.status_quo_violations == ["rule t: 0 modules moved < 1 required (short by 1)"]
        assert {"".join(sorted(s)) for s in result.infeasible} == {"", "A", "B", "C", "AB", "BC"}
        assert by_members(result) == pytest.approx({"": 0, "A": 0, "B": 0, "C": 0, "AB": 0, "AC": 9, "BC": 0,
                                                    "ABC": 9})
        assert sum(result.value.values()) == pytest.approx(9.0, abs=1e-9)
    assert exact.value == pytest.approx({"A": 4.5, "B": 0.0, "C": 4.5}, abs=1e-6)
    assert sampled.value["B"] == 0.0
    # Sampling meets an infeasible coalition before its parts: one solve of its relaxation proves
    # them infeasible too (the target holds whatever must_transfer says), instead of solving them.
    assert sampled.solves == exact.solves + 1


def test_the_best_part_can_be_worth_more_than_nothing(tmp_path):
    # b must move but may not go to c: any coalition with B and a park province cannot place it.
    # AB, BC and ABC are infeasible, and B alone; ABC is worth its best part AC = 9 (a moves, b,
    # outside, stays). v: AC = ABC = 9, the rest 0: φ = (4.5, 0, 4.5).
    d = three()
    d["industries"][1]["must_transfer"] = True
    d["rules"] = [{"id": "no_b", "kind": "forbid", "source": "test", "industries": {"ids": ["b"]},
                   "parks": {"ids": ["c"]}}]
    got = loaded(tmp_path, d)
    assert solve_instance(got, None, EXACT).result.status == "infeasible"
    for result in (shapley(got, ABC, solve_options=EXACT),
                   shapley(got, ABC, samples=40, seed=3, exact_up_to=0, solve_options=EXACT)):
        assert {"".join(sorted(s)) for s in result.infeasible} == {"B", "AB", "BC", "ABC"}
        assert result.reference_is == "empty coalition"
        assert result.v_grand == pytest.approx(9.0) and by_members(result)["ABC"] == pytest.approx(9.0)
        assert sum(result.value.values()) == pytest.approx(9.0, abs=1e-9)
    assert shapley(got, ABC, solve_options=EXACT).value == pytest.approx({"A": 4.5, "B": 0.0, "C": 4.5}, abs=1e-6)


def test_unknown_players_are_refused_before_any_solve(tmp_path):
    with pytest.raises(InputError) as err:
        shapley(loaded(tmp_path, three()), ["A", "Atlantis"])
    assert str(err.value) == ("--players: Atlantis: is not a province of the instance; expected a comma-separated "
                              "list of: A, B, C")


def test_the_command(tmp_path):
    assert next(p for p in main.commands["shapley"].params if p.name == "exact_up_to").default == EXACT_UP_TO
    path = str(write(tmp_path, three()))
    out = tmp_path / "split"
    result = CliRunner().invoke(main, ["shapley", path, "--players", "A,B,C", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Gain of cooperation v(P) = 9 million yuan" in result.stdout
    assert (out / "shapley.csv").read_text().splitlines()[0] == "province,shapley_value,share_of_gain,std_error,unit"
    doc = json.loads((out / "shapley.json").read_text())
    assert doc["method"] == "exact" and doc["players"] == ABC and doc["solves"] == 8
    assert doc["value"] == pytest.approx({"A": 17 / 6, "B": 5 / 6, "C": 32 / 6})
    assert {tuple(c["players"]): c["v"] for c in doc["coalitions"]}[("A", "C")] == pytest.approx(9.0)
    # Results already there: kept unless --force; sampled with --exact-up-to 0.
    again = CliRunner().invoke(main, ["shapley", path, "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.stderr
    forced = CliRunner().invoke(main, ["shapley", path, "--players", "A,B,C", "--exact-up-to", "0", "--samples",
                                       "30", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    doc = json.loads((out / "shapley.json").read_text())  # 30 orders asked for, of the 6 there are
    assert doc["method"] == "exact" and doc["samples"] == 6 and doc["seed"] is None
    assert ("--samples asks for no fewer than the 6 orders of 3 players: each was taken once, and the values "
            "are exact.") in " ".join(forced.stdout.split())
    forced = CliRunner().invoke(main, ["shapley", path, "--players", "A,B,C", "--exact-up-to", "0", "--samples",
                                       "1", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "shapley.json").read_text())["method"] == "sampled"
    bad = CliRunner().invoke(main, ["shapley", path, "--players", "A,Mars"])
    assert bad.exit_code == 2
    assert bad.stderr.strip().splitlines() == [
        "error: --players: Mars: is not a province of the instance; expected a comma-separated list of: A, B, C"]
    twice = CliRunner().invoke(main, ["shapley", path, "--players", "A,B,A"])
    assert twice.exit_code == 2
    assert twice.stderr.strip().splitlines() == ["error: --players: A: named twice; expected each province once"]


def test_a_gain_that_is_a_loss_gives_no_shares(tmp_path):
    """a must move, at a relocation cost of 30: cooperating, a moves (30 + b's stay 6 = 36); without
    the players a stays (10 + 6 = 16). v(P) = 16 − 36 = −20: a share of it reads with its sign
    turned (the province that costs most as taking most of the 'gain'), so none is given."""
    d = three()
    d["industries"][0].update(must_transfer=True, relocation_cost=30)
    path = str(write(tmp_path, d))
    got = CliRunner().invoke(main, ["shapley", path, "--players", "A,B,C", "--out", str(tmp_path / "s")])
    assert got.exit_code == 0, got.output
    assert "warning: the gain of cooperation v(P) = -20 million yuan is not positive" in " ".join(got.stderr.split())
    frame = pd.read_csv(tmp_path / "s" / "shapley.csv")
    assert frame["share_of_gain"].isna().all() and frame["shapley_value"].sum() == pytest.approx(-20.0)
    got = CliRunner().invoke(main, ["shapley", path, "--players", "A,B,C", "--mip-gap", "0.01"])
    assert "each value may be off by up to 2 × 0.01 × 36 = 0.72 million yuan" in " ".join(got.stderr.split())
