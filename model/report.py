"""Reports: the results folder (written atomically) and the terminal summary."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from model.outputs import Folder

MAX_ROWS = 40  # rows of a table printed to the terminal; the CSV files hold them all


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


LONG = 1000  # items of a list written on one line (a million pairs indented would take a minute)


def json_text(doc: Any) -> str:
    """A document as JSON indented for reading, except that a list of more than `LONG` items at its
    top level takes one line: Python's indenting encoder is pure Python, its compact one is C."""
    if not isinstance(doc, dict) or not any(isinstance(v, list) and len(v) > LONG for v in doc.values()):
        return json.dumps(_jsonable(doc), indent=2, ensure_ascii=False) + "\n"
    lines = []
    for key, value in doc.items():
        if isinstance(value, list) and len(value) > LONG:
            try:
                text = json.dumps(value, ensure_ascii=False, allow_nan=False)
            except (ValueError, TypeError):  # NaN or infinity (or a tuple key): as `_jsonable` writes them
                text = json.dumps(_jsonable(value), ensure_ascii=False)
        else:
            text = json.dumps(_jsonable(value), indent=2, ensure_ascii=False).replace("\n", "\n  ")
        lines.append(f"  {json.dumps(str(key), ensure_ascii=False)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_results(out: Path, tables: dict[str, pd.DataFrame], documents: dict[str, dict],
                  kind: str = "results", option: str = "--out", files: dict[str, bytes] | None = None,
                  finish: Callable[[Path], dict[str, bytes]] | None = None, checked: bool = False) -> None:
    """Write every file into a fresh folder beside `out`, then swap it in: no half-written results,
    and only ever in place of an empty folder or one of ours (`model.outputs`). `finish` reads the
    written folder and returns more files for it (a report of exactly these results), swapped in
    with the rest."""
    with Folder(Path(out), kind, option, checked) as tmp:
        for name, table in tables.items():
            table.to_csv(tmp / name, index=False, float_format="%.10g")
        for name, doc in documents.items():
            (tmp / name).write_text(json_text(doc), encoding="utf-8")
        for name, content in (files or {}).items():
            (tmp / name).write_bytes(content)
        for name, content in (finish(tmp) if finish is not None else {}).items():
            (tmp / name).write_bytes(content)


# Characters that must not reach a terminal, a page or a sheet as they are: C0 and C1 controls
# (ANSI escapes, NUL), and the bidirectional overrides that make text read other than it is.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int | None = None) -> str:
    """Text from an instance or a results file as it may be shown: control characters as visible
    escapes (`\\x1b`), and at most `limit` characters (a 100,000-character name would swamp a chart)."""
    out = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                       str(text))
    return out[:limit - 1] + "…" if limit is not None and len(out) > limit else out


def _fmt(value: Any, scale: float | None = None) -> str:
    """A number for reading: whole numbers with thousands separators, others to 4 significant
    digits (no exponent from 1e-4 up), large ones to the unit. A value within 1e-9 of `scale`
    (the largest magnitude of its column; the value itself by default) of zero is round-off: 0.
    Files keep full precision; this is for the terminal only."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if abs(value) <= 1e-9 * max(abs(value) if scale is None else scale, 1.0) or abs(value) < 1e-12:
            return "0"
        if value == int(value) and abs(value) < 1e12:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1e-4:
            text = f"{value:.4g}"
            return f"{float(text):,.{max(0, 3 - math.floor(math.log10(abs(float(text)))))}f}".rstrip("0").rstrip(".")
        return f"{value:.3g}"
    return printable(value)


def _scale(column: pd.Series) -> float:
    """The largest finite magnitude of a column's numbers (0 if none)."""
    numbers = pd.to_numeric(column, errors="coerce").abs().replace(math.inf, math.nan).dropna()
    return float(numbers.max()) if len(numbers) else 0.0


