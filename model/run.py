"""One solve, end to end: data, model, solver, plan, independent check, tables, run record."""

from __future__ import annotations

import functools
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import Loaded, transfers
from model.assemble import assemble
from model.check import CheckReport, check
from model.data import Data, build_data
from model.families import FAMILIES
from model.heuristic import heuristic
from model.ledger import ledger
from model.options import BuildOptions
from model.plan import Plan
from model.report import write_results
from model.results import allocation_table, extract, family_tables, kpi_values
from model.timeline import chart, kpis_by_period, period_table
from solvers import Problem, SolveOptions, SolveResult, solve
from solvers.control import CONTROL, OutOfTime, budget_alarm, phase
from solvers.options import AUTO_PAIRS, search_method
from solvers.problem import Solution
from solvers.result import relative_gap


@dataclass
class Outcome:
    loaded: Loaded
    data: Data | None  # None when the budget ran out before the problem was built
    problem: Problem | None
    result: SolveResult
    build_options: BuildOptions
    solve_options: SolveOptions
    timings: dict[str, float] = field(default_factory=dict)
    plan: Plan | None = None
    kpis: dict[str, float] = field(default_factory=dict)
    check: CheckReport | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    levels: list[dict] = field(default_factory=list)  # per lexicographic level: status, objective, seconds
    weights: dict[str, float] = field(default_factory=dict)  # of the objective reported (the last level)
    files: dict[str, bytes] = field(default_factory=dict)  # charts (timeline.png with periods)
    heuristic: SolveResult | None = None  # the construction heuristic's run, when there was one

    def summary(self) -> dict[str, Any]:
        """The content of kpis.json."""
        r = self.result
        out: dict[str, Any] = {"status": r.status, "objective": r.objective, "bound": r.bound, "gap": r.gap,
                               "solve_seconds": r.seconds, "kpis": dict(self.kpis)}
        if r.solver == "heuristic":
            out["method"] = "construction heuristic"
        elif r.method == "kernel":
            out["method"] = "kernel search"
        if r.solver != "heuristic" and self.heuristic is not None and self.heuristic.termination != "not_run":
            out["start_objective"] = self.heuristic.objective  # the heuristic's plan, HiGHS's MIP start
        if self.levels:
            out["levels"] = self.levels
        if self.weights:
            out["objective_weights"] = {t: w for t, w in self.weights.items() if w != 0}
        periods = self.data.periods if self.data is not None else None
        if periods is not None and periods.phased:
            out["periods"] = [{"id": q, "years": int(n)} for q, n in zip(periods.ids, periods.years)]
            out["discount_rate"] = periods.rate
            out["kpis_are"] = "present values over the periods"
        if self.plan is not None:
            out["kpis"].update({
                "modules_moved": sum(self.plan.x.values()),
                "modules_stayed": sum(self.plan.stay.values()),
                # where a module may close: moved + stayed + retired is every module
                **({"modules_retired": sum(self.plan.retire.values())}
                   if self.data is not None and len(self.data.retiring) else {}),
                "parks_open": sum(self.plan.open.values()),
                "upgrades_built": len(self.plan.upgrades),
            })
        return out

    def size(self) -> dict[str, int]:
        if self.problem is None or self.data is None:
            return {}
        return {**self.problem.size(), "eligible_pairs": len(self.data.pairs)}

    def run_record(self) -> dict[str, Any]:
        """The content of run.json."""
        versions = {}
        for pkg in ("pyomo", "highspy", "pandas", "pydantic"):
            try:
                versions[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                versions[pkg] = None
        raw = self.loaded.raw
        return {
            "instance": {"file": raw.file, "name": self.loaded.instance.name, "sha256": raw.hash},
            "scenario": self.loaded.scenario, "overlays": raw.overlays,
            "solver": {"name": self.result.solver, "version": self.result.version,
                       "termination": self.result.termination, "nodes": self.result.nodes,
                       "message": self.result.message},
            "options": {**self.solve_options.as_dict(), "formulation": self.build_options.formulation},
            **({"heuristic": {"status": self.heuristic.status, "objective": self.heuristic.objective,
                              "seconds": self.heuristic.seconds, "message": self.heuristic.message}}
               if self.heuristic is not None and self.heuristic.termination != "not_run" else {}),
            "size": self.size(), "timings": self.timings,
            "check": {"ok": self.check.ok if self.check else None,
                      "violations": self.check.violations if self.check else [],
                      "mismatches": self.check.mismatches if self.check else []},
            "tool": tool_version(),
            "versions": {"python": platform.python_version(), **versions},
        }


@functools.lru_cache(maxsize=1)
def tool_version() -> dict[str, Any]:
    """This tool's version, and the git commit of its source where it runs from a checkout
    (`modified` when that checkout has uncommitted changes to tracked files)."""
    try:
        version = metadata.version("industry-transfer")
    except metadata.PackageNotFoundError:
        version = None
    out: dict[str, Any] = {"name": "industry-transfer", "version": version, "commit": None, "modified": None}
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return out
    try:
        git = ["git", "-C", str(source)]
        out["commit"] = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                       check=True).stdout.strip() or None
        changes = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                 text=True, timeout=5, check=True).stdout
        out["modified"] = bool(changes.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return out


Levels = list[tuple[dict[str, float], float]]  # (weights over KPI terms, relative tolerance) per level


def solve_levels(problem: Problem, levels: Levels, options: SolveOptions,
                 duals: bool = False) -> tuple[SolveResult, list[dict]]:
    """Minimise each level in turn; each later level keeps the earlier ones within their tolerance:
        levels[j]:  level_j ≤ optimum_j + tolerance_j · |optimum_j|   (plus 1e-9 relative, for round-off),
    starting from the plan of the level before (a MIP start, which that row keeps feasible).
    With `duals`, the last level's result carries the LP duals with the integer decisions held."""
    records, total, bests = [], 0.0, []
    for k, (weights, _) in enumerate(levels):
        problem.weights = weights
        result = solve(problem, options, duals=duals and k == len(levels) - 1)
        total += result.seconds
        records.append({"level": k + 1, "status": result.status, "objective": result.objective,
                        "seconds": result.seconds})
        if not result.has_solution:
            break
        if k < len(levels) - 1:
            bests.append(float(result.objective))
            keep_levels(problem, levels, bests)
            problem.start = problem.solution.values.copy() if problem.solution is not None else None
    problem.start = None
    result.seconds = total
    return result, records


def keep_levels(problem: Problem, levels: Levels, bests: list[float]) -> list[float]:
    """The rows `levels` that keep each earlier level j (of `bests`, its optimum) within its
    tolerance: level_j ≤ best_j + tolerance_j·|best_j| (+ 1e-9 relative, for round-off), replacing
    any such rows of before. Returns the bounds."""
    kept = [(problem.weighted(weights), best + tolerance * abs(best) + 1e-9 * max(1.0, abs(best)))
            for (weights, tolerance), best in zip(levels, bests)]
    if "levels" in problem.constraints:
        problem.drop_rows("levels")
    problem.add_lin_rows("levels", (np.arange(1, len(kept) + 1),), [e for e, _ in kept],
                         hi=[b for _, b in kept], doc="earlier lexicographic levels kept near their optimum")
    return [b for _, b in kept]


def solve_instance(loaded: Loaded, build_options: BuildOptions | None = None,
                   solve_options: SolveOptions | None = None, levels: Levels | None = None,
                   prepare: Callable[[Problem, Data], None] | None = None) -> Outcome:
    """Build and solve; read back, check and tabulate the plan when there is one.

    `levels` replaces the instance's objective (one level, or its lexicographic levels);
    `prepare` may add rows to the problem before the solve (the ε-constraint of `pareto`).
    """
    build_options = build_options or BuildOptions()
    solve_options = solve_options or SolveOptions()
    levels = levels or loaded.instance.levels()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    try:
        with budget_alarm():  # the command's time limit holds while building too
            data = build_data(loaded.instance)
            timings["data"] = time.perf_counter() - t
            t = time.perf_counter()
            problem = assemble(data, build_options)
            if prepare is not None:
                prepare(problem, data)
    except OutOfTime:
        timings["build"] = time.perf_counter() - t
        return _out_of_time(loaded, build_options, solve_options, timings)
    timings["build"] = time.perf_counter() - t
    found = _heuristic(problem, data, levels, solve_options, timings)
    if solve_options.heuristic == "only":
        result, records = found, []
    else:
        start = problem.start
        result, records = solve_levels(problem, levels, solve_options, duals=True)
        result = _keep_start(problem, levels, found, start, result)
    timings["solve"] = result.seconds
    out = Outcome(loaded, data, problem, result, build_options, solve_options, timings)
    out.heuristic = found
    out.levels = records if len(levels) > 1 else []
    out.weights = dict(levels[-1][0])
    if result.has_solution:
        with phase("writing"):  # a plan exists: a signal now waits until it is written, not discards it
            _tabulate(out, problem, data, levels)
    return out


def _heuristic(problem: Problem, data: Data, levels: Levels, options: SolveOptions,
               timings: dict[str, float]) -> SolveResult:
    """Run the construction heuristic when the options ask for it (on the first level's
    objective): its plan becomes the MIP start (`problem.start`), or, with `only`, the solution.
    The result says how it went (a plan: `feasible`, with no bound)."""
    mode = options.heuristic
    if mode == "auto":
        mode = "start" if len(problem.var("x")) >= AUTO_PAIRS else "off"
    if mode == "start" and options.path != "direct":
        mode = "off"  # a MIP start reaches HiGHS through the direct back-end only
    if mode == "off":
        return SolveResult("no_solution", "not_run", None, None, None, 0.0, None, "heuristic", "")
    left = CONTROL.remaining()
    limit = options.time_limit if options.time_limit is not None else (60.0 if mode == "only" else 30.0)
    kernel = False
    if mode != "only":  # a start is worth a share of the budget, not all of it
        limit = min(30.0, 0.25 * limit)
        # A kernel search finds better plans from the LP than the heuristic's neighbourhood MIP
        # (1000 × 200: 584,440 against 589,612) and needs the time for its LP: the heuristic stops
        # after its local search. Its first plan still gets the time it needs (2000 × 500: about 4 s).
        kernel = search_method(options, len(problem.var("x"))) == "kernel"
    if left is not None:
        limit = max(0.0, min(limit, 0.8 * left))
    problem.weights = levels[0][0]
    with phase("solving"):  # a signal stops the heuristic, which keeps its plan (as a solver keeps its incumbent)
        found = heuristic(problem, data, time_limit=limit, options=options, quick=kernel)
    timings["heuristic"] = found.seconds
    stopped = CONTROL.stop.is_set()
    if found.values is None:
        if stopped:
            return SolveResult("interrupted", "interrupted", None, None, None, found.seconds, None, "heuristic",
                               tool_version().get("version") or "",
                               f"the construction heuristic was stopped by {CONTROL.signal_name or 'a signal'}")
        return SolveResult("no_solution", "heuristic_failed", None, None, None, found.seconds, None, "heuristic",
                           tool_version().get("version") or "", found.message)
    objective = found.objective
    if mode == "only":
        problem.solution = Solution(found.values)
        problem.weights = levels[-1][0]  # the objective reported is the last level's
        cost, offset = problem.objective()
        objective = float(cost @ found.values) + offset
    else:
        problem.start = found.values
    message = f"construction heuristic: {found.moves} moves in {found.seconds:.1f} s"
    if stopped and mode == "only":  # its plan so far, reported as an interrupted solver's incumbent is
        return SolveResult("interrupted", "interrupted", objective, None, None, found.seconds, None, "heuristic",
                           tool_version().get("version") or "",
                           f"{message}, stopped by {CONTROL.signal_name or 'a signal'}")
    return SolveResult("feasible", "heuristic", objective, None, None, found.seconds, None, "heuristic",
                       tool_version().get("version") or "", message)


def _keep_start(problem: Problem, levels: Levels, found: SolveResult, start: np.ndarray | None,
                result: SolveResult) -> SolveResult:
    """The heuristic's plan when the solver, given it as a start, ends with nothing (stopped in
    its presolve, or ended at the time limit): a plan found is never lost. Its objective is the
    heuristic's, its bound the solver's if it proved one."""
    if result.has_solution or found.objective is None or start is None or len(levels) > 1:
        return result
    problem.solution = Solution(start)
    # An interrupted run stays interrupted (its plan goes beside a folder's results, exit 4).
    return replace(result, status="interrupted" if result.status == "interrupted" else "feasible",
                   objective=found.objective,
                   gap=relative_gap(found.objective, result.bound),
                   message=f"{result.message}; the heuristic's plan (the MIP start) is reported".lstrip("; "))


def _tabulate(out: Outcome, problem: Problem, data: Data, levels: Levels) -> None:
    """Read the plan out of the solved problem, check it independently, and make its tables."""
    loaded, result, timings = out.loaded, out.result, out.timings
    t = time.perf_counter()
    _polish(problem, data, levels, result)
    out.plan = extract(problem, data)
    out.kpis = kpi_values(problem)
    out.check = check(loaded.instance, out.plan, out.kpis, result.objective, levels[-1][0])
    timings["check"] = time.perf_counter() - t
    timings["duals"] = result.dual_seconds
    out.tables = {"allocations.csv": allocation_table(out.plan, data), **family_tables(out.plan, data, problem),
                  "ledger.csv": ledger(out.plan, data, problem)}
    moved = transfers.table(problem, data)
    if len(moved):
        out.tables["transfers.csv"] = moved
    if data.phased:
        out.tables["periods.csv"] = period_table(out.plan, data, out.tables["parks.csv"])
        out.tables["kpis_by_period.csv"] = kpis_by_period(problem, data, levels[-1][0])
        out.files["timeline.png"] = chart(out.tables["periods.csv"], out.tables["allocations.csv"],
                                          f"{loaded.instance.name}: the plan over time")


def _polish(problem: Problem, data: Data, levels: Levels, result: SolveResult) -> None:
    """Let each family set the variables that only count what the plan earns (a bonus) to what it
    earns: an incumbent stopped before optimality may not have pushed them up. The objective
    reported moves by what that adds (never above the solver's value; the bound stays valid)."""
    assert problem.solution is not None
    before = {t: e.value(problem.solution.values) for t, e in problem.expressions.items()}
    for family in FAMILIES:
        if hasattr(family, "polish"):
            family.polish(problem, data)
    if result.objective is not None:
        weights = levels[-1][0]
        gained = sum(w * (problem.expressions[t].value(problem.solution.values) - before[t])
                     for t, w in weights.items() if w and t in problem.expressions)
        if gained:
            result.objective += gained
            if result.gap is not None:  # the gap of the objective reported, against the same bound
                result.gap = relative_gap(result.objective, result.bound)


def _out_of_time(loaded: Loaded, build_options: BuildOptions, solve_options: SolveOptions,
                 timings: dict[str, float]) -> Outcome:
    """The outcome of a run whose budget ran out before the problem was built: no problem, no plan."""
    result = SolveResult("no_solution", "time_limit", None, None, None, 0.0, None, solve_options.solver, "",
                         f"the time limit was reached while building the model ({sum(timings.values()):.1f} s)")
    return Outcome(loaded, None, None, result, build_options, solve_options, timings)


def diagnose_outcome(out: Outcome, time_limit: float | None = None) -> Any:
    """The diagnosis of an infeasible outcome (`model.diagnose`), or None for any other."""
    if out.result.status != "infeasible":
        return None
    from model.diagnose import diagnose

    return diagnose(out.loaded, None, SolveOptions(mip_gap=0.0, time_limit=time_limit))


def diagnosis_doc(diagnosis: Any) -> dict:
    """The content of diagnosis.json."""
    return {"status": diagnosis.status, "iis": diagnosis.iis, "iis_note": diagnosis.iis_note or None,
            "relaxations": [{"family": r.family, "component": r.component, "key": list(r.key), "amount": r.amount,
                             "text": r.text} for r in diagnosis.relaxations]}


def write_outcome(out: Outcome, folder: Path, diagnosis: Any = None, extra: dict[str, dict] | None = None,
                  report: Callable[[Path], dict[str, bytes]] | None = None, checked: bool = False) -> None:
    """The results folder; instance.json is the instance as solved (overlays applied), so that
    `compare` and `explain` can work from the folder alone; diagnosis.json when a diagnosis is
    given; `report` makes files from the folder as written (report.html), swapped in with it.
    A signal while writing waits for the folder to be complete."""
    docs = {"kpis.json": out.summary(), "run.json": out.run_record(), "instance.json": out.loaded.raw.data,
            **(extra or {})}
    if diagnosis is not None:
        docs["diagnosis.json"] = diagnosis_doc(diagnosis)
    with phase("writing"):
        write_results(folder, out.tables, docs, files=out.files, finish=report, checked=checked)


def run(loaded: Loaded, folder: Path, build_options: BuildOptions | None = None,
        solve_options: SolveOptions | None = None, diagnose: bool = True) -> tuple[Outcome, Any]:
    """Solve, diagnose if infeasible, and write the results folder: what `industry-transfer solve`
    does, for a library caller. Returns the outcome and the diagnosis (None unless infeasible)."""
    out = solve_instance(loaded, build_options, solve_options)
    diagnosis = diagnose_outcome(out, (solve_options or SolveOptions()).time_limit) if diagnose else None
    write_outcome(out, folder, diagnosis)
    return out, diagnosis
