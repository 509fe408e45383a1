"""The ledger per province: what each province has under the status quo and under the plan.

The status quo is every module running at its origin. For a province P (and, with periods, a
period t; without, the single year), each measure is summed over what runs or happens in P:
    running in P      modules placed at P's parks  × the per-module figure at the park (`pair`)
                      + modules at their origin in P × the per-module figure at the origin (`origin`,
                        else `stay`): modules, value_added, tax, jobs, co2, power_use, stay_cost;
                        operating, logistics and pair costs are the hosts'
    borne by P        relocation_cost of the modules leaving P in the period (the sending side);
                      open_cost and upgrade_cost of P's parks opened or built in it (the host side)
`change` = plan − status quo; `basis` says whether a measure is a yearly figure or (with periods)
the one-off amounts of the period. Summed over the provinces, the plan column of a cost and of co2
is the plan's KPI (with periods, its value in the period, not discounted). value_added, tax, jobs
and power_use count the modules at their origin too, where the KPIs of kpis.json count the modules
placed: what moved; here, what each province has. Values within 1e-9 of 0 are written as 0.
"""

from __future__ import annotations

import pandas as pd

from model import kpis
from model.data import Data
from model.plan import Plan
from model.tables import ResultContext

MEASURES = ("modules", "value_added", "tax", "jobs", "co2", "power_use", "stay_cost", "operating_cost",
            "logistics_cost", "pair_cost", "relocation_cost", "open_cost", "upgrade_cost")
AT_ORIGIN = ("modules", "value_added", "tax", "jobs", "co2", "power_use", "stay_cost")  # also count at home
SENDER = kpis.SENDER  # borne by the province a module leaves


def ledger(plan: Plan, data: Data) -> pd.DataFrame:
    """One row per province (in the order the instance names them: origins, then hosts), period
    and measure: status_quo, plan, change."""
    registry = kpis.registry()
    provinces = list(dict.fromkeys([*data.industry["origin"], *data.park["province"]]))
    origin = data.industry["origin"].to_dict()
    host = data.park["province"].to_dict()
    modules = data.industry["modules"].astype(float).to_dict()
    pos = data.pair_position()
    rows = []
    for _, pid, view, now, _ready in ResultContext(data, None, plan).periods():
        index = {i: n for n, i in enumerate(data.industries)}
        coef = {m: view.pair_coef(m) for m in MEASURES if registry[m].pair is not None}
        at_home = {m: (registry[m].origin or registry[m].stay)(view) for m in AT_ORIGIN}
        quo = {(p, m): 0.0 for p in provinces for m in MEASURES}
        got = dict(quo)
        for i, n in index.items():
            for m in AT_ORIGIN:
                quo[origin[i], m] += float(at_home[m][n]) * modules[i]
                got[origin[i], m] += float(at_home[m][n]) * now.stay.get(i, 0.0)
        for (i, p), v in now.x.items():
            r = pos[(i, p)]
            for m, c in coef.items():
                if m not in SENDER and not kpis.once(m):
                    got[host[p], m] += float(c[r]) * v
        moved = now.moved if now.moved is not None else now.x
        for (i, p), v in moved.items():
            for m in SENDER:
                got[origin[i], m] += float(coef[m][pos[(i, p)]]) * v
        opening = now.opening if now.opening is not None else now.open
        park_cost = registry["open_cost"].park(view)
        for n, p in enumerate(data.parks):
            got[host[p], "open_cost"] += float(park_cost[n]) * opening.get(p, 0)
        building = set(now.building if now.building is not None else now.upgrades)
        up_cost = registry["upgrade_cost"].upgrade(view)
        for n, pu in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"])):
            if pu in building:
                got[host[pu[0]], "upgrade_cost"] += float(up_cost[n])
        for p in provinces:
            for m in MEASURES:
                change = got[p, m] - quo[p, m]
                rows.append({"province": p, **({"period": pid} if data.phased else {}), "measure": m,
                             "unit": kpis.unit(data.inst, m),
                             "basis": "one-off" if data.phased and kpis.once(m) else "per year",
                             "status_quo": _clean(quo[p, m]), "plan": _clean(got[p, m]), "change": _clean(change)})
    return pd.DataFrame(rows)


def _clean(v: float) -> float:
    return 0.0 if abs(v) < 1e-9 else v
