"""The construction heuristic against plain HiGHS on generated instances, in the same run.

For each size, `industry-transfer generate --industries N --parks M --seed 1` is written to a
temporary folder and built once per process (load, data, model: timed apart, the same for both
arms). Then, from the built model, each arm gets the same wall-clock budget (`--limit`, 60 s):
    plain       HiGHS alone (`highs_direct.load` + `run`), as `solve --heuristic off` does
    heuristic   `model/heuristic.py`, then HiGHS with its plan as the MIP start (`--heuristic
                start --method mip`); the heuristic's seconds count against the budget
    kernel      the same heuristic, then the kernel search from its plan (`--method kernel`, what
                `auto` does from 20,000 pairs): the LP bound by row generation, MIPs restricted
                to the LP's support and buckets, then the whole MIP; its gap at 10 s is not
                taken (the search reports its bound once, at the end)
Reported per arm: seconds from the built model to the first feasible plan (HiGHS's first improving
solution, seen by its callback; the heuristic's first plan that keeps every row, before its local
search and neighbourhood MIP improve it), the objective and the proven gap
(|primal − dual bound| / |primal|) at 10 s and at the end of the budget, the last as HiGHS
reports it. The heuristic's plan is checked against every row before HiGHS sees it. Each size
and arm runs in a fresh process, `--repeat` times (medians; HiGHS random_seed = the repetition); a
process still running 30 s after its budget (HiGHS's presolve does not answer its time limit on the
largest models) is ended, as the tool ends its solver (`ended`): HiGHS then found no plan, and the heuristic arm keeps
the plan it had printed before HiGHS started (the tool reports it so: `_keep_start`).

    python benchmarks/heuristic.py [--sizes 200x50 1000x100 1000x200 2000x500] [--limit 60] [--repeat 3]
                                   [--arms plain heuristic kernel]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHECKPOINT = 10.0


def one(path: str, arm: str, limit: float, seed: int) -> dict:
    """Runs in its own process: one arm on one instance."""
    import highspy

    from model import load
    from model.assemble import assemble
    from model.data import build_data
    from model.heuristic import heuristic
    from solvers import highs_direct
    from solvers.options import SolveOptions

    t = time.perf_counter()
    loaded = load(path, max_bytes=10**9)
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[0][0]
    out: dict = {"build": time.perf_counter() - t, "pairs": len(data.pairs), "first": None, "at10": None}
    t0 = time.perf_counter()
    start = None
    if arm in ("heuristic", "kernel"):
        # as the tool runs it (model/run.py `_heuristic`): before a kernel search, no neighbourhood MIP
        found = heuristic(problem, data, time_limit=min(30.0, 0.25 * limit), quick=arm == "kernel")
        start = found.values
        if start is not None:
            out["first"] = found.first  # the first plan that keeps every row (before its improvement)
            out["first_objective"] = found.phases["repair"]
            out["heuristic_seconds"] = found.seconds
            out["heuristic_objective"] = found.objective
        print(json.dumps(out), flush=True)  # what is known before HiGHS, kept if HiGHS must be ended
    if arm == "kernel":
        from solvers import run

        problem.start = start
        left = max(0.1, limit - (time.perf_counter() - t0))
        result = run.solve(problem, SolveOptions(time_limit=left, seed=seed, method="kernel"))
        out.update(objective=result.objective, gap=result.gap, status=result.status, bound=result.bound,
                   total=time.perf_counter() - t0, message=result.message)
        return out
    h = highs_direct.load(problem)
    seen: dict = {"primal": math.inf, "dual": -math.inf}

    def improving(event: object) -> None:
        if out["first"] is None:
            out["first"] = time.perf_counter() - t0
            out["first_objective"] = float(event.data_out.objective_function_value)  # type: ignore[attr-defined]

    def interrupt(event: object) -> None:
        d = event.data_out  # type: ignore[attr-defined]
        if time.perf_counter() - t0 <= CHECKPOINT:
            seen["primal"], seen["dual"] = float(d.mip_primal_bound), float(d.mip_dual_bound)
        elif out["at10"] is None:
            out["at10"] = gap(seen["primal"], seen["dual"])
            out["objective10"] = seen["primal"] if math.isfinite(seen["primal"]) else None

    h.cbMipImprovingSolution += improving
    h.cbMipInterrupt += interrupt
    left = max(0.1, limit - (time.perf_counter() - t0))
    result, _ = highs_direct.run(h, problem, SolveOptions(time_limit=left, seed=seed), start)
    if out["at10"] is None:  # no callback after 10 s: the state at 10 s is the end's if it ended by then,
        # else the last one seen before 10 s (none, while HiGHS was still in its presolve)
        if time.perf_counter() - t0 <= CHECKPOINT:
            out["at10"] = result.gap if result.objective is not None else None
            out["objective10"] = result.objective
        else:
            out["at10"] = gap(seen["primal"], seen["dual"])
    if out["first"] is None and result.objective is not None:
        out["first"] = time.perf_counter() - t0
    out.update(objective=result.objective, gap=result.gap, status=result.status, total=time.perf_counter() - t0)
    del highspy
    return out


def generated(size: str, folder: Path) -> Path:
    """`generate --industries N --parks M --seed 1` for SIZE "NxM", written into `folder`."""
    n_i, n_p = (int(v) for v in size.split("x"))
    path = folder / f"g{size}.yaml"
    subprocess.run([sys.executable, "-c", "import cli; cli.entry()", "generate", "--industries", str(n_i),
                    "--parks", str(n_p), "--seed", "1", "--output", str(path)], check=True, cwd=ROOT,
                   capture_output=True)
    return path


def gap(primal: float, dual: float) -> float | None:
    if not (math.isfinite(primal) and math.isfinite(dual)):
        return None
    return abs(primal - dual) / max(abs(primal), 1e-9)


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["200x50", "1000x100", "1000x200", "2000x500"])
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--arms", nargs="+", default=["plain", "heuristic", "kernel"])
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], float(args.one[2]), int(args.one[3]))))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = generated(size, Path(tmp))
            runs: dict[str, list[dict]] = {arm: [] for arm in args.arms}
            for rep in range(args.repeat):
                for arm in runs:
                    try:  # HiGHS's presolve does not answer its time limit on large models: the tool ends it
                        p = subprocess.run([sys.executable, __file__, "--one", str(path), arm, str(args.limit),
                                            str(rep)], capture_output=True, text=True, cwd=ROOT,
                                           timeout=args.limit + 30)
                    except subprocess.TimeoutExpired as exc:
                        told = [ln for ln in (exc.stdout or b"").decode().splitlines() if ln.startswith("{")]
                        known = json.loads(told[-1]) if told else {"pairs": None, "build": None, "first": None}
                        # HiGHS ended: no objective or gap of its own; a heuristic's plan stays the arm's
                        known.update(at10=None, gap=None, ended=True,
                                     objective=known.get("heuristic_objective"))
                        runs[arm].append(known)
                        continue
                    if p.returncode:
                        sys.exit(p.stderr)
                    runs[arm].append(json.loads(p.stdout.strip().splitlines()[-1]))
            for arm, rs in runs.items():
                rows.append({"size": size, "pairs": max((r["pairs"] or 0) for r in rs), "arm": arm,
                             "ended": sum(bool(r.get("ended")) for r in rs),
                             "build": median([r["build"] for r in rs]),
                             "first": median([r["first"] for r in rs]),
                             "found": sum(r["first"] is not None for r in rs),
                             "first_objective": median([r.get("first_objective") for r in rs]),
                             "gap10": median([r["at10"] for r in rs]),
                             "objective": median([r["objective"] for r in rs]),
                             "gap": median([r["gap"] for r in rs])})
            print(json.dumps(rows[-len(runs):]), file=sys.stderr)
    from model.options import BuildOptions

    print(f"\nmedians of {args.repeat} runs, budget {args.limit:g} s from the built model, "
          f"formulation {BuildOptions().formulation}\n")
    print(f"{'size':>9} {'pairs':>8} {'arm':>9} {'build s':>8} {'first plan s':>12} {'plans':>5} "
          f"{'first obj':>12} {'gap@10s':>8} {'objective':>12} {'gap@end':>8} {'ended':>5}")
    for r in rows:
        print(f"{r['size']:>9} {r['pairs']:>8} {r['arm']:>9} {fmt(r['build'], '.1f'):>8} {fmt(r['first'], '.2f'):>12} "
              f"{r['found']:>3}/{args.repeat} {fmt(r['first_objective'], ',.0f'):>12} {fmt(r['gap10'], '.2%'):>8} "
              f"{fmt(r['objective'], ',.0f'):>12} {fmt(r['gap'], '.2%'):>8} {r['ended']:>5}")


if __name__ == "__main__":
    main()
