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

import math
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
from model.families.assign import may_retire
from model.loader import RawDoc
from model.options import FORMULATIONS, BuildOptions
from model.plans import check_results, kpis_problem, read_json, read_plan
from model.run import keep_levels, solve_levels
from model.validate import validate
from solvers import SolveOptions, solve
from solvers.highs_direct import Kept


def terms() -> list[str]:
    """The per-module objective terms of a placement (the KPI registry's per-pair terms)."""
    return [k.name for k in kpis.registry().values() if k.objective and k.pair is not None]


@dataclass
class Explanation:
    """Why a bundle went where it went.

    `costs` has a row per park shown (where the bundle is, the next-best parks), one for staying
    ("(stays)") and, where the bundle may close, one for closing ("(closes)"): park, each weighted
    term per module (a term only staying or closing has, such as stay_cost or retire_cost, in a
    column of its own, 0 at the parks), total, placed, forced_objective (the re-solve's
    objective, or its status), delta (forced_objective − the plan's objective), delta_low and
    delta_high (what forcing can cost at least and at most, given the gaps: the forced optimum
    lies in [its bound, its objective], the plan's optimum in [bound, objective], and forcing
    never costs less than 0), verdict ("the plan itself": the bundle is all there already, so
    keeping the plan costs 0 and nothing is re-solved; "effect": forcing costs at least
    delta_low > 0; "within tolerance": the gaps allow 0, so the delta may be solver noise;
    "better plan found": the re-solve beat the plan, which was not optimal; "unknown": no bound;
    "breaks level K": with a lexicographic objective, no forced plan keeps level K within the run's
    limit for it, and forced_objective says by how much; or the re-solve's status). `excluded`
    has a row per park the bundle cannot go to: park, reason, and for a park too small for one
    module the tightest resource, what the park has of it with every upgrade ready in time built
    (`available`) and what one module needs (`needed`)."""

    industry: str
    placed: dict[str, float]  # park -> modules (staying under "(stays)", closed under "(closes)")
    costs: pd.DataFrame
    excluded: pd.DataFrame  # park, reason, resource, available, needed
    objective: float  # the plan's (or, with prove, the re-solved plan's) objective
    check: list[str]  # what the independent checker finds wrong with the run's plan (empty: nothing)
    when: dict[str, str] | None = None  # with periods: park -> the periods of the bundle's moves there
    note: str = ""  # how to read the costs
    bound: float | None = None  # the proven lower bound on the plan's optimum (None: unknown)
    gap: float | None = None  # the plan's relative gap (kpis.json, or the re-solve's with prove)
    prove: float | None = None  # the gap every solve was made at (None: the run's own options)
    tolerance: str = ""  # what the gaps allow, in words


def load_run(folder: Path) -> tuple[Loaded, dict, dict]:
    """The instance as solved, run.json and kpis.json of a results folder."""
    for name in ("instance.json", "run.json", "kpis.json"):  # allocations.csv: only a run with a plan has one
        if not (folder / name).is_file():
            raise InputError([Problem(str(folder), "(results folder)", f"missing {name}",
                                      "a folder written by `industry-transfer solve`")])
    data = read_json(folder / "instance.json")
    raw = RawDoc(data, {}, str(folder / "instance.json"), "")
    loaded = Loaded(validate(raw), raw, None)
    run, kpis = read_json(folder / "run.json"), read_json(folder / "kpis.json")
    problems = (("kpis.json", kpis_problem(kpis)), ("run.json", None if isinstance(run, dict) else "not a mapping"))
    for name, why in problems:
        if why is not None:
            raise InputError([Problem(str(folder / name), "(file)", f"not as this tool writes it: {why}",
                                      "a folder written by `industry-transfer solve`")])
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


