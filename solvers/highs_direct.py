"""The direct back-end: a `Problem` handed to HiGHS as one CSR matrix through highspy's `passModel`.

No expression objects are made: the arrays the families assembled go to HiGHS as they are. A
`Kept` model stays loaded for what-if changes in place (`changeColsBounds`, `changeRowsBounds`,
`changeColsCost`) and re-solves from there; a MIP start (`setSolution`) and the LP duals with the
integer decisions held are computed on the same HiGHS object. The IIS of the LP relaxation maps
HiGHS's row indices back to the blocks' labels.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np

from solvers.options import SolveOptions
from solvers.problem import Problem
from solvers.result import SolveResult, relative_gap, version
from solvers.silent import new_highs

LARGE = 1e15  # HiGHS's large_matrix_value: a coefficient above it and the model is refused


def _refusal(problem: Problem) -> str:
    """Why HiGHS refused the model, in the model's terms: the row blocks (named as the families and
    rules name them) with coefficients above what HiGHS takes, which the instance's values made."""
    big = [f"{b.name} (up to {np.abs(b.vals).max():.3g})" for b in problem.constraints.values()
           if len(b.vals) and np.abs(b.vals).max() > LARGE]
    if not big:
        return "HiGHS refused the model"
    return ("HiGHS refused the model: coefficients above the 1e15 it takes in the rows " + ", ".join(big)
            + "; the instance's values that make them (amounts, weights, rates, ratios) are too large")


def load(problem: Problem, options: SolveOptions | None = None, reduce: bool = False) -> Any:
    """A silent `highspy.Highs` holding the problem: its arrays passed as they are (the array
    overload of `passModel`: no per-entry Python objects, integrality included).

    With `reduce`, the columns fixed at 0 (l_j = u_j = 0: a restricted MIP's shut columns) are
    left out; `h.cols` lists the problem's columns HiGHS holds, in its order, and `run` and
    `lp_duals` map between the two. A kernel search's MIP over 4,777 of 196,118 columns (1000 ×
    200) was then presolved in 0.7 s. Not for a model changed in place later
    (`Kept`), whose columns must all be there."""
    import highspy

    lb, ub, integer = problem.bounds()
    lo, hi = problem.row_bounds()
    cost, offset = problem.objective()
    start, index, value = problem.matrix()
    cols = None
    if reduce and ((lb == 0) & (ub == 0)).any() and ((lb != 0) | (ub != 0)).any():  # HiGHS needs a column
        cols = np.flatnonzero((lb != 0) | (ub != 0))
        new = np.full(problem.n_cols, -1, dtype=np.int64)
        new[cols] = np.arange(len(cols))
        keep = new[index] >= 0
        rows = np.repeat(np.arange(problem.n_rows), np.diff(start))[keep]
        start = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=problem.n_rows))])
        index, value = new[index[keep]], value[keep]
        lb, ub, integer, cost = lb[cols], ub[cols], integer[cols], cost[cols]
    h = new_highs()
    h.cols = cols
    h.setOptionValue("output_flag", bool(options.tee) if options else False)
    kind = np.where(integer, int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous))
    status = h.passModel(len(lb), problem.n_rows, len(index), int(highspy.MatrixFormat.kRowwise),
                         int(highspy.ObjSense.kMinimize), float(offset), cost, lb, ub, lo, hi,
                         start.astype(np.int32), index.astype(np.int32), value, kind.astype(np.int32))
    if status == highspy.HighsStatus.kError:
        raise ValueError(_refusal(problem))
    h.HandleUserInterrupt = False
    h.stop_event = _interruptible(h, bool(integer.any()))
    return h


