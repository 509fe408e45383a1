"""The independent checker: is a reported plan feasible, and are its KPIs what it says?

Everything is recomputed here from the validated instance with plain loops, deliberately sharing
nothing with `model/data.py`, the families or Pyomo: a mistake in the vectorised assembly or in a
constraint family shows up as a disagreement instead of being repeated. Only the selector
semantics (which parks a group names) are shared, since they are part of the input's meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from model.plan import Plan
from model.schema import (
    OBJECTIVE_TERMS,
    DiversityRule,
    ForbidRule,
    Instance,
    LimitRule,
    TransferTargetRule,
)
from model.selectors import industries_of, parks_of

TOL = 1e-6


def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def _distance_km(a: object, b: object) -> float:
    lon1, lat1, lon2, lat2 = (math.radians(v) for v in (a.lon, a.lat, b.lon, b.lat))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


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


def check(inst: Instance, plan: Plan, reported_kpis: dict[str, float] | None = None,
          reported_objective: float | None = None, weights: dict[str, float] | None = None) -> CheckReport:
    """Recompute every constraint and KPI of `plan` from `inst`; list what does not hold.

    The objective is recomputed with `weights` (default: the instance's own, last level).
    """
    out = CheckReport()
    bad = out.violations.append
    units = inst.units

    def unit(kpi: str) -> str:
        if kpi in inst.resources:
            return inst.resources[kpi].unit
        return {"co2": units.co2, "jobs": units.jobs, "modules": "modules"}.get(kpi, units.money)

    def over(a: float, b: float) -> str:
        return f"{abs(a - b):.6g}"

    ind = {i.id: i for i in inst.industries}
    park = {p.id: p for p in inst.parks}
    pair = {(pr.industry, pr.park): pr for pr in inst.pairs}
    rules = [r for r in inst.rules if r.enabled]

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

    def use(i: str, p: str, k: str) -> float:
        pr = pair.get((i, p))
        if pr is not None and k in pr.use:
            return pr.use[k]
        return ind[i].use.get(k, 0.0)

    # Eligibility and domains.
    forbidden = [(set(industries_of(inst, r.industries)), set(parks_of(inst, r.parks)), r.id)
                 for r in rules if isinstance(r, ForbidRule)]
    for (i, p), v in plan.x.items():
        for ii, pp, rid in forbidden:
            if i in ii and p in pp:
                bad(f"{i} at {p} ({v:g} modules): rule {rid} forbids {i} at {p}")
        if v < -TOL:
            bad(f"{i} at {p}: {v:g} modules, fewer than 0")
        if not ind[i].divisible and abs(v - round(v)) > TOL:
            bad(f"{i} at {p}: {v:g} modules is not whole but {i} is not divisible")
        if v > TOL and plan.open.get(p, 0) != 1:
            bad(f"{i} at {p}: {v:g} modules at a park that is not open")

    # assign and must_transfer.
    for i, industry in ind.items():
        placed = sum(v for (a, _), v in plan.x.items() if a == i)
        stay = plan.stay.get(i, 0.0)
        if not _close(placed + stay, industry.modules):
            bad(f"{i}: {placed:g} modules placed + {stay:g} staying ≠ its {industry.modules} modules")
        if stay < -TOL or (not industry.divisible and abs(stay - round(stay)) > TOL):
            bad(f"{i}: {stay:g} modules staying is not a valid number of modules")
        if industry.must_transfer and stay > TOL:
            bad(f"{i}: {stay:g} modules stay but {i} must transfer")

    # Parks and upgrades.
    built = set(plan.upgrades)
    for p, pk in park.items():
        if pk.open_cost == 0 and plan.open.get(p, 0) != 1:
            bad(f"park {p}: not open but the park is already open (open_cost 0)")
        ups = {u.id: u for u in pk.upgrades}
        for (pp, u) in built:
            if pp != p:
                continue
            if u not in ups:
                bad(f"park {p}: no upgrade {u}")
                continue
            if plan.open.get(p, 0) != 1:
                bad(f"park {p}: upgrade {u} built at a park that is not open")
            for req in ups[u].requires:
                if (p, req) not in built:
                    bad(f"park {p}: upgrade {u} built without its prerequisite {req}")
        for k in inst.resources:
            used = sum(use(i, pp, k) * v for (i, pp), v in plan.x.items() if pp == p)
            cap = pk.capacity.get(k, 0.0) * plan.open.get(p, 0)
            cap += sum(u.adds.get(k, 0.0) for u in pk.upgrades if (p, u.id) in built)
            if used > cap + TOL * max(1.0, cap):
                bad(f"park {p}: {k} use {used:.6g} > capacity {cap:.6g} {unit(k)} (over by {over(used, cap)})")

    # KPIs per placed pair, from the raw fields.
    def coef(kpi: str, i: str, p: str) -> float:
        a, b = ind[i], park[p]
        if kpi == "modules":
            return 1.0
        if kpi in inst.resources:
            return use(i, p, kpi)
        if kpi == "relocation_cost":
            return a.relocation_cost
        if kpi == "operating_cost":
            return sum(use(i, p, k) * b.unit_costs.get(k, 0.0) for k in inst.resources) + a.power_use * b.power_price
        if kpi == "logistics_cost":
            return _distance_km(a.location, b.location) * a.logistics_cost_per_km if a.logistics_cost_per_km else 0.0
        if kpi == "pair_cost":
            pr = pair.get((i, p))
            return pr.cost if pr is not None and pr.cost is not None else 0.0
        if kpi == "co2":
            return a.co2_process + a.power_use * b.grid_factor
        if kpi == "value_added":
            return a.value_added
        if kpi == "jobs":
            return a.jobs
        raise KeyError(kpi)

    def kpi_over(kpi: str, parks: set[str], inds: set[str]) -> float:
        if kpi == "spend":
            return (kpi_over("opening_cost", parks, inds) + kpi_over("upgrade_cost", parks, inds)
                    + kpi_over("relocation_cost", parks, inds))
        if kpi == "opening_cost":
            return sum(park[p].open_cost * plan.open.get(p, 0) for p in parks)
        if kpi == "upgrade_cost":
            return sum(u.cost for p in parks for u in park[p].upgrades if (p, u.id) in built)
        return sum(coef(kpi, i, p) * v for (i, p), v in plan.x.items() if p in parks and i in inds)

    all_parks, all_inds = set(park), set(ind)
    for r in rules:
        if isinstance(r, LimitRule):
            ps, iis = set(parks_of(inst, r.parks)), set(industries_of(inst, r.industries))
            value = kpi_over(r.kpi, ps, iis)
            if r.max is not None and value > r.max + TOL * max(1.0, abs(r.max)):
                bad(f"rule {r.id}: {r.kpi} {value:.6g} > max {r.max:g} {unit(r.kpi)} (over by {over(value, r.max)})")
            if r.min is not None and value < r.min - TOL * max(1.0, abs(r.min)):
                bad(f"rule {r.id}: {r.kpi} {value:.6g} < min {r.min:g} {unit(r.kpi)} (short by {over(value, r.min)})")
            if r.min_share is not None:
                whole = kpi_over(r.kpi, all_parks, iis)
                if value < r.min_share * whole - TOL * max(1.0, abs(whole)):
                    bad(f"rule {r.id}: {r.kpi} {value:.6g} < {r.min_share:g} × {whole:.6g} {unit(r.kpi)} "
                        f"(short by {over(value, r.min_share * whole)})")
        elif isinstance(r, TransferTargetRule):
            group = set(industries_of(inst, r.industries))
            moved = sum(v for (i, _), v in plan.x.items() if i in group)
            need = r.min_modules if r.min_modules is not None else r.min_share * sum(ind[i].modules for i in group)
            if moved < need - TOL * max(1.0, need):
                bad(f"rule {r.id}: {moved:g} modules moved < {need:g} required (short by {over(moved, need)})")
        elif isinstance(r, DiversityRule):
            ps = set(parks_of(inst, r.parks))
            sectors = set(r.sectors) if r.sectors is not None else {a.sector for a in ind.values()}
            present = {(ind[i].sector, p) for (i, p), v in plan.x.items() if v > TOL and p in ps
                       and ind[i].sector in sectors}
            if r.max_parks_per_sector:
                for s in sectors:
                    n = sum(1 for s2, _ in present if s2 == s)
                    if n > r.max_parks_per_sector:
                        bad(f"rule {r.id}: sector {s} at {n} parks > max_parks_per_sector {r.max_parks_per_sector}")
            if r.max_sectors_per_park:
                for p in ps:
                    n = sum(1 for _, p2 in present if p2 == p)
                    if n > r.max_sectors_per_park:
                        bad(f"rule {r.id}: park {p} hosts {n} sectors > max_sectors_per_park {r.max_sectors_per_park}")

    # Whole-plan KPIs and the objective.
    for term in OBJECTIVE_TERMS:
        if term == "stay_cost":
            value = sum(ind[i].stay_cost * v for i, v in plan.stay.items())
        else:
            value = kpi_over(term, all_parks, all_inds)
        if term == "co2":
            value += sum((ind[i].co2_process + ind[i].power_use * ind[i].grid_factor) * v
                         for i, v in plan.stay.items())
        out.kpis[term] = value
    w = weights if weights is not None else {t: inst.weight(t) for t in OBJECTIVE_TERMS}
    out.objective = sum(w.get(t, 0.0) * out.kpis[t] for t in OBJECTIVE_TERMS)
    for term, value in (reported_kpis or {}).items():
        if term in out.kpis and not _close(value, out.kpis[term], 1e-6):
            out.mismatches.append(f"KPI {term}: reported {value:.10g}, recomputed {out.kpis[term]:.10g}")
    if reported_objective is not None and not _close(reported_objective, out.objective, 1e-6):
        out.mismatches.append(f"objective: reported {reported_objective:.10g}, recomputed {out.objective:.10g}")
    return out
