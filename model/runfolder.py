"""A results folder read back whole, for the reports: its documents, its tables and the instance
as solved, each checked to be as `industry-transfer solve` writes it (one line otherwise)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, Problem
from model.outputs import not_as_written
from model.plans import kpis_problem, read_json
from model.schema import Instance

DOCUMENTS = ("kpis.json", "run.json", "instance.json")
PLAN = ("allocations.csv", "parks.csv", "limits.csv")  # every run that found a plan writes these
# Every table a run may write, in the order a report shows them.
TABLES = ("allocations.csv", "parks.csv", "limits.csv", "ledger.csv", "transfers.csv", "participation.csv",
          "carbon_market.csv", "periods.csv", "kpis_by_period.csv")
# The columns a report reads from each table: text, then numbers (a table without them is not ours).
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "allocations.csv": (("industry", "origin", "park", "region"), ("modules", "value_added")),
    "parks.csv": (("component", "index", "park", "resource", "unit"),
                  ("open", "use", "available", "utilisation", "shadow_price")),
    "limits.csv": (("rule", "component", "index", "kpi", "sense"), ("bound", "value", "shadow_price")),
    "ledger.csv": (("jurisdiction", "level", "measure", "unit"), ("status_quo", "plan", "change")),
    "periods.csv": (("period",), ()),
}
FLAGS: dict[str, tuple[str, ...]] = {"parks.csv": ("binding",), "limits.csv": ("binding",)}  # True or False
PNG = b"\x89PNG\r\n\x1a\n"
EXPECTED = "a folder written by `industry-transfer solve`"


@dataclass
class RunFolder:
    folder: Path
    kpis: dict[str, Any]  # kpis.json as written: status, objective, bound, gap, kpis
    run: dict[str, Any]  # run.json: instance, scenario, overlays, options, solver, tool
    instance: Instance  # the instance as solved (overlays applied)
    raw: dict[str, Any]  # instance.json as written (compare sets its keys side by side)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # file name -> table, those present
    files: dict[str, bytes] = field(default_factory=dict)  # other files of the run (timeline.png)
    check: list[str] = field(default_factory=list)  # what the independent checker finds wrong with the plan
    diagnosis: list[str] = field(default_factory=list)  # an infeasible run's relaxations, in words
    edited: list[str] = field(default_factory=list)  # files read that changed since the tool wrote them, or it did not

    @property
    def edited_note(self) -> str | None:
        """What of the files read changed since the tool wrote them, or it never wrote, in words;
        None when nothing did."""
        if not self.edited:
            return None
        what = ", ".join(self.edited[:5]) + (f" and {len(self.edited) - 5} more" if len(self.edited) > 5 else "")
        return f"files not as this tool wrote them: {what}"

    @property
    def label(self) -> str:
        from model.compare import label

        return label(self.run)

    @property
    def units(self) -> dict[str, str]:
        """The unit of each KPI and count the run reports, for headers and cards."""
        from model import kpis as registry

        money = self.instance.units.money
        out = {name: registry.unit(self.instance, name) for name in self.kpis.get("kpis", {})}
        out.update({"objective": money, "open_cost": money, "stay_cost": money, "modules": "modules",
                    "modules_moved": "modules", "modules_stayed": "modules", "modules_retired": "modules",
                    "parks_open": "parks", "upgrades_built": "upgrades"})
        return out

    @property
    def has_plan(self) -> bool:
        return self.kpis.get("objective") is not None


def _file(path: Path, max_bytes: int | None) -> Path:
    """A file of the folder as the tool wrote it: not a link (a folder received from someone else
    must not pull other files into a report), not larger than the input limit."""
    if path.is_symlink() or not path.is_file():
        raise InputError([Problem(str(path), "(file)", "is a link or not a plain file", EXPECTED)])
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise InputError([Problem(str(path), "(file)", f"is {path.stat().st_size / 2**20:.1f} MiB, over the "
                                  f"input limit of {max_bytes / 2**20:g} MiB", "--max-input-mb raised for it")])
    return path


def _line_of(path: Path, row: int) -> int:
    """The line of the file where the table's data row `row` (from 0) starts, blank lines and
    cells over several lines counted as pandas reads them."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader, end, records = csv.reader(fh), 0, -1  # the header is record 0
        for record in reader:
            start, end = end + 1, reader.line_num
            if record:  # a blank line is no row
                records += 1
                if records == row + 1:
                    return start
    return row + 2


