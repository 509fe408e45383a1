"""`eco_compensation` (rule kind): horizontal ecological compensation between jurisdictions.

Payers (downstream beneficiaries) pay payees (upstream hosts) for a resource or pollutant quota k of
the basin parks G (default: the payees' parks). In period t the basis is
    unused:  B_t = Q_t − Σ_{p∈G} Σ_i use[i,p,k] · Σ_{τ≤t} x[i,p,τ]     (quota left unused)
    used:    B_t = Σ_{p∈G} Σ_i use[i,p,k] · Σ_{τ≤t} x[i,p,τ]           (quota used)
    Q_t = Σ_{p∈G} cap_t[p,k] + Σ_{u∈U_G: ready[u,t]≥0} adds[u,k] · w[p,u,ready[u,t]]
(the quota: the parks' own capacities, open or not, and what the upgrades whose capacity is there
add, as in `capacity.py`, so that the use never exceeds it and B_t ≥ 0), and the payment is
    A_t = rate_t · B_t                                   without a budget
    A_t = min(rate_t · B_t, budget_t)                     with one, exactly, by one binary z[r,t]:
        eco_payment_is[r,t]:  a ≤ rate·B,  a ≤ budget,  a ≥ budget·z,  a ≥ rate·B − M·z
with M = rate_t · max B_t (z = 1: the budget binds, a = budget; z = 0: a = rate·B ≤ budget), in the
periods the budget is given for (a rate or budget given per period from a later period on: no
payment before the rate starts, no cap before the budget does).
Payer j pays the share σ_j of A_t and payee k receives σ_k of it: the flow j → k is σ_j·σ_k·A_t
(`model/transfers.py`, measure `eco_compensation`, money per year). A payment is no cost to the
plan as a whole (it sums to zero), so it moves the plan only through participation rules. The
status quo's payment is the same formula with nothing placed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field

from model import kpis
from model.options import BuildOptions
from model.periods import value
from model.schema import Id, ParkRef, ParkSelector, RuleBase, Share, TimedAmount
from model.transfers import Flow, Transfer
from solvers.problem import Lin, Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data

NAME = "eco_compensation"
TRANSFERS = (Transfer("eco_compensation", "money", "payments of horizontal ecological compensation"),)


def _shares(value: Any) -> Any:
    """A list of names (equal shares) or name -> share."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        twice = sorted({str(v) for v in value if value.count(v) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} twice; each once (a mapping name: share gives shares)")
        return {str(v): 1.0 / len(value) for v in value} if value else {}
    return value


Shares = Annotated[dict[str, Share], BeforeValidator(_shares)]


class EcoCompensationRule(RuleBase):
    """Payers pay payees for the quota of a resource left unused (or used) in the basin parks."""

    kind: Literal["eco_compensation"]
    payers: Shares = Field(description="jurisdictions that pay: a list (equal shares) or name: share")
    payees: Shares = Field(description="jurisdictions paid: a list (equal shares) or name: share")
    resource: Id = Field(description="the resource or pollutant quota the payment is for")
    parks: ParkRef | None = Field(None, description="the basin parks (default: every park of the payees)")
    basis: Literal["unused", "used"] = Field(description="pay per unit of quota left unused, or per unit used")
    rate: TimedAmount = Field(description="money per unit of the basis (per year)")
    budget: TimedAmount | None = Field(None, description="at most this much money a year")


RULES = (EcoCompensationRule,)


def validate(rule: EcoCompensationRule, path: tuple, refs: Any) -> None:
    """Known resource and jurisdictions, shares summing to 1, no one on both sides."""
    if refs.resources is not None and rule.resource not in refs.resources:
        refs.problem((*path, "resource"), f"unknown resource {refs.describe(rule.resource)}",
                     "one of: " + ", ".join(refs.resources))
    for side in ("payers", "payees"):
        names = getattr(rule, side)
        refs.check_provinces((*path, side), list(names), words=False)
        if names and abs(sum(names.values()) - 1.0) > 1e-9:
            refs.problem((*path, side), f"shares sum to {sum(names.values()):g}", "shares summing to 1")
    if rule.parks is None and refs.provinces is not None and not any(
            p.province in rule.payees for _, p in refs.parts.parks):
        refs.problem((*path, "payees"), "no park is in the payees' provinces",
                     "`parks:` naming the basin parks the payment is for")
    both = set(rule.payers) & set(rule.payees)
    if both:
        refs.problem((*path, "payees"), f"{', '.join(sorted(both))} both pays and is paid", "payers and payees apart")


def _parks(rule: EcoCompensationRule, data: Data) -> list[str]:
    if rule.parks is not None:
        return data.park_set(rule.parks)
    return data.park_set(ParkSelector(province=list(rule.payees)))


