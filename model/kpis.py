"""The KPI registry: every KPI's name, unit, how it is computed, and its place in the objective.

A KPI is a linear expression of the decisions, over a subset of parks G_P and industries G_I:
    per pair      K(G_P, G_I) = Σ_{(i,p)∈E, p∈G_P, i∈G_I} coef_K[i,p] · x[i,p]
                  (+ Σ_i stay_K[i] · stay[i] over the whole plan, for the modules that stay)
    per park      open_cost(G_P) = Σ_{p∈G_P, not already open} open_cost_p · y[p]
    per upgrade   upgrade_cost(G_P) = Σ_{p∈G_P} Σ_{u∈U_p} cost_u · w[p,u]
    per closure   retire_cost(G_I) = Σ_{i∈G_I} retire_cost_i · retire[i]   (modules closed)
    a sum         spend = open_cost + upgrade_cost + relocation_cost   (investment, for budgets)
and any resource id is a per-pair KPI too (its use); a family's own variables may make a KPI too
(`block`: a side payment's cost, allowances' transaction cost), over the whole plan only.
Each entry says it twice, on purpose: once
vectorised over the pair table (`pair`, `stay`, `park`, `upgrade`: arrays from `Data`) for the
model and the results, and once per placement from the instance's raw fields (`check_*`) for the
independent checker (`model/check.py`), so that a mistake in one shows up as a disagreement.

The objective terms, the terms' default weights, the KPIs a limit may bound, the KPIs that belong
to parks and the units printed everywhere are all read from `KPIS` (and from families' `KPIS`,
see `model/families/__init__.py`).

Over periods (`model/periods.py`; x[i,p,t] the modules moving in t, y[p,t] and w[p,u,t] open and
built by t), a KPI's value in period t, K_t, is a yearly flow or a one-off amount (`once`):
    flow      Σ coef_t[i,p] · Σ_{τ≤t} x[i,p,τ]  (+ Σ_i stay_t[i] · (stay[i] + Σ_{p,τ>t} x[i,p,τ]))
    one-off   Σ coef_t[i,p] · x[i,p,t],   open_cost_t · (y[p,t] − y[p,t−1]),   cost_t · (w[p,u,t] − w[p,u,t−1])
and its value over the plan is the present value Σ_t factor_t · K_t, with factor_t = annual_t for a
flow and once_t for a one-off. Without periods both are 1 and K is the single period's value.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from solvers.problem import Lin, Problem, total

if TYPE_CHECKING:
    from model.data import Data
    from model.schema import Industry, Instance, Park

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str  # a field of the instance's `units` (money, co2, jobs), else the unit itself
    doc: str
    objective: bool = True  # a term of the objective
    weight: float = 0.0  # its weight in the objective unless the instance sets one
    once: bool = False  # a one-off amount in the period it occurs (else a yearly flow)
    limit: bool = True  # a `limit` rule may bound it
    pair: Callable[[Data], np.ndarray] | None = None  # per module placed, over data.pairs
    stay: Callable[[Data], np.ndarray] | None = None  # per module staying, over data.industries
    origin: Callable[[Data], np.ndarray] | None = None  # per module running at its origin (the ledger's); else `stay`
    retire: Callable[[Data], np.ndarray] | None = None  # per module closed, over data.industries
    park: Callable[[Data], np.ndarray] | None = None  # per park opened, over data.parks
    upgrade: Callable[[Data], np.ndarray] | None = None  # per upgrade built, over data.upgrades
    parts: tuple[str, ...] = ()  # a sum of other KPIs
    benefit: bool = False  # more is better (a Pareto axis maximises it)
    block: Callable[[Problem, Data, int], Lin] | None = None  # in period t, over a family's own variables
    check_plan: Callable[[Any], float] | None = None  # the same from the checker's context (the plan's amounts)
    check_pair: Callable[[Any, str, str], float] | None = None  # (checker context, industry, park)
    check_stay: Callable[[Industry], float] | None = None
    check_origin: Callable[[Industry], float] | None = None
    check_retire: Callable[[Industry], float] | None = None
    check_park: Callable[[Park, set[str]], float] | None = None  # (park, upgrades built there)


def great_circle_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Haversine distance in km between points (or arrays of points) given in degrees."""
    lon1, lat1, lon2, lat2 = (np.radians(a) for a in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _ind(d: Data, column: str) -> np.ndarray:
    return d.industry[column].to_numpy(dtype=float)[d.pairs["i"].to_numpy()]


def _park(d: Data, column: str) -> np.ndarray:
    return d.park[column].to_numpy(dtype=float)[d.pairs["p"].to_numpy()]


def _operating(d: Data) -> np.ndarray:
    return (d.use * d.unit_costs[d.pairs["p"].to_numpy()]).sum(axis=1) + _ind(d, "power_use") * _park(d, "power_price")


def _logistics(d: Data) -> np.ndarray:
    rate = _ind(d, "logistics_cost_per_km")
    out = np.zeros(len(rate))
    moving = rate > 0
    if moving.any():
        dist = great_circle_km(_ind(d, "lon")[moving], _ind(d, "lat")[moving], _park(d, "lon")[moving],
                               _park(d, "lat")[moving])
        out[moving] = dist * rate[moving]
    return out


# The checker's side: plain arithmetic on the instance's raw fields (its own haversine, in `math`).
def _check_distance(a: Any, b: Any) -> float:
    lon1, lat1, lon2, lat2 = (math.radians(v) for v in (a.lon, a.lat, b.lon, b.lat))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def _check_operating(c: Any, i: str, p: str) -> float:
    a, b = c.ind[i], c.park[p]
    return sum(c.use(i, p, k) * b.unit_costs.get(k, 0.0) for k in c.inst.resources) + a.power_use * b.power_price


def _check_logistics(c: Any, i: str, p: str) -> float:
    a = c.ind[i]
    return _check_distance(a.location, c.park[p].location) * a.logistics_cost_per_km if a.logistics_cost_per_km else 0.0


def _check_pair_cost(c: Any, i: str, p: str) -> float:
    pr = c.pair.get((i, p))
    return pr.cost if pr is not None and pr.cost is not None else 0.0


KPIS: tuple[Kpi, ...] = (
    Kpi("open_cost", "money", "open_cost of each park opened", weight=1.0, once=True,
        park=lambda d: np.where(d.park["already_open"].to_numpy(), 0.0, d.park["open_cost"].to_numpy(dtype=float)),
        check_park=lambda b, built: b.open_cost),
    Kpi("upgrade_cost", "money", "cost of each upgrade built", weight=1.0, once=True,
        upgrade=lambda d: d.upgrades["cost"].to_numpy(dtype=float),
        check_park=lambda b, built: sum(u.cost for u in b.upgrades if u.id in built)),
    Kpi("relocation_cost", "money", "move cost per module placed (one-off, or annualised without periods)",
        weight=1.0, once=True,
        pair=lambda d: _ind(d, "relocation_cost"), check_pair=lambda c, i, p: c.ind[i].relocation_cost),
    Kpi("operating_cost", "money", "Σ_k use·unit_costs of the host + power_use · power_price", weight=1.0,
        pair=_operating, check_pair=_check_operating),
    Kpi("logistics_cost", "money", "great-circle km from the industry's location × logistics_cost_per_km",
        weight=1.0, pair=_logistics, check_pair=_check_logistics),
    Kpi("pair_cost", "money", "the pairs table's cost per module", weight=1.0,
        pair=lambda d: d.pairs["pair_cost"].to_numpy(dtype=float), check_pair=_check_pair_cost),
    Kpi("stay_cost", "money", "stay_cost per module left at its origin", weight=1.0, limit=False,
        stay=lambda d: d.industry["stay_cost"].to_numpy(dtype=float), check_stay=lambda a: a.stay_cost),
    Kpi("co2", "co2", "co2_process + power_use × grid_factor, of the host (or the origin for modules that stay)",
        pair=lambda d: _ind(d, "co2_process") + _ind(d, "power_use") * _park(d, "grid_factor"),
        stay=lambda d: d.industry["stay_co2"].to_numpy(dtype=float),
        check_pair=lambda c, i, p: c.ind[i].co2_process + c.ind[i].power_use * c.park[p].grid_factor,
        check_stay=lambda a: a.co2_process + a.power_use * a.grid_factor),
    Kpi("value_added", "money", "value_added per module placed (a benefit: weigh it negatively)", benefit=True,
        pair=lambda d: _ind(d, "value_added"), check_pair=lambda c, i, p: c.ind[i].value_added,
        origin=lambda d: d.industry["value_added"].to_numpy(dtype=float), check_origin=lambda a: a.value_added),
    Kpi("jobs", "jobs", "jobs per module placed (a benefit: weigh it negatively)", benefit=True,
        pair=lambda d: _ind(d, "jobs"), check_pair=lambda c, i, p: c.ind[i].jobs,
        origin=lambda d: d.industry["jobs"].to_numpy(dtype=float), check_origin=lambda a: a.jobs),
    Kpi("tax", "money", "tax per module placed (revenue of the province where it runs)", objective=False,
        pair=lambda d: _ind(d, "tax"), check_pair=lambda c, i, p: c.ind[i].tax,
        origin=lambda d: d.industry["tax"].to_numpy(dtype=float), check_origin=lambda a: a.tax),
    Kpi("power_use", "power", "power_use per module placed", objective=False,
        pair=lambda d: _ind(d, "power_use"), check_pair=lambda c, i, p: c.ind[i].power_use,
        origin=lambda d: d.industry["power_use"].to_numpy(dtype=float), check_origin=lambda a: a.power_use),
    Kpi("modules", "modules", "modules placed", objective=False,
        pair=lambda d: np.ones(len(d.pairs)), check_pair=lambda c, i, p: 1.0,
        origin=lambda d: np.ones(len(d.industries)), check_origin=lambda a: 1.0),
    Kpi("retire_cost", "money", "retire_cost per module closed (one-off, or annualised without periods)",
        weight=1.0, once=True, limit=False, retire=lambda d: d.industry["retire_cost"].to_numpy(dtype=float),
        check_retire=lambda a: a.retire_cost),
    Kpi("production_capacity", "production", "physical capacity (production_capacity) of the modules "
        "placed", objective=False, pair=lambda d: _ind(d, "production_capacity"),
        check_pair=lambda c, i, p: c.ind[i].production_capacity,
        origin=lambda d: d.industry["production_capacity"].to_numpy(dtype=float),
        check_origin=lambda a: a.production_capacity),
    Kpi("spend", "money", "investment: open_cost + upgrade_cost + relocation_cost", objective=False, once=True,
        parts=("open_cost", "upgrade_cost", "relocation_cost")),
)


# KPI names an earlier version used: read, refused with the new name (one name per concept: the
# KPI is named as the YAML field it sums, `open_cost`, like relocation_cost and stay_cost).
RENAMED = {"opening_cost": "open_cost"}


@functools.lru_cache(maxsize=1)
def registry() -> dict[str, Kpi]:
    """Every KPI by name: this module's and those the registered families define (cached; the
    family registry clears it when a family comes or goes)."""
    from model.families import family_kpis

    return {k.name: k for k in (*KPIS, *family_kpis())}


def objective_terms() -> tuple[str, ...]:
    return tuple(k.name for k in registry().values() if k.objective)


def cost_terms() -> tuple[str, ...]:
    """Objective terms weighted 1 unless the instance says otherwise: the costs."""
    return tuple(k.name for k in registry().values() if k.objective and k.weight == 1.0)


def default_weights() -> dict[str, float]:
    return {k.name: k.weight for k in registry().values() if k.objective}


def limit_kpis() -> tuple[str, ...]:
    return tuple(k.name for k in registry().values() if k.limit)


def park_level(name: str) -> bool:
    """Belongs to parks (or has a part that does): a limit on it cannot name industries."""
    k = registry().get(name)
    return k is not None and (k.park is not None or k.upgrade is not None or any(map(park_level, k.parts)))


def unit(inst: Instance, name: str) -> str:
    """The unit a KPI (or a resource, or a count) is reported in, from the instance's `units`."""
    if name in inst.resources:
        return inst.resources[name].unit
    if "@" in name:  # a jurisdiction's own KPI (`value_added@Anhui`)
        return unit(inst, name.partition("@")[0])
    k = registry().get(name)
    word = k.unit if k is not None else "money"
    return getattr(inst.units, word, word)


# ---------------------------------------------------------------------------------------------
# The vectorised side: coefficients over the pair table and expressions over a Problem's columns


def pair_coef(data: Data, name: str) -> np.ndarray:
    """Per-module coefficient of a per-pair KPI or of a resource (its use), over data.pairs."""
    if name in data.resources:
        return data.use[:, data.resources.index(name)]
    k = registry()[name]
    if k.pair is None:
        return np.zeros(len(data.pairs))
    return k.pair(data)


def once(name: str) -> bool:
    """A one-off amount (else a yearly flow); a resource's use is a flow."""
    k = registry().get(name)
    return k is not None and (k.once or bool(k.parts) and all(map(once, k.parts)))


def factor(data: Data, name: str) -> np.ndarray:
    """Per period: what one unit of the KPI in that period is worth today."""
    assert data.periods is not None
    return data.periods.once if once(name) else data.periods.annual


def at(problem: Problem, block: str, data: Data, t: int) -> np.ndarray:
    """The columns of a variable block in period t (blocks over periods are period-major)."""
    cols = problem.cols(block)
    return cols.reshape(data.count, -1)[t]


def _present(data: Data, name: str, one: Callable[[int], Lin]) -> Lin:
    """Σ_t factor_t · one(t): a KPI's present value from its value in each period (one(0) alone
    without periods)."""
    if not data.phased:
        return one(0)
    f = factor(data, name)
    return total(one(t) * float(f[t]) for t in range(data.count))


def _at_home(problem: Problem, data: Data, figure: np.ndarray, t: int) -> Lin:
    """Σ_i figure[i] · (modules of i at their origin in period t): those that never move, and
    those that move or close later."""
    out = Lin(problem.cols("stay"), figure)
    pi = data.pairs["i"].to_numpy()
    for tau in range(t + 1, data.count):
        out = out + Lin(at(problem, "x", data, tau), figure[pi])
        if "retire" in problem.variables:
            out = out + Lin(at(problem, "retire", data, tau), figure[data.retiring])
    return out


def expression(problem: Problem, data: Data, name: str, parks: Any = None, industries: Any = None,
               period: int | None = None) -> Lin:
    """The KPI summed over the placed modules of `industries` at `parks` (None = all), in `period`,
    or its present value over the periods when `period` is None (see the module's docstring)."""
    if period is None:
        return _present(data, name, lambda t: expression(problem, data, name, parks, industries, t))
    t = period
    view = data.at(t)
    k = registry().get(name)
    if k is not None and k.parts:
        return total(expression(problem, data, part, parks, industries, t) for part in k.parts)
    if k is not None and k.block is not None:
        return k.block(problem, data, t)
    if k is not None and k.retire is not None:  # per module closed: a one-off of the period it closes in
        if "retire" not in problem.variables:
            return Lin()
        chosen = np.isin(data.industries, data.industry_set(industries)) if industries is not None else \
            np.ones(len(data.industries), bool)
        rows = np.flatnonzero(chosen[data.retiring])
        return Lin(at(problem, "retire", data, t)[rows], k.retire(view)[data.retiring][rows])
    if k is not None and (k.park is not None or k.upgrade is not None):
        if k.park is not None:
            chosen = np.isin(data.parks, data.park_set(parks)) if parks is not None else np.ones(len(data.parks), bool)
            block, coef = "y", k.park(view)[chosen]
        else:
            chosen = data.upgrades["park"].isin(data.park_set(parks)).to_numpy() if parks is not None else \
                np.ones(len(data.upgrades), bool)
            block, coef = "w", k.upgrade(view)[chosen]
        out = Lin(at(problem, block, data, t)[chosen], coef)
        if t > 0 and once(name):  # built (opened) by t, less by t−1: the amount falls in the period it happens
            out = out - Lin(at(problem, block, data, t - 1)[chosen], coef)
        return out
    if k is not None and k.pair is None:
        return Lin()
    coef = view.pair_coef(name)
    rows = np.flatnonzero(data.pair_mask(parks, industries) & (coef != 0))
    if once(name):
        return Lin(at(problem, "x", data, t)[rows], coef[rows])
    return total(Lin(at(problem, "x", data, tau)[rows], coef[rows]) for tau in range(t + 1))


SENDER = ("relocation_cost",)  # in a province's account: borne by the province the module leaves


def in_provinces(problem: Problem, data: Data, name: str, provinces: list[str], industries: Any = None,
                 period: int | None = None) -> Lin:
    """The KPI of a jurisdiction (the ledger's, `model/ledger.py`): over the modules of `industries`
    running in `provinces` in `period`, placed at their parks or at their origin there,
        Σ_{p∈P_G} coef_t[i,p] · placed_t[i,p]  +  Σ_{i: origin_i∈G} origin_t[i] · at_origin_t[i]
    with origin_t the per-module figure at the origin (`origin`, else `stay`; none for the hosts'
    costs); a one-off of parks (open_cost, upgrade_cost) is the host's, relocation_cost the sending
    province's. Its present value when `period` is None, as `expression`."""
    if period is None:
        return _present(data, name, lambda t: in_provinces(problem, data, name, provinces, industries, t))
    from model.schema import IndustrySelector, ParkSelector

    t, view = period, data.at(period)
    k = registry().get(name)
    if k is not None and k.parts:
        return total(in_provinces(problem, data, part, provinces, industries, t) for part in k.parts)
    if k is not None and (k.park is not None or k.upgrade is not None):
        return expression(problem, data, name, ParkSelector(province=list(provinces)), None, t)
    pi, pp = data.pairs["i"].to_numpy(), data.pairs["p"].to_numpy()
    home = np.isin(data.industry["origin"].to_numpy(), provinces) & (
        np.isin(data.industries, data.industry_set(industries)) if industries is not None else True)
    if k is not None and k.retire is not None:  # closing costs are the origin's
        ids = [str(i) for i in np.asarray(data.industries, dtype=object)[home]]
        return expression(problem, data, name, None, IndustrySelector(ids=ids), t) if ids else Lin()
    coef = view.pair_coef(name)
    if name in SENDER:
        rows = np.flatnonzero(home[pi] & (coef != 0))
        return Lin(at(problem, "x", data, t)[rows], coef[rows])
    host = np.isin(data.park["province"].to_numpy(), provinces)
    rows = np.flatnonzero(data.pair_mask(None, industries) & host[pp] & (coef != 0))
    out = total(Lin(at(problem, "x", data, tau)[rows], coef[rows]) for tau in range(t + 1))
    own = (k.origin or k.stay) if k is not None else None
    if own is not None and home.any():
        out = out + _at_home(problem, data, own(view) * home, t)
    return out


def whole(problem: Problem, data: Data, name: str, period: int | None = None) -> Lin:
    """The KPI over the whole plan, including the modules that stay where that applies (a modules
    moving later stays until then); its present value when `period` is None."""
    if period is None:
        return _present(data, name, lambda t: whole(problem, data, name, t))
    expr = expression(problem, data, name, period=period)
    k = registry().get(name)
    if k is not None and k.stay is not None:
        expr = expr + _at_home(problem, data, k.stay(data.at(period)), period)
    return expr


def upper(data: Data, name: str, parks: Any = None, industries: Any = None) -> float:
    """A bound on the KPI in any period of any plan (every module placed at its dearest pair,
    everything built), taking each figure at its largest over the periods."""
    return max(_upper(view, name, parks, industries) for view in (data.views or [data]))


def _upper(data: Data, name: str, parks: Any, industries: Any) -> float:
    k = registry().get(name)
    if k is not None and k.parts:
        return sum(_upper(data, part, parks, industries) for part in k.parts)
    chosen = set(data.park_set(parks))
    if k is not None and k.park is not None:
        return float(np.abs(k.park(data))[np.isin(data.parks, list(chosen))].sum())
    if k is not None and k.upgrade is not None:
        return float(np.abs(k.upgrade(data))[data.upgrades["park"].isin(chosen).to_numpy()].sum())
    rows = np.flatnonzero(data.pair_mask(parks, industries))
    coef = np.abs(data.pair_coef(name)[rows])
    best = pd.Series(coef).groupby(data.pairs["i"].to_numpy()[rows]).max()
    modules = data.industry["modules"].to_numpy(dtype=float)[best.index.to_numpy()]
    return float((best.to_numpy() * modules).sum())
