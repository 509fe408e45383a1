"""`forbid` (eligibility): a pair that a `forbid` rule removes gets no variable (E is sparse).

Nothing is built in the ordinary model: `model/data.py` leaves forbidden pairs out of E, so they
are never created and never fixed to 0. Only the infeasibility diagnosis keeps them
(`build_data(keep_forbidden=True)` with an elastic build), each behind a relaxation of every rule
that forbids it (a pair two rules forbid needs both relaxed):
    forbid[r,i,p]:  Σ_t x[i,p,t] ≤ 0      ∀ rules r forbidding (i,p); relaxable, big x_max[i,p]
(a forbid holds in every period).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import model_validator

from model.options import BuildOptions
from model.schema import IndustryRef, ParkRef, RuleBase
from model.selectors import industries_of, parks_of
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "forbid"
RELAX = {"forbid": 100.0}  # a policy's prohibition is the last thing to relax


class ForbidRule(RuleBase):
    """Eligibility: selected industries may not go to selected parks (no variable is created)."""

    kind: Literal["forbid"]
    industries: IndustryRef | None = None
    parks: ParkRef | None = None

    @model_validator(mode="after")
    def _something(self) -> ForbidRule:
        if self.industries is None and self.parks is None:
            raise ValueError("forbids everything; give `industries`, `parks` or both")
        return self


RULES = (ForbidRule,)


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    if not (data.pairs["forbidden_by"].to_numpy() != "").any():
        return
    if not options.elastic:
        raise ValueError("forbidden pairs in an ordinary build; use build_data(keep_forbidden=False)")
    ii, pp = data.pairs["i"].to_numpy(), data.pairs["p"].to_numpy()
    found = [(rid, np.flatnonzero(mask[ii, pp])) for rid, mask in data.forbids.items()]
    rows = np.concatenate([r for _, r in found] or [np.empty(0, dtype=int)])
    rules = np.concatenate([np.full(len(r), rid, dtype=object) for rid, r in found] or [np.empty(0, dtype=object)])
    pairs = data.pairs.iloc[rows]
    x = problem.cols("x").reshape(data.count, -1)
    problem.add_rows("forbid", keys_of(rules, pairs["industry"], pairs["park"]),
                     np.tile(np.arange(len(rows)), data.count), x[:, rows].ravel(), 1.0, hi=0.0,
                     doc="x on a forbidden pair only by relaxing every rule that forbids it", relax="forbid",
                     big=pairs["x_max"].to_numpy(dtype=float))


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(ForbidRule):
        inds, parks = set(industries_of(c.inst, r.industries)), set(parks_of(c.inst, r.parks))
        for (i, p), v in c.plan.x.items():
            if v > c.tol and i in inds and p in parks:
                bad.append(f"{i} at {p} ({v:g} modules): rule {r.id} forbids {i} at {p}")
    return bad


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    rid, ind, park = label
    return f"rule {rid} (forbid): allow {ind} at {park} ({amount:.6g} module(s))"
