"""The independent checker: is a reported plan feasible, and are its KPIs what it says?

Everything is recomputed here and in the families' `check` functions from the validated instance
with plain loops, deliberately sharing nothing with `model/data.py`, the families' blocks or the
solver: a mistake in the vectorised assembly or in a row block shows up as a disagreement
instead of being repeated. Only the selector semantics (which parks a group names) are shared,
since they are part of the input's meaning, and the KPI registry's `check_*` functions, which
compute each KPI from the raw fields.

With periods the plan is checked period by period, each against the instance as it stands then
(`model.periods.resolve`) and the plan as it stands then (`Plan.period`), and each KPI is the
present value of its values in the periods; an upgrade's capacity counts from the period its lead
time has passed, recomputed here from the years of the periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model import kpis
from model import periods as time
from model.families import FAMILIES
from model.jurisdictions import expand
from model.pairtable import PairTable
from model.periods import Periods, named, periods_of, resolve
from model.plan import Plan
from model.schema import Instance, RuleBase

TOL = 1e-6
MODULES_REL = 1e-9  # relative round-off of a sum of module counts (`CheckContext.modules_tol`)


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

    def __init__(self, inst: Instance, plan: Plan, period: int = 0, periods: Periods | None = None,
                 history: list[CheckContext] | None = None, ready: set[tuple[str, str]] | None = None) -> None:
        self.inst = inst  # as it stands in the period
        self.plan = plan  # as it stands in the period
        self.ind = {i.id: i for i in inst.industries}
        self.park = {p.id: p for p in inst.parks}
        # A table looks a pair up without a million objects; a list of pairs (a small instance) is read as it is.
        self.pair = inst.pairs if isinstance(inst.pairs, PairTable) else {
            (pr.industry, pr.park): pr for pr in inst.pairs}
        self.kpi = kpis.registry()
        self.periods = periods if periods is not None else periods_of(inst)
        self.period = period
        self.period_id = self.periods.ids[period] if self.periods.phased else ""
        self.last = period == self.periods.count - 1
        self.history = history or []  # the contexts of the earlier periods
        self.ready = ready if ready is not None else set(plan.upgrades)  # upgrades whose capacity is there

    def value(self, v: Any) -> Any:
        """A rule's bound as it stands in this period."""
        return time.value(v, self.period, self.periods)

    def applies(self, bound: Any, listed: list[str] | None) -> list[int]:
        """The periods a bound holds in: those it names, those `listed`, or all."""
        ts = named(bound, self.periods)
        if ts is not None:
            return ts
        if listed is not None and self.periods.phased:
            return [self.periods.index(q) for q in listed]
        return list(range(self.periods.count))

    def over_time(self, name: str, parks: set[str], inds: set[str], cumulative: bool,
                  provinces: set[str] | None = None) -> float:
        """The KPI in this period (over `provinces` when given: `kpi_in`), or its total from the
        first period through this one (years × the yearly value of a flow)."""
        def one(c: CheckContext) -> float:
            return c.kpi_over(name, parks, inds) if provinces is None else c.kpi_in(name, provinces, inds)

        if not cumulative:
            return one(self)
        flow = not kpis.once(name)
        return sum(one(c) * (float(self.periods.years[c.period]) if flow else 1.0) for c in [*self.history, self])

    @staticmethod
    def close(a: float, b: float, tol: float = TOL) -> bool:
        return _close(a, b, tol)

    def modules_tol(self, count: float) -> float:
        """What a count of modules may be off by: round-off, never a module (1e-6 of a million
        modules is one whole module; a CSV value keeps ten significant digits)."""
        return self.tol + MODULES_REL * abs(count)

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
        if k is not None and k.check_plan is not None:
            return k.check_plan(self)
        if k is not None and k.check_retire is not None:  # per module closed (in this period, a one-off)
            closed = self.plan.retired if self.plan.retired is not None else self.plan.retire
            return sum(k.check_retire(self.ind[i]) * v for i, v in closed.items() if i in inds)
        plan, once = self.plan, kpis.once(name)  # a one-off: what happens in this period only
        if k is not None and k.check_park is not None:
            ups = plan.building if once and plan.building is not None else plan.upgrades
            opened = plan.opening if once and plan.opening is not None else plan.open
            built: dict[str, set[str]] = {}
            for p, u in ups:
                built.setdefault(p, set()).add(u)
            if k.park is not None:  # per park opened
                return sum(k.check_park(self.park[p], built.get(p, set())) * opened.get(p, 0) for p in parks)
            return sum(k.check_park(self.park[p], built.get(p, set())) for p in parks)
        x = plan.moved if once and plan.moved is not None else plan.x
        return sum(self.coef(name, i, p) * v for (i, p), v in x.items() if p in parks and i in inds)

    def kpi_in(self, name: str, provinces: set[str], inds: set[str]) -> float:
        """The KPI of what runs in `provinces` (placed at their parks, or at their origin there),
        in this period; relocation_cost counts for the province a module leaves."""
        k = self.kpi.get(name)
        if k is not None and k.parts:
            return sum(self.kpi_in(part, provinces, inds) for part in k.parts)
        if k is not None and k.check_park is not None:
            return self.kpi_over(name, {p for p, b in self.park.items() if b.province in provinces}, inds)
        home = {i for i in inds if self.ind[i].origin in provinces}
        if name == "relocation_cost" or (k is not None and k.check_retire is not None):  # the origin's
            return self.kpi_over(name, set(self.park), home)
        value = self.kpi_over(name, {p for p, b in self.park.items() if b.province in provinces}, inds)
        own = (k.check_origin or k.check_stay) if k is not None else None
        if own is not None:
            value += sum(own(self.ind[i]) * self.plan.stay.get(i, 0.0) for i in home)
        return value

    def whole(self, name: str) -> float:
        """The KPI over the whole plan, the modules that stay included."""
        value = self.kpi_over(name, set(self.park), set(self.ind))
        k = self.kpi[name]
        if k.check_stay is not None:
            value += sum(k.check_stay(self.ind[i]) * v for i, v in self.plan.stay.items())
        return value


