"""A Lagrangian relaxation of facility location and generalized assignment, with a repair heuristic.

It applies to a problem of this shape only (every OR-Library cap, Holmberg and GAP import), read
off the assembled blocks: columns x[j,i] (one module each, j a customer, i a facility) and y[i];
rows `assign` Σ_i x[j,i] = 1, `capacity` Σ_j d[j,i]·x[j,i] ≤ s_i·y_i, and optionally the strong
`link` x[j,i] ≤ y_i; no other rows, nothing staying at its origin. Costs c[j,i] on x, f_i on y.

Relaxing the assignment rows with multipliers λ_j (free: they are equalities) leaves
    L(λ) = Σ_j λ_j + min { Σ_i (f_i + g_i(λ))·y_i : Σ_i s_i·y_i ≥ D, y_i ∈ {l_i, 1} }
    g_i(λ) = min { Σ_j (c[j,i] − λ_j)·x[j,i] : Σ_j d[j,i]·x[j,i] ≤ s_i, 0 ≤ x ≤ 1 }
where D = Σ_j min_i d[j,i] (any plan serves at least that much, so any plan opens that much
capacity: a valid row the LP lacks) and l_i the lower bound of y_i (1 for a facility already open).
Every L(λ) is a lower bound on the optimum (weak duality). g_i is a continuous knapsack, solved
greedily by the ratio (c − λ)/d; the cover over y is solved exactly when all capacities are equal
(open the cheapest ⌈D'/s⌉) and by its LP otherwise (still a lower bound). Without the cover row this
bound is the strong LP bound; with it, it can be above.

λ follows the subgradient g_j = 1 − Σ_i x[j,i]·y_i with Polyak's step
    λ ← λ + θ·(U − L(λ))·g / ‖g‖²,
θ halved after `PATIENCE` iterations without a better L, U the best plan found so far (or L + 2 %
before there is one).

Repair: from the facilities the relaxation opens (adding the cheapest others while their capacity
is short of the demand), each customer, the largest first, goes to the open facility with the
lowest c − λ that still has room (opening the cheapest closed one that fits if none has).

`relax` gives the kernel search (`solvers/kernel.py`), through `colgen.guide` (the problem's guide
where it is not a GAP), its start: the bound, the columns used by the
relaxation in its last iterations, the Lagrangian reduced costs c[j,i] − λ_j (and f_i + g_i for y),
and the best repaired plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from solvers.control import CONTROL
from solvers.kernel import Guide
from solvers.problem import Problem

SHARE = 0.05  # of the kernel search's time limit, at most, for the relaxation (`colgen.guide`)
UNLIMITED = 60.0  # seconds for it when the search has no time limit
PATIENCE = 20
LAST = 30  # iterations whose support goes into the kernel
MAX_ITERATIONS = 3000


@dataclass
class Shape:
    """The facility-location / GAP structure of a problem, over its pairs (x columns)."""

    xcols: np.ndarray
    cust: np.ndarray  # customer (assignment row) of each pair
    fac: np.ndarray  # facility of each pair
    c: np.ndarray
    d: np.ndarray
    ycols: np.ndarray
    f: np.ndarray
    s: np.ndarray
    y_low: np.ndarray  # 1 where the facility is already open
    n_cust: int
    const: float

    @property
    def need(self) -> float:
        least = np.full(self.n_cust, np.inf)
        np.minimum.at(least, self.cust, self.d)
        return float(least.sum())


def shape(problem: Problem) -> Shape | None:
    """The structure above, or None if the problem has any other row or variable."""
    used_rows = {n for n, b in problem.constraints.items() if len(b)}
    used_vars = {n for n, b in problem.variables.items() if len(b) and (b.ub > b.lb).any() | (b.lb != 0).any()}
    if problem.elastic or not used_rows <= {"assign", "link", "capacity"} or not {"assign", "capacity"} <= used_rows:
        return None
    if not used_vars <= {"x", "y"} or "x" not in used_vars or "y" not in problem.variables:
        return None
    x, y = problem.variables["x"], problem.variables["y"]
    if len(x.keys) != 2 or len(y.keys) != 1 or (x.ub != 1).any() or (x.lb != 0).any():
        return None
    assign, cap = problem.constraints["assign"], problem.constraints["capacity"]
    if len(cap) != len(y) or (assign.lo != 1).any() or (assign.hi != 1).any() or (cap.hi != 0).any():
        return None
    cost, const = problem.objective()
    xcols = x.cols
    # the assignment row of each pair
    _, ub, _ = problem.bounds()
    in_x = (assign.cols >= x.start) & (assign.cols < x.start + len(x))
    if (ub[assign.cols[~in_x]] != 0).any() or (assign.vals[in_x] != 1).any() or in_x.sum() != len(x):
        return None  # the rows may hold `stay` columns fixed at 0, nothing else
    cust = np.empty(len(x), dtype=np.int64)
    cust[assign.cols[in_x] - x.start] = assign.rows[in_x]
    # capacity rows: −s on the facility's y, d on its pairs
    on_y = (cap.cols >= y.start) & (cap.cols < y.start + len(y))
    if on_y.sum() != len(y):
        return None
    fac_of_row = np.empty(len(cap), dtype=np.int64)
    fac_of_row[cap.rows[on_y]] = cap.cols[on_y] - y.start
    s = np.empty(len(y))
    s[fac_of_row[cap.rows[on_y]]] = -cap.vals[on_y]
    pair = ~on_y & (cap.cols >= x.start) & (cap.cols < x.start + len(x))
    if pair.sum() + on_y.sum() != len(cap.cols):
        return None
    d = np.zeros(len(x))
    fac = np.full(len(x), -1, dtype=np.int64)
    d[cap.cols[pair] - x.start] = cap.vals[pair]
    fac[cap.cols[pair] - x.start] = fac_of_row[cap.rows[pair]]
    park_index = {p: n for n, p in enumerate(y.keys[0])}
    missing = fac < 0  # a pair using nothing: its facility from its label
    if missing.any():
        fac[missing] = [park_index[p] for p in x.keys[1][missing]]
    if (s <= 0).any() or (d < 0).any():
        return None
    return Shape(xcols, cust, fac, cost[xcols], d, y.cols, cost[y.cols], s, y.lb.copy(), len(assign), const)


def relax(sh: Shape, n_cols: int, seconds: float) -> Guide:
    """Subgradient optimisation of L(λ); the best bound, support, reduced costs and repaired plan."""
    start = time.monotonic()
    lam = np.full(sh.n_cust, np.inf)
    np.minimum.at(lam, sh.cust, sh.c)  # every customer at its cheapest facility: L = a first bound
    best_l, best_lam = -np.inf, lam.copy()
    best_plan, best_cost = None, np.inf
    theta, stall = 2.0, 0
    recent: list[np.ndarray] = []
    for it in range(MAX_ITERATIONS):
        value, xval, yval, v = _lagrangian(sh, lam)
        if it == 0 or value > best_l + 1e-9 * max(1.0, abs(best_l)):
            best_l, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= PATIENCE:
                theta, stall = theta / 2, 0
        used = xval * yval[sh.fac] > 1e-9
        recent = [*recent[-(LAST - 1):], used]
        if it % 10 == 0:
            plan = repair(sh, lam, yval)
            if plan is not None:
                cost = plan_cost(sh, *plan)
                if cost < best_cost:
                    best_cost, best_plan = cost, plan
        if theta < 1e-5 or time.monotonic() - start > seconds or CONTROL.stop.is_set():
            break
        if best_cost < np.inf and best_cost - best_l <= 1e-9 * abs(best_cost):
            break
        grad = 1.0 - np.bincount(sh.cust, weights=xval * yval[sh.fac], minlength=sh.n_cust)
        norm = float(grad @ grad)
        if norm < 1e-12:
            break
        target = best_cost if best_cost < np.inf else best_l + 0.02 * abs(best_l) + 1.0
        lam = lam + theta * max(target - value, 1e-9 * abs(value)) / norm * grad
    # the reduced costs and support at the best multipliers
    _, xval, yval, v = _lagrangian(sh, best_lam)
    support = np.zeros(n_cols, dtype=bool)
    for used in recent:
        support[sh.xcols[used]] = True
    support[sh.xcols[xval * yval[sh.fac] > 1e-9]] = True
    support[sh.ycols[yval > 1e-9]] = True
    support[sh.ycols[np.unique(sh.fac[support[sh.xcols]])]] = True
    reduced = np.zeros(n_cols)
    reduced[sh.xcols] = sh.c - best_lam[sh.cust]
    reduced[sh.ycols] = v
    start_values = None
    if best_plan is not None:
        start_values = np.zeros(n_cols)
        where, opened = best_plan
        start_values[sh.xcols[where]] = 1.0
        start_values[sh.ycols[opened]] = 1.0
    groups = np.full(n_cols, -1, dtype=np.int64)
    owners = np.full(n_cols, -1, dtype=np.int64)
    groups[sh.xcols], owners[sh.xcols] = sh.fac, sh.cust
    groups[sh.ycols] = np.arange(len(sh.ycols))
    return Guide(float(best_l), support, reduced, start_values,
                 f"Lagrangian bound {best_l:.10g} after {it + 1} iterations", groups, owners)


def _lagrangian(sh: Shape, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """L(λ), the knapsacks' x, the chosen y, and f_i + g_i per facility."""
    cbar = sh.c - lam[sh.cust]
    neg = cbar < 0
    ratio = np.where(neg, cbar / np.maximum(sh.d, 1e-12), np.inf)
    order = np.lexsort((ratio, sh.fac))
    order = order[neg[order]]
    fo = sh.fac[order]
    dd = sh.d[order]
    cum = np.cumsum(dd)
    head = np.ones(len(order), dtype=bool)
    head[1:] = fo[1:] != fo[:-1]
    prior = cum - dd
    before = prior - prior[head][np.cumsum(head) - 1] if len(order) else prior  # the facility's use before it
    room = sh.s[fo] - before
    take = np.clip(np.where(dd > 0, room / np.maximum(dd, 1e-12), np.where(room >= 0, 1.0, 0.0)), 0.0, 1.0)
    xval = np.zeros(len(sh.c))
    xval[order] = take
    g = np.bincount(sh.fac, weights=cbar * xval, minlength=len(sh.s))
    v = sh.f + g
    yval = _cover(sh, v)
    value = float(lam.sum() + v @ yval + sh.const)
    return value, xval, yval, v


