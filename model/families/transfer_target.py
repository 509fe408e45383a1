"""`transfer_target` (rule kind `transfer_target`): at least so many modules of a group move.

    transfer_target[r]:  Σ_{i∈G_r} Σ_p x[i,p] ≥ min_modules_r
                    or   Σ_{i∈G_r} Σ_p x[i,p] ≥ min_share_r · Σ_{i∈G_r} modules_i
Relaxable (big: the target itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import model_validator

from model.options import BuildOptions
from model.schema import Amount, IndustryRef, RuleBase, Share
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
    min_modules: Amount | None = None
    min_share: Share | None = None

    @model_validator(mode="after")
    def _bound(self) -> TransferTargetRule:
        if (self.min_modules is None) == (self.min_share is None):
            raise ValueError("needs exactly one of min_modules and min_share")
        return self


RULES = (TransferTargetRule,)


def _target(data: Data, rule: TransferTargetRule) -> float:
    if rule.min_modules is not None:
        return float(rule.min_modules)
    return rule.min_share * float(data.industry.loc[data.industry_set(rule.industries), "modules"].sum())


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    rules = data.rules_of(TransferTargetRule)
    x = problem.cols("x")
    rows, cols = [], []
    for n, rule in enumerate(rules):
        pairs = np.flatnonzero(data.pair_mask(industries=rule.industries))
        rows.append(np.full(len(pairs), n))
        cols.append(x[pairs])
    bound = [_target(data, r) for r in rules]
    problem.add_rows("transfer_target", keys_of([r.id for r in rules]), np.concatenate(rows or [[]]),
                     np.concatenate(cols or [[]]), 1.0, lo=bound, doc="modules moved ≥ target",
                     relax="transfer_target", big=bound)


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(TransferTargetRule):
        group = set(industries_of(c.inst, r.industries))
        moved = sum(v for (i, _), v in c.plan.x.items() if i in group)
        need = r.min_modules if r.min_modules is not None else r.min_share * sum(c.ind[i].modules for i in group)
        if moved < need - c.tol * max(1.0, need):
            bad.append(f"rule {r.id}: {moved:g} modules moved < {need:g} required (short by {abs(moved - need):.6g})")
    return bad


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    data, problem = ctx.data, ctx.problem
    if problem is None or problem.solution is None:
        return {}
    moved = problem.row_values("transfer_target")
    prices = ctx.prices("transfer_target")
    out = []
    for n, r in enumerate(data.rules_of(TransferTargetRule)):
        bound = _target(data, r)
        out.append(limit_row(r, "modules", "min", bound, float(moved[n]), float(moved[n]) - bound,
                             prices.get((r.id,), float("nan")), f"{data.inst.units.money} per module",
                             "transfer_target", r.id))
    return {"limits.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    return f"rule {label[0]} (transfer target): move {amount:.6g} fewer modules"
