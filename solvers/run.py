"""Solve a Pyomo model and return a status; never raise on infeasible, unbounded or a limit.

HiGHS goes through `pyomo.contrib.solver`'s interface (Pyomo's recommended one); any other solver
Pyomo knows goes through the legacy `SolverFactory`. Both raise on a non-optimal outcome unless
asked not to: that is asked here, once, and the outcome becomes a `SolveResult`.

HiGHS runs in a child process forked for the solve (it inherits the model; the values, and the
duals if asked for, come back through a pipe). The parent keeps the budget and the interrupts
(`solvers.control`): it asks HiGHS to stop through its interrupt callback, which HiGHS honours in
the simplex, the IPM and branch-and-bound within a second, and kills the child where HiGHS does
not answer (its presolve checks neither the callback nor, on large models, its own time limit).
A killed child takes nothing with it: the parent's model is untouched.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from typing import Any

import pyomo.environ as pyo

from solvers.control import CONTROL, die_with_parent, phase
from solvers.options import SolveOptions

STATUSES = ("optimal", "feasible", "interrupted", "infeasible", "unbounded", "no_solution", "error")
# Share of the time left that HiGHS gets as its own limit; the rest is for asking it to stop,
# stopping it hard if it does not, and writing the results.
SOLVER_SHARE = 0.9
GRACE = 10.0  # seconds HiGHS gets to stop after an interrupt (measured: 0.3 to 3.6 s) before it is ended


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
    duals: dict[Any, float] | None = field(default=None, repr=False, compare=False)  # see lp_duals
    dual_seconds: float = 0.0  # the LP re-solve for the duals, not in `seconds`

    @property
    def has_solution(self) -> bool:
        """A plan to report: optimal, feasible within a limit, or the incumbent of an interrupted solve."""
        return self.status in ("optimal", "feasible") or (self.status == "interrupted" and self.objective is not None)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("duals")
        return out


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


def _solve_highs(m: pyo.ConcreteModel, opts: SolveOptions, solver: Any = None) -> SolveResult:
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


def legacy_solver(name: str) -> Any:
    """Pyomo's `SolverFactory(name)`, or `SolverNotFound`. Pyomo logs a traceback for an unknown
    name; that is this function's answer, so the log is held back."""
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
    if name in ("highs", "appsi_highs"):
        from pyomo.contrib.solver.solvers.highs import Highs

        if not Highs().available():
            raise SolverNotFound("highspy is not installed (pip install 'highspy>=1.15')")
        return
    legacy_solver(name)


def _solve_legacy(m: pyo.ConcreteModel, opts: SolveOptions) -> SolveResult:
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
    version = ".".join(map(str, solver.version() or ())) if hasattr(solver, "version") else "unknown"
    return SolveResult(status, str(term), objective, bound, relative_gap(objective, bound), seconds,
                       None, opts.solver, version)


@contextlib.contextmanager
def _quiet_pyomo() -> Any:
    """Hold back Pyomo's warnings on infeasible or interrupted outcomes, which this adapter reports
    as a status, for the length of a solve (the caller's logging is left as it was)."""
    logger = logging.getLogger("pyomo.contrib.solver")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def solve(m: pyo.ConcreteModel, opts: SolveOptions | None = None, duals: bool = False) -> SolveResult:
    """Solve `m`, load the incumbent into its variables if there is one, and say how it went.

    With `duals`, `result.duals` holds the LP duals with the integer decisions held (`lp_duals`).
    The solve keeps to `opts.time_limit` and to what is left of the command's budget, and stops
    with its incumbent on Ctrl-C or SIGTERM (status `interrupted`).
    """
    opts = opts or SolveOptions()
    with _quiet_pyomo():
        return _solve(m, opts, duals)


