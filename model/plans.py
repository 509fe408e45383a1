"""Plans read from files: a results folder of this tool, or an allocations CSV made by hand or elsewhere.

`allocations.csv` needs the columns `industry`, `park` (empty for modules that stay) and
`modules`, and `period` (the period of the move) when the instance has periods; any other column
is ignored. Which parks open and which upgrades are built come from `parks.csv` (columns `park`,
`open`, `upgrades` as `a;b`, and `period` with periods: a park is open, an upgrade built, from the
first period its row says so) when one sits beside it, as in a results folder. Without it, the
parks hosting modules (and those already open) are taken as open (from their first move) and no
upgrade as built. Modules of an industry that no row places or keeps are taken to stay; each such
assumption is returned as a note, so the user sees what was inferred.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import kpis
from model.check import CheckReport, check
from model.errors import InputError, Problem, clip
from model.loader import not_a_file
from model.periods import periods_of, resolve
from model.plan import Plan
from model.schema import MAX_NUMBER, Instance
from model.transfers import decided_key, measures
from solvers.result import STATUSES, relative_gap

MAX_BYTES = 200 * 2**20  # an allocations table of a million rows is about 60 MB


@dataclass
class ReadPlan:
    plan: Plan
    notes: list[str] = field(default_factory=list)
    reported: dict[str, Any] | None = None  # kpis.json of a results folder: status, objective, kpis
    violations: list[str] = field(default_factory=list)  # what the files say that a plan may not do
                                                         # (a park closing after it opened)


def _number(text: str, where: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InputError([Problem(where, key, f"got {shown!r}", "a finite number")])
    return value


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV file with the required columns; errors name the file and line."""
    if not path.is_file():
        raise InputError([Problem(str(path), "(file)", not_a_file(path), "an allocations CSV or a results folder")])
    if path.stat().st_size > MAX_BYTES:
        raise InputError([Problem(str(path), "(file)", f"larger than {MAX_BYTES // 2**20} MB", "a smaller table")])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError):
        raise InputError([Problem(f"{path}:1", "(file)", "not a UTF-8 text file",
                                  "a CSV file in UTF-8")]) from None
    # The csv module's own line handling: str.splitlines() also breaks at a form feed or a line
    # separator inside a row, and joined a quoted cell's lines into one without a word.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = [h.strip() for h in reader.fieldnames or []]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError([Problem(f"{path}:1", "(header)", "column given twice: " + ", ".join(twice)[:80],
                                  "each column once")])
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError([Problem(f"{path}:1", "(header)", "missing column " + ", ".join(missing),
                                  "columns " + ", ".join(required))])
    reader.fieldnames = header
    out = []
    try:
        for row in reader:
            out.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}))
    except csv.Error as exc:
        raise InputError([Problem(f"{path}:{reader.line_num}", "(row)", f"not valid CSV ({exc})",
                                  "one row per line")]) from None
    return out


