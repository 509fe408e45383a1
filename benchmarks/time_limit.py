"""Does `--time-limit` hold? Wall-clock time of the whole `solve` command against its budget.

The case that broke it: a generated 1000 × 200 instance (190k eligible pairs), where building the
model takes longer than a small budget and HiGHS's presolve runs past its own time limit. For each
budget the command runs as a user runs it (a new process, from start to exit) and the overrun is
the wall time minus the budget; ratios are wall / budget. A baseline in the same run: the same
command with no limit at all, stopped after the largest budget × 3 (what a user saw before).

    python benchmarks/time_limit.py [--limits 5 10 30] [--repeat 3] [--industries 1000 --parks 200]

Prints, per budget, the median wall time, the median overrun and the exit codes of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, str(Path(__file__).resolve().parent.parent / "cli.py")]


def wall(args: list[str], timeout: float | None = None) -> tuple[float, int | None]:
    start = time.monotonic()
    try:
        code = subprocess.run(args, capture_output=True, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        code = None
    return time.monotonic() - start, code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limits", type=float, nargs="+", default=[5.0, 10.0, 30.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--industries", type=int, default=1000)
    parser.add_argument("--parks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "g.yaml"
        subprocess.run([*CLI, "generate", "--industries", str(args.industries), "--parks", str(args.parks),
                        "--seed", str(args.seed), "-o", str(instance)], check=True, capture_output=True)
        print(f"instance: generate --industries {args.industries} --parks {args.parks} --seed {args.seed}")
        print(f"{'budget s':>9} {'median wall s':>14} {'median overrun s':>17} {'wall/budget':>12}  exit codes")
        for limit in args.limits:
            runs = [wall([*CLI, "solve", str(instance), "--time-limit", f"{limit:g}", "--out",
                          str(Path(tmp) / f"run-{limit:g}-{n}")]) for n in range(args.repeat)]
            times = [t for t, _ in runs]
            median = statistics.median(times)
            print(f"{limit:9g} {median:14.2f} {median - limit:17.2f} {median / limit:12.2f}  "
                  f"{[c for _, c in runs]}")
        cap = 3 * max(args.limits)
        seconds, code = wall([*CLI, "solve", str(instance), "--out", str(Path(tmp) / "nolimit")], timeout=cap)
        print(f"baseline, no limit: {'still running after' if code is None else 'ended after'} {seconds:.1f} s"
              + ("" if code is None else f" (exit {code})"))


if __name__ == "__main__":
    main()