def _interruptible(h: Any, mip: bool) -> threading.Event:
    """An event that, once set (from any thread), makes HiGHS stop at its next interrupt check.

    A MIP is checked at branch-and-bound's own interrupt points (answered within a second); the
    simplex's per-iteration check is left off there, where its Python callback cost about 10 % of
    the china instance's solve time. A pure LP is checked in the simplex and the IPM.
    """
    stop = threading.Event()
    h.root_bound = None
    h.misvalued = None  # (HiGHS's value, the true cost, the plan) of an incumbent HiGHS valued wrongly: see `run`

    def check(event: Any) -> None:
        # set both ways: HiGHS keeps the flag of a solve's last interrupt into the next solve of the object
        event.interrupt(stop.is_set() or h.misvalued is not None)
        if mip:  # the last bound seen at node 0 is the root's, after its cuts (benchmarks report it)
            out = event.data_out
            if out.mip_node_count == 0 and math.isfinite(out.mip_dual_bound):
                h.root_bound = float(out.mip_dual_bound)

    if mip:
        h.cbMipInterrupt += check
    else:
        h.cbSimplexInterrupt += check
        h.cbIpmInterrupt += check
    return stop


def _root(h: Any, bound: float | None, nodes: int | None, done: bool = True) -> float | None:
    """The root node's dual bound: as the callback last saw it there, or the final bound of a MIP
    closed at the root (presolve or the root alone, where no callback saw a finite bound). None
    when the solve stopped before its root was done (no node processed, not `done`): the last bound
    seen there is not the root's (cap64 at 0.3 s: 1,053,075.72 where the root ends at 1,053,197.44)."""
    if nodes == 0 and not done:
        return None
    seen = getattr(h, "root_bound", None)
    if seen is not None:
        return seen
    return bound if nodes is not None and nodes <= 1 else None


def cancel(h: Any) -> None:
    """Ask the solve running on `h` to stop (its incumbent is kept)."""
    h.stop_event.set()


# HiGHS's probing and enumeration presolve rules check its time limit too seldom on large models:
# on a generated 1000 × 100 instance (1.4M nonzeros) the MIP presolve took 98 s of a 60 s limit
# and the root LP was never reached; with them off (bits 15 and 16 of `presolve_rule_off`) the root
# LP was done at 30 s and the gap proven 0.51 %. They stay on below LARGE_NONZEROS (the china
# instance, the published benchmarks), and a user's own `presolve_rule_off` wins.
LARGE_NONZEROS = 1_000_000
QUIET_PRESOLVE = (1 << 15) | (1 << 16)


def set_options(h: Any, opts: SolveOptions) -> None:
    h.setOptionValue("output_flag", bool(opts.tee))
    for name, value in opts.raw.items():
        h.setOptionValue(name, value)
    if opts.seed is not None:
        h.setOptionValue("random_seed", int(opts.seed))
    if opts.time_limit is not None:
        h.setOptionValue("time_limit", float(opts.time_limit))
    if opts.mip_gap is not None:
        h.setOptionValue("mip_rel_gap", float(opts.mip_gap))
    if opts.threads is not None:
        h.setOptionValue("threads", int(opts.threads))


# HiGHS's value of an incumbent and the cost of its plan (c·x + constant) may differ by round-off
# only (relative to Σ|c_j·x_j| + |constant|); more is a fault of HiGHS (below), and its proof is
# not to be trusted.
MISVALUE_TOLERANCE = 1e-6


