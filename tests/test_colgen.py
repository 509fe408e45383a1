"""Column generation for the GAP (`model/colgen.py`): the knapsack, the Dantzig-Wolfe bound, the dives.

Every value is set against one derived independently: the knapsack against enumeration, the
Dantzig-Wolfe bound against the master LP over every feasible packing (enumerated, solved by
scipy), the optimum against enumeration of every assignment, the LP bound by scipy.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from model import colgen
from solvers.options import SolveOptions
from solvers.problem import Problem


def test_knapsack_matches_enumeration():
    rng = np.random.default_rng(3)
    for _ in range(40):
        k = int(rng.integers(1, 11))
        profit = rng.uniform(-5, 20, k)
        weight = rng.integers(0, 12, k)
        capacity = int(rng.integers(0, 30))
        value, chosen = colgen.knapsack(profit, weight, capacity)
        best = max(sum(profit[list(s)]) for r in range(k + 1) for s in itertools.combinations(range(k), r)
                   if sum(weight[list(s)]) <= capacity)
        assert value == pytest.approx(max(best, 0.0))
        assert weight[chosen].sum() <= capacity and profit[chosen].sum() == pytest.approx(value)


def _gap(seed: int, agents: int = 3, jobs: int = 8, tightness: float = 0.8):
    """A random GAP as the importers build it (every facility open): costs, weights, capacities
    [agent, job] and its Problem."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(5, 50, (agents, jobs)).astype(float)
    weight = rng.integers(5, 25, (agents, jobs)).astype(float)
    capacity = np.floor(tightness * weight.sum(axis=1) / agents)
    problem = Problem("gap")
    job, agent = np.repeat(np.arange(jobs), agents), np.tile(np.arange(agents), jobs)
    x = problem.add_vars("x", (np.array([f"j{j}" for j in job], dtype=object),
                               np.array([f"a{i}" for i in agent], dtype=object)), 0.0, 1.0, True)
    y = problem.add_vars("y", (np.array([f"a{i}" for i in range(agents)], dtype=object),), 1.0, 1.0, True)
    problem.add_rows("assign", (np.array([f"j{j}" for j in range(jobs)], dtype=object),), job, x.cols, 1.0, 1.0, 1.0)
    problem.add_rows("capacity", (np.array([f"a{i}" for i in range(agents)], dtype=object),
                                  np.array(["d"] * agents, dtype=object)),
                     np.r_[agent, np.arange(agents)], np.r_[x.cols, y.cols], np.r_[weight[agent, job], -capacity],
                     hi=0.0)
    problem.cost = np.r_[cost[agent, job], np.zeros(agents)]
    problem.guide = colgen.guide  # as `assemble` sets it
    return cost, weight, capacity, problem


def _enumerate(cost, weight, capacity):
    """The optimum over every assignment of jobs to agents (numpy, agents^jobs of them)."""
    agents, jobs = cost.shape
    every = np.array(list(itertools.product(range(agents), repeat=jobs)))
    load = np.stack([np.where(every == i, weight[i], 0).sum(axis=1) for i in range(agents)], axis=1)
    ok = (load <= capacity).all(axis=1)
    total = cost[every, np.arange(jobs)].sum(axis=1)
    return float(total[ok].min())


def _dantzig_wolfe(cost, weight, capacity):
    """The master LP over every feasible packing of every agent, by scipy."""
    agents, jobs = cost.shape
    columns, costs = [], []
    for i in range(agents):
        for r in range(jobs + 1):
            for s in itertools.combinations(range(jobs), r):
                if weight[i, list(s)].sum() <= capacity[i]:
                    col = np.zeros(jobs + agents)
                    col[list(s)] = 1.0
                    col[jobs + i] = 1.0
                    columns.append(col)
                    costs.append(cost[i, list(s)].sum())
    a = np.array(columns).T
    res = linprog(costs, A_eq=a[:jobs], b_eq=np.ones(jobs), A_ub=a[jobs:], b_ub=np.ones(agents), method="highs")
    return float(res.fun)


def _lp(cost, weight, capacity):
    agents, jobs = cost.shape
    a_eq = np.zeros((jobs, agents * jobs))
    a_ub = np.zeros((agents, agents * jobs))
    for i in range(agents):
        for j in range(jobs):
            a_eq[j, i * jobs + j] = 1.0
            a_ub[i, i * jobs + j] = weight[i, j]
    res = linprog(cost.ravel(), A_eq=a_eq, b_eq=np.ones(jobs), A_ub=a_ub, b_ub=capacity, bounds=(0, 1),
                  method="highs")
    return float(res.fun)


@pytest.mark.parametrize("seed", [1, 3, 4, 6])  # 2 and 7 have no feasible plan
def test_dantzig_wolfe_bound_and_dives_on_random_gaps(seed):
    cost, weight, capacity, problem = _gap(seed)
    optimum = _enumerate(cost, weight, capacity)
    sh = colgen.lagrange.shape(problem)
    assert sh is not None and colgen.matrices(sh) is not None
    guided = colgen.column_guide(sh, problem.n_cols, 10.0, seed=seed)
    dw, lp = _dantzig_wolfe(cost, weight, capacity), _lp(cost, weight, capacity)
    # column generation reached the master's optimum; the costs are integers, so the bound is rounded up
    assert guided.bound == pytest.approx(math.ceil(dw - 1e-6), abs=1e-6)
    assert lp - 1e-6 <= guided.bound <= optimum + 1e-6
    assert guided.start is not None
    plan = guided.start[problem.cols("x")].reshape(cost.shape[1], cost.shape[0]).T  # [agent, job]
    assert (plan.sum(axis=0) == 1).all() and ((plan * weight).sum(axis=1) <= capacity).all()
    assert (plan * cost).sum() >= optimum - 1e-9
    assert guided.support[problem.cols("x")][guided.start[problem.cols("x")] > 0.5].all()  # its pairs in the kernel
    assert "Dantzig-Wolfe bound" in guided.message


