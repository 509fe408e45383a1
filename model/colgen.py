"""Column generation for the generalized assignment problem: the Dantzig-Wolfe bound and plans by diving.

It applies to a GAP as `model/lagrange.py` reads it (`Shape`): every facility (agent i) open and
fixed so, integer assignments x[j,i] (job j), integer weights d[j,i] and capacities s_i. The master
LP is over packings: a packing p of agent i is a set S_p of jobs with Σ_{j∈S_p} d[j,i] ≤ s_i, cost
C_p = Σ_{j∈S_p} c[j,i]; λ_p ≥ 0 its weight:
    min Σ_p C_p·λ_p + M·Σ_j a_j
    Σ_{p∋j} λ_p + a_j = 1   (π_j)     every job once
    Σ_{p of i} λ_p ≤ 1       (μ_i ≤ 0) one packing per agent
with artificial a_j at cost M (larger than any plan) so that it is feasible from the first
column. Pricing, per agent, is an exact 0-1 knapsack by dynamic programming over the capacity:
    r_i = min_S Σ_{j∈S} (c[j,i] − π_j) − μ_i   subject to Σ_{j∈S} d[j,i] ≤ s_i
and each agent's best packing joins while r_i < 0. For any π, relaxing the job rows gives the
Lagrangian bound
    L(π) = Σ_j π_j + Σ_i min(0, min_S Σ_{j∈S} (c[j,i] − π_j))
(each agent takes one packing, the empty one included), valid for the problem; at the master's
optimum it equals the master's value: the Dantzig-Wolfe bound, at least the LP's (the LP relaxes
the knapsacks too). On Chu and Beasley's d20100 (gapd #5): 6,176.14 against the LP's 6,142.53 and
the optimum 6,185, in 1.3 s.

Diving for plans: from the master's optimum, X[i,j] = Σ_{p of i, p∋j} λ_p; every job with
X[i,j] ≥ 1 − ε is fixed to agent i, and so is the fractional pair with the largest X[i,j] (times
1 + `NOISE`·u, u uniform in [0, 1), after the first dive, so that the dives differ). Fixing j to i
shuts every column of another agent holding j (its upper bound to 0), keeps j out of the other
agents' pricing and in agent i's. Column generation runs again and the dive goes on until every
job is fixed (a plan) or the master needs an artificial (a dead end). Every column stays in the
one master: the dives share them, and the next dive starts from the root's bounds.

The guide (`column_guide`) gives the kernel search (`solvers/kernel.py`) the bound (rounded up
where every cost is an integer: so is every plan's), the best plan as its start, the pairs of the
best plans as its kernel, best first until they number about `KERNEL_PAIRS` per job (its first
restricted MIP merges them: on d20100, 245 pairs from dives of 6,199 and more gave 6,193 in 59 s,
where the ten best dives' 203 pairs gave 6,199; one run each) and the reduced costs c[j,i] − π_j
at the best Lagrangian π to rank the others. Column generation at the root has `ROOT_SHARE` of the
time at most, the dives the rest, until `PATIENCE` in a row bring no plan into the `ELITE` best.
Where no dive ends in a plan, `guide` falls back on the Lagrangian relaxation's repaired plan.

The merge is only as good as the dives' plans, and on d20100 more of them, and more varied ones,
made it better (one run each, 2 cores, HiGHS 1.16): with 300 s of dives the best plan and the
merge of the best ones' pairs were 6,193 and 6,193 at `NOISE` 0.3, 6,191 and 6,191 at 0.6, 6,190
and 6,190 at 1.2; with 150 s of dives at 1.2, 6,193. Neighbourhoods around the 6,193 plan found
nothing better: 40 of 7 agents and 40 of 10 (240 s each way), 178 MIPs over 30 random jobs and
108 over 30 jobs drawn where the best plans disagree (200 s each way), and a local branching MIP
(10 jobs may move) that HiGHS could not solve in 60 s. Hence half of the search's time (`SHARE`)
and a patience of 60 dives: in the whole kernel search at 600 s, the first merge gave 6,190
and 6,188 (`NOISE` 1.2, two runs) and 6,191 (0.6), at 300 s, where a quarter of the time, a patience of 20 and `NOISE`
0.3 or 1.2 gave 6,193.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import highspy
import numpy as np

from model import lagrange
from model.lagrange import Shape
from solvers.control import CONTROL
from solvers.kernel import Guide
from solvers.problem import Problem
from solvers.silent import new_highs

LOG = logging.getLogger(__name__)
NOISE = 1.2  # the fractional pair a dive fixes: the largest X·(1 + NOISE·u); see the docstring
ELITE = 10  # best plans: a dive whose plan is not among them is fruitless
KERNEL_PAIRS = 2.4  # pairs per job, about, of the best plans together: the kernel
PATIENCE = 60  # dives in a row whose plan does not join the elite end the dives
EPS = 1e-6
MAX_ROUNDS = 500  # pricing rounds per master solve
SMOOTHING = 0.7
ROOT_SHARE = 0.5  # of the guide's time, at most, for column generation at the root (the rest: dives)
SHARE = 0.5  # of the search's time limit, for column generation and the dives
UNLIMITED = 120.0  # seconds for them when the search has no time limit
MAX_CAPACITY = 100_000  # the dynamic programme's table is jobs × (capacity + 1) booleans per agent


class Master:
    """The master LP in one HiGHS instance; columns only ever join (a dive shuts them by bounds)."""

    def __init__(self, cost: np.ndarray) -> None:
        self.cost = cost  # [agent, job]; inf where not allowed
        m, n = cost.shape
        self.m, self.n = m, n
        finite = np.isfinite(cost)
        self.big = float(np.abs(np.where(finite, cost, 0.0)).max(initial=0.0) * n + 1.0)
        self.h = new_highs()
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("simplex_strategy", 4)  # primal: a new column keeps the basis primal feasible
        self.h.setOptionValue("presolve", "off")  # else each solve after a new column starts again without the basis
        inf = highspy.kHighsInf
        self.h.addRows(n, np.ones(n), np.ones(n), 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32),
                       np.zeros(0))
        self.h.addRows(m, np.full(m, -inf), np.ones(m), 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32),
                       np.zeros(0))
        # the artificials, one per job
        self.h.addCols(n, np.full(n, self.big), np.zeros(n), np.full(n, inf), n, np.arange(n, dtype=np.int32),
                       np.arange(n, dtype=np.int32), np.ones(n))
        self.agent = np.zeros(0, dtype=np.int64)  # of each packing column (after the n artificials)
        self.members = np.zeros((0, n), dtype=bool)
        self.used = 0
        self.seen: set[bytes] = set()

    def add(self, agent: int, jobs: np.ndarray) -> bool:
        """Add the packing (agent, jobs); False if it is there already."""
        row = np.zeros(self.n, dtype=bool)
        row[jobs] = True
        key = agent.to_bytes(4, "little") + np.packbits(row).tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        if self.used == len(self.agent):
            grow = max(256, len(self.agent))
            self.agent = np.concatenate([self.agent, np.zeros(grow, dtype=np.int64)])
            self.members = np.vstack([self.members, np.zeros((grow, self.n), dtype=bool)])
        self.agent[self.used], self.members[self.used] = agent, row
        self.used += 1
        idx = np.concatenate([np.sort(jobs), [self.n + agent]]).astype(np.int32)
        self.h.addCol(float(self.cost[agent, jobs].sum()), 0.0, highspy.kHighsInf, len(idx), idx, np.ones(len(idx)))
        return True

    def solve(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """The LP's value, π (jobs), μ (agents) and the packings' λ."""
        self.h.run()
        sol = self.h.getSolution()
        duals = np.asarray(sol.row_dual)
        values = np.asarray(sol.col_value)
        return self.h.getInfo().objective_function_value, duals[:self.n], duals[self.n:], values

    def shut(self, fixed: np.ndarray) -> None:
        """Upper bound 0 on every packing that holds a job fixed to another agent; ∞ on the others."""
        agent, members = self.agent[:self.used], self.members[:self.used]
        other = (fixed[None, :] >= 0) & (fixed[None, :] != agent[:, None])
        bad = (members & other).any(axis=1)
        cols = np.arange(self.n, self.n + self.used, dtype=np.int32)
        self.h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.where(bad, 0.0, highspy.kHighsInf))


def knapsack(profit: np.ndarray, weight: np.ndarray, capacity: int) -> tuple[float, np.ndarray]:
    """max Σ profit·z subject to Σ weight·z ≤ capacity, z ∈ {0,1}^k (integer weights): the value and
    the items chosen. Dynamic programme over the capacity: best[w] is the best value with weight ≤ w."""
    best = np.zeros(capacity + 1)
    keep = np.zeros((len(profit), capacity + 1), dtype=bool)
    for k, (p, w) in enumerate(zip(profit, weight, strict=True)):
        if w > capacity:
            continue
        cand = np.full(capacity + 1, -np.inf)
        cand[w:] = best[:capacity + 1 - w] + p
        take = cand > best + 1e-12
        best = np.where(take, cand, best)
        keep[k] = take
    chosen = []
    w = capacity
    for k in range(len(profit) - 1, -1, -1):
        if keep[k, w]:
            chosen.append(k)
            w -= int(weight[k])
    return float(best[capacity]), np.array(chosen[::-1], dtype=np.int64)


class Dives:
    """Column generation on the master and dives from its root (see the module's docstring)."""

    def __init__(self, cost: np.ndarray, weight: np.ndarray, capacity: np.ndarray, seed: int = 0) -> None:
        self.master = Master(cost)
        self.rng = np.random.default_rng(seed)
        self.cost, self.weight = cost, weight
        self.capacity = capacity.astype(np.int64)
        self.allowed = np.isfinite(cost) & (weight <= capacity[:, None])

    def price(self, pi: np.ndarray, fixed: np.ndarray) -> tuple[float, list[tuple[int, np.ndarray, float]]]:
        """Each agent's best packing under π and the fixings: the Lagrangian term Σ_i min(0, ·) and
        the packings with their Σ (c − π)."""
        m = self.master
        total, found = 0.0, []
        for i in range(m.m):
            forced = np.flatnonzero(fixed == i)
            free = np.flatnonzero((fixed < 0) & self.allowed[i])
            profit = pi[free] - self.cost[i, free]
            keep = profit > EPS
            free, profit = free[keep], profit[keep]
            room = int(self.capacity[i] - self.weight[i, forced].sum())
            if room < 0:
                return -np.inf, []  # the fixings overfill the agent: nothing is feasible
            value, chosen = knapsack(profit, self.weight[i, free].astype(np.int64), room)
            jobs = np.concatenate([forced, free[chosen]])
            reduced = float((self.cost[i, jobs] - pi[jobs]).sum())
            total += min(0.0, reduced)
            found.append((i, jobs, reduced))
        return total, found

    def generate(self, fixed: np.ndarray, deadline: float, smoothing: float = 0.0
                 ) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Column generation to the master's optimum under the fixings: (its value, the best
        Lagrangian bound and its π, λ). Stopped by the deadline, the value is an upper bound on the
        master's optimum.

        With `smoothing` α > 0, pricing is at π_s = α·π_c + (1 − α)·π as well (Wentges), π_c the
        duals of the best L so far: at the root the master's duals jump between the vertices of a
        degenerate LP, and a column priced at them improves the bound little (on gapd #2, 5 agents
        × 200 jobs, the root had not converged after 500 rounds and 63 s without it). Each round
        adds the columns of both pricings that have a negative reduced cost at π; none is the
        optimum. A dive's master starts near its optimum and prices at π alone."""
        m = self.master
        # the first center: every job at its cheapest agent (L is then the sum of those costs)
        center = np.where(self.allowed, self.cost, np.inf).min(axis=0)
        center = np.where(np.isfinite(center), center, 0.0)
        bound = -np.inf
        for _ in range(MAX_ROUNDS):
            value, pi, mu, lam = m.solve()
            added = 0
            for at in ((smoothing * center + (1 - smoothing) * pi, pi) if smoothing else (pi,)):
                term, found = self.price(at, fixed)
                if float(at.sum()) + term > bound:
                    bound, center = float(at.sum()) + term, at
                for i, jobs, _ in found:
                    if float((self.cost[i, jobs] - pi[jobs]).sum()) - mu[i] < -EPS and m.add(i, jobs):
                        added += 1
            if not added or time.monotonic() > deadline or CONTROL.stop.is_set():
                break
        return value, bound, center, lam

    def values(self, lam: np.ndarray) -> np.ndarray:
        """X[i, j] = Σ_{p of i, p∋j} λ_p."""
        m = self.master
        weights = lam[m.n:]  # columns added after this λ (the last round's, at the limit) are at 0
        on = weights > EPS
        x = np.zeros((m.m, m.n))
        np.add.at(x, m.agent[:len(weights)][on], m.members[:len(weights)][on] * weights[on, None])
        return x

    def dive(self, deadline: float, noise: float) -> np.ndarray | None:
        """One dive from the root: each job's agent, or None at a dead end or the deadline."""
        m = self.master
        fixed = np.full(m.n, -1, dtype=np.int64)
        while True:
            m.shut(fixed)
            _, _, _, lam = self.generate(fixed, deadline)
            if (lam[:m.n] > EPS).any() or time.monotonic() > deadline or CONTROL.stop.is_set():
                return None
            x = self.values(lam)
            whole = x >= 1 - EPS
            agents, jobs = np.nonzero(whole)
            fixed[jobs] = agents
            if (fixed >= 0).all():
                return fixed
            free = x * (fixed < 0)[None, :]
            score = free * (1.0 + noise * self.rng.random(free.shape))
            if score.max() <= EPS:
                return None
            i, j = np.unravel_index(int(np.argmax(score)), score.shape)
            fixed[j] = i


