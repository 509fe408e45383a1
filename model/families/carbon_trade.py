"""`carbon_trade` (rule kind): regional CO2 caps made tradable, a market between jurisdictions.

A trade r names caps C_r: `limit` rules with a `max` on co2 over one jurisdiction (`provinces:` one
province, group or region). In each period t a cap c holds in, allowances are bought and sold:
    buy[r,c,t], sell[r,c,t] ∈ [0, max_trade_t]
    limit[c,max,t]:         K_t(c) − buy[r,c,t] + sell[r,c,t] ≤ max_c,t    (the cap's row, `limit.py`)
    allowance_balance[r,t]: Σ_{c∈C_r} (buy[r,c,t] − sell[r,c,t]) = 0        (what one buys another sells)
and the transaction cost is an objective term:
    trade_cost_t = Σ_r transaction_cost_r · Σ_c buy[r,c,t]                 (money per year)
At an optimum with the buys and sells free, the shadow price of the balance row is the price at
which the market clears: π_t = −∂objective/∂(balance right-hand side) / annual_t (money per co2
unit in a year of period t; annual_t, the period's discounted years, is 1 without periods), the
carbon price at which each region, facing it alone, would emit what it does under trading
(the Lagrangian of the pooled cap). `carbon_market.csv` reports it with each cap's emissions and
its allowances; the ledger books the allowances bought (net, co2 units) to the cap's jurisdiction
(`model/transfers.py`: from the market, which keeps no account).

With periods the prices of the periods need not be unique. A move made in period t holds in every
later one, so an allowance in one period may be worth something only together with the same
allowance later: then only a discounted sum of the periods' prices is determined, and the split
reported is the one HiGHS's dual solution happens to give. Two periods (2 and 3 years, 10 %), the
pooled cap binding in both, one allowance more in both saving 4 a year: reported 0 and 6.216
(4 · (annual_1 + annual_2) / annual_2), where 4 and 4 support the same plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from model.kpis import Kpi
from model.options import BuildOptions
from model.periods import value
from model.schema import Amount, RuleBase, TimedAmount, Words
from model.tables import ResultContext
from model.transfers import Flow, Transfer, decided_key
from solvers.problem import Lin, Problem

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data

NAME = "carbon_trade"
TRANSFERS = (Transfer("allowances", "co2", "CO2 allowances bought (net) in a carbon market", follows="co2",
                      decided=True),)


class CarbonTradeRule(RuleBase):
    """The caps named may trade allowances: each may emit above its cap what others leave under theirs."""

    kind: Literal["carbon_trade"]
    caps: Words = Field(description="ids of `limit` rules with a `max` on co2 over one jurisdiction")
    transaction_cost: Amount = Field(0.0, description="money per co2 unit bought, in the objective")
    max_trade: TimedAmount | None = Field(None, description="the most allowances one cap buys or sells (co2 per year)")


RULES = (CarbonTradeRule,)


def traded(rules: list[Any]) -> dict[str, str]:
    """Cap (limit rule id) -> the trade it is part of, over enabled rules."""
    return {c: r.id for r in rules if isinstance(r, CarbonTradeRule) and r.enabled for c in r.caps}


def _caps(data: Data) -> list[tuple[CarbonTradeRule, Any]]:
    by_id = {r.id: r for r in data.rules}
    return [(r, by_id[c]) for r in data.rules_of(CarbonTradeRule) for c in r.caps if c in by_id]


def _jurisdiction(cap: Any) -> str:
    return str(cap.provinces[0])


def _holds(cap: Any, t: int, data: Data) -> bool:
    from model.families.limit import applies

    return t in applies(cap, "max", data)


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    caps = _caps(data)
    if not caps:
        return
    assert data.periods is not None
    ub = np.array([_most(r, t, data) if _holds(c, t, data) else 0.0 for t in range(data.count) for r, c in caps])
    keys = data.keys([r.id for r, _ in caps], [c.id for _, c in caps])
    problem.add_vars("allowance_buy", keys, 0.0, ub, doc="allowances bought (co2 per year)")
    problem.add_vars("allowance_sell", keys, 0.0, ub, doc="allowances sold (co2 per year)")
    trades = list(dict.fromkeys(r.id for r, _ in caps))
    buy, sell = (problem.cols(b).reshape(data.count, -1) for b in ("allowance_buy", "allowance_sell"))
    m = len(caps)
    row_of = np.array([trades.index(r.id) for r, _ in caps])
    rows = np.concatenate([t * len(trades) + row_of for t in range(data.count)] * 2)
    problem.add_rows("allowance_balance", data.keys(trades), rows, np.r_[buy.ravel(), sell.ravel()],
                     np.r_[np.ones(m * data.count), -np.ones(m * data.count)], lo=0.0, hi=0.0,
                     doc="allowances bought = allowances sold")


def _most(rule: CarbonTradeRule, t: int, data: Data) -> float:
    """The most one cap trades in period t: unbounded without `max_trade`, 0 before one given per
    period starts."""
    if rule.max_trade is None:
        return np.inf
    assert data.periods is not None
    most = value(rule.max_trade, t, data.periods)
    return 0.0 if most is None else float(most)


def net(problem: Problem, data: Data, cap: str, t: int) -> Lin:
    """buy − sell of a cap in period t (an empty expression for a cap no trade names)."""
    caps = _caps(data)
    n = next((k for k, (_, c) in enumerate(caps) if c.id == cap), None)
    if n is None or "allowance_buy" not in problem.variables:
        return Lin()
    buy, sell = (problem.cols(b).reshape(data.count, -1)[t, n] for b in ("allowance_buy", "allowance_sell"))
    return Lin(np.array([buy, sell]), np.array([1.0, -1.0]))


def _trade_cost(problem: Problem, data: Data, t: int) -> Lin:
    caps = _caps(data)
    if not caps:
        return Lin()
    cols = problem.cols("allowance_buy").reshape(data.count, -1)[t]
    return Lin(cols, np.array([r.transaction_cost for r, _ in caps], dtype=float))


def _check_cost(c: CheckContext) -> float:
    cost = {cap: r.transaction_cost for r in c.rules(CarbonTradeRule) for cap in r.caps}
    return sum(cost.get(k[1], 0.0) * max(v, 0.0) for k, v in c.plan.transfers.items() if k[0] == "allowances")


KPIS = (Kpi("trade_cost", "money", "transaction cost of allowances bought in carbon markets", weight=1.0,
            limit=False, block=_trade_cost, check_plan=_check_cost),)


def validate(rule: CarbonTradeRule, path: tuple, refs: Any) -> None:
    """Each cap is an enabled limit with a max on co2 over one jurisdiction, in one trade only."""
    from model.families.limit import LimitRule

    rules = {r.id: r for _, r in refs.parts.rules}
    if len(rule.caps) < 2:
        refs.problem((*path, "caps"), f"names {len(rule.caps)} cap", "at least two limit rule ids: a market "
                     "trades between caps")
    covered: dict[str, str] = {}  # province -> the cap of this trade that counts it
    for m, cid in enumerate(rule.caps):
        cap = rules.get(cid)
        where = (*path, "caps", m)
        if cid in rule.caps[:m]:
            refs.problem(where, f"cap {refs.describe(cid)} listed twice", "each cap once")
        elif not isinstance(cap, LimitRule):
            refs.problem(where, f"no limit rule {refs.describe(cid)}", "the id of a `limit` rule")
        elif cap.kpi != "co2" or cap.max is None or cap.per is not None:
            refs.problem(where, f"rule {cid} is not a cap on co2", "a limit with kpi: co2 and a max (not an "
                         "intensity)")
        elif cap.provinces is None or len(cap.provinces) != 1:
            refs.problem(where, f"rule {cid} does not name one jurisdiction",
                         "a limit with `provinces:` naming one province, group or region")
        elif cap.cumulative:
            refs.problem(where, f"rule {cid} is cumulative", "a cap on each period's emissions")
        elif not cap.enabled:
            refs.problem(where, f"rule {cid} is disabled", "an enabled cap")
        else:
            members = refs.provinces_of(cap.provinces[0])
            twice = sorted(q for q in members or () if q in covered)
            if twice:
                refs.problem(where, f"caps {covered[twice[0]]} and {cid} both count {', '.join(twice)}",
                             "caps over jurisdictions that share no province")
            covered.update(dict.fromkeys(members or (), cid))
            for other in rules.values():
                if isinstance(other, CarbonTradeRule) and other.id != rule.id and other.enabled and \
                        cid in other.caps and rule.enabled:
                    refs.problem(where, f"cap {cid} is in trade {other.id} too", "each cap in one trade")
                    break


def transfers(problem: Problem, data: Data, t: int) -> list[Flow]:
    out = []
    for r, c in _caps(data):
        most = _most(r, t, data)
        bound = most if np.isfinite(most) else _cap_bound(data)
        out.append(Flow("allowances", c.id, None, _jurisdiction(c), net(problem, data, c.id, t), 0.0, bound))
    return out


def _cap_bound(data: Data) -> float:
    """The most allowances a cap can need: the largest emissions of every module (a bound for any cap)."""
    from model import kpis

    return kpis.upper(data, "co2") + float(data.industry["stay_co2"].abs().mul(data.industry["modules"]).sum())


def check_transfers(c: CheckContext) -> list[tuple[str, str, str | None, str, float]]:
    return [(m, rule, None, payee, v) for (m, rule, _, payee, q), v in c.plan.transfers.items()
            if m == "allowances" and q == c.period_id]


def bought(c: CheckContext, cap: str) -> float:
    """The allowances a cap bought (net) in the checker's period, as the plan says."""
    return sum(v for (m, rule, _, _, q), v in c.plan.transfers.items()
               if m == "allowances" and rule == cap and q == c.period_id)


