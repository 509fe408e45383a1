"""Where an instance's integrality gap lies: the MIP with the modules of one sector at a time integer.

The problem is built as `solve` builds it (the default formulation `tight`) and solved by HiGHS
(`--threads 1`, its default relative gap 1e-4) several ways:
    LP           every integer relaxed: the LP relaxation's bound
    modules      the modules x[i,p] continuous (park, upgrade, sector and other integers kept)
    only S       the modules of sector S integer, every other sector's continuous
    MIP          the problem itself
Each value is a lower bound on the MIP's optimum; the column `share` is how much of the gap
between `modules` and `MIP` making sector S's modules integer closes by itself. A sector with a
large share is where the search's proof is spent (on china-east-west: nonferrous, whose modules
are large against the energy caps). Reported per row: objective, HiGHS's bound, nodes, CPU
seconds.

    python benchmarks/integrality_gap.py [INSTANCE] [--scenario NAME] [--time-limit 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from model import load
    from model.assemble import assemble
    from model.data import build_data
    from solvers import highs_direct

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("instance", nargs="?", default=str(ROOT / "instances" / "china-east-west.yaml"))
    ap.add_argument("--scenario")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per solve")
    args = ap.parse_args()

    loaded = load(args.instance, args.scenario)
    data = build_data(loaded.instance)
    problem = assemble(data)
    problem.weights = loaded.instance.levels()[-1][0]
    x = problem.cols("x").reshape(data.count, -1)
    integer = np.flatnonzero(problem.bounds()[2])
    sector = data.industry["sector"].to_numpy()[data.pairs["i"].to_numpy()]

    def solve(relaxed: np.ndarray) -> tuple[float, float, int, float]:
        h = highs_direct.load(problem)
        h.setOptionValue("threads", 1)
        h.setOptionValue("time_limit", args.time_limit)
        relaxed = np.intersect1d(relaxed, integer).astype(np.int32)
        if len(relaxed):
            h.changeColsIntegrality(len(relaxed), relaxed, np.zeros(len(relaxed), dtype=np.uint8))
        t = time.process_time()
        h.run()
        info = h.getInfo()
        bound = info.mip_dual_bound if len(relaxed) < len(integer) else info.objective_function_value
        return info.objective_function_value, bound, info.mip_node_count, time.process_time() - t

    print(f"{'relaxation':<28}{'objective':>14}{'bound':>14}{'share':>8}{'nodes':>9}{'cpu s':>8}", flush=True)

    def show(name: str, r: tuple[float, float, int, float], share: float | None = None) -> None:
        nodes = str(r[2]) if r[2] >= 0 else ""  # an LP has no nodes
        print(f"{name:<28}{r[0]:>14,.1f}{r[1]:>14,.1f}{'' if share is None else f'{share:.2f}':>8}{nodes:>9}"
              f"{r[3]:>8.1f}", flush=True)

    lp = solve(integer)
    show("LP", lp)
    modules = solve(x.ravel())
    show("modules continuous", modules)
    mip = solve(np.empty(0, dtype=np.int64))
    for s in sorted(set(sector)):
        only = solve(x[:, sector != s].ravel())
        show(f"only {s}", only, (only[0] - modules[0]) / (mip[0] - modules[0]) if mip[0] > modules[0] else None)
    show("MIP", mip, 1.0 if mip[0] > modules[0] else None)


if __name__ == "__main__":
    main()