def print_summary(console: Console, kpis: dict[str, Any], units: dict[str, str],
                  allocations: pd.DataFrame | None, parks: pd.DataFrame | None,
                  limits: pd.DataFrame | None, out: Path | None, periods: pd.DataFrame | None = None,
                  ledger: pd.DataFrame | None = None) -> None:
    """Status line, KPIs, allocations, park utilisation and the binding limits; with periods, the
    plan period by period, and the utilisation of the last period."""
    gap = kpis.get("gap")
    head = f"[bold]{kpis['status']}[/bold]"
    if kpis.get("objective") is not None:
        head += f"  objective {_fmt(kpis['objective'])} {units.get('money', '')}"
    if gap is not None:
        head += f"  gap {gap:.2%}"
    head += f"  solve {kpis.get('solve_seconds', 0):.2f} s"
    if kpis.get("method") == "construction heuristic":
        head += f"  ({kpis['method']}: no bound)"
    elif kpis.get("method"):
        head += f"  ({kpis['method']})"
    elif kpis.get("start_objective") is not None:
        head += f"  (MIP start from the heuristic: {_fmt(kpis['start_objective'])})"
    console.print(head)
    if allocations is None:
        return
    table = Table(title="KPIs (present values over the periods)" if periods is not None else "KPIs",
                  show_header=True)
    table.add_column("kpi")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key, value in kpis["kpis"].items():
        table.add_row(escape(printable(key)), _fmt(value), escape(printable(units.get(key, ""))))
    console.print(table)

    if periods is not None:
        ptab = Table(title="The plan over time")
        shown = ["period", "years", "modules_moved", "modules_placed", "modules_at_origin", "parks_open",
                 "upgrades_ready"]
        for col in shown:
            ptab.add_column(col.replace("_", " "), justify="left" if col == "period" else "right")
        for row in periods[shown].itertuples(index=False):
            ptab.add_row(*[escape(_fmt(v)) for v in row])
        console.print(ptab)
    cols = ("industry", "sector", "origin", "park", "region", *(("period",) if "period" in allocations else ()),
            "modules")
    alloc = Table(title=f"Allocations ({len(allocations)} rows)")
    for col in cols:
        alloc.add_column(col, justify="right" if col == "modules" else "left")
    for row in allocations.head(MAX_ROWS).itertuples():
        where = row.park or ("(closes)" if getattr(row, "fate", "") == "retired" else "(stays)")
        alloc.add_row(*[escape(printable(v)) for v in (row.industry, row.sector, row.origin, where, row.region or "")],
                      *((row.period or "",) if "period" in allocations else ()), _fmt(row.modules))
    console.print(alloc)
    if len(allocations) > MAX_ROWS:
        console.print(f"... {len(allocations) - MAX_ROWS} more rows in allocations.csv")

    last = ""
    if parks is not None and "period" in parks and len(parks):
        last = str(parks["period"].iloc[-1])
        parks = parks[parks["period"] == last]
    if parks is not None and len(parks):
        hosting = parks.groupby("park", sort=False)["use"].transform("sum") > 0
        opened = parks[(parks["open"] == 1) & hosting]
        util = opened.pivot_table(index="park", columns="resource", values="utilisation", sort=False)
        ptab = Table(title="Park utilisation (use / capacity, parks hosting modules)"
                       + (f" in period {last}" if last else ""))
        ptab.add_column("park")
        for res in util.columns:
            ptab.add_column(escape(printable(res)), justify="right")
        ptab.add_column("upgrades")
        ups = opened.groupby("park", sort=False)["upgrades"].first()
        for park, row in util.head(MAX_ROWS).iterrows():
            ptab.add_row(escape(printable(park)), *[f"{v:.0%}" if math.isfinite(v) else "-" for v in row],
                         escape(printable(ups.get(park, ""))))
        console.print(ptab)
    if ledger is not None and len(ledger):
        _print_ledger(console, ledger)
    if limits is not None and len(limits):
        binding = limits[limits["binding"]]
        if len(binding):
            rows = ", ".join(f"{r.component}[{r.index}] ({r.kpi} {r.sense} {_fmt(r.bound)})"
                             for r in binding.itertuples())
            console.print("Binding: " + escape(printable(rows)))
    if out is not None:
        console.print(f"Results in {printable(out)}", markup=False)


LEDGER_SHOWN = ("modules", "value_added", "tax", "jobs", "co2")