def check(c: CheckContext) -> list[str]:
    bad = []
    caps = traded(c.inst.rules)
    for (m, rule, _, payee, q), v in c.plan.transfers.items():
        if m == "allowances" and q == c.period_id and rule not in caps:
            bad.append(f"allowances of {rule} ({v:g} {c.unit('co2')} to {payee}): {rule} is not a cap of an "
                       "enabled carbon_trade rule")
    limits = {r.id: r for r in c.inst.rules}
    for r in c.rules(CarbonTradeRule):
        amounts = [bought(c, cap) for cap in r.caps]
        for cap, a in zip(r.caps, amounts):
            rule = limits.get(cap)
            # as the model's bounds: a cap trades only in the periods its max holds in (0 elsewhere)
            if rule is not None and abs(a) > c.tol and c.period not in c.applies(rule.max, rule.periods):
                bad.append(f"rule {r.id}: cap {cap} trades {abs(a):.6g} {c.unit('co2')}, but it does not hold in "
                           "this period (a cap trades only where its max holds)")
        if abs(sum(amounts)) > c.tol * max(1.0, sum(map(abs, amounts))):
            bad.append(f"rule {r.id}: allowances bought and sold differ by {sum(amounts):.6g} "
                       f"{c.unit('co2')}")
        most = c.value(r.max_trade) if r.max_trade is not None else None
        if r.max_trade is not None:
            most = 0.0 if most is None else most
            for cap, a in zip(r.caps, amounts):
                if abs(a) > most + c.tol * max(1.0, most):
                    bad.append(f"rule {r.id}: cap {cap} trades {abs(a):.6g} > max_trade {most:g} {c.unit('co2')}")
    return bad


