"""`limit` on groups (rule kind `limit`): one shape for carbon caps, basin caps, budgets, shares.

With K(G_P, G_I) a KPI over the modules of industries G_I placed at parks G_P (`model/kpis.py`):
    limit[r,max]:        K(G_P, G_I) ≤ max_r
    limit[r,min]:        K(G_P, G_I) ≥ min_r
    limit[r,min_share]:  K(G_P, G_I) − min_share_r · K(P, G_I) ≥ 0   (a share of the KPI over all parks)
Each row is relaxable (big: the most the KPI can reach for a max, the bound for a min, and
min_share_r times the most K(P, G_I) can reach for a share). A KPI counts the modules placed:
emissions of the modules that stay at their origin are in the objective's co2, not in a limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from model import kpis
from model.options import BuildOptions
from model.schema import Amount, IndustryRef, ParkRef, RuleBase, Share
from model.selectors import industries_of, parks_of
from model.tables import ResultContext, limit_row
from solvers.problem import Problem, keys_of

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
    max: Amount | None = None
    min: Amount | None = None
    min_share: Share | None = Field(None, description="≥ share × the KPI over all parks")

    @model_validator(mode="after")
    def _bound(self) -> LimitRule:
        if self.max is None and self.min is None and self.min_share is None:
            raise ValueError("has no bound; give max, min or min_share")
        return self


RULES = (LimitRule,)


def validate(rule: LimitRule, path: tuple, refs: Any) -> None:
    """The KPI is known, a park-level KPI names no industries, min ≤ max."""
    if rule.kpi in kpis.RENAMED:
        refs.problem((*path, "kpi"), f"the KPI {rule.kpi} is now called {kpis.RENAMED[rule.kpi]}",
                     f"kpi: {kpis.RENAMED[rule.kpi]}")
    elif refs.resources is not None and rule.kpi not in kpis.limit_kpis() and rule.kpi not in refs.resources:
        refs.problem((*path, "kpi"), f"unknown KPI {refs.describe(rule.kpi)}",
                     "one of: " + ", ".join(kpis.limit_kpis()) + f", or a resource ({', '.join(refs.resources)})")
    elif kpis.park_level(rule.kpi) and rule.industries is not None:
        refs.problem((*path, "industries"), f"{rule.kpi} belongs to parks, not industries",
                     "no `industries` on a limit of " + rule.kpi)
    if rule.max is not None and rule.min is not None and rule.min > rule.max:
        refs.problem((*path, "min"), f"min {rule.min} exceeds max {rule.max}", "min ≤ max")


def _rows(problem: Problem, data: Data) -> list[tuple[LimitRule, str, Any, float, float]]:
    """(rule, sense, expression, bound, big) of every row; the expression is K(G_P,G_I) − share·K(P,G_I)
    for a min_share row (bound 0)."""
    out = []
    for r in data.rules_of(LimitRule):
        value = kpis.expression(problem, data, r.kpi, r.parks, r.industries)
        if r.max is not None:
            out.append((r, "max", value, float(r.max), kpis.upper(data, r.kpi, r.parks, r.industries)))
        if r.min is not None:
            out.append((r, "min", value, float(r.min), float(r.min)))
        if r.min_share is not None:
            whole = kpis.expression(problem, data, r.kpi, None, r.industries)
            out.append((r, "min_share", value - whole * float(r.min_share), 0.0,
                        float(r.min_share) * kpis.upper(data, r.kpi, None, r.industries)))
    return out


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    rows = _rows(problem, data)
    problem.add_lin_rows(
        "limit", keys_of([r.id for r, *_ in rows], [s for _, s, *_ in rows]), [e for _, _, e, _, _ in rows],
        lo=[b if s != "max" else -float("inf") for _, s, _, b, _ in rows],
        hi=[b if s == "max" else float("inf") for _, s, _, b, _ in rows],
        doc="KPI over a group within its bound", relax="limit", big=[g for *_, g in rows])


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(LimitRule):
        ps, iis = set(parks_of(c.inst, r.parks)), set(industries_of(c.inst, r.industries))
        value, unit = c.kpi_over(r.kpi, ps, iis), c.unit(r.kpi)
        if r.max is not None and value > r.max + c.tol * max(1.0, abs(r.max)):
            bad.append(f"rule {r.id}: {r.kpi} {value:.6g} > max {r.max:g} {unit} (over by {abs(value - r.max):.6g})")
        if r.min is not None and value < r.min - c.tol * max(1.0, abs(r.min)):
            bad.append(f"rule {r.id}: {r.kpi} {value:.6g} < min {r.min:g} {unit} (short by {abs(value - r.min):.6g})")
        if r.min_share is not None:
            whole = c.kpi_over(r.kpi, set(c.park), iis)
            if value < r.min_share * whole - c.tol * max(1.0, abs(whole)):
                bad.append(f"rule {r.id}: {r.kpi} {value:.6g} < {r.min_share:g} × {whole:.6g} {unit} "
                           f"(short by {abs(value - r.min_share * whole):.6g})")
    return bad


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    """One row per row of the model: the KPI's value, the bound (share × total for a min_share
    row), slack, and the shadow price in money per unit of the KPI."""
    data, problem = ctx.data, ctx.problem
    if problem is None or problem.solution is None:
        return {}
    x = problem.solution.values
    prices = ctx.prices("limit")
    money = data.inst.units.money
    out = []
    for r in data.rules_of(LimitRule):
        value = kpis.expression(problem, data, r.kpi, r.parks, r.industries).value(x)
        for sense in SENSES:
            bound = getattr(r, sense)
            if bound is None:
                continue
            if sense == "min_share":
                bound = bound * kpis.expression(problem, data, r.kpi, None, r.industries).value(x)
            slack = bound - value if sense == "max" else value - bound
            out.append(limit_row(r, r.kpi, sense, float(bound), value, slack,
                                 prices.get((r.id, sense), float("nan")),
                                 f"{money} per {kpis.unit(data.inst, r.kpi)}", "limit", f"{r.id},{sense}"))
    return {"limits.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    rid, sense = label
    rule = next(r for r in inst.rules if r.id == rid)
    bound, a, unit = getattr(rule, sense), f"{amount:.6g}", kpis.unit(inst, rule.kpi)
    if sense == "max":
        return f"rule {rid} ({rule.kpi} max {bound:g}): exceed by {a} {unit}"
    if sense == "min":
        return f"rule {rid} ({rule.kpi} min {bound:g}): fall short by {a} {unit}"
    return f"rule {rid} ({rule.kpi} min_share {bound:g}): fall short by {a} {unit}"
