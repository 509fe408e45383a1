"""`link`: modules go only to parks that open (y[p] = 1).

strong (default), one row per eligible pair, the tight LP relaxation:
    link[i,p]:  x[i,p] − x_max[i,p] · y[p] ≤ 0                              ∀ (i,p) ∈ E
aggregated, one row per park, a weaker relaxation with far fewer rows:
    link[p]:    Σ_{i:(i,p)∈E} x[i,p] − (Σ_{i:(i,p)∈E} x_max[i,p]) · y[p] ≤ 0  ∀ p with an eligible pair
x_max[i,p] ≤ modules_i is the most modules the park could ever hold (`model/data.py`).
Parks already open (open_cost 0) have y fixed at 1 and get no row. With periods the rows hold in
every period t (x[i,p,t], y[p,t]; a module moves only to a park open then), and a park stays open:
    open_stays[p,t]:  y[p,t−1] − y[p,t] ≤ 0                                   ∀ p not already open, t > 0
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
    n_t = data.count
    x, y = problem.cols("x").reshape(n_t, -1), problem.cols("y").reshape(n_t, -1)
    step = np.arange(n_t)[:, None]  # rows of period t follow those of t−1
    if options.link == "strong":
        rows = np.flatnonzero(closed[pp])
        n = len(rows)
        pairs = data.pairs.iloc[rows]
        at = (step * n + np.arange(n)).ravel()
        problem.add_rows("link", data.keys(pairs["industry"], pairs["park"]), np.r_[at, at],
                         np.r_[x[:, rows].ravel(), y[:, pp[rows]].ravel()],
                         np.r_[np.ones(n * n_t), -data.tile(x_max[rows])], hi=0.0, doc="x[i,p] ≤ x_max[i,p] · y[p]")
    elif options.link == "aggregated":
        rows = np.flatnonzero(closed[pp])
        parks = np.unique(pp[rows])  # closed parks with an eligible pair, in the instance's order
        where = np.full(len(data.parks), -1)
        where[parks] = np.arange(len(parks))
        big = np.bincount(pp[rows], weights=x_max[rows], minlength=len(data.parks))[parks]
        m = len(parks)
        problem.add_rows("link", data.keys(np.asarray(data.parks, dtype=object)[parks]),
                         np.r_[(step * m + where[pp[rows]]).ravel(), (step * m + np.arange(m)).ravel()],
                         np.r_[x[:, rows].ravel(), y[:, parks].ravel()],
                         np.r_[np.ones(len(rows) * n_t), -data.tile(big)], hi=0.0, doc="Σ_i x[i,p] ≤ M_p · y[p]")
    else:
        raise ValueError(f"unknown formulation {options.link!r}; expected one of {VARIANTS}")
    if data.phased:
        stays(problem, data, "open_stays", "y", np.flatnonzero(closed), (np.asarray(data.parks, dtype=object),),
              "a park stays open")


def stays(problem: Problem, data: Data, name: str, block: str, items: np.ndarray, keys: tuple,
          doc: str) -> None:
    """v[item,t−1] − v[item,t] ≤ 0 for t > 0: a decision taken stays taken (keys: item, period t)."""
    v = problem.cols(block).reshape(data.count, -1)
    n, later = len(items), data.count - 1
    assert data.periods is not None
    at = np.arange(n * later)
    problem.add_rows(name, keys_of(*(np.tile(k[items], later) for k in keys),
                                   np.repeat(np.asarray(data.periods.ids[1:], dtype=object), n)),
                     np.r_[at, at], np.r_[v[:-1, items].ravel(), v[1:, items].ravel()],
                     np.r_[np.ones(n * later), -np.ones(n * later)], hi=0.0, doc=doc)


def check(c: CheckContext) -> list[str]:
    bad = []
    for (i, p), v in c.plan.x.items():
        if v > c.tol and c.plan.open.get(p, 0) != 1:
            bad.append(f"{i} at {p}: {v:g} modules at a park that is not open")
    for p, park in c.park.items():
        if park.open_cost == 0 and c.plan.open.get(p, 0) != 1:
            bad.append(f"park {p}: not open but the park is already open (open_cost 0)")
    return bad
