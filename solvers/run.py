"""Solve a Pyomo model and return a status; never raise on infeasible, unbounded or a limit.

HiGHS goes through `pyomo.contrib.solver`'s interface (Pyomo's recommended one); any other solver
Pyomo knows goes through the legacy `SolverFactory`. Both raise on a non-optimal outcome unless
asked not to: that is asked here, once, and the outcome becomes a `SolveResult`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

import pyomo.environ as pyo

from solvers.options import SolveOptions

STATUSES = ("optimal", "feasible", "infeasible", "unbounded", "no_solution", "error")


class SolverNotFound(Exception):
    """The named solver is not one Pyomo can run here."""


@dataclass
class SolveResult:
    status: str  # one of STATUSES
    termination: str  # the solver's own word
    objective: float | None
    bound: float | None
    gap: float | None  # |objective − bound| / |objective|, as HiGHS reports it
    seconds: float
    nodes: int | None
    solver: str
    version: str
    message: str = ""

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")

    def as_dict(self) -> dict:
        return asdict(self)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    diff = abs(objective - bound)
    if diff <= 1e-12 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _solve_highs(m: pyo.ConcreteModel, opts: SolveOptions) -> SolveResult:
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    solver = Highs()
    if not solver.available():
        raise SolverNotFound("highs: highspy is not installed (pip install 'highspy>=1.15')")
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
                       nodes if nodes is not None and nodes >= 0 else None, "highs", _version("highspy"))


def _solve_legacy(m: pyo.ConcreteModel, opts: SolveOptions) -> SolveResult:
    from pyomo.opt import SolutionStatus, TerminationCondition

    solver = pyo.SolverFactory(opts.solver)
    if solver is None or not solver.available(exception_flag=False):
        raise SolverNotFound(f"{opts.solver}: Pyomo cannot run this solver here (not installed or not known)")
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
    version = ".".join(map(str, solver.version() or ())) if hasattr(solver, "version") else "unknown"
    return SolveResult(status, str(term), objective, bound, relative_gap(objective, bound), seconds,
                       None, opts.solver, version)


def solve(m: pyo.ConcreteModel, opts: SolveOptions | None = None) -> SolveResult:
    """Solve `m`, load the incumbent into its variables if there is one, and say how it went."""
    opts = opts or SolveOptions()
    # Pyomo logs warnings on infeasible outcomes that this adapter already reports as a status.
    logging.getLogger("pyomo.contrib.solver").setLevel(logging.ERROR)
    if opts.solver in ("highs", "appsi_highs"):
        return _solve_highs(m, opts)
    try:
        return _solve_legacy(m, opts)
    except SolverNotFound:
        raise
    except Exception as exc:  # a solver that fails in its own way still yields a status
        return SolveResult("error", "error", None, None, None, 0.0, None, opts.solver, "unknown", str(exc))


def lp_duals(m: pyo.ConcreteModel, opts: SolveOptions | None = None) -> dict[Any, float]:
    """Duals of the LP left when every integer variable is fixed at its loaded value.

    The standard way to price constraints of a MIP: with the integer decisions held, the duals say
    what one more unit of a right-hand side is worth to the continuous part of the plan. Rows
    without a free variable get no dual (absent from the result). Returns {constraint data: dual},
    duals as HiGHS reports them (∂objective/∂right-hand side). HiGHS only; {} otherwise.
    """
    opts = opts or SolveOptions()
    if opts.solver not in ("highs", "appsi_highs"):
        return {}
    from pyomo.contrib.solver.solvers.highs import Highs

    # Fixed integer columns still make HiGHS run its MIP path (no duals): make them continuous too.
    changed = []
    for var in m.component_data_objects(pyo.Var, active=True):
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
        results = solver.solve(m, **config)
        try:
            return dict(results.solution_loader.get_duals())
        except Exception:  # no dual solution (an LP with no free variable, or a solver failure)
            return {}
    finally:
        for var, domain, was_fixed in changed:
            var.domain = domain
            if not was_fixed:
                var.unfix()


def lp_iis(m: pyo.ConcreteModel) -> list[str] | None:
    """Names of an irreducible infeasible subset of the LP relaxation, or None if it is feasible.

    HiGHS finds the subset (`Highs.getIis`); its rows and column bounds are mapped back to the
    Pyomo names. This reaches into the contrib interface's solver model and index maps, which
    Pyomo 6.10 keeps private: if they move, the subset is simply not reported.
    """
    from pyomo.contrib.solver.common.results import TerminationCondition
    from pyomo.contrib.solver.solvers.highs import Highs

    relaxed = pyo.TransformationFactory("core.relax_integer_vars").create_using(m)
    solver = Highs()
    results = solver.solve(relaxed, load_solutions=False, raise_exception_on_nonoptimal_result=False)
    if results.termination_condition not in (TerminationCondition.provenInfeasible,
                                              TerminationCondition.infeasibleOrUnbounded):
        return None
    try:
        highs = solver._solver_model
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("iis_strategy", 4)  # kIisStrategyIrreducible
        _, iis = highs.getIis()
        rows = [solver._solver_con_to_pyomo_con_map[r].name for r in iis.row_index_]
        by_col = {ndx: solver._vars[vid][0] for vid, ndx in solver._pyomo_var_to_solver_var_map.items()}
        cols = [f"bound of {by_col[c].name}" for c in iis.col_index_ if c in by_col]
        # Rows say why; a long list of variable bounds (x ≥ 0 on every pair) only buries them.
        return rows + (cols if len(cols) <= 10 else [f"and {len(cols)} variable bounds"])
    except (AttributeError, KeyError, RuntimeError):
        return []
