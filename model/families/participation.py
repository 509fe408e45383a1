"""`participation` (rule kind): no province worse off than under the status quo, with side payments.

A province P's net benefit in period t is a weighted sum of its ledger (`model/ledger.py`): the
KPIs of what runs in P (`model.kpis.in_provinces`, the modules at P's parks and those at their
origin in P) and the transfers it receives less those it pays (`model/transfers.py`),
    NB_t(P) = Σ_m w_m · K_m,t(P)  +  Σ_{flows f → P} w_f · a_f  −  Σ_{flows P → f} w_f · a_f
with the rule's `weights` w (default value_added: 1). Every term is a yearly amount: a one-off
amount of period t (a KPI or transfer that is `once`: relocation_cost, open_cost, an enclave's
investment) enters as the yearly amount over the period with the same present value,
    a · once_t / annual_t          (`model/periods.py`; 1 without periods; undiscounted a / years_t,
                                    and a / (years_T + terminal_years) in the last period T)
so that the yearly side payments that make up for it do not grow with the period's length (they
counted a one-off 3.9 as 3.9 a year: over a 5-year period 19.5 paid back for 3.9).
A transfer takes the weight of the measure it `follows` (an enclave's share of value added that
of value_added), money received weighs 1 and allowances 0 unless the weights say otherwise (what
allowances are worth is the market's price, which the model finds, not a weight it can be
given). The status quo NB⁰_t(P) is the same with every module at its origin (and each transfer
at its status-quo amount). For each province P the rule names (a word
may be a group of provinces or a region) and each period t it holds in:
    participation[r,P,t]:  NB_t(P) − NB⁰_t(P) ≥ min_change_t     (default 0: no worse off)
                     or:   NB_t(P) ≥ min_t                      (a stated minimum)
relaxable (the diagnosis then says which province falls short, and by how much).
Side payments, when the rule allows them, are decisions of the model:
    pay[r,j,P,t] ∈ [0, max_t]    from each payer j (default: every province) to each P ≠ j
a flow j → P of measure `side_payment`, costing `cost` per unit paid: the objective term
    side_payment_cost_t = Σ_r cost_r · Σ_{j,P} pay[r,j,P,t]       (money per year)
so that the model pays what makes the plan acceptable, and no more than it must.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from model import kpis
from model.families.limit import applies
from model.jurisdictions import expand, provinces
from model.kpis import Kpi
from model.options import BuildOptions
from model.periods import ByPeriod, value
from model.plan import Plan
from model.schema import Amount, Money, RuleBase, Strict, TimedAmount, TimedMoney, Words
from model.tables import ResultContext
from model.transfers import Flow, Transfer, check_flows, decided_key, flows, measures
from solvers.problem import Lin, Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.periods import Periods
    from model.schema import Instance

NAME = "participation"
RELAX = {"participation": 1.0}
TRANSFERS = (Transfer("side_payment", "money", "payments between provinces that make a plan acceptable",
                      decided=True),)
DEFAULT_WEIGHTS = {"value_added": 1.0}


class SidePayments(Strict):
    max: TimedAmount = Field(description="the most one payer pays one province (money per year)")
    cost: Amount = Field(0.0, description="transaction cost per unit of money paid (0.02 = 2 %), in the objective")
    payers: Words | None = Field(None, description="who may pay (default: every province; a group of provinces "
                                                   "or a region stands for its provinces)")


class ParticipationRule(RuleBase):
    """Each named province's net benefit at least its status quo's (or a stated minimum)."""

    kind: Literal["participation"]
    provinces: Words = Field(description="the provinces that must not be worse off (a group or region stands "
                                         "for its provinces)")
    weights: dict[str, Money] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS),
                                      description="ledger measure -> weight in the net benefit")
    min_change: TimedMoney | None = Field(None, description="net benefit at least the status quo's + this "
                                                            "(default 0)")
    min: TimedMoney | None = Field(None, description="net benefit at least this, instead of the status quo's")
    periods: Words | None = Field(None, description="the periods it holds in (all if absent)")
    side_payments: SidePayments | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> ParticipationRule:
        if self.min_change is not None and self.min is not None:
            raise ValueError("give either `min_change` or `min`, not both")
        return self

    @property
    def sense(self) -> str:
        return "min" if self.min is not None else "min_change"


RULES = (ParticipationRule,)


def _payment_cost(problem: Problem, data: Data, t: int) -> Lin:
    if "pay" not in problem.variables:
        return Lin()
    cols = problem.cols("pay").reshape(data.count, -1)[t]
    return Lin(cols, _costs(data))


def _costs(data: Data) -> np.ndarray:
    return np.array([r.side_payments.cost for r, _, _ in _payments(data)], dtype=float)


def _check_cost(c: CheckContext) -> float:
    cost = {r.id: r.side_payments.cost for r in c.rules(ParticipationRule) if r.side_payments is not None}
    return sum(cost.get(k[1], 0.0) * v for k, v in c.plan.transfers.items() if k[0] == "side_payment")


KPIS = (Kpi("side_payment_cost", "money", "transaction cost of side payments (cost × amount paid)", weight=1.0,
            limit=False, block=_payment_cost, check_plan=_check_cost),)


def validate(rule: ParticipationRule, path: tuple, refs: Any) -> None:
    """Known provinces and payers, weights on ledger measures, periods known."""
    refs.check_provinces((*path, "provinces"), rule.provinces)
    if rule.side_payments is not None:
        refs.check_provinces((*path, "side_payments", "payers"), rule.side_payments.payers)
    known = [k.name for k in kpis.registry().values() if k.block is None] + [*measures(), *(refs.resources or [])]
    for m in rule.weights:
        if m in kpis.registry() and m not in known:
            refs.problem((*path, "weights", m), f"{m} is a cost of the whole plan, not of a province",
                         "a measure of the ledger: " + ", ".join(known))
        elif m not in known:
            refs.problem((*path, "weights", m), f"unknown ledger measure {refs.describe(m)}",
                         "one of: " + ", ".join(known))
    refs.check_periods((*path, "periods"), rule.periods)
    if rule.periods is not None and any(isinstance(b, ByPeriod) for b in (rule.min, rule.min_change)):
        # A bound per period names its periods already: the rule held only in those, `periods` unread.
        refs.problem((*path, "periods"), "given with a bound per period",
                     "either `periods` or bounds given per period, not both")


def _payments(data: Data) -> list[tuple[ParticipationRule, str, str]]:
    """(rule, payer, payee) of every side payment the rules allow."""
    out = []
    everyone = provinces(data.inst)
    for r in data.rules_of(ParticipationRule):
        if r.side_payments is None:
            continue
        payers = expand(r.side_payments.payers, data.inst) if r.side_payments.payers is not None else everyone
        out += [(r, j, q) for q in expand(r.provinces, data.inst) for j in payers if j != q]
    return out


def _holds(rule: ParticipationRule, data: Data) -> list[int]:
    """The periods it holds in: those its bound names, else those it lists, else all (a rule
    without a bound of its own, min_change 0, names none)."""
    return applies(rule, rule.sense, data)


def weight(rule: ParticipationRule, measure: str) -> float:
    """The weight of a ledger or transfer measure in the rule's net benefit."""
    if measure in rule.weights:
        return float(rule.weights[measure])
    t = measures().get(measure)
    if t is None:
        return 0.0
    if t.follows is not None:
        return float(rule.weights.get(t.follows, 0.0))
    return 1.0 if t.unit == "money" else 0.0  # money received counts as such; other units only if weighed


