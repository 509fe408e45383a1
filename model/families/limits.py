"""`limits` on groups (kind: limit): one shape for carbon caps, basin caps, budgets, shares.

With K(G_P, G_I) a KPI over the modules of industries G_I placed at parks G_P (`model/kpis.py`):
    limit[r,'max']:        K(G_P, G_I) ≤ max_r
    limit[r,'min']:        K(G_P, G_I) ≥ min_r
    limit[r,'min_share']:  K(G_P, G_I) ≥ min_share_r · K(P, G_I)   (share of the KPI over all parks)
"""

from __future__ import annotations

import pyomo.environ as pyo

from model import kpis
from model.data import Data
from model.families.elastic import slack

SENSES = ("max", "min", "min_share")


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    rules = {r.id: r for r in data.limit_rules}
    index = [(r.id, s) for r in rules.values() for s in SENSES if getattr(r, s) is not None]

    def limit_rule(m: pyo.ConcreteModel, rid: str, sense: str) -> object:
        r = rules[rid]
        value = kpis.expression(m, data, r.kpi, r.parks, r.industries)
        if sense == "max":
            most = kpis.upper(data, r.kpi, r.parks, r.industries)
            return value - slack(m, options, "limit", (rid, sense), most) <= float(r.max)
        if sense == "min":
            return value + slack(m, options, "limit", (rid, sense), float(r.min)) >= float(r.min)
        whole = kpis.expression(m, data, r.kpi, None, r.industries)
        most = float(r.min_share) * kpis.upper(data, r.kpi, None, r.industries)
        return value - float(r.min_share) * whole + slack(m, options, "limit", (rid, sense), most) >= 0

    m.LIMITS = pyo.Set(initialize=index, dimen=2, ordered=True)
    m.limit = pyo.Constraint(m.LIMITS, rule=limit_rule, doc="KPI over a group within its bound")
