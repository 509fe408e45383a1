"""The reference back-end: a `Problem` materialised as a Pyomo model, for any solver Pyomo knows.

Each variable block becomes a `Var` and each row block a `Constraint`, indexed by the blocks'
labels and named as the blocks are (`x[a,p1]`, `capacity[p1,land]`), from the same assembled
matrix the direct back-end hands to HiGHS (duplicates summed, zeros dropped): the two give one
model, which `tests/test_backends.py` checks. HiGHS goes through `pyomo.contrib.solver`'s
interface (Pyomo's recommended one); any other solver through the legacy `SolverFactory`. Both
raise on a non-optimal outcome unless asked not to: that is asked here, once.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from solvers.options import HIGHS_NAMES, SolveOptions
from solvers.problem import Problem, label
from solvers.result import SolveResult, SolverNotFound, relative_gap, version

if TYPE_CHECKING:  # Pyomo is imported where it is used: half a second a command that never needs it
    import pyomo.environ as pyo


def _index(keys: tuple, n: int) -> list[Any]:
    if len(keys) == 1:
        return keys[0].tolist()
    return [label(keys, r) for r in range(n)]


def to_pyomo(problem: Problem) -> pyo.ConcreteModel:
    """The Pyomo model of `problem`; `m.columns[j]` is the variable of column j, `m.rows[r]` the
    constraint of row r (None for an empty row that holds whatever the plan: it is not created)."""
    import pyomo.environ as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression

    m = pyo.ConcreteModel(name=problem.name)
    columns: list[Any] = []
    for b in problem.variables.values():
        n = len(b)
        index = _index(b.keys, n) if b.keys else None
        domain = [pyo.Binary if b.integer[j] and b.lb[j] >= 0 and b.ub[j] <= 1 else
                  pyo.Integers if b.integer[j] else pyo.Reals for j in range(n)]
        if index is None:
            var = pyo.Var(domain=domain[0], doc=b.doc)
            m.add_component(b.name, var)
            datas = [var]
        else:
            var = pyo.Var(index, dense=True, doc=b.doc)
            m.add_component(b.name, var)
            datas = [var[k] for k in index]
        for j, v in enumerate(datas):
            v.domain = domain[j]
            v.setlb(None if b.lb[j] == -np.inf else float(b.lb[j]))
            v.setub(None if b.ub[j] == np.inf else float(b.ub[j]))
        columns += datas
    start, index_, value = problem.matrix()
    rows: list[Any] = []
    for b in problem.constraints.values():
        n = len(b)
        labels = _index(b.keys, n) if b.keys else list(range(n))
        con = pyo.Constraint(labels, doc=b.doc)
        m.add_component(b.name, con)
        for r in range(n):
            g = b.start + r
            s, e = start[g], start[g + 1]
            lo, hi = float(b.lo[r]), float(b.hi[r])
            if s == e and lo <= 0 <= hi:
                rows.append(None)
                continue
            expr = LinearExpression(constant=0.0, linear_coefs=value[s:e].tolist(),
                                    linear_vars=[columns[j] for j in index_[s:e]])
            if lo == hi:
                con[labels[r]] = expr == lo
            else:
                con[labels[r]] = (None if lo == -math.inf else lo, expr, None if hi == math.inf else hi)
            rows.append(con[labels[r]])
    cost, offset = problem.objective()
    nz = np.flatnonzero(cost)
    m.objective = pyo.Objective(expr=LinearExpression(constant=float(offset), linear_coefs=cost[nz].tolist(),
                                                      linear_vars=[columns[j] for j in nz]), sense=pyo.minimize)
    m.columns = columns
    m.rows = rows
    m.cuts = [rows[r] for r in problem.cut_rows() if rows[r] is not None]  # left out of lp_duals
    return m


def values(m: pyo.ConcreteModel) -> np.ndarray:
    """The loaded values by column; a variable in no row and not in the objective (Pyomo does not
    hand it to the solver) takes the value of its bounds nearest 0."""
    def value(v: Any) -> float:
        if v.value is not None:
            return float(v.value)
        lb, ub = v.lb, v.ub
        return float(lb) if lb is not None and lb > 0 else float(ub) if ub is not None and ub < 0 else 0.0
    return np.array([value(v) for v in m.columns], dtype=float)


def set_values(m: pyo.ConcreteModel, x: np.ndarray) -> None:
    for v, value in zip(m.columns, x):
        v.set_value(float(value), skip_validation=True)


@contextlib.contextmanager
def quiet_pyomo() -> Any:
    """Hold back Pyomo's warnings on infeasible or interrupted outcomes, which this adapter reports
    as a status, for the length of a solve (the caller's logging is left as it was)."""
    logger = logging.getLogger("pyomo.contrib.solver")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def solve_highs(m: pyo.ConcreteModel, opts: SolveOptions, solver: Any = None) -> SolveResult:
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    solver = solver or Highs()
    if not solver.available():
        raise SolverNotFound("highspy is not installed (pip install 'highspy>=1.15')")
    raw = dict(opts.raw)
    if opts.seed is not None:
        raw.setdefault("random_seed", int(opts.seed))
    config = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False, tee=opts.tee,
                  solver_options=raw)
    if opts.time_limit is not None:
        config["time_limit"] = float(opts.time_limit)
    if opts.mip_gap is not None:
        config["rel_gap"] = float(opts.mip_gap)
    if opts.threads is not None:
        config["threads"] = int(opts.threads)
    start = time.perf_counter()
    with quiet_pyomo():
        results = solver.solve(m, **config)
    seconds = time.perf_counter() - start
    term = results.termination_condition
    has = results.solution_status in (SolutionStatus.feasible, SolutionStatus.optimal)
    if has:
        results.solution_loader.load_vars()
    if term == TerminationCondition.convergenceCriteriaSatisfied and has:
        status = "optimal"
    elif term in (TerminationCondition.provenInfeasible, TerminationCondition.locallyInfeasible,
                  TerminationCondition.infeasibleOrUnbounded):
        status = "infeasible"
    elif term == TerminationCondition.unbounded:
        status = "unbounded"
    elif term == TerminationCondition.error:
        status = "error"
    else:
        status = "feasible" if has else "no_solution"
    objective = results.incumbent_objective if has else None
    bound = results.objective_bound
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    nodes = getattr(results.extra_info, "mip_node_count", None)
    return SolveResult(status, term.name, objective, bound, relative_gap(objective, bound), seconds,
                       nodes if nodes is not None and nodes >= 0 else None, "highs", version("highspy"))


