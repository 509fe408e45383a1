"""Is a kept model worth it for what-if sweeps? Rebuild versus in-place change, same run.

For a parameter change (here the carbon price, an objective coefficient), a sweep can either
rebuild (data layer + the families' blocks + hand-off to HiGHS through the direct back-end) or
keep HiGHS's model and change it in place (`solvers.highs_direct.Kept.change_costs`, HiGHS's
`changeColsCost`). Both are measured up to the point where HiGHS would start its search, and
compared with one full solve of the same instance, so the ratio says how much of a sweep's time
the choice can move.

    python benchmarks/rebuild_vs_persistent.py [INSTANCE] [--repeat N]

Prints medians of N runs and the ratios against the full solve measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import load  # noqa: E402
from model.assemble import assemble  # noqa: E402
from model.data import build_data  # noqa: E402
from solvers import SolveOptions  # noqa: E402
from solvers.highs_direct import Kept, run  # noqa: E402
from solvers.highs_direct import load as load_highs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instance", nargs="?", default="instances/china-east-west.yaml")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    inst = load(args.instance).instance

    rebuild, update, full = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        problem = assemble(build_data(inst))
        kept = Kept(problem)
        rebuild.append(time.perf_counter() - start)

        weights = dict(problem.weights)
        weights["co2"] = weights.get("co2", 0.0) + 0.01  # the what-if: a new carbon price
        start = time.perf_counter()
        problem.weights = weights
        cost, _ = problem.objective()
        kept.change_costs(cost)
        update.append(time.perf_counter() - start)

    for _ in range(max(1, args.repeat // 2)):
        start = time.perf_counter()
        problem = assemble(build_data(inst))
        run(load_highs(problem), problem, SolveOptions())
        full.append(time.perf_counter() - start)

    r, u, f = (statistics.median(v) for v in (rebuild, update, full))
    print(f"instance {args.instance}: medians of {args.repeat} runs ({len(full)} full solves)")
    print(f"  rebuild (data + blocks + hand-off): {r:.3f} s = {r / f:.2%} of a full solve")
    print(f"  in-place change of the kept model:  {u:.3f} s = {u / f:.2%} of a full solve")
    print(f"  full solve (rebuild + search):      {f:.3f} s")
    print(f"  a kept model saves {(r - u):.3f} s a run, {(r - u) / f:.2%} of its time")


if __name__ == "__main__":
    main()
