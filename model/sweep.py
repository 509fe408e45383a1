"""What-if sweeps: named scenarios × a grid of `--set` values, solved in parallel.

Each variant is solved from scratch in a worker (local processes, or a dask.distributed cluster)
and writes its own results folder; the sweep writes `summary.csv` with one row per variant.
A rebuild is used, not a persistent solver: on the china instance a rebuild with its hand-off to
HiGHS takes 0.35 s and an in-place update of a persistent model 0.03 s, against 13.6 s for a
solve (`benchmarks/rebuild_vs_persistent.py`, medians of 5): re-use would save about 2 % of a run
and tie each worker to one instance and one model.

The sweep folder is a folder of this tool (`model.outputs.Collection`): `summary.csv` is rewritten,
atomically, each time a run finishes, so a sweep that is stopped or killed leaves a summary of
exactly the runs it completed. Run folders of an earlier sweep into the same folder that this one
does not redo are removed when this one completes. Local workers end with the sweep (they die
with their parent, even on SIGKILL, and take their solver processes with them).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
import re
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, Problem, clip, format_path
from model.loader import MAX_BYTES, key_paths, parse_set, scale_factor
from model.outputs import Collection, check_folder
from solvers.options import HIGHS_NAMES, SolveOptions

SUMMARY = ["run", "instance", "scenario", "overlays", "earlier", "status", "objective", "bound", "gap", "build_seconds",
           "solve_seconds"]
SHOWN = ["run", "status", "objective", "bound", "gap", "build_seconds", "solve_seconds"]  # in the terminal


@dataclass(frozen=True)
class Variant:
    name: str
    scenario: str | None
    sets: tuple[tuple[str, Any], ...] = field(default_factory=tuple)


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """`KEY=V1,V2,...` -> (KEY, [V1, V2, ...]); each value read as `--set` reads it (numbers,
    booleans, "*0.8" to scale). A value given twice is refused: it would be the same run twice."""
    key, sep, values = text.partition("=")
    if not sep or not key.strip() or not values.strip():
        raise InputError([Problem("--grid", text, "not of the form KEY=V1,V2,...",
                                  "e.g. objective.weights.co2=0.05,0.1,0.2")])
    texts = _split(values)
    parsed = [parse_set(f"{key.strip()}={v}", "--grid")[1] for v in texts]
    seen: list[tuple] = []
    for given, v in zip(texts, parsed):
        if scale_factor(v) is not None:  # *0.5 and *0.50 scale alike
            same: tuple = ("scale", scale_factor(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):  # 1 and 1.0 are one value; True is not 1
            same = ("number", float(v))
        else:
            try:  # '8' is read as 8 where a number is expected
                same = ("number", float(v)) if isinstance(v, str) else (type(v).__name__, repr(v))
            except ValueError:
                same = (type(v).__name__, repr(v))
        if same in seen:
            first = texts[seen.index(same)].strip()
            twice = f"`{given.strip()}` is given twice" if given.strip() == first else \
                f"`{given.strip()}` is the value `{first}` again"
            raise InputError([Problem("--grid", text, twice, "each value once")])
        seen.append(same)
    return key.strip(), parsed


def _split(values: str) -> list[str]:
    """The values of `V1,V2,...`, split at the commas outside quoted texts and brackets, so that a
    text with a comma ("a,b") or a list ([a, b]) is one value. As in YAML, a quote opens a quoted
    text only where a value (or an item of a list) begins: the apostrophe of Xi'an is a letter."""
    out, depth, quote, start, n = [], 0, "", 0, 0
    begins = True  # at the start of a value or of an item (spaces aside)
    while n < len(values):
        c = values[n]
        if quote:
            if c == quote and quote == "'" and values[n + 1:n + 2] == "'":
                n += 1  # '' is a quote inside a single-quoted text
            elif c == quote:
                quote = ""
        elif c in "'\"" and begins:
            quote = c
        elif c in "[{" and (begins or depth):
            depth += 1
        elif c in "]}" and depth:
            depth -= 1
        elif c == "," and depth == 0:
            out.append(values[start:n])
            start = n + 1
        begins = (c in ",[{:" and not quote) or (begins and c.isspace())
        n += 1
    return [*out, values[start:]]


