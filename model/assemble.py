"""Assemble the problem: the decision variables over the sparse pair set, then every family.

Variables (see `model/families/*` for the rows):
    x[i,p] ∈ [0, modules_i]   modules of industry i placed at park p, (i,p) ∈ E; integer unless divisible
    stay[i] ∈ [0, modules_i]  modules left at the origin; 0 if must_transfer; integer unless divisible
    retire[i] ∈ [0, modules_i]  modules of i closed, only for industries that `may_retire`
    y[p] ∈ {0,1}              park p opens (fixed at 1 where open_cost is 0: it is already open)
    w[p,u] ∈ {0,1}            upgrade u of park p is built
Column r of block `x` is pair row r of `data.pairs`.

With `periods` (`model/periods.py`) the blocks gain the period as their last key, period-major
(`model.kpis.at` gives a period's columns):
    x[i,p,t]   modules of i moving to p in period t (a module moves once, and stays)
    retire[i,t] modules of i closing in period t
    stay[i]    modules that never move nor close
    y[p,t]     p is open in period t;  w[p,u,t]  upgrade u is built by period t
and the families' rows hold period by period. Without periods the blocks are exactly the above.
"""

from __future__ import annotations

import numpy as np

from model import colgen
from model.data import Data
from model.families import FAMILIES
from model.options import BuildOptions
from solvers.problem import Problem, keys_of


def assemble(data: Data, options: BuildOptions | None = None) -> Problem:
    """The problem of `data`, as blocks every back-end materialises."""
    options = options or BuildOptions()
    problem = Problem(data.inst.name, elastic=options.elastic)
    modules = data.industry["modules"].to_numpy(dtype=float)
    whole = ~data.industry["divisible"].to_numpy()
    pi = data.pairs["i"].to_numpy()
    # The bound is modules_i, not the tighter x_max (used as big-M): capacity rows imply x_max, and
    # keeping it off the bound lets a binding capacity row, not the bound, carry the shadow price.
    problem.add_vars("x", data.keys(data.pairs["industry"], data.pairs["park"]), 0.0, data.tile(modules[pi]),
                     data.tile(whole[pi]), "modules of i placed at p" + (" in period t" if data.phased else ""))
    must = data.industry["must_transfer"].to_numpy() & (not options.elastic)
    problem.add_vars("stay", keys_of(data.industries), 0.0, np.where(must, 0.0, modules), whole,
                     "modules left at origin")
    retiring = np.flatnonzero(data.industry["may_retire"].to_numpy())
    if len(retiring):  # only where an industry may close: an instance without keeps its model exactly
        problem.add_vars("retire", data.keys(np.asarray(data.industries, dtype=object)[retiring]), 0.0,
                         data.tile(modules[retiring]), data.tile(whole[retiring]),
                         "modules of i closed" + (" in period t" if data.phased else ""))
    problem.add_vars("y", data.keys(data.parks), data.tile(data.park["already_open"].to_numpy(dtype=float)),
                     1.0, True, "park opens" + (" (open in period t)" if data.phased else ""))
    problem.add_vars("w", data.keys(data.upgrades["park"], data.upgrades["upgrade"]), 0.0, 1.0, True,
                     "upgrade built" + (" by period t" if data.phased else ""))
    for family in FAMILIES:
        family.add(problem, data, options)
    problem.guide = colgen.guide  # the kernel search's start where the problem is a CFLP or a GAP
    return problem
