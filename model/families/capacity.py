"""`capacity`: labour, infrastructure and ecology quotas alike, with upgrades.

    capacity[p,k]:        Σ_{i:(i,p)∈E} use[i,p,k]·x[i,p] ≤ cap[p,k]·y[p] + Σ_{u∈U_p} adds[u,k]·w[p,u]
    upgrade_open[p,u]:    w[p,u] ≤ y[p]            (an upgrade is built only at a park that opens)
    upgrade_requires[p,u,v]: w[p,u] ≤ w[p,v]       (u requires v)
Rows whose left side is empty are not created (they cannot bind: the right side is ≥ 0).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from model.data import Data
from model.families import linear
from model.families.elastic import slack


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    xs = m.x_list
    by_park = data.pairs.groupby("p").indices
    modules = data.industry["modules"].to_numpy(dtype=float)[data.pairs["i"].to_numpy()]
    ups_by_park = data.upgrades.groupby("park").indices if len(data.upgrades) else {}
    index = []
    for n, p in enumerate(data.parks):
        rows = by_park.get(n)
        if rows is None:
            continue
        used = np.flatnonzero(data.use[rows].any(axis=0))
        index += [(p, data.resources[k]) for k in used]

    def cap_rule(m: pyo.ConcreteModel, p: str, k: str) -> object:
        n, kk = data.parks.index(p), data.resources.index(k)
        rows = by_park[n]
        lhs = linear(data.use[rows, kk], [xs[r] for r in rows])
        rhs = float(data.capacity[n, kk]) * m.y[p]
        for u in ups_by_park.get(p, []):
            add = float(data.adds[u, kk])
            if add:
                rhs = rhs + add * m.w[p, data.upgrades.at[u, "upgrade"]]
        most = float(data.use[rows, kk] @ modules[rows])  # any shortage is below the largest use
        return lhs - rhs - slack(m, options, "capacity", (p, k), most) <= 0

    m.CAPACITY = pyo.Set(initialize=index, dimen=2, ordered=True)
    m.capacity = pyo.Constraint(m.CAPACITY, rule=cap_rule, doc="use ≤ capacity + upgrades")

    m.upgrade_open = pyo.Constraint(m.UPGRADES, rule=lambda m, p, u: m.w[p, u] <= m.y[p],
                                    doc="upgrades only at open parks")
    requires = [(r.park, r.upgrade, v) for r in data.upgrades.itertuples() for v in r.requires]
    m.REQUIRES = pyo.Set(initialize=requires, dimen=3, ordered=True)
    m.upgrade_requires = pyo.Constraint(m.REQUIRES, rule=lambda m, p, u, v: m.w[p, u] <= m.w[p, v],
                                        doc="an upgrade needs its prerequisites")