def _basis(problem: Problem, data: Data, rule: EcoCompensationRule, t: int) -> tuple[Lin, float, float]:
    """B_t, its status-quo value (no upgrade built) and its largest value."""
    parks = _parks(rule, data)
    view = data.at(t)
    k = data.resources.index(rule.resource)
    cap = float(view.capacity[np.isin(data.parks, parks), k].sum())
    quota, most_quota = Lin(const=cap), cap
    if len(data.upgrades):
        assert data.ready is not None
        w = problem.cols("w").reshape(data.count, -1)
        ups = np.flatnonzero(data.upgrades["park"].isin(parks).to_numpy() & (data.adds[:, k] > 0)
                             & (data.ready[:, t] >= 0))
        quota = quota + Lin(w[data.ready[ups, t], ups], data.adds[ups, k])
        most_quota += float(data.adds[ups, k].sum())
    if not parks:
        return Lin(), 0.0, 0.0
    used = kpis.expression(problem, data, rule.resource, ParkSelector(ids=parks), None, t)
    if rule.basis == "unused":
        return quota - used, cap, most_quota
    return used, 0.0, min(kpis.upper(view, rule.resource, ParkSelector(ids=parks)), most_quota)


def _terms(rule: EcoCompensationRule, t: int, data: Data) -> tuple[float, float | None]:
    """The rate and the budget in period t (rate 0 before it starts, budget None where none holds)."""
    assert data.periods is not None
    rate = value(rule.rate, t, data.periods)
    budget = value(rule.budget, t, data.periods) if rule.budget is not None else None
    return (0.0 if rate is None else float(rate)), (None if budget is None else float(budget))


def _capped(data: Data) -> list[tuple[EcoCompensationRule, int]]:
    """(rule, period) where a budget caps the payment."""
    return [(r, t) for r in data.rules_of(EcoCompensationRule) for t in range(data.count)
            if _terms(r, t, data)[1] is not None]


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    """The payment variable and its rows where a budget caps it (elsewhere the payment is an expression)."""
    assert data.periods is not None
    capped = _capped(data)
    if not capped:
        return
    ids = [r.id for r, _ in capped]
    keys = keys_of(ids, [data.periods.ids[t] for _, t in capped]) if data.phased else keys_of(ids)
    problem.add_vars("eco_payment", keys, 0.0, np.inf, doc="eco-compensation paid (money per year)")
    problem.add_vars("eco_budget_binds", keys, 0.0, 1.0, integer=True, doc="the budget caps the payment")
    a, z = problem.cols("eco_payment"), problem.cols("eco_budget_binds")
    lins, lo, hi, names = [], [], [], []
    for n, (r, t) in enumerate(capped):
        basis, _, most = _basis(problem, data, r, t)
        rate, budget = _terms(r, t, data)
        assert budget is not None
        pay, binds = Lin(np.array([a[n]]), np.ones(1)), Lin(np.array([z[n]]), np.ones(1))
        due = basis * rate
        for name, lin, low, high in (("rate", pay - due, -np.inf, 0.0), ("budget", pay, -np.inf, budget),
                                     ("budget_binds", pay - binds * budget, 0.0, np.inf),
                                     ("rate_binds", pay - due + binds * (rate * most), 0.0, np.inf)):
            lins.append(lin)
            lo.append(low)
            hi.append(high)
            names.append((r.id, name, *((data.periods.ids[t],) if data.phased else ())))
    problem.add_lin_rows("eco_payment_is", keys_of(*zip(*names)), lins, lo=lo, hi=hi,
                         doc="payment = min(rate × basis, budget)")


def payment(problem: Problem, data: Data, rule: EcoCompensationRule, t: int) -> tuple[Lin, float, float]:
    """A_t, its status-quo value and its largest value."""
    assert data.periods is not None
    basis, quo, most = _basis(problem, data, rule, t)
    rate, budget = _terms(rule, t, data)
    if budget is None:
        return basis * rate, rate * quo, rate * most
    key = (rule.id, data.periods.ids[t]) if data.phased else (rule.id,)
    col = problem.var("eco_payment").col(*key)
    return Lin(np.array([col]), np.ones(1)), min(rate * quo, budget), min(rate * most, budget)


def transfers(problem: Problem, data: Data, t: int) -> list[Flow]:
    out = []
    for r in data.rules_of(EcoCompensationRule):
        amount, quo, most = payment(problem, data, r, t)
        for j, sj in r.payers.items():
            for k, sk in r.payees.items():
                out.append(Flow("eco_compensation", r.id, j, k, amount * (sj * sk), quo * sj * sk, most * sj * sk))
    return out


def check_transfers(c: CheckContext) -> list[tuple[str, str, str | None, str, float]]:
    out = []
    for r in c.rules(EcoCompensationRule):
        if r.parks is not None:
            from model.selectors import parks_of

            parks = set(parks_of(c.inst, r.parks))
        else:
            parks = {p for p, b in c.park.items() if b.province in r.payees}
        used = sum(c.use(i, p, r.resource) * v for (i, p), v in c.plan.x.items() if p in parks)
        cap = sum(c.park[p].capacity.get(r.resource, 0.0) for p in parks)
        cap += sum(u.adds.get(r.resource, 0.0) for p in parks for u in c.park[p].upgrades if (p, u.id) in c.ready)
        basis = cap - used if r.basis == "unused" else used
        rate = c.value(r.rate)
        amount = (rate or 0.0) * basis
        budget = c.value(r.budget) if r.budget is not None else None
        if budget is not None:
            amount = min(amount, budget)
        out += [("eco_compensation", r.id, j, k, amount * sj * sk) for j, sj in r.payers.items()
                for k, sk in r.payees.items()]
    return out
