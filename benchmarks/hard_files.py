"""The hard published benchmark files: capa, capb, capc (both sourcings) and gapd #2–#5.

For each case, in a fresh process each, the kernel search (`--method kernel`) and, for comparison,
plain HiGHS (`--method mip`) at the same time limit, both with `--threads 1` and `--mip-gap 0`:

    python benchmarks/hard_files.py [--cases capb-6000-single gapd#2 ...] [--time-limit 600]
                                    [--methods kernel mip | --no-mip] [--optima benchmarks/optima-hard.csv]
                                    [--out table.csv]

(`--methods mip` runs plain HiGHS alone: what `--method auto` chooses below 20,000 pairs, as on gapd.)

Without `--cases` it runs all 28 (24 cap cases × 10 minutes each way is most of a day: pick a
subset). Prints one row per case: the published optimum (from the CSV; empty where none is known),
our objective and its gap to the published one, the bound we prove (best of the Lagrangian / Dantzig-Wolfe / LP
relaxation and HiGHS on the whole problem) and its gap, the seconds until our plan was within
0.1 % of the published optimum (from the search's trace of improvements), and plain HiGHS's
objective, gap and seconds to 0.1 % (from its incumbents, timed from its own start). Every plan
is re-checked by the independent checker (`check_ok`).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT.parent / "shared" / "benchdata"
sys.path.insert(0, str(ROOT))

from model.importers import CAPACITIES  # noqa: E402

GAPD = {2: "X05200", 3: "X10100", 4: "X10200", 5: "X20100"}
TARGET = 1e-3  # "within 0.1 % of the published optimum"


def all_cases() -> list[str]:
    cases = [f"{f}-{cap}-{src}" for f in ("capa", "capb", "capc") for cap in CAPACITIES[f]
             for src in ("multi", "single")]
    return cases + [f"gapd#{k}" for k in GAPD]


def read_optima(path: Path) -> dict[str, float]:
    out = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            name = row["instance"] + (f"-{row['sourcing']}" if row["set"] == "orlib_cap" else "")
            out[name] = float(row["optimum"])
    return out


def one(case: str, method: str, limit: float) -> dict:
    """Solve one case in this process (the child of `run`) and return its figures."""
    from model import load_imported
    from model.assemble import assemble
    from model.check import check
    from model.data import build_data
    from model.importers import import_file
    from model.options import BuildOptions
    from model.results import extract
    from model.run import solve_levels
    from solvers.control import CONTROL
    from solvers.options import SolveOptions

    if case.startswith("gapd#"):
        imported = import_file("gap", BENCH / "orlib_gap" / "gapd.txt", index=int(case.split("#")[1]))
    else:
        name, cap, sourcing = case.split("-")
        imported = import_file("orlib-cap", BENCH / "orlib_cap" / f"{name}.txt", float(cap), sourcing)
    started = time.monotonic()
    CONTROL.set_budget(limit, started)
    loaded = load_imported(imported)
    data = build_data(loaded.instance)
    problem = assemble(data, BuildOptions("strong"))
    result, _ = solve_levels(problem, loaded.instance.levels(),
                             SolveOptions(time_limit=limit, threads=1, mip_gap=0.0, method=method))
    ok = check(loaded.instance, extract(problem, data), None, result.objective).ok if result.has_solution else None
    return {"case": case, "method": method, "status": result.status, "objective": result.objective,
            "bound": result.bound, "root_bound": result.root_bound, "seconds": time.monotonic() - started,
            "trace": result.trace, "check_ok": ok}


def run(case: str, method: str, limit: float) -> dict:
    """`one` in a fresh process (a solve never shares a process with another)."""
    out = subprocess.run([sys.executable, __file__, "--one", case, "--method", method, "--time-limit", str(limit)],
                         capture_output=True, text=True, timeout=limit * 2 + 120)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"case": case, "method": method, "status": f"failed (exit {out.returncode})",
                "objective": None, "bound": None, "trace": None, "check_ok": None, "error": out.stderr[-500:]}
    return json.loads(lines[-1])


def gap(value: float | None, published: float | None) -> float | None:
    if value is None or published is None:
        return None
    return (value - published) / abs(published)


def reached(trace: list | None, published: float | None) -> float | None:
    """Seconds until the plan was within TARGET of the published optimum (None if never)."""
    if not trace or published is None:
        return None
    for seconds, objective in trace:
        if objective <= published * (1 + TARGET) + 1e-9:
            return seconds
    return None


def fmt(value: float | None, kind: str = "num") -> str:
    if value is None:
        return "-"
    return {"num": f"{value:,.2f}", "pct": f"{100 * value:+.3f} %", "s": f"{value:.0f}"}[kind]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", nargs="+", default=None, help="e.g. capb-6000-single gapd#2 [all 28]")
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--methods", nargs="+", choices=["kernel", "mip"], default=["kernel", "mip"])
    parser.add_argument("--no-mip", action="store_true", help="skip plain HiGHS (the comparison column)")
    parser.add_argument("--optima", default=str(ROOT / "benchmarks" / "optima-hard.csv"))
    parser.add_argument("--out", help="also write the table as CSV")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="kernel", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.method, args.time_limit)), flush=True)
        return
    cases = args.cases or all_cases()
    unknown = [c for c in cases if c not in all_cases()]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {' '.join(all_cases())}")
    optima = read_optima(Path(args.optima))
    header = ["case", "published", "objective", "gap_to_published", "bound", "bound_gap", "seconds_to_0.1%",
              "mip_objective", "mip_gap_to_published", "mip_seconds_to_0.1%", "check_ok", "status"]
    print(f"time limit {args.time_limit:g} s per run, --threads 1, --mip-gap 0; a shared, loaded machine")
    print(" | ".join(header))
    rows = []
    for case in cases:
        published = optima.get(case)
        none = {"objective": None, "bound": None, "trace": None, "check_ok": None, "status": "not run"}
        ours = run(case, "kernel", args.time_limit) if "kernel" in args.methods else none
        mip = None if args.no_mip or "mip" not in args.methods else run(case, "mip", args.time_limit)
        row = {"case": case, "published": published, "objective": ours["objective"],
               "gap_to_published": gap(ours["objective"], published), "bound": ours["bound"],
               "bound_gap": gap(ours["bound"], published), "seconds_to_0.1%": reached(ours["trace"], published),
               "mip_objective": mip["objective"] if mip else None,
               "mip_gap_to_published": gap(mip["objective"], published) if mip else None,
               "mip_seconds_to_0.1%": reached(mip["trace"], published) if mip else None,
               "check_ok": ours["check_ok"] if ours is not none else (mip or {}).get("check_ok"),
               "status": ours["status"] if ours is not none else (mip or {}).get("status")}
        rows.append(row)
        print(" | ".join([case, fmt(published), fmt(row["objective"]), fmt(row["gap_to_published"], "pct"),
                          fmt(row["bound"]), fmt(row["bound_gap"], "pct"), fmt(row["seconds_to_0.1%"], "s"),
                          fmt(row["mip_objective"]), fmt(row["mip_gap_to_published"], "pct"),
                          fmt(row["mip_seconds_to_0.1%"], "s"),
                          str(row["check_ok"]), row["status"]]), flush=True)
        for failed in (ours, mip):
            if failed and failed.get("error"):  # why the run failed, from its stderr
                print(f"  {case} {failed['method']}: {failed['error'].strip()}", file=sys.stderr, flush=True)
    if args.out:
        with open(args.out, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
