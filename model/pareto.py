"""Trade-offs: the ε-constraint Pareto front of two KPIs.

With x and y each a KPI term, `cost` (the sum of the cost terms, `kpis.cost_terms`) or `objective` (the
instance's own weighted objective):
    ends:     A = lexmin (y, x),  B = lexmin (x, y)
    point ε:  lexmin (y, x)  subject to  x ≤ ε,   ε on an even grid from x(B) to x(A)
A benefit (`value_added`, `jobs`: more is better) enters as its negative, so that it is maximised
and its ε is a floor (jobs ≥ ε); front.csv, the plot and the points' records give it as itself.
Each point is a full plan (its own results folder). Solved to optimality, y never gets worse as
x's bound is loosened: that is the front's monotonicity, which the tests check.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from model import Loaded, kpis
from model.data import Data
from model.errors import InputError, Problem
from model.options import BuildOptions
from model.outputs import Folder, beside, holds_anything, write_file
from model.run import solve_instance, write_outcome
from solvers import Problem as LP
from solvers import SolveOptions
from solvers.control import CONTROL, phase


def axes() -> tuple[str, ...]:
    return (*kpis.objective_terms(), "cost", "objective")


def sign(name: str) -> float:
    """−1 for a benefit (minimised as its negative, i.e. maximised), +1 for any other axis."""
    kpi = kpis.registry().get(name)
    return -1.0 if kpi is not None and kpi.benefit else 1.0


def axis(loaded: Loaded, name: str) -> dict[str, float]:
    """Weights over the KPI terms that make an axis."""
    terms, costs = kpis.objective_terms(), kpis.cost_terms()
    if name == "cost":
        return {t: (1.0 if t in costs else 0.0) for t in terms}
    if name == "objective":
        return loaded.instance.levels()[-1][0]
    if name in terms:
        return {t: (sign(name) if t == name else 0.0) for t in terms}
    raise InputError([Problem("--x/--y", name, "not a KPI of the objective", "one of: " + ", ".join(axes()))])


class NoPlan(Exception):
    """An end of the front has no plan: the instance is infeasible, or a limit stopped the solve."""

    def __init__(self, end: str, status: str) -> None:
        super().__init__(f"the {end} end of the front has no plan ({status})")
        self.status = status


class Interrupted(Exception):
    """A signal stopped the front after some points: their front went to `folder`."""

    def __init__(self, folder: Path, done: int, points: int, signal: str) -> None:
        super().__init__(f"interrupted ({signal}) after {done} of {points} points; their front is in {folder}")
        self.folder = folder


def point_names(points: int) -> list[str]:
    """The points' folder names, point_01 ...: zero-padded to the widest number, so that a listing
    sorts them in the front's order (unpadded, point_100 would come before point_11)."""
    return [f"point_{n + 1:0{max(2, len(str(points)))}d}" for n in range(points)]


def front(loaded: Loaded, x: str, y: str, points: int, out: Path, build_options: BuildOptions | None = None,
          solve_options: SolveOptions | None = None) -> pd.DataFrame:
    """Solve the ends and `points` ε-constrained plans; write front.csv, front.png and a folder per point.

    The folder is written beside `out` and swapped in whole (an earlier front, longer or not, is
    replaced at once). Ctrl-C stops after the point being solved: the points solved so far make a
    front of their own, written to `out` if it held nothing, else to `<out>-interrupted` (never a
    mixture with an earlier front), and `Interrupted` says where; before the first point nothing
    is written."""
    wx, wy = axis(loaded, x), axis(loaded, y)
    if wx == wy:  # one KPI against itself: every point is the same plan
        raise InputError([Problem("--x/--y", f"{x}/{y}", "the two axes are the same KPI", "two different KPIs")])
    names = point_names(points)
    held = holds_anything(out)
    written = Folder(out, "pareto")
    tmp = written.__enter__()  # checks `out` before any solve: new, empty or an earlier front of ours
    try:
        ends = {}
        for name, levels in (("min_y", [(wy, 0.0), (wx, 0.0)]), ("min_x", [(wx, 0.0), (wy, 0.0)])):
            ends[name] = solve_instance(loaded, build_options, solve_options, levels)
            status = ends[name].result.status
            if status == "interrupted":
                raise KeyboardInterrupt(CONTROL.signal_name or "SIGINT")
            if not ends[name].result.has_solution:
                raise NoPlan(f"least-{y if name == 'min_y' else x}", status)
    except BaseException:
        written.__exit__(*sys.exc_info())
        raise
    hi, lo = _value(ends["min_y"].kpis, wx), _value(ends["min_x"].kpis, wx)
    # From here to the swap a signal is noted, not raised: the point under way ends (a solve keeps
    # its incumbent, a build runs on to a solve that stops at once) and the front so far is
    # written and swapped in whole, even when a second signal comes.
    with phase("writing"):
        try:
            rows, stopped = _points(loaded, x, y, wx, wy, names, lo, hi, tmp, build_options, solve_options)
            if stopped and not rows:
                raise KeyboardInterrupt(stopped)
            table = pd.DataFrame(rows)
            write_file(tmp / "front.csv", table.to_csv(index=False, float_format="%.10g"))
            write_file(tmp / "front.png", _plot(table, x, y, loaded))
            if stopped and held:  # an earlier front stays whole; this one goes beside it
                written.out = beside(out, "-interrupted", "--out", "pareto")
        except BaseException:
            written.__exit__(*sys.exc_info())
            raise
        written.__exit__(None, None, None)
    if stopped:
        raise Interrupted(written.out, len(rows), points, stopped)
    return table