def yearly(periods: Periods, t: int, once: bool) -> float:
    """What one unit of an amount of period t counts for a year in a net benefit: 1 for a yearly
    amount, once_t / annual_t for a one-off (the yearly amount of the same present value)."""
    return float(periods.once[t] / periods.annual[t]) if once else 1.0


def _status_quo(problem: Problem, data: Data) -> np.ndarray:
    """The columns' values with every module at its origin and nothing else decided."""
    x0 = np.zeros(problem.n_cols)
    x0[problem.cols("stay")] = data.industry["modules"].to_numpy(dtype=float)
    return x0


def net_benefit(problem: Problem, data: Data, rule: ParticipationRule, province: str, t: int,
                found: list[Flow], x0: np.ndarray) -> tuple[Lin, float, float]:
    """NB_t(P) as an expression, NB⁰_t(P), and a bound on |NB_t(P)| (the diagnosis's big-M)."""
    assert data.periods is not None
    out, quo, big = Lin(), 0.0, 0.0
    for m, w in rule.weights.items():
        if w == 0 or m in measures():
            continue
        w *= yearly(data.periods, t, kpis.once(m))
        lin = kpis.in_provinces(problem, data, m, [province], None, t)
        out = out + lin * w
        quo += w * lin.value(x0)
        big += abs(w) * (kpis.upper(data, m) + float(np.abs(lin.vals).sum()) + abs(lin.const))
    kinds = measures()
    for f in found:
        sign = 1.0 if f.payee == province else -1.0 if f.payer == province else 0.0
        w = weight(rule, f.measure) * sign * yearly(data.periods, t, kinds[f.measure].once)
        if w:
            out = out + f.amount * w
            quo += w * f.status_quo
            big += abs(w) * f.upper
    return out, quo, big


