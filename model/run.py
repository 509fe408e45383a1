"""One solve, end to end: data, model, solver, plan, independent check, tables, run record."""

from __future__ import annotations

import functools
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from model import Loaded
from model.build import BuildOptions, build
from model.check import CheckReport, check
from model.data import Data, build_data
from model.families.objective import weighted
from model.report import write_results
from model.results import Plan, allocation_table, extract, kpi_values, limit_table, park_table
from solvers import SolveOptions, SolveResult, solve
from solvers.control import OutOfTime, budget_alarm, phase


@dataclass
class Outcome:
    loaded: Loaded
    data: Data | None  # None when the budget ran out before the model was built
    model: pyo.ConcreteModel | None
    result: SolveResult
    build_options: BuildOptions
    solve_options: SolveOptions
    timings: dict[str, float] = field(default_factory=dict)
    plan: Plan | None = None
    kpis: dict[str, float] = field(default_factory=dict)
    check: CheckReport | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    levels: list[dict] = field(default_factory=list)  # per lexicographic level: status, objective, seconds

    def summary(self) -> dict[str, Any]:
        """The content of kpis.json."""
        r = self.result
        out: dict[str, Any] = {"status": r.status, "objective": r.objective, "bound": r.bound, "gap": r.gap,
                               "solve_seconds": r.seconds, "kpis": dict(self.kpis)}
        if self.levels:
            out["levels"] = self.levels
        if self.plan is not None:
            out["kpis"].update({
                "modules_moved": sum(self.plan.x.values()),
                "modules_stayed": sum(self.plan.stay.values()),
                "parks_open": sum(self.plan.open.values()),
                "upgrades_built": len(self.plan.upgrades),
            })
        return out

    def size(self) -> dict[str, int]:
        if self.model is None or self.data is None:
            return {}
        variables = list(self.model.component_data_objects(pyo.Var, descend_into=True))
        free = [v for v in variables if not v.fixed]
        return {"variables": len(free), "binary": sum(1 for v in free if v.is_binary()),
                "integer": sum(1 for v in free if v.is_integer() and not v.is_binary()),
                "constraints": sum(1 for _ in self.model.component_data_objects(pyo.Constraint, active=True)),
                "eligible_pairs": len(self.data.pairs)}

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


Stages = list[tuple[dict[str, float], float]]  # levels: (weights over KPI terms, relative tolerance)


def solve_levels(m: pyo.ConcreteModel, stages: Stages, options: SolveOptions,
                 duals: bool = False) -> tuple[SolveResult, list[dict]]:
    """Minimise each level in turn; each later level keeps the earlier ones within their tolerance:
        level_j ≤ optimum_j + tolerance_j · |optimum_j|   (plus 1e-9 relative, for round-off).
    With `duals`, the last level's result carries the LP duals with the integer decisions held."""
    m.levels = pyo.ConstraintList(doc="earlier lexicographic levels kept near their optimum")
    records, total = [], 0.0
    for k, (weights, tolerance) in enumerate(stages):
        m.objective.set_value(weighted(m, weights))
        result = solve(m, options, duals=duals and k == len(stages) - 1)
        total += result.seconds
        records.append({"level": k + 1, "status": result.status, "objective": result.objective,
                        "seconds": result.seconds})
        if not result.has_solution:
            break
        if k < len(stages) - 1:
            best = float(result.objective)
            m.levels.add(weighted(m, weights) <= best + tolerance * abs(best) + 1e-9 * max(1.0, abs(best)))
    result.seconds = total
    return result, records


def solve_instance(loaded: Loaded, build_options: BuildOptions | None = None,
                   solve_options: SolveOptions | None = None, stages: Stages | None = None,
                   prepare: Callable[[pyo.ConcreteModel, Data], None] | None = None) -> Outcome:
    """Build and solve; read back, check and tabulate the plan when there is one.

    `stages` replaces the instance's objective (one level, or its lexicographic levels);
    `prepare` may add rows to the model before the solve (the ε-constraint of `pareto`).
    """
    build_options = build_options or BuildOptions()
    solve_options = solve_options or SolveOptions()
    stages = stages or loaded.instance.stages()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    try:
        with budget_alarm():  # the command's time limit holds while building too
            data = build_data(loaded.instance)
            timings["data"] = time.perf_counter() - t
            t = time.perf_counter()
            m = build(data, build_options)
            if prepare is not None:
                prepare(m, data)
    except OutOfTime:
        timings["build"] = time.perf_counter() - t
        return _out_of_time(loaded, build_options, solve_options, timings)
    timings["build"] = time.perf_counter() - t
    result, levels = solve_levels(m, stages, solve_options, duals=True)
    timings["solve"] = result.seconds
    out = Outcome(loaded, data, m, result, build_options, solve_options, timings)
    out.levels = levels if len(stages) > 1 else []
    if result.has_solution:
        with phase("writing"):  # a plan exists: a signal now waits until it is written, not discards it
            _tabulate(out, m, data, stages)
    return out


def _tabulate(out: Outcome, m: pyo.ConcreteModel, data: Data, stages: Stages) -> None:
    """Read the plan out of the solved model, check it independently, and make its tables."""
    loaded, result, timings = out.loaded, out.result, out.timings
    t = time.perf_counter()
    out.plan = extract(m, data)
    out.kpis = kpi_values(m)
    out.check = check(loaded.instance, out.plan, out.kpis, result.objective, stages[-1][0])
    timings["check"] = time.perf_counter() - t
    duals = result.duals or {}
    timings["duals"] = result.dual_seconds
    out.tables = {"allocations.csv": allocation_table(out.plan, data),
                  "parks.csv": park_table(out.plan, data, m, duals),
                  "limits.csv": limit_table(m, data, out.plan, duals)}


def _out_of_time(loaded: Loaded, build_options: BuildOptions, solve_options: SolveOptions,
                 timings: dict[str, float]) -> Outcome:
    """The outcome of a run whose budget ran out before the model was built: no model, no plan."""
    result = SolveResult("no_solution", "time_limit", None, None, None, 0.0, None, solve_options.solver, "",
                         f"the time limit was reached while building the model ({sum(timings.values()):.1f} s)")
    return Outcome(loaded, None, None, result, build_options, solve_options, timings)


def write_outcome(out: Outcome, folder: Path, extra: dict[str, dict] | None = None) -> None:
    """The results folder; instance.json is the instance as solved (overlays applied), so that
    `compare` and `explain` can work from the folder alone. A signal while writing waits for the
    folder to be complete."""
    with phase("writing"):
        write_results(folder, out.tables, {"kpis.json": out.summary(), "run.json": out.run_record(),
                                           "instance.json": out.loaded.raw.data, **(extra or {})})
