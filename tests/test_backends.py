"""The two back-ends give one model: the direct HiGHS matrix and the Pyomo reference.

The direct side is the assembled CSR matrix handed to `passModel`. The Pyomo side is read back
from the Pyomo model by Pyomo's own expression walker (`generate_standard_repn`), so that a
mistake in turning blocks into Pyomo components (a lost term, a sign, a bound, a domain) shows
up. Rows and columns are compared by name after a canonical ordering; then both are solved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model import load
from model.assemble import assemble
from model.data import build_data
from model.generate import generate_instance
from model.options import FORMULATIONS, BuildOptions
from model.run import solve_instance
from solvers import SolveOptions, solve
from solvers.pyomo_backend import to_pyomo
from tests.conftest import INSTANCES
from tests.forms import assert_same, direct_form, pyomo_form


def _generated(tmp_path: Path) -> str:
    return str(generate_instance(12, 5, 3, tmp_path / "gen.yaml", False))


def _cases(tmp_path: Path) -> list[tuple[str, str | None]]:
    """The demo, the china instance with the scenarios that bring blocks of their own (a changed
    coefficient; the carbon market; participation with side payments; the others only switch
    rules the base already builds off), and a generated instance."""
    china = str(INSTANCES / "china-east-west.yaml")
    scenarios = ["yangtze_cod_cut", "central_cap_2500_traded", "senders_no_worse_off"]
    assert set(scenarios) <= set(load(china).instance.scenarios)
    return [(str(INSTANCES / "demo.yaml"), None), (china, None), *[(china, s) for s in scenarios],
            (_generated(tmp_path), None)]


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_both_back_ends_build_the_same_model(tmp_path, formulation):
    for path, scenario in _cases(tmp_path):
        data = build_data(load(path, scenario).instance)
        problem = assemble(data, BuildOptions(formulation))
        assert_same(direct_form(problem), pyomo_form(to_pyomo(problem)))


def test_the_elastic_model_is_the_same_too(tmp_path):
    for path, scenario in _cases(tmp_path)[:2]:
        data = build_data(load(path, scenario).instance, keep_forbidden=True)
        problem = assemble(data, BuildOptions(elastic=True))
        problem.cost = np.linspace(0.0, 1.0, problem.n_cols)
        assert_same(direct_form(problem), pyomo_form(to_pyomo(problem)))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_both_back_ends_find_the_same_optimum(tmp_path, formulation):
    for path in (str(INSTANCES / "demo.yaml"), _generated(tmp_path)):
        loaded = load(path)
        got = {backend: solve_instance(loaded, BuildOptions(formulation), SolveOptions(mip_gap=0.0, backend=backend))
               for backend in ("direct", "pyomo")}
        assert got["direct"].result.status == got["pyomo"].result.status == "optimal"
        assert got["direct"].result.objective == pytest.approx(got["pyomo"].result.objective, rel=1e-9)
        assert got["direct"].check.ok and got["pyomo"].check.ok
        # The shadow prices of the binding rows agree (the same LP with the integer decisions held,
        # when the plans agree; a tie between optimal plans may price differently).
        if got["direct"].plan == got["pyomo"].plan:
            a, b = (got[k].tables["parks.csv"]["shadow_price"].to_numpy() for k in ("direct", "pyomo"))
            assert np.allclose(np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1), atol=1e-6)


def test_a_kept_model_changed_in_place_matches_a_rebuild(tmp_path):
    """What-if on a kept direct model gives the optimum of the instance changed and rebuilt: a
    limit's max tightened (changeRowsBounds), then an industry held at its origin (changeColsBounds)."""
    from solvers.highs_direct import Kept

    path = _generated(tmp_path)
    data = build_data(load(path).instance)
    problem = assemble(data)
    kept = Kept(problem)
    assert solve(problem, SolveOptions(mip_gap=0.0), kept=kept).status == "optimal"
    block = problem.constraints["limit"]
    activity = problem.row_values("limit")
    n = next(n for n in range(len(block)) if block.keys[1][n] == "max" and activity[n] > 1e-6)
    rid, tighter = block.keys[0][n], float(round(0.9 * activity[n], 3))
    kept.change_row_bounds("limit", [n], -np.inf, tighter)
    changed = solve(problem, SolveOptions(mip_gap=0.0), kept=kept)
    rebuilt = solve_instance(load(path, sets=[(f"rules.{rid}.max", tighter)]), None, SolveOptions(mip_gap=0.0))
    assert changed.status == rebuilt.result.status
    if changed.has_solution:
        assert changed.objective == pytest.approx(rebuilt.result.objective, rel=1e-9)

    industry = data.industries[0]
    x = problem.var("stay")
    kept.change_col_bounds("stay", [x.col(industry) - x.start], 1.0, 1.0)
    held = solve(problem, SolveOptions(mip_gap=0.0), kept=kept)
    sets = [(f"rules.{rid}.max", tighter), (f"industries.{industry}.must_transfer", False)]
    again = assemble(build_data(load(path, sets=sets).instance))
    again.var("stay").lb[0] = again.var("stay").ub[0] = 1.0
    direct = solve(again, SolveOptions(mip_gap=0.0, backend="pyomo"))
    assert held.status == direct.status
    if held.has_solution:
        assert held.objective == pytest.approx(direct.objective, rel=1e-9)


