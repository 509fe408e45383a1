"""The construction heuristic: hand-checked moves, propagation through other families' rows, the
repair of targets, the MIP start and `--heuristic-only`. Every plan it reports passes the
independent checker (`solve_data` asserts it) and is never better than HiGHS's proven optimum."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from model import load
from model.assemble import assemble
from model.data import build_data
from model.heuristic import _row_max_abs, _State, heuristic
from model.run import solve_instance
from tests.conftest import EXACT, INSTANCES, base, solve_data, write

ONLY = replace(EXACT, heuristic="only")


def _two_by_two() -> dict:
    """a: p1 costs 1, p2 costs 2 (regret 1); b: p1 costs 1, p2 costs 10 (regret 9). Each park has
    room for one of them (6 + 6 ha > 10 ha)."""
    d = base()
    d["industries"][0]["use"] = {"land": 6}
    d["industries"].append({**d["industries"][0], "id": "b"})
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 1}, {"industry": "a", "park": "p2", "cost": 2},
                  {"industry": "b", "park": "p1", "cost": 1}, {"industry": "b", "park": "p2", "cost": 10}]
    return d


def _plan(tmp_path, d, **kwargs) -> tuple:
    loaded = load(str(write(tmp_path, d)))
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[0][0]
    found = heuristic(problem, data, **kwargs)
    return problem, found


def test_regret_order_places_the_industry_with_most_to_lose_first(tmp_path):
    """Cheapest first would put a at p1 (1), leaving b p2 (10): 11 + relocation. By regret, b goes
    first to p1 and a to p2: 1 + 2 = 3 + relocation 2 = 5, the optimum."""
    problem, found = _plan(tmp_path, _two_by_two(), local_search=False, neighbourhood=False)
    x = problem.var("x")
    placed = {x.keys[0][n] + "@" + x.keys[1][n] for n in range(len(x)) if found.values[x.start + n] > 0.5}
    assert placed == {"a@p2", "b@p1"}
    assert found.objective == pytest.approx(5.0)
    assert solve_data(tmp_path, _two_by_two()).result.objective == pytest.approx(5.0)


def test_a_move_builds_the_upgrade_it_needs(tmp_path):
    """p1 has 5 ha and an upgrade adding 5 ha for 2; a needs 6 ha. At p1: pair 1 + upgrade 2 +
    relocation 1 = 4; at p2: 10 + 1 = 11; staying: 100. The move to p1 raises w by propagation
    through the capacity row (the upgrade is an auxiliary no move names)."""
    d = base()
    d["industries"][0]["use"] = {"land": 6}
    d["parks"][0]["capacity"] = {"land": 5}
    d["parks"][0]["upgrades"] = [{"id": "ext", "cost": 2, "adds": {"land": 5}}]
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 1}, {"industry": "a", "park": "p2", "cost": 10}]
    out = solve_data(tmp_path, d, options=ONLY)
    assert out.result.status == "feasible" and out.result.solver == "heuristic"
    assert out.result.objective == pytest.approx(4.0)
    assert out.plan.upgrades == [("p1", "ext")]
    assert out.result.bound is None


def _upgrade_state(tmp_path, land: float) -> tuple:
    """p1: 5 ha and an upgrade adding 5 ha; a needs `land` ha (the test above, its state alone)."""
    d = base()
    d["industries"][0]["use"] = {"land": land}
    d["parks"][0]["capacity"] = {"land": 5}
    d["parks"][0]["upgrades"] = [{"id": "ext", "cost": 2, "adds": {"land": 5}}]
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 1}, {"industry": "a", "park": "p2", "cost": 10}]
    loaded = load(str(write(tmp_path, d)))
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[0][0]
    st = _State(problem, data)
    x = problem.var("x")
    p1 = x.start + [n for n in range(len(x)) if x.keys[1][n] == "p1"][0]
    return problem, st, p1


def test_the_screen_counts_what_the_upgrade_can_add(tmp_path):
    """The capacity row of p1: land·x − 5 ≤ 0 with y fixed open, and − 5·w (the upgrade) mends it:
    its room down is 5. 6 ha pass the screen (6 ≤ 5 + 5), 11 ha do not (no propagation could
    find 11 ha); once the move to p1 is made with the upgrade, the room is 0 and the rooms kept
    by `commit` are those computed afresh."""
    problem, st, p1 = _upgrade_state(tmp_path, 6)
    cap = problem.constraints["capacity"]
    row = cap.start + [n for n in range(len(cap)) if cap.keys[0][n] == "p1"][0]
    assert st.room_down[row] == pytest.approx(5.0)
    assert list(st.screen(np.array([p1]), 1.0)) == [p1]
    m = st.move(int(st.stay[0]), p1, 1.0)
    assert m is not None and m[1] == pytest.approx(1 + 2 + 1 - 100)  # pair, upgrade, relocation, stay
    st.commit(m[0])
    assert st.room_down[row] == pytest.approx(0.0)
    down, up = st.rooms()
    assert np.allclose(st.room_down, down) and np.allclose(st.room_up, up)
    _, st, p1 = _upgrade_state(tmp_path, 11)
    assert list(st.screen(np.array([p1]), 1.0)) == []
    assert st.move(int(st.stay[0]), p1, 1.0) is None  # what the screen foresaw


def test_the_row_scale_is_the_same_in_slices():
    """Rows [−3, 2 (off)], [], [5 (off)], [−1, 4, −7]: with column 1 off, the largest |a| over
    the others is 3, 0, 0, 7; slices of one entry, two or all give the same."""
    start = np.array([0, 2, 2, 3, 6])
    index = np.array([0, 1, 1, 0, 2, 3])
    value = np.array([-3.0, 2.0, 5.0, -1.0, 4.0, -7.0])
    on = np.array([True, False, True, True])
    for chunk in (1, 2, 1 << 20):
        assert list(_row_max_abs(start, index, value, on, chunk)) == [3.0, 0.0, 0.0, 7.0]


def test_a_park_is_opened_only_when_it_pays(tmp_path):
    """p1 costs 1 but opens for 50; p2 is open and costs 20 (relocation 1 each). One industry: p2
    (20 + 1 = 21) beats p1 (1 + 1 + 50). Three: p1 pays (3 + 3 + 50 = 56 < 63), which no single
    move shows (the greedy puts each at p2); the neighbourhood's MIP finds it."""
    d = base()
    d["parks"][0]["open_cost"] = 50
    for n in range(3):
        d["industries"].append({**d["industries"][0], "id": f"c{n}"})
    d["industries"].pop(0)
    d["pairs"] = [{"industry": f"c{n}", "park": p, "cost": c} for n in range(3) for p, c in (("p1", 1), ("p2", 20))]
    exact = solve_data(tmp_path, d).result.objective
    assert exact == pytest.approx(3 + 50 + 3)
    out = solve_data(tmp_path, d, options=ONLY)
    assert out.result.objective == pytest.approx(exact)
    d["industries"] = d["industries"][:1]
    d["pairs"] = [p for p in d["pairs"] if p["industry"] == "c0"]
    assert solve_data(tmp_path, d, options=ONLY).result.objective == pytest.approx(20 + 1)


