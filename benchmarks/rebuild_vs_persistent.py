"""Is a persistent re-solve worth it for what-if sweeps? Rebuild versus in-place update, same run.

For a parameter change (here the carbon price, an objective coefficient), a sweep can either
rebuild (data layer + Pyomo model + hand-off to HiGHS) or keep HiGHS's model and update it in place
(Pyomo's persistent contrib interface). Both are measured here up to the point where HiGHS would
start its search (a zero time limit), and compared with one full solve of the same instance, so
the ratio says how much of a sweep's time the choice can move.

    python benchmarks/rebuild_vs_persistent.py [INSTANCE] [--repeat N]

Prints medians of N runs and the ratios against the full solve measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

from model.build import build
from pyomo.contrib.solver.solvers.highs import Highs

from model import load
from model.data import build_data
from model.families.objective import weighted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("instance", nargs="?", default="instances/china-east-west.yaml")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    inst = load(args.instance).instance
    weights = dict(inst.levels()[0][0])

    rebuild, update, full = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        m = build(build_data(inst))
        solver = Highs()
        solver.solve(m, time_limit=0.0, load_solutions=False, raise_exception_on_nonoptimal_result=False)
        rebuild.append(time.perf_counter() - start)

        weights["co2"] = weights.get("co2", 0.0) + 0.01  # the what-if: a new carbon price
        start = time.perf_counter()
        m.objective.set_value(weighted(m, weights))
        solver.solve(m, time_limit=0.0, load_solutions=False, raise_exception_on_nonoptimal_result=False)
        update.append(time.perf_counter() - start)

    for _ in range(max(1, args.repeat // 2)):
        start = time.perf_counter()
        m = build(build_data(inst))
        Highs().solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False)
        full.append(time.perf_counter() - start)

    r, u, f = (statistics.median(v) for v in (rebuild, update, full))
    print(f"instance {args.instance}: medians of {args.repeat} runs ({len(full)} full solves)")
    print(f"  rebuild (data + model + hand-off): {r:.3f} s = {r / f:.2%} of a full solve")
    print(f"  persistent update + hand-off:      {u:.3f} s = {u / f:.2%} of a full solve")
    print(f"  full solve (rebuild + search):     {f:.3f} s")
    print(f"  a persistent re-solve saves {(r - u):.3f} s a run, {(r - u) / f:.2%} of its time")


if __name__ == "__main__":
    main()