def _print_ledger(console: Console, ledger: pd.DataFrame) -> None:
    """Per province, then per region: modules under the status quo and the plan, the change of the
    main measures and the transfers received (net) under the plan (the last period's with periods);
    ledger.csv holds every measure, and the groups."""
    from model.transfers import measures

    last = ""
    if "period" in ledger:
        last = str(ledger["period"].iloc[-1])
        ledger = ledger[ledger["period"] == last]
    level = dict(zip(ledger["jurisdiction"], ledger["level"]))
    ledger = ledger[ledger["level"].isin(["province", "region"])]
    wide = ledger.pivot_table(index="jurisdiction", columns="measure", values=["status_quo", "plan", "change"],
                              sort=False)
    units = dict(zip(ledger["measure"], ledger["unit"]))
    moved = wide["change", "modules"].abs() + wide["change", "value_added"].abs() * 1e-12  # ties: by value added
    provinces = [q for q in moved.sort_values(ascending=False, kind="stable").index if level[q] == "province"]
    regions = [q for q in wide.index if level[q] == "region"]
    shown = [m for m in measures() if m in wide["plan"] and (wide["plan", m].abs() > 1e-9).any()]
    named = dict.fromkeys(f"{m} in {units[m]}" for m in (*LEDGER_SHOWN[1:], *shown) if units.get(m))
    table = Table(title="Ledger per province and region: the plan against every module at its origin, largest "
                  "changes first" + (f" (period {last}, per year)" if last else "") + "; Δ: the change, "
                  "→: received (net) under the plan; " + ", ".join(named) + "; all measures in ledger.csv")
    table.add_column("province", no_wrap=True)
    table.add_column("modules", justify="right", no_wrap=True)
    rows = []
    for name in [*provinces[:MAX_ROWS], *regions]:
        row = wide.loc[name]
        label = escape(printable(name)) if level[name] == "province" else f"region {escape(printable(name))}"
        rows.append([label, f"{_fmt(row['status_quo', 'modules'])} → {_fmt(row['plan', 'modules'])}",
                     *[_fmt(float(row["change", m])) for m in LEDGER_SHOWN[1:]],
                     *[_fmt(float(row["plan", m])) for m in shown]])
    # A number is never cut or folded: its column keeps the width of its widest figure (the table
    # may then be wider than a narrow terminal, which wraps its lines).
    for n, title in enumerate([*(f"Δ {m}" for m in LEDGER_SHOWN[1:]), *(f"→ {m}" for m in shown)], 2):
        table.add_column(title, justify="right", overflow="fold", min_width=max(len(r[n]) for r in rows))
    for r in rows:
        table.add_row(*r)
    console.print(table, crop=False)
    if len(provinces) > MAX_ROWS:
        console.print(f"... {len(provinces) - MAX_ROWS} more provinces in ledger.csv")


def print_table(console: Console, title: str, table: pd.DataFrame, scale: str | pd.Series = "cell") -> None:
    """Any table, first MAX_ROWS rows, numbers formatted for reading (`_fmt`); an empty table says so.
    What counts as round-off (shown as 0): within 1e-9 of 1 ("cell"), of the largest magnitude of
    its column ("column": one unit per column), or of the row's figure in `scale` (a Series, one
    per row: a table of KPIs in their own units)."""
    if table.empty:
        console.print(f"{title}: none", markup=False)
        return
    out = Table(title=escape(printable(f"{title} ({len(table)} rows)")))
    columns = [_scale(table[col]) if isinstance(scale, str) and scale == "column" else None for col in table.columns]
    cells = []
    for n, row in enumerate(table.head(MAX_ROWS).itertuples(index=False)):
        scales = [float(scale.iloc[n])] * len(row) if isinstance(scale, pd.Series) else columns
        cells.append([escape("" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                             else _fmt(v, s)) for v, s in zip(row, scales)])
    for n, col in enumerate(table.columns):
        numeric = pd.api.types.is_numeric_dtype(table[col])
        # The first column names the row and a number is read whole: they keep their widest cell's
        # width (up to 40); text folds. Nothing is cut ("guan…" names no park).
        keep = min(40, max(len(r[n]) for r in cells)) if n == 0 or numeric else None
        out.add_column(escape(printable(col)), justify="right" if numeric else "left", overflow="fold",
                       **({"min_width": keep} if keep else {}))
    for r in cells:
        out.add_row(*r)
    console.print(out, crop=False)  # wider than the console only when its columns cannot fold more
    if len(table) > MAX_ROWS:
        console.print(f"... {len(table) - MAX_ROWS} more rows")