def test_kernel_search_from_column_generation_proves_the_optimum():
    from solvers import solve

    cost, weight, capacity, problem = _gap(5, agents=3, jobs=9)
    optimum = _enumerate(cost, weight, capacity)
    result = solve(problem, SolveOptions(method="kernel", time_limit=20, threads=1, mip_gap=0.0))
    assert result.status == "optimal" and result.objective == pytest.approx(optimum)
    assert result.root_bound == pytest.approx(math.ceil(_dantzig_wolfe(cost, weight, capacity) - 1e-6), abs=1e-6)
    assert "Dantzig-Wolfe bound" in result.message


def test_fixings_that_overfill_an_agent_end_the_dive():
    cost, weight, capacity, problem = _gap(1)
    dives = colgen.Dives(cost, weight.astype(np.int64), capacity)
    fixed = np.full(cost.shape[1], -1)
    fixed[:] = 0  # every job on agent 0: more than its capacity
    total, found = dives.price(np.zeros(cost.shape[1]), fixed)
    assert total == -np.inf and found == []


def test_without_a_plan_from_the_dives_the_lagrangian_plan_is_the_start(monkeypatch):
    cost, weight, capacity, problem = _gap(3, tightness=1.2)  # loose enough for the greedy repair
    optimum = _enumerate(cost, weight, capacity)
    monkeypatch.setattr(colgen.Dives, "dive", lambda self, deadline, noise: None)  # every dive a dead end
    guided = colgen.guide(problem, 20.0)
    assert guided is not None and guided.start is not None
    assert "Dantzig-Wolfe bound" in guided.message and "Lagrangian bound" in guided.message
    plan = guided.start[problem.cols("x")].reshape(cost.shape[1], cost.shape[0]).T
    assert (plan.sum(axis=0) == 1).all() and ((plan * weight).sum(axis=1) <= capacity).all()
    assert _lp(cost, weight, capacity) - 1e-6 <= guided.bound <= optimum + 1e-6


def test_a_facility_location_keeps_the_lagrangian_guide():
    # Facilities that may close: not a GAP, so the Lagrangian relaxation guides the search.
    from tests.test_kernel import _facility_location

    problem = _facility_location([[1, 9, 2], [2, 3, 2], [9, 1, 2]], [4, 4, 4], [10, 10, 10], [5, 6, 9])
    sh = colgen.lagrange.shape(problem)
    assert sh is not None and colgen.matrices(sh) is None
    guided = colgen.guide(problem, 10.0)
    assert guided is not None and "Lagrangian bound" in guided.message and "Dantzig-Wolfe" not in guided.message


def test_a_round_limit_in_the_dives_keeps_the_plans_and_the_bound_valid(monkeypatch):
    # Stopped by its round limit, column generation returns the λ of the master before the last
    # columns joined: the dives must read it as such (a dive once failed there on gapd #2).
    cost, weight, capacity, problem = _gap(4, agents=4, jobs=9)
    optimum = _enumerate(cost, weight, capacity)
    monkeypatch.setattr(colgen, "MAX_ROUNDS", 1)
    sh = colgen.lagrange.shape(problem)
    guided = colgen.column_guide(sh, problem.n_cols, 5.0)
    assert guided.bound <= optimum + 1e-6
    if guided.start is not None:
        assert float(problem.cost @ guided.start) >= optimum - 1e-9


def test_a_signal_inside_the_guide_ends_the_search_with_the_plans_found(monkeypatch):
    # Ctrl-C while column generation runs (Python, between HiGHS's solves) once a dive has found a
    # plan: the search ends `interrupted` with that plan. It used to abandon the whole command.
    import os
    import signal

    from solvers import solve
    from solvers.control import CONTROL, Interrupted, install_handlers

    cost, weight, capacity, problem = _gap(5, agents=3, jobs=9)
    optimum = _enumerate(cost, weight, capacity)
    dive = colgen.Dives.dive

    def dive_then_signal(self, deadline, noise):
        plan = dive(self, deadline, noise)
        if plan is not None:
            os.kill(os.getpid(), signal.SIGINT)
        return plan

    monkeypatch.setattr(colgen.Dives, "dive", dive_then_signal)
    previous = signal.getsignal(signal.SIGINT)
    CONTROL.reset()
    install_handlers()
    try:
        result = solve(problem, SolveOptions(method="kernel", time_limit=20, threads=1, mip_gap=0.0))
    except Interrupted:
        pytest.fail("the signal abandoned the search and its plans")
    finally:
        signal.signal(signal.SIGINT, previous)
        signal_seen = CONTROL.stop.is_set()
        CONTROL.reset()
    assert signal_seen and result.status == "interrupted"
    plan = problem.solution.values[problem.cols("x")].reshape(cost.shape[1], cost.shape[0]).T  # [agent, job]
    assert (plan.round() == plan).all() and (plan.sum(axis=0) == 1).all()
    assert ((plan * weight).sum(axis=1) <= capacity).all()
    assert result.objective == pytest.approx((plan * cost).sum()) and result.objective >= optimum - 1e-9
