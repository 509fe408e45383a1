"""`objective`: named KPI terms (`model/kpis.py`), combined by the instance's weights.

    minimise  Σ_t weight_t · KPI_t     over the objective terms of the KPI registry:
              open_cost, upgrade_cost, relocation_cost, operating_cost, logistics_cost,
              pair_cost, stay_cost, co2, value_added, jobs (and any a family adds)
              and any jurisdiction's own KPI, `KPI@J` = K(J) as in the ledger (`model.kpis.in_provinces`:
              what runs in the provinces J stands for, the modules at their origin included)
Cost terms weigh 1 unless set; co2's weight is the carbon price (money per co2 unit); value_added
and jobs are benefits, so a planner who wants them gives them negative weights. A lexicographic
objective minimises its levels in turn (`model/run.py`), each later level constrained by
    levels[j]:  Σ_t weight_jt · KPI_t ≤ optimum_j + tolerance_j · |optimum_j|   for every earlier level j.
The checker recomputes every term from the plan and the instance's raw fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from model import kpis
from model.jurisdictions import expand
from model.options import BuildOptions
from solvers.problem import Problem

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data

NAME = "objective"


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    for term in kpis.objective_terms():
        problem.expressions[term] = kpis.whole(problem, data, term)
    for weights, _ in data.inst.levels():
        for term in weights:
            if "@" in term and term not in problem.expressions:
                kpi, where = own_term(term)
                problem.expressions[term] = kpis.in_provinces(problem, data, kpi, expand([where], data.inst))
    problem.weights = data.inst.levels()[0][0]


def own_term(term: str) -> tuple[str, str]:
    """`value_added@Anhui` -> (value_added, Anhui)."""
    kpi, _, where = term.partition("@")
    return kpi, where


def check(c: CheckContext) -> list[str]:
    """Nothing to break: the terms are recomputed by the checker itself (`CheckContext.kpis`)."""
    return []
