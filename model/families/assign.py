"""`assign`: every module of an industry is placed at a park or stays at its origin.

    assign[i]:           Σ_{p:(i,p)∈E} x[i,p] + stay[i] = modules_i        ∀ i ∈ I
    must_transfer:       stay[i] ≤ 0 (as the variable's upper bound)       ∀ i with must_transfer
                         (elastic build: a row stay[i] ≤ slack instead)
    transfer_target[r]:  Σ_{i∈G_r} Σ_p x[i,p] ≥ min_modules_r               (kind: transfer_target)
                     or  Σ_{i∈G_r} Σ_p x[i,p] ≥ min_share_r · Σ_{i∈G_r} modules_i
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from model.data import Data
from model.families import linear
from model.families.elastic import slack


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    xs = m.x_list
    by_industry = data.pairs.groupby("i").indices
    rhs = data.industry["modules"].to_numpy(dtype=float)

    def assign_rule(m: pyo.ConcreteModel, i: str) -> object:
        n = data.industries.index(i)
        rows = by_industry.get(n, np.empty(0, dtype=int))
        expr = linear(np.ones(len(rows)), [xs[r] for r in rows])
        return expr + m.stay[i] == float(rhs[n])

    m.assign = pyo.Constraint(m.I, rule=assign_rule, doc="each module placed or staying")

    if getattr(options, "elastic", False):
        must = [i for i in data.industries if data.industry.at[i, "must_transfer"]]
        m.MUST = pyo.Set(initialize=must, ordered=True)
        m.must_transfer = pyo.Constraint(m.MUST, rule=lambda m, i: m.stay[i] - slack(
            m, options, "must_transfer", (i,), float(data.industry.at[i, "modules"])) <= 0)

    targets = {r.id: r for r in data.target_rules}

    def target_rule(m: pyo.ConcreteModel, rid: str) -> object:
        rule = targets[rid]
        mask = data.pair_mask(industries=rule.industries)
        rows = np.flatnonzero(mask)
        if rule.min_modules is not None:
            bound = rule.min_modules
        else:
            group = data.industry_set(rule.industries)
            bound = rule.min_share * float(data.industry.loc[group, "modules"].sum())
        relax = slack(m, options, "transfer_target", (rid,), float(bound))
        return linear(np.ones(len(rows)), [xs[r] for r in rows]) + relax >= float(bound)

    m.TARGETS = pyo.Set(initialize=list(targets), ordered=True)
    m.transfer_target = pyo.Constraint(m.TARGETS, rule=target_rule, doc="modules moved ≥ target")
