"""`link`: modules go only to parks that open (y[p] = 1).

strong (default), one row per eligible pair, the tight LP relaxation:
    link[i,p]:  x[i,p] − x_max[i,p] · y[p] ≤ 0                              ∀ (i,p) ∈ E
aggregated, one row per park, a weaker relaxation with far fewer rows:
    link[p]:    Σ_{i:(i,p)∈E} x[i,p] − (Σ_{i:(i,p)∈E} x_max[i,p]) · y[p] ≤ 0  ∀ p with an eligible pair
x_max[i,p] ≤ modules_i is the most modules the park could ever hold (`model/data.py`).
Parks already open (open_cost 0) have y fixed at 1 and get no row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.options import BuildOptions
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data

NAME = "link"
VARIANTS = ("strong", "aggregated")


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    closed = ~data.park["already_open"].to_numpy()
    x_max = data.pairs["x_max"].to_numpy(dtype=float)
    pp = data.pairs["p"].to_numpy()
    x, y = problem.cols("x"), problem.cols("y")
    if options.link == "strong":
        rows = np.flatnonzero(closed[pp])
        n = len(rows)
        pairs = data.pairs.iloc[rows]
        problem.add_rows("link", keys_of(pairs["industry"], pairs["park"]), np.r_[np.arange(n), np.arange(n)],
                         np.r_[x[rows], y[pp[rows]]], np.r_[np.ones(n), -x_max[rows]], hi=0.0,
                         doc="x[i,p] ≤ x_max[i,p] · y[p]")
    elif options.link == "aggregated":
        rows = np.flatnonzero(closed[pp])
        parks = np.unique(pp[rows])  # closed parks with an eligible pair, in the instance's order
        where = np.full(len(data.parks), -1)
        where[parks] = np.arange(len(parks))
        big = np.bincount(pp[rows], weights=x_max[rows], minlength=len(data.parks))[parks]
        problem.add_rows("link", keys_of(np.asarray(data.parks, dtype=object)[parks]),
                         np.r_[where[pp[rows]], np.arange(len(parks))], np.r_[x[rows], y[parks]],
                         np.r_[np.ones(len(rows)), -big], hi=0.0, doc="Σ_i x[i,p] ≤ M_p · y[p]")
    else:
        raise ValueError(f"unknown formulation {options.link!r}; expected one of {VARIANTS}")


def check(c: CheckContext) -> list[str]:
    bad = []
    for (i, p), v in c.plan.x.items():
        if v > c.tol and c.plan.open.get(p, 0) != 1:
            bad.append(f"{i} at {p}: {v:g} modules at a park that is not open")
    for p, park in c.park.items():
        if park.open_cost == 0 and c.plan.open.get(p, 0) != 1:
            bad.append(f"park {p}: not open but the park is already open (open_cost 0)")
    return bad
