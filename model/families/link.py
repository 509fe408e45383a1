"""`link`: modules go only to parks that open (y[p] = 1).

strong (default), one row per eligible pair, the tight LP relaxation:
    link[i,p]:  x[i,p] − x_max[i,p] · y[p] ≤ 0                              ∀ (i,p) ∈ E
aggregated, one row per park, a weaker relaxation with far fewer rows:
    link[p]:    Σ_{i:(i,p)∈E} x[i,p] − (Σ_{i:(i,p)∈E} x_max[i,p]) · y[p] ≤ 0  ∀ p with an eligible pair
x_max[i,p] ≤ modules_i is the most modules the park could ever hold (`model/data.py`).
Parks already open (open_cost 0) have y fixed at 1 and get no row. With periods the rows hold in
every period t on the modules placed by then, against what the park can hold in t, and a park
stays open:
    link[i,p,t]:      Σ_{τ≤t} x[i,p,τ] − x_max_t[i,p] · y[p,t] ≤ 0              (aggregated: summed over i)
    open_stays[p,t]:  y[p,t−1] − y[p,t] ≤ 0                                   ∀ p not already open, t > 0
The cumulative left side matters for the LP relaxation: with x[i,p,t] alone, one module spread as
1/T over T periods would need only y = 1/T in each, paying a T-th of the open cost.
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
    x_max_t = data.x_max_by_period if data.x_max_by_period is not None else x_max[None, :]
    placed = [(t, tau) for t in range(n_t) for tau in range(t + 1)]  # moved in τ, placed in t ≥ τ
    rows = np.flatnonzero(closed[pp])
    if options.link == "strong":
        n = len(rows)
        pairs = data.pairs.iloc[rows]
        at = np.arange(n)
        problem.add_rows("link", data.keys(pairs["industry"], pairs["park"]),
                         np.concatenate([t * n + at for t, _ in placed] + [t * n + at for t in range(n_t)]),
                         np.concatenate([x[tau, rows] for _, tau in placed] + [y[t, pp[rows]] for t in range(n_t)]),
                         np.concatenate([np.ones(len(placed) * n), -x_max_t[:, rows].ravel()]), hi=0.0,
                         doc="x[i,p] ≤ x_max[i,p] · y[p]")
    elif options.link == "aggregated":
        parks = np.unique(pp[rows])  # closed parks with an eligible pair, in the instance's order
        where = np.full(len(data.parks), -1)
        where[parks] = np.arange(len(parks))
        m = len(parks)
        big = np.stack([np.bincount(pp[rows], weights=x_max_t[t, rows], minlength=len(data.parks))[parks]
                        for t in range(n_t)])
        problem.add_rows("link", data.keys(np.asarray(data.parks, dtype=object)[parks]),
                         np.concatenate([t * m + where[pp[rows]] for t, _ in placed]
                                        + [t * m + np.arange(m) for t in range(n_t)]),
                         np.concatenate([x[tau, rows] for _, tau in placed] + [y[t, parks] for t in range(n_t)]),
                         np.concatenate([np.ones(len(placed) * len(rows)), -big.ravel()]), hi=0.0,
                         doc="Σ_i x[i,p] ≤ M_p · y[p]")
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
    first = (c.history[0] if c.history else c).park  # "already open" is open_cost 0 in the first period
    for p in c.park:
        if first[p].open_cost == 0 and c.plan.open.get(p, 0) != 1:
            bad.append(f"park {p}: not open but the park is already open (open_cost 0)")
    return bad