def transfers(problem: Problem, data: Data, t: int) -> list[Flow]:
    if "pay" not in problem.variables:
        return []
    assert data.periods is not None
    cols = problem.cols("pay").reshape(data.count, -1)[t]
    return [Flow("side_payment", r.id, j, q, Lin(np.array([c]), np.ones(1)), 0.0, _most(r, t, data))
            for c, (r, j, q) in zip(cols, _payments(data))]


def _most(rule: ParticipationRule, t: int, data: Data) -> float:
    """The most one payment of the rule may be in period t (0 before a bound given per period starts)."""
    assert data.periods is not None and rule.side_payments is not None
    most = value(rule.side_payments.max, t, data.periods)
    return 0.0 if most is None else float(most)


def check_transfers(c: CheckContext) -> list[tuple[str, str, str | None, str, float]]:
    return [(m, rule, payer or None, payee, v) for (m, rule, payer, payee, q), v in c.plan.transfers.items()
            if m == "side_payment" and q == c.period_id]


def _rows(problem: Problem, data: Data) -> list[tuple[ParticipationRule, str, int, Lin, float, float]]:
    """(rule, province, period, NB_t(P), its lower bound, big) of every row."""
    assert data.periods is not None
    x0 = _status_quo(problem, data)
    out = []
    found = {t: flows(problem, data, t) for t in range(data.count)}
    for r in data.rules_of(ParticipationRule):
        for t in _holds(r, data):
            for q in expand(r.provinces, data.inst):
                lin, quo, big = net_benefit(problem, data, r, q, t, found[t], x0)
                if r.min is not None:
                    low = float(value(r.min, t, data.periods))
                else:
                    low = quo + (float(value(r.min_change, t, data.periods)) if r.min_change is not None else 0.0)
                out.append((r, q, t, lin, low, big + abs(low)))
    return out


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    assert data.periods is not None
    pays = _payments(data)
    if pays:
        ub = np.concatenate([[_most(r, t, data) for r, _, _ in pays] for t in range(data.count)])
        problem.add_vars("pay", data.keys([r.id for r, _, _ in pays], [j for _, j, _ in pays],
                                          [q for *_, q in pays]), 0.0, ub, doc="side payment (money per year)")
    rows = _rows(problem, data)
    if not rows:
        return
    keys = [[r.id for r, *_ in rows], [q for _, q, *_ in rows]]
    if data.phased:
        keys.append([data.periods.ids[t] for _, _, t, *_ in rows])
    problem.add_lin_rows("participation", keys_of(*keys), [lin for *_, lin, _, _ in rows],
                         lo=[low for *_, low, _ in rows], doc="no province worse off than under the status quo",
                         relax="participation", big=[big for *_, big in rows])


def _check_payments(c: CheckContext) -> list[str]:
    """Each side payment of the plan is one a rule allows: its payer, its payee, within [0, max]."""
    bad = []
    allowed = {r.id: r for r in c.rules(ParticipationRule) if r.side_payments is not None}
    money = c.inst.units.money
    for (m, rid, payer, payee, q), v in c.plan.transfers.items():
        if m != "side_payment" or q != c.period_id:
            continue
        what = f"side payment {payer} → {payee} ({v:g} {money})"
        r = allowed.get(rid)
        if r is None:
            bad.append(f"{what}: no enabled participation rule {rid} with side_payments")
            continue
        assert r.side_payments is not None
        payers = expand(r.side_payments.payers, c.inst) if r.side_payments.payers is not None else \
            provinces(c.inst)
        most = c.value(r.side_payments.max)
        most = 0.0 if most is None else most
        if payer not in payers:
            bad.append(f"rule {rid}: {what}: {payer} may not pay")
        if payee not in expand(r.provinces, c.inst) or payee == payer:
            bad.append(f"rule {rid}: {what}: {payee} is not paid under the rule")
        if v < -c.tol or v > most + c.tol * max(1.0, most):
            bad.append(f"rule {rid}: {what}: outside 0..{most:g}")
    return bad


