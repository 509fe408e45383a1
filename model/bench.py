"""The benchmark harness: instances × formulations × solvers × seeds, a tidy table, a profile.

The performance profile is Dolan and Moré's (2002): for each problem (instance, seed) the ratio of
a formulation's solve time to the best time any formulation took on it (∞ when it did not solve to
optimality), and for each formulation the share of problems whose ratio is at most τ.
"""

from __future__ import annotations

import glob
import io
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model import Loaded, load, load_imported
from model.assemble import assemble
from model.check import check
from model.data import build_data
from model.errors import InputError, Problem
from model.importers import CAPACITIES, OPTION_FORMATS, gap_count, import_file
from model.loader import MAX_BYTES, not_a_file, read_bounded
from model.options import BuildOptions
from model.outputs import Collection
from model.results import extract
from model.run import solve_levels
from solvers.control import CONTROL
from solvers.options import SolveOptions

COLUMNS = ["instance", "formulation", "method", "solver", "backend", "seed", "status", "objective", "bound", "gap",
           "root_bound", "published", "gap_to_published", "build_seconds",
           "solve_seconds", "nodes", "variables", "constraints", "check_ok"]
# Benchmark folders of ../shared/benchdata and the format of their files.
FOLDER_FORMATS = {"orlib_cap": "orlib-cap", "holmberg_sscflp": "holmberg", "orlib_gap": "gap", "gap_typeE": "gap"}


@dataclass
class Case:
    name: str
    load: Callable[[], Loaded]


def _format_of(path: str) -> str | None:
    return FOLDER_FORMATS.get(Path(path).parent.name)


def expand_specs(specs: list[str], capacity: float | None = None, sourcing: str = "multi",
                 index: int | None = None, max_bytes: int = MAX_BYTES, maximise: bool = False,
                 given: set[str] | None = None) -> list[Case]:
    """YAML files, benchmark files (`FORMAT:PATH` or known folders) and globs -> cases, in order.
    `given`: the options the user gave (capacity, sourcing, index); one that no spec's format reads
    is refused, as `solve` refuses it, rather than ignored."""
    cases: list[Case] = []
    kinds: set[str | None] = set()
    for spec in specs:
        fmt, _, pattern = spec.partition(":") if spec.split(":", 1)[0] in FOLDER_FORMATS.values() else ("", "", spec)
        prefix, colon, rest = spec.partition(":")
        named = colon and re.fullmatch(r"[A-Za-z][\w-]*", prefix)  # `xyz:PATH`, not a file called so
        if not fmt and named and not Path(spec).exists() and glob.glob(rest):
            raise InputError([Problem(spec, "(format)", f"unknown format {prefix!r}",
                                      "one of: " + ", ".join(sorted(set(FOLDER_FORMATS.values()))) + " (FORMAT:PATH)")])
        paths = sorted(glob.glob(pattern)) or [pattern]
        for path in paths:
            if not Path(path).is_file():
                raise InputError([Problem(spec, "(instance)", f"no file {path}", "a file, a glob or FORMAT:PATH")])
            kind = fmt or _format_of(path)
            kinds.add(kind)
            if maximise and kind != "gap":
                raise InputError([Problem("--maximise", path, "only GAP files are stated as maximisation problems",
                                          "gap files (or no --maximise)")])
            if kind is None:
                cases.append(Case(Path(path).stem, lambda p=path: load(p, max_bytes=max_bytes)))
            elif kind == "gap":
                for k in [index] if index else range(1, gap_count(path) + 1):
                    imp = import_file("gap", path, index=k, maximise=maximise)
                    cases.append(Case(imp.name, lambda i=imp: load_imported(i)))
            elif kind == "orlib-cap" and capacity is None and Path(path).stem.lower() in CAPACITIES:
                for cap in CAPACITIES[Path(path).stem.lower()]:
                    cases.append(Case(f"{Path(path).stem}-{cap}-{sourcing}",
                                      lambda p=path, c=cap: load_imported(import_file("orlib-cap", p, c, sourcing))))
            else:
                imp = import_file(kind, path, capacity, sourcing)
                name = imp.name + (f"-{sourcing}" if kind == "orlib-cap" else "")
                cases.append(Case(name, lambda i=imp: load_imported(i)))
    value = {"capacity": capacity, "sourcing": sourcing, "index": index}
    unread = [name for name in OPTION_FORMATS if name in (given or set()) and OPTION_FORMATS[name] not in kinds]
    if unread:  # an option no case reads would be dropped without a word (holmberg --capacity ran as the file)
        raise InputError([Problem(f"--{name}", f"{value[name]:g}" if name == "capacity" else str(value[name]),
                                  "no SPEC is a file it applies to", f"a {OPTION_FORMATS[name]} file among the "
                                  f"SPECS, or no --{name}") for name in unread])
    names = [c.name for c in cases]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # the same instance twice, or two files of one name: their rows could not be told apart
        raise InputError([Problem(" ".join(specs), "SPECS", f"the case {n!r} comes twice", "each instance once")
                          for n in twice])
    return cases


