"""`transfer_target` (rule kind `transfer_target`): at least so many modules of a group move.

    transfer_target[r]:  Σ_{i∈G_r} Σ_p x[i,p] ≥ min_modules_r
                    or   Σ_{i∈G_r} Σ_p x[i,p] ≥ min_share_r · Σ_{i∈G_r} modules_i
Relaxable (big: the target itself). With periods a target is met by a period t: the modules moved
in t or before count, Σ_{i∈G_r} Σ_p Σ_{τ≤t} x[i,p,τ] ≥ target_r,t, in the period `by` names (the last
if absent), or in each period a target given per period names ({p2027: 0.2, p2030: 0.6}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from model.options import BuildOptions
from model.periods import ByPeriod, Periods, named, value
from model.schema import Id, IndustryRef, RuleBase, TimedAmount, TimedShare
from model.selectors import industries_of
from model.tables import ResultContext, limit_row
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "transfer_target"
RELAX = {"transfer_target": 1.0}


class TransferTargetRule(RuleBase):
    """At least `min_modules` (or `min_share` of their modules) of the selected industries move."""

    kind: Literal["transfer_target"]
    industries: IndustryRef | None = None
    min_modules: TimedAmount | None = None
    min_share: TimedShare | None = None
    by: Id | None = Field(None, description="the period by which the target is met (the last if absent)")

    @model_validator(mode="after")
    def _bound(self) -> TransferTargetRule:
        if (self.min_modules is None) == (self.min_share is None):
            raise ValueError("needs exactly one of min_modules and min_share")
        return self


RULES = (TransferTargetRule,)


def validate(rule: TransferTargetRule, path: tuple, refs: Any) -> None:
    refs.check_periods((*path, "by"), None if rule.by is None else [rule.by])
    if rule.by is not None and isinstance(rule.min_modules or rule.min_share, ByPeriod):
        refs.problem((*path, "by"), "given with a target per period", "either `by` or a target per period, not both")


def due(rule: TransferTargetRule, periods: Periods) -> list[int]:
    """The periods by which the target is to be met."""
    ts = named(rule.min_modules if rule.min_modules is not None else rule.min_share, periods)
    if ts is not None:
        return ts
    return [periods.index(rule.by)] if rule.by is not None and periods.phased else [periods.count - 1]


def target(rule: TransferTargetRule, t: int, periods: Periods, modules: float) -> float:
    """The modules to have moved by period t (`modules`: those of the rule's industries)."""
    if rule.min_modules is not None:
        return float(value(rule.min_modules, t, periods))
    return float(value(rule.min_share, t, periods)) * modules


def _targets(data: Data) -> list[tuple[TransferTargetRule, int, float]]:
    assert data.periods is not None
    out = []
    for rule in data.rules_of(TransferTargetRule):
        modules = float(data.industry.loc[data.industry_set(rule.industries), "modules"].sum())
        out += [(rule, t, target(rule, t, data.periods, modules)) for t in due(rule, data.periods)]
    return out


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    found = _targets(data)
    x = problem.cols("x").reshape(data.count, -1)
    rows, cols = [], []
    for n, (rule, t, _) in enumerate(found):
        pairs = np.flatnonzero(data.pair_mask(industries=rule.industries))
        rows.append(np.full(len(pairs) * (t + 1), n))
        cols.append(x[: t + 1, pairs].ravel())
    bound = [b for *_, b in found]
    assert data.periods is not None
    keys = [[r.id for r, _, _ in found]] + ([[data.periods.ids[t] for _, t, _ in found]] if data.phased else [])
    problem.add_rows("transfer_target", keys_of(*keys), np.concatenate(rows or [[]]),
                     np.concatenate(cols or [[]]), 1.0, lo=bound, doc="modules moved ≥ target",
                     relax="transfer_target", big=bound)


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(TransferTargetRule):
        if c.period not in due(r, c.periods):
            continue
        group = set(industries_of(c.inst, r.industries))
        moved = sum(v for (i, _), v in c.plan.x.items() if i in group)
        need = r.min_modules if r.min_modules is not None else r.min_share
        need = c.value(need) * (1 if r.min_modules is not None else sum(c.ind[i].modules for i in group))
        if moved < need - c.modules_tol(need):
            bad.append(f"rule {r.id}: {moved:g} modules moved < {need:g} required "
                       f"(short by {abs(moved - need):.6g})")
    return bad


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    data, problem = ctx.data, ctx.problem
    if problem is None or problem.solution is None:
        return {}
    moved = problem.row_values("transfer_target")
    prices = ctx.prices("transfer_target")
    assert data.periods is not None
    out = []
    for n, (r, t, bound) in enumerate(_targets(data)):
        key = (r.id, data.periods.ids[t]) if data.phased else (r.id,)
        row = limit_row(r, "modules", "min", bound, float(moved[n]), float(moved[n]) - bound,
                        prices.get(key, float("nan")), f"{data.inst.units.money} per module",
                        "transfer_target", ",".join(key), "modules")
        if data.phased:
            row["period"] = data.periods.ids[t]
        out.append(row)
    return {"limits.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    when = f" by period {label[1]}" if len(label) > 1 else ""
    return f"rule {label[0]} (transfer target): move {amount:.6g} fewer modules{when}"
