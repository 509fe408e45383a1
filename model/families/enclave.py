"""`enclave` parks (飞地经济): a park in a host province co-built with a partner province.

A park with `enclave: {partner: Q, share: s}` (or `contribution: c`, then s = c) gives the partner
the agreed share s of what runs there; with a contribution the partner also pays c of the park's
investment. In period t, with VA_t(p) and TAX_t(p) the value added and tax of the modules placed
at p by t, and INV_t(p) the park's open_cost and upgrade_cost falling in t (`model/kpis.py`):
    enclave_value_added:  s · VA_t(p)        from the host H to the partner Q
    enclave_tax:          s · TAX_t(p)       from H to Q
    enclave_investment:   c · INV_t(p)       from Q to H
These are transfers (`model/transfers.py`): the ledger keeps the on-site (statistical) figures,
value_added and tax where the modules run, and shows the agreed ones next to them
(`value_added_agreed` = value_added + enclave_value_added); a participation rule counts the agreed.
An enclave park may carry its own rule:
    enclave_partner_only[p,i]:  Σ_t x[i,p,t] ≤ 0   for every industry i not from Q (`partner_only`)
and any other rule can name enclave parks through a group (a lower land price is the park's own
`unit_costs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import kpis
from model.options import BuildOptions
from model.schema import ParkSelector
from model.transfers import Flow, Transfer
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data

NAME = "enclave"
TRANSFERS = (
    Transfer("enclave_value_added", "money", "the partner's agreed share of an enclave park's value added",
             follows="value_added"),
    Transfer("enclave_tax", "money", "the partner's agreed share of an enclave park's tax", follows="tax"),
    Transfer("enclave_investment", "money", "the partner's share of an enclave park's open and upgrade costs",
             once=True),
)


def _enclaves(data: Data) -> list[tuple[str, str, object]]:
    return [(p.id, p.province, p.enclave) for p in data.inst.parks if p.enclave is not None]


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    only = {p: e.partner for p, _, e in _enclaves(data) if e.partner_only}
    if not only:
        return
    origin = data.industry["origin"].to_numpy()
    rows = np.flatnonzero([(park in only and origin[i] != only[park])
                           for i, park in zip(data.pairs["i"].to_numpy(), data.pairs["park"].to_numpy())])
    if not len(rows):
        return
    pairs = data.pairs.iloc[rows]
    x = problem.cols("x").reshape(data.count, -1)
    at = np.arange(len(rows))
    problem.add_rows("enclave_partner_only", keys_of(pairs["park"], pairs["industry"]),
                     np.tile(at, data.count), x[:, rows].ravel(), np.ones(len(rows) * data.count), hi=0.0,
                     doc="an enclave park takes only its partner's industries")


def transfers(problem: Problem, data: Data, t: int) -> list[Flow]:
    out = []
    for p, host, e in _enclaves(data):
        here = ParkSelector(ids=[p])
        for measure, kpi in (("enclave_value_added", "value_added"), ("enclave_tax", "tax")):
            amount = kpis.expression(problem, data, kpi, here, None, t) * e.split
            out.append(Flow(measure, p, host, e.partner, amount, 0.0, e.split * kpis.upper(data, kpi, here)))
        if e.invests:
            amount = (kpis.expression(problem, data, "open_cost", here, None, t)
                      + kpis.expression(problem, data, "upgrade_cost", here, None, t)) * e.invests
            big = e.invests * (kpis.upper(data, "open_cost", here) + kpis.upper(data, "upgrade_cost", here))
            out.append(Flow("enclave_investment", p, e.partner, host, amount, 0.0, big))
    return out


def check_transfers(c: CheckContext) -> list[tuple[str, str, str | None, str, float]]:
    out = []
    everyone = set(c.ind)
    for p, park in c.park.items():
        e = park.enclave
        if e is None:
            continue
        split = e.share if e.share is not None else e.contribution
        for measure, kpi in (("enclave_value_added", "value_added"), ("enclave_tax", "tax")):
            out.append((measure, p, park.province, e.partner, split * c.kpi_over(kpi, {p}, everyone)))
        if e.contribution:
            cost = c.kpi_over("open_cost", {p}, everyone) + c.kpi_over("upgrade_cost", {p}, everyone)
            out.append(("enclave_investment", p, e.partner, park.province, e.contribution * cost))
    return out


def check(c: CheckContext) -> list[str]:
    bad = []
    for (i, p), v in c.plan.x.items():
        e = c.park[p].enclave
        if e is not None and e.partner_only and c.ind[i].origin != e.partner and v > c.tol:
            bad.append(f"enclave park {p}: {v:g} modules of {i} from {c.ind[i].origin}, but it takes only "
                       f"industries from {e.partner}")
    return bad
