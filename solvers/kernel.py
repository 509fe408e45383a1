"""Kernel search around a relaxation: a matheuristic for large MIPs, on any `Problem`.

After Angelelli, Mansini and Speranza (2010) and Guastaroba and Speranza (2012, 2014: kernel search
for the capacitated facility location problem, multi- and single-source). Let C be the columns with
l_j = 0 < u_j (the ones a restriction may set to 0) of the placement block x where the problem has
one (of every block where it has none), less the enablers (below); every other column is never
restricted.

0. A given plan (the construction heuristic's) within the target gap of the cheapest-place bound
   (`solvers/lpbound.cheapest_bound`: each module where it costs least, every other row forgotten;
   milliseconds at a million pairs) is proven: no relaxation, no restricted MIP, no full MIP (its
   duals, where they are asked for, come from the MIP with the plan's integer decisions held).
1. A relaxation gives a valid lower bound z, a solution and an order of the columns. By default
   the LP relaxation, by row generation (`solvers/lpbound.py`): z = z_LP (as the weak-duality
   bound of its duals π), and reduced costs  d_j = c_j − Σ_r A[r,j]·π_r. Stopped by the time
   limit before its first round ends, the search starts from the given plan alone.
   Where the model knows the problem's structure, `Problem.guide` gives them instead (a `Guide`:
   the Lagrangian relaxation of facility location in `model/lagrange.py`, whose bound is at
   least the LP's and which takes seconds where the LP of a capb file takes minutes; for a GAP,
   column generation in `model/colgen.py`, whose Dantzig-Wolfe bound is at least the Lagrangian's,
   with plans from its dives and the pairs of the best ones as the kernel), and a first plan.
2. Kernel K = the columns of C positive in the relaxation's solution (with a guide, also those of
   its plan and of the given one; from the LP, a given plan, the heuristic's, is the incumbent
   only, and its columns join through the buckets). The others are ranked within
   their equality row (the first one they are in: a customer's assignment row) by d_j, and taken in
   the order (rank, d_j): each bucket gives every customer its next options. The first bucket is as
   large as K (at least `MIN_BUCKET`).
2b. Where the guide knows the facilities, some facility is free and the placements are continuous
   (multi-source facility location), first a search over the set of facilities
   (`_facility_neighbourhoods`): MIPs over the facilities open in the incumbent and
   `FACILITY_EXTRA` closed ones (drawn from the three times as many that the guide's reduced cost
   f_i + g_i(λ) ranks cheapest), with every assignment column of those facilities and none of the
   others; each starts from the incumbent, so only a better plan changes it, and
   `FACILITY_PATIENCE` in a row without a gain end the step. A bucket adds
   columns customer by customer, ranked by the relaxation; the set of facilities changes there only
   when enough of a closed facility's columns happen to join. Here it changes by whole facilities:
   on capb at 7000 (multi-source) the search reached the optimum, 13,198,556.43, in its third MIP
   (29 s from the start; 16 facilities, 16,000 columns, 4–9 s each), where the buckets alone
   stopped at 13,256,342 after 300 s and 24 MIPs (one run each). Its plan is the buckets'
   incumbent. Single-source problems reach it through relax and fix (below); their own
   neighbourhoods, over binary assignments, are step 3b's.
3. Solve the MIP restricted to K ("u_j := 0 for j ∈ C ∖ K"; HiGHS's presolve drops those columns),
   then the MIPs restricted to K and the buckets, each with the incumbent as MIP start where it
   fits the restriction (HiGHS prunes against it: only an improvement changes the plan; a start
   outside it would only cost HiGHS a repair search) and at most a third of the time left (at least
   `SUB_LIMIT` s or a tenth of the whole). While HiGHS solves them to optimality the buckets
   accumulate (K ∪ B_1 ∪ … ∪ B_b: every customer's next options together), the next one twice as
   large when this one took under a quarter of its time (an infeasible one, short of columns, counts
   as solved); once one is stopped by its time limit, each MIP has K and one bucket, half as large.
   The columns of a bucket that an improved plan uses join K. A pass over the buckets that
   improved nothing ends this step (an improving one starts another).
   Where the guide knows the facilities (`Guide.groups`, `Guide.owners`: facility location and
   GAP) and the placements are integer (single-source, GAP), the buckets leave
   `NEIGHBOURHOOD_SHARE` of the time to
3b. a large-neighbourhood search: MIPs over a few related facilities and the customers they serve,
   everything else fixed at the incumbent (`_neighbourhoods`). A bucket adds columns to every
   customer at once; a neighbourhood reassigns a few facilities' customers among themselves (and
   opens or closes them), which is the move a single-source plan or a GAP needs and the buckets'
   MIPs, over a thousand binary assignments, too often cannot finish.
4. With the time left (at least `FULL_SHARE` of it), the full MIP from the incumbent: HiGHS may
   improve it and proves a bound on the whole problem. A plan the bound so far proves skips it; its
   duals, where asked for, come from the MIP with its integer decisions held.

Relax and fix, first, where a guide applies, the placements are integer and some enabler is free (a
single-source facility location: x[j,i] ∈ {0,1}, y[i] free). The same search on the problem with
the placements continuous (the multi-source problem; `RELAX_SHARE` of the time at most) chooses
the enablers; then the MIP with every enabler fixed at that choice (`FIX_SHARE` at most: an
assignment problem over the chosen facilities) gives the first plan, whose columns join the kernel.
The relaxed problem's bound holds for the whole problem (it has every plan of it). Why: on capb at
7000 the multi-source optimum's eight facilities carry the published single-source optimum,
13,199,213.19 (found in 3.8 s once they are fixed), where the search over the single-source problem
alone ended 0.66 % above it at 600 s; the multi-source problem's restricted MIPs are solved where
the single-source ones, over a thousand binary assignments, stall. The step is only as good as the
multi-source plan its share of the time finds: before the facility neighbourhoods (step 2b) that one
ended 0.44 % above the multi-source optimum on capb at 7000, and so did the single-source plan; with
them the multi-source search reaches its optimum at 31 s and the single-source plan is the
published optimum at 254 s (one run each).

Enablers. A row  a·x_j − b·y_k ≤ 0  (a, b > 0, x_j, y_k ≥ 0, two entries) says x_j > 0 needs
y_k > 0: the strong link x[i,p] ≤ x_max·y[p]. The y_k are few (the facilities) and never
restricted; a column entering a bucket needs nothing else.

A plan within the target gap (`mip_gap`, 1e-4 by default) of the relaxation's bound ends the
search wherever it is reached; the full MIP then runs only if the duals are asked for.

The bound reported is the best proven one: max(z, the full MIP's dual bound of step 4); `root_bound`
is z. The restricted MIPs prove nothing about the whole problem; their dual bounds are not used.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from solvers.control import CONTROL
from solvers.lpbound import cheapest_bound, lp_bound
from solvers.options import SolveOptions
from solvers.problem import Problem, Solution
from solvers.result import SolveResult, relative_gap, version

LOG = logging.getLogger(__name__)
MIN_BUCKET = 50
MAX_STEPS = 10_000
MAX_BUCKET = 20_000
# Of the time, at most, for the LP by row generation: at this scale it is the only bound proven in
# time (the full MIP's root is not reached), and the kernel is read from it.
LP_SHARE = 0.5
NEIGHBOURHOOD_GROUPS = 5  # facilities freed together in a neighbourhood (step 3b)
NEIGHBOURHOOD_SHARE = 0.3  # of the time, kept from the buckets for the neighbourhoods (step 3b)
NEIGHBOURHOOD_LIMIT = 20.0  # seconds a neighbourhood's MIP gets at most
FACILITY_EXTRA = 8  # closed facilities a facility neighbourhood adds to the open ones (step 2b)
FACILITY_SHARE = 0.3  # of the time, at most, for the facility neighbourhoods (step 2b)
FACILITY_LIMIT = 15.0  # seconds a facility neighbourhood's MIP gets at most
FACILITY_PATIENCE = 5  # facility neighbourhoods in a row without a gain that end step 2b
RELAX_SHARE = 0.4  # of the time, at most, for the search with the placements continuous (relax and fix)
FIX_SHARE = 0.1  # of the time, at most, for the MIP with the enablers fixed at that search's choice


@dataclass
class Guide:
    """What a relaxation that knows the problem's structure (`Problem.guide`) gives the search in
    place of the LP: a valid lower bound, the columns it uses (the kernel), an order of the others
    (its reduced costs) and, if it found one, a feasible plan (column values)."""

    bound: float
    support: np.ndarray  # bool per column
    reduced: np.ndarray  # per column
    start: np.ndarray | None
    message: str = ""
    # The structure, where the guide knows one: per column its facility (group) and its customer
    # (owner), −1 for none; the neighbourhood search (step 3b) frees a few groups at a time.
    groups: np.ndarray | None = None
    owners: np.ndarray | None = None
FULL_SHARE = 0.1  # of the time, kept for the full MIP from the incumbent (step 4)
SUB_LIMIT = 30.0  # seconds a restricted MIP gets at least (a tenth of the time when that is more),
# at most a third of what is left: a hard one must not take the time the next buckets need
SUB_GAP = 1e-4  # restricted MIPs stop here (they prove nothing global; a smaller gap only costs time)
POSITIVE = 1e-6
# The block whose columns a restriction shuts, where the problem has one: the placements x[i,p]. The
# columns that follow from them (stay, sector and upgrade flags, payments) stay free: shut to the
# LP's support they made the first MIP at 1000 × 200 infeasible (a module could not stay).
CHOICES = "x"


def solve(problem: Problem, opts: SolveOptions, duals: bool = False, guided: Guide | None = None) -> SolveResult:
    """Kernel search on `problem`; loads the best plan into `problem.solution` (with the LP duals of
    the final full solve when asked for) and returns its result. `result.trace` lists (seconds,
    objective) at each improvement, from the start of the search. `guided`: the guide's result when
    the caller has it already (relax and fix hands its own to the search on the relaxed problem)."""
    from solvers import run

    start = time.monotonic()
    given = problem.start  # a plan from before (the construction heuristic's), kept if nothing beats it
    limit = _limit(opts)
    deadline = None if limit is None else start + limit
    lb, ub, integer = problem.bounds()
    trace: list[tuple[float, float]] = []

    open_ = (lb == 0) & (ub > 0)
    if CHOICES in problem.variables:  # the placements; the rest (stay, flags, payments) follow them
        choices = np.zeros(problem.n_cols, dtype=bool)
        choices[problem.cols(CHOICES)] = True
        open_ &= choices  # a mask, not np.intersect1d's sort: 1.3 s at a million pairs
    candidates = np.flatnonzero(open_)
    kernel = np.zeros(problem.n_cols, dtype=bool)
    best: np.ndarray | None = None
    best_obj = math.inf
    target = opts.mip_gap if opts.mip_gap is not None else 1e-4
    # Step 0: a given plan that every module's cheapest place already proves needs no relaxation
    # (a guide's column generation spent 110 s on a 1000 × 1000 file that HiGHS's presolve solves).
    cost, const = problem.objective()
    settled = cheapest_bound(problem) if given is not None else -math.inf
    if _proven(float(cost @ given + const) if given is not None else math.inf, settled, target):
        guided = None  # a caller's too: the plan needs none
    else:
        settled = -math.inf
        if guided is None and problem.guide is not None:
            guided = problem.guide(problem, limit)  # it takes the share of the limit it needs
    needs = _implications(problem)
    enablers = np.zeros(problem.n_cols, dtype=bool)
    enablers[needs[needs >= 0]] = True
    first_bound, first_note = -math.inf, ""
    if guided is not None and limit and integer[candidates].any() and (lb < ub)[enablers].any():
        plan, first_bound, first_note = _relax_and_fix(problem, opts, candidates, enablers & (lb < ub), guided,
                                                       limit)
        problem.start = given
        if plan is not None:
            cost, const = problem.objective()
            best, best_obj = plan, float(cost @ plan + const)
            trace.append((time.monotonic() - start, best_obj))
            kernel[candidates[best[candidates] > POSITIVE]] = True
    if settled > -math.inf:
        z_lp, reduced = settled, cost
        how = f"the given plan proven by every module's cheapest place ({settled:.10g})"
    elif guided is not None:
        z_lp, reduced, how = guided.bound, guided.reduced, guided.message
        kernel[candidates[guided.support[candidates]]] = True
        if guided.start is not None:
            cost, const = problem.objective()
            if float(cost @ guided.start + const) < best_obj:
                best, best_obj = guided.start, float(cost @ guided.start + const)
                trace.append((time.monotonic() - start, best_obj))
            kernel[candidates[guided.start[candidates] > POSITIVE]] = True
    else:
        lp = lp_bound(problem, _left(deadline, LP_SHARE * limit if limit else None))
        if lp.status in ("infeasible", "unbounded") or (lp.values is None and given is None):
            problem.solution = None
            status = lp.status if lp.status in ("infeasible", "unbounded", "interrupted") else "no_solution"
            why = {"time_limit": "the time limit was reached", "interrupted": "a signal stopped it",
                   "error": "HiGHS failed"}.get(lp.status, f"it is {lp.status}")
            return SolveResult(status, lp.status, None, lp.bound, None, time.monotonic() - start, None, opts.solver,
                               version("highspy"), f"kernel search: no plan; {why} in the LP relaxation "
                               f"(round {lp.rounds} of its row generation)", root_bound=lp.bound)
        z_lp = lp.bound if lp.bound is not None else -math.inf
        reduced = lp.reduced if lp.reduced is not None else problem.objective()[0]
        how = (f"LP bound {z_lp:.10g} ({lp.rows} of {problem.n_rows} rows, {lp.rounds} rounds, {lp.seconds:.1f} s)"
               if lp.complete else f"LP stopped ({lp.status}) " + (
                   f"at bound {z_lp:.10g}" if lp.bound is not None else "before its first bound"))
        if lp.values is not None:
            kernel[candidates[lp.values[candidates] > POSITIVE]] = True
    if given is not None:
        cost, const = problem.objective()
        if float(cost @ given + const) < best_obj:
            best, best_obj = given.copy(), float(cost @ given + const)
            trace.append((time.monotonic() - start, best_obj))
        # The LP's support alone makes the first MIP: with a heuristic plan's places added, that MIP
        # (2,211 columns instead of 1,087 at 1000 × 200) spent its whole share in HiGHS's root cuts
        # without a plan, where the LP's support alone gave 586,419 in 0.7 s and 584,440 in 4.4 s.
        # The given plan stays the incumbent; its places join through the buckets.
        if guided is not None or not kernel.any():
            kernel[candidates[given[candidates] > POSITIVE]] = True
    if (best is not None and guided is not None and guided.groups is not None and guided.owners is not None
            and (lb < ub)[enablers].any() and not integer[candidates].any() and not CONTROL.stop.is_set()
            and not _proven(best_obj, max(z_lp, first_bound), target)):
        found, tried = _facility_neighbourhoods(problem, opts, best, guided, deadline,
                                                FACILITY_SHARE * limit if limit else None, start, trace)
        if found is not None:
            cost, const = problem.objective()
            best, best_obj = found, float(cost @ found + const)
            kernel[candidates[best[candidates] > POSITIVE]] = True
        how += f"; {tried} facility neighbourhoods"
    candidates = candidates[~enablers[candidates]]  # few (the facilities), and useless restricted alone
    settled_now = best is not None and _proven(best_obj, max(z_lp, first_bound), target)
    rank = np.zeros(problem.n_cols) if settled_now else _rank(problem, candidates, reduced)  # no bucket will need it
    size = max(MIN_BUCKET, int(kernel[candidates].sum()))
    restricted = np.zeros(problem.n_cols, dtype=bool)
    restricted[candidates] = True
    sub_gap = max(SUB_GAP, opts.mip_gap or 0.0)
    # Only where the placements are integer (single-source, GAP): on multi-source capb at 7000 the
    # time they took from the buckets cost the optimum (+0.516 % at 600 s, where the buckets alone
    # reached it at 230 s); at 6000 they were faster (93 s against 160 s). One run each.
    structured = guided is not None and guided.groups is not None and guided.owners is not None and \
        bool(integer[candidates].any())
    reserve = (FULL_SHARE + (NEIGHBOURHOOD_SHARE if structured else 0.0)) * limit if limit else 0.0
    rest, low, at, improved_in_pass, stopped = np.empty(0, dtype=np.int64), 0, 0, False, ""
    bucket = np.empty(0, dtype=np.int64)  # the first restricted MIP is the kernel alone
    for n in range(MAX_STEPS):
        left = _left(deadline, None)
        if left is not None and left - reserve < 1.0:
            break
        if CONTROL.stop.is_set():
            stopped = "interrupted"
            break
        if _proven(best_obj, max(z_lp, first_bound), target):
            break
        allowed = kernel.copy()
        allowed[bucket] = True
        share = None if left is None else max(1.0, min((left - reserve) / 3, max(SUB_LIMIT, limit / 10)))
        shut = restricted & ~allowed
        with _only(problem, shut):
            # a start outside the restriction would only cost HiGHS a repair search
            problem.start = best if best is None or not (best[shut] > POSITIVE).any() else None
            result = run.solve(problem, replace(opts, time_limit=share, mip_gap=sub_gap))
            problem.start = None
        LOG.debug("kernel step %d: %d columns, %s %s in %.1f s (limit %s)", n, int((allowed & restricted).sum()),
                  result.status, result.objective, result.seconds, share)
        if result.status == "interrupted":
            stopped = "interrupted"
        if result.has_solution and problem.solution is not None and result.objective < best_obj - 1e-9 * max(
                1.0, abs(best_obj) if math.isfinite(best_obj) else 1.0):
            best, best_obj = problem.solution.values.copy(), float(result.objective)
            trace.append((time.monotonic() - start, best_obj))
            used = bucket[best[bucket] > POSITIVE]
            kernel[used] = True
            improved_in_pass = True
        if stopped:
            break
        # While HiGHS solves the restricted MIPs to optimality, the buckets accumulate: the next MIP
        # has every column of this one and the next bucket's (twice as large if this one took less
        # than a quarter of its time), so that each customer gets its next options all together. A
        # MIP stopped by its time limit ends the accumulation: from there on each MIP has the kernel
        # and one bucket, half as large. An infeasible one goes on accumulating: it lacked columns,
        # and the kernel with one bucket lacked them again, MIP after MIP, on e20200 at 30 s (the
        # guide's one dive failed: 27 infeasible MIPs of 265 columns, then no plan at all).
        if result.status in ("optimal", "infeasible"):
            if share is None or result.seconds < share / 4:
                size = min(2 * size, MAX_BUCKET)
        else:
            low, size = at, max(MIN_BUCKET, size // 2)
        if at >= len(rest):  # a pass over the buckets is done: the next one, if the last improved
            if n > 0 and not improved_in_pass:
                break
            rest = candidates[~kernel[candidates]]
            rest = rest[np.lexsort((reduced[rest], rank[rest]))]
            low, at, improved_in_pass = 0, 0, False
            if not len(rest):
                break
        bucket, at = rest[low:at + size], at + size

    proven = _proven(best_obj, max(z_lp, first_bound), target)
    if not stopped and best is not None and structured and not proven:
        found, tried = _neighbourhoods(problem, opts, best, guided.groups, guided.owners, deadline,
                                       FULL_SHARE * limit if limit else 0.0, start, trace)
        if found is not None:
            cost, const = problem.objective()
            best, best_obj = found, float(cost @ found + const)
        how += f"; {tried} neighbourhoods"
        stopped = "interrupted" if CONTROL.stop.is_set() else stopped
    bound = max(z_lp, first_bound)
    final_duals = None
    left = _left(deadline, None)
    # A plan the relaxation's bound proves needs no more search, only its duals where they are asked
    # for: the MIP with the plan's integer decisions held (HiGHS's presolve removes them; its
    # continuous part may still improve), whose bound says nothing of the whole problem. The full
    # MIP took 4–5 s more at a million pairs, where the cheapest places prove the plan.
    proven = best is not None and _proven(best_obj, bound, target)
    unpriced = f"stopped by {CONTROL.signal_name or 'a signal'}" if stopped else "no time left"
    if not stopped and (left is None or left >= 1.0) and (duals or not proven):
        problem.start = best
        held = _fixed(problem, integer, np.round(best)) if proven else contextlib.nullcontext()
        with held:
            full = run.solve(problem, replace(opts, time_limit=left), duals=duals)
        problem.start = None
        if not proven and full.bound is not None and math.isfinite(full.bound):
            bound = max(bound, float(full.bound))
        found = problem.solution.values if full.has_solution and problem.solution is not None else None
        if found is not None and full.objective < best_obj - 1e-9 * abs(best_obj):
            best, best_obj = found.copy(), float(full.objective)
            trace.append((time.monotonic() - start, best_obj))
        elif found is not None and proven and full.objective <= best_obj + 1e-9 * max(1.0, abs(best_obj)):
            best = found.copy()  # the plan's decisions (rounded), its continuous part solved again: as good
        # The plan the duals belong to, round-off apart: a sub-MIP's plan may hold y = 1.0000000000000002
        # where the final solve has 1, and an exact comparison lost the prices of a plan it had priced.
        if found is not None and best is not None and np.allclose(found, best, rtol=0.0, atol=1e-9):
            final_duals = problem.solution.duals
        interrupted = full.status == "interrupted" or CONTROL.stop.is_set()
        unpriced = (f"stopped by {CONTROL.signal_name or 'a signal'}" if interrupted
                    else "time limit" if full.termination == "time_limit" else "the solve gave none for this plan")
        if full.status == "interrupted" and not proven:  # a proven plan stays proven: only its prices are lost
            stopped = "interrupted"
        if full.status == "infeasible" and best is None:
            problem.solution = None
            full.seconds = time.monotonic() - start
            return full

    seconds = time.monotonic() - start
    root = z_lp if math.isfinite(z_lp) else None  # the relaxation's bound, where it gave one
    if best is None:
        problem.solution = None
        status = "interrupted" if stopped else "no_solution"
        return SolveResult(status, stopped or "time_limit", None, bound if math.isfinite(bound) else None, None,
                           seconds, None, opts.solver, version("highspy"), "kernel search found no plan",
                           root_bound=root, trace=trace)
    problem.solution = Solution(best, final_duals)
    bound = min(bound, best_obj) if math.isfinite(bound) else None  # never above the plan it bounds (round-off)
    gap = relative_gap(best_obj, bound)
    status = "interrupted" if stopped else ("optimal" if gap is not None and gap <= target else "feasible")
    term = "interrupted" if stopped else ("optimal" if status == "optimal" else "time_limit")
    priced = f"; shadow prices not computed ({unpriced})" if duals and final_duals is None else ""
    return SolveResult(status, term, best_obj, bound, gap, seconds, None, opts.solver, version("highspy"),
                       f"kernel search: {how}{first_note}; {len(trace)} plans, each better than the last{priced}",
                       root_bound=root,
                       trace=trace)


def _facility_neighbourhoods(problem: Problem, opts: SolveOptions, plan: np.ndarray, guided: Guide,
                             deadline: float | None, share: float | None, start: float,
                             trace: list[tuple[float, float]]) -> tuple[np.ndarray | None, int]:
    """Step 2b: MIPs over the facilities open in the incumbent and `FACILITY_EXTRA` closed ones at
    random among the three times as many with the lowest reduced cost in the guide, every column of
    the other facilities at 0. Runs for `share` seconds at most (to the `deadline`), and stops after
    `FACILITY_PATIENCE` neighbourhoods in a row without a gain: where the buckets would do as well,
    the search must not hold them back long (capc at 5000 found its optimum in the first and spent
    150 s proving nothing with a patience of one per open facility, eleven).
    Returns the best plan if better than `plan` (else None) and the neighbourhoods tried."""

    groups, owners = guided.groups, guided.owners
    n_groups = int(groups.max()) + 1
    own = np.flatnonzero((groups >= 0) & (owners < 0))  # the facilities' own columns (y)
    if n_groups < 2 or len(own) != n_groups:
        return None, 0
    fac_col = np.empty(n_groups, dtype=np.int64)
    fac_col[groups[own]] = own
    order = np.argsort(guided.reduced[fac_col], kind="stable")  # the facilities, cheapest first
    until = time.monotonic() + (share if share is not None else math.inf)
    if deadline is not None:
        until = min(until, deadline)
    cost, const = problem.objective()
    best, best_obj, improved = plan.copy(), float(cost @ plan + const), False
    rng = np.random.default_rng(0 if opts.seed is None else opts.seed)
    tried, fruitless = 0, 0
    while time.monotonic() < until - 1.0 and not CONTROL.stop.is_set():
        is_open = best[fac_col] > POSITIVE
        if fruitless >= FACILITY_PATIENCE or is_open.all():
            break
        closed = order[~is_open[order]]
        pool = closed[:3 * FACILITY_EXTRA]
        kept = is_open.copy()
        kept[rng.choice(pool, size=min(FACILITY_EXTRA, len(pool)), replace=False)] = True
        with _only(problem, (groups >= 0) & ~kept[np.maximum(groups, 0)]):
            found, result = _improve(problem, opts, best, best_obj, min(FACILITY_LIMIT, until - time.monotonic()))
        tried += 1
        if found is not None:
            best, best_obj, improved, fruitless = found, float(result.objective), True, 0
            trace.append((time.monotonic() - start, best_obj))
            LOG.debug("facility neighbourhood %d (%d facilities): %s", tried, int(kept.sum()), best_obj)
        else:
            fruitless += 1
        if result.status == "interrupted":
            break
    return (best if improved else None), tried


def _neighbourhoods(problem: Problem, opts: SolveOptions, plan: np.ndarray, groups: np.ndarray,
                    owners: np.ndarray, deadline: float | None, reserve: float, start: float,
                    trace: list[tuple[float, float]]) -> tuple[np.ndarray | None, int]:
    """Step 3b: a large-neighbourhood search over the facilities. Each neighbourhood frees a few
    related facilities (`NEIGHBOURHOOD_GROUPS`: one in use at random, and others at random among
    the twice as many that would serve its customers most cheaply, half of them in use and half
    not where some are not) with the customers they serve, and fixes every other column at the
    plan; its MIP starts from the plan, so only a better plan changes it. Runs until the full MIP's
    `reserve` is left, and stops early after twice as many neighbourhoods in a row without a gain
    as there are facilities in use (half the facilities, if that is more). Returns the best plan if
    better than `plan` (else None) and the neighbourhoods tried."""

    left = _left(deadline, None)
    if left is None:
        return None, 0
    until = time.monotonic() + max(0.0, left - reserve)
    cost, const = problem.objective()
    best, best_obj, improved = plan.copy(), float(cost @ plan + const), False
    rng = np.random.default_rng(0 if opts.seed is None else opts.seed)
    n_groups = int(groups.max()) + 1  # 0 if no column has a facility
    placed = (owners >= 0) & (groups >= 0)
    # how cheaply each facility would serve each customer's whole set: relatedness by cost
    serve = np.full((max(owners.max() + 1, 1), max(n_groups, 1)), np.inf)
    serve[owners[placed], groups[placed]] = cost[placed]
    tried, fruitless = 0, 0
    while n_groups > 1 and time.monotonic() < until - 1.0 and not CONTROL.stop.is_set():
        in_use = np.unique(groups[placed & (best > POSITIVE)])
        if not len(in_use) or fruitless >= 2 * max(len(in_use), n_groups // 2):
            break
        seed = int(rng.choice(in_use))
        mine = np.unique(owners[placed & (groups == seed) & (best > POSITIVE)])
        near = np.argsort(serve[mine].sum(axis=0) if len(mine) else rng.random(n_groups), kind="stable")
        near = near[near != seed]
        # as many facilities in use as not (where there are unused ones): the seed's customers need
        # somewhere to go, and a closed facility to open is how the set of facilities changes
        used = np.isin(near, in_use)
        n_idle = min(int((~used).sum()), (NEIGHBOURHOOD_GROUPS - 1) // 2)
        n_used = min(int(used.sum()), NEIGHBOURHOOD_GROUPS - 1 - n_idle)
        pick = [rng.choice(pool[:2 * size], size=size, replace=False)
                for pool, size in ((near[used], n_used), (near[~used], n_idle)) if size]
        chosen = np.r_[seed, *pick].astype(np.int64)
        free_owner = np.zeros(serve.shape[0], dtype=bool)
        free_owner[owners[placed & np.isin(groups, chosen) & (best > POSITIVE)]] = True
        free = np.isin(groups, chosen) & ((owners < 0) | free_owner[np.maximum(owners, 0)])
        fix = ~free
        with _fixed(problem, fix, best):
            found, result = _improve(problem, opts, best, best_obj, min(NEIGHBOURHOOD_LIMIT, until - time.monotonic()))
        tried += 1
        if found is not None:
            best, best_obj, improved, fruitless = found, float(result.objective), True, 0
            trace.append((time.monotonic() - start, best_obj))
            LOG.debug("neighbourhood %d (%s): %s", tried, chosen, best_obj)
        else:
            fruitless += 1
        if result.status == "interrupted":
            break
    return (best if improved else None), tried


def _improve(problem: Problem, opts: SolveOptions, best: np.ndarray, best_obj: float,
             seconds: float) -> tuple[np.ndarray | None, SolveResult]:
    """One neighbourhood's MIP (the problem as the caller restricts it), started from the incumbent
    `best` for `seconds` (at least one): its plan where better than `best_obj` (else None), and its
    result."""
    from solvers import run

    problem.start = best
    try:
        result = run.solve(problem, replace(opts, time_limit=max(1.0, seconds)))
    finally:
        problem.start = None
    better = (result.has_solution and problem.solution is not None
              and result.objective < best_obj - 1e-9 * max(1.0, abs(best_obj)))
    return (problem.solution.values.copy() if better else None), result


def _relax_and_fix(problem: Problem, opts: SolveOptions, placements: np.ndarray, enablers: np.ndarray,
                   guided: Guide, limit: float) -> tuple[np.ndarray | None, float, str]:
    """The search with the `placements` continuous, then the MIP with the `enablers` fixed at its
    plan: (that MIP's plan or None, the relaxed search's bound or −inf, a note for the message)."""
    from solvers import run

    kept = {name: b.integer.copy() for name, b in problem.variables.items()}
    try:
        for b in problem.variables.values():
            b.integer[placements[(placements >= b.start) & (placements < b.start + len(b))] - b.start] = False
        relaxed = solve(problem, replace(opts, time_limit=RELAX_SHARE * limit), guided=guided)
    finally:
        for name, b in problem.variables.items():
            b.integer[:] = kept[name]
    values = problem.solution.values.copy() if relaxed.has_solution and problem.solution is not None else None
    bound = float(relaxed.bound) if relaxed.bound is not None and math.isfinite(relaxed.bound) else -math.inf
    if values is None or relaxed.status == "interrupted":
        return None, bound, f"; relaxed first: {relaxed.status}"
    choice = np.round(values)
    with _fixed(problem, enablers, choice):
        problem.start = None
        result = run.solve(problem, replace(opts, time_limit=_left(None, FIX_SHARE * limit)))
    plan = problem.solution.values.copy() if result.has_solution and problem.solution is not None else None
    note = (f"; relaxed first: {relaxed.objective:.10g} (bound {bound:.10g}) with {int(choice[enablers].sum())} of "
            f"{int(enablers.sum())} enablers on, fixed: " + (f"{result.objective:.10g}" if plan is not None
                                                             else result.status))
    return plan, bound, note


@contextlib.contextmanager
def _fixed(problem: Problem, columns: np.ndarray, values: np.ndarray) -> Iterator[None]:
    """The problem with the `columns` (a mask) fixed at their `values` (one per column)."""
    kept = {name: (b.lb.copy(), b.ub.copy()) for name, b in problem.variables.items()}
    try:
        for b in problem.variables.values():
            mine, at = columns[b.start:b.start + len(b)], values[b.start:b.start + len(b)]
            b.lb[mine] = at[mine]
            b.ub[mine] = at[mine]
        yield
    finally:
        for name, b in problem.variables.items():
            b.lb[:], b.ub[:] = kept[name]


def _proven(objective: float, bound: float, target: float) -> bool:
    """The plan is within the target gap of the bound: nothing is left to search for."""
    gap = relative_gap(objective, bound) if math.isfinite(objective) else None
    return gap is not None and gap <= target


def _limit(opts: SolveOptions) -> float | None:
    left = CONTROL.remaining()
    if left is None:
        return opts.time_limit
    return left if opts.time_limit is None else min(opts.time_limit, left)


def _left(deadline: float | None, cap: float | None) -> float | None:
    if deadline is None:
        return cap
    left = max(0.0, deadline - time.monotonic())
    return left if cap is None else min(left, cap)


def _only(problem: Problem, shut: np.ndarray) -> contextlib.AbstractContextManager[None]:
    """The problem with the `shut` columns (candidates, bounded below by 0) fixed at 0."""
    return _fixed(problem, shut, np.zeros(problem.n_cols))


def _rank(problem: Problem, cols: np.ndarray, reduced: np.ndarray) -> np.ndarray:
    """Per column, its rank by reduced cost among the columns of its equality row (the first one
    it is in), so that each bucket gives every such row its next few options; a column in no
    equality row ranks by its place in the global order, spread over the rows."""
    rank = np.zeros(problem.n_cols)
    start, index, value = problem.matrix()
    lo, hi = problem.row_bounds()
    row_of = np.full(problem.n_cols, -1, dtype=np.int64)
    equal = np.flatnonzero(lo == hi)
    if len(equal):
        rows = np.repeat(np.arange(problem.n_rows), np.diff(start))
        on = np.isin(rows, equal)
        first = np.unique(index[on][::-1], return_index=True)  # any one of its rows will do
        row_of[first[0]] = rows[on][::-1][first[1]]
    grouped = cols[row_of[cols] >= 0]
    order = grouped[np.lexsort((reduced[grouped], row_of[grouped]))]
    if len(order):
        head = np.ones(len(order), dtype=bool)
        head[1:] = row_of[order[1:]] != row_of[order[:-1]]
        position = np.arange(len(order))
        rank[order] = position - position[head][np.cumsum(head) - 1]
    loose = cols[row_of[cols] < 0]
    groups = max(1, len(np.unique(row_of[grouped])))
    rank[loose[np.argsort(reduced[loose], kind="stable")]] = np.arange(len(loose)) / groups
    return rank


def _implications(problem: Problem) -> np.ndarray:
    """For each column, the column it needs positive (−1 for none), from the rows
    a·x − b·y ≤ 0 with a, b > 0 over columns bounded below by 0."""
    needs = np.full(problem.n_cols, -1, dtype=np.int64)
    start, index, value = problem.matrix()
    lo, hi = problem.row_bounds()
    lb, _, _ = problem.bounds()
    two = np.flatnonzero((np.diff(start) == 2) & (hi == 0) & ~np.isfinite(lo))
    if not len(two):
        return needs
    first, second = start[two], start[two] + 1
    a, b = value[first], value[second]
    pos = np.where(a > 0, index[first], index[second])
    neg = np.where(a > 0, index[second], index[first])
    ok = (a * b < 0) & (lb[pos] >= 0) & (lb[neg] >= 0)
    needs[pos[ok]] = neg[ok]
    return needs
