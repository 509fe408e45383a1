"""What every family's rows of the results read: the plan, the solved problem and its prices.

A row of `limits.csv` or `parks.csv` names the model's row it reports (`component`, `index`),
so that `compare`, `explain` and the diagnosis speak of the same rows as the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model.plan import Plan
from solvers.problem import Problem, label

if TYPE_CHECKING:
    from model.data import Data

TOL = 1e-6
LIMIT_COLUMNS = ["rule", "kind", "component", "index", "kpi", "sense", "bound", "value", "unit", "slack", "binding",
                 "shadow_price", "shadow_price_unit"]


@dataclass
class ResultContext:
    data: Data
    problem: Problem | None  # None for a plan read from a file
    plan: Plan

    def periods(self) -> list[tuple[int, str, Data, Plan, set[tuple[str, str]]]]:
        """Per period: (t, its id or "", the data of t, the plan in t, the upgrades whose capacity is there)."""
        out = []
        periods = self.data.periods
        ids = periods.ids if periods is not None else ("",)
        for t, pid in enumerate(ids):
            plan = self.plan.period(t)
            if not self.plan.phased:
                ready = set(plan.upgrades)
            else:
                when = {pu: ids.index(q) for pu, q in self.plan.built.items()}
                assert self.data.ready is not None
                ups = zip(self.data.upgrades["park"], self.data.upgrades["upgrade"])
                ready = {(p, u) for n, (p, u) in enumerate(ups)
                         if (p, u) in when and 0 <= when[p, u] <= self.data.ready[n, t]}
            out.append((t, pid, self.data.at(t), plan, ready))
        return out

    def prices(self, component: str) -> dict[tuple, float]:
        """Shadow price of each row of a block: what loosening it by one unit saves (≥ 0 at an
        optimum). HiGHS's dual is ∂objective/∂right-hand side: an upper bound loosens upwards
        (saving −dual), a lower bound downwards (saving +dual). Empty without duals."""
        if self.problem is None:
            return {}
        duals = self.problem.dual(component)
        if duals is None:
            return {}
        b = self.problem.constraints[component]
        upper = np.isfinite(b.hi) & ~np.isfinite(b.lo)
        save = np.where(upper, -duals, duals)
        save[np.abs(save) < 1e-9] = 0.0
        return {label(b.keys, r): float(save[r]) for r in range(len(b))}


def index_text(key: tuple) -> str:
    return ",".join(map(str, key))


def limit_row(rule: Any, kpi: str, sense: str, bound: float, value: float, slack: float,
              price: float = float("nan"), unit: str = "", component: str = "", index: str = "",
              value_unit: str = "") -> dict:
    """A row of limits.csv; `component[index]` names the row of the model it reports; `unit` is the
    shadow price's, `value_unit` that of the bound and the value."""
    scale = max(1.0, abs(bound))
    return {"rule": rule.id, "kind": rule.kind, "component": component, "index": index, "kpi": kpi,
            "sense": sense, "bound": bound, "value": value, "unit": value_unit, "slack": slack,
            "binding": bool(abs(slack) <= 1e-6 * scale), "shadow_price": price, "shadow_price_unit": unit}
