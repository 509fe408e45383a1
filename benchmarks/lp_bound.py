"""The LP relaxation's bound: HiGHS on the whole LP against row generation (`solvers/lpbound.py`).

For each generated size (`generate --industries N --parks M --seed 1`, the default formulation),
the same built problem is relaxed two ways, each in a fresh process, `--repeat` times:
    whole    every row and column handed to HiGHS (`highs_direct.load`), integrality dropped, the
             dual simplex with HiGHS's presolve: what the kernel search did before row generation
    rowgen   `lp_bound`: the coupling rows first, the others as they are violated
Reported: the median seconds of each, their ratio (whole / rowgen, in the same run), the two
values (which must agree: both are z_LP), and the rows the row generation ended with.

    python benchmarks/lp_bound.py [--sizes 1000x100 1000x200] [--repeat 3] [--limit 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from heuristic import generated  # noqa: E402  (the same generated instances)


def one(path: str, arm: str, limit: float) -> dict:
    """Runs in its own process: one relaxation of one instance."""
    import numpy as np

    from model import load
    from model.assemble import assemble
    from model.data import build_data
    from solvers import highs_direct
    from solvers.lpbound import lp_bound

    loaded = load(path, max_bytes=10**9)
    problem = assemble(build_data(loaded.instance))
    problem.weights = loaded.instance.levels()[0][0]
    t = time.perf_counter()
    if arm == "whole":
        h = highs_direct.load(problem)
        n = problem.n_cols
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.zeros(n, dtype=np.uint8))
        h.setOptionValue("time_limit", limit)
        h.run()
        ok = h.modelStatusToString(h.getModelStatus()) == "Optimal"
        value = h.getInfo().objective_function_value if ok else None
        rows = problem.n_rows
    else:
        r = lp_bound(problem, limit)
        ok, value, rows = r.complete, r.bound, r.rows
    return {"seconds": time.perf_counter() - t, "value": value, "ok": ok, "rows": rows,
            "all_rows": problem.n_rows, "pairs": len(problem.var("x"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["1000x100", "1000x200"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], float(args.one[2]))))
        return
    print(f"{'size':>9} {'pairs':>8} {'whole s':>8} {'rowgen s':>9} {'ratio':>6} {'z_LP whole':>14} "
          f"{'z_LP rowgen':>14} {'rows used':>18}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = generated(size, Path(tmp))
            runs: dict[str, list[dict]] = {"whole": [], "rowgen": []}
            for _ in range(args.repeat):
                for arm in runs:
                    p = subprocess.run([sys.executable, __file__, "--one", str(path), arm, str(args.limit)],
                                       capture_output=True, text=True, cwd=ROOT, check=True)
                    runs[arm].append(json.loads(p.stdout.strip().splitlines()[-1]))
            w, r = runs["whole"], runs["rowgen"]
            ws = statistics.median(x["seconds"] for x in w)
            rs = statistics.median(x["seconds"] for x in r)
            done = all(x["ok"] for x in w + r)
            print(f"{size:>9} {w[0]['pairs']:>8} {ws:>8.1f} {rs:>9.1f} {ws / rs:>6.1f} "
                  f"{w[0]['value'] or float('nan'):>14,.1f} {r[0]['value'] or float('nan'):>14,.1f} "
                  f"{r[0]['rows']:>8,} of {r[0]['all_rows']:,}" + ("" if done else "  (not all solved)"), flush=True)


if __name__ == "__main__":
    main()