def test_a_transfer_target_is_met_by_the_repair(tmp_path):
    """Staying costs 0 and moving costs 5 or 7: the greedy moves nothing. A target of half the
    modules makes the repair move the cheaper one (a, 5 + relocation 1 = 6)."""
    d = base()
    d["industries"][0]["stay_cost"] = 0
    d["industries"].append({**d["industries"][0], "id": "b"})
    d["pairs"] = [{"industry": "a", "park": "p1", "cost": 5}, {"industry": "b", "park": "p1", "cost": 7},
                  {"industry": "a", "park": "p2", "cost": 50}, {"industry": "b", "park": "p2", "cost": 50}]
    d["rules"] = [{"id": "half", "kind": "transfer_target", "source": "test", "min_share": 0.5}]
    problem, found = _plan(tmp_path, d, local_search=False, neighbourhood=False)
    assert found.phases["greedy"] == pytest.approx(0.0)  # nothing moved by the greedy
    assert found.objective == pytest.approx(6.0)
    out = solve_data(tmp_path, d, options=ONLY)
    assert out.result.objective == pytest.approx(solve_data(tmp_path, d).result.objective) == pytest.approx(6.0)
    assert dict(out.plan.x) == {("a", "p1"): 1.0}


def test_no_plan_is_claimed_where_there_is_none(tmp_path):
    """a must move but needs 20 ha and each park has 10: no plan exists; the heuristic says which
    row it could not meet, and `--heuristic-only` exits 4 with that line, writing no plan."""
    d = base()
    d["industries"][0].update(must_transfer=True, use={"land": 20})
    problem, found = _plan(tmp_path, d, time_limit=2.0)
    assert found.values is None and "a" in found.message
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(write(tmp_path, d)), "--heuristic-only", "--out", str(out)])
    assert result.exit_code == 4, result.output
    assert "heuristic found no plan" in result.output
    assert not (out / "allocations.csv").exists()


def test_china_heuristic_only_is_checked_and_close_to_the_optimum(china_base):
    """Every family of the realistic instance (chains, clusters, eco-compensation, carbon trade,
    participation, replacement quotas...) through the rows alone: the plan passes the independent
    checker, lies above the proven optimum (33,840 at 1e-4) and within 3 % of it (measured 1.1 %)."""
    exact = china_base
    out = solve_instance(load(str(INSTANCES / "china-east-west.yaml")), solve_options=ONLY)
    assert out.check is not None and out.check.ok, out.check.violations
    assert out.result.objective >= exact.result.bound - 1e-6
    assert out.result.objective <= 1.03 * exact.result.objective