def read_plan(source: Path, inst: Instance) -> ReadPlan:
    """The plan in a results folder or an allocations CSV, in the instance's terms."""
    source = Path(source)
    folder = source if source.is_dir() else source.parent
    table = source / "allocations.csv" if source.is_dir() else source
    if source.is_dir() and not table.exists() and (source / "kpis.json").is_file():
        try:
            doc = json.loads((source / "kpis.json").read_text(encoding="utf-8"))
            status, planned = doc.get("status"), doc.get("objective") is not None
        except (ValueError, OSError, AttributeError):
            status, planned = None, False
        if planned:  # the run found one: its allocations.csv was removed
            raise InputError([Problem(str(source), "(results folder)", "missing allocations.csv (the run found "
                                      f"a plan: {str(status)[:40]})",
                                      "the folder as `industry-transfer solve` wrote it")])
        if isinstance(status, str):  # a results folder of a run that found no plan
            raise InputError([Problem(str(source), "(results folder)", f"the run has no plan ({status[:40]})",
                                      "a results folder of a run that found a plan, or an allocations CSV")])
    periods = periods_of(inst)
    out = ReadPlan(Plan(periods=periods.ids if periods.phased else ()))
    plan = out.plan
    modules = {i.id: i.modules for i in inst.industries}
    stays_given: set[str] = set()
    timed = ("period",) if periods.phased else ()
    rows = _rows(table, ("industry", "park", "modules"))
    given = bool(rows) and "period" in rows[0][1]
    if timed and not given:
        raise InputError([Problem(f"{table}:1", "(header)", "no column period: the plan is of one period",
                                  "a plan over the instance's periods (" + ", ".join(periods.ids) + "), with "
                                  "the period of each move in a column `period`")])
    if not timed and given and any(row.get("period") for _, row in rows):
        raise InputError([Problem(f"{table}:1", "period", "the plan is over periods but the instance has none",
                                  "a plan of one period (no `period` column), or the instance it was made for")])
    lines: dict[tuple[str, ...], list[int]] = {}
    for line, row in rows:
        where = f"{table}:{line}"
        value = _number(row["modules"], where, "modules")
        i, p = row["industry"], row["park"]
        if value < -1e-9 or value > modules.get(i, MAX_NUMBER) + 1e-9:  # rows are summed: a sum would hide either
            raise InputError([Problem(where, "modules", f"got {clip(row['modules'], 40)}",
                                      f"a number from 0 to the industry's {modules[i]} modules" if i in modules
                                      else "a number ≥ 0")])
        if "\n" in i or "\r" in i or "\n" in p or "\r" in p:
            raise InputError([Problem(where, "industry" if "\n" in i or "\r" in i else "park",
                                      "a line break inside a cell", "an id on one line")])
        fate = row.get("fate", "")
        lines.setdefault((i, p or fate or "stays", row.get("period", "")), []).append(line)
        if fate not in ("", "moved", "stays", "retired") or (fate == "moved") != bool(p) and fate:
            expected = "moved (with a park), stays or retired (with no park)"
            raise InputError([Problem(where, "fate", f"got {fate[:20]!r}" + (f" with park {p[:40]!r}" if p else
                                                                               " with no park"), expected)])
        if fate == "retired":
            plan.retire[i] = plan.retire.get(i, 0.0) + value
            if timed:
                q = _period(row["period"], periods.ids, where)
                plan.retirements[(i, q)] = plan.retirements.get((i, q), 0.0) + value
        elif p:
            plan.x[(i, p)] = plan.x.get((i, p), 0.0) + value
            if timed:
                q = _period(row["period"], periods.ids, where)
                plan.moves[(i, p, q)] = plan.moves.get((i, p, q), 0.0) + value
        else:
            plan.stay[i] = plan.stay.get(i, 0.0) + value
            stays_given.add(i)
    repeated = [f"{i} at {p}" + (f" in {q}" if q else "") + f" (lines {', '.join(map(str, at))})"
                for (i, p, q), at in lines.items() if len(at) > 1]
    if repeated:  # summed, as a plan written move by move would be; said, in case it was a slip
        out.notes.append("rows repeat, and their modules are added: " + "; ".join(repeated[:5])
                         + (f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""))
    inferred = []
    for i, total in modules.items():
        if i not in stays_given:
            rest = total - sum(v for (a, _), v in plan.x.items() if a == i) - plan.retire.get(i, 0.0)
            plan.stay[i] = max(rest, 0.0)
            if rest > 1e-9:
                inferred.append(f"{i} ({rest:g})")
    if inferred:
        out.notes.append("no row keeps these modules at their origin, so they are taken to stay: "
                         + ", ".join(inferred[:10]) + (f" and {len(inferred) - 10} more" if len(inferred) > 10 else ""))
    parks_csv = folder / "parks.csv"
    if parks_csv.is_file():
        rank = {q: n for n, q in enumerate(periods.ids)}
        seen: dict[tuple[str, str], set[str]] = {}  # (park, period) -> its upgrades then; "" stands for open
        first: dict[tuple[str, str], tuple[int, int, str]] = {}  # (park, period) -> line, open, upgrades
        known = {park.id for park in inst.parks}
        for line, row in _rows(parks_csv, ("park", "open", "upgrades", *timed)):
            p, where = row["park"], f"{parks_csv}:{line}"
            value = _number(row["open"], where, "open")
            if min(abs(value), abs(value - 1)) > 1e-9:  # round-off allowed, as for modules
                raise InputError([Problem(where, "open", f"got {clip(row['open'], 40)}", "0 or 1")])
            is_open = round(value)
            q = _period(row["period"], periods.ids, where) if timed else ""
            built = sorted(set(filter(None, (u.strip() for u in row["upgrades"].split(";")))))
            ups = ";".join(built)
            if (p, q) in first and first[p, q][1:] != (is_open, ups):  # a row per resource: all alike, or the
                earlier = first[p, q]                                # verdict would depend on their order
                raise InputError([Problem(where, "open" if earlier[1] != is_open else "upgrades",
                                          f"park {clip(p, 40)!r}" + (f" in period {q}" if q else "")
                                          + f" is {'open' if is_open else 'closed'} with upgrades {clip(ups, 40)!r} "
                                          f"here but {'open' if earlier[1] else 'closed'} with "
                                          f"{clip(earlier[2], 40)!r} on line {earlier[0]}",
                                          "the same open and upgrades on every row of a park")])
            first.setdefault((p, q), (line, is_open, ups))
            if p not in known:
                out.violations.append(f"{parks_csv.name}:{line}: park {clip(p, 40)!r}: unknown park")
            plan.open[p] = is_open if not timed else max(is_open, plan.open.get(p, 0))
            now = seen.setdefault((p, q), set())
            if is_open:
                now.add("")
            if timed and is_open and rank[q] < rank.get(plan.opened.get(p, ""), len(rank)):
                plan.opened[p] = q
            for u in built:
                now.add(u)
                if (p, u) not in plan.upgrades:
                    plan.upgrades.append((p, u))
                if timed and rank[q] < rank.get(plan.built.get((p, u), ""), len(rank)):
                    plan.built[(p, u)] = q
        if timed:  # a park opened stays open, an upgrade built stays built
            taken = [((p, ""), since) for p, since in plan.opened.items()] + list(plan.built.items())
            for (p, what), since in taken:
                for q in periods.ids[rank[since] + 1:]:
                    if (p, q) in seen and what not in seen[p, q]:
                        out.violations.append(f"period {q}: park {p}: " + (
                            f"not open, though open from period {since} (a park opened stays open)" if not what
                            else f"upgrade {what} not built, though built in period {since} (it stays built)"))
    else:
        hosting = {p for (_, p), v in plan.x.items() if v > 1e-9}
        already = {p.id for p in resolve(inst, 0).parks if p.open_cost == 0}
        plan.open = {p.id: int(p.id in hosting or p.id in already) for p in inst.parks}
        if timed:
            for (_, p, q), v in sorted(plan.moves.items(), key=lambda kv: periods.ids.index(kv[0][2]), reverse=True):
                if v > 1e-9:
                    plan.opened[p] = q
            plan.opened.update({p: periods.ids[0] for p in already})
        out.notes.append(f"no parks.csv beside {table.name}: the parks hosting modules (and those already open) "
                         "are taken as open" + (" from their first move" if timed else "")
                         + ", and no upgrade as built")
    moved = folder / "transfers.csv"
    if moved.is_file():  # the amounts the model decided: side payments, allowances
        decided = {m for m, t in measures().items() if t.decided}
        for line, row in _rows(moved, ("measure", "rule", "payer", "payee", "amount", *timed)):
            if row["measure"] in decided:
                where = f"{moved}:{line}"
                q = _period(row["period"], periods.ids, where) if timed else ""
                key = decided_key(row["measure"], row["rule"], row["payer"] or None, row["payee"], q)
                plan.transfers[key] = plan.transfers.get(key, 0.0) + _number(row["amount"], where, "amount")
    summary = folder / "kpis.json"
    if source.is_dir() and summary.is_file():
        try:
            out.reported = reported_kpis(json.loads(summary.read_text(encoding="utf-8")))
        except (ValueError, OSError):
            out.reported = None
        if out.reported is None:
            out.notes.append("kpis.json is not as this tool writes it: the reported KPIs are not compared")
    return out