def legacy_solver(name: str) -> Any:
    """Pyomo's `SolverFactory(name)`, or `SolverNotFound`. Pyomo logs a traceback for an unknown
    name; that is this function's answer, so the log is held back."""
    import pyomo.environ as pyo

    logger = logging.getLogger("pyomo")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        solver = pyo.SolverFactory(name)
        ok = solver is not None and solver.available(exception_flag=False)
    except Exception:
        ok = False
    finally:
        logger.setLevel(level)
    if not ok:
        raise SolverNotFound("Pyomo cannot run this solver here (not installed or not known)")
    return solver


def check_solver(name: str) -> None:
    """Raise `SolverNotFound` now, before any work, if `name` cannot be run here."""
    if name in HIGHS_NAMES:
        if importlib.util.find_spec("highspy") is None:  # what Pyomo's `Highs().available()` asks, without Pyomo
            raise SolverNotFound("highspy is not installed (pip install 'highspy>=1.15')")
        return
    legacy_solver(name)


def solve_legacy(m: pyo.ConcreteModel, opts: SolveOptions) -> SolveResult:
    import pyomo.environ as pyo
    from pyomo.opt import SolutionStatus, TerminationCondition

    solver = legacy_solver(opts.solver)
    start = time.perf_counter()
    results = solver.solve(m, load_solutions=False, tee=opts.tee, options=dict(opts.raw))
    seconds = time.perf_counter() - start
    term = results.solver.termination_condition
    has = len(results.solution) > 0 and results.solution(0).status in (
        SolutionStatus.optimal, SolutionStatus.feasible, SolutionStatus.locallyOptimal)
    if has:
        m.solutions.load_from(results)
    if term == TerminationCondition.optimal and has:
        status = "optimal"
    elif term in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
        status = "infeasible"
    elif term == TerminationCondition.unbounded:
        status = "unbounded"
    elif term in (TerminationCondition.error, TerminationCondition.solverFailure):
        status = "error"
    else:
        status = "feasible" if has else "no_solution"
    objective = pyo.value(m.objective) if has else None
    bound = results.problem.lower_bound if results.problem.lower_bound is not None else None
    bound = float(bound) if bound is not None and math.isfinite(float(bound)) else None
    ver = ".".join(map(str, solver.version() or ())) if hasattr(solver, "version") else "unknown"
    return SolveResult(status, str(term), objective, bound, relative_gap(objective, bound), seconds,
                       None, opts.solver, ver)


