"""Results: the plan read back from a solved model, and the tables written for the user.

`Plan` is plain data (dicts of ids), so the independent checker and later tools (compare,
explain) work from it without the Pyomo model. The tables use the instance's names as columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from model import kpis
from model.data import PAIR_KPIS, Data
from model.plan import Plan
from model.schema import OBJECTIVE_TERMS, DiversityRule, LimitRule, TransferTargetRule

TOL = 1e-6


def _clean(value: float | None, integer: bool) -> float:
    v = float(value or 0.0)
    if integer or abs(v - round(v)) <= TOL:
        v = float(round(v))
    return 0.0 if abs(v) <= TOL else v


def extract(m: pyo.ConcreteModel, data: Data) -> Plan:
    """Read the loaded solution out of the model (integer values rounded, zeros dropped)."""
    divisible = data.industry["divisible"].to_dict()
    plan = Plan()
    for (i, p), var in zip(zip(data.pairs["industry"], data.pairs["park"]), m.x_list):
        v = _clean(var.value, not divisible[i])
        if v:
            plan.x[(i, p)] = v
    plan.stay = {i: _clean(m.stay[i].value, not divisible[i]) for i in data.industries}
    plan.open = {p: int(round(m.y[p].value or 0)) for p in data.parks}
    plan.upgrades = [(p, u) for (p, u) in m.UPGRADES if round(m.w[p, u].value or 0) == 1]
    return plan


def kpi_values(m: pyo.ConcreteModel) -> dict[str, float]:
    """Every objective KPI of the loaded solution, as the model evaluates it."""
    return {t: float(pyo.value(m.component(t))) for t in OBJECTIVE_TERMS}


def allocation_table(plan: Plan, data: Data) -> pd.DataFrame:
    """One row per (industry, park) placement and one per industry with modules staying."""
    pairs = data.pairs.set_index(["industry", "park"])
    rows = []
    for (i, p), v in plan.x.items():
        r = pairs.loc[(i, p)]
        row = {"industry": i, "origin": data.industry.at[i, "origin"], "sector": data.industry.at[i, "sector"],
               "park": p, "province": data.park.at[p, "province"], "region": data.park.at[p, "region"],
               "modules": v, "stay_cost": 0.0}
        row.update({k: float(r[k]) * v for k in PAIR_KPIS})
        rows.append(row)
    for i, v in plan.stay.items():
        if v:
            rows.append({"industry": i, "origin": data.industry.at[i, "origin"],
                         "sector": data.industry.at[i, "sector"], "park": "", "province": "",
                         "region": "", "modules": v, **{k: 0.0 for k in PAIR_KPIS},
                         "co2": float(data.industry.at[i, "stay_co2"]) * v,
                         "stay_cost": float(data.industry.at[i, "stay_cost"]) * v})
    columns = ["industry", "origin", "sector", "park", "province", "region", "modules", *PAIR_KPIS, "stay_cost"]
    table = pd.DataFrame(rows, columns=columns)
    order = {i: n for n, i in enumerate(data.industries)}
    return table.sort_values(["industry", "park"], key=lambda s: s.map(order) if s.name == "industry" else s,
                             kind="stable").reset_index(drop=True)


def shadow_price(con: Any, duals: dict[Any, float]) -> float:
    """What loosening a row by one unit saves in the objective (≥ 0 at an optimum; NaN if unpriced).

    HiGHS's dual is ∂objective/∂right-hand side: an upper bound loosens upwards (saving −dual), a
    lower bound downwards (saving +dual).
    """
    if con is None or con not in duals:
        return float("nan")
    dual = float(duals[con])
    value = -dual if con.has_ub() and not con.has_lb() else dual
    return 0.0 if abs(value) < 1e-9 else value


def _component(m: pyo.ConcreteModel | None, name: str, index: Any) -> Any:
    comp = m.find_component(name) if m is not None else None
    return comp[index] if comp is not None and index in comp else None


def park_table(plan: Plan, data: Data, m: pyo.ConcreteModel | None = None,
               duals: dict[Any, float] | None = None) -> pd.DataFrame:
    """Use, capacity, slack and shadow price of every resource at every park (long format).

    shadow_price: money saved by one more unit of the resource at the park, with the plan's integer
    decisions held (see `solvers.lp_duals`); `binding` when the slack is zero.
    """
    duals = duals or {}
    money = data.inst.units.money
    use = np.zeros((len(data.parks), len(data.resources)))
    pos = {(i, p): r for r, (i, p) in enumerate(zip(data.pairs["industry"], data.pairs["park"]))}
    for (i, p), v in plan.x.items():
        use[data.parks.index(p)] += data.use[pos[(i, p)]] * v
    added = np.zeros_like(use)
    built = set(plan.upgrades)
    up_names: dict[str, list[str]] = {}
    for r, (p, u) in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"])):
        if (p, u) in built:
            added[data.parks.index(p)] += data.adds[r]
            up_names.setdefault(p, []).append(u)
    rows = []
    for n, p in enumerate(data.parks):
        is_open = plan.open.get(p, 0)
        for k, res in enumerate(data.resources):
            base = data.capacity[n, k] * is_open
            cap = base + added[n, k]
            rows.append({"component": "capacity", "index": f"{p},{res}",
                         "park": p, "province": data.park.at[p, "province"], "region": data.park.at[p, "region"],
                         "open": is_open, "upgrades": ";".join(up_names.get(p, [])), "resource": res,
                         "unit": data.inst.resources[res].unit, "use": use[n, k], "capacity": cap,
                         "base_capacity": data.capacity[n, k], "upgrade_capacity": added[n, k],
                         "slack": cap - use[n, k],
                         "utilisation": use[n, k] / cap if cap > 0 else (0.0 if use[n, k] == 0 else np.inf),
                         "binding": bool(is_open and cap - use[n, k] <= 1e-6 * max(1.0, cap)),
                         "shadow_price": shadow_price(_component(m, "capacity", (p, res)), duals),
                         "shadow_price_unit": f"{money} per {data.inst.resources[res].unit}"})
    return pd.DataFrame(rows)


def kpi_unit(data: Data, kpi: str) -> str:
    units = data.inst.units
    if kpi in data.resources:
        return data.inst.resources[kpi].unit
    return {"co2": units.co2, "jobs": units.jobs, "modules": "module", "parks_per_sector": "park",
            "sectors_per_park": "sector"}.get(kpi, units.money)


def limit_table(m: pyo.ConcreteModel, data: Data, plan: Plan, duals: dict[Any, float] | None = None
                ) -> pd.DataFrame:
    """Every row of the enabled limits, transfer targets and diversity bounds, one per row of the
    model (`component[index]`, e.g. `max_parks_per_sector[rule,textiles]`): value, slack, binding,
    shadow price.

    shadow_price: money saved by loosening the bound by one unit of its KPI (diversity bounds count
    parks or sectors, integer decisions, and are not priced).
    """
    duals = duals or {}
    money = data.inst.units.money
    rows = []
    for r in data.rules:
        if isinstance(r, LimitRule):
            value = float(pyo.value(kpis.expression(m, data, r.kpi, r.parks, r.industries)))
            for sense in ("max", "min", "min_share"):
                bound = getattr(r, sense)
                if bound is None:
                    continue
                if sense == "min_share":
                    whole = float(pyo.value(kpis.expression(m, data, r.kpi, None, r.industries)))
                    bound, sense_out = bound * whole, "min"
                else:
                    sense_out = sense
                slack = bound - value if sense_out == "max" else value - bound
                price = shadow_price(_component(m, "limit", (r.id, sense)), duals)
                rows.append(_limit_row(r, r.kpi, sense, float(bound), value, slack, price,
                                       f"{money} per {kpi_unit(data, r.kpi)}", "limit", f"{r.id},{sense}"))
        elif isinstance(r, TransferTargetRule):
            group = data.industry_set(r.industries)
            value = sum(v for (i, _), v in plan.x.items() if i in set(group))
            bound = r.min_modules if r.min_modules is not None else \
                r.min_share * float(data.industry.loc[group, "modules"].sum())
            price = shadow_price(_component(m, "transfer_target", r.id), duals)
            rows.append(_limit_row(r, "modules", "min", float(bound), value, value - bound, price,
                                   f"{money} per module", "transfer_target", r.id))
        elif isinstance(r, DiversityRule):
            sector = data.industry["sector"]
            group = set(data.park_set(r.parks))
            present = {(sector[i], p) for (i, p), v in plan.x.items() if v > TOL and p in group
                       and (r.sectors is None or sector[i] in r.sectors)}
            # One row per row of the model (a sector of the rule, a park of its group), as built.
            for component, kpi, bound in (("max_parks_per_sector", "parks_per_sector", r.max_parks_per_sector),
                                          ("max_sectors_per_park", "sectors_per_park", r.max_sectors_per_park)):
                comp = m.find_component(component) if bound else None
                for rid, where in (list(comp) if comp is not None else []):
                    if rid != r.id:
                        continue
                    value = sum(1 for s, p in present if (s if kpi == "parks_per_sector" else p) == where)
                    rows.append(_limit_row(r, kpi, "max", bound, value, bound - value, component=component,
                                           index=f"{rid},{where}"))
    return pd.DataFrame(rows, columns=["rule", "kind", "component", "index", "kpi", "sense", "bound", "value",
                                       "slack", "binding", "shadow_price", "shadow_price_unit"])


def _limit_row(rule: object, kpi: str, sense: str, bound: float, value: float, slack: float,
               price: float = float("nan"), unit: str = "", component: str = "", index: str = "") -> dict:
    """A row of limits.csv; `component[index]` names the row of the model it reports."""
    scale = max(1.0, abs(bound))
    return {"rule": rule.id, "kind": rule.kind, "component": component, "index": index, "kpi": kpi, "sense": sense,
            "bound": bound, "value": value,
            "slack": slack, "binding": bool(abs(slack) <= 1e-6 * scale), "shadow_price": price,
            "shadow_price_unit": unit}
