"""The LP relaxation's bound by row generation: rows join the LP as the LP's solution violates them.

For  min cᵀv + c₀  s.t.  lo ≤ A·v ≤ hi,  l ≤ v ≤ u  (v integer on some columns), the LP over any
subset S of the rows is a relaxation of it:

    z_S = min { cᵀv + c₀ : lo_S ≤ A_S·v ≤ hi_S,  l ≤ v ≤ u }  ≤  z_LP  ≤  z_MIP.

S starts with the equality rows, every row of more than two entries (the coupling rows:
capacities, limits, shares, assignments) and every row of a column that its cost pushes toward an
infinite bound (else the first LP is unbounded; if it is all the same, S becomes every row). The
rows of two entries (x ≤ u·y, x ≤ M·z: one per pair, most of the matrix's rows, few binding) and
the valid inequalities (`RowBlock.cut`) wait. Each round solves the LP over S by the dual simplex,
warm from the last round's basis, computes A·v over every row, and adds to S the rows v violates
by more than the feasibility tolerance. When none is violated, v is feasible for the whole LP and
z_S = z_LP. On a generated 1000 × 200 instance (tight formulation) HiGHS took 110 s on the whole
LP and this 21 s, with 6,715 of its 280,524 rows (one run each; `benchmarks/lp_bound.py`).

The bound reported does not rest on the LP's tolerances. From the row duals π of the last LP
solved (0 on rows outside S), weak duality gives, for any π,

    L(π) = c₀ + Σ_r (max(π_r, 0)·lo_r + min(π_r, 0)·hi_r) + Σ_j min(d_j·l_j, d_j·u_j),
    d = c − Aᵀπ,

a lower bound on z_MIP, computed here from the problem's own arrays (π_r is clipped to 0 where the
side it prices is infinite). Where a column with an infinite bound has a reduced cost of the wrong
sign (round-off), L(π) is −∞ and the LP's own z_S is reported instead (`exact` is then False).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.control import CONTROL
from solvers.problem import Problem
from solvers.silent import new_highs

MAX_ROUNDS = 200
TOLERANCE = 1e-6  # a row is violated beyond this, relative to 1 + |its bound|


@dataclass
class LPBound:
    status: str  # optimal (S's LP solved, no row violated), time_limit, interrupted, infeasible, unbounded, error
    bound: float | None  # a valid lower bound on the MIP: L(π), or z_S where L(π) is −∞
    objective: float | None  # z_S of the last LP solved
    values: np.ndarray | None  # that LP's column values
    duals: np.ndarray | None  # its row duals over every row of the problem (0 off S)
    reduced: np.ndarray | None  # c − Aᵀπ
    rows: int  # rows in S at the end
    rounds: int
    seconds: float
    exact: bool = True  # the bound is L(π), not the LP's objective

    @property
    def complete(self) -> bool:
        """z_S = z_LP: every row of the problem holds at the LP's solution."""
        return self.status == "optimal"


