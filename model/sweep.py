"""What-if sweeps: named scenarios × a grid of `--set` values, solved in parallel.

Each variant is solved from scratch in a worker (local processes, or a dask.distributed cluster)
and writes its own results folder; the sweep writes `summary.csv` with one row per variant.
A rebuild is used, not a persistent solver: on the china instance a rebuild with its hand-off to
HiGHS takes 0.35 s and an in-place update of a persistent model 0.03 s, against 13.6 s for a
solve (`benchmarks/rebuild_vs_persistent.py`, medians of 5): re-use would save about 2 % of a run
and tie each worker to one instance and one model.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.errors import InputError, Problem

SUMMARY = ["run", "scenario", "overlays", "status", "objective", "bound", "gap", "build_seconds", "solve_seconds"]


@dataclass(frozen=True)
class Variant:
    name: str
    scenario: str | None
    sets: tuple[tuple[str, Any], ...] = field(default_factory=tuple)


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """`KEY=V1,V2,...` -> (KEY, [V1, V2, ...]); values read as YAML (numbers, booleans, "*0.8")."""
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise InputError([Problem("--grid", text, "not of the form KEY=V1,V2,...",
                                  "e.g. objective.weights.co2=0.05,0.1,0.2")])
    return key.strip(), [yaml.safe_load(v) if v.strip() else None for v in values.split(",")]


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.*-]+", "_", str(value)).replace("*", "x")


def variants(scenarios: list[str | None], grid: list[tuple[str, list[Any]]]) -> list[Variant]:
    """Every scenario combined with every point of the grid's cartesian product."""
    keys = [k for k, _ in grid]
    out = []
    for scenario in scenarios:
        for point in itertools.product(*[values for _, values in grid]) if grid else [()]:
            sets = tuple(zip(keys, point))
            parts = [scenario or "base"] + [f"{k.split('.')[-1]}={_slug(v)}" for k, v in sets]
            out.append(Variant("__".join(parts), scenario, sets))
    return out


def run_variant(instance: str, variant: Variant, out_root: str, formulation: str,
                solve_options: dict[str, Any]) -> dict[str, Any]:
    """Solve one variant and write its folder; returns its summary row. Runs in a worker process."""
    from model import load
    from model.build import BuildOptions
    from model.run import solve_instance, write_outcome
    from solvers import SolveOptions

    loaded = load(instance, variant.scenario, list(variant.sets))
    outcome = solve_instance(loaded, BuildOptions(formulation), SolveOptions(**solve_options))
    write_outcome(outcome, Path(out_root) / variant.name)
    r = outcome.result
    row = {"run": variant.name, "scenario": variant.scenario or "", "overlays": "; ".join(
        f"{o['key']}={o['value']}" for o in loaded.overlays), "status": r.status, "objective": r.objective,
        "bound": r.bound, "gap": r.gap, "build_seconds": outcome.timings["data"] + outcome.timings["build"],
        "solve_seconds": r.seconds}
    row.update(outcome.summary()["kpis"])
    return row


def _local(tasks: list[tuple], workers: int) -> Iterator[dict[str, Any]]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_variant, *task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


def _dask(tasks: list[tuple], address: str) -> Iterator[dict[str, Any]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(address, timeout="30s") as client:
        futures = [client.submit(run_variant, *task, pure=False) for task in tasks]
        for future in dask_completed(futures):
            yield future.result()


def sweep(instance: str, runs: list[Variant], out: Path, formulation: str, solve_options: dict[str, Any],
          workers: int = 1, scheduler: str | None = None,
          progress: Callable[[dict[str, Any]], None] = lambda row: None) -> pd.DataFrame:
    """Solve every variant (local processes, or the dask cluster at `scheduler`); write summary.csv."""
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(instance, v, str(out), formulation, solve_options) for v in runs]
    results = _dask(tasks, scheduler) if scheduler else _local(tasks, workers)
    rows = []
    for row in results:
        rows.append(row)
        progress(row)
    order = {v.name: n for n, v in enumerate(runs)}
    table = pd.DataFrame(rows).sort_values("run", key=lambda s: s.map(order)).reset_index(drop=True)
    table = table[SUMMARY + [c for c in table.columns if c not in SUMMARY]]
    table.to_csv(out / "summary.csv", index=False, float_format="%.10g")
    return table
