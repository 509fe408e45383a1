"""KPIs as linear expressions of the decisions, over a subset of parks and industries.

    pair KPIs (modules, a resource, relocation/operating/logistics/pair cost, co2, value_added, jobs):
        K(G_P, G_I) = Σ_{(i,p)∈E, p∈G_P, i∈G_I} coef_K[i,p] · x[i,p]
    opening_cost(G_P) = Σ_{p∈G_P} open_cost_p · y[p]
    upgrade_cost(G_P) = Σ_{p∈G_P} Σ_{u∈U_p} cost_u · w[p,u]
    spend(G_P, G_I)   = opening_cost + upgrade_cost + relocation_cost   (investment, for budgets)
Over the whole instance (`total`), stay_cost = Σ_i stay_cost_i · stay[i] and co2 adds the modules
that stay: Σ_i (co2_process_i + power_use_i · grid_factor_i) · stay[i].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from model.data import Data
from model.families import linear


def expression(m: pyo.ConcreteModel, data: Data, kpi: str, parks: Any = None,
               industries: Any = None) -> Any:
    """The KPI summed over the placed modules of `industries` at `parks` (None = all)."""
    if kpi == "spend":
        return (expression(m, data, "opening_cost", parks) + expression(m, data, "upgrade_cost", parks)
                + expression(m, data, "relocation_cost", parks, industries))
    if kpi in ("opening_cost", "upgrade_cost"):
        chosen = set(data.park_set(parks))
        if kpi == "opening_cost":
            ps = [p for p in data.parks if p in chosen and not data.park.at[p, "already_open"]]
            return linear([data.park.at[p, "open_cost"] for p in ps], [m.y[p] for p in ps])
        ups = data.upgrades[data.upgrades["park"].isin(chosen)]
        return linear(ups["cost"].to_numpy(), [m.w[p, u] for p, u in zip(ups["park"], ups["upgrade"])])
    if kpi == "stay_cost":
        return linear(data.industry["stay_cost"].to_numpy(), [m.stay[i] for i in data.industries])
    rows = np.flatnonzero(data.pair_mask(parks, industries))
    return linear(data.pair_coef(kpi)[rows], [m.x_list[r] for r in rows])


def total(m: pyo.ConcreteModel, data: Data, kpi: str) -> Any:
    """The KPI over the whole plan, including the modules that stay where that applies."""
    expr = expression(m, data, kpi)
    if kpi == "co2":
        expr = expr + linear(data.industry["stay_co2"].to_numpy(), [m.stay[i] for i in data.industries])
    return expr



def upper(data: Data, kpi: str, parks: Any = None, industries: Any = None) -> float:
    """A bound on the KPI over any plan (every module placed at its dearest pair, everything built)."""
    if kpi == "spend":
        return sum(upper(data, k, parks, industries) for k in ("opening_cost", "upgrade_cost", "relocation_cost"))
    chosen = set(data.park_set(parks))
    if kpi == "opening_cost":
        return float(data.park.loc[list(chosen), "open_cost"].sum())
    if kpi == "upgrade_cost":
        return float(data.upgrades.loc[data.upgrades["park"].isin(chosen), "cost"].sum())
    rows = np.flatnonzero(data.pair_mask(parks, industries))
    coef = np.abs(data.pair_coef(kpi)[rows])
    best = pd.Series(coef).groupby(data.pairs["i"].to_numpy()[rows]).max()
    modules = data.industry["modules"].to_numpy(dtype=float)[best.index.to_numpy()]
    return float((best.to_numpy() * modules).sum())