def lp_duals(m: pyo.ConcreteModel, opts: SolveOptions) -> np.ndarray | None:
    """Row duals of the LP left when every integer variable is fixed at its loaded value (HiGHS
    only; None otherwise). Rows not created (empty) get 0."""
    import pyomo.environ as pyo

    if opts.solver not in HIGHS_NAMES:
        return None
    from pyomo.contrib.solver.solvers.highs import Highs

    # Fixed integer columns still make HiGHS run its MIP path (no duals): make them continuous too.
    changed = []
    for con in m.cuts:  # cuts (`RowBlock.cut`) are not the model's own rows: they take no price
        con.deactivate()
    for var in m.columns:
        if var.is_integer() and var.value is not None:
            changed.append((var, var.domain, var.fixed))
            var.fix(round(var.value))
            var.domain = pyo.Reals
    try:
        solver = Highs()
        config = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False,
                      solver_options=dict(opts.raw))
        if opts.time_limit is not None:
            config["time_limit"] = float(opts.time_limit)
        with quiet_pyomo():
            results = solver.solve(m, **config)
        try:
            found = results.solution_loader.get_duals()
        except Exception:  # no dual solution (an LP with no free variable, or a solver failure)
            return None
        return np.array([0.0 if c is None else float(found.get(c, 0.0)) for c in m.rows])
    finally:
        for con in m.cuts:
            con.activate()
        for var, domain, was_fixed in changed:
            var.domain = domain
            if not was_fixed:
                var.unfix()


def preload() -> None:
    """Import what a solve through Pyomo needs, in this process: a forked child imports anew what its
    parent had not (pyomo took a forked solve of the demo from 0.4 s to 1.3 s, and a 5-point Pareto
    front from 10 s to 21 s)."""
    import pyomo.environ  # noqa: F401
    from pyomo.contrib.solver.common.results import SolutionStatus  # noqa: F401
    from pyomo.contrib.solver.solvers.highs import Highs  # noqa: F401


def solve(problem: Problem, opts: SolveOptions, duals: bool = False, listen: Any = None, plan: Any = None
          ) -> tuple[SolveResult, np.ndarray | None, np.ndarray | None]:
    """Build the Pyomo model, solve it, and return the result, column values and row duals.
    `listen(cancel)` is given a function that asks the running HiGHS solve to stop; `plan(result,
    values)` is called with the plan as soon as there is one, before the duals are computed."""
    start = time.perf_counter()
    m = to_pyomo(problem)
    if opts.time_limit is not None:  # the build is part of the time the solve was given
        opts = replace(opts, time_limit=max(0.01, opts.time_limit - (time.perf_counter() - start)))
    if opts.solver in HIGHS_NAMES:
        from pyomo.contrib.solver.solvers.highs import Highs

        solver = Highs()
        if listen is not None:
            def cancel() -> None:
                while getattr(solver, "_solver_model", None) is None:
                    time.sleep(0.01)
                solver._solver_model.cancelSolve()  # honoured by the interrupt callbacks Pyomo sets
            listen(cancel)
        result = solve_highs(m, opts, solver)
    else:
        try:
            result = solve_legacy(m, opts)
        except SolverNotFound:
            raise
        except Exception as exc:  # a solver that fails in its own way still yields a status
            result = SolveResult("error", "error", None, None, None, 0.0, None, opts.solver, "unknown", str(exc))
            if plan is not None:
                plan(result, None)
            return result, None, None
    x = values(m) if result.has_solution else None
    if plan is not None:
        plan(result, x)
    if x is None:
        return result, None, None
    y = lp_duals(m, opts) if duals else None
    return result, x, y