def _at_origin(data: Data, industry: str, kind: str) -> dict[str, float]:
    """The weighted objective terms per module of `industry` staying (`kind` "stay") or closed
    ("retire"), by KPI, as the objective counts them (`_present`); terms weighted 0 left out."""
    at = data.industry.index.get_loc(industry)
    out = {}
    for k in kpis.registry().values():
        per = getattr(k, kind)
        if k.objective and per is not None and data.inst.weight(k.name):
            out[k.name] = float(_present(data, k.name, lambda view, _, f=per: f(view)[at])) * data.inst.weight(k.name)
    return out


def rerun_options(folder: Path, run: dict, mip_gap: float | None = None,
                  time_limit: float | None = None) -> tuple[BuildOptions, SolveOptions]:
    """The formulation and solver options of a run (run.json), to re-solve it as it was solved;
    `mip_gap` and `time_limit`, when given, replace the run's own."""
    opts = run.get("options") if isinstance(run.get("options"), dict) else {}
    if opts.get("formulation", "strong") not in FORMULATIONS or opts.get("solver", "highs") not in ("highs", None) \
            or opts.get("backend", "direct") not in ("direct", "pyomo"):
        raise InputError([Problem(str(folder / "run.json"), "options", "not a formulation and solver this tool can "
                                  "re-solve with", "a run of `solve` with HiGHS")])
    threads = opts.get("threads")
    solve_opts = SolveOptions(time_limit=time_limit if time_limit is not None else
                              _number(opts.get("time_limit"), 1e-3, 1e7),
                              mip_gap=mip_gap if mip_gap is not None else _number(opts.get("mip_gap"), 0.0, 1.0),
                              threads=threads if isinstance(threads, int) and 1 <= threads <= 256 else None,
                              seed=opts.get("seed") if isinstance(opts.get("seed"), int) else None,
                              backend=opts.get("backend") or "direct")
    return BuildOptions(opts.get("formulation") or "strong"), solve_opts


def _too_small(full: Data, row: int, park: str, modules: float, whole: bool = False) -> dict[str, Any]:
    """Why not one module (or, `whole`, not the whole bundle) fits at a park: the resources it has
    less of, with every upgrade built (in the period where it has the most room), than that
    needs; the tightest first."""
    inst = full.inst
    best: tuple[float, list[tuple[float, str, float, float]]] | None = None
    assert full.ready is not None
    for t, view in enumerate(full.views or [full]):
        p = int(view.pairs.at[row, "p"])
        avail = view.capacity[p].copy()
        # the upgrades whose capacity is there in period t: one whose lead time outlasts the horizon never is
        ups = (view.upgrades["p"].to_numpy() == p) & (full.ready[:, t] >= 0)
        if ups.any():
            avail += view.adds[ups].sum(axis=0)
        use = view.use[row]
        short = sorted((avail[k] / use[k], view.resources[k], float(avail[k]), float(use[k]))
                       for k in range(len(view.resources)) if use[k] > 0)
        fits = short[0][0] if short else float("inf")
        if best is None or fits > best[0]:
            best = (fits, [s for s in short if s[0] < (modules if whole else min(1.0, modules)) - 1e-9])
    assert best is not None
    ever = {(pk, u) for (pk, u), r in zip(zip(full.upgrades["park"], full.upgrades["upgrade"]), full.ready.max(axis=1))
            if r >= 0} if len(full.upgrades) else set()
    upgrades = [u for pk in inst.parks if pk.id == park for u in pk.upgrades]

    def built(resource: str) -> str:  # only the upgrades that add this resource count towards it
        adding = [u.id for u in upgrades if u.adds.get(resource, 0) > 0]
        late = [u for u in adding if (park, u) not in ever]
        ready = [u for u in adding if (park, u) in ever]
        said = f"capacity + {', '.join(ready)}" if ready else "capacity; no upgrade adds it" if not late else "capacity"
        return said + (f"; {', '.join(late)} never ready within the horizon (lead time)" if late else "")

    from model.report import _fmt

    first = best[1][0] if best[1] else (0.0, "", math.nan, math.nan)
    if whole:  # room for some modules, not all: forcing the bundle there cannot be done
        parts = [f"{k}: {_fmt(a)} {inst.resources[k].unit} available ({built(k)}), {_fmt(u)} per module, "
                 f"{_fmt(u * modules)} for all {_fmt(modules)}" for _, k, a, u in best[1]]
        return {"park": park, "reason": f"room for {_fmt(math.floor(best[0] + 1e-9))} of the {_fmt(modules)} "
                "modules, not the whole bundle: " + ("; ".join(parts) or "a rule or the plan's other limits"),
                "resource": first[1], "available": first[2], "needed": first[3] * modules}
    parts = [f"{k}: {_fmt(a)} {inst.resources[k].unit} available ({built(k)}), {_fmt(u)} needed per module"
             for _, k, a, u in best[1]]
    return {"park": park, "reason": "too small: " + ("; ".join(parts) or "not one module fits"),
            "resource": first[1], "available": first[2], "needed": first[3]}


