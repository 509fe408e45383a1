"""`eligibility`: a pair that a `forbid` rule removes gets no variable (the pair set E is sparse).

Nothing is built in the ordinary model: `model/data.py` leaves forbidden pairs out of E, so they
are never created and never fixed to 0. Only the infeasibility diagnosis keeps them
(`build_data(keep_forbidden=True)` with an elastic build), each behind a relaxation of its rule:
    forbid[r,i,p]:  x[i,p] ≤ slack[forbid, r, i, p]      (slack ≤ x_max[i,p] · relaxed)
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from model.data import Data
from model.families.elastic import slack


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    rows = np.flatnonzero(data.pairs["forbidden_by"].to_numpy() != "")
    if not len(rows):
        return
    pairs, xs = data.pairs, m.x_list
    x_max = pairs["x_max"].to_numpy(dtype=float)
    if not getattr(options, "elastic", False):
        raise ValueError("forbidden pairs in an ordinary build; use build_data(keep_forbidden=False)")

    def rule(m: pyo.ConcreteModel, r: int) -> object:
        key = (pairs.at[r, "forbidden_by"], pairs.at[r, "industry"], pairs.at[r, "park"])
        s = slack(m, options, "forbid", key, x_max[r])
        return xs[r] - s <= 0

    m.FORBIDDEN = pyo.Set(initialize=rows.tolist(), ordered=True)
    m.forbid = pyo.Constraint(m.FORBIDDEN, rule=rule, doc="x on a forbidden pair only by relaxing the rule")
