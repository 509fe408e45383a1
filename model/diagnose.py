"""Why is a plan infeasible? The smallest set of relaxations, in the instance's own words.

An elastic copy of the model (`BuildOptions(elastic=True)`, see `model/families/elastic.py`) gives
every row of every family a penalised slack: park capacities, limits, transfer targets,
must_transfer, diversity bounds, and the forbid rules themselves (their pairs are kept, each
behind a relaxation of its rule, at a high default weight). It minimises
    Σ_c weight_family(c) · relaxed_c + ε · Σ_c slack_c / big_c
so the answer is the fewest relaxations (weighted by family), then the smallest amounts. When the
LP relaxation itself is infeasible, HiGHS's irreducible infeasible subset is reported too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.environ as pyo

from model import Loaded
from model.build import BuildOptions, build
from model.data import build_data
from solvers import SolveOptions, solve
from solvers.run import lp_iis

FAMILIES = ("capacity", "limit", "transfer_target", "must_transfer", "diversity", "forbid")
DEFAULT_WEIGHTS = {"capacity": 1.0, "limit": 1.0, "transfer_target": 1.0, "must_transfer": 1.0,
                   "diversity": 1.0, "forbid": 100.0}
EPS = 1e-3
TOL = 1e-6


@dataclass
class Relaxation:
    family: str
    key: tuple
    amount: float
    text: str


@dataclass
class Diagnosis:
    status: str  # of the elastic solve
    relaxations: list[Relaxation] = field(default_factory=list)
    iis: list[str] | None = None  # constraint names, when the LP relaxation is infeasible

    def lines(self) -> list[str]:
        out = [r.text for r in self.relaxations]
        if self.relaxations and self.status != "optimal":
            out.append(f"(not proven the smallest set: the elastic model stopped early, {self.status})")
        if self.iis:
            out.append("The LP relaxation is infeasible too; an irreducible infeasible subset: " + ", ".join(self.iis))
        return out


def _describe(loaded: Loaded, family: str, key: tuple, amount: float) -> str:
    inst = loaded.instance
    a = f"{amount:.6g}"
    if family == "capacity":
        park, res = key
        cap = next(p for p in inst.parks if p.id == park).capacity[res]
        unit = inst.resources[res].unit
        return (f"park {park}: {res} short by {a} {unit} (capacity {cap:g}; "
                f"parks.{park}.capacity.{res}={cap + amount:.6g} would do)")
    if family == "limit":
        rid, sense = key
        rule = next(r for r in inst.rules if r.id == rid)
        unit = {"co2": inst.units.co2, "jobs": inst.units.jobs, "modules": "modules"}.get(
            rule.kpi, inst.resources[rule.kpi].unit if rule.kpi in inst.resources else inst.units.money)
        bound = getattr(rule, sense)
        if sense == "max":
            return f"rule {rid} ({rule.kpi} max {bound:g}): exceed by {a} {unit}"
        if sense == "min":
            return f"rule {rid} ({rule.kpi} min {bound:g}): fall short by {a} {unit}"
        return f"rule {rid} ({rule.kpi} min_share {bound:g}): fall short by {a} {unit}"
    if family == "transfer_target":
        return f"rule {key[0]} (transfer target): move {a} fewer modules"
    if family == "must_transfer":
        return f"industry {key[0]} (must_transfer): let {a} module(s) stay at the origin"
    if family == "diversity":
        return f"rule {key[0]} (diversity): allow {a} more at {key[1]}"
    if family == "forbid":
        rid, ind, park = key
        return f"rule {rid} (forbid): allow {ind} at {park} ({a} module(s))"
    return f"{family} {key}: {a}"


def diagnose(loaded: Loaded, weights: dict[str, float] | None = None,
             options: SolveOptions | None = None) -> Diagnosis:
    """Solve the elastic model and list the relaxations it needs (none if the instance is feasible)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    data = build_data(loaded.instance, keep_forbidden=True)
    # x_max is derived from the capacities, which the elastic model may relax: use modules_i instead.
    data.pairs["x_max"] = data.industry["modules"].to_numpy(dtype=float)[data.pairs["i"].to_numpy()]
    m = build(data, BuildOptions(elastic=True))
    m.objective.deactivate()
    big = getattr(m, "slack_big", {})
    m.elastic_objective = pyo.Objective(
        expr=sum(w[idx[0]] * m.relaxed[idx] + EPS * m.slack[idx] / b for idx, b in big.items()),
        sense=pyo.minimize)
    opts = options or SolveOptions(mip_gap=0.0)
    result = solve(m, opts)
    out = Diagnosis(result.status)
    if result.has_solution:
        for idx in big:
            amount = float(m.slack[idx].value or 0.0)
            if amount > TOL * max(1.0, big[idx]):
                out.relaxations.append(Relaxation(idx[0], idx[1:], amount,
                                                  _describe(loaded, idx[0], idx[1:], amount)))
    out.relaxations.sort(key=lambda r: (FAMILIES.index(r.family), r.key))
    out.iis = lp_iis(build(build_data(loaded.instance), BuildOptions()))
    return out