def lp_bound(problem: Problem, time_limit: float | None = None, raw: dict[str, Any] | None = None) -> LPBound:
    """The LP relaxation of `problem` by row generation (module docstring), within `time_limit`
    seconds and the command's budget; stops on a signal (`CONTROL.stop`) with the bound so far."""
    import highspy

    t0 = time.monotonic()
    deadline = None if time_limit is None else t0 + time_limit
    if CONTROL.deadline is not None:
        deadline = CONTROL.deadline if deadline is None else min(deadline, CONTROL.deadline)
    lb, ub, lo, hi, cost, offset, start, index, value, length, row_of = _arrays(problem)
    slack_hi = TOLERANCE * (1.0 + np.abs(np.where(np.isfinite(hi), hi, 0.0)))  # each side its own
    slack_lo = TOLERANCE * (1.0 + np.abs(np.where(np.isfinite(lo), lo, 0.0)))
    chosen = ((lo == hi) | (length > 2)) & (length > 0)
    # a column its cost pushes toward an infinite bound (a bonus, a payment) is held only by its
    # rows: they go in from the start, or the first LP is unbounded
    runs_off = ((cost < 0) & ~np.isfinite(ub)) | ((cost > 0) & ~np.isfinite(lb))
    chosen[np.unique(row_of[runs_off[index]])] = True
    cuts = problem.cut_rows()
    if len(cuts):  # valid inequalities, dense and mostly slack at the LP's optimum: they wait too
        chosen[cuts] = lo[cuts] == hi[cuts]

    h = new_highs()
    for name, setting in (raw or {}).items():
        h.setOptionValue(name, setting)
    h.setOptionValue("presolve", "off")  # measured: the first round 14 s instead of 18 s at 1000 × 200
    h.setOptionValue("solver", "simplex")
    n = problem.n_cols
    h.addVars(n, lb, ub)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    order = np.flatnonzero(chosen)  # HiGHS's row k is the problem's row order[k]
    _add(h, order, start, index, value, lo, hi)

    def check(event: Any) -> None:
        if CONTROL.stop.is_set():
            event.interrupt()

    h.HandleUserInterrupt = True
    h.cbSimplexInterrupt += check

    best = LPBound("time_limit", None, None, None, None, None, int(chosen.sum()), 0, 0.0)
    S = highspy.HighsModelStatus
    rounds = 0
    while True:
        rounds += 1
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0.05:
                break
            h.setOptionValue("time_limit", h.getRunTime() + left)
        h.run()
        ms = h.getModelStatus()
        sol = h.getSolution()
        if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return _ended(best, "infeasible", rounds, t0, chosen)
        if ms == S.kUnbounded:
            if chosen[length > 0].all():  # (an empty row is never added: HiGHS needs no 0 ≤ 0)
                return _ended(best, "unbounded", rounds, t0, chosen)
            new = np.flatnonzero(~chosen & (length > 0))  # a row left out let the LP run off: take them all
            chosen[new] = True
            order = np.concatenate([order, new])
            _add(h, new, start, index, value, lo, hi)
            continue
        if sol.dual_valid:  # the dual simplex's iterates are dual feasible: any π gives a bound
            duals = np.zeros(problem.n_rows)
            duals[order] = np.asarray(sol.row_dual, dtype=float)
            bound, reduced, exact = _weak_dual(duals, cost, offset, lb, ub, lo, hi, index, value, row_of,
                                               h.getInfo().objective_function_value + offset
                                               if ms == S.kOptimal else None)
            if bound is not None and (best.bound is None or bound > best.bound):
                best.bound, best.reduced, best.duals, best.exact = bound, reduced, duals, exact
        if ms != S.kOptimal:
            status = ("interrupted" if CONTROL.stop.is_set() or ms == S.kInterrupt
                      else "time_limit" if ms in (S.kTimeLimit, S.kIterationLimit) else "error")
            return _ended(best, status, rounds, t0, chosen)
        values = np.asarray(sol.col_value, dtype=float)
        best.values, best.objective = values, h.getInfo().objective_function_value + offset
        activity = np.bincount(row_of, weights=value * values[index], minlength=problem.n_rows)
        violated = ~chosen & ((activity > hi + slack_hi) | (activity < lo - slack_lo))
        if not violated.any():
            return _ended(best, "optimal", rounds, t0, chosen)
        new = np.flatnonzero(violated)
        if rounds >= MAX_ROUNDS:  # rows joining a few at a time: the rest all at once, the whole LP next
            new = np.flatnonzero(~chosen & (length > 0))
        chosen[new] = True
        order = np.concatenate([order, new])
        _add(h, new, start, index, value, lo, hi)
        if CONTROL.stop.is_set():
            return _ended(best, "interrupted", rounds, t0, chosen)
    return _ended(best, "interrupted" if CONTROL.stop.is_set() else "time_limit", rounds - 1, t0, chosen)