def run(h: Any, problem: Problem, opts: SolveOptions, start: np.ndarray | None = None, *,
        retried: bool = False) -> tuple[SolveResult, np.ndarray | None]:
    """Solve what `h` holds; the result and the column values of the incumbent (None without one).

    Every incumbent HiGHS reports is valued again here, as c·x + constant over the columns HiGHS
    holds. HiGHS 1.16 can value a MIP start wrongly once its presolve has reduced the model: on
    the china instance with `objective.weights.co2` 0.2 and the base's plan as the start, its log
    says "MIP start solution is feasible: objective value is 38195.80" and then "feasible in the
    reduced space: objective value is 30879.11", 7,316.7 less (the same 7,316.7 for any start from
    the base's plans; not at weights up to 0.12), and it then proves that false value "optimal"
    at its root, far below the true optimum (37,683.7). So an incumbent valued more than
    `MISVALUE_TOLERANCE` (of Σ|c_j·x_j|) away from its cost stops the solve at once, and the solve is
    run again: without the start if there was one, else without presolve; the result's message
    says so. A second fault is an `error`."""
    import highspy

    set_options(h, opts)
    cols = getattr(h, "cols", None)
    integer = problem.bounds()[2]
    mip = bool((integer if cols is None else integer[cols]).any())  # what HiGHS holds: a MIP, or an LP
    if "presolve_rule_off" not in opts.raw and mip and h.getNumNz() >= LARGE_NONZEROS:
        h.setOptionValue("presolve_rule_off", QUIET_PRESOLVE)
    if getattr(h, "stop_event", None) is not None and h.stop_event.is_set():
        return SolveResult("no_solution", "interrupted", None, None, None, 0.0, None, "highs",
                           version("highspy"), "stopped before the solve"), None
    # the costs each incumbent is valued with (a MIP's; an LP has no incumbents)
    cost, offset = problem.objective() if mip else (np.empty(0), 0.0)
    if cols is not None and mip:
        cost = cost[cols]
    if start is not None:
        sol = highspy.HighsSolution()
        start = np.asarray(start, dtype=float)
        sol.col_value = (start if cols is None else start[cols]).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.root_bound = None  # a kept model is solved again: this solve's root only
    h.misvalued = None
    t = time.perf_counter()
    improved: list[tuple[float, float]] = []  # (seconds, objective) at each better incumbent

    def improving(event: Any) -> None:
        objective = float(event.data_out.objective_function_value)
        _value(h, objective, np.asarray(event.data_out.mip_solution, dtype=float), cost, offset)
        if h.misvalued is None and (not improved or objective < improved[-1][1]):  # HiGHS reports an incumbent
            improved.append((time.perf_counter() - t, objective))  # again after a restart

    if mip:
        h.cbMipImprovingSolution += improving
    try:
        h.run()
    finally:
        if mip:
            h.cbMipImprovingSolution -= improving
    seconds = time.perf_counter() - t
    ms = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    held = np.asarray(h.getSolution().col_value, dtype=float) if has else None  # in HiGHS's columns
    if mip and held is not None and h.misvalued is None:  # an incumbent no callback saw (presolve solved it)
        _value(h, float(info.objective_function_value), held, cost, offset)
    if h.misvalued is not None:
        return _again(h, problem, opts, start, retried, seconds)
    if ms == S.kOptimal and has:
        status = "optimal"
    elif ms == S.kInfeasible:
        status, has = "infeasible", False
    elif ms == S.kUnboundedOrInfeasible:
        status, has = ("infeasible", False)
    elif ms == S.kUnbounded:
        status, has = "unbounded", False
    elif ms in (S.kModelError, S.kSolveError, S.kPresolveError, S.kPostsolveError, S.kLoadError, S.kNotset):
        status, has = "error", False
    else:
        status = "feasible" if has else "no_solution"
    objective = float(info.objective_function_value) if has else None
    if mip:
        bound = float(info.mip_dual_bound)
        nodes = int(info.mip_node_count)
    else:
        bound, nodes = (objective if status == "optimal" else None), None
    bound = bound if bound is not None and math.isfinite(bound) else None
    values = held if has else None
    if values is not None and cols is not None:
        full = np.zeros(problem.n_cols)
        full[cols] = values
        values = full
    term = h.modelStatusToString(ms)
    result = SolveResult(status, term, objective, bound, relative_gap(objective, bound), seconds,
                         nodes if nodes is not None and nodes >= 0 else None, "highs", version("highspy"),
                         root_bound=_root(h, bound, nodes, status in ("optimal", "infeasible")) if mip else None,
                         trace=improved if mip else None)
    return result, values


def _value(h: Any, objective: float, values: np.ndarray, cost: np.ndarray, offset: float) -> None:
    """Note in `h.misvalued` an incumbent whose value HiGHS gives wrongly (the interrupt check
    then stops the solve)."""
    if h.misvalued is not None or len(values) != len(cost):
        return
    terms = cost * values
    true = float(terms.sum() + offset)
    # relative to the terms' size, not the sum's: a plan whose costs and benefits cancel to about 0
    # carries round-off of their size
    if abs(true - objective) > MISVALUE_TOLERANCE * max(1.0, float(np.abs(terms).sum()) + abs(offset)):
        h.misvalued = (objective, true, values.copy())  # a plan HiGHS found feasible: kept, at its true cost


