"""A results folder read back whole, for the reports: its documents, its tables and the instance
as solved, each checked to be as `industry-transfer solve` writes it (one line otherwise)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, Problem
from model.plans import read_json, reported_kpis
from model.schema import Instance

REQUIRED = ("kpis.json", "run.json", "instance.json", "allocations.csv", "parks.csv", "limits.csv")
# Every table a run may write, in the order a report shows them.
TABLES = ("allocations.csv", "parks.csv", "limits.csv", "ledger.csv", "transfers.csv", "participation.csv",
          "carbon_market.csv", "periods.csv", "kpis_by_period.csv")


@dataclass
class RunFolder:
    folder: Path
    kpis: dict[str, Any]  # kpis.json as written: status, objective, bound, gap, kpis
    run: dict[str, Any]  # run.json: instance, scenario, overlays, options, solver, tool
    instance: Instance  # the instance as solved (overlays applied)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # file name -> table, those present
    files: dict[str, bytes] = field(default_factory=dict)  # other files of the run (timeline.png)

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


def read_run(folder: Path) -> RunFolder:
    """Read a results folder; one line naming the folder or file when it is not one of ours."""
    from model.loader import RawDoc
    from model.validate import validate

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), "(results folder)", "not a folder",
                                  "a folder written by `industry-transfer solve`")])
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if missing:
        raise InputError([Problem(str(folder), "(results folder)", "missing " + ", ".join(missing),
                                  "a folder written by `industry-transfer solve`")])
    kpis, run, data = (read_json(folder / f) for f in ("kpis.json", "run.json", "instance.json"))
    if not isinstance(kpis, dict) or reported_kpis(kpis) is None or not isinstance(run, dict):
        raise InputError([Problem(str(folder / "kpis.json"), "(file)", "kpis.json or run.json is not as this "
                                  "tool writes it", "a file written by `industry-transfer solve`")])
    if not isinstance(data, dict):
        raise InputError([Problem(str(folder / "instance.json"), "(file)", "not an instance",
                                  "a file written by `industry-transfer solve`")])
    instance = validate(RawDoc(data, {}, str(folder / "instance.json"), ""))
    tables = {}
    for name in TABLES:
        if (folder / name).is_file():
            try:
                tables[name] = pd.read_csv(folder / name, keep_default_na=False, na_values=[""])
            except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise InputError([Problem(str(folder / name), "(file)", f"not a readable table "
                                          f"({type(exc).__name__})", "a file written by `industry-transfer solve`")]
                                 ) from None
    files = {n: (folder / n).read_bytes() for n in ("timeline.png",) if (folder / n).is_file()}
    return RunFolder(folder, kpis, run, instance, tables, files)


def distinct_labels(runs: list[RunFolder]) -> list[str]:
    """The runs' labels as `compare` names them (its folder's name added where two read the same)."""
    from model.compare import labels

    return labels([{"run.json": r.run, "instance.json": {"name": r.instance.name}} for r in runs],
                  [r.folder for r in runs])