def check(c: CheckContext) -> list[str]:
    bad = _check_payments(c)
    rules = c.rules(ParticipationRule)
    if not rules:
        return bad
    from model.check import CheckContext as Context

    quo_ctx = Context(c.inst, Plan(stay={i: float(a.modules) for i, a in c.ind.items()},
                                   open=dict.fromkeys(c.park, 0)), c.period, c.periods, [], set())
    now, before = check_flows(c), check_flows(quo_ctx)
    for r in rules:
        money = unit(r, c.inst)
        bound = r.min if r.min is not None else r.min_change
        if c.period not in c.applies(bound, r.periods):
            continue
        for q in expand(r.provinces, c.inst):
            plan, quo = (_check_nb(ctx, r, q, fl) for ctx, fl in ((c, now), (quo_ctx, before)))
            low = c.value(r.min) if r.min is not None else quo + (c.value(r.min_change) if r.min_change else 0.0)
            if plan < low - c.tol * max(1.0, abs(low)):
                what = f"min {low:.6g}" if r.min is not None else f"the status quo's {quo:.6g}" + (
                    f" + {c.value(r.min_change):g}" if r.min_change else "")
                bad.append(f"rule {r.id}: {q}'s net benefit {plan:.6g} < {what} {money} (short by {low - plan:.6g})")
    return bad


def unit(rule: ParticipationRule, inst: Instance) -> str:
    """The net benefit's unit: money when every measure weighed is money, else weighted units."""
    kinds = measures()
    words = {kinds[m].unit if m in kinds else kpis.registry()[m].unit if m in kpis.registry() else m
             for m, w in rule.weights.items() if w}
    money = inst.units.money
    return money if words <= {"money"} else f"weighted units ({money} where the weights are money per unit)"


def _check_nb(c: CheckContext, rule: ParticipationRule, q: str, found: list) -> float:
    total_ = 0.0
    everyone = set(c.ind)
    kinds = measures()
    for m, w in rule.weights.items():
        if w and m not in kinds:
            total_ += w * yearly(c.periods, c.period, kpis.once(m)) * c.kpi_in(m, {q}, everyone)
    for m, _, payer, payee, amount in found:
        sign = 1.0 if payee == q else -1.0 if payer == q else 0.0
        total_ += sign * weight(rule, m) * yearly(c.periods, c.period, kinds[m].once) * amount
    return total_


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    """participation.csv: each province's net benefit under the status quo and the plan, the bound,
    slack and shadow price (money saved per unit of net benefit the province would give up)."""
    data, problem = ctx.data, ctx.problem
    if problem is None or problem.solution is None or "participation" not in problem.constraints:
        return {}
    assert data.periods is not None
    x = problem.solution.values
    x0 = _status_quo(problem, data)
    prices = ctx.prices("participation")
    found = {t: flows(problem, data, t) for t in range(data.count)}
    out = []
    for r in data.rules_of(ParticipationRule):
        for t in _holds(r, data):
            for q in expand(r.provinces, data.inst):
                lin, quo, _ = net_benefit(problem, data, r, q, t, found[t], x0)
                here = lin.value(x)
                low = float(value(r.min, t, data.periods)) if r.min is not None else \
                    quo + (float(value(r.min_change, t, data.periods)) if r.min_change is not None else 0.0)
                key = (r.id, q, data.periods.ids[t]) if data.phased else (r.id, q)
                out.append({"rule": r.id, "province": q, **({"period": data.periods.ids[t]} if data.phased else {}),
                            "status_quo": quo, "plan": here, "change": here - quo, "bound": low,
                            "slack": here - low, "binding": abs(here - low) <= 1e-6 * max(1.0, abs(low)),
                            "shadow_price": prices.get(key, float("nan")), "unit": unit(r, data.inst),
                            # ∂objective/∂(the bound): money saved per unit of net benefit given up
                            "shadow_price_unit": f"{data.inst.units.money} per {unit(r, data.inst)}"})
    return {"participation.csv": out}


def decided(problem: Problem, data: Data) -> dict[tuple[str, str, str, str, str], float]:
    """The side payments of the loaded solution (`Plan.transfers`)."""
    if "pay" not in problem.variables or problem.solution is None:
        return {}
    assert data.periods is not None
    v = problem.solution.values[problem.cols("pay")].reshape(data.count, -1)
    pays = _payments(data)
    out = {}
    for t in range(data.count):
        for n, (r, j, q) in enumerate(pays):
            if abs(v[t, n]) > 1e-9:
                when = data.periods.ids[t] if data.phased else ""
                out[decided_key("side_payment", r.id, j, q, when)] = float(v[t, n])
    return out


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    rid, q = label[:2]
    rule = next(r for r in inst.rules if r.id == rid)
    when = f" in period {label[2]}" if len(label) == 3 else ""
    against = "its stated minimum" if rule.min is not None else "the status quo" + (
        " plus min_change" if rule.min_change is not None else "")
    return (f"rule {rid} (participation): {q}'s net benefit falls short of {against} by {amount:.6g} "
            f"{unit(rule, inst)} a year{when}")