def _discount(inst: Instance) -> tuple[list[float], list[float]]:
    """Per period, the present value of one unit of money paid once at its start, and paid in each
    of its years (the last period's also for the terminal years); [1], [1] without periods.
    Recomputed here year by year, not taken from `model.periods`."""
    if not inst.periods:
        return [1.0], [1.0]
    rate, start, once, annual = inst.discount_rate, 0, [], []
    for n, period in enumerate(inst.periods):
        years = period.years + (inst.terminal_years if n == len(inst.periods) - 1 else 0)
        once.append(1.0 / (1.0 + rate) ** start)
        annual.append(sum(1.0 / (1.0 + rate) ** (start + y) for y in range(years)))
        start += period.years
    return once, annual


def _ready(inst: Instance, plan: Plan, periods: Periods, t: int) -> set[tuple[str, str]]:
    """The upgrades whose capacity is there in period t: built in a period starting at least
    lead_time years before t starts."""
    if not plan.phased:
        return set(plan.upgrades)
    start = dict(zip(periods.ids, periods.offset.tolist()))
    lead = {(p.id, u.id): u.lead_time for p in inst.parks for u in p.upgrades}
    return {pu for pu, q in plan.built.items() if start[q] + lead.get(pu, 0.0) <= start[periods.ids[t]] + 1e-9}


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
    for i in [*plan.stay, *plan.retire]:
        if i not in ind:
            bad(f"{i}: unknown industry")
    for p, u in plan.upgrades:
        if p not in park:
            bad(f"upgrade {u} at {p}: unknown park")
    periods = periods_of(inst)
    if periods.phased != plan.phased or (plan.phased and plan.periods != periods.ids):
        bad(f"the plan's periods ({', '.join(plan.periods) or 'none'}) are not the instance's "
            f"({', '.join(periods.ids) if periods.phased else 'none'})")
        return out
    known = set(plan.periods)
    for (i, p, q), v in plan.moves.items():
        if q not in known:
            bad(f"{i} at {p}: {v:g} modules moving in an unknown period {q}")
    for what, q in [*plan.opened.items(), *plan.built.items()]:
        if q not in known:
            bad(f"{what}: opened or built in an unknown period {q}")
    plan = Plan({k: v for k, v in plan.x.items() if k[0] in ind and k[1] in park},
                {i: v for i, v in plan.stay.items() if i in ind},
                {p: v for p, v in plan.open.items() if p in park}, [(p, u) for p, u in plan.upgrades if p in park],
                plan.periods, {k: v for k, v in plan.moves.items() if k[0] in ind and k[1] in park and k[2] in known},
                {p: q for p, q in plan.opened.items() if p in park and q in known},
                {pu: q for pu, q in plan.built.items() if pu[0] in park and q in known},
                transfers={k: v for k, v in plan.transfers.items() if k[4] in known or (not known and k[4] == "")},
                retire={i: v for i, v in plan.retire.items() if i in ind},
                retirements={k: v for k, v in plan.retirements.items() if k[0] in ind and k[1] in known})
    contexts: list[CheckContext] = []
    for t in range(periods.count):
        ctx = CheckContext(resolve(inst, t), plan.period(t), t, periods, list(contexts), _ready(inst, plan, periods, t))
        where = f"period {periods.ids[t]}: " if periods.phased else ""
        for family in FAMILIES:
            if hasattr(family, "check"):
                out.violations += [where + v for v in family.check(ctx)]
        contexts.append(ctx)

    # Whole-plan KPIs (present values over the periods) and the objective.
    once, annual = _discount(inst)
    own = [t for w, _ in inst.levels() for t in w if "@" in t] + [t for t in (weights or {}) if "@" in t]
    terms = [*kpis.objective_terms(), *dict.fromkeys(own)]
    for term in terms:
        kpi, _, where = term.partition("@")
        f = once if kpis.once(kpi) else annual
        if where:  # a jurisdiction's own KPI
            members = set(expand([where], inst))
            out.kpis[term] = sum(f[c.period] * c.kpi_in(kpi, members, set(c.ind)) for c in contexts)
        else:
            out.kpis[term] = sum(f[c.period] * c.whole(term) for c in contexts)
    w = weights if weights is not None else {t: inst.weight(t) for t in terms}
    out.objective = sum(w.get(t, 0.0) * out.kpis[t] for t in terms)
    for term, value in (reported_kpis or {}).items():
        if term in out.kpis and not _close(value, out.kpis[term], 1e-6):
            out.mismatches.append(f"KPI {term}: reported {value:.10g}, recomputed {out.kpis[term]:.10g}")
    if reported_objective is not None and not _close(reported_objective, out.objective, 1e-6):
        out.mismatches.append(f"objective: reported {reported_objective:.10g}, recomputed {out.objective:.10g}")
    return out