def _period(text: str, ids: tuple[str, ...], where: str) -> str:
    if text not in ids:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InputError([Problem(where, "period", f"unknown period {shown!r}", "one of: " + ", ".join(ids))])
    return text


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def kpis_problem(doc: Any) -> str | None:
    """What makes kpis.json not as this tool writes it (a status of the solver's, objective, gap ≥ 0,
    a bound not above the objective, a gap that is theirs, kpis of finite numbers, weights of
    objective terms), or None."""
    if not isinstance(doc, dict) or not isinstance(doc.get("status"), str):
        return "no status"
    if doc["status"] not in STATUSES:
        return f"status {clip(repr(doc['status']))} is none of " + ", ".join(STATUSES)
    objective, values = doc.get("objective"), doc.get("kpis", {})
    if objective is not None and not _finite(objective):
        return f"objective {clip(repr(objective))} is not a finite number"
    gap, bound = doc.get("gap"), doc.get("bound")
    if gap is not None and (not _finite(gap) or gap < 0):
        return f"gap {clip(repr(gap))} is not a number ≥ 0"
    if bound is not None and not _finite(bound):
        return f"bound {clip(repr(bound))} is not a finite number"
    if bound is not None and objective is not None and bound > objective + 1e-6 * max(1.0, abs(objective)):
        return f"bound {bound:.10g} is above the objective {objective:.10g}, which no bound of a minimum is"
    if gap is not None and bound is not None and objective is not None:  # compare reads both: they must agree
        implied = relative_gap(objective, bound)
        if implied is not None and abs(gap - implied) > 1e-6 * max(1.0, implied):
            return (f"gap {gap:.6g} is not the gap between the objective {objective:.10g} and the bound "
                    f"{bound:.10g} ({implied:.6g})")
    if not isinstance(values, dict) or not all(isinstance(k, str) and _finite(v) for k, v in values.items()):
        return "kpis holds something other than finite numbers"
    weights = doc.get("objective_weights")
    if weights is not None and (not isinstance(weights, dict) or not all(
            (k in kpis.objective_terms() or k.partition("@")[0] in kpis.limit_kpis() and "@" in k)
            and _finite(v) and abs(v) <= MAX_NUMBER for k, v in weights.items())):
        return "objective_weights are not weights of objective terms"  # as an instance may give them
    return None