def decided(problem: Problem, data: Data) -> dict[tuple[str, str, str, str, str], float]:
    """The net allowances bought by each cap in the loaded solution (`Plan.transfers`)."""
    caps = _caps(data)
    if not caps or problem.solution is None:
        return {}
    assert data.periods is not None
    out = {}
    for t in range(data.count):
        for _, c in caps:
            v = net(problem, data, c.id, t).value(problem.solution.values)
            if abs(v) > 1e-9:
                out[decided_key("allowances", c.id, None, _jurisdiction(c),
                                data.periods.ids[t] if data.phased else "")] = v
    return out


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    """carbon_market.csv: per cap (and period) the cap, allowances bought and sold, the emissions
    allowed, and the market's clearing price (money per co2 unit)."""
    data, problem = ctx.data, ctx.problem
    caps = _caps(data)
    if problem is None or problem.solution is None or not caps:
        return {}
    assert data.periods is not None
    x = problem.solution.values
    duals = problem.dual("allowance_balance")
    trades = list(dict.fromkeys(r.id for r, _ in caps))
    co2, money = data.inst.units.co2, data.inst.units.money
    # The balance holds a year's allowances of period t, whose emissions count annual_t times in the
    # objective (its years, discounted): the price of one unit in a year is the dual over that.
    annual = data.periods.annual if data.phased else np.ones(1)
    out = []
    for t in range(data.count):
        for r, c in caps:
            if not _holds(c, t, data):
                continue
            k = t * len(trades) + trades.index(r.id)
            a = net(problem, data, c.id, t).value(x)
            cap = float(value(c.max, t, data.periods))
            out.append({"trade": r.id, "cap": c.id, "jurisdiction": _jurisdiction(c),
                        **({"period": data.periods.ids[t]} if data.phased else {}),
                        "cap_amount": cap, "bought": max(a, 0.0) + 0.0, "sold": max(-a, 0.0) + 0.0, "allowed": cap + a,
                        "price": -float(duals[k]) / annual[t] if duals is not None else float("nan"),
                        "unit": co2, "price_unit": f"{money} per {co2}"})
    return {"carbon_market.csv": out}