def _again(h: Any, problem: Problem, opts: SolveOptions, start: np.ndarray | None, retried: bool,
           seconds: float) -> tuple[SolveResult, np.ndarray | None]:
    """The solve run again after HiGHS valued an incumbent wrongly (see `run`). The plan it valued
    wrongly is one HiGHS found feasible: at its true cost it stays the plan to beat, and is reported
    when the second solve ends with none or a worse one (within the same time limit it may)."""
    said, true, plan = h.misvalued
    what = "the MIP start" if start is not None else "a plan"
    fault = f"HiGHS valued {what} at {said:.10g} where it costs {true:.10g}"
    h.misvalued = None
    if retried:
        return SolveResult("error", "error", None, None, None, seconds, None, "highs", version("highspy"),
                           f"{fault}, again after a first such fault: no result of this solve can be trusted"), None
    h.clearSolver()  # the second solve starts from nothing of the first: no start, no incumbent
    presolve = str(opts.raw.get("presolve", "choose"))
    again = opts if start is not None else replace(opts, raw={**opts.raw, "presolve": "off"})
    if opts.time_limit is not None:  # what is left of it; HiGHS's clock may run on from the object's first
        # run or start again, so the limit is set from its clock now (the parent ends a solve that overruns)
        again = replace(again, time_limit=h.getRunTime() + max(0.01, opts.time_limit - seconds))
    try:
        result, values = run(h, problem, again, None, retried=True)
    finally:
        h.setOptionValue("presolve", presolve)
    result.seconds += seconds
    how = "without the start" if start is not None else "without presolve"
    if result.status not in ("error", "infeasible", "unbounded") and (
            result.objective is None or result.objective > true + MISVALUE_TOLERANCE * max(1.0, abs(true))):
        cols = getattr(h, "cols", None)
        values = plan if cols is None else np.zeros(problem.n_cols)
        if cols is not None:
            values[cols] = plan
        bound = None if result.bound is None else min(result.bound, true)
        gap = relative_gap(true, bound)
        done = gap is not None and gap <= (opts.mip_gap if opts.mip_gap is not None else 1e-4)
        status = "interrupted" if result.status == "interrupted" else "optimal" if done else "feasible"
        result = replace(result, status=status, objective=true, bound=bound, gap=gap,
                         trace=[*(result.trace or []), (result.seconds, true)],
                         message=(result.message + "; " if result.message else "") + "its plan at its true cost "
                         f"is kept: the second solve found {'none' if result.objective is None else 'a worse one'}")
    result.message = f"{fault} (a fault of HiGHS): solved again {how}" + (
        f"; {result.message}" if result.message else "")
    return result, values


def lp_duals(h: Any, problem: Problem, values: np.ndarray, opts: SolveOptions) -> np.ndarray | None:
    """Row duals of the LP left when every integer column is fixed at its value in `values`.

    The standard way to price the rows of a MIP: with the integer decisions held, the duals say what
    one more unit of a right-hand side is worth to the continuous part of the plan. Duals as HiGHS
    reports them (∂objective/∂right-hand side); None if the LP gives none. `h` is left holding the
    MIP as it was (integrality and bounds put back). Cut rows (`RowBlock.cut`) are left out (their
    bounds freed, then put back): they get a zero dual.
    """
    import highspy

    lb, ub, integer = problem.bounds()
    held = getattr(h, "cols", None)
    if held is not None:  # HiGHS holds only these columns (`load(reduce=True)`)
        lb, ub, integer, values = lb[held], ub[held], integer[held], values[held]
    cols = np.flatnonzero(integer)
    cuts = problem.cut_rows()
    if len(cols):
        fixed = np.round(values[cols])
        h.changeColsIntegrality(len(cols), cols, np.full(len(cols), highspy.HighsVarType.kContinuous))
        h.changeColsBounds(len(cols), cols, fixed, fixed)
    if len(cuts):
        h.changeRowsBounds(len(cuts), cuts, np.full(len(cuts), -np.inf), np.full(len(cuts), np.inf))
    if len(cols) or len(cuts):
        h.clearSolver()
    try:
        # HiGHS's time limit counts from the object's first run: the re-solve gets its own share on
        # top of what the MIP used (the parent ends the process at the command's deadline anyway).
        limit = None if opts.time_limit is None else h.getRunTime() + max(1.0, float(opts.time_limit))
        set_options(h, SolveOptions(time_limit=limit, raw=opts.raw, threads=opts.threads))
        h.run()
        sol = h.getSolution()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not sol.dual_valid:
            return None
        return np.asarray(sol.row_dual, dtype=float)
    finally:
        if len(cols):
            h.changeColsIntegrality(len(cols), cols, np.full(len(cols), highspy.HighsVarType.kInteger))
            h.changeColsBounds(len(cols), cols, lb[cols], ub[cols])
        if len(cuts):
            lo, hi = problem.row_bounds()
            h.changeRowsBounds(len(cuts), cuts, lo[cuts], hi[cuts])


