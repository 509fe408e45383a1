"""`objective`: named KPI terms, each a Pyomo Expression, combined by the instance's weights.

    minimise  Σ_t weight_t · KPI_t     t ∈ opening_cost, upgrade_cost, relocation_cost,
                                           operating_cost, logistics_cost, pair_cost, stay_cost,
                                           co2, value_added, jobs
Cost terms weigh 1 unless set; co2's weight is the carbon price (money per co2 unit); value_added
and jobs are benefits, so a planner who wants them gives them negative weights. A lexicographic
objective minimises its levels in turn (`model/run.py`), each later level constrained by
    level_j ≤ optimum_j + tolerance_j · |optimum_j|      for every earlier level j.
"""

from __future__ import annotations

import pyomo.environ as pyo

from model import kpis
from model.data import Data
from model.schema import OBJECTIVE_TERMS


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    for term in OBJECTIVE_TERMS:
        m.add_component(term, pyo.Expression(expr=kpis.total(m, data, term), doc=f"KPI {term}"))
    m.objective = pyo.Objective(expr=weighted(m, data.inst.stages()[0][0]), sense=pyo.minimize,
                                doc="Σ weight × KPI")


def weighted(m: pyo.ConcreteModel, weights: dict[str, float]) -> object:
    """Σ weight × KPI over the named KPI expressions of the model."""
    return sum(w * m.component(t) for t, w in weights.items() if w != 0)
