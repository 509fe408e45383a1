"""`capacity_replacement` (rule kind): new capacity of a covered sector only against capacity closed.

China's capacity-replacement rules (steel: MIIT 2021) let a receiving park add capacity of a covered
sector only if ratio times as much closes elsewhere: at least 1.5 : 1 in the key air-pollution
regions, 1.25 : 1 elsewhere. A module of a covered industry i that moves closes its capacity cap_i
(`production_capacity`) at the origin and adds cap_i at the park; one that retires closes cap_i.
With ρ_p the ratio that applies at park p (the first of `ratios` whose parks include p, else `ratio`):
    capacity_replacement[r,t]:
        Σ_{i∈G_I} Σ_p ρ_p · cap_i · Σ_{τ≤t} x[i,p,τ]  ≤  Σ_{i∈G_I} cap_i · (Σ_p Σ_{τ≤t} x[i,p,τ] + Σ_{τ≤t} retire[i,τ])
i.e.    Σ_{i,p} (ρ_p − 1) · cap_i · placed_t[i,p] − Σ_i cap_i · retired_t[i] ≤ 0
(built by t, times its ratio, within what has closed by t: a move closes its own capacity, so each
moved unit needs ρ_p − 1 more closed; relaxable, big: Σ_{i,p} max(ρ_p − 1, 0) · cap_i · modules_i,
the most the left side can reach). Parks that may not receive covered capacity (`no_new_capacity`):
    capacity_replacement_banned[r,i,p]:  Σ_t x[i,p,t] ≤ 0     i ∈ G_I, p ∈ the banned parks
The ledger shows `production_capacity` per province (what runs there) and `retired` modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from model.options import BuildOptions
from model.schema import Amount, IndustryRef, ParkRef, RuleBase, Strict
from model.selectors import industries_of, parks_of
from model.tables import ResultContext, limit_row
from solvers.problem import Lin, Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "capacity_replacement"
RELAX = {"capacity_replacement": 1.0}


class Ratio(Strict):
    parks: ParkRef = Field(description="the parks this ratio applies at (a group or a selector)")
    ratio: Amount = Field(description="capacity closed per unit built there (1.5 = 1.5 : 1)")


class CapacityReplacementRule(RuleBase):
    """Capacity of the covered industries built at parks × its ratio ≤ capacity closed (moved out or retired)."""

    kind: Literal["capacity_replacement"]
    industries: IndustryRef = Field(description="the covered industries (e.g. {sector: steel})")
    ratio: Amount = Field(description="capacity closed per unit built, where no entry of `ratios` applies")
    ratios: list[Ratio] = Field(default_factory=list, description="ratios by park group; the first that "
                                                                   "includes a park applies there")
    no_new_capacity: ParkRef | None = Field(None, description="parks that may not receive covered capacity")


RULES = (CapacityReplacementRule,)


def validate(rule: CapacityReplacementRule, path: tuple, refs: Any) -> None:
    """The parks of each ratio are known (a group of parks, or a selector that selects some)."""
    for n, entry in enumerate(rule.ratios):
        refs.check_ref((*path, "ratios", n, "parks"), entry.parks, "parks")
    if refs.industry_ids is not None and not refs.parts.failed.get("industries"):
        from model.selectors import matches

        group = refs.parts.groups.get(rule.industries) if isinstance(rule.industries, str) else None
        sel = group.industries if group is not None else rule.industries
        if sel is not None and not isinstance(sel, str):
            chosen = [i for _, i in refs.parts.industries if matches(i, sel)]
            if chosen and not any(i.production_capacity > 0 for i in chosen):
                refs.problem((*path, "industries"), "none of the covered industries gives a production_capacity",
                             "production_capacity (capacity per module) on the covered industries")


def ratios(rule: CapacityReplacementRule, inst: Instance) -> dict[str, float]:
    """Park -> the ratio that applies there."""
    out = dict.fromkeys((p.id for p in inst.parks), float(rule.ratio))
    for entry in reversed(rule.ratios):  # the first entry that includes a park wins
        out.update(dict.fromkeys(parks_of(inst, entry.parks), float(entry.ratio)))
    return out


def _row(problem: Problem, data: Data, rule: CapacityReplacementRule, t: int) -> tuple[Lin, float]:
    """The left side of the row in period t (built × (ρ − 1) less retired), and its big-M."""
    covered = np.isin(data.industries, data.industry_set(rule.industries))
    cap = data.industry["production_capacity"].to_numpy(dtype=float)
    rho = ratios(rule, data.inst)
    pi, pp = data.pairs["i"].to_numpy(), data.pairs["p"].to_numpy()
    coef = cap[pi] * (np.array([rho[p] for p in data.parks])[pp] - 1.0)
    rows = np.flatnonzero(covered[pi] & (coef != 0))
    x = problem.cols("x").reshape(data.count, -1)
    out = Lin(np.concatenate([x[tau, rows] for tau in range(t + 1)]),
              np.concatenate([coef[rows]] * (t + 1))) - _retired(problem, data, rule, t)
    modules = data.industry["modules"].to_numpy(dtype=float)
    big = float((np.maximum(coef[rows], 0.0) * modules[pi[rows]]).sum())
    return out, big


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    assert data.periods is not None
    rules = data.rules_of(CapacityReplacementRule)
    if not rules:
        return
    found = [(r, t, *_row(problem, data, r, t)) for r in rules for t in range(data.count)]
    keys = [[r.id for r, *_ in found]]
    if data.phased:
        keys.append([data.periods.ids[t] for _, t, *_ in found])
    problem.add_lin_rows("capacity_replacement", keys_of(*keys), [lin for *_, lin, _ in found], hi=0.0,
                         doc="capacity built × ratio ≤ capacity closed", relax="capacity_replacement",
                         big=[max(big, 1.0) for *_, big in found])
    banned = []
    for r in rules:
        if r.no_new_capacity is None:
            continue
        mask = data.pair_mask(r.no_new_capacity, r.industries)
        banned += [(r.id, n) for n in np.flatnonzero(mask)]
    if banned:
        x = problem.cols("x").reshape(data.count, -1)
        n = np.array([b for _, b in banned])
        at = np.arange(len(banned))
        problem.add_rows("capacity_replacement_banned",
                         keys_of([rid for rid, _ in banned], data.pairs["industry"].to_numpy()[n],
                                 data.pairs["park"].to_numpy()[n]),
                         np.tile(at, data.count), x[:, n].ravel(), np.ones(len(banned) * data.count), hi=0.0,
                         doc="no covered capacity at these parks")


def _check_sides(c: CheckContext, rule: CapacityReplacementRule) -> tuple[float, float]:
    """(capacity built × its ratio, capacity closed: moved out or retired), by this period."""
    covered = set(industries_of(c.inst, rule.industries))
    rho = ratios(rule, c.inst)
    built = sum(rho[p] * c.ind[i].production_capacity * v for (i, p), v in c.plan.x.items() if i in covered)
    closed = sum(c.ind[i].production_capacity * v for (i, _), v in c.plan.x.items() if i in covered)
    closed += sum(c.ind[i].production_capacity * v for i, v in c.plan.retire.items() if i in covered)
    return built, closed


def check(c: CheckContext) -> list[str]:
    bad = []
    unit = c.inst.units.production
    for r in c.rules(CapacityReplacementRule):
        built, closed = _check_sides(c, r)
        if built > closed + c.tol * max(1.0, closed):
            bad.append(f"rule {r.id}: capacity built × its ratio {built:.6g} > capacity closed {closed:.6g} {unit} "
                       f"(short by {built - closed:.6g})")
        if r.no_new_capacity is not None:
            covered, banned = set(industries_of(c.inst, r.industries)), set(parks_of(c.inst, r.no_new_capacity))
            for (i, p), v in c.plan.x.items():
                if i in covered and p in banned and v > c.tol:
                    bad.append(f"rule {r.id}: {v:g} modules of {i} at {p}, which may not receive its capacity")
    return bad


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    """limits.csv: capacity built × its ratio (value) against capacity closed (bound), by period."""
    data, problem = ctx.data, ctx.problem
    if problem is None or problem.solution is None or "capacity_replacement" not in problem.constraints:
        return {}
    assert data.periods is not None
    prices = ctx.prices("capacity_replacement")
    unit = data.inst.units.production
    x = problem.solution.values
    out = []
    for r in data.rules_of(CapacityReplacementRule):
        for t in range(data.count):
            lin, _ = _row(problem, data, r, t)
            closed = _closed(problem, data, r, t).value(x)
            built = lin.value(x) + closed
            key = (r.id, data.periods.ids[t]) if data.phased else (r.id,)
            row = limit_row(r, "production_capacity", "max", closed, built, closed - built,
                            prices.get(key, float("nan")), f"{data.inst.units.money} per {unit}",
                            "capacity_replacement", ",".join(key), unit)
            if data.phased:
                row["period"] = data.periods.ids[t]
            out.append(row)
    return {"limits.csv": out}


def _closed(problem: Problem, data: Data, rule: CapacityReplacementRule, t: int) -> Lin:
    """Capacity closed by t: moved out or retired."""
    covered = np.isin(data.industries, data.industry_set(rule.industries))
    cap = data.industry["production_capacity"].to_numpy(dtype=float)
    pi = data.pairs["i"].to_numpy()
    rows = np.flatnonzero(covered[pi] & (cap[pi] > 0))
    x = problem.cols("x").reshape(data.count, -1)
    moved = Lin(np.concatenate([x[tau, rows] for tau in range(t + 1)]), np.concatenate([cap[pi][rows]] * (t + 1)))
    return moved + _retired(problem, data, rule, t)


def _retired(problem: Problem, data: Data, rule: CapacityReplacementRule, t: int) -> Lin:
    """Capacity of the covered industries closed by t (nothing where no industry may close)."""
    if "retire" not in problem.variables:
        return Lin()
    covered = np.isin(data.industries, data.industry_set(rule.industries))[data.retiring]
    cap = data.industry["production_capacity"].to_numpy(dtype=float)[data.retiring]
    r = np.flatnonzero(covered & (cap > 0))
    closing = problem.cols("retire").reshape(data.count, -1)
    return Lin(np.concatenate([closing[tau, r] for tau in range(t + 1)]), np.concatenate([cap[r]] * (t + 1)))


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    when = f" by period {label[1]}" if len(label) == 2 else ""
    return (f"rule {label[0]} (capacity_replacement): build {amount:.6g} {inst.units.production} less capacity "
            f"× its ratio, or close that much more{when}")