def cheapest_bound(problem: Problem) -> float:
    """L(π) of the module docstring at a price needing no LP: every equality row whose entries are
    all positive (an assignment: Σ_p x[i,p] + stay[i] = modules_i) priced at its cheapest column,
    π_r = min_j c_j / A[r,j], every other row at 0. It is the plan that puts each module where it
    costs least, every capacity and rule forgotten: a bound that takes milliseconds at a million
    pairs, and proves a plan where nothing else binds. −∞ where it proves nothing (a column with a
    negative reduced cost and an infinite bound)."""
    lb, ub, lo, hi, cost, offset, start, index, value, length, row_of = _arrays(problem)
    duals = np.zeros(problem.n_rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((value > 0) & (ub[index] > 0), cost[index] / value, np.inf)  # (not a column held at 0)
    cheapest = np.full(problem.n_rows, np.inf)
    np.minimum.at(cheapest, row_of, ratio)
    negative = np.zeros(problem.n_rows, dtype=bool)
    negative[row_of[value <= 0]] = True
    priced = (lo == hi) & np.isfinite(lo) & (length > 0) & ~negative & np.isfinite(cheapest)
    duals[priced] = cheapest[priced]
    bound, _, finite = _weak_dual(duals, cost, offset, lb, ub, lo, hi, index, value, row_of, None)
    return bound if finite and bound is not None else -math.inf


def _arrays(problem: Problem) -> tuple:
    """Column bounds, row bounds, cost and constant, the CSR matrix, each row's length and each
    entry's row."""
    lb, ub, _ = problem.bounds()
    lo, hi = problem.row_bounds()
    cost, offset = problem.objective()
    start, index, value = problem.matrix()
    length = np.diff(start)
    return lb, ub, lo, hi, cost, offset, start, index, value, length, np.repeat(np.arange(problem.n_rows), length)


def _add(h: Any, rows: np.ndarray, start: np.ndarray, index: np.ndarray, value: np.ndarray,
         lo: np.ndarray, hi: np.ndarray) -> None:
    """Add `rows` of the CSR matrix to `h` (appended: HiGHS numbers them after the ones it has)."""
    if not len(rows):
        return
    lengths = start[rows + 1] - start[rows]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    take = np.repeat(start[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
    h.addRows(len(rows), lo[rows], hi[rows], int(offsets[-1]), offsets[:-1].astype(np.int32),
              index[take].astype(np.int32), value[take])


def _weak_dual(duals: np.ndarray, cost: np.ndarray, offset: float, lb: np.ndarray, ub: np.ndarray,
               lo: np.ndarray, hi: np.ndarray, index: np.ndarray, value: np.ndarray, row_of: np.ndarray,
               objective: float | None) -> tuple[float | None, np.ndarray, bool]:
    """L(π) of the module docstring, the reduced costs d, and whether L(π) is finite (else the
    LP's `objective`, when it was solved to optimality, stands in for it)."""
    pi = np.where((duals > 0) & ~np.isfinite(lo), 0.0, duals)
    pi = np.where((pi < 0) & ~np.isfinite(hi), 0.0, pi)
    reduced = cost - np.bincount(index, weights=value * pi[row_of], minlength=len(cost))
    with np.errstate(invalid="ignore"):  # 0·inf where a reduced cost is 0 on an infinite bound
        rows = np.where(pi > 0, pi * np.where(np.isfinite(lo), lo, 0.0), pi * np.where(np.isfinite(hi), hi, 0.0))
        columns = np.where(reduced >= 0, reduced * lb, reduced * ub)  # each column at its cheaper bound
        columns = np.where(reduced == 0, 0.0, columns)
    bound = offset + float(rows.sum()) + float(columns.sum())
    if math.isfinite(bound):
        return bound, reduced, True
    return objective, reduced, False


def _ended(best: LPBound, status: str, rounds: int, t0: float, chosen: np.ndarray) -> LPBound:
    best.status, best.rounds, best.rows, best.seconds = status, rounds, int(chosen.sum()), time.monotonic() - t0
    return best
