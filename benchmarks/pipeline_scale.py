"""The whole `solve --format orlib-cap` command at scale, against a direct numpy + highspy pipeline.

An OR-Library capacitated warehouse file of W warehouses × C customers (W·C pairs) is written to
a temporary folder (never into the repository) by `write_orlib_cap`, then solved three ways:
    command   `industry-transfer solve --format orlib-cap FILE --sourcing single --threads 1`, a
              fresh process, timed from outside (wall clock; peak memory: the largest resident set
              of the process and its solve child, `getrusage(RUSAGE_CHILDREN)` of a wrapper)
    YAML+CSV  the same file imported once (`import orlib-cap`, not timed) and solved as a YAML
              instance with its pairs in a CSV side table: the reading of side tables at scale
    direct    the baseline, also a fresh process: the file parsed with numpy, the same model built
              column-wise by hand (x[i,p], stay[i], y[p]; assign, strong link and capacity rows, as
              `benchmarks/build_scale.py`), handed to HiGHS, solved with the same options, and the
              allocation written as CSV; its objective must equal the command's
    phases    the command's steps called one after another in one process, timed apart: import
              (the file into plain data), validate (`load_imported`), data (`build_data`), build
              (`assemble`), heuristic (the construction heuristic's start, as the command makes it
              from 20,000 pairs), solve (the search: hand-off and HiGHS, or the kernel search), check
              (the plan read back and checked), results
              (the tables), write (the results folder) and summary (the terminal's tables)
Every warehouse's fixed cost is 0 (already open, as `5000 0.` in cap41) and its capacity the total
demand, so that HiGHS's presolve solves the model outright: the solve takes the same few seconds
in both and every phase of the command runs on a plan, which is what the ratio should measure
(our overhead), not the branch and bound. Sizes run in a fresh process each, `--repeat` times
(medians; the ratio is of medians measured in the same run).

    python benchmarks/pipeline_scale.py [--sizes 100x1000 300x1000 1000x1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from build_scale import columns  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def write_orlib_cap(path: Path, n_w: int, n_c: int, seed: int = 1) -> None:
    """An OR-Library `cap` file (Beasley 1988 layout: `m n`, m lines `capacity fixed`, then per customer
    its demand and its m costs, 7 to a line) of W open warehouses able to serve every customer."""
    import numpy as np

    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 35, n_c)
    cost = rng.uniform(1, 100, (n_c, n_w))
    with open(path, "w") as fh:
        fh.write(f" {n_w} {n_c} \n")
        fh.writelines(f" {int(demand.sum())} 0. \n" for _ in range(n_w))
        for j in range(n_c):
            fh.write(f" {demand[j]} \n")
            cells = [f"{v:.5f}" for v in cost[j]]
            fh.writelines(" " + " ".join(cells[k:k + 7]) + " \n" for k in range(0, n_w, 7))


def direct(file: Path, out: Path) -> float:
    """The baseline: parse, build, solve and write the allocation, with numpy and highspy alone.
    Returns the objective."""
    import highspy
    import numpy as np

    tokens = np.array(file.read_bytes().split(), dtype=float)
    n_p, n_i = int(tokens[0]), int(tokens[1])
    cap, open_cost = tokens[2:2 + 2 * n_p:2], tokens[3:3 + 2 * n_p:2]
    body = tokens[2 + 2 * n_p:].reshape(n_i, n_p + 1)
    demand, cost = body[:, 0], body[:, 1:].ravel()  # cost[i, p], industry-major like our pair table
    n = n_i * n_p
    ii, pp = np.divmod(np.arange(n), n_p)
    start, index, value, n_rows, n_cols = columns(demand, cap)  # the model as build_scale.py writes it
    start, index = start.astype(np.int32), index.astype(np.int32)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    lower = np.concatenate([np.zeros(n + n_i), (open_cost == 0).astype(float)])  # open_cost 0: already open
    upper = np.concatenate([np.ones(n), np.zeros(n_i), np.ones(n_p)])
    h.passModel(n_cols, n_rows, len(index), int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
                0.0, np.concatenate([cost, np.zeros(n_i), open_cost]), lower, upper,
                np.concatenate([np.ones(n_i), np.full(n + n_p, -np.inf)]),
                np.concatenate([np.ones(n_i), np.zeros(n + n_p)]), start, index, value,
                np.full(n_cols, int(highspy.HighsVarType.kInteger), dtype=np.int32))
    h.run()
    x = np.asarray(h.getSolution().col_value)[:n]
    placed = np.flatnonzero(x > 0.5)
    rows = "".join(f"c{i + 1},f{p + 1},1\n" for i, p in zip(ii[placed].tolist(), pp[placed].tolist()))
    out.write_text("industry,park,modules\n" + rows)
    return float(h.getInfo().objective_function_value)


def phases(file: Path, folder: Path) -> dict:
    """The command's steps, as `cli.solve` takes them, timed apart (in this one process)."""
    from rich.console import Console

    from model import kpis, load_imported
    from model.assemble import assemble
    from model.data import build_data
    from model.importers import import_file
    from model.options import BuildOptions
    from model.report import print_summary
    from model.run import Outcome, _heuristic, _tabulate, write_outcome
    from solvers import SolveOptions
    from solvers.run import solve

    out: dict = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out[name] = now - clock
        clock = now

    imported = import_file("orlib-cap", file, sourcing="single")
    lap("import")
    loaded = load_imported(imported)
    lap("validate")
    data = build_data(loaded.instance)
    lap("data")
    problem = assemble(data, BuildOptions())
    lap("build")
    options = SolveOptions(threads=1)
    levels = loaded.instance.levels()
    _heuristic(problem, data, levels, options, {})  # from 20,000 pairs its plan is the start, as in the command
    lap("heuristic")
    problem.weights = levels[0][0]
    result = solve(problem, options, duals=True)
    lap("solve")
    outcome = Outcome(loaded, data, problem, result, BuildOptions(), options, {})
    outcome.weights = dict(levels[-1][0])
    _tabulate(outcome, problem, data, levels)
    lap("check + results")
    write_outcome(outcome, folder)
    lap("write")
    unit_of = {t: kpis.unit(loaded.instance, t) for t in (*kpis.objective_terms(), *outcome.kpis)}
    with open(os.devnull, "w") as sink:
        print_summary(Console(file=sink, width=100), outcome.summary(), unit_of, outcome.tables.get("allocations.csv"),
                      outcome.tables.get("parks.csv"), outcome.tables.get("limits.csv"), folder)
    lap("summary")
    out["objective"] = result.objective
    return out


