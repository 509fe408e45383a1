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
    """Read the loaded solution out of the problem (integer values rounded, zeros dropped); with
    periods, when each move, opening and upgrade happens too."""
    whole = ~data.industry["divisible"].to_numpy()
    n_t = data.count
    moves = _clean(problem.value("x"), data.tile(whole[data.pairs["i"].to_numpy()])).reshape(n_t, -1)
    x = moves.sum(axis=0)
    stay = _clean(problem.value("stay"), whole)
    placed = np.flatnonzero(x)
    industry, park = data.pairs["industry"].to_numpy(), data.pairs["park"].to_numpy()
    plan = Plan()
    plan.x = {(i, p): float(v) for i, p, v in zip(industry[placed], park[placed], x[placed])}
    plan.stay = dict(zip(data.industries, stay.tolist()))
    if "retire" in problem.variables:
        closing = _clean(problem.value("retire"), data.tile(whole[data.retiring])).reshape(n_t, -1)
        ids = [str(i) for i in np.asarray(data.industries, dtype=object)[data.retiring]]
        plan.retire = {i: float(v) for i, v in zip(ids, closing.sum(axis=0)) if v}
        if data.phased:
            assert data.periods is not None
            plan.retirements = {(ids[n], data.periods.ids[q]): float(closing[q, n])
                                for q, n in zip(*np.nonzero(closing))}
    y = np.round(problem.value("y")).astype(int).reshape(n_t, -1)
    w = np.round(problem.value("w")).astype(int).reshape(n_t, -1)
    plan.open = dict(zip(data.parks, y[-1].tolist()))
    built = np.flatnonzero(w[-1] == 1)
    plan.upgrades = list(zip(data.upgrades["park"].to_numpy()[built], data.upgrades["upgrade"].to_numpy()[built]))
    for family in FAMILIES:  # side payments, allowances: amounts the model decides
        if hasattr(family, "decided"):
            plan.transfers.update(family.decided(problem, data))
    if data.phased:
        assert data.periods is not None
        ids = data.periods.ids
        plan.periods = ids
        t, r = np.nonzero(moves)
        plan.moves = {(industry[n], park[n], ids[q]): float(moves[q, n]) for q, n in zip(t.tolist(), r.tolist())}
        plan.opened = {p: ids[int(np.argmax(y[:, n]))] for n, p in enumerate(data.parks) if y[-1, n]}
        plan.built = {(p, u): ids[int(np.argmax(w[:, n]))] for n, (p, u) in
                      enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"])) if w[-1, n]}
    return plan


def kpi_values(problem: Problem) -> dict[str, float]:
    """Every objective KPI of the loaded solution, as the problem evaluates it."""
    assert problem.solution is not None
    return {t: e.value(problem.solution.values) for t, e in problem.expressions.items()}


def allocation_table(plan: Plan, data: Data) -> pd.DataFrame:
    """One row per (industry, park) placement and one per industry with modules staying, with
    each per-pair KPI of the registry and stay_cost. With periods, one row per move and its
    period (`period`), and each KPI is the present value of what those modules count for over the
    periods: at the park from their move on, and at their origin before it for the KPIs that count
    a module there (`Kpi.stay`: stay_cost, co2; not value_added or jobs) (the columns sum to the
    KPIs of kpis.json, less the parks' open and upgrade costs). Where an industry may close, a
    `fate` column says moved, stays or retired, and a row per closure carries its retire_cost."""
    registry = kpis.registry()
    pair_kpis = [k.name for k in registry.values() if k.objective and k.pair is not None]
    stay_kpis = [k.name for k in registry.values() if k.objective and k.stay is not None]
    assert data.periods is not None
    n_t, ids = data.count, data.periods.ids
    factor = {k: kpis.factor(data, k) for k in (*pair_kpis, *stay_kpis)}
    pair_coef = {k: [data.at(t).pair_coef(k) for t in range(n_t)] for k in pair_kpis}
    stay_coef = {k: [registry[k].stay(data.at(t)) for t in range(n_t)] for k in stay_kpis}
    order = {i: n for n, i in enumerate(data.industries)}
    pos = data.pair_position()
    moves = [(i, p, ids.index(q), v) for (i, p, q), v in plan.moves.items()] if data.phased else \
        [(i, p, 0, v) for (i, p), v in plan.x.items()]
    rows = []
    for i, p, t, v in moves:
        r, n = pos[(i, p)], order[i]
        row = {"industry": i, "origin": data.industry.at[i, "origin"], "sector": data.industry.at[i, "sector"],
               "park": p, "province": data.park.at[p, "province"], "region": data.park.at[p, "region"],
               **({"period": ids[t]} if data.phased else {}), "modules": v}
        for k in pair_kpis:  # a one-off falls in the period of the move, a flow runs from then on
            span = [t] if kpis.once(k) else range(t, n_t)
            row[k] = sum(float(factor[k][u] * pair_coef[k][u][r]) for u in span) * v
        for k in stay_kpis:  # the modules were at their origin before they moved
            row[k] = row.get(k, 0.0) + sum(float(factor[k][u] * stay_coef[k][u][n]) for u in range(t)) * v
        rows.append(row)
    for i, v in plan.stay.items():
        if v:
            n = order[i]
            rows.append({"industry": i, "origin": data.industry.at[i, "origin"],
                         "sector": data.industry.at[i, "sector"], "park": "", "province": "", "region": "",
                         **({"period": ""} if data.phased else {}), "modules": v, **{k: 0.0 for k in pair_kpis},
                         **{k: sum(float(factor[k][u] * stay_coef[k][u][n]) for u in range(n_t)) * v
                            for k in stay_kpis}})
    fates = len(data.retiring) > 0  # a `fate` column and retire_cost only where a module may close
    retire_kpis = [k.name for k in registry.values() if k.objective and k.retire is not None] if fates else []
    closings = [(i, ids.index(q), v) for (i, q), v in plan.retirements.items()] if data.phased else \
        [(i, 0, v) for i, v in plan.retire.items()]
    for i, t, v in closings:
        if v:
            n = order[i]
            row = {"industry": i, "origin": data.industry.at[i, "origin"], "sector": data.industry.at[i, "sector"],
                   "park": "", "province": "", "region": "", **({"period": ids[t]} if data.phased else {}),
                   "modules": v, **{k: 0.0 for k in pair_kpis}}
            for k in stay_kpis:  # running at its origin until it closes
                row[k] = row.get(k, 0.0) + sum(float(factor[k][u] * stay_coef[k][u][n]) for u in range(t)) * v
            for k in retire_kpis:
                row[k] = float(kpis.factor(data, k)[t] * registry[k].retire(data.at(t))[n]) * v
            rows.append(row | {"fate": "retired"})
    if fates:
        for row in rows:
            row.setdefault("fate", "moved" if row["park"] else "stays")
            for k in retire_kpis:
                row.setdefault(k, 0.0)
    columns = ["industry", "origin", "sector", "park", "province", "region", *(["period"] if data.phased else []),
               *(["fate"] if fates else []), "modules", *pair_kpis, *[k for k in stay_kpis if k not in pair_kpis],
               *retire_kpis]
    table = pd.DataFrame(rows, columns=columns)
    by = ["industry", "park", *(["period"] if data.phased else [])]
    rank = {q: n for n, q in enumerate(ids)}
    return table.sort_values(by, key=lambda s: s.map(order) if s.name == "industry" else
                             (s.map(rank) if s.name == "period" else s), kind="stable").reset_index(drop=True)


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
    columns = [*LIMIT_COLUMNS[:4], "period", *LIMIT_COLUMNS[4:]] if data.phased else LIMIT_COLUMNS
    out["limits.csv"] = pd.DataFrame(found["limits.csv"], columns=columns)
    return out
