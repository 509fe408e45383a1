"""Why is a plan infeasible? The smallest set of relaxations, in the instance's own words.

An elastic copy of the problem (`BuildOptions(elastic=True)`, see `solvers/problem.py`) gives
every row a family marks relaxable a penalised slack: park capacities, limits, transfer targets,
must_transfer, diversity bounds, and the forbid rules themselves (their pairs are kept, each
behind a relaxation of its rule, at a high default weight). It minimises
    Σ_c weight_relax(c) · relaxed_c + ε · Σ_c slack_c / big_c
so the answer is the fewest relaxations (weighted by the families' `RELAX`), then the smallest
amounts; each family's `describe` says what one relaxation means. When the LP relaxation itself
is infeasible, HiGHS's irreducible infeasible subset is reported too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model import Loaded, families
from model.assemble import assemble
from model.data import build_data
from model.options import BuildOptions
from solvers import SolveOptions, iis, solve
from solvers.problem import label
from solvers.run import NotComputed

EPS = 1e-3
TOL = 1e-6


def default_weights() -> dict[str, float]:
    """Relaxation name -> default weight, from the families' registry."""
    return families.relaxations()


@dataclass
class Relaxation:
    family: str  # the relaxation's name (a family's RELAX key)
    component: str  # the model's row block
    key: tuple  # the row's label
    amount: float
    text: str


@dataclass
class Diagnosis:
    status: str  # of the elastic solve
    relaxations: list[Relaxation] = field(default_factory=list)
    iis: list[str] | None = None  # row names, when the LP relaxation is infeasible
    iis_note: str = ""  # why the subset was not computed
    bound: float | None = None  # the elastic solve's lower bound: above 0, some relaxation is needed

    def lines(self) -> list[str]:
        out = [r.text for r in self.relaxations]
        if self.relaxations and self.status != "optimal":
            out.append(f"(not proven the smallest set: the elastic model stopped early, {self.status})")
        if self.iis:
            out.append("The LP relaxation is infeasible too; an irreducible infeasible subset: " + ", ".join(self.iis))
        if self.iis_note:
            out.append(f"(the LP relaxation's irreducible infeasible subset was not computed: {self.iis_note})")
        return out


def _describe(loaded: Loaded, relax: str, component: str, key: tuple, amount: float) -> str:
    family = families.family_of_relaxation(relax)
    if hasattr(family, "describe"):
        return family.describe(loaded.instance, relax, key, amount)
    return f"{component}[{','.join(map(str, key))}]: relax by {amount:.6g}"


def diagnose(loaded: Loaded, weights: dict[str, float] | None = None,
             options: SolveOptions | None = None) -> Diagnosis:
    """Solve the elastic problem and list the relaxations it needs (none if the instance is feasible)."""
    w = {**default_weights(), **(weights or {})}
    data = build_data(loaded.instance, keep_forbidden=True)
    # x_max is derived from the capacities, which the elastic model may relax: use modules_i instead.
    data.pairs["x_max"] = data.industry["modules"].to_numpy(dtype=float)[data.pairs["i"].to_numpy()]
    problem = assemble(data, BuildOptions(elastic=True))
    cost = np.zeros(problem.n_cols)
    for r in problem.relaxations:
        if r.family not in w:
            raise ValueError(f"rows of {r.block} are relaxed as {r.family!r}, which no family declares in RELAX")
        cost[r.relaxed] = w[r.family]
        cost[r.slack] = EPS / r.big
    problem.cost = cost
    opts = options or SolveOptions(mip_gap=0.0)
    result = solve(problem, opts)
    out = Diagnosis(result.status, bound=result.bound)
    order = list(w)
    if result.has_solution:
        x = problem.solution.values
        for r in problem.relaxations:
            block = problem.constraints[r.block]
            for row, col, big in zip(r.rows, r.slack, r.big):
                amount = float(x[col])
                if amount > TOL * max(1.0, big):
                    key = label(block.keys, row)
                    out.relaxations.append(Relaxation(r.family, r.block, key, amount,
                                                      _describe(loaded, r.family, r.block, key, amount)))
    # The cheapest kinds first (a forbid rule, weighed 100, last), then the registry's order.
    out.relaxations.sort(key=lambda r: (w[r.family], order.index(r.family), r.component, r.key))
    try:
        found = iis(assemble(build_data(loaded.instance), BuildOptions()))
    except NotComputed as exc:
        out.iis_note = str(exc)
        return out
    # y of a park already open is data (its open_cost is 0), not a decision anyone could change.
    opened = {f"bound of y[{p}]" for p in data.park.index[data.park["already_open"]]}
    out.iis = None if found is None else [name for name in found if name not in opened]
    return out
