"""Solve a `Problem` and return a status; never raise on infeasible, unbounded or a limit.

The problem reaches HiGHS directly (`solvers/highs_direct.py`, the default) or through Pyomo
(`solvers/pyomo_backend.py`, the reference, and the only way for other solvers).

HiGHS runs in a child process forked for the solve (it inherits the problem; the values, and the
duals if asked for, come back through a pipe as arrays). The parent keeps the budget and the
interrupts (`solvers.control`): it asks HiGHS to stop through its interrupt callback, which HiGHS
honours in the simplex, the IPM and branch-and-bound within a second, and kills the child where
HiGHS does not answer (its presolve checks neither the callback nor, on large models, its own
time limit). A killed child takes nothing with it: the parent's problem is untouched.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from solvers import highs_direct, pyomo_backend
from solvers.control import CONTROL, die_with_parent, phase
from solvers.options import HIGHS_NAMES, SolveOptions, search_method
from solvers.problem import Problem, Solution
from solvers.result import SolveResult, version

# Share of the time left that HiGHS gets as its own limit; the rest is for asking it to stop,
# stopping it hard if it does not, and writing the results.
SOLVER_SHARE = 0.9
GRACE = 10.0  # seconds HiGHS gets to stop after an interrupt (measured: 0.3 to 3.6 s) before it is ended


def solve(problem: Problem, opts: SolveOptions | None = None, duals: bool = False,
          kept: highs_direct.Kept | None = None) -> SolveResult:
    """Solve `problem`, load the incumbent (and the duals if asked for) into `problem.solution`,
    and say how it went.

    With `duals`, the row duals are those of the LP left when the integer decisions are held.
    `problem.start`, if set, is handed to HiGHS as a MIP start (direct back-end). `kept`: a model
    already loaded in HiGHS and changed in place since (direct back-end). The solve keeps to
    `opts.time_limit` and to what is left of the command's budget, and stops with its incumbent
    on Ctrl-C or SIGTERM (status `interrupted`).
    """
    opts = opts or SolveOptions()
    if opts.method == "auto":
        opts = replace(opts, method=search_method(opts, len(problem.var("x")) if "x" in problem.variables else 0))
    if opts.method == "kernel":  # its restricted MIPs come back here, each one solved as a whole
        from solvers import kernel

        # The whole search, its guide's Python loops included, in phase `solving`: a signal there ends
        # it with its best plan so far, as it ends HiGHS with its incumbent; in phase `idle` it would
        # abandon the plans already found (seen 12 s into gapd #5, inside column generation).
        with phase("solving"):
            result = kernel.solve(problem, replace(opts, method="mip"), duals)
        result.method = "kernel"
        return result
    problem.solution = None
    left = CONTROL.remaining()
    if left is not None:
        share = max(0.0, left * SOLVER_SHARE)
        opts = replace(opts, time_limit=share if opts.time_limit is None else min(opts.time_limit, share))
        if share <= 0.05:
            return _not_run(opts, "the command's time limit was reached before the solve")
    if CONTROL.stop.is_set():
        return _not_run(opts, f"stopped by {CONTROL.signal_name or 'a signal'} before the solve", "interrupted")
    if opts.solver in HIGHS_NAMES and hasattr(os, "fork"):
        return _solve_in_child(problem, opts, duals, kept)
    result, x, y = _solve_here(problem, opts, duals, kept)
    if x is not None:
        problem.solution = Solution(x, y)
    return result


def _solve_here(problem: Problem, opts: SolveOptions, duals: bool, kept: highs_direct.Kept | None,
                listen: Any = None, plan: Any = None) -> tuple[SolveResult, np.ndarray | None, np.ndarray | None]:
    """Solve in this process: the result, column values and row duals. `listen(cancel)` is given
    a way to stop the running solve; `plan(result, values)` gets the plan as soon as there is
    one, before the LP re-solve for the duals (so that a stop during it loses only the prices)."""
    if opts.path == "pyomo":
        return pyomo_backend.solve(problem, opts, duals, listen, plan)
    start = time.perf_counter()
    h = kept.highs if kept is not None else highs_direct.load(problem, opts, reduce=True)
    if opts.time_limit is not None:  # the hand-off is part of the time the solve was given
        opts = replace(opts, time_limit=max(0.01, opts.time_limit - (time.perf_counter() - start)))
    if listen is not None:
        listen(lambda: highs_direct.cancel(h))
    result, x = highs_direct.run(h, problem, opts, problem.start)
    if plan is not None:
        plan(result, x)
    y = highs_direct.lp_duals(h, problem, x, opts) if duals and x is not None else None
    return result, x, y


def _not_run(opts: SolveOptions, why: str, status: str = "no_solution") -> SolveResult:
    term = "interrupted" if status == "interrupted" else "time_limit"
    return SolveResult(status, term, None, None, None, 0.0, None, opts.solver, version("highspy"), why)


def _child(results: Any, control: Any, problem: Problem, opts: SolveOptions, duals: bool,
           kept: highs_direct.Kept | None) -> None:
    """The forked solve: report the result, the values, then the duals; stop when told to."""
    try:
        _child_solve(results, control, problem, opts, duals, kept)
    except BaseException as exc:  # reported as a status by the parent, with the cause
        with contextlib.suppress(OSError):
            results.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        results.close()


def _child_solve(results: Any, control: Any, problem: Problem, opts: SolveOptions, duals: bool,
                 kept: highs_direct.Kept | None) -> None:
    # The parent decides what a signal means: a Ctrl-C, or a SIGTERM sent to the whole process
    # group, asks it to stop HiGHS through the control pipe (keeping the incumbent), and it ends
    # this process itself if HiGHS does not answer. Were the child to die of the signal, the
    # incumbent would be lost.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent()
    import highspy

    # And start afresh here too, in case the parent's scheduler could not be stopped ("Invalid
    # argument" where the threads it would join are gone).
    with contextlib.suppress(RuntimeError):
        highspy.Highs.resetThreadScheduler(False)

    def listen(cancel: Any) -> None:
        def wait() -> None:
            try:
                control.recv()
            except (EOFError, OSError):
                return
            cancel()

        threading.Thread(target=wait, daemon=True).start()

    def plan(result: SolveResult, x: np.ndarray | None) -> None:
        results.send(("result", result, x))

    _, x, y = _solve_here(problem, opts, duals, kept, listen, plan)
    if duals and x is not None:
        results.send(("duals", y))


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
                                         "highs", version("highspy"), message[1])
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


def _solve_in_child(problem: Problem, opts: SolveOptions, duals: bool, kept: highs_direct.Kept | None
                    ) -> SolveResult:
    import highspy

    if opts.path == "pyomo":
        pyomo_backend.preload()
    # HiGHS's worker threads do not survive a fork, and a child that inherits a scheduler whose
    # threads are gone can wait for them for ever (seen after an in-process HiGHS run, the IIS of
    # the diagnosis): stop the parent's scheduler first, while its threads exist to be joined.
    with contextlib.suppress(RuntimeError):
        highspy.Highs.resetThreadScheduler(True)
    result_out, result_in = multiprocessing.Pipe(duplex=False)
    control_out, control_in = multiprocessing.Pipe(duplex=False)
    start = time.monotonic()
    child = None
    try:
        # A signal from the fork on asks HiGHS to stop instead of abandoning the work. Forked in
        # phase `idle`, a Ctrl-C in the fork's own handlers (logging's lock, released after it)
        # raised there, where Python can only print it, a traceback, and go on.
        with phase("solving"):
            child = _Forked(_child, result_in, control_out, problem, opts, duals, kept,
                            close=(result_out, control_in))
            result_in.close()
            control_out.close()
            got = _wait(child, result_out, control_in, opts.time_limit, duals, start)
    finally:
        if child is not None:
            if child.is_alive():
                child.kill()
            child.join()
        for end in (result_in, control_out, result_out, control_in):
            end.close()
    result, why = got.result, got.why
    seconds = time.monotonic() - start
    if result is None:  # stopped hard (or the child died): the problem is untouched
        status = "interrupted" if why == "interrupted" else ("no_solution" if why else "error")
        what = {"interrupted": f"stopped by {CONTROL.signal_name or 'a signal'}",
                "time_limit": "the time limit was reached"}.get(
            why, f"the solver process ended without a result (exit code {child.exitcode})")
        return SolveResult(status, why or "error", None, None, None, seconds, None, opts.solver,
                           version("highspy"), f"{what}; HiGHS did not stop when asked and was ended" if why else what)
    if got.values is not None:
        problem.solution = Solution(np.asarray(got.values, dtype=float), None)
    if why != got.why_then:  # stopped while computing the duals: the plan is whole, only the prices are lost
        result.message = (result.message + "; " if result.message else "") + "shadow prices not computed (" + (
            f"stopped by {CONTROL.signal_name or 'a signal'}" if why == "interrupted" else "time limit") + ")"
    why = got.why_then
    if why == "interrupted":
        result.status = "interrupted"
        result.termination = "interrupted"
        # what the solve said before (a fault of HiGHS met, a start kept) stays said
        result.message = f"stopped by {CONTROL.signal_name or 'a signal'}" + (
            "; the incumbent is reported" if result.objective is not None else "") + (
            f"; {result.message}" if result.message and not result.message.startswith("stopped by") else "")
    elif why == "time_limit" and result.status != "optimal":
        result.termination = "time_limit"
    if got.duals is not None and problem.solution is not None:
        problem.solution.duals = np.asarray(got.duals, dtype=float)
        result.dual_seconds = seconds - result.seconds
    elif duals and problem.solution is not None and why == got.why_then:
        result.message = (result.message + "; " if result.message else "") + (
            "shadow prices not computed (the LP with the integer decisions held gave no duals in the time left)")
    return result


class NotComputed(Exception):
    """A computation the budget or a signal cut short (its reason is the message)."""


MAX_IIS_ROWS = 30  # a subset of a thousand rows says less than its first thirty


def iis(problem: Problem) -> list[str] | None:
    """Names (`block[key]`) of an irreducible infeasible subset of the LP relaxation, or None if
    the relaxation is feasible. Rows say why; a long list of variable bounds only buries them.

    HiGHS computes it in a forked child (its IIS search checks neither a time limit nor an
    interrupt): the parent ends it at the command's deadline or on Ctrl-C / SIGTERM, and raises
    `NotComputed`.
    """
    found = _iis_in_child(problem) if hasattr(os, "fork") else highs_direct.iis_rows(problem)
    if found is None:
        return None
    rows, cols = found
    col_names, row_names = problem.names()
    out = [row_names[r] for r in rows[:MAX_IIS_ROWS]]
    if len(rows) > MAX_IIS_ROWS:
        out.append(f"and {len(rows) - MAX_IIS_ROWS} more rows")
    words = {"lower": "lower bound of", "upper": "upper bound of", "both": "bounds of"}
    bounds = [f"{words[side]} {col_names[c]}" for c, side in cols]
    return out + (bounds if len(bounds) <= 10 else [f"and {len(bounds)} variable bounds"])


def _iis_child(results: Any, problem: Problem) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent()
    try:
        results.send(("iis", highs_direct.iis_rows(problem)))
    finally:
        results.close()


def _iis_in_child(problem: Problem) -> tuple[list[int], list[tuple[int, str]]] | None:
    import highspy

    with contextlib.suppress(RuntimeError):
        highspy.Highs.resetThreadScheduler(True)
    result_out, result_in = multiprocessing.Pipe(duplex=False)
    child = None
    why = ""
    try:
        with phase("solving"):  # a signal from the fork on ends the search (`_solve_in_child`: why then)
            child = _Forked(_iis_child, result_in, problem, close=(result_out,))
            result_in.close()
            while True:
                if result_out.poll(0.05):
                    try:
                        message = result_out.recv()
                    except EOFError:
                        break
                    return message[1]
                if not child.is_alive() and not result_out.poll():
                    break
                left = CONTROL.remaining()
                if CONTROL.stop.is_set():
                    why = f"stopped by {CONTROL.signal_name or 'a signal'}"
                    break
                if left is not None and left <= 0:
                    why = "the time limit was reached"
                    break
    finally:
        if child is not None:
            if child.is_alive():
                child.kill()
            child.join()
        result_in.close()
        result_out.close()
    raise NotComputed(why or f"the search ended without an answer (exit code {child.exitcode if child else None})")