def _cover(sh: Shape, v: np.ndarray) -> np.ndarray:
    """min v·y subject to Σ s·y ≥ D, y ∈ {l, 1}: exactly when capacities are equal, else its LP."""
    y = np.where((v < 0) | (sh.y_low > 0), 1.0, 0.0)
    short = sh.need - float(sh.s @ y)
    if short <= 1e-9:
        return y
    closed = np.flatnonzero(y == 0)
    if np.all(sh.s == sh.s[0]):
        k = int(np.ceil(short / sh.s[0] - 1e-9))
        y[closed[np.argsort(v[closed], kind="stable")[:k]]] = 1.0
        return y
    for i in closed[np.argsort(v[closed] / sh.s[closed], kind="stable")]:
        y[i] = min(1.0, short / sh.s[i])
        short -= y[i] * sh.s[i]
        if short <= 1e-9:
            break
    return y


def repair(sh: Shape, lam: np.ndarray, yval: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A plan from the relaxation's facilities: (pairs used, facilities open), or None if the greedy
    assignment finds no room for some customer."""
    n_fac = len(sh.s)
    opened = (yval > 0.5) | (sh.y_low > 0)
    demand = np.zeros(sh.n_cust)
    np.maximum.at(demand, sh.cust, sh.d)
    if sh.s[opened].sum() < demand.sum():
        fixed_per_cap = sh.f / sh.s
        for i in np.argsort(fixed_per_cap, kind="stable"):
            if sh.s[opened].sum() >= demand.sum():
                break
            opened[i] = True
    left = sh.s.copy()
    cbar = sh.c - lam[sh.cust]
    by_cust = np.argsort(sh.cust, kind="stable")
    bounds = np.searchsorted(sh.cust[by_cust], np.arange(sh.n_cust + 1))
    chosen = np.full(sh.n_cust, -1, dtype=np.int64)
    for j in np.argsort(-demand, kind="stable"):
        pairs = by_cust[bounds[j]:bounds[j + 1]]
        fits = left[sh.fac[pairs]] >= sh.d[pairs] - 1e-9
        ok = pairs[fits & opened[sh.fac[pairs]]]
        if not len(ok):
            ok = pairs[fits]
            if not len(ok):
                return None
            k = ok[np.argmin(sh.c[ok] + sh.f[sh.fac[ok]])]
            opened[sh.fac[k]] = True
        else:
            k = ok[np.argmin(cbar[ok])]
        chosen[j] = k
        left[sh.fac[k]] -= sh.d[k]
    used_fac = np.zeros(n_fac, dtype=bool)
    used_fac[sh.fac[chosen]] = True
    return chosen, used_fac | (sh.y_low > 0)


def plan_cost(sh: Shape, where: np.ndarray, opened: np.ndarray) -> float:
    return float(sh.c[where].sum() + sh.f[opened].sum() + sh.const)
