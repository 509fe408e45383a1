"""Transfers between jurisdictions: what one gives and another gets (the ledger's transfer measures).

A family may move an amount from a payer to a payee in each period: an enclave park's agreed
share of value added and tax (host → partner) and the partner's share of its investment
(partner → host), an eco-compensation payment, a side payment, allowances bought in a carbon
market. Each family that does declares its measures in `TRANSFERS` and gives them twice, as the
KPIs are given (`model/kpis.py`), so that the checker shares nothing with the model:
    transfers(problem, data, t) -> [Flow]        expressions over the problem's columns, for the
                                                 participation rows, the ledger and transfers.csv
    check_transfers(ctx) -> [(measure, rule, payer, payee, amount)]   from the raw fields and the plan
A flow adds `amount` to the payee's account and takes it from the payer's (None: a market, which
keeps no account; the market's flows sum to zero by its own balance row), so that over the
jurisdictions every transfer measure sums to zero. A measure that the model decides (a side
payment, allowances) is `decided`: the plan carries its amounts (`Plan.transfers`); the others
follow from the plan and the instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from solvers.problem import Lin

if TYPE_CHECKING:
    from model.data import Data
    from solvers.problem import Problem


@dataclass(frozen=True)
class Transfer:
    """A transfer measure: its unit (a field of `units`), the ledger measure whose weight it takes in
    a participation rule (None: money received, weight 1 unless given), and whether it is decided."""

    name: str
    unit: str
    doc: str
    follows: str | None = None
    decided: bool = False
    once: bool = False  # a one-off amount of the period it occurs in (else a yearly flow)


@dataclass
class Flow:
    measure: str
    rule: str  # the rule (or the enclave park) it comes from
    payer: str | None  # None: a market
    payee: str
    amount: Lin  # in the period
    status_quo: float = 0.0  # what it would be with every module at its origin
    upper: float = 0.0  # the most it can be in any plan (for the diagnosis's big-M)


def measures() -> dict[str, Transfer]:
    """Every transfer measure the registered families declare, by name."""
    from model.families import FAMILIES

    return {t.name: t for f in FAMILIES for t in getattr(f, "TRANSFERS", ())}


def flows(problem: Problem, data: Data, t: int) -> list[Flow]:
    """Every family's flows in period t."""
    from model.families import FAMILIES

    return [f for fam in FAMILIES if hasattr(fam, "transfers") for f in fam.transfers(problem, data, t)]


def check_flows(ctx: Any) -> list[tuple[str, str, str | None, str, float]]:
    """Every family's flows in the checker's period, from the raw fields and the plan."""
    from model.families import FAMILIES

    return [f for fam in FAMILIES if hasattr(fam, "check_transfers") for f in fam.check_transfers(ctx)]


def decided_key(measure: str, rule: str, payer: str | None, payee: str, period: str) -> tuple[str, str, str, str, str]:
    """The key of a decided amount in `Plan.transfers` ("" for a market and for a single period)."""
    return measure, rule, payer or "", payee, period


def table(problem: Problem, data: Data) -> pd.DataFrame:
    """transfers.csv: one row per flow and period: measure, rule, payer ("" for a market), payee,
    the amount under the plan and under the status quo, and its unit; empty without transfers."""
    from model import kpis

    if problem.solution is None:
        return pd.DataFrame()
    kinds = measures()
    rows = []
    for t in range(data.count):
        for f in flows(problem, data, t):
            amount = f.amount.value(problem.solution.values)
            rows.append({"measure": f.measure, "rule": f.rule, "payer": f.payer or "", "payee": f.payee,
                         **({"period": data.periods.ids[t]} if data.phased and data.periods is not None else {}),
                         "amount": 0.0 if abs(amount) < 1e-9 else amount, "status_quo": f.status_quo,
                         "unit": kpis.unit(data.inst, kinds[f.measure].unit), "decided": kinds[f.measure].decided})
    return pd.DataFrame(rows)
