"""`limit` on groups (rule kind `limit`): one shape for carbon caps, basin caps, budgets, shares.

With K(G_P, G_I) a KPI over the modules of industries G_I placed at parks G_P (`model/kpis.py`):
    limit[r,max]:        K(G_P, G_I) ≤ max_r
    limit[r,min]:        K(G_P, G_I) ≥ min_r
    limit[r,min_share]:  K(G_P, G_I) − min_share_r · K(P, G_I) ≥ 0   (a share of the KPI over all parks)
With `per: J` the bound is on the intensity K/J over the same group, linearised exactly (J ≥ 0):
    limit[r,max]:        K(G_P, G_I) − max_r · J(G_P, G_I) ≤ 0      (K/J ≤ max_r; no J, no K)
    limit[r,min]:        K(G_P, G_I) − min_r · J(G_P, G_I) ≥ 0
Each row is relaxable (big: the most the KPI can reach for a max, the bound for a min, and
min_share_r times the most K(P, G_I) can reach for a share; for an intensity, the most K or
bound × J can reach). A KPI counts the modules placed:
emissions of the modules that stay at their origin are in the objective's co2, not in a limit.
With `provinces` instead of `parks`, the KPI is the provinces' own, as in the ledger
(`model.kpis.in_provinces`): the modules placed at their parks and those at their origin there,
    limit[r,sense]:      K(G) ≤ max_r   with K(G) = Σ_{p∈P_G} K[i,p]·x[i,p] + Σ_{i: origin∈G} origin_K[i]·stay[i]
and min_share against the KPI over every province (`value_added` of Jiangsu ≥ 40 % of the total).

With periods (`model/periods.py`) each row holds in a period t, with K_t the KPI's value in t (a
yearly flow, or the one-off amounts of t: a budget per period) and the bound's value in t:
    limit[r,sense,t]:    K_t(G_P, G_I) ≤ max_r,t   (and so on)
in every period, in the periods `periods` lists, or in those a bound given per period names (a
declining cap {p2027: 900, p2035: 600}). A cap in a carbon market (`carbon_trade.py`) may emit
what it buys: K_t − buy_t + sell_t ≤ max_t. `cumulative: true` bounds the total from the first period
through t instead: Σ_{τ≤t} n_τ · K_τ with n_τ the years of τ for a flow and 1 for a one-off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from model import kpis
from model.families import carbon_trade
from model.jurisdictions import expand
from model.options import BuildOptions
from model.periods import ByPeriod, named, periods_of, value
from model.schema import Flag, IndustryRef, ParkRef, RuleBase, TimedAmount, TimedShare, Words
from model.selectors import industries_of, parks_of
from model.tables import ResultContext, limit_row
from solvers.problem import Lin, Problem, keys_of, total

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "limit"
RELAX = {"limit": 1.0}
SENSES = ("max", "min", "min_share")


class LimitRule(RuleBase):
    """Σ of a KPI over the modules placed at `parks` (all if absent) of `industries` (all if absent)."""

    kind: Literal["limit"]
    kpi: str = Field(description="a KPI name or a resource id")
    parks: ParkRef | None = None
    industries: IndustryRef | None = None
    max: TimedAmount | None = None
    min: TimedAmount | None = None
    min_share: TimedShare | None = Field(None, description="≥ share × the KPI over all parks")
    periods: Words | None = Field(None, description="the periods the rule holds in (all if absent)")
    provinces: Words | None = Field(None, description="the KPI of these provinces instead of `parks`: modules "
                                                      "placed at their parks and modules at their origin there; "
                                                      "a group of provinces or a region stands for its provinces")
    cumulative: Flag = Field(False, description="bound the total from the first period through each period "
                                                "(years × the yearly value of a flow), not each period's value")
    per: str | None = Field(None, description="bound the intensity: the KPI per unit of this KPI (energy per "
                                              "value added), over the same parks or provinces and industries")

    @model_validator(mode="after")
    def _bound(self) -> LimitRule:
        if self.max is None and self.min is None and self.min_share is None:
            raise ValueError("has no bound; give max, min or min_share")
        return self


RULES = (LimitRule,)


def validate(rule: LimitRule, path: tuple, refs: Any) -> None:
    """The KPI is known, a park-level KPI names no industries, min ≤ max, periods known."""
    if rule.kpi in kpis.RENAMED:
        refs.problem((*path, "kpi"), f"the KPI {rule.kpi} is now called {kpis.RENAMED[rule.kpi]}",
                     f"kpi: {kpis.RENAMED[rule.kpi]}")
    elif rule.kpi in kpis.registry() and rule.kpi not in kpis.limit_kpis():
        refs.problem((*path, "kpi"), f"{rule.kpi} cannot be bounded by a limit",
                     "one of: " + ", ".join(kpis.limit_kpis()) + ", or a resource")
    elif refs.resources is not None and rule.kpi not in kpis.limit_kpis() and rule.kpi not in refs.resources:
        refs.problem((*path, "kpi"), f"unknown KPI {refs.describe(rule.kpi)}",
                     "one of: " + ", ".join(kpis.limit_kpis()) + f", or a resource ({', '.join(refs.resources)})")
    elif kpis.park_level(rule.kpi) and rule.industries is not None:
        refs.problem((*path, "industries"), f"{rule.kpi} belongs to parks, not industries",
                     "no `industries` on a limit of " + rule.kpi)
    if rule.per is not None:
        if rule.per not in kpis.limit_kpis() and (refs.resources is None or rule.per not in refs.resources):
            refs.problem((*path, "per"), f"unknown KPI {refs.describe(rule.per)}",
                         "one of: " + ", ".join(kpis.limit_kpis()) + ", or a resource")
        if rule.min_share is not None:
            refs.problem((*path, "per"), "given with min_share", "an intensity bound by `max` or `min`")
        elif kpis.park_level(rule.per) and rule.industries is not None:
            refs.problem((*path, "per"), f"{rule.per} belongs to parks, not industries", "no `industries` with it")
    periods = refs.timeline()
    if rule.max is not None and rule.min is not None and periods is not None:
        for t in range(periods.count):  # in each period where both hold
            low, high = value(rule.min, t, periods), value(rule.max, t, periods)
            if low is not None and high is not None and low > high:
                when = f" in period {periods.ids[t]}" if periods.phased else ""
                refs.problem((*path, "min"), f"min {low:g} exceeds max {high:g}{when}", "min ≤ max")
                break
    refs.check_periods((*path, "periods"), rule.periods)
    if rule.provinces is not None:
        if rule.parks is not None:
            refs.problem((*path, "provinces"), "given with `parks`", "either `parks` or `provinces`, not both")
        refs.check_provinces((*path, "provinces"), rule.provinces)
    if rule.cumulative and periods is not None and not periods.phased:
        refs.problem((*path, "cumulative"), "is given, but the instance has no `periods`",
                     "`periods: [{id: .., years: ..}, ...]` at the top level, or no `cumulative`")
    if rule.periods is not None and any(isinstance(getattr(rule, s), ByPeriod) for s in SENSES):
        refs.problem((*path, "periods"), "given with a bound per period",
                     "either `periods` or bounds given per period, not both")


def applies(rule: Any, sense: str, data: Data) -> list[int]:
    """The periods in which a rule's bound holds (see the module's docstring)."""
    assert data.periods is not None
    ts = named(getattr(rule, sense), data.periods)
    if ts is not None:
        return ts
    if rule.periods is not None and data.phased:
        return [data.periods.index(q) for q in rule.periods]
    return list(range(data.count))


def _value(problem: Problem, data: Data, rule: LimitRule, t: int, parks: Any, kpi: str | None = None) -> Lin:
    """K_t(parks, G_I), or its total through t for a cumulative rule; with `provinces`, the
    provinces' KPI (parks: "all" for every province); `kpi` another KPI over the same group (`per`)."""
    name = kpi or rule.kpi

    def one(tau: int) -> Lin:
        if rule.provinces is None:
            return kpis.expression(problem, data, name, parks, rule.industries, tau)
        chosen = _all_provinces(data) if parks == "all" else expand(rule.provinces, data.inst)
        return kpis.in_provinces(problem, data, name, chosen, rule.industries, tau)

    if not rule.cumulative:
        return one(t)
    assert data.periods is not None
    scale = np.ones(data.count) if kpis.once(name) else data.periods.years
    return total(one(tau) * float(scale[tau]) for tau in range(t + 1))


