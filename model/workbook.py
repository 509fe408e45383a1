"""The Excel workbook: one sheet per table, units in the headers, frozen headers, number formats,
and the run manifest on its own sheet (openpyxl, through pandas).

One run gives its tables (allocations, parks, limits, ledger, ...) and a `kpis` sheet; several
runs give the comparison's tables and one manifest row block per run. Values are written at full
precision; the number formats only round what is shown, so a reader's sums stay exact.
"""

from __future__ import annotations

import io
import json

import pandas as pd
from openpyxl.utils import get_column_letter

from model.labels import Labels, relabel, with_codes
from model.report import printable
from model.runfolder import RunFolder, distinct_labels

SHEET = 31  # Excel's limit on a sheet name's length
SHARES = ("utilisation", "gap")  # columns shown as percentages


def _headers(table: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """Each column named with its unit where it has one: `value_added [million yuan]`."""
    return table.rename(columns=lambda c: f"{c} [{units[c]}]" if c in units and units[c] else c)


def manifest(run: RunFolder, label: str) -> pd.DataFrame:
    """The run's record, one key per row: label, instance, scenario, options, solver, status, gap."""
    rows = [("label", label), ("folder", str(run.folder))]

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            rows.append((prefix, json.dumps(value, ensure_ascii=False)))
        else:
            rows.append((prefix, value))

    walk("", {k: v for k, v in run.kpis.items() if k != "kpis"})
    walk("", run.run)
    return pd.DataFrame(rows, columns=["key", "value"]).astype({"value": object})


def _kpis(run: RunFolder) -> pd.DataFrame:
    units = run.units
    rows = [("objective", run.kpis.get("objective"), run.instance.units.money)]
    rows += [(k, v, units.get(k, "")) for k, v in run.kpis.get("kpis", {}).items()]
    return pd.DataFrame(rows, columns=["kpi", "value", "unit"])


def sheets(runs: list[RunFolder]) -> dict[str, pd.DataFrame]:
    """The sheets of the workbook, by name, in order."""
    labels = distinct_labels(runs)
    out: dict[str, pd.DataFrame] = {}
    if len(runs) == 1:
        run = runs[0]
        out["manifest"] = manifest(run, labels[0])
        out["kpis"] = _kpis(run)
        units = run.units
        for name, table in run.tables.items():
            out[name.removesuffix(".csv")[:SHEET]] = _headers(table, units)
        return out
    from model.compare import compare

    out["manifest"] = pd.concat([pd.concat([pd.DataFrame({"key": ["sheets"], "value": [f"{n} <table>"]}),
                                            manifest(r, lab)]).assign(run=lab)
                                 for n, (r, lab) in enumerate(zip(runs, labels), start=1)],
                                ignore_index=True)[["run", "key", "value"]]
    if not all(r.has_plan for r in runs):  # nothing to compare plan by plan: each run's figures side by side
        kpis = [_kpis(r).set_index(["kpi", "unit"])["value"].rename(lab) for r, lab in zip(runs, labels)]
        out["kpis"] = pd.concat(kpis, axis=1).reset_index()
    else:
        result = compare([r.folder for r in runs], read=runs)
        units = runs[0].units
        for name, table in result.tables().items():
            if name == "kpis.csv":  # each row in its own unit
                table = table.copy()
                table.insert(1, "unit", [units.get(k, "") for k in table["kpi"]])
            elif name.startswith(("received_by", "sent_by")):
                table = table.copy()
                table.insert(1, "unit", "modules")
            out[name.removesuffix(".csv")[:SHEET]] = table
    # Then each run's own tables, under its number in the manifest (sheet names hold 31 characters); a run
    # with a plan among runs without one too (they were once dropped).
    for n, run in enumerate(runs, start=1):
        for name, table in run.tables.items():
            out[f"{n} {name.removesuffix('.csv')}"[:SHEET]] = _headers(table, run.units)
    return out


def _safe(table: pd.DataFrame) -> pd.DataFrame:
    """Text as a sheet may hold it: control characters (which Excel refuses) as visible escapes."""
    out = table.rename(columns=lambda c: printable(c))
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: printable(v) if isinstance(v, str) else v)
    return out


def _format(ws: object, table: pd.DataFrame) -> None:
    """Frozen header, widths to fit, number formats by column type, and no formulas: text that
    starts with `=` (a name, a unit, a --set value) is text, never a formula run when opened."""
    ws.freeze_panes = "A2"  # type: ignore[attr-defined]
    for row in ws.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    for n, col in enumerate(table.columns, start=1):
        letter = get_column_letter(n)
        values = table[col]
        width = max([len(str(col))] + [len(str(v)) for v in values.head(200)])
        ws.column_dimensions[letter].width = min(60, max(8, width + 2))  # type: ignore[attr-defined]
        if pd.api.types.is_bool_dtype(values):
            continue
        if not pd.api.types.is_numeric_dtype(values):  # a column of several kinds (a comparison's KPIs)
            for row, v in enumerate(values, start=2):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.cell(row=row, column=n).number_format = _number_format([v])  # type: ignore[attr-defined]
            continue
        name = str(col).split(" [")[0]
        if name in SHARES:
            fmt = "0.00%"
        elif pd.api.types.is_integer_dtype(values):
            fmt = "#,##0"
        else:
            fmt = _number_format(values.dropna().tolist())
        for row in range(2, len(table) + 2):
            ws.cell(row=row, column=n).number_format = fmt  # type: ignore[attr-defined]


def _number_format(values: list[float]) -> str:
    """Thousands and two decimals, unless that would show a small figure (a shadow price of 0.000367)
    as 0.00: then Excel's General, which shows its significant digits."""
    small = any(0 < abs(v) < 0.005 for v in values if v == v)
    return "General" if small else "#,##0.00"


def workbook(runs: list[RunFolder], lang: str | None = None) -> bytes:
    """The workbook as bytes (written by the caller, atomically); ids named in `lang` (zh or en)."""
    labels = Labels.union([r.instance for r in runs], lang)

    def names(table: pd.DataFrame) -> pd.DataFrame:  # codes first: they are looked up by id
        return relabel(with_codes(table, labels), labels)

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in sheets(runs).items():
            shown = _safe(names(table) if name != "manifest" else table)
            shown.to_excel(writer, sheet_name=name, index=False)
            _format(writer.sheets[name], shown)
    return buffer.getvalue()
