"""The ledger per jurisdiction: what each province, region and group has under the status quo and the plan.

The status quo is every module running at its origin. For a province P (and, with periods, a
period t; without, the single year), each measure is summed over what runs or happens in P:
    running in P      modules placed at P's parks  × the per-module figure at the park (`pair`)
                      + modules at their origin in P × the per-module figure at the origin (`origin`,
                        else `stay`): modules, value_added, tax, jobs, co2, power_use, stay_cost;
                        operating, logistics and pair costs are the hosts'
    borne by P        relocation_cost of the modules leaving P in the period (the sending side), and
                      retire_cost of those closing in it (`retired`: the modules closed by then);
                      open_cost and upgrade_cost of P's parks opened or built in it (the host side)
    transfers         what P receives less what it pays (`model/transfers.py`): an enclave's agreed
                      shares, eco-compensation, side payments, allowances bought (net)
With enclave parks, `value_added_agreed` and `tax_agreed` are the agreed attribution (the on-site
figure plus the enclave shares) next to the on-site (statistical) `value_added` and `tax`.
A region's and a group's rows are the sums of their provinces' (`model/jurisdictions.py`; a
transfer booked to a region or a group itself, the allowances of a cap over it, count there).
`change` = plan − status quo; `basis` says whether a measure is a yearly figure or (with periods)
the one-off amounts of the period. Summed over the provinces, the plan column of a cost and of co2
is the plan's KPI (with periods, its value in the period, not discounted), and each transfer
measure sums to zero (a market's allowances by its balance). value_added, tax, jobs and power_use
count the modules at their origin too, where the KPIs of kpis.json count the modules placed: what
moved; here, what each province has. Values within 1e-9 of 0 are written as 0.
"""

from __future__ import annotations

import pandas as pd

from model import kpis
from model.data import Data
from model.jurisdictions import levels
from model.jurisdictions import provinces as all_provinces
from model.plan import Plan
from model.tables import ResultContext
from model.transfers import flows, measures
from solvers.problem import Problem

MEASURES = ("modules", "value_added", "tax", "jobs", "co2", "power_use", "production_capacity", "stay_cost",
            "operating_cost", "logistics_cost", "pair_cost", "relocation_cost", "open_cost", "upgrade_cost",
            "retired", "retire_cost")
AT_ORIGIN = ("modules", "value_added", "tax", "jobs", "co2", "power_use", "production_capacity",
             "stay_cost")  # also count at home
SENDER = kpis.SENDER  # borne by the province a module leaves


def ledger(plan: Plan, data: Data, problem: Problem | None = None) -> pd.DataFrame:
    """One row per jurisdiction (provinces in the order the instance names them: origins, then
    hosts; then regions, then groups of provinces), period and measure: status_quo, plan, change.
    Transfers need the solved `problem` (without it, a plan read from a file, they are left out)."""
    registry = kpis.registry()
    provinces = all_provinces(data.inst)
    origin = data.industry["origin"].to_dict()
    host = data.park["province"].to_dict()
    modules = data.industry["modules"].astype(float).to_dict()
    pos = data.pair_position()
    solved = problem is not None and problem.solution is not None
    kinds = measures()
    rows = []
    for t, pid, view, now, _ready in ResultContext(data, None, plan).periods():
        index = {i: n for n, i in enumerate(data.industries)}
        coef = {m: view.pair_coef(m) for m in MEASURES if m in registry and registry[m].pair is not None}
        at_home = {m: (registry[m].origin or registry[m].stay)(view) for m in AT_ORIGIN}
        quo: dict[tuple[str, str], float] = {(p, m): 0.0 for p in provinces for m in MEASURES}
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
        closing = now.retired if now.retired is not None else now.retire  # the origin's: closed in the period
        cost = registry["retire_cost"].retire(view)
        for i, v in closing.items():
            got[origin[i], "retire_cost"] += float(cost[index[i]]) * v
        for i, v in now.retire.items():  # closed by the period
            got[origin[i], "retired"] += v
        opening = now.opening if now.opening is not None else now.open
        park_cost = registry["open_cost"].park(view)
        for n, p in enumerate(data.parks):
            got[host[p], "open_cost"] += float(park_cost[n]) * opening.get(p, 0)
        building = set(now.building if now.building is not None else now.upgrades)
        up_cost = registry["upgrade_cost"].upgrade(view)
        for n, pu in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"])):
            if pu in building:
                got[host[pu[0]], "upgrade_cost"] += float(up_cost[n])
        names = list(MEASURES)
        direct: dict[tuple[str, str], tuple[float, float]] = {}  # transfers booked to a region or group
        if solved:
            assert problem is not None and problem.solution is not None
            for f in flows(problem, data, t):
                names.append(f.measure)
                amount = f.amount.value(problem.solution.values)
                for who, sign in ((f.payee, 1.0), (f.payer, -1.0)):
                    if who is None:
                        continue
                    book = (quo, got) if who in provinces else None
                    if book is None:
                        old = direct.get((who, f.measure), (0.0, 0.0))
                        direct[who, f.measure] = (old[0] + sign * f.status_quo, old[1] + sign * amount)
                        continue
                    quo[who, f.measure] = quo.get((who, f.measure), 0.0) + sign * f.status_quo
                    got[who, f.measure] = got.get((who, f.measure), 0.0) + sign * amount
        names = list(dict.fromkeys(names))
        for kpi in ("value_added", "tax"):  # the agreed attribution next to the on-site one
            if f"enclave_{kpi}" in names:
                names.append(f"{kpi}_agreed")
                for p in provinces:
                    for book in (quo, got):
                        book[p, f"{kpi}_agreed"] = book[p, kpi] + book.get((p, f"enclave_{kpi}"), 0.0)
        for name, level, members in levels(data.inst):
            for m in names:
                a = sum(quo.get((q, m), 0.0) for q in members) + direct.get((name, m), (0.0, 0.0))[0]
                b = sum(got.get((q, m), 0.0) for q in members) + direct.get((name, m), (0.0, 0.0))[1]
                unit_of = kinds[m].unit if m in kinds else "modules" if m == "retired" else m.removesuffix("_agreed")
                rows.append({"jurisdiction": name, "level": level, **({"period": pid} if data.phased else {}),
                             "measure": m, "unit": kpis.unit(data.inst, unit_of),
                             "basis": "one-off" if data.phased and (kinds[m].once if m in kinds else kpis.once(m))
                             else "per year",
                             "status_quo": _clean(a), "plan": _clean(b), "change": _clean(b - a)})
    return pd.DataFrame(rows)


def _clean(v: float) -> float:
    return 0.0 if abs(v) < 1e-9 else v