def check_grids(grid: list[tuple[str, list[Any]]], data: Any = None) -> None:
    """One --grid per value: two would make one value take two in one run (the later silently).
    Keys are compared as written and, given the instance's document `data`, by the values they
    name (`parks.2.capacity.land` is `parks.guangan.capacity.land`; `parks.*` names every park)."""
    keys = [k for k, _ in grid]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        raise InputError([Problem("--grid", key, "the key is swept by two --grid options", "one --grid per key")])
    if data is None:
        return
    data = copy.deepcopy(data)  # resolving may add the sections a key goes through
    owner: dict[tuple, tuple[str, tuple]] = {}  # every path set, and each of its prefixes -> (key, path)
    for key in keys:
        try:
            paths = key_paths(data, key)
        except KeyError:
            continue  # loading the variant names what is wrong with the key
        for path in paths:
            # The same value, one inside the other (parks.wuhu.capacity and its land), or both.
            clash = owner.get(path) or next((owner[path[:n]] for n in range(1, len(path))
                                             if path[:n] in owner and owner[path[:n]][1] == path[:n]), None)
            if clash is not None and clash[0] != key:
                raise InputError([Problem("--grid", key, f"sets {format_path(path)}, which --grid {clash[0]} sets "
                                          f"too ({format_path(clash[1])})", "one --grid per value")])
            for n in range(1, len(path) + 1):
                owner.setdefault(path[:n], (key, path))
            owner[path] = (key, path)


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value).replace("*", "x"))


def _labels(keys: list[str]) -> list[str]:
    """For each key, its shortest dotted tail that no other key shares (`land` or `wuhu.capacity.land`)."""
    out = []
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            tail = ".".join(parts[-n:])
            if all(not other.endswith(tail) or other == key for other in keys):
                break
        out.append(tail)
    return out


def variants(scenarios: list[str | None], grid: list[tuple[str, list[Any]]], data: Any = None) -> list[Variant]:
    """Every scenario combined with every point of the grid's cartesian product.

    A run's name is its scenario and its grid values (`base__land=80`); names that would collide
    once made file-safe (values `a b` and `a_b`) get a short hash of the exact values, so no run
    ever writes over another's folder.
    """
    check_grids(grid, data)
    keys = [k for k, _ in grid]
    labels = _labels(keys)
    out = []
    for scenario in scenarios:
        for point in itertools.product(*[values for _, values in grid]) if grid else [()]:
            sets = tuple(zip(keys, point))
            parts = [scenario or "base"] + [f"{label}={_slug(v)}" for label, (_, v) in zip(labels, sets)]
            out.append(Variant("__".join(parts), scenario, sets))
    names = [v.name for v in out]
    out = [Variant(f"{v.name}__{hashlib.sha256(repr(v.sets).encode()).hexdigest()[:6]}", v.scenario, v.sets)
           if names.count(v.name) > 1 else v for v in out]
    taken: set[str] = set()
    unique = []
    for v in out:  # a value may itself look like a hashed name: number what still collides
        name, n = v.name, 1
        while name in taken:
            n += 1
            name = f"{v.name}__{n}"
        taken.add(name)
        unique.append(Variant(name, v.scenario, v.sets))
    return unique


def run_variant(instance: str, variant: Variant, out_root: str, formulation: str,
                solve_options: SolveOptions, max_bytes: int) -> str:
    """Solve one variant and write its folder; returns its name. Runs in a worker process."""
    from model import load
    from model.options import BuildOptions
    from model.run import solve_instance, write_outcome
    from solvers.control import CONTROL

    CONTROL.set_budget(solve_options.time_limit)  # each run's own budget
    loaded = load(instance, variant.scenario, list(variant.sets), max_bytes=max_bytes)
    outcome = solve_instance(loaded, BuildOptions(formulation), solve_options)
    write_outcome(outcome, Path(out_root) / variant.name)
    return variant.name


def summary_row(folder: Path) -> dict[str, Any] | None:
    """A run's line of summary.csv, read from its folder (None if the folder is not a complete run).

    The summary is made from the folders on disk, never from memory, so it always says what the
    sweep folder holds, whenever and however the sweep ended."""
    from model.outputs import manifest

    if manifest(folder) is None or not (folder / "kpis.json").is_file() or not (folder / "run.json").is_file():
        return None
    try:
        kpis = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        timings = run.get("timings", {})
        made_from = run.get("instance") if isinstance(run.get("instance"), dict) else {}
        row = {"run": folder.name, "instance": made_from.get("name") or made_from.get("file") or "",
               "scenario": run.get("scenario") or "",
               "overlays": "; ".join(f"{o['key']}={o['value']}" for o in run.get("overlays", [])),
               "status": kpis["status"], "objective": kpis["objective"], "bound": kpis["bound"], "gap": kpis["gap"],
               "build_seconds": timings.get("data", 0.0) + timings.get("build", 0.0),
               "solve_seconds": kpis.get("solve_seconds")}
        row.update(kpis.get("kpis", {}))
    except (ValueError, KeyError, TypeError, OSError):
        return None
    return row


def _worker_init() -> None:
    """A sweep worker ends with the sweep, and at once: Ctrl-C is the sweep's to handle, and
    SIGTERM (the sweep ending its workers) kills it before it writes anything (its solver child
    dies with it)."""
    from solvers.control import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()