def _table(path: Path, max_bytes: int | None) -> pd.DataFrame:
    try:
        table = pd.read_csv(_file(path, max_bytes), keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError([Problem(str(path), "(file)", f"not a readable table ({type(exc).__name__})",
                                  EXPECTED)]) from None
    text, numbers = COLUMNS.get(path.name, ((), ()))
    flags = FLAGS.get(path.name, ())
    missing = [c for c in (*text, *numbers, *flags) if c not in table.columns]
    if missing:
        raise InputError([Problem(f"{path}:1", "(header)", "missing column " + ", ".join(missing), EXPECTED)])
    for col in numbers if len(table) else ():  # an empty table's columns have no type to check
        if not pd.api.types.is_numeric_dtype(table[col]) or pd.api.types.is_bool_dtype(table[col]):
            values = table[col].astype(str)
            bad = pd.to_numeric(values.where(~values.str.lower().isin(("true", "false"))), errors="coerce").isna()
            row = int(bad.to_numpy().argmax()) if bad.any() else 0
            raise InputError([Problem(f"{path}:{_line_of(path, row)}", col,
                                      f"got {values.iloc[row][:40]!r}, not a number", EXPECTED)])
    for col in flags if len(table) else ():
        if not pd.api.types.is_bool_dtype(table[col]):  # pandas reads a column of True/False as bool
            values = table[col].astype(str)
            row = int((~values.isin(("True", "False"))).to_numpy().argmax())
            raise InputError([Problem(f"{path}:{_line_of(path, row)}", col,
                                      f"got {values.iloc[row][:40]!r}, not True or False", EXPECTED)])
    return table


def _sound(kpis: Any, run: Any) -> tuple[str, str] | None:
    """The file of kpis.json and run.json that does not hold what a report reads, of the types it
    reads them as, and why; None when both do."""
    def number(v: Any) -> bool:
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))

    why = kpis_problem(kpis)
    if why is not None:
        return "kpis.json", why
    if not all(number(kpis.get(k)) for k in ("objective", "bound", "gap", "solve_seconds")):
        return "kpis.json", "objective, bound, gap or solve_seconds is not a number"
    if not isinstance(run, dict) or not all(isinstance(run.get(k, {}), dict)
                                            for k in ("solver", "check", "tool", "instance", "options")):
        return "run.json", "not a mapping of solver, check, tool, instance and options records"
    return None


def read_run(folder: Path, max_bytes: int | None = None) -> RunFolder:
    """Read a results folder, re-checking its plan with the independent checker; one line naming
    the folder or file when it is not as `solve` writes it. A run without a plan (infeasible, or
    none found within the limits) is read too: its record and diagnosis, no tables."""
    from model.loader import RawDoc
    from model.plans import check_results
    from model.validate import validate

    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise InputError([Problem(str(folder), "(results folder)", "not a folder (or a link to one)", EXPECTED)])
    missing = [f for f in DOCUMENTS if not (folder / f).exists()]
    if missing:
        raise InputError([Problem(str(folder), "(results folder)", "missing " + ", ".join(missing), EXPECTED)])
    kpis, run, data = (read_json(_file(folder / f, max_bytes)) for f in DOCUMENTS)
    unsound = _sound(kpis, run)
    if unsound is not None:
        raise InputError([Problem(str(folder / unsound[0]), "(file)", f"not as this tool writes it: {unsound[1]}",
                                  EXPECTED)])
    if not isinstance(data, dict):
        raise InputError([Problem(str(folder / "instance.json"), "(file)", "not an instance", EXPECTED)])
    instance = validate(RawDoc(data, {}, str(folder / "instance.json"), ""))
    planned = kpis.get("objective") is not None
    missing = [f for f in PLAN if planned and not (folder / f).exists()]
    if missing:
        raise InputError([Problem(str(folder), "(results folder)", "missing " + ", ".join(missing), EXPECTED)])
    tables = {name: _table(folder / name, max_bytes) for name in TABLES if planned and (folder / name).exists()}
    files = {}
    if planned and (folder / "timeline.png").exists():
        image = _file(folder / "timeline.png", max_bytes).read_bytes()
        if not image.startswith(PNG):
            raise InputError([Problem(str(folder / "timeline.png"), "(file)", "not a PNG image", EXPECTED)])
        files["timeline.png"] = image
    check: list[str] = []
    if planned:  # the record's "passed" is this reading's, not what run.json claims
        report, _ = check_results(folder, instance)
        check = report.violations + [f"{m} (kpis.json does not match the plan)" for m in report.mismatches]
    diagnosis, diagnosed = [], []
    if (folder / "diagnosis.json").exists():
        diagnosed = ["diagnosis.json"]
        doc = read_json(_file(folder / "diagnosis.json", max_bytes))
        relax = doc.get("relaxations") if isinstance(doc, dict) else None
        diagnosis = [str(r.get("text")) for r in relax or [] if isinstance(r, dict) and r.get("text")]
    return RunFolder(folder, kpis, run, instance, data, tables, files, check, diagnosis,
                     not_as_written(folder, [*DOCUMENTS, *tables, *files, *diagnosed]))


def distinct_labels(runs: list[RunFolder]) -> list[str]:
    """The runs' labels as `compare` names them (its folder's name added where two read the same)."""
    from model.compare import labels

    return labels([{"run.json": r.run, "instance.json": {"name": r.instance.name}} for r in runs],
                  [r.folder for r in runs])