def iis_rows(problem: Problem) -> tuple[list[int], list[tuple[int, str]]] | None:
    """Rows and column bounds of an irreducible infeasible subset of the LP relaxation (a column
    with the side of its bound in the subset: "lower", "upper" or "both"); None if feasible.
    HiGHS lists every column it looked at, with the status `free` for those whose bounds are not
    in the subset (they were once printed as "bound of ..." too); those, and rows `free`, are left
    out."""
    import highspy

    h = load(problem)
    lb, ub, integer = problem.bounds()
    if integer.any():
        cols = np.flatnonzero(integer)
        h.changeColsIntegrality(len(cols), cols, np.full(len(cols), highspy.HighsVarType.kContinuous))
    h.run()
    if h.getModelStatus() not in (highspy.HighsModelStatus.kInfeasible,
                                  highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return None
    h.setOptionValue("iis_strategy", 4)  # kIisStrategyIrreducible
    _, iis = h.getIis()
    side = {2: "lower", 3: "upper", 4: "both"}  # HiGHS's IisBoundStatus: −1 dropped, 0 null, 1 free
    rows = [int(r) for r, b in zip(iis.row_index_, iis.row_bound_) if int(b) in side]
    return rows, [(int(c), side[int(b)]) for c, b in zip(iis.col_index_, iis.col_bound_) if int(b) in side]


def _spread(positions: Any, lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    at = np.asarray(positions, dtype=np.int64)
    return at, np.broadcast_to(lower, at.shape).astype(float), np.broadcast_to(upper, at.shape).astype(float)


class Kept:
    """A problem kept loaded in HiGHS, changed in place between solves (what-if runs).

    Each change is made both to HiGHS and to the `Problem`, so that the results read from the
    problem describe what was solved.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.highs = load(problem)

    def change_col_bounds(self, block: str, positions: Any, lb: Any, ub: Any) -> None:
        """New bounds for some variables of a block (positions within the block)."""
        b = self.problem.variables[block]
        at, lb, ub = _spread(positions, lb, ub)
        b.lb[at], b.ub[at] = lb, ub
        self.highs.changeColsBounds(len(at), b.start + at, lb, ub)

    def change_row_bounds(self, block: str, positions: Any, lo: Any, hi: Any) -> None:
        """New bounds for some rows of a block (positions within the block)."""
        b = self.problem.constraints[block]
        at, lo, hi = _spread(positions, lo, hi)
        b.lo[at], b.hi[at] = lo, hi
        self.highs.changeRowsBounds(len(at), b.start + at, lo, hi)

    def change_costs(self, cost: np.ndarray) -> None:
        """Replace the objective (a cost per column)."""
        self.problem.cost = np.asarray(cost, dtype=float)
        cols = np.arange(self.problem.n_cols, dtype=np.int64)
        self.highs.changeColsCost(len(cols), cols, self.problem.cost)
        self.highs.changeObjectiveOffset(0.0)  # a problem with its own cost has no constant (`Problem.objective`)