def reported_kpis(doc: Any) -> dict[str, Any] | None:
    """kpis.json as this tool writes it (`kpis_problem`), or None."""
    return None if kpis_problem(doc) is not None else doc


def objective_weights(reported: dict[str, Any]) -> dict[str, float] | None:
    """The weights of the objective a results folder reports (a pareto point or a lexicographic
    run reports its last level's), over the objective terms; None for the instance's own."""
    weights = reported.get("objective_weights")
    if not isinstance(weights, dict):
        return None
    return {**{t: float(weights.get(t, 0.0)) for t in kpis.objective_terms()},
            **{t: float(w) for t, w in weights.items() if "@" in t}}


def solved_from(plan: Path, raw_hash: str, scenario: str | None, overlays: list[Any]) -> str | None:
    """What differs between the run a results folder holds and the instance a plan of it is
    checked against (the instance file's content, the scenario, the overlays), in words; None
    when nothing does, or the plan is not in a results folder with a readable run.json."""
    folder = plan if plan.is_dir() else plan.parent
    try:
        run = json.loads((folder / "run.json").read_text(encoding="utf-8-sig"))
        solved = run["instance"]
        file, digest = str(solved["file"]), str(solved["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    def named(s: Any) -> str:
        return f"scenario {clip(str(s), 40)!r}" if s is not None else "the base"

    out = []
    if digest != raw_hash:
        out.append(f"its instance ({clip(file, 80)}) is not this file as it is now")
    if run.get("scenario") != scenario:  # (its overlays differ too: the scenario's)
        out.append(f"it was solved as {named(run.get('scenario'))}, checked here as {named(scenario)}")
    elif json.dumps(run.get("overlays"), sort_keys=True, default=str) != json.dumps(overlays, sort_keys=True,
                                                                                   default=str):
        out.append("its overlays (--set) are not the ones given here")
    return "; ".join(out) + ": the plan is checked against the instance as given here" if out else None


def read_json(path: Path) -> Any:
    """A JSON file of a results folder; one line naming it when it is not readable JSON."""
    try:
        # utf-8-sig: a BOM an editor added is no reason to refuse the file (CSV tables are read so too)
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:  # where, not what: the message quotes none of the file
        raise InputError([Problem(f"{path}:{exc.lineno}", "(file)", f"not readable JSON ({exc.msg} at column "
                                  f"{exc.colno})", "a file written by `industry-transfer solve`")]) from None
    except (ValueError, OSError) as exc:
        raise InputError([Problem(str(path), "(file)", f"not readable JSON ({type(exc).__name__})",
                                  "a file written by `industry-transfer solve`")]) from None


def check_results(folder: Path, inst: Instance) -> tuple[CheckReport, list[str]]:
    """Check the plan a results folder holds against the instance it was solved from; with notes."""
    got = read_plan(folder, inst)
    reported = got.reported or {}
    if reported.get("objective") is None:  # no plan was found: nothing to check
        return CheckReport(), got.notes
    report = check(inst, got.plan, reported.get("kpis"), reported.get("objective"), objective_weights(reported))
    report.violations[:0] = got.violations
    return report, got.notes