def _all_provinces(data: Data) -> list[str]:
    return list(dict.fromkeys([*data.industry["origin"], *data.park["province"]]))


def _upper(data: Data, rule: LimitRule, parks: Any, kpi: str | None = None) -> float:
    """A bound on the KPI (or `kpi`) in a period; with `provinces`, the modules at their origin too."""
    name = kpi or rule.kpi
    bound = kpis.upper(data, name, None if rule.provinces is not None else parks, rule.industries)
    k = kpis.registry().get(name)
    own = (k.origin or k.stay) if k is not None else None
    if rule.provinces is not None and own is not None:
        modules = data.industry["modules"].to_numpy(dtype=float)
        bound += max(float((abs(own(view)) * modules).sum()) for view in (data.views or [data]))
    return bound


def _rows(problem: Problem, data: Data) -> list[tuple[LimitRule, str, int, Lin, float, float]]:
    """(rule, sense, period, expression, bound, big) of every row; the expression is
    K(G_P,G_I) − share·K(P,G_I) for a min_share row (bound 0)."""
    assert data.periods is not None
    out = []
    for r in data.rules_of(LimitRule):
        reach = data.periods.years.sum() if r.cumulative and not kpis.once(r.kpi) else float(data.count)
        reach = reach if r.cumulative else 1.0
        for sense in SENSES:
            if getattr(r, sense) is None:
                continue
            for t in applies(r, sense, data):
                bound = float(value(getattr(r, sense), t, data.periods))
                here = _value(problem, data, r, t, r.parks)
                if r.per is not None:  # an intensity: K − bound · J against 0
                    per = _value(problem, data, r, t, r.parks, r.per)
                    big = reach * max(_upper(data, r, r.parks), bound * _upper(data, r, r.parks, r.per))
                    out.append((r, sense, t, here - per * bound, 0.0, big))
                    continue
                if sense == "max":  # a cap in a carbon market may emit what it buys (`carbon_trade.py`)
                    here = here - carbon_trade.net(problem, data, r.id, t)
                    out.append((r, sense, t, here, bound, reach * _upper(data, r, r.parks)))
                elif sense == "min":
                    out.append((r, sense, t, here, bound, bound))
                else:
                    everywhere = _value(problem, data, r, t, None if r.provinces is None else "all")
                    out.append((r, sense, t, here - everywhere * bound, 0.0, bound * reach * _upper(data, r, None)))
    return out


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    rows = _rows(problem, data)
    ids = data.periods.ids if data.periods is not None else ("",)
    keys = [[r.id for r, *_ in rows], [s for _, s, *_ in rows]]
    if data.phased:
        keys.append([ids[t] for _, _, t, *_ in rows])
    problem.add_lin_rows(
        "limit", keys_of(*keys), [e for _, _, _, e, _, _ in rows],
        lo=[b if s != "max" else -float("inf") for _, s, _, _, b, _ in rows],
        hi=[b if s == "max" else float("inf") for _, s, _, _, b, _ in rows],
        doc="KPI over a group within its bound", relax="limit", big=[g for *_, g in rows])


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(LimitRule):
        ps, iis = set(parks_of(c.inst, r.parks)), set(industries_of(c.inst, r.industries))
        unit = c.unit(r.kpi)
        where = set(expand(r.provinces, c.inst)) if r.provinces is not None else None
        everywhere = None if where is None else \
            {a.origin for a in c.ind.values()} | {b.province for b in c.park.values()}
        for sense in SENSES:
            bound = getattr(r, sense)
            if bound is None or c.period not in c.applies(bound, r.periods):
                continue
            traded = sense == "max" and r.id in carbon_trade.traded(c.inst.rules)
            bound = c.value(bound) + (carbon_trade.bought(c, r.id) if traded else 0.0)
            value = c.over_time(r.kpi, ps, iis, r.cumulative, where)
            if r.per is not None:  # an intensity: K ≤ bound · J (or ≥)
                per = c.over_time(r.per, ps, iis, r.cumulative, where)
                ratio = value / per if abs(per) > 1e-12 else 0.0
                short = value - bound * per if sense == "max" else bound * per - value
                if short > c.tol * max(1.0, abs(value), abs(bound * per)):
                    word = "above" if sense == "max" else "below"
                    bad.append(f"rule {r.id}: {r.kpi} per {r.per} {ratio:.6g} {word} {sense} {bound:g} "
                               f"({r.kpi} {value:.6g}, {r.per} {per:.6g})")
                continue
            if sense == "max" and value > bound + c.tol * max(1.0, abs(bound)):
                bad.append(f"rule {r.id}: {r.kpi} {value:.6g} > max {bound:g} {unit} "
                           f"(over by {abs(value - bound):.6g})")
            if sense == "min" and value < bound - c.tol * max(1.0, abs(bound)):
                bad.append(f"rule {r.id}: {r.kpi} {value:.6g} < min {bound:g} {unit} "
                           f"(short by {abs(value - bound):.6g})")
            if sense == "min_share":
                whole = c.over_time(r.kpi, set(c.park), iis, r.cumulative, everywhere)
                if value < bound * whole - c.tol * max(1.0, abs(whole)):
                    bad.append(f"rule {r.id}: {r.kpi} {value:.6g} < {bound:g} × {whole:.6g} {unit} "
                               f"(short by {abs(value - bound * whole):.6g})")
    return bad


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    """One row per row of the model: the KPI's value, the bound (share × total for a min_share
    row), slack, and the shadow price in money per unit of the KPI; with periods, the period."""
    data, problem = ctx.data, ctx.problem
    if problem is None or problem.solution is None:
        return {}
    assert data.periods is not None
    x = problem.solution.values
    prices = ctx.prices("limit")
    money = data.inst.units.money
    out = []
    for r in data.rules_of(LimitRule):
        for sense in SENSES:
            if getattr(r, sense) is None:
                continue
            for t in applies(r, sense, data):
                bound = float(value(getattr(r, sense), t, data.periods))
                here = _value(problem, data, r, t, r.parks).value(x)
                per = None
                if r.per is not None:  # the intensity K/J against its bound
                    per = _value(problem, data, r, t, r.parks, r.per).value(x)
                    raw, here = here, here / per if abs(per) > 1e-12 else 0.0
                elif sense == "max":  # the cap plus the allowances it bought
                    bound += carbon_trade.net(problem, data, r.id, t).value(x)
                if sense == "min_share":
                    bound = bound * _value(problem, data, r, t, None if r.provinces is None else "all").value(x)
                slack = bound - here if sense == "max" else here - bound
                if per is not None and abs(per) <= 1e-12:  # nothing to divide by: the row K − bound·J itself
                    slack = -raw if sense == "max" else raw
                key = (r.id, sense, data.periods.ids[t]) if data.phased else (r.id, sense)
                name = f"{r.kpi} per {r.per}" if r.per is not None else r.kpi
                row = limit_row(r, name, sense, float(bound), here, slack, prices.get(key, float("nan")),
                                f"{money} per {kpis.unit(data.inst, r.kpi)}", "limit", ",".join(key),
                                kpis.unit(data.inst, r.kpi) + (f" per {kpis.unit(data.inst, r.per)}" if r.per else ""))
                if data.phased:
                    row["period"] = data.periods.ids[t]
                out.append(row)
    return {"limits.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    rid, sense = label[:2]
    rule = next(r for r in inst.rules if r.id == rid)
    bound, a, unit = getattr(rule, sense), f"{amount:.6g}", kpis.unit(inst, rule.kpi)
    if len(label) == 3:
        periods = periods_of(inst)
        bound = value(bound, periods.index(label[2]), periods)
        unit += f" in total from the first period through {label[2]}" if rule.cumulative else f" in period {label[2]}"
    if rule.per is not None:
        return (f"rule {rid} ({rule.kpi} per {rule.per} {sense} {bound:g}): let {rule.kpi} be {a} {unit} "
                f"{'above' if sense == 'max' else 'below'} {bound:g} × {rule.per}")
    if sense == "max":
        return f"rule {rid} ({rule.kpi} max {bound:g}): exceed by {a} {unit}"
    if sense == "min":
        return f"rule {rid} ({rule.kpi} min {bound:g}): fall short by {a} {unit}"
    return f"rule {rid} ({rule.kpi} min_share {bound:g}): fall short by {a} {unit}"