def _run_levels(folder: Path, kpis: dict, count: int) -> list[float]:
    """The run's optimum of each earlier lexicographic level (kpis.json `levels`)."""
    records = kpis.get("levels") if isinstance(kpis.get("levels"), list) else []
    bests = [r.get("objective") if isinstance(r, dict) else None for r in records[:count - 1]]
    if len(bests) != count - 1 or not all(isinstance(b, (int, float)) and math.isfinite(b) for b in bests):
        raise InputError([Problem(str(folder / "kpis.json"), "levels", "not the objective of each of the "
                                  f"{count} lexicographic levels", "the kpis.json a lexicographic run of `solve` "
                                  "wrote")])
    return [float(b) for b in bests]


def _broken_level(data: Data, build_opts: BuildOptions, solve_opts: SolveOptions, levels: list,
                  limits: list[float], changes: list) -> tuple[str, str] | None:
    """Where a forcing that cannot keep the run's earlier levels breaks them: the forced problem
    solved level by level on its own, its first level whose optimum is above the run's limit for
    it: (verdict, what it costs there). None when the forced problem has no plan at all."""
    problem = assemble(data, build_opts)
    for name, at, lo, hi in changes:
        block = problem.var(name)
        block.lb[np.asarray(at, dtype=np.int64)], block.ub[np.asarray(at, dtype=np.int64)] = lo, hi
    _, records = solve_levels(problem, levels[:-1], solve_opts)
    for j, (record, limit) in enumerate(zip(records, limits), start=1):
        value = record.get("objective")
        if value is None:
            return None
        if value > limit + _zero(value, limit):
            return f"breaks level {j}", f"level {j}: {value:,.6g} > {limit:,.6g}"
    return None


def _zero(*values: float | None) -> float:
    """What counts as 0 for objectives of this size (HiGHS's absolute gap 1e-6, and round-off)."""
    return 1e-6 + 1e-9 * max([abs(v) for v in values if v is not None] or [0.0])