def read_optima(path: Path, max_bytes: int = MAX_BYTES) -> dict[str, float]:
    """Published optima by case name, as `bench` names its cases, for the `gap_to_published` column.

    A CSV with `instance` and `optimum` (as ../shared/benchdata/optima-public.csv): OR-Library cap
    rows (`set` orlib_cap) are named `<instance>-<sourcing>`; a `sense` of max names the case
    `<instance>-max` and is compared as its negative (`--maximise` minimises minus the profit)."""
    expected = "a CSV with instance and optimum columns"
    if not Path(path).is_file():  # a pipe would block the read, a device never end it
        raise InputError([Problem(str(path), "--optima", not_a_file(path), expected)])
    data, why = read_bounded(path, max_bytes)
    if why:
        raise InputError([Problem(str(path), "--optima", why, expected)])
    try:
        table = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError([Problem(str(path), "--optima", f"not a readable CSV ({type(exc).__name__})",
                                  "a CSV with instance and optimum columns")]) from None
    missing = [c for c in ("instance", "optimum") if c not in table.columns]
    if missing:
        raise InputError([Problem(f"{path}:1", "(header)", "missing column " + ", ".join(missing),
                                  "a CSV with instance and optimum columns")])
    out = {}
    for n, row in enumerate(table.to_dict("records"), start=2):
        try:
            value = float(row["optimum"])
        except ValueError:
            raise InputError([Problem(f"{path}:{n}", "optimum", f"{row['optimum']!r} is not a number",
                                      "the published optimal value")]) from None
        name = row["instance"] + (f"-{row['sourcing']}" if row.get("set") == "orlib_cap" and row.get("sourcing")
                                  else "")
        if row.get("sense") == "max":
            name, value = f"{name}-max", -value
        out[name] = value
    return out


class Stopped(Exception):
    """A signal stopped the benchmark: `table` holds the runs completed before it."""

    def __init__(self, table: pd.DataFrame, signal: str, total: int) -> None:
        super().__init__(signal)
        self.table, self.signal, self.total = table, signal, total


def run_bench(cases: list[Case], formulations: list[str], solvers: list[str], time_limit: float | None,
              mip_gap: float | None, threads: int | None, repeat: int,
              progress: Callable[[str], None] = lambda line: None,
              backends: list[str] | None = None, optima: dict[str, float] | None = None,
              methods: list[str] | None = None) -> pd.DataFrame:
    """Solve every combination; each plan found is re-checked by the independent checker. The
    back-end (direct or pyomo) applies to HiGHS; other solvers always go through Pyomo. With
    A signal ends it after the run under way, which is dropped: `Stopped` carries the completed
    runs (KeyboardInterrupt if there are none). With
    `optima` (`read_optima`), each run's objective is set against the published one:
    gap_to_published = (objective − published) / |published|; root_bound is HiGHS's dual bound
    when its root node was done (direct back-end), or with `method` kernel the LP relaxation's
    value (the search's root). `methods`: how the MIP is searched (`SolveOptions.method`)."""
    rows = []
    combos = list(dict.fromkeys((s, b if s in ("highs", "appsi_highs") else "pyomo")
                                for s in solvers for b in (backends or ["direct"])))
    methods = methods or ["mip"]
    total = len(cases) * len(formulations) * len(combos) * len(methods) * repeat
    try:
        _runs(cases, formulations, combos, methods, repeat, time_limit, mip_gap, threads, optima, rows, progress,
              total)
    except KeyboardInterrupt as exc:
        if not rows:
            raise
        raise Stopped(pd.DataFrame(rows, columns=COLUMNS), str(exc) or "SIGINT", total) from None
    return pd.DataFrame(rows, columns=COLUMNS)


