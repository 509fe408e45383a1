"""Results over time (with `periods`): the plan period by period, the KPIs per period and the timeline chart.

    periods.csv         one row per period: its years and discount factors (`discount_annual` of the
                        last period counts its terminal years too), modules moved in it and placed by
                        its end, modules still at their origin (and closed by then, where modules may
                        close), parks open and newly opened, upgrades
                        whose capacity is there, and each resource's use / available capacity
    kpis_by_period.csv  one row per period and objective KPI: its value in the period (a yearly flow,
                        or the one-off amount), the discount factor, the present value and the
                        weighted present value; `present_value` sums over the periods to the KPI of
                        kpis.json and `weighted` over all rows to the objective
    timeline.png        modules moved per period (by receiving region) and capacity used per period
A single-period run has none of them.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from model import kpis
from model.data import Data
from model.jurisdictions import expand
from model.plan import Plan
from model.tables import ResultContext
from solvers.problem import Problem


def period_table(plan: Plan, data: Data, parks: pd.DataFrame) -> pd.DataFrame:
    assert data.periods is not None
    rows = []
    for t, pid, _, now, ready in ResultContext(data, None, plan).periods():
        row = {"period": pid, "years": int(data.periods.years[t]), "start": float(data.periods.offset[t]),
               "discount_once": float(data.periods.once[t]), "discount_annual": float(data.periods.annual[t]),
               "modules_moved": sum((now.moved or {}).values()), "modules_placed": sum(now.x.values()),
               "modules_at_origin": sum(now.stay.values()),
               **({"modules_retired": sum(now.retire.values())} if len(data.retiring) else {}),
               "parks_open": sum(now.open.values()),
               "parks_opened": sum(v for p, v in (now.opening or {}).items() if not data.park.at[p, "already_open"]),
               "upgrades_ready": len(ready)}
        here = parks[parks["period"] == pid]
        for res, g in here.groupby("resource", sort=False):
            avail = float(g["available"].sum())
            row[f"{res}_utilisation"] = float(g["use"].sum()) / avail if avail > 0 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def kpis_by_period(problem: Problem, data: Data, weights: dict[str, float]) -> pd.DataFrame:
    assert data.periods is not None and problem.solution is not None
    x = problem.solution.values
    rows = []
    own = [t for t in weights if "@" in t]  # a jurisdiction's own KPI (`value_added@Anhui`)
    for term in (*kpis.objective_terms(), *own):
        kpi, _, where = term.partition("@")
        f = kpis.factor(data, kpi)
        for t, pid in enumerate(data.periods.ids):
            lin = kpis.in_provinces(problem, data, kpi, expand([where], data.inst), None, t) if where else \
                kpis.whole(problem, data, term, t)
            v = lin.value(x)
            rows.append({"period": pid, "kpi": term, "unit": kpis.unit(data.inst, term),
                         "basis": "one-off" if kpis.once(kpi) else "per year", "value": v,
                         "discount": float(f[t]), "present_value": float(f[t]) * v,
                         "weight": weights.get(term, 0.0), "weighted": weights.get(term, 0.0) * float(f[t]) * v})
    return pd.DataFrame(rows)


def chart(periods: pd.DataFrame, allocations: pd.DataFrame, title: str) -> bytes:
    """timeline.png: modules moved per period by receiving region, and capacity used per period."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ids = list(periods["period"])
    moved = allocations[allocations["park"] != ""].pivot_table(index="period", columns="region", values="modules",
                                                               aggfunc="sum", fill_value=0.0)
    moved = moved.reindex(ids, fill_value=0.0)
    base = np.zeros(len(ids))
    for region in moved.columns:
        left.bar(ids, moved[region].to_numpy(), bottom=base, label=str(region))
        base += moved[region].to_numpy()
    left.plot(ids, periods["modules_placed"], color="black", marker="o", label="placed by the period's end")
    left.set_ylabel("modules")
    left.set_title("modules moved per period, by receiving region")
    left.legend(fontsize=8)
    for col in [c for c in periods.columns if c.endswith("_utilisation")]:
        right.plot(ids, 100 * periods[col], marker="o", label=col.removesuffix("_utilisation"))
    right.set_ylabel("use / capacity of the open parks (%)")
    right.set_title("capacity used per period")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