def matrices(sh: Shape) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Cost and weight [agent, job] (inf where the pair does not exist) and the capacities, or None
    if this is not a GAP with integer weights the dynamic programme can take."""
    if (sh.y_low < 1).any() or not len(sh.xcols):
        return None
    if not np.allclose(sh.d, np.round(sh.d)) or sh.s.max() > MAX_CAPACITY:
        return None
    m = len(sh.s)
    cost = np.full((m, sh.n_cust), np.inf)
    weight = np.zeros((m, sh.n_cust), dtype=np.int64)
    cost[sh.fac, sh.cust] = sh.c
    weight[sh.fac, sh.cust] = np.round(sh.d).astype(np.int64)
    return cost, weight, np.floor(sh.s + 1e-9)


def guide(problem: Problem, limit: float | None) -> Guide | None:
    """The kernel search's guide (`Problem.guide`) for a problem of `Shape`, given the search's time
    limit: column generation and its dives (`SHARE` of the limit) where the problem is a GAP with
    integer assignments and weights, else the Lagrangian relaxation (`lagrange.SHARE` of it); None
    where the problem has neither structure."""
    sh = lagrange.shape(problem)
    if sh is None:
        return None
    _, _, integer = problem.bounds()
    relax_seconds = lagrange.SHARE * limit if limit else lagrange.UNLIMITED
    found = column_guide(sh, problem.n_cols, SHARE * limit if limit else UNLIMITED) if integer[sh.xcols].all() else None
    if found is not None and found.start is not None:
        return found
    fallback = lagrange.relax(sh, problem.n_cols, relax_seconds)
    if found is None:  # not a GAP with integer assignments and weights
        return fallback
    # No dive ended in a plan: the Lagrangian's repaired plan and support, under the better bound.
    return replace(fallback, bound=max(found.bound, fallback.bound),
                   message=f"{found.message}; {fallback.message}")


def column_guide(sh: Shape, n_cols: int, seconds: float, seed: int = 0) -> Guide | None:
    """The Dantzig-Wolfe bound and the dives' plans (for `seconds`) as the kernel search's guide;
    None if `sh` is not such a GAP."""
    mats = matrices(sh)
    if mats is None:
        return None
    start = time.monotonic()
    deadline = start + seconds
    dives = Dives(*mats, seed=seed)
    root_fixed = np.full(sh.n_cust, -1, dtype=np.int64)
    value, bound, pi, lam = dives.generate(root_fixed, start + ROOT_SHARE * seconds, SMOOTHING)
    LOG.debug("column generation: root %.10g, bound %.10g, %d columns, %.1f s", value, bound, dives.master.used,
              time.monotonic() - start)
    const = sh.const + float(sh.f.sum())  # every facility open
    if math.isfinite(bound) and np.all(sh.c == np.round(sh.c)) and const == round(const):
        # every plan's cost is an integer: so is the optimum, at least ⌈L(π)⌉ (less round-off)
        bound = math.ceil(bound + const - 1e-6 * max(1.0, abs(bound + const))) - const
    plans: dict[bytes, tuple[float, np.ndarray]] = {}
    tried = stale = 0
    while time.monotonic() < deadline and not CONTROL.stop.is_set() and stale < PATIENCE:
        plan = dives.dive(deadline, NOISE if tried else 0.0)
        LOG.debug("dive %d: %s at %.1f s", tried, "dead end" if plan is None else
                  float(dives.cost[plan, np.arange(sh.n_cust)].sum()), time.monotonic() - start)
        tried += 1
        stale += 1
        if plan is None or plan.tobytes() in plans:
            continue
        cost = float(dives.cost[plan, np.arange(sh.n_cust)].sum())
        elite = sorted(c for c, _ in plans.values())[:ELITE]
        if len(elite) < ELITE or cost < elite[-1]:
            stale = 0
        plans[plan.tobytes()] = (cost, plan)
        if cost <= bound + 1e-9 * max(1.0, abs(bound)):
            break  # proven optimal
    dives.master.shut(root_fixed)
    pair_of = np.full((len(sh.s), sh.n_cust), -1, dtype=np.int64)
    pair_of[sh.fac, sh.cust] = np.arange(len(sh.xcols))
    support = np.zeros(n_cols, dtype=bool)
    support[sh.ycols] = True
    elite = sorted(plans.values(), key=lambda item: item[0])
    for _, plan in elite:  # the best plans' pairs, up to `KERNEL_PAIRS` per job
        if support[sh.xcols].sum() >= KERNEL_PAIRS * sh.n_cust:
            break
        support[sh.xcols[pair_of[plan, np.arange(sh.n_cust)]]] = True
    reduced = np.zeros(n_cols)
    reduced[sh.xcols] = sh.c - pi[sh.cust]
    start_values = None
    if elite:
        start_values = np.zeros(n_cols)
        start_values[sh.xcols[pair_of[elite[0][1], np.arange(sh.n_cust)]]] = 1.0
        start_values[sh.ycols] = 1.0
    groups = np.full(n_cols, -1, dtype=np.int64)
    owners = np.full(n_cols, -1, dtype=np.int64)
    groups[sh.xcols], owners[sh.xcols] = sh.fac, sh.cust
    groups[sh.ycols] = np.arange(len(sh.ycols))
    best = f"{elite[0][0] + const:.10g}" if elite else "none"
    return Guide(bound + const, support, reduced, start_values,
                 f"Dantzig-Wolfe bound {bound + const:.10g} ({dives.master.used} columns, "
                 f"{time.monotonic() - start:.1f} s); {len(plans)} plans from {tried} dives, the best {best}",
                 groups, owners)