def _solve(m: pyo.ConcreteModel, opts: SolveOptions, duals: bool) -> SolveResult:
    left = CONTROL.remaining()
    if left is not None:
        share = max(0.0, left * SOLVER_SHARE)
        opts = replace(opts, time_limit=share if opts.time_limit is None else min(opts.time_limit, share))
        if share <= 0.05:
            return _not_run(opts, "the command's time limit was reached before the solve")
    if CONTROL.stop.is_set():
        return _not_run(opts, f"stopped by {CONTROL.signal_name or 'a signal'} before the solve", "interrupted")
    if opts.solver in ("highs", "appsi_highs"):
        if hasattr(os, "fork"):
            return _solve_in_child(m, opts, duals)
        result = _solve_highs(m, opts)
        if duals and result.has_solution:
            result.duals = lp_duals(m, opts)
        return result
    try:
        return _solve_legacy(m, opts)
    except SolverNotFound:
        raise
    except Exception as exc:  # a solver that fails in its own way still yields a status
        return SolveResult("error", "error", None, None, None, 0.0, None, opts.solver, "unknown", str(exc))


def _not_run(opts: SolveOptions, why: str, status: str = "no_solution") -> SolveResult:
    term = "interrupted" if status == "interrupted" else "time_limit"
    return SolveResult(status, term, None, None, None, 0.0, None, opts.solver, _version("highspy"), why)


def _model_parts(m: pyo.ConcreteModel) -> tuple[list[Any], list[Any]]:
    """Variables and active constraints in the model's own order: the same in parent and child."""
    return (list(m.component_data_objects(pyo.Var, descend_into=True)),
            list(m.component_data_objects(pyo.Constraint, active=True, descend_into=True)))


def _child(results: Any, control: Any, m: pyo.ConcreteModel, opts: SolveOptions, duals: bool) -> None:
    """The forked solve: report the result, the values, then the duals; stop when told to."""
    try:
        _child_solve(results, control, m, opts, duals)
    except BaseException as exc:  # reported as a status by the parent, with the cause
        with contextlib.suppress(OSError):
            results.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        results.close()


def _child_solve(results: Any, control: Any, m: pyo.ConcreteModel, opts: SolveOptions, duals: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what a Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    import highspy
    from pyomo.contrib.solver.solvers.highs import Highs

    # And start afresh here too, in case the parent's scheduler could not be stopped ("Invalid
    # argument" where the threads it would join are gone).
    with contextlib.suppress(RuntimeError):
        highspy.Highs.resetThreadScheduler(False)
    solver = Highs()

    def listen() -> None:
        try:
            control.recv()
        except (EOFError, OSError):
            return
        while getattr(solver, "_solver_model", None) is None:
            time.sleep(0.01)
        solver._solver_model.cancelSolve()  # honoured by HiGHS's interrupt callbacks, which Pyomo sets

    threading.Thread(target=listen, daemon=True).start()
    result = _solve_highs(m, opts, solver)
    variables, constraints = _model_parts(m)
    results.send(("result", result, [v.value for v in variables] if result.has_solution else None))
    if duals and result.has_solution:
        found = lp_duals(m, opts)
        results.send(("duals", [found.get(c) for c in constraints]))


@dataclass
class _Received:
    result: SolveResult | None = None
    values: list[Any] | None = None
    duals: list[Any] | None = None
    why: str = ""  # why the solve was asked to stop: "interrupted" or "time_limit"
    why_then: str = ""  # the same, as it stood when the result came


def _wait(child: Any, results: Any, control: Any, limit: float | None, duals: bool, start: float) -> _Received:
    """Collect the child's messages; ask it to stop at the limit or on a signal, end it if it does not.

    HiGHS gets `limit` (SOLVER_SHARE of the time left); it is asked to stop halfway through the rest
    and ended at the deadline, or GRACE seconds after a signal, or at once on a second signal.
    """
    got = _Received()
    stop_at = None if limit is None else start + limit + 0.5 * (limit / SOLVER_SHARE - limit)
    kill_at = None if limit is None else start + limit / SOLVER_SHARE
    while True:
        if results.poll(0.05):
            try:
                message = results.recv()
            except EOFError:
                return got
            if message[0] == "result":
                got.result, got.values, got.why_then = message[1], message[2], got.why
                got.result.seconds = time.monotonic() - start
                if not duals or not got.result.has_solution:
                    return got
            elif message[0] == "duals":
                got.duals = message[1]
                return got
            else:
                got.result = SolveResult("error", "error", None, None, None, time.monotonic() - start, None,
                                         "highs", _version("highspy"), message[1])
                return got
            continue
        if not child.is_alive() and not results.poll():
            return got
        now = time.monotonic()
        if not got.why and CONTROL.stop.is_set():
            got.why, stop_at, kill_at = "interrupted", now, now + GRACE
            sys.stderr.write(f"{CONTROL.signal_name or 'Interrupted'}: stopping HiGHS and keeping its best plan "
                             f"(up to {GRACE:g} s; press Ctrl-C again to stop at once)\n")
            sys.stderr.flush()
        elif not got.why and stop_at is not None and now >= stop_at:
            got.why = "time_limit"
        if got.why and not control.closed:
            with contextlib.suppress(OSError):
                control.send("stop")
            control.close()
        if CONTROL.force.is_set() or (kill_at is not None and now >= kill_at):
            got.why = got.why or "time_limit"
            return got


class _Forked:
    """A child made with os.fork: multiprocessing refuses children to daemonic processes, which
    dask's workers are, and a plain fork needs nothing of what multiprocessing adds."""

    def __init__(self, target: Any, *args: Any, close: tuple[Any, ...] = ()) -> None:
        self.exitcode: int | None = None
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns into the caller's code
            code = 0
            try:
                for end in close:  # the parent's ends of the pipes
                    end.close()
                target(*args)
            except BaseException:
                code = 1
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)

    def is_alive(self) -> bool:
        if self.exitcode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.exitcode = os.waitstatus_to_exitcode(status)
        return self.exitcode is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def join(self) -> None:
        if self.exitcode is None:
            _, status = os.waitpid(self.pid, 0)
            self.exitcode = os.waitstatus_to_exitcode(status)


