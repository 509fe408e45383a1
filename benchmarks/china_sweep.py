"""The china sweep to a proven 1e-4 gap: the formulation before against the one after, in the same run.

The runs of `industry-transfer sweep instances/china-east-west.yaml` (by default five: the base and
the instance's first four scenarios; `--all` for the base and every scenario, `--scenario` to name
them) are solved with each setting:
    before   formulation `strong` and HiGHS's own options: the tool before the sector capacity cut
    after    formulation `tight` (the default since: `strong` + the sector capacity cut of
             `model/families/diversity.py`), plus any `--after-option NAME=VALUE`
Each solve runs in a fresh process, through the tool's own path (`model.run.solve_instance`: build,
solve, duals, the plan checked), at HiGHS's default relative gap 1e-4; `--repeat` times, the
settings alternating run by run so that a load on the machine falls on both alike. Reported per
run and setting: the median solve seconds (wall clock, and the CPU seconds of HiGHS's process,
which a shared machine changes less), nodes, the objective and the proven gap (both must be
≤ 1e-4, and the two objectives within 2e-4 of each other: each is within 1e-4 of the optimum), and
the ratio after / before of the medians; the total is the sum of the runs' medians.

    python benchmarks/china_sweep.py [--repeat 3] [--threads 1] [--all | --scenario NAME ...]
                                     [--before strong] [--after tight] [--after-option NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
INSTANCE = ROOT / "instances" / "china-east-west.yaml"
GAP = 1e-4


def one(scenario: str | None, formulation: str, threads: int | None, options: list[str]) -> dict:
    """Solve one run here (the child process) and return its figures."""
    from model import load
    from model.options import BuildOptions
    from model.run import solve_instance
    from solvers.options import SolveOptions, parse_value

    raw = {name: parse_value(value) for name, value in (o.split("=", 1) for o in options)}
    loaded = load(str(INSTANCE), scenario)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = solve_instance(loaded, BuildOptions(formulation), SolveOptions(threads=threads, raw=raw))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = out.result
    # HiGHS runs in a child forked for the solve: its CPU seconds (solve and duals) are those of the
    # children, which a load on the machine changes far less than the wall-clock seconds.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"status": r.status, "objective": r.objective, "gap": r.gap, "seconds": r.seconds, "cpu": cpu,
            "nodes": r.nodes, "checked": out.check is not None and out.check.ok}


def measure(scenario: str | None, formulation: str, threads: int | None, options: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--one", scenario or "", "--formulation", formulation]
    cmd += ["--threads", str(threads)] if threads else []
    for o in options:
        cmd += ["--after-option", o]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="HiGHS threads (0: HiGHS's default)")
    ap.add_argument("--all", action="store_true", help="the base and every scenario (as `sweep --all`)")
    ap.add_argument("--scenario", action="append", default=None, help="a run (`base` for no scenario)")
    ap.add_argument("--before", default="strong", help="formulation of the setting before")
    ap.add_argument("--after", default="tight", help="formulation of the setting after")
    ap.add_argument("--after-option", action="append", default=[], metavar="NAME=VALUE",
                    help="a HiGHS option of the setting after")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--formulation", help=argparse.SUPPRESS)
    args = ap.parse_args()
    threads = args.threads or None
    if args.one is not None:
        print(json.dumps(one(args.one or None, args.formulation, threads, args.after_option)))
        return

    from model import load

    scenarios = list(load(str(INSTANCE)).instance.scenarios)
    names = (["base", *scenarios] if args.all else args.scenario or ["base", *scenarios[:4]])
    settings = {"before": (args.before, []), "after": (args.after, args.after_option)}
    found: dict[tuple[str, str], list[dict]] = {}
    try:
        for k in range(args.repeat):
            for n, name in enumerate(names):
                order = list(settings.items())
                for setting, (formulation, options) in (order if (k + n) % 2 == 0 else order[::-1]):
                    row = measure(None if name == "base" else name, formulation, threads, options)
                    found.setdefault((name, setting), []).append(row)
                    print(f"[{k + 1}/{args.repeat}] {name} {setting}: {row['status']} {row['objective']} gap "
                          f"{row['gap']:.2e} {row['seconds']:.1f} s (cpu {row['cpu']:.1f} s) {row['nodes']} nodes",
                          flush=True)
    except KeyboardInterrupt:  # the summary of the runs measured with both settings so far
        names = [name for name in names if (name, "before") in found and (name, "after") in found]
        print(f"\ninterrupted: {min((len(v) for v in found.values()), default=0)} or more repetitions of "
              f"{len(names)} runs")

    print(f"\nchina sweep, {len(names)} runs, medians of up to {args.repeat} "
          f"(before: {args.before}; after: {args.after} {' '.join(args.after_option)}; threads {threads or 'default'})")
    print(f"{'run':<26}{'before s':>10}{'after s':>10}{'ratio':>8}{'cpu before':>12}{'cpu after':>11}{'ratio':>8}"
          f"{'nodes before':>14}{'nodes after':>13}{'objective':>13}")
    totals = {"before": 0.0, "after": 0.0}
    cpus = {"before": 0.0, "after": 0.0}
    bad = []
    for name in names:
        med = {s: {f: statistics.median(r[f] for r in found[name, s]) for f in ("seconds", "cpu", "nodes")}
               for s in settings}
        for s in settings:
            totals[s] += med[s]["seconds"]
            cpus[s] += med[s]["cpu"]
            for r in found[name, s]:
                if r["status"] != "optimal" or r["gap"] is None or r["gap"] > GAP * (1 + 1e-9) or not r["checked"]:
                    bad.append(f"{name} {s}: {r['status']}, gap {r['gap']}")
        objs = [r["objective"] for s in settings for r in found[name, s]]
        if max(objs) - min(objs) > 2 * GAP * max(abs(v) for v in objs):
            bad.append(f"{name}: objectives {min(objs)} .. {max(objs)} differ by more than the gaps allow")
        b, a = med["before"], med["after"]
        print(f"{name:<26}{b['seconds']:>10.1f}{a['seconds']:>10.1f}{a['seconds'] / b['seconds']:>8.2f}"
              f"{b['cpu']:>12.1f}{a['cpu']:>11.1f}{a['cpu'] / b['cpu']:>8.2f}{b['nodes']:>14.0f}{a['nodes']:>13.0f}"
              f"{statistics.median(objs):>13,.1f}")
    print(f"{'total':<26}{totals['before']:>10.1f}{totals['after']:>10.1f}{totals['after'] / totals['before']:>8.2f}"
          f"{cpus['before']:>12.1f}{cpus['after']:>11.1f}{cpus['after'] / cpus['before']:>8.2f}")
    for line in bad:
        print("NOT PROVEN:", line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