def measured(cmd: list[str]) -> dict:
    """Run `cmd` as a child of a fresh wrapper process: wall seconds, exit code and peak memory (MB)
    of the child and its descendants (the solve's child process among them)."""
    code = ("import json, resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
            "print(json.dumps({'seconds': time.perf_counter() - t, 'rc': rc,\n"
            "                  'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n")
    done = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=ENV, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_size(size: str, tmp: Path) -> dict:
    """One repetition at one size: the command, the baseline and the phases, each a fresh process."""
    n_w, n_c = map(int, size.split("x"))
    file = tmp / f"cap{n_w}x{n_c}.txt"
    if not file.exists():
        write_orlib_cap(file, n_w, n_c)
    out = {"pairs": n_w * n_c}
    cmd = measured([sys.executable, str(ROOT / "cli.py"), "solve", "--format", "orlib-cap", str(file),
                    "--sourcing", "single", "--threads", "1", "--out", str(tmp / "command")])
    assert cmd["rc"] == 0, f"the command failed (exit {cmd['rc']})"
    base = measured([sys.executable, __file__, "--direct", str(file), str(tmp / "direct.csv")])
    assert base["rc"] == 0, "the baseline failed"
    ours = json.loads((tmp / "command" / "kpis.json").read_text())["objective"]
    theirs = float((tmp / "direct.objective").read_text())
    assert abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs)), f"not the same optimum: {ours} vs {theirs}"
    instance = file.with_suffix(".yaml")  # the same file imported: YAML with its pairs in a CSV side table
    if not instance.exists():
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "import", "orlib-cap", str(file), "--sourcing", "single",
                        "-o", str(instance)], env=ENV, check=True, capture_output=True)
    side = measured([sys.executable, str(ROOT / "cli.py"), "solve", str(instance), "--threads", "1",
                     "--out", str(tmp / "yaml")])
    assert side["rc"] == 0, f"the command on the YAML + CSV failed (exit {side['rc']})"
    read_back = json.loads((tmp / "yaml" / "kpis.json").read_text())["objective"]
    assert abs(read_back - theirs) <= 1e-6 * max(1.0, abs(theirs)), f"not the same optimum: {read_back} vs {theirs}"
    done = subprocess.run([sys.executable, __file__, "--phases", str(file), str(tmp / "phases")],
                          capture_output=True, text=True, env=ENV, check=True)
    return {**out, "command": cmd["seconds"], "command_mb": cmd["peak_mb"], "yaml": side["seconds"],
            "yaml_mb": side["peak_mb"], "direct": base["seconds"],
            "direct_mb": base["peak_mb"], **{f"phase {k}": v for k, v in json.loads(done.stdout).items()
                                               if k != "objective"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["100x1000", "300x1000", "1000x1000"],
                        help="WAREHOUSESxCUSTOMERS")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--direct", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--phases", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.direct:
        file, out = map(Path, args.direct)
        out.with_suffix(".objective").write_text(repr(direct(file, out)))
        return
    if args.phases:
        print(json.dumps(phases(Path(args.phases[0]), Path(args.phases[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="pipeline-scale-") as tmp:
        rows = []
        for size in args.sizes:
            runs = [one_size(size, Path(tmp)) for _ in range(args.repeat)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            for key in ("command_mb", "yaml_mb", "direct_mb"):
                med[key] = max(r[key] for r in runs)
            rows.append(med)
            print(json.dumps(med), file=sys.stderr, flush=True)
        names = [k for k in rows[0] if k.startswith("phase ")]
        print("| pairs | direct (s) | command (s) | ratio | YAML + CSV command (s) | ratio | direct peak (MB) | "
              "command peak (MB) | YAML + CSV peak (MB) |")
        print("|---" * 9 + "|")
        for r in rows:
            print(f"| {r['pairs']:,} | {r['direct']:.2f} | {r['command']:.2f} | {r['command'] / r['direct']:.2f} | "
                  f"{r['yaml']:.2f} | {r['yaml'] / r['direct']:.2f} | {r['direct_mb']:.0f} | {r['command_mb']:.0f} | "
                  f"{r['yaml_mb']:.0f} |")
        print("\nThe command's phases (s), one process, medians:\n")
        print("| pairs | " + " | ".join(n.removeprefix("phase ") for n in names) + " |")
        print("|---" * (1 + len(names)) + "|")
        for r in rows:
            print(f"| {r['pairs']:,} | " + " | ".join(f"{r[n]:.2f}" for n in names) + " |")


if __name__ == "__main__":
    main()
