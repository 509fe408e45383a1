"""`link`: modules go only to parks that open (y[p] = 1).

strong (default), one row per eligible pair, the tight LP relaxation:
    link[i,p]:  x[i,p] ≤ x_max[i,p] · y[p]                                 ∀ (i,p) ∈ E
aggregated, one row per park, a weaker relaxation with far fewer rows:
    link[p]:    Σ_{i:(i,p)∈E} x[i,p] ≤ (Σ_{i:(i,p)∈E} x_max[i,p]) · y[p]  ∀ p ∈ P
x_max[i,p] ≤ modules_i is the most modules the park could ever hold (`model/data.py`).
Parks already open (open_cost 0) have y fixed at 1 and get no row.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from model.data import Data
from model.families import linear

VARIANTS = ("strong", "aggregated")


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    variant = getattr(options, "link", "strong")
    xs = m.x_list
    closed = ~data.park["already_open"].to_numpy()
    x_max = data.pairs["x_max"].to_numpy(dtype=float)
    pi, pp = data.pairs["i"].to_numpy(), data.pairs["p"].to_numpy()
    if variant == "strong":
        rows = np.flatnonzero(closed[pp])
        index = [(data.industries[pi[r]], data.parks[pp[r]]) for r in rows]
        where = dict(zip(index, rows.tolist()))

        def strong(m: pyo.ConcreteModel, i: str, p: str) -> object:
            r = where[(i, p)]
            return xs[r] - float(x_max[r]) * m.y[p] <= 0

        m.LINKED = pyo.Set(initialize=index, dimen=2, ordered=True)
        m.link = pyo.Constraint(m.LINKED, rule=strong, doc="x[i,p] ≤ x_max[i,p] · y[p]")
    elif variant == "aggregated":
        by_park = data.pairs.groupby("p").indices
        parks = [data.parks[n] for n in np.flatnonzero(closed) if n in by_park]

        def aggregated(m: pyo.ConcreteModel, p: str) -> object:
            rows = by_park[data.parks.index(p)]
            big = float(x_max[rows].sum())
            return linear(np.ones(len(rows)), [xs[r] for r in rows]) - big * m.y[p] <= 0

        m.LINKED = pyo.Set(initialize=parks, ordered=True)
        m.link = pyo.Constraint(m.LINKED, rule=aggregated, doc="Σ_i x[i,p] ≤ M_p · y[p]")
    else:
        raise ValueError(f"unknown formulation {variant!r}; expected one of {VARIANTS}")
