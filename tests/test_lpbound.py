"""The LP bound by row generation (`solvers/lpbound.py`), the direct back-end's reduced hand-off
(`highs_direct.load(reduce=True)`) and the search method `auto`.

Values are hand-checked (the three-column LP below) or set against an independent route: the full
LP relaxation handed to HiGHS whole, and the MIP's optimum, which no LP bound may exceed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import load
from model.assemble import assemble
from model.data import build_data
from solvers import highs_direct
from solvers.lpbound import _weak_dual, cheapest_bound, lp_bound
from solvers.options import AUTO_PAIRS, SolveOptions, search_method
from solvers.problem import Problem
from solvers.run import solve
from tests.conftest import ROOT

CHINA = ROOT / "instances" / "china-east-west.yaml"


def _three() -> Problem:
    # min −2·x1 − x2,  0 ≤ x ≤ 10, integer
    #   x1 + x2 + x3 ≤ 6   (three entries: in the first LP)
    #   x1 − x3 ≤ 0        (two entries: waits until violated)
    # First LP: x1 = 6, objective −12; it violates x1 ≤ x3. With it: 2·x1 + x2 ≤ 6 on
    # x1 + x2 + x3 ≤ 6, x1 ≤ x3 (x1 = x3 = 3, or x2 = 6): −6, integral, so the MIP's optimum too.
    p = Problem("three")
    x = p.add_vars("x", (np.array(["x1", "x2", "x3"], dtype=object),), 0.0, 10.0, True)
    p.add_rows("total", (np.array(["t"], dtype=object),), [0, 0, 0], x.cols, 1.0, hi=6.0)
    p.add_rows("needs", (np.array(["n"], dtype=object),), [0, 0], x.cols[[0, 2]], [1.0, -1.0], hi=0.0)
    p.cost = np.array([-2.0, -1.0, 0.0])
    return p


def _full_lp(problem: Problem) -> float:
    """The LP relaxation handed to HiGHS whole (every row, no row generation)."""
    import highspy

    h = highs_direct.load(problem)
    n = problem.n_cols
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


def test_hand_checked_row_generation():
    p = _three()
    r = lp_bound(p)
    assert r.status == "optimal" and r.complete and r.exact
    assert r.rounds == 2 and r.rows == 2  # the two-entry row joined in the second round
    assert r.bound == pytest.approx(-6.0) and r.objective == pytest.approx(-6.0)
    assert r.duals is not None and r.duals[1] != 0  # the row that joined binds


def test_any_duals_give_a_bound_below_the_lp():
    # Weak duality: L(π) ≤ z_LP for every π, not only the optimal one.
    p = _three()
    lb, ub, _ = p.bounds()
    lo, hi = p.row_bounds()
    cost, offset = p.objective()
    start, index, value = p.matrix()
    row_of = np.repeat(np.arange(p.n_rows), np.diff(start))
    rng = np.random.default_rng(0)
    for _ in range(200):
        pi = rng.normal(0, 3, p.n_rows)
        bound, _, exact = _weak_dual(pi, cost, offset, lb, ub, lo, hi, index, value, row_of, None)
        assert exact and bound <= -6.0 + 1e-9


def test_china_bound_is_the_full_lp_and_below_the_optimum(china_base):
    loaded = load(str(CHINA))
    problem = assemble(build_data(loaded.instance))
    problem.weights = loaded.instance.levels()[0][0]
    full = _full_lp(problem)
    r = lp_bound(problem)
    assert r.complete and r.exact
    assert r.bound == pytest.approx(full, rel=1e-7)
    assert r.rows < problem.n_rows  # rows were left out, and the bound is the whole LP's all the same
    assert r.bound <= china_base.result.objective * (1 + 1e-9)
    # every row of the problem holds at the last LP's solution
    start, index, value = problem.matrix()
    lo, hi = problem.row_bounds()
    act = np.bincount(np.repeat(np.arange(problem.n_rows), np.diff(start)), weights=value * r.values[index],
                      minlength=problem.n_rows)
    assert (act <= hi + 1e-6 * (1 + np.abs(hi))).all() and (act >= lo - 1e-6 * (1 + np.abs(lo))).all()


def _small(lb, ub, integer, rows, lo, hi, cost) -> Problem:
    p = Problem("small")
    p.add_vars("v", (np.arange(len(lb)).astype(object),), lb, ub, integer)
    p.add_rows("r", (np.arange(len(rows)).astype(object),), [i for i, row in enumerate(rows) for _ in row],
               [j for row in rows for j in row], [a for row in rows for a in row.values()], lo, hi)
    p.cost = np.asarray(cost, dtype=float)
    return p


def test_each_side_of_a_ranged_row_has_its_own_tolerance():
    # min x + z,  5 ≤ x + z ≤ 1e9 (two entries: waits). The first LP gives 0; the row's lower side
    # is violated by 5, far beyond 1e-6·(1 + 5), though within 1e-6·(1 + 1e9): it must join.
    p = _small([0, 0], [10, 10], False, [{0: 1.0, 1: 1.0}], [5.0], [1e9], [1.0, 1.0])
    r = lp_bound(p)
    assert r.complete and r.bound == pytest.approx(5.0) and r.rows == 1


def test_unbounded_is_said_even_with_an_empty_row():
    # min −v1 over v1 ≤ v0 ≤ v2 + 3, v2 unbounded above: unbounded; the third row has no entries.
    p = _small([0] * 3, [np.inf] * 3, True, [{1: 1.0, 0: -1.0}, {0: 1.0, 2: -1.0}, {0: 0.0}],
               [-np.inf] * 3, [0.0, 3.0, 1.0], [0.0, -1.0, 0.0])
    assert lp_bound(p).status == "unbounded"


def test_rows_joining_one_by_one_end_in_the_whole_lp():
    # A chain v_i ≤ v_{i+1}, one row violated per round: past MAX_ROUNDS the rest join at once.
    n = 260
    cost = np.zeros(n)
    cost[0], cost[-1] = -1.0, 2.0
    p = _small(np.zeros(n), np.ones(n), False, [{i: 1.0, i + 1: -1.0} for i in range(n - 1)],
               np.full(n - 1, -np.inf), np.zeros(n - 1), cost)
    r = lp_bound(p)
    assert r.complete and r.bound == pytest.approx(_full_lp(p)) and r.rounds > 1


@pytest.mark.parametrize("reduce", [False, True])
def test_reduced_hand_off_of_a_model_left_without_integers_or_columns(reduce):
    # The only integer column fixed at 0: HiGHS holds an LP, whose bound is its objective.
    p = Problem("p")
    p.add_vars("y", (np.array(["y"], dtype=object),), 0.0, 10.0, False)
    p.add_vars("z", (np.array(["z"], dtype=object),), 0.0, 0.0, True)
    p.add_rows("r", (np.array(["r"], dtype=object),), [0, 0], [0, 1], [1.0, 1.0], hi=3.0)
    p.cost = np.array([-1.0, 0.0])
    result, _ = highs_direct.run(highs_direct.load(p, reduce=reduce), p, SolveOptions(mip_gap=0.0))
    assert result.status == "optimal" and result.objective == pytest.approx(-3.0)
    assert result.bound == pytest.approx(-3.0) and result.gap == 0.0
    # Every column fixed at 0: optimal at 0 where 0 is feasible, infeasible where a row excludes it.
    for lo, status in ((-np.inf, "optimal"), (1.0, "infeasible")):
        p = _small([0, 0], [0, 0], True, [{0: 1.0, 1: 2.0}], [lo], [3.0], [1.0, 1.0])
        result, _ = highs_direct.run(highs_direct.load(p, reduce=reduce), p, SolveOptions(mip_gap=0.0))
        assert result.status == status


def test_no_time_gives_no_bound_and_says_why():
    p = _three()
    r = lp_bound(p, time_limit=0.0)
    assert r.status == "time_limit" and r.bound is None and r.values is None and r.rounds == 0


def test_reduced_hand_off_solves_the_same_problem(china_base):
    # Columns fixed at 0 left out of HiGHS: the same optimum, the values and duals of every column.
    loaded = load(str(CHINA))
    problem = assemble(build_data(loaded.instance))
    problem.weights = loaded.instance.levels()[0][0]
    x = problem.var("x")
    plan = china_base.problem.solution.values
    unused = plan[x.cols] <= 1e-9
    x.ub[unused] = 0.0  # every pair the optimum does not use: the optimum stays feasible
    h = highs_direct.load(problem, reduce=True)
    lb, ub, _ = problem.bounds()
    assert h.cols is not None and len(h.cols) == int(((lb != 0) | (ub != 0)).sum()) <= problem.n_cols - unused.sum()
    result, values = highs_direct.run(h, problem, SolveOptions(mip_gap=0.0), start=plan)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(china_base.result.objective, rel=1e-6)
    assert values.shape == (problem.n_cols,) and (values[x.cols][unused] == 0).all()
    duals = highs_direct.lp_duals(h, problem, values, SolveOptions())
    assert duals is not None and duals.shape == (problem.n_rows,)
    whole = highs_direct.load(problem)
    _, values_whole = highs_direct.run(whole, problem, SolveOptions(mip_gap=0.0), start=plan)
    assert highs_direct.lp_duals(whole, problem, values_whole, SolveOptions()) == pytest.approx(duals, abs=1e-6)


def test_auto_method_is_kernel_on_large_models_only():
    assert search_method(SolveOptions(), AUTO_PAIRS - 1) == "mip"
    assert search_method(SolveOptions(), AUTO_PAIRS) == "kernel"
    assert search_method(SolveOptions(backend="pyomo"), AUTO_PAIRS) == "mip"
    assert search_method(SolveOptions(method="mip"), 10 * AUTO_PAIRS) == "mip"
    assert search_method(SolveOptions(method="kernel"), 10) == "kernel"


def test_kernel_on_the_hand_checked_lp_reaches_the_optimum():
    # The kernel search's LP is the row generation's: bound and plan meet at −6.
    p = _three()
    result = solve(p, SolveOptions(method="kernel", time_limit=20, mip_gap=0.0))
    assert result.method == "kernel" and result.status == "optimal"
    assert result.objective == pytest.approx(-6.0) and result.bound == pytest.approx(-6.0)
    assert "LP bound" in result.message


def _two_jobs() -> Problem:
    # Two jobs, each placed once (x) or kept (stay, held at 0 here); machine 1 takes one job.
    #   job a: machine 1 costs 3, machine 2 costs 5;  job b: machine 1 costs 2, machine 2 costs 4
    # Each job's cheapest place is machine 1: 3 + 2 = 5. Machine 1 takes one, so the optimum is
    # 3 + 4 = 5 + 2 = 7.
    p = Problem("two_jobs")
    keys = np.array(["a1", "a2", "b1", "b2"], dtype=object)
    x = p.add_vars("x", (keys,), 0.0, 1.0, True)
    stay = p.add_vars("stay", (np.array(["a", "b"], dtype=object),), 0.0, 0.0, False)
    jobs = (np.array(["a", "b"], dtype=object),)
    p.add_rows("assign", jobs, [0, 0, 0, 1, 1, 1], np.r_[x.cols, stay.cols][[0, 1, 4, 2, 3, 5]], 1.0, lo=1.0,
               hi=1.0)
    p.add_rows("capacity", (np.array(["m1"], dtype=object),), [0, 0], x.cols[[0, 2]], 1.0, hi=1.0)
    p.cost = np.array([3.0, 5.0, 2.0, 4.0, 0.0, 0.0])
    return p


def test_cheapest_bound_is_each_jobs_cheapest_place_hand_checked():
    p = _two_jobs()
    assert cheapest_bound(p) == pytest.approx(5.0)  # stay costs 0 but is held at 0: not a place
    assert solve(p, SolveOptions(method="mip")).objective == pytest.approx(7.0)
    assert _full_lp(p) >= cheapest_bound(p) - 1e-9  # weaker than the LP, which sees the capacity


def test_cheapest_bound_on_the_demo_is_finite_and_below_its_hand_checked_optimum():
    # The demo's optimum, 49.6, is counted by hand in tests/test_whatif.py. (On the china instance
    # the bound is −∞: a payment column is unbounded above, so there it proves nothing.)
    loaded = load(str(ROOT / "instances" / "demo.yaml"))
    problem = assemble(build_data(loaded.instance))
    problem.weights = loaded.instance.levels()[-1][0]
    assert -math.inf < cheapest_bound(problem) <= 49.6 + 1e-9


@pytest.mark.parametrize("seed", range(12))
def test_cheapest_bound_never_exceeds_the_optimum_of_random_problems(seed):
    # Random assignments with a stay column (sometimes held at 0), negative costs (bonuses),
    # capacities, a mixed-sign limit and a free column: whatever the rows, L(π) ≤ z_MIP.
    rng = np.random.default_rng(seed)
    n_i, n_p = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    p = Problem(f"random{seed}")
    x = p.add_vars("x", (np.array([f"{i}-{j}" for i in range(n_i) for j in range(n_p)], dtype=object),),
                   0.0, 3.0, True)
    stay_ub = 0.0 if seed % 2 else 3.0
    stay = p.add_vars("stay", (np.array([str(i) for i in range(n_i)], dtype=object),), 0.0, stay_ub, False)
    extra = p.add_vars("extra", (np.array(["e"], dtype=object),), 0.0, 5.0, False)
    modules = rng.integers(1, 4, n_i)
    rows = np.r_[np.repeat(np.arange(n_i), n_p), np.arange(n_i)]
    p.add_rows("assign", (np.array([str(i) for i in range(n_i)], dtype=object),), rows,
               np.r_[x.cols, stay.cols], 1.0, lo=modules.astype(float), hi=modules.astype(float))
    size = rng.uniform(0.5, 2.0, n_i * n_p)
    p.add_rows("capacity", (np.array([str(j) for j in range(n_p)], dtype=object),), np.tile(np.arange(n_p), n_i),
               x.cols, size, hi=rng.uniform(2.0, 8.0, n_p))
    p.add_rows("limit", (np.array(["l"], dtype=object),), np.zeros(n_i * n_p + 1, dtype=int),
               np.r_[x.cols, extra.cols], np.r_[rng.uniform(-1, 1, n_i * n_p), -1.0], hi=2.0)
    p.cost = np.r_[rng.uniform(-2, 10, n_i * n_p), rng.uniform(0, 12, n_i), [-0.5]]
    result = solve(p, SolveOptions(method="mip", mip_gap=0.0))
    if result.status != "optimal":
        pytest.skip(f"seed {seed}: the random problem is {result.status}, so there is no optimum to bound")
    assert cheapest_bound(p) <= result.objective + 1e-6