def _runs(cases: list[Case], formulations: list[str], combos: list[tuple[str, str]], methods: list[str], repeat: int,
          time_limit: float | None, mip_gap: float | None, threads: int | None, optima: dict[str, float] | None,
          rows: list[dict], progress: Callable[[str], None], total: int) -> None:
    """The runs of `run_bench`, each appended to `rows` when it is complete."""
    done = 0
    for case in cases:
        loaded = case.load()
        for formulation in formulations:
            for (solver, backend), method in ((c, k) for c in combos for k in methods):
                for seed in range(repeat):
                    start = time.perf_counter()
                    data = build_data(loaded.instance)
                    m = assemble(data, BuildOptions(formulation))
                    build_seconds = time.perf_counter() - start
                    opts = SolveOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                                        seed=seed, backend=backend, method=method)
                    result, _ = solve_levels(m, loaded.instance.levels(), opts)  # every level, as `solve`
                    if result.status == "interrupted":  # a run stopped half-way says nothing: not kept
                        raise KeyboardInterrupt(CONTROL.signal_name or "SIGINT")
                    ok = None
                    if result.has_solution:
                        ok = check(loaded.instance, extract(m, data), None, result.objective).ok
                    published = (optima or {}).get(case.name)
                    behind = None
                    if published is not None and result.objective is not None:
                        behind = (result.objective - published) / max(abs(published), 1e-9)
                    rows.append({"instance": case.name, "formulation": formulation, "method": method,
                                 "solver": solver,
                                 "backend": opts.path, "seed": seed,
                                 "status": result.status, "objective": result.objective, "bound": result.bound,
                                 "gap": result.gap, "root_bound": result.root_bound, "published": published,
                                 "gap_to_published": behind, "build_seconds": build_seconds,
                                 "solve_seconds": result.seconds, "nodes": result.nodes,
                                 "variables": m.n_cols, "constraints": m.n_rows, "check_ok": ok})
                    done += 1
                    progress(f"[{done}/{total}] {case.name} {formulation} {method} {solver} ({opts.path}) seed {seed}: "
                             f"{result.status} "
                             f"{result.objective if result.objective is not None else '-'} "
                             f"in {result.seconds:.2f} s")
                    if CONTROL.stop.is_set():  # a signal during the check or between runs: stop here
                        raise KeyboardInterrupt(CONTROL.signal_name or "SIGINT")


def profile(table: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Dolan–Moré profile of solve time over problems (instance, solver, seed): τ grid and ρ per formulation."""
    t = table.assign(time=np.where(table["status"] == "optimal", table["solve_seconds"], np.inf))
    if "method" in t.columns and t["method"].nunique() > 1:  # then each formulation and method is compared
        t = t.assign(formulation=t["formulation"] + " " + t["method"])
    index = [c for c in ("instance", "solver", "backend", "seed") if c in t.columns]
    wide = t.pivot_table(index=index, columns="formulation", values="time", aggfunc="first")
    best = wide.min(axis=1).replace(0, 1e-9)
    ratios = wide.div(best, axis=0)
    finite = ratios.to_numpy()[np.isfinite(ratios.to_numpy())]
    top = max(2.0, float(finite.max()) * 1.05) if finite.size else 2.0
    taus = np.geomspace(1.0, top, 200)
    return taus, {f: np.array([(ratios[f] <= tau).mean() for tau in taus]) for f in ratios.columns}


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Median solve time and nodes per instance, formulation, solver and back-end (across seeds)."""
    keys = [c for c in ("instance", "formulation", "method", "solver", "backend") if c in table.columns]
    return (table.groupby(keys, sort=False)
            .agg(status=("status", lambda s: ",".join(sorted(set(s)))),
                 objective=("objective", "first"),
                 median_solve_seconds=("solve_seconds", statistics.median),
                 median_nodes=("nodes", lambda s: statistics.median([v for v in s if v == v] or [float("nan")])))
            .reset_index())


def write_bench(table: pd.DataFrame, out: Path, complete: bool = True) -> list[Path]:
    """results.csv (every run), summary.csv (medians) and profile.png (Dolan–Moré); of a benchmark
    that was stopped (not `complete`), results.csv only: medians and a profile over the runs that
    happened to finish would compare the formulations on different problems."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Collection(out, "bench")
    folder.claim()
    paths = [out / "results.csv", out / "summary.csv", out / "profile.png"]
    folder.write_file(paths[0].name, table.to_csv(index=False, float_format="%.10g"))
    if not complete:
        for path in paths[1:]:  # an earlier stopped benchmark's (a complete one is not written over: cli)
            folder.remove(path.name)
        return paths[:1]
    folder.write_file(paths[1].name, summary(table).to_csv(index=False, float_format="%.6g"))
    taus, rho = profile(table)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, values in rho.items():
        ax.step(taus, values, where="post", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("τ (solve time / best solve time on the problem)")
    ax.set_ylabel("share of problems solved within τ")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Performance profile, {table['instance'].nunique()} instances")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    folder.write_file(paths[2].name, buffer.getvalue())
    return paths