def explain(folder: Path, industry: str, candidates: int = 5, prove: float | None = None,
            time_limit: float | None = None) -> Explanation:
    """Explain a bundle's place in a run's plan. `prove` (a relative gap, 0 for proven optima)
    re-solves the plan itself and every forcing at that gap, each within `time_limit` seconds;
    without it the forcings are solved with the run's own options and the run's own bound is used."""
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
    if got.plan.retire.get(industry, 0.0) > 0:
        placed["(closes)"] = got.plan.retire[industry]

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

    reasons = []
    for n, r in zip(rows.index, table.itertuples()):
        if r.forbidden_by:
            rule = next(x for x in inst.rules if x.id == r.forbidden_by)
            reasons.append({"park": r.park, "reason": f"rule {rule.id} forbids it ({rule.source})", "resource": "",
                            "available": math.nan, "needed": math.nan})
        elif r.x_max < min(1.0, modules) - 1e-9:
            reasons.append(_too_small(full, n, r.park, modules))
        elif r.x_max < modules - 1e-9:  # a candidate for some modules; forcing all of them there fails
            reasons.append(_too_small(full, n, r.park, modules, whole=True))
    excluded = pd.DataFrame(reasons, columns=["park", "reason", "resource", "available", "needed"])

    usable = table[(table["forbidden_by"] == "") & (table["x_max"] >= min(1.0, modules) - 1e-9)]
    usable = usable.sort_values("total", kind="stable")
    others = usable[usable["placed"] == 0].head(candidates)
    shown = pd.concat([usable[usable["placed"] > 0], others]).drop(columns=["forbidden_by"])

    build_opts, solve_opts = rerun_options(folder, run, prove, time_limit)
    # Staying (and closing, where the bundle may close) as rows of their own, each term in its
    # column: a term no park has (stay_cost, retire_cost) gets a column, 0 at the parks.
    ends = [("(stays)", _at_origin(full, industry, "stay"))] + (
        [("(closes)", _at_origin(full, industry, "retire"))] if industry in may_retire(inst) else [])
    for term in dict.fromkeys(t for _, parts in ends for t in parts):
        if term not in shown:
            shown.insert(shown.columns.get_loc("total"), term, 0.0)
    shown = pd.concat([shown, pd.DataFrame([{"park": end, **{t: 0.0 for t in per_module}, **parts,
                                             "total": sum(parts.values()), "placed": placed.get(end, 0.0),
                                             "x_max": modules} for end, parts in ends])], ignore_index=True)
    shown = shown.fillna({t: 0.0 for _, parts in ends for t in parts})
    data = build_data(inst)
    must = bool(full.industry.at[industry, "must_transfer"])
    forced, delta = [], []
    levels = inst.levels()
    # One problem, kept loaded in HiGHS (direct back-end) and changed in place for each forcing:
    # the bound of one column set, the solve, the bound put back. A lexicographic objective keeps
    # its earlier levels where the run kept them (each within its tolerance of the run's optimum
    # of it) and minimises the last: forcing is compared with the run in the run's own terms. (Each
    # forced problem solved level by level on its own terms set its earlier levels by its own,
    # worse, optima: a forcing that cost 6.5 kt on the first level read as 8 saved on the last.)
    problem = assemble(data, build_opts)
    limits: list[float] = []
    if len(levels) > 1:
        limits = keep_levels(problem, levels, _run_levels(folder, kpis, len(levels)))
    problem.weights = levels[-1][0]
    kept = Kept(problem) if solve_opts.path == "direct" else None
    # The plan's optimum lies in [bound, objective]; with prove, the plan is re-solved too, and
    # the tighter of each end is kept (the folder's plan is a plan of the instance as well).
    upper = float(kpis["objective"])
    lower = kpis.get("bound") if isinstance(kpis.get("bound"), (int, float)) else None
    gap = kpis.get("gap")
    if prove is not None:
        again = solve(problem, solve_opts, kept=kept)
        if again.has_solution:
            upper = min(upper, float(again.objective))
        if again.bound is not None:
            lower = again.bound if lower is None else max(float(lower), float(again.bound))
        from solvers.result import relative_gap

        gap = relative_gap(upper, lower)
    lower = float(lower) if lower is not None else None
    eps = _zero(upper, lower)
    lows, highs, verdicts = [], [], []
    for park in shown["park"]:
        if park == "(stays)" and must:
            forced.append("not allowed (must_transfer)")
            delta.append(None)
            lows.append(None)
            highs.append(None)
            verdicts.append("not allowed")
            continue
        if prove is None and abs(placed.get(park, 0.0) - modules) <= 1e-9:
            # The bundle is all there already: the plan itself is a plan of the forced problem, so
            # forcing costs nothing against the plan; no re-solve (its gap would only add noise).
            forced.append(float(kpis["objective"]))
            delta.append(0.0)
            lows.append(0.0)
            highs.append(upper - lower if lower is not None else None)
            verdicts.append("the plan itself")
            continue
        # The forcing as bounds (block, positions, lb, ub), put back after the solve.
        if data.phased:  # every module ends up there, moving when it pays: every other place closed to it
            xs = problem.var("x")
            changes = [("x", np.flatnonzero((xs.keys[0] == industry) & (xs.keys[1] != park)), 0.0, 0.0)]
            if park != "(stays)":
                changes.append(("stay", [problem.var("stay").col(industry) - problem.var("stay").start], 0.0, 0.0))
            if park != "(closes)" and "retire" in problem.variables:
                changes.append(("retire", np.flatnonzero(problem.var("retire").keys[0] == industry), 0.0, 0.0))
        else:
            name = {"(stays)": "stay", "(closes)": "retire"}.get(park, "x")
            block = problem.var(name)
            changes = [(name, [(block.col(industry) if name != "x" else block.col(industry, park)) - block.start],
                        modules, modules)]
        saved = []
        for name, at, lo, hi in changes:
            block, at = problem.var(name), np.asarray(at, dtype=np.int64)
            saved.append((name, at, block.lb[at].copy(), block.ub[at].copy()))
            if kept is not None:
                kept.change_col_bounds(name, at, lo, hi)
            else:
                block.lb[at], block.ub[at] = lo, hi
        result = solve(problem, solve_opts, kept=kept)
        for name, at, lb, ub in saved:
            if kept is not None:
                kept.change_col_bounds(name, at, lb, ub)
            else:
                problem.var(name).lb[at], problem.var(name).ub[at] = lb, ub
        broken = _broken_level(data, build_opts, solve_opts, levels, limits, changes) \
            if limits and result.status == "infeasible" else None
        forced.append(result.objective if result.has_solution else broken[1] if broken else result.status)
        delta.append(result.objective - upper if result.has_solution else None)
        if not result.has_solution:
            lows.append(None)
            highs.append(None)
            verdicts.append(broken[0] if broken else result.status)
            continue
        # Forcing restricts the plan: its optimum is at least the unforced optimum.
        low = max(0.0, result.bound - upper) if result.bound is not None else None
        high = result.objective - lower if lower is not None else None
        lows.append(low)
        highs.append(high)
        if result.objective < upper - eps:
            verdicts.append("better plan found")
        elif low is None or high is None:
            verdicts.append("unknown")
        elif low > eps:
            verdicts.append("effect")
        else:
            verdicts.append("within tolerance")
    shown = shown.assign(forced_objective=forced, delta=delta, delta_low=lows, delta_high=highs, verdict=verdicts)
    unweighted = [t for t in per_module if weights[t] == 0 and t in shown]  # columns of zeros say nothing
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
    if lower is None:
        tolerance = ("the run reports no bound: how far its objective is from the optimum is unknown, and so "
                     "is whether a forcing's delta is an effect")
    else:
        again = f" after re-solving at mip_gap {prove:g}" if prove is not None else ""
        tolerance = (f"the plan's optimum lies between {upper:,.6g} and its bound {lower:,.6g} (gap "
                     f"{(gap or 0):.2g}{again}): a forcing whose delta the two gaps allow to be 0 is within "
                     "solver tolerance, not an effect")
    named = set(excluded["park"])
    row_of = dict(zip(rows["park"], rows.index))
    for park, got in zip(shown["park"], forced):
        if got == "infeasible" and park not in named and park not in ("(stays)", "(closes)"):
            short = _too_small(full, row_of[park], park, modules, whole=True)
            if short["resource"]:  # a resource it is short of, with only the upgrades ready in time
                excluded.loc[len(excluded)] = short
                continue
            # The bundle fits the park alone; what the plan must place there, or a rule, leaves no room.
            excluded.loc[len(excluded)] = {"park": park, "resource": "", "available": math.nan, "needed": math.nan,
                                           "reason": "the whole bundle fits the park alone, but no plan has it there "
                                                     "(forcing it is infeasible: other bundles that must go there, or "
                                                     "a rule, need the room)"}
    if "better plan found" in verdicts:
        tolerance += ("; a forced re-solve found a plan better than the run's: the run was not optimal (its "
                      "bundle need not be where it is)")
    return Explanation(industry, placed, shown.reset_index(drop=True), excluded, upper,
                       report.violations + report.mismatches, when, note, lower, gap, prove, tolerance)
