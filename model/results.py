"""Results: the plan read back from a solved problem, and the tables written for the user.

`Plan` is plain data (dicts of ids), so the independent checker and later tools (compare,
explain) work from it without the problem. The tables use the instance's names as columns;
`parks.csv` and `limits.csv` are made of the families' rows (`rows(ctx)` in each family module).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model import kpis
from model.data import Data
from model.families import FAMILIES
from model.plan import Plan
from model.tables import LIMIT_COLUMNS, ResultContext
from solvers.problem import Problem

TOL = 1e-6


def _clean(values: np.ndarray, integer: np.ndarray) -> np.ndarray:
    v = np.nan_to_num(np.asarray(values, dtype=float))
    near = np.abs(v - np.round(v)) <= TOL
    v = np.where(integer | near, np.round(v), v)
    v[np.abs(v) <= TOL] = 0.0
    return v + 0.0  # no -0.0


def extract(problem: Problem, data: Data) -> Plan:
    """Read the loaded solution out of the problem (integer values rounded, zeros dropped)."""
    whole = ~data.industry["divisible"].to_numpy()
    x = _clean(problem.value("x"), whole[data.pairs["i"].to_numpy()])
    stay = _clean(problem.value("stay"), whole)
    placed = np.flatnonzero(x)
    plan = Plan()
    plan.x = {(i, p): float(v) for i, p, v in zip(data.pairs["industry"].to_numpy()[placed],
                                                   data.pairs["park"].to_numpy()[placed], x[placed])}
    plan.stay = dict(zip(data.industries, stay.tolist()))
    plan.open = dict(zip(data.parks, np.round(problem.value("y")).astype(int).tolist()))
    built = np.flatnonzero(np.round(problem.value("w")) == 1)
    plan.upgrades = list(zip(data.upgrades["park"].to_numpy()[built], data.upgrades["upgrade"].to_numpy()[built]))
    return plan


def kpi_values(problem: Problem) -> dict[str, float]:
    """Every objective KPI of the loaded solution, as the problem evaluates it."""
    assert problem.solution is not None
    return {t: e.value(problem.solution.values) for t, e in problem.expressions.items()}


def allocation_table(plan: Plan, data: Data) -> pd.DataFrame:
    """One row per (industry, park) placement and one per industry with modules staying, with
    each per-pair KPI of the registry and stay_cost."""
    registry = kpis.registry()
    pair_kpis = [k.name for k in registry.values() if k.objective and k.pair is not None]
    stay_kpis = [k.name for k in registry.values() if k.objective and k.stay is not None]
    pos = data.pair_position()
    rows = []
    for (i, p), v in plan.x.items():
        r = pos[(i, p)]
        row = {"industry": i, "origin": data.industry.at[i, "origin"], "sector": data.industry.at[i, "sector"],
               "park": p, "province": data.park.at[p, "province"], "region": data.park.at[p, "region"],
               "modules": v}
        row.update({k: float(data.pair_coef(k)[r]) * v for k in pair_kpis})
        row.update({k: 0.0 for k in stay_kpis if k not in pair_kpis})
        rows.append(row)
    stay_coef = {k: registry[k].stay(data) for k in stay_kpis}
    order = {i: n for n, i in enumerate(data.industries)}
    for i, v in plan.stay.items():
        if v:
            n = order[i]
            rows.append({"industry": i, "origin": data.industry.at[i, "origin"],
                         "sector": data.industry.at[i, "sector"], "park": "", "province": "",
                         "region": "", "modules": v, **{k: 0.0 for k in pair_kpis},
                         **{k: float(stay_coef[k][n]) * v for k in stay_kpis}})
    columns = ["industry", "origin", "sector", "park", "province", "region", "modules", *pair_kpis,
               *[k for k in stay_kpis if k not in pair_kpis]]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["industry", "park"], key=lambda s: s.map(order) if s.name == "industry" else s,
                             kind="stable").reset_index(drop=True)


def family_tables(plan: Plan, data: Data, problem: Problem | None = None) -> dict[str, pd.DataFrame]:
    """parks.csv, limits.csv and any table of a family's own, from every family's `rows`.
    limits.csv keeps the instance's order of rules."""
    ctx = ResultContext(data, problem, plan)
    found: dict[str, list[dict]] = {"parks.csv": [], "limits.csv": []}
    for family in FAMILIES:
        if hasattr(family, "rows"):
            for name, rows in family.rows(ctx).items():
                found.setdefault(name, []).extend(rows)
    order = {r.id: n for n, r in enumerate(data.rules)}
    found["limits.csv"].sort(key=lambda row: order.get(row["rule"], len(order)))
    out = {name: pd.DataFrame(rows) for name, rows in found.items()}
    out["limits.csv"] = pd.DataFrame(found["limits.csv"], columns=LIMIT_COLUMNS)
    return out
