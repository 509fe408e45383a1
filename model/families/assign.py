"""`assign`: every module of an industry is placed at a park, stays at its origin, or closes.

    assign[i]:         Σ_{p:(i,p)∈E} Σ_t x[i,p,t] + Σ_t retire[i,t] + stay[i] = modules_i   ∀ i ∈ I
                       (each module moves once, or closes once; retire only for industries that
                       `may_retire`, the block absent when none may)
    must_transfer:     stay[i] ≤ 0 (as the variable's upper bound)       ∀ i with must_transfer
                       (elastic build: a row must_transfer[i]: stay[i] ≤ 0, relaxable, big modules_i)
With periods, must_transfer means moved (or closed) by the end of the last period. An industry may
close when its own `may_retire` says so, or when an enabled `retire` rule selects it (a switch
for a whole sector: `{kind: retire, industries: {sector: steel}}`). The variables x, stay, y,
w themselves are made in `model/assemble.py`; a plan is also checked here for what the
variables' domains say (whole modules, no negative amounts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from model.options import BuildOptions
from model.schema import IndustryRef, RuleBase
from model.selectors import industries_of
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "assign"
RELAX = {"must_transfer": 1.0}


class RetireRule(RuleBase):
    """The selected industries may close (`may_retire` for a whole sector or group)."""

    kind: Literal["retire"]
    industries: IndustryRef = Field(description="the industries that may close")


RULES = (RetireRule,)


def may_retire(inst: Any) -> set[str]:
    """The industries that may close: their own `may_retire`, or an enabled `retire` rule's."""
    out = {i.id for i in inst.industries if i.may_retire}
    for r in inst.rules:
        if isinstance(r, RetireRule) and r.enabled:
            out.update(industries_of(inst, r.industries))
    return out


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    n_i = len(data.industries)
    x, stay = problem.cols("x"), problem.cols("stay")
    modules = data.industry["modules"].to_numpy(dtype=float)
    rows, cols = [data.tile(data.pairs["i"].to_numpy()), np.arange(n_i)], [x, stay]
    if "retire" in problem.variables:
        rows.append(data.tile(data.retiring))
        cols.append(problem.cols("retire"))
    problem.add_rows("assign", keys_of(data.industries), np.concatenate(rows), np.concatenate(cols), 1.0,
                     lo=modules, hi=modules, doc="each module placed, staying or closed")
    if options.elastic:
        must = np.flatnonzero(data.industry["must_transfer"].to_numpy())
        problem.add_rows("must_transfer", keys_of(np.asarray(data.industries, dtype=object)[must]),
                         np.arange(len(must)), stay[must], 1.0, hi=0.0, doc="no module stays",
                         relax="must_transfer", big=modules[must])


def check(c: CheckContext) -> list[str]:
    bad = []
    for (i, p), v in c.plan.x.items():
        if v < -c.tol:
            bad.append(f"{i} at {p}: {v:g} modules, fewer than 0")
        if not c.ind[i].divisible and abs(v - round(v)) > c.tol:
            bad.append(f"{i} at {p}: {v:g} modules is not whole but {i} is not divisible")
    for (i, p), v in (c.plan.moved or {}).items():  # a phased plan's moves in this period
        if v < -c.tol:
            bad.append(f"{i} to {p}: {v:g} modules moved in the period; a move is at least 0 (a module moves "
                       "once and stays)")
    for i, v in (c.plan.retired or {}).items():
        if v < -c.tol:
            bad.append(f"{i}: {v:g} modules closed in the period; a closure is at least 0 (a module closed "
                       "stays closed)")
    allowed = may_retire(c.inst)
    placed_of: dict[str, float] = {}
    for (i, _), v in c.plan.x.items():  # one pass, not one per industry
        placed_of[i] = placed_of.get(i, 0.0) + v
    for i, industry in c.ind.items():
        placed = placed_of.get(i, 0.0)
        stay = c.plan.stay.get(i, 0.0)
        closed = c.plan.retire.get(i, 0.0)
        if abs(placed + stay + closed - industry.modules) > c.modules_tol(industry.modules):
            shut = f" + {closed:g} closed" if closed else ""
            bad.append(f"{i}: {placed:g} modules placed + {stay:g} staying{shut} ≠ its {industry.modules} modules")
        if closed < -c.tol or (not industry.divisible and abs(closed - round(closed)) > c.tol):
            bad.append(f"{i}: {closed:g} modules closed is not a valid number of modules")
        if closed > c.tol and i not in allowed:
            bad.append(f"{i}: {closed:g} modules closed but {i} may not retire")
        if stay < -c.tol or (not industry.divisible and abs(stay - round(stay)) > c.tol):
            bad.append(f"{i}: {stay:g} modules staying is not a valid number of modules")
        if industry.must_transfer and stay > c.tol and c.last:
            bad.append(f"{i}: {stay:g} modules stay but {i} must transfer")
    return bad


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    return f"industry {label[0]} (must_transfer): let {amount:.6g} module(s) stay at the origin"
