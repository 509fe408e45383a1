"""What does a Shapley split cost? Exact over 2^n coalitions against n, and one sampled run.

On instances/china-east-west.yaml (one solve of the whole instance at mip_gap 0 takes 13 to 22 s
here), the players of the exact runs are the n provinces that move the most modules in the optimal
plan (sent plus received); the other provinces always cooperate. Each exact run is repeated
`--repeat` times up to `--repeat-up-to` players (the median is printed) and run once above. The
sampled run takes every province of the plan as a player (20) and `--samples` random orders; its
solves stop at `--sampled-gap` (1e-3: about 34 on an objective of 34,000, far below the sampling
error of a few orders, and several times faster than an exact solve here). The exact runs' solves
are exact (mip_gap 0) unless `--mip-gap` says otherwise. Timings vary with the machine's load: the
instance's own solve took 13 to 42 s here on different runs.

    python benchmarks/shapley_players.py [--sizes 2 3 4 5] [--repeat 3] [--repeat-up-to 3]
                                         [--samples 10] [--sampled-players 0 (all)] [--mip-gap 0]
                                         [--sampled-gap 1e-3] [--progress]

Prints one row per n: coalitions solved, seconds (median), seconds per solve; then the sampled
run's solves, seconds, v(P) and largest standard error, and the distinct coalitions that 50 and
200 orders would meet (counted without solving).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import load  # noqa: E402
from model.run import solve_instance  # noqa: E402
from model.shapley import shapley, table  # noqa: E402
from solvers import SolveOptions  # noqa: E402

INSTANCE = ROOT / "instances" / "china-east-west.yaml"


def ranked_provinces(loaded, options: SolveOptions) -> tuple[list[str], float, float]:
    """The provinces of the optimal plan, most modules moved (sent + received) first; the plan's
    objective and the seconds of its solve."""
    t = time.perf_counter()
    out = solve_instance(loaded, None, options)
    seconds = time.perf_counter() - t
    assert out.plan is not None and out.result.objective is not None, out.result.status
    inst = loaded.instance
    origin = {i.id: i.origin for i in inst.industries}
    province = {p.id: p.province for p in inst.parks}
    moved: dict[str, float] = {}
    for (i, p), v in out.plan.x.items():
        moved[origin[i]] = moved.get(origin[i], 0.0) + v
        moved[province[p]] = moved.get(province[p], 0.0) + v
    return sorted(moved, key=lambda k: -moved[k]), float(out.result.objective), seconds


def distinct_prefixes(n: int, samples: int, seed: int) -> int:
    """Coalitions `samples` random orders of n players meet (∅ and the grand one included)."""
    rng = np.random.default_rng(seed)
    seen = {frozenset()}
    for _ in range(samples):
        before: frozenset[int] = frozenset()
        for j in rng.permutation(n):
            before = before | {int(j)}
            seen.add(before)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[2, 3, 4, 5])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-up-to", type=int, default=2, help="repeat runs with at most this many players")
    parser.add_argument("--samples", type=int, default=10, help="random orders of the sampled run (0: skip it)")
    parser.add_argument("--sampled-players", type=int, default=0, help="players of the sampled run (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mip-gap", type=float, default=0.0)
    parser.add_argument("--sampled-gap", type=float, default=1e-3, help="mip_gap of the sampled run's solves")
    parser.add_argument("--progress", action="store_true", help="a line per solve on stderr")
    args = parser.parse_args()
    options = SolveOptions(mip_gap=args.mip_gap)
    began = time.perf_counter()

    def progress(line: str) -> None:
        print(f"[{time.perf_counter() - began:7.1f} s] {line}", file=sys.stderr, flush=True)

    tell = progress if args.progress else None
    loaded = load(str(INSTANCE))
    ranked, plain, plain_seconds = ranked_provinces(loaded, options)
    print(f"instance: {INSTANCE.name} (sha256 {loaded.raw.hash[:12]}), mip_gap {args.mip_gap:g}; optimal "
          f"objective {plain:,.6f} ({plain_seconds:.1f} s); {len(ranked)} provinces in the plan: {', '.join(ranked)}")
    print(f"\n{'n':>2} {'players':<48} {'runs':>4} {'solves':>6} {'seconds':>8} {'s/solve':>8} "
          f"{'infeasible':>10}  z*(P) − plain")
    last = None
    for n in args.sizes:
        players = ranked[:n]
        runs = args.repeat if n <= args.repeat_up_to else 1
        seconds = []
        for _ in range(runs):
            result = shapley(loaded, players, exact_up_to=n, solve_options=options, progress=tell)
            seconds.append(result.seconds)
        med = statistics.median(seconds)
        drift = result.z_star[frozenset(players)] - plain  # the grand coalition's instance is the instance
        print(f"{n:>2} {', '.join(players):<48} {runs:>4} {result.solves:>6} {med:>8.1f} {med / result.solves:>8.2f} "
              f"{len(result.infeasible):>10}  {drift:+.2e}", flush=True)
        last = result
    if last is not None:
        print(f"\nShapley values of the {len(last.players)} players above (v(P) = {last.v_grand:,.3f}, "
              f"reference: {last.reference_is} {last.reference:,.3f}, status quo {last.z0:,.3f}):")
        print(table(last, loaded.instance.units.money).to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
    if args.samples:
        players = ranked[: args.sampled_players] if args.sampled_players else ranked
        result = shapley(loaded, players, samples=args.samples, seed=args.seed, exact_up_to=0,
                         solve_options=SolveOptions(mip_gap=args.sampled_gap), progress=tell)
        worst = max(result.std_error.values())
        print(f"\nsampled (mip_gap {args.sampled_gap:g}): {len(players)} players, {args.samples} orders (seed "
              f"{args.seed}): {result.solves} solves "
              f"in {result.seconds:.1f} s ({result.seconds / result.solves:.2f} s/solve), "
              f"{len(result.infeasible)} infeasible coalitions; v(P) = {result.v_grand:,.3f}; "
              f"largest std error {worst:,.3f} ({worst / abs(result.v_grand):.1%} of v(P)); "
              f"Σφ − v(P) = {sum(result.value.values()) - result.v_grand:+.1e}")
        print(table(result, loaded.instance.units.money).to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
        for m in (50, 200):
            print(f"  {m} orders of {len(players)} players would meet {distinct_prefixes(len(players), m, args.seed)} "
                  "coalitions (counted, not solved)")


if __name__ == "__main__":
    main()