def _local(tasks: list[tuple], workers: int) -> Iterator[str]:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
    try:
        futures = [pool.submit(run_variant, *task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
    finally:
        # Stopped early (a signal, an error), or done: end the workers now rather than wait for them.
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()


def check_scheduler(address: str) -> None:
    """Refuse, before any work, a dask scheduler that cannot be reached (`InputError`)."""
    from distributed import Client

    try:
        with Client(address, timeout="30s"):
            pass
    except (OSError, TimeoutError, ValueError) as exc:  # refused, timed out, or not an address
        raise InputError([Problem("--scheduler", address, f"cannot be reached ({clip(str(exc))})",
                                  "the address of a running dask scheduler, e.g. tcp://host:8786")]) from None


def _dask(tasks: list[tuple], address: str) -> Iterator[str]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(address, timeout="30s") as client:
        futures = [client.submit(run_variant, *task, pure=False) for task in tasks]
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            client.cancel(futures)


def summary(folder: Path, names: list[str], earlier: list[str] | tuple[str, ...] = (),
            done: set[str] | None = None) -> pd.DataFrame:
    """summary.csv: one line per complete run folder among `names`, then `earlier` (the runs of an
    earlier sweep into the folder that this one does not redo), in order. Column `earlier` is true
    for a folder this sweep has not written (yet): those of `earlier`, and of `names` not in
    `done` (an earlier sweep's run of the same name, until this one redoes it)."""
    rows = [{**row, "earlier": n in earlier or (done is not None and n not in done)} for n in [*names, *earlier]
            if (row := summary_row(folder / n)) is not None]
    if not rows:
        return pd.DataFrame(columns=SUMMARY)
    table = pd.DataFrame(rows)
    return table[SUMMARY + [c for c in table.columns if c not in SUMMARY]]


def earlier_runs(folder: Collection, runs: list[Variant]) -> list[str]:
    """The run folders of an earlier sweep into `folder` that `runs` do not redo."""
    names = {v.name for v in runs}
    return sorted(name for name in folder.files if name != "summary.csv" and name not in names)


def claim(out: Path) -> Collection:
    """Check and mark the sweep folder before any run starts (`InputError` if it is not ours to use)."""
    folder = Collection(out, "sweep")
    folder.claim()
    return folder


def threads_per_worker(workers: int) -> int:
    """HiGHS's threads in each of `workers` local runs at once when the user gave none: the cores
    this process may use, shared out (at least 1). A dask cluster's workers are left to their own
    settings (their cores are not known here), and so are other solvers (not given threads). HiGHS
    on its own takes every core for each run: on 2 cores, 4 china runs with `--workers 2` took 119 s
    (220 s of CPU) against 75 s (133 s) with one thread each (one sweep each)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // workers)


def sweep(instance: str, runs: list[Variant], out: Path | Collection, formulation: str,
          solve_options: SolveOptions, workers: int = 1, scheduler: str | None = None,
          max_bytes: int = MAX_BYTES, progress: Callable[[str], None] = lambda name: None) -> pd.DataFrame:
    """Solve every variant (local processes, or the dask cluster at `scheduler`); keep summary.csv
    up to date as runs finish.

    Run folders of an earlier sweep into the same folder stay (and stay in the summary) until this
    sweep completes: a stopped sweep never leaves less than was there. A run redone replaces its
    folder at once, when it is written."""
    folder = out if isinstance(out, Collection) else claim(Path(out))
    for v in runs:  # a run's folder must be new or ours, like any results folder: known before any run
        check_folder(folder.out / v.name, "--out")
    names = [v.name for v in runs]
    earlier = earlier_runs(folder, runs)
    folder.add(*names)  # listed before its worker writes it

    finished: set[str] = set()

    def write_summary() -> pd.DataFrame:
        table = summary(folder.out, names, earlier, finished)
        folder.write_file("summary.csv", table.to_csv(index=False, float_format="%.10g"))
        return table

    write_summary()
    at_once = min(workers, len(runs))
    if not scheduler and at_once > 1 and solve_options.threads is None and solve_options.solver in HIGHS_NAMES:
        solve_options = replace(solve_options, threads=threads_per_worker(at_once))
    try:
        work = [(instance, v, str(folder.out), formulation, solve_options, max_bytes) for v in runs]
        for name in _dask(work, scheduler) if scheduler else _local(work, workers):
            finished.add(name)
            write_summary()
            progress(name)
    finally:
        write_summary()  # whatever stopped the sweep, the summary says what the folder holds
    for name in earlier:
        folder.remove(name)  # the sweep is complete: runs of an earlier sweep no longer belong here
    return write_summary()