def test_a_mip_start_is_taken_and_kept_feasible(tmp_path):
    """With no presolve and no branch-and-bound node HiGHS finds no plan for the demo on its own
    (tests/test_cli.py); given the optimum as a start, it returns a plan no worse than it."""
    loaded = load(str(INSTANCES / "demo.yaml"))
    problem = assemble(build_data(loaded.instance))
    first = solve(problem, SolveOptions(mip_gap=0.0))
    start = problem.solution.values.copy()
    bare = SolveOptions(mip_gap=0.0, raw={"mip_max_nodes": 0, "presolve": "off"})
    assert not solve(problem, bare).has_solution
    problem.start = start
    again = solve(problem, bare)
    assert again.has_solution and again.objective <= first.objective + 1e-9


def test_a_mip_start_that_highs_values_wrongly_is_dropped():
    """HiGHS 1.16 values some MIP starts wrongly after its presolve, then proves that false value
    optimal at its root (solvers/highs_direct.run). On the china instance at a carbon price of
    0.2 million yuan per kt, a plan of the base (solved to a 5 % gap) as the start: HiGHS says it
    costs 7,316.7 less than its cost c·x. The tool sees that, solves again without the start, and
    reports a plan whose objective is its cost, with a bound below it, and says why."""
    china = str(INSTANCES / "china-east-west.yaml")
    base = assemble(build_data(load(china).instance))
    base.weights = load(china).instance.levels()[-1][0]
    assert solve(base, SolveOptions(mip_gap=0.05, threads=1)).has_solution
    loaded = load(china, None, [("objective.weights.co2", 0.2)])
    problem = assemble(build_data(loaded.instance))
    problem.weights = loaded.instance.levels()[-1][0]
    assert problem.names()[0] == base.names()[0]  # the same columns: the base's plan is a start here
    start = base.solution.values.copy()
    cost, constant = problem.objective()
    problem.start = start
    r = solve(problem, SolveOptions(threads=1, mip_gap=0.05, time_limit=60))  # the gap ends it in seconds
    problem.start = None
    assert r.has_solution, r.message
    values = problem.solution.values
    assert r.objective == pytest.approx(cost @ values + constant, rel=1e-9)
    assert r.bound is None or r.bound <= r.objective + 1e-6
    # the start is a plan HiGHS found feasible: never lost, so never a worse plan than it
    assert r.objective <= cost @ start + constant + 1e-6 and r.trace[-1][1] == pytest.approx(r.objective)
    assert "HiGHS valued the MIP start at" in r.message and "solved again without the start" in r.message
    said = float(r.message.split("MIP start at ")[1].split(" ")[0])
    assert said < cost @ start + constant - 1000  # the fault this guards against is still HiGHS's


def test_the_mip_keeps_a_trace_of_its_incumbents(tmp_path):
    """HiGHS's incumbents, as its callback saw them: each better than the last, timed from the
    solve's start, the last one the plan reported (a generated 30 × 8 instance, solved to 0 gap)."""
    path = str(generate_instance(30, 8, 3, tmp_path / "gen.yaml", False))
    out = solve_instance(load(path), BuildOptions(), SolveOptions(mip_gap=0.0, threads=1, method="mip"))
    r = out.result
    assert r.status == "optimal" and r.trace
    seconds = [s for s, _ in r.trace]
    objectives = [o for _, o in r.trace]
    assert seconds == sorted(seconds) and seconds[-1] <= r.seconds
    assert all(b < a for a, b in zip(objectives, objectives[1:]))
    assert objectives[-1] == pytest.approx(r.objective, rel=1e-9)


def test_the_direct_back_end_prints_nothing_and_loads_no_pyomo(tmp_path):
    """HiGHS prints its banner on creation unless told not to (solvers/silent.py): the direct
    path's HiGHS objects print nothing on fd 1 or 2, `--tee` still shows HiGHS's log, and a solve
    loads neither pyomo nor the scipy.stats its dependency module pulls in (0.7 s per command)."""
    import subprocess
    import sys

    code = """if True:
        import sys
        from model import load
        from model.options import BuildOptions
        from model.run import solve_instance
        from solvers import SolveOptions
        from solvers.options import option_problems
        from solvers.lpbound import lp_bound
        loaded = load(sys.argv[1])
        out = solve_instance(loaded, BuildOptions(), SolveOptions())
        assert out.result.status == "optimal", out.result.status
        refused = [o for o, _ in option_problems("highs", {"output_flag": True, "presolve": "bogus"})]
        assert "presolve=bogus" in refused, refused
        assert lp_bound(out.problem).bound > 0
        print("loaded", sorted({m.split(".")[0] for m in sys.modules if m.startswith(("pyomo", "scipy.stats"))}))
    """
    demo = str(INSTANCES / "demo.yaml")
    done = subprocess.run([sys.executable, "-c", code, demo], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "loaded []\n" and done.stderr == ""
    tee = subprocess.run([sys.executable, "-m", "cli", "solve", demo, "--tee", "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert "Running HiGHS" in tee.stdout and "MIP has" in tee.stdout, tee.stdout + tee.stderr


def test_no_root_bound_for_a_solve_stopped_before_its_root_was_done():
    """The last bound the callback saw at node 0 is the root's only once the root is done: a solve
    stopped there by its time limit (cap64 at 0.3 s: 1,053,075.72, where the root ends at
    1,053,197.44) reports none; one closed at the root, or by presolve, reports its bound."""
    from types import SimpleNamespace

    from solvers.highs_direct import _root

    seen = SimpleNamespace(root_bound=1_053_075.72)
    assert _root(seen, 1_053_075.72, 0, done=False) is None
    assert _root(seen, 1_053_075.72, 1, done=False) == 1_053_075.72  # the root was done, then the search stopped
    assert _root(SimpleNamespace(root_bound=None), 7.0, 0, done=True) == 7.0  # presolve closed it
