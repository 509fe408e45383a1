"""Why did a bundle go where it went? Its costs at each park, the price of forcing it elsewhere,
and the rules and capacities that keep it out of the other parks.

Works from a results folder alone: `instance.json` is the instance as solved, `run.json` the
options. Forcing re-solves the whole plan with all the bundle's modules at the park
(x[i,p] = modules_i), so the other bundles may move too: the difference in objective is what
forcing costs the plan, not just the bundle. With periods the bundle's modules may go to the park
only (or only stay), each moving when it pays, and its costs per module are present values of a
module moved (or staying) from the first period on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model import Loaded, kpis
from model.assemble import assemble
from model.data import Data, build_data
from model.errors import InputError, Problem
from model.loader import RawDoc
from model.options import FORMULATIONS, BuildOptions
from model.plans import check_results, read_json, read_plan, reported_kpis
from model.run import solve_levels
from model.validate import validate
from solvers import SolveOptions, solve
from solvers.highs_direct import Kept


def terms() -> list[str]:
    """The per-module objective terms of a placement (the KPI registry's per-pair terms)."""
    return [k.name for k in kpis.registry().values() if k.objective and k.pair is not None]


@dataclass
class Explanation:
    industry: str
    placed: dict[str, float]  # park -> modules (stays under "(stays)")
    costs: pd.DataFrame  # park, each weighted term per module, total, placed, forced_objective, delta
    excluded: pd.DataFrame  # park, reason
    objective: float
    check: list[str]  # what the independent checker finds wrong with the run's plan (empty: nothing)
    when: dict[str, str] | None = None  # with periods: park -> the periods of the bundle's moves there
    note: str = ""  # how to read the costs


def load_run(folder: Path) -> tuple[Loaded, dict, dict]:
    """The instance as solved, run.json and kpis.json of a results folder."""
    for name in ("instance.json", "run.json", "kpis.json", "allocations.csv"):
        if not (folder / name).is_file():
            raise InputError([Problem(str(folder), "(results folder)", f"missing {name}",
                                      "a folder written by `industry-transfer solve`")])
    data = read_json(folder / "instance.json")
    raw = RawDoc(data, {}, str(folder / "instance.json"), "")
    loaded = Loaded(validate(raw), raw, None)
    run, kpis = read_json(folder / "run.json"), reported_kpis(read_json(folder / "kpis.json"))
    if kpis is None or not isinstance(run, dict):
        raise InputError([Problem(str(folder), "(results folder)", "kpis.json or run.json is not as this tool "
                                  "writes it", "a folder written by `industry-transfer solve`")])
    return loaded, run, kpis


def _number(value: object, low: float, high: float) -> float | None:
    """A limit from run.json, if it is one (a hand-edited file is not trusted)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
    return float(value) if ok else None


def _present(data: Data, kpi: str, coef: Callable[[Data, str], Any]) -> Any:
    """A per-module figure as the objective counts it: itself in a single period; with periods,
    its present value for a module moved (or staying) from the first period on."""
    if not data.phased:
        return coef(data, kpi)
    f = kpis.factor(data, kpi)
    span = [0] if kpis.once(kpi) else range(data.count)
    return sum(float(f[t]) * coef(data.at(t), kpi) for t in span)


def explain(folder: Path, industry: str, candidates: int = 5) -> Explanation:
    loaded, run, kpis = load_run(folder)
    inst = loaded.instance
    if industry not in {i.id for i in inst.industries}:
        raise InputError([Problem("--industry", industry, "no such industry in the run",
                                  "one of: " + ", ".join(i.id for i in inst.industries[:20])
                                  + (", ..." if len(inst.industries) > 20 else ""))])
    if kpis.get("objective") is None:
        raise InputError([Problem(str(folder), "(results folder)", f"the run has no plan ({kpis['status']})",
                                  "a run that found a plan")])
    got = read_plan(folder, inst)
    report, _ = check_results(folder, inst)
    placed = {p: v for (i, p), v in got.plan.x.items() if i == industry}
    if got.plan.stay.get(industry, 0.0) > 0:
        placed["(stays)"] = got.plan.stay[industry]

    full = build_data(inst, keep_forbidden=True)
    rows = full.pairs[full.pairs["industry"] == industry]
    per_module = terms()
    weights = {t: inst.weight(t) for t in per_module}
    table = pd.DataFrame({"park": rows["park"].to_numpy(), "forbidden_by": rows["forbidden_by"].to_numpy(),
                          "x_max": rows["x_max"].to_numpy()})
    for t in per_module:
        table[t] = _present(full, t, lambda view, name: view.pair_coef(name)[rows.index.to_numpy()]) * weights[t]
    table["total"] = table[per_module].sum(axis=1)
    table["placed"] = table["park"].map(placed).fillna(0.0)
    modules = float(full.industry.at[industry, "modules"])
    stay_cost = sum(float(_present(full, kpi, lambda view, _, c=column: view.industry.at[industry, c]))
                    * inst.weight(kpi) for kpi, column in (("stay_cost", "stay_cost"), ("co2", "stay_co2")))

    reasons = []
    for r in table.itertuples():
        if r.forbidden_by:
            rule = next(x for x in inst.rules if x.id == r.forbidden_by)
            reasons.append({"park": r.park, "reason": f"rule {rule.id} forbids it ({rule.source})"})
        elif r.x_max < min(1.0, modules) - 1e-9:
            reasons.append({"park": r.park, "reason": "too small: not one module fits, even with every upgrade"})
    excluded = pd.DataFrame(reasons, columns=["park", "reason"])

    usable = table[(table["forbidden_by"] == "") & (table["x_max"] >= min(1.0, modules) - 1e-9)]
    usable = usable.sort_values("total", kind="stable")
    others = usable[usable["placed"] == 0].head(candidates)
    shown = pd.concat([usable[usable["placed"] > 0], others]).drop(columns=["forbidden_by"])

    opts = run.get("options") if isinstance(run.get("options"), dict) else {}
    if opts.get("formulation", "strong") not in FORMULATIONS or opts.get("solver", "highs") not in ("highs", None) \
            or opts.get("backend", "direct") not in ("direct", "pyomo"):
        raise InputError([Problem(str(folder / "run.json"), "options", "not a formulation and solver explain can "
                                  "re-solve with", "a run of `solve` with HiGHS")])
    solve_opts = SolveOptions(time_limit=_number(opts.get("time_limit"), 1e-3, 1e7),
                              mip_gap=_number(opts.get("mip_gap"), 0.0, 1.0),
                              seed=opts.get("seed") if isinstance(opts.get("seed"), int) else None,
                              backend=opts.get("backend") or "direct")
    stays = {"park": "(stays)", **{t: 0.0 for t in per_module}, "total": stay_cost,
             "placed": placed.get("(stays)", 0.0), "x_max": modules}
    shown = pd.concat([shown, pd.DataFrame([stays])], ignore_index=True)
    data = build_data(inst)
    build_opts = BuildOptions(opts.get("formulation") or "strong")
    must = bool(full.industry.at[industry, "must_transfer"])
    forced, delta = [], []
    levels = inst.levels()
    # One problem, kept loaded in HiGHS (direct back-end) and changed in place for each forcing:
    # the bound of one column set, the solve, the bound put back. A lexicographic objective is
    # solved level by level, as the run was, on a problem of its own each time.
    problem = assemble(data, build_opts)
    kept = Kept(problem) if solve_opts.path == "direct" and len(levels) == 1 else None
    for park in shown["park"]:
        if park == "(stays)" and must:
            forced.append("not allowed (must_transfer)")
            delta.append(None)
            continue
        if len(levels) > 1:
            problem = assemble(data, build_opts)
        if data.phased:  # every module ends up there, moving when it pays: every other place closed to it
            name, block = "x", problem.var("x")
            shut = np.flatnonzero((block.keys[0] == industry) & (block.keys[1] != park))
            if park != "(stays)":
                problem.var("stay").ub[problem.var("stay").col(industry) - problem.var("stay").start] = 0.0
            lb, ub = block.lb[shut].copy(), block.ub[shut].copy()
            block.ub[shut] = 0.0
            if kept is not None:
                kept.change_col_bounds("x", shut, block.lb[shut], block.ub[shut])
                if park != "(stays)":
                    kept.change_col_bounds("stay", [problem.var("stay").col(industry) - problem.var("stay").start],
                                           0.0, 0.0)
            at, before = shut, (lb, ub)
        else:
            name = "stay" if park == "(stays)" else "x"
            block = problem.var(name)
            at = (block.col(industry) if park == "(stays)" else block.col(industry, park)) - block.start
            before = (float(block.lb[at]), float(block.ub[at]))
            if kept is not None:
                kept.change_col_bounds(name, [at], modules, modules)
            else:
                block.lb[at] = block.ub[at] = modules
        if len(levels) > 1:
            result, _ = solve_levels(problem, levels, solve_opts)
        else:
            result = solve(problem, solve_opts, kept=kept)
        if data.phased:
            block.lb[at], block.ub[at] = before
            stay = problem.var("stay")
            n = stay.col(industry) - stay.start
            stay.ub[n] = 0.0 if must else modules
            if kept is not None:
                kept.change_col_bounds("x", at, *before)
                kept.change_col_bounds("stay", [n], 0.0, stay.ub[n])
        elif kept is not None:
            kept.change_col_bounds(name, [at], *before)
        else:
            block.lb[at], block.ub[at] = before
        forced.append(result.objective if result.has_solution else result.status)
        delta.append(result.objective - kpis["objective"] if result.has_solution else None)
    shown = shown.assign(forced_objective=forced, delta=delta)
    unweighted = [t for t in per_module if weights[t] == 0]  # columns of zeros say nothing
    shown = shown.drop(columns=["x_max", *unweighted])
    when, note = None, ""
    if data.phased:
        assert data.periods is not None
        when = {}
        for (i, p, q), _ in sorted(got.plan.moves.items(), key=lambda kv: data.periods.ids.index(kv[0][2])):
            if i == industry:
                when[p] = ", ".join(dict.fromkeys([*filter(None, when.get(p, "").split(", ")), q]))
        ids = data.periods.ids
        note = (f"Costs per module are present values of a module moved in the first period ({ids[0]}) and kept "
                f"there through {ids[-1]} (staying: kept at the origin); forcing lets each module move when it pays.")
    return Explanation(industry, placed, shown.reset_index(drop=True), excluded, float(kpis["objective"]),
                       report.violations + report.mismatches, when, note)
