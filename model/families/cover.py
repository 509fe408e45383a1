"""`cover` (formulation `strong_cover`): the open capacity must cover what has to move.

    cover[k]:  Σ_p (cap[p,k]·y[p] + Σ_{u∈U_p} adds[u,k]·w[p,u])
                 ≥  Σ_{i: must_transfer} modules_i · min_{p:(i,p)∈E} use[i,p,k]

Every must-transfer module uses at least its smallest use of k at some park, and no park uses more
than it has, so the cut is valid. The capacity rows imply it for integer y, but not for the LP
relaxation: it is the classic total-capacity cut of capacitated facility location, which lifts
the LP bound when fractional y would open just enough capacity park by park. Rows with a zero
right side are not created.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from model.data import Data
from model.families import linear


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    if not getattr(options, "cover", False):
        return
    must = data.industry["must_transfer"].to_numpy()[data.pairs["i"].to_numpy()]
    rows = np.flatnonzero(must)
    need = np.zeros(len(data.resources))
    if len(rows):
        least = (data.pairs.iloc[rows].assign(**{f"_u{k}": data.use[rows, k] for k in range(len(data.resources))})
                 .groupby("i")[[f"_u{k}" for k in range(len(data.resources))]].min())
        modules = data.industry["modules"].to_numpy(dtype=float)[least.index.to_numpy()]
        need = (least.to_numpy() * modules[:, None]).sum(axis=0)
    index = [k for n, k in enumerate(data.resources) if need[n] > 0]
    ups = list(zip(data.upgrades["park"], data.upgrades["upgrade"]))

    def cover_rule(m: pyo.ConcreteModel, k: str) -> object:
        n = data.resources.index(k)
        supply = linear(data.capacity[:, n], [m.y[p] for p in data.parks])
        extra = linear(data.adds[:, n] if len(ups) else [], [m.w[p, u] for p, u in ups])
        return supply + extra >= float(need[n])

    m.COVER = pyo.Set(initialize=index, ordered=True)
    m.cover = pyo.Constraint(m.COVER, rule=cover_rule, doc="open capacity ≥ what must move")
