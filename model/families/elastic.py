"""Elastic slack for the infeasibility diagnosis (`BuildOptions(elastic=True)`); 0 otherwise.

A family writes its row as usual plus `slack(m, options, family, key, big)` on the side that
relaxes it. In an elastic build each call creates
    slack[family, key] ≥ 0,  relaxed[family, key] ∈ {0,1},  slack ≤ big · relaxed,
and `model/diagnose.py` minimises Σ weight_family · relaxed + ε Σ slack / big: the fewest
relaxations first (weighted by family), then the smallest amounts. `big` must bound any slack a
plan could need (e.g. a park's largest possible use for its capacity row).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo


def slack(m: pyo.ConcreteModel, options: object, family: str, key: tuple, big: float) -> Any:
    if not getattr(options, "elastic", False) or big <= 0:
        return 0
    if not hasattr(m, "slack"):
        m.slack = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals, doc="relaxation amount")
        m.relaxed = pyo.Var(pyo.Any, dense=False, domain=pyo.Binary, doc="relaxation used")
        m.slack_on = pyo.ConstraintList(doc="slack ≤ big · relaxed")
        m.slack_big = {}
    idx = (family, *key)
    m.slack_big[idx] = float(big)
    m.slack_on.add(m.slack[idx] - float(big) * m.relaxed[idx] <= 0)
    return m.slack[idx]