def _points(loaded: Loaded, x: str, y: str, wx: dict[str, float], wy: dict[str, float], names: list[str],
            lo: float, hi: float, tmp: Path, build_options: BuildOptions | None,
            solve_options: SolveOptions | None) -> tuple[list[dict], str]:
    """Solve the points and write each into `tmp`, until they are done or a signal came; returns the
    front's rows and the signal's name ("" for none)."""
    rows: list[dict] = []
    for n, eps in enumerate(np.linspace(lo, hi, len(names)) if len(names) > 1 else [hi]):
        def cap(problem: LP, data: Data, eps: float = float(eps)) -> None:
            problem.add_lin_rows("epsilon", (np.array([x]),), [problem.weighted(wx)],
                                 hi=eps + 1e-9 * max(1.0, abs(eps)), doc="the x axis within ε")

        outcome = solve_instance(loaded, build_options, solve_options, [(wy, 0.0), (wx, 0.0)], cap)
        if outcome.result.status == "interrupted" and not outcome.result.has_solution:
            return rows, CONTROL.signal_name or "SIGINT"  # this point has nothing to show
        # What was solved beyond the instance: the folder alone must say it (compare tells the
        # points apart by it, and instance.json has no ε).
        sx, sy = sign(x), sign(y)
        record = {**outcome.run_record(), "pareto": {
            "point": n + 1, "x": x, "y": y, "relation": "≥" if sx < 0 else "≤", "epsilon": sx * float(eps),
            "levels": [f"{'max' if sy < 0 else 'min'} {y}", f"{'max' if sx < 0 else 'min'} {x}"],
            "x_weights": wx, "y_weights": wy}}
        write_outcome(outcome, tmp / names[n], extra={"run.json": record})
        has = outcome.result.has_solution
        rows.append({"point": n + 1, "epsilon": sx * float(eps), x: sx * _value(outcome.kpis, wx) if has else None,
                     y: sy * _value(outcome.kpis, wy) if has else None, "status": outcome.result.status,
                     "gap": outcome.result.gap, "check_ok": outcome.check.ok if outcome.check else None,
                     "folder": names[n]})
        # A signal after the last point's solve leaves a complete front: it is not an interrupted one.
        if CONTROL.stop.is_set() and (n + 1 < len(names) or outcome.result.status == "interrupted"):
            return rows, CONTROL.signal_name or "SIGINT"
    return rows, ""


def _value(values: dict[str, float], w: dict[str, float]) -> float:
    return sum(w[t] * values[t] for t in w)


def _plot(table: pd.DataFrame, x: str, y: str, loaded: Loaded) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inst = loaded.instance
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ok = table.dropna(subset=[x, y]).sort_values(x)  # a benefit's points come most first
    # y at a bound ε on x is the point's next to it on the side x may not cross: the one at or below
    # a cap (x ≤ ε, a step after each point), at or above a floor (a benefit, x ≥ ε: a step before).
    ax.plot(ok[x], ok[y], marker="o", drawstyle="steps-pre" if sign(x) < 0 else "steps-post", alpha=0.8)
    ax.set_xlabel(f"{x} ({kpis.unit(inst, x) if x in kpis.registry() else inst.units.money})")
    ax.set_ylabel(f"{y} ({kpis.unit(inst, y) if y in kpis.registry() else inst.units.money})")
    ax.set_title(f"{loaded.instance.name}: {y} against {x}, {len(ok)} points")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return buffer.getvalue()
