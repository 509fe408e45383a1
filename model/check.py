"""The independent checker: is a reported plan feasible, and are its KPIs what it says?

Everything is recomputed here and in the families' `check` functions from the validated instance
with plain loops, deliberately sharing nothing with `model/data.py`, the families' blocks or the
solver: a mistake in the vectorised assembly or in a row block shows up as a disagreement
instead of being repeated. Only the selector semantics (which parks a group names) are shared,
since they are part of the input's meaning, and the KPI registry's `check_*` functions, which
compute each KPI from the raw fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model import kpis
from model.families import FAMILIES
from model.plan import Plan
from model.schema import Instance, RuleBase

TOL = 1e-6


def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


@dataclass
class CheckReport:
    violations: list[str] = field(default_factory=list)  # constraints the plan breaks
    mismatches: list[str] = field(default_factory=list)  # reported KPIs or objective that differ
    kpis: dict[str, float] = field(default_factory=dict)  # recomputed
    objective: float = 0.0

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def ok(self) -> bool:
        """Feasible, and every reported figure is what the plan gives."""
        return not self.violations and not self.mismatches


class CheckContext:
    """What a family's check reads: the instance's items by id, the plan, and plain helpers."""

    tol = TOL

    def __init__(self, inst: Instance, plan: Plan) -> None:
        self.inst = inst
        self.plan = plan
        self.ind = {i.id: i for i in inst.industries}
        self.park = {p.id: p for p in inst.parks}
        self.pair = {(pr.industry, pr.park): pr for pr in inst.pairs}
        self.kpi = kpis.registry()

    @staticmethod
    def close(a: float, b: float, tol: float = TOL) -> bool:
        return _close(a, b, tol)

    def rules(self, kind: type[RuleBase]) -> list[Any]:
        return [r for r in self.inst.rules if r.enabled and isinstance(r, kind)]

    def unit(self, name: str) -> str:
        return kpis.unit(self.inst, name)

    def use(self, i: str, p: str, k: str) -> float:
        pr = self.pair.get((i, p))
        if pr is not None and k in pr.use:
            return pr.use[k]
        return self.ind[i].use.get(k, 0.0)

    def coef(self, name: str, i: str, p: str) -> float:
        """A per-pair KPI's coefficient of one module of i at p, from the raw fields."""
        if name in self.inst.resources:
            return self.use(i, p, name)
        k = self.kpi[name]
        return k.check_pair(self, i, p) if k.check_pair is not None else 0.0

    def kpi_over(self, name: str, parks: set[str], inds: set[str]) -> float:
        """The KPI over the modules of `inds` placed at `parks` (stay terms excluded)."""
        k = self.kpi.get(name)
        if k is not None and k.parts:
            return sum(self.kpi_over(part, parks, inds) for part in k.parts)
        if k is not None and k.check_park is not None:
            built: dict[str, set[str]] = {}
            for p, u in self.plan.upgrades:
                built.setdefault(p, set()).add(u)
            if k.park is not None:  # per park opened
                return sum(k.check_park(self.park[p], built.get(p, set())) * self.plan.open.get(p, 0) for p in parks)
            return sum(k.check_park(self.park[p], built.get(p, set())) for p in parks)
        return sum(self.coef(name, i, p) * v for (i, p), v in self.plan.x.items() if p in parks and i in inds)

    def whole(self, name: str) -> float:
        """The KPI over the whole plan, the modules that stay included."""
        value = self.kpi_over(name, set(self.park), set(self.ind))
        k = self.kpi[name]
        if k.check_stay is not None:
            value += sum(k.check_stay(self.ind[i]) * v for i, v in self.plan.stay.items())
        return value


def check(inst: Instance, plan: Plan, reported_kpis: dict[str, float] | None = None,
          reported_objective: float | None = None, weights: dict[str, float] | None = None) -> CheckReport:
    """Recompute every constraint and KPI of `plan` from `inst`; list what does not hold.

    The objective is recomputed with `weights` (default: the instance's own, last level).
    """
    out = CheckReport()
    bad = out.violations.append
    ind = {i.id for i in inst.industries}
    park = {p.id: p for p in inst.parks}
    # Ids the instance does not know (a plan from a file) are reported once, then left out of the sums.
    for i, p in plan.x:
        if i not in ind or p not in park:
            bad(f"{i} at {p}: unknown {'industry' if i not in ind else 'park'}")
    for i in plan.stay:
        if i not in ind:
            bad(f"{i}: unknown industry")
    for p, u in plan.upgrades:
        if p not in park:
            bad(f"upgrade {u} at {p}: unknown park")
    plan = Plan({k: v for k, v in plan.x.items() if k[0] in ind and k[1] in park},
                {i: v for i, v in plan.stay.items() if i in ind},
                {p: v for p, v in plan.open.items() if p in park}, [(p, u) for p, u in plan.upgrades if p in park])
    ctx = CheckContext(inst, plan)
    for family in FAMILIES:
        if hasattr(family, "check"):
            out.violations += family.check(ctx)

    # Whole-plan KPIs and the objective.
    terms = kpis.objective_terms()
    for term in terms:
        out.kpis[term] = ctx.whole(term)
    w = weights if weights is not None else {t: inst.weight(t) for t in terms}
    out.objective = sum(w.get(t, 0.0) * out.kpis[t] for t in terms)
    for term, value in (reported_kpis or {}).items():
        if term in out.kpis and not _close(value, out.kpis[term], 1e-6):
            out.mismatches.append(f"KPI {term}: reported {value:.10g}, recomputed {out.kpis[term]:.10g}")
    if reported_objective is not None and not _close(reported_objective, out.objective, 1e-6):
        out.mismatches.append(f"objective: reported {reported_objective:.10g}, recomputed {out.objective:.10g}")
    return out