def _solve_in_child(m: pyo.ConcreteModel, opts: SolveOptions, duals: bool) -> SolveResult:
    import highspy

    # HiGHS's worker threads do not survive a fork, and a child that inherits a scheduler whose
    # threads are gone can wait for them for ever (seen after an in-process HiGHS run, the IIS of
    # the diagnosis): stop the parent's scheduler first, while its threads exist to be joined.
    with contextlib.suppress(RuntimeError):
        highspy.Highs.resetThreadScheduler(True)
    result_out, result_in = multiprocessing.Pipe(duplex=False)
    control_out, control_in = multiprocessing.Pipe(duplex=False)
    start = time.monotonic()
    child = _Forked(_child, result_in, control_out, m, opts, duals, close=(result_out, control_in))
    result_in.close()
    control_out.close()
    try:
        with phase("solving"):  # a signal now asks HiGHS to stop instead of abandoning the work
            got = _wait(child, result_out, control_in, opts.time_limit, duals, start)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        result_out.close()
        control_in.close()
    result, why = got.result, got.why
    seconds = time.monotonic() - start
    if result is None:  # stopped hard (or the child died): the model is untouched
        status = "interrupted" if why == "interrupted" else ("no_solution" if why else "error")
        what = {"interrupted": f"stopped by {CONTROL.signal_name or 'a signal'}",
                "time_limit": "the time limit was reached"}.get(
            why, f"the solver process ended without a result (exit code {child.exitcode})")
        return SolveResult(status, why or "error", None, None, None, seconds, None, "highs", _version("highspy"),
                           f"{what}; HiGHS did not stop when asked and was ended" if why else what)
    variables, constraints = _model_parts(m)
    for var, value in zip(variables, got.values or []):
        if not var.fixed:
            var.set_value(value, skip_validation=True)
    if why != got.why_then:  # stopped while computing the duals: the plan is whole, only the prices are lost
        result.message = (result.message + "; " if result.message else "") + "shadow prices not computed (" + (
            f"stopped by {CONTROL.signal_name or 'a signal'}" if why == "interrupted" else "time limit") + ")"
    why = got.why_then
    if why == "interrupted":
        result.status = "interrupted"
        result.termination = "interrupted"
        result.message = f"stopped by {CONTROL.signal_name or 'a signal'}" + (
            "; the incumbent is reported" if result.objective is not None else "")
    elif why == "time_limit" and result.status != "optimal":
        result.termination = "time_limit"
    if got.duals is not None:
        result.duals = {c: d for c, d in zip(constraints, got.duals) if d is not None}
        result.dual_seconds = seconds - result.seconds
    return result


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
    except (AttributeError, KeyError, RuntimeError) as exc:  # Pyomo's private maps moved: say so
        return [f"(the subset could not be read back from Pyomo's HiGHS interface: {type(exc).__name__})"]