def test_mip_start_reaches_the_same_optimum(tmp_path):
    """A generated instance (every family of `generate`), solved exactly with and without the
    heuristic's start: the same optimum; the start is a plan no better than it."""
    path = tmp_path / "g.yaml"
    assert CliRunner().invoke(main, ["generate", "--industries", "30", "--parks", "8", "--seed", "3",
                                     "--output", str(path)]).exit_code == 0
    off = solve_instance(load(str(path)), solve_options=replace(EXACT, heuristic="off"))
    on = solve_instance(load(str(path)), solve_options=replace(EXACT, heuristic="start"))
    assert on.heuristic is not None and on.heuristic.status == "feasible"
    assert on.result.objective == pytest.approx(off.result.objective, rel=1e-9)
    assert on.heuristic.objective >= off.result.objective - 1e-6
    assert on.check.ok and off.check.ok
    record = on.run_record()
    assert record["heuristic"]["objective"] == on.heuristic.objective
    assert record["options"]["heuristic"] == "start"


def test_heuristic_only_on_the_command_line(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["solve", str(INSTANCES / "demo.yaml"), "--heuristic-only", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "construction heuristic: no bound" in result.output
    kpis = json.loads((out / "kpis.json").read_text())
    run = json.loads((out / "run.json").read_text())
    assert kpis["status"] == "feasible" and kpis["bound"] is None and kpis["method"] == "construction heuristic"
    assert run["solver"]["name"] == "heuristic" and run["check"]["ok"] is True


def test_a_start_is_never_lost_when_the_solver_ends_with_nothing(tmp_path):
    """HiGHS stopped in its presolve (as at 100,000 pairs under a tight budget) returns no plan: the
    heuristic's plan, given as its start, is reported instead (status feasible, the solver's
    bound kept if it had one), and checked."""
    from model.run import _keep_start
    from solvers import SolveResult
    from solvers.problem import Solution

    problem, found = _plan(tmp_path, _two_by_two())
    heur = SolveResult("feasible", "heuristic", found.objective, None, None, found.seconds, None, "heuristic", "")
    ended = SolveResult("no_solution", "time_limit", None, 4.0, None, 9.0, None, "highs", "1.x",
                        "HiGHS did not stop when asked and was ended")
    levels = [({"cost": 1.0}, 0.0)]
    kept = _keep_start(problem, levels, heur, found.values, ended)
    assert kept.status == "feasible" and kept.objective == pytest.approx(5.0)
    assert kept.bound == 4.0 and kept.gap == pytest.approx(0.2)
    assert isinstance(problem.solution, Solution) and (problem.solution.values == found.values).all()
    assert "the heuristic's plan" in kept.message
    solved = SolveResult("optimal", "optimal", 5.0, 5.0, 0.0, 1.0, 1, "highs", "1.x")
    assert _keep_start(problem, levels, heur, found.values, solved) is solved


def _one_big_bundle(modules: int, parks: int, cap: int, open_cost: float | None = None) -> dict:
    """One industry of many modules (1 ha each, staying costs 100, moving 1) and `parks` parks of
    `cap` ha each, all alike."""
    d = base()
    d["industries"][0]["modules"] = modules
    d["parks"] = [{"id": f"p{k:03d}", "province": "Anhui", "region": "central", "capacity": {"land": cap},
                   **({"open_cost": open_cost} if open_cost is not None else {})} for k in range(parks)]
    return d


def test_a_signal_stops_the_heuristic_and_the_run_says_interrupted(tmp_path):
    """Ctrl-C or SIGTERM during the heuristic (it runs in this process): the heuristic stops, its
    plan is kept as an interrupted solver's incumbent is (status `interrupted`: the command writes
    it beside a folder's results and exits 4), never reported as a finished run (`feasible`)."""
    from solvers.control import CONTROL

    path = write(tmp_path, _two_by_two())
    try:
        for mode in ("start", "only"):
            CONTROL.reset()
            CONTROL.stop.set()  # the signal's mark (the handler sets it in the phase `solving`)
            out = solve_instance(load(str(path)), solve_options=replace(EXACT, heuristic=mode))
            assert out.result.status == "interrupted", (mode, out.result)
            assert out.result.has_solution and out.check is not None and out.check.ok
    finally:
        CONTROL.reset()


def test_the_greedy_keeps_to_its_time_limit_on_a_large_bundle(tmp_path):
    """30,000 modules placed one by one (no park takes the whole bundle): the greedy checks the
    time between modules, not only between industries."""
    problem, found = _plan(tmp_path, _one_big_bundle(30_000, 30, 1001), time_limit=0.5, local_search=False,
                           neighbourhood=False)
    assert found.seconds < 1.5


@pytest.mark.parametrize("open_cost, optimum", [(None, 120.0), (1.0, 180.0)])
def test_parks_alike_fill_in_turn(tmp_path, open_cost, optimum):
    """120 modules, 60 parks of 2 ha alike: each module's cheapest places by estimate are the same
    48 (or, with an open cost, the parks already open), which fill up; the greedy leaves the places
    the rows refused out of its next tries and reaches the empty parks. (It stopped with 24, or 96,
    modules at home: 2,496 and 9,636 against 120 and 180.)"""
    d = _one_big_bundle(120, 60, 2, open_cost)
    assert solve_data(tmp_path, d).result.objective == pytest.approx(optimum)
    problem, found = _plan(tmp_path, d, local_search=False, neighbourhood=False)
    assert found.objective == pytest.approx(optimum)
    assert solve_data(tmp_path, d, options=ONLY).result.objective == pytest.approx(optimum)


@pytest.mark.parametrize("scenario", ["west_share_80", "fast_timetable"])
def test_the_repair_of_last_resort_widens_its_neighbourhood(scenario):
    """china-phased's scenarios where the greedy and the repair leave a transfer target open and the
    neighbourhood's MIP (each industry's places now and its 4 cheapest) holds no plan: a wider one
    (16, 64 places... the model itself) is tried before giving up. (It said 'no plan' in 0.3 s.)"""
    loaded = load(str(INSTANCES / "china-phased.yaml"), scenario)
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[0][0]
    found = heuristic(problem, data, time_limit=10.0)
    assert found.values is not None, found.message
    out = solve_instance(loaded, solve_options=replace(ONLY, time_limit=10.0))
    assert out.result.status == "feasible" and out.check is not None and out.check.ok


def test_the_repair_leaves_time_for_the_neighbourhood(tmp_path):
    """A generated instance where staying costs nothing and 90 % of the modules must move: the
    repair, one module at a time over a target holding every pair, would take far more than the
    15 s given (it had them all, and said 'no plan'); it now stops at half of them and the
    neighbourhood's MIP, the repair of last resort, finds a plan."""
    import csv

    path = tmp_path / "z.yaml"
    assert CliRunner().invoke(main, ["generate", "--industries", "100", "--parks", "30", "--seed", "2",
                                     "--output", str(path)]).exit_code == 0
    table = tmp_path / "z-industries.csv"
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    for row in rows:
        row["stay_cost"] = "0"
    with table.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = path.read_text(encoding="utf-8")
    assert "min_share: 0.3" in text
    path.write_text(text.replace("min_share: 0.3", "min_share: 0.9"), encoding="utf-8")
    loaded = load(str(path))
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[0][0]
    found = heuristic(problem, data, time_limit=15.0)
    assert found.times["repair"] < 0.6 * 15.0  # the repair's share: half of the time, and the rest for the MIP
    # On a quiet machine the neighbourhood finds a plan (43,656 here); on a loaded one it may not in
    # 15 s, and then the heuristic must say it ran out of time rather than read as infeasible.
    assert found.values is not None or "in the 15.0 s it had" in found.message, found.message


def test_no_plan_for_lack_of_time_says_so():
    """The china instance's targets are met by the neighbourhood's MIP; with no time for it, the
    heuristic says it ran out of time, not only which row is open (which reads as infeasible)."""
    loaded = load(str(INSTANCES / "china-east-west.yaml"))
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[0][0]
    found = heuristic(problem, data, time_limit=0.4)
    assert found.values is None
    assert "in the 0.4 s it had" in found.message and "transfer_target" in found.message


def test_a_start_the_back_end_cannot_take_is_refused_not_ignored(tmp_path):
    from click.testing import CliRunner

    from cli import main

    got = CliRunner().invoke(main, ["solve", str(INSTANCES / "demo.yaml"), "--heuristic", "start", "--backend",
                                    "pyomo", "--out", str(tmp_path / "run")])
    assert got.exit_code == 2 and got.stderr.startswith("error: --heuristic: start: a MIP start reaches HiGHS "
                                                        "through the direct back-end only")
    assert not (tmp_path / "run").exists()


def test_an_industry_with_no_place_to_go_raises_no_numpy_warning(tmp_path):
    """b is forbidden everywhere: its regret was inf − inf (a RuntimeWarning on the terminal); it
    stays (stay_cost 100, a's is too), a moves: 1 + 1."""
    import warnings

    d = _two_by_two()
    d["rules"] = [{"id": "nowhere", "kind": "forbid", "source": "t", "industries": {"ids": ["b"]}}]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, found = _plan(tmp_path, d, local_search=False, neighbourhood=False)
    assert found.objective == pytest.approx(1 + 1 + 100)
