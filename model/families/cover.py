"""`cover` (formulation `strong_cover`): the open capacity must cover what has to move.

    cover[k]:  Σ_p (cap[p,k]·y[p] + Σ_{u∈U_p} adds[u,k]·w[p,u])
                 ≥  Σ_{i ∈ M} modules_i · min_{p:(i,p)∈E} use[i,p,k]

    M = the must-transfer industries that may not close (`may_retire` false)

Every module of M moves, so it uses at least its smallest use of k at some park, and no park
uses more than it has: the cut is valid. A must-transfer module that may close is "moved or
closed" (`assign`), and closed it uses no park at all: counted in M it made the cut open a park
for nothing (a one-module case: 'optimal' 11 where closing costs 1).

The capacity rows imply the cut for integer y, but not for the LP relaxation: it is the classic
total-capacity cut of capacitated facility location, which lifts the LP bound when fractional y
would open just enough capacity park by park. Rows with a zero right side are not created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.options import BuildOptions
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.data import Data

NAME = "cover"


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    if not options.cover or options.elastic:
        return  # elastic: must_transfer may be relaxed, and the cut would not hold
    n_k = len(data.resources)
    moves = data.industry["must_transfer"].to_numpy() & ~data.industry["may_retire"].to_numpy(dtype=bool)
    must = moves[data.pairs["i"].to_numpy()]
    rows = np.flatnonzero(must)
    need = np.zeros(n_k)
    if len(rows):
        least = pd.DataFrame(data.use[rows]).groupby(data.pairs["i"].to_numpy()[rows]).min()
        modules = data.industry["modules"].to_numpy(dtype=float)[least.index.to_numpy()]
        need = (least.to_numpy() * modules[:, None]).sum(axis=0)
    ks = np.flatnonzero(need > 0)
    where = np.full(n_k, -1)
    where[ks] = np.arange(len(ks))
    last = data.count - 1
    capacity = data.at(last).capacity
    p, k = np.nonzero(capacity[:, ks])
    u, uk = np.nonzero(data.adds[:, ks]) if len(data.upgrades) else (np.empty(0, int), np.empty(0, int))
    assert data.ready is not None
    ready = data.ready[u, last]
    u, uk = u[ready >= 0], uk[ready >= 0]
    y, w = problem.cols("y").reshape(data.count, -1), problem.cols("w").reshape(data.count, -1)
    problem.add_rows("cover", keys_of(np.asarray(data.resources, dtype=object)[ks]), np.r_[k, uk],
                     np.r_[y[last, p], w[data.ready[u, last], u]],
                     np.r_[capacity[:, ks][p, k], data.adds[:, ks][u, uk]], lo=need[ks],
                     doc="open capacity ≥ what must move")
