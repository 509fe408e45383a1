"""Compare results folders side by side: KPIs, allocations, parks, binding rows and the inputs.

Everything is read from the folders (`kpis.json`, `allocations.csv`, `parks.csv`, `limits.csv`,
`run.json`, `instance.json`), so runs from different instances, scenarios or machines compare
alike. The first run is the reference of every difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, Problem
from model.plans import read_json, reported_kpis

FILES = ("kpis.json", "allocations.csv", "parks.csv", "limits.csv", "run.json", "instance.json")


@dataclass
class Comparison:
    names: list[str]
    checks: dict[str, list[str]]  # run -> what the independent checker says is wrong with its plan
    kpis: pd.DataFrame  # kpi × run, plus delta columns against the first run
    allocations: pd.DataFrame  # industry, park (and period of the move), modules per run: rows that differ
    parks: pd.DataFrame  # park, open and modules hosted per run: rows that differ
    binding: pd.DataFrame  # row (park/resource or rule/sense), binding per run: rows that differ
    inputs: pd.DataFrame  # key, value per run: input keys that differ
    notes: list[str] = field(default_factory=list)  # what makes the runs' figures not comparable

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"kpis.csv": self.kpis, "allocations.csv": self.allocations, "parks.csv": self.parks,
                "binding.csv": self.binding, "inputs.csv": self.inputs}


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys as `--set` writes them: lists of items with an `id` by id, other lists whole."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and all(isinstance(v, dict) and "id" in v for v in data):
        for item in data:
            out.update(flatten({k: v for k, v in item.items() if k != "id"}, f"{prefix}.{item['id']}"))
    else:
        out[prefix] = data
    return out


def _read(folder: Path) -> dict[str, Any]:
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise InputError([Problem(str(folder), "(results folder)", "missing " + ", ".join(missing),
                                  "a folder written by `industry-transfer solve`")])
    run = {f: read_json(folder / f) for f in FILES if f.endswith(".json")}
    if reported_kpis(run["kpis.json"]) is None:
        raise InputError([Problem(str(folder / "kpis.json"), "(file)", "not as this tool writes it",
                                  "a file written by `industry-transfer solve`")])
    if not isinstance(run["instance.json"], dict):
        raise InputError([Problem(str(folder / "instance.json"), "(file)", "not an instance",
                                  "a file written by `industry-transfer solve`")])
    for f in ("allocations.csv", "parks.csv", "limits.csv"):
        try:
            run[f] = pd.read_csv(folder / f, keep_default_na=False, na_values=[""])
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError([Problem(str(folder / f), "(file)", f"not a readable table ({type(exc).__name__})",
                                      "a file written by `industry-transfer solve`")]) from None
    return run


def _check(folder: Path, run: dict[str, Any]) -> list[str]:
    """The independent checker's complaints about the plan of a run (its instance as solved)."""
    from model.loader import RawDoc
    from model.plans import check_results
    from model.validate import validate

    raw = RawDoc(run["instance.json"], {}, str(folder / "instance.json"), "")
    report, _ = check_results(folder, validate(raw))
    return report.violations + [f"{m} (kpis.json does not match the plan)" for m in report.mismatches]


def compare(folders: list[Path]) -> Comparison:
    runs = [_read(Path(f)) for f in folders]
    names = [Path(f).name for f in folders]
    if len(set(names)) < len(names):
        names = [str(f) for f in folders]
    checks = {n: _check(Path(f), r) for f, r, n in zip(folders, runs, names)}

    kpi_rows: dict[str, list[Any]] = {}
    for n, run in enumerate(runs):
        k = run["kpis.json"]
        values = {"status": k["status"], "check": "fails" if checks[names[n]] else "ok",
                  "objective": k["objective"], "gap": k["gap"], **k["kpis"]}
        for key, value in values.items():
            kpi_rows.setdefault(key, [None] * len(runs))[n] = value
    kpis = pd.DataFrame.from_dict(kpi_rows, orient="index", columns=names)
    kpis.index.name = "kpi"
    for name in names[1:]:
        a, b = pd.to_numeric(kpis[names[0]], errors="coerce"), pd.to_numeric(kpis[name], errors="coerce")
        kpis[f"delta {name}"] = b - a
    kpis = kpis.reset_index()

    # Runs over the same periods differ in when modules move as well as where.
    timed = all("period" in r["allocations.csv"] for r in runs)

    def placed(run: dict[str, Any]) -> pd.Series:
        a = run["allocations.csv"]
        a = a.assign(park=a["park"].fillna("(stays)"))
        if timed:
            a = a.assign(period=a["period"].fillna(""))
        return a.groupby(["industry", "park", *(["period"] if timed else [])])["modules"].sum()

    alloc = pd.concat([placed(r).rename(n) for r, n in zip(runs, names)], axis=1).fillna(0.0)
    alloc = alloc[(alloc.max(axis=1) - alloc.min(axis=1)).abs() > 1e-9].reset_index()

    def hosting(run: dict[str, Any]) -> pd.DataFrame:
        a = run["allocations.csv"].dropna(subset=["park"])
        modules = a.groupby("park")["modules"].sum()
        opened = run["parks.csv"].groupby("park", sort=False)["open"].max()  # open by the end
        return pd.DataFrame({"open": opened, "modules": modules.reindex(opened.index).fillna(0.0)})

    hosts = [hosting(r) for r in runs]
    parks = pd.concat([h.add_suffix(f" {n}") for h, n in zip(hosts, names)], axis=1).fillna(0)
    open_cols = [f"open {n}" for n in names]
    module_cols = [f"modules {n}" for n in names]
    changed = (parks[open_cols].nunique(axis=1) > 1) | ((parks[module_cols] > 0).nunique(axis=1) > 1)
    parks = parks[changed].reset_index(names="park")

    def binding(run: dict[str, Any]) -> pd.Series:
        p = run["parks.csv"]
        # Rows are named as the model names them: component[index], one per row of the model.
        rows = {f"{r.component}[{r.index}]": bool(r.binding) for r in p.itertuples()}
        for r in run["limits.csv"].itertuples():
            rows[f"{r.component}[{r.index}]"] = bool(r.binding)
        return pd.Series(rows, dtype=bool)

    bind = pd.concat([binding(r).rename(n) for r, n in zip(runs, names)], axis=1)
    bind = bind.astype("boolean")
    bind = bind[bind.nunique(axis=1, dropna=False) > 1].reset_index(names="row")

    flat = [flatten(r["instance.json"]) for r in runs]
    keys = sorted(set().union(*flat))
    diff_rows = []
    for key in keys:
        values = [f.get(key, "(absent)") for f in flat]
        if any(json.dumps(v, sort_keys=True) != json.dumps(values[0], sort_keys=True) for v in values[1:]):
            diff_rows.append({"key": key, **{n: v for n, v in zip(names, values)}})
    inputs = pd.DataFrame(diff_rows, columns=["key", *names])
    notes = []
    horizons = {n: (json.dumps(r["kpis.json"].get("periods")), r["kpis.json"].get("discount_rate"))
                for r, n in zip(runs, names)}
    if len(set(horizons.values())) > 1:
        notes.append("the runs are not over the same periods and discount rate: their KPIs (present values over "
                      "the periods, or one year's values without periods) are not comparable: "
                      + "; ".join(f"{n}: {json.loads(h) and [p['id'] for p in json.loads(h)] or 'one period'}"
                                  + (f" at {rate:g}" if rate is not None else "") for n, (h, rate) in horizons.items()))
    return Comparison(names, checks, kpis, alloc, parks, bind, inputs, notes)
