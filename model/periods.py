"""Time: the periods of a phased instance, values given per period, and discounting.

An instance without `periods` has one period of one year, undiscounted: every factor below is 1,
and the model, its results and its objective are those of a single annualised period.

With `periods: [{id, years}, ...]` (in order) and a `discount_rate` ρ, period t starts
    offset_t = Σ_{τ<t} years_τ     years after the start of the horizon, and money is discounted by
    once_t   = (1+ρ)^−offset_t                                   for a one-off amount in period t
    annual_t = Σ_{y=0}^{years_t−1} (1+ρ)^−(offset_t+y)           for an amount paid every year of t
and the last period's yearly amounts also count for the `terminal_years` after the horizon
(an end-of-horizon value: without it a move late in the horizon pays its one-off cost in full but
earns its yearly savings for the last period's years only):
    annual_T += Σ_{y=years_T}^{years_T+terminal_years−1} (1+ρ)^−(offset_T+y)
A number of the instance that may change over time (a capacity, cost, price, grid factor, cap or
target) is given once (it holds in every period), as a mapping period → value, or as a growth:
    {p2027: 100, p2035: 140}       periods not named take the value of the latest earlier one named
    {value: 100, growth: 0.03}     value_t = value · (1+growth)^offset_t
Data (capacities, costs, prices, grid factors) in a mapping must name the first period. A rule's
bound given as a mapping holds in the periods it names only (a target "by 2030").
`resolve(inst, t)` is the instance as it stands in period t: every such number a plain float.
Rules keep their bounds as given; the families read them with `value` and `named`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from model.schema import Instance


@dataclass(frozen=True)
class ByPeriod:
    """A number given per period: {period id: value}, in the order written."""

    values: dict[str, float]


@dataclass(frozen=True)
class Growth:
    """A number that grows (or declines) at a yearly rate from its value in the first period."""

    value: float
    growth: float


@dataclass(frozen=True)
class Periods:
    """The periods of an instance: ids, years, offsets and discount factors (arrays over periods)."""

    ids: tuple[str, ...]
    years: np.ndarray
    rate: float
    phased: bool  # the instance gives `periods` (else one implicit period of one year)
    terminal: int = 0  # years after the last period that its yearly amounts still count

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def offset(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.years)[:-1]])

    @property
    def once(self) -> np.ndarray:
        """Present value of one unit of money paid at the start of each period."""
        return (1.0 + self.rate) ** -self.offset

    @property
    def annual(self) -> np.ndarray:
        """Present value of one unit of money paid in every year of each period."""
        last = self.count - 1
        return np.array([sum((1.0 + self.rate) ** -(o + y) for y in range(int(n) + (self.terminal if t == last else 0)))
                         for t, (o, n) in enumerate(zip(self.offset, self.years))])

    def index(self, pid: str) -> int:
        return self.ids.index(pid)


def periods_of(inst: Instance) -> Periods:
    if not inst.periods:
        return Periods(("",), np.ones(1), 0.0, False)
    return Periods(tuple(p.id for p in inst.periods), np.array([p.years for p in inst.periods], dtype=float),
                   float(inst.discount_rate), True, int(inst.terminal_years))


def value(v: Any, t: int, periods: Periods) -> Any:
    """A number as it stands in period t (None: a mapping that names no period up to t)."""
    if isinstance(v, ByPeriod):
        found = None
        for pid in periods.ids[: t + 1]:
            found = v.values.get(pid, found)
        return found
    if isinstance(v, Growth):
        try:
            return v.value * (1.0 + v.growth) ** float(periods.offset[t])
        except OverflowError:  # beyond any float: validation refuses it (> 1e12)
            return math.copysign(math.inf, v.value)
    return v


def named(v: Any, periods: Periods) -> list[int] | None:
    """The periods a rule's bound names (a mapping), or None if it holds in every period."""
    if isinstance(v, ByPeriod):
        return [t for t, pid in enumerate(periods.ids) if pid in v.values]
    return None


def largest(v: Any, periods: Periods) -> float:
    """The largest magnitude a number reaches over the periods."""
    return max(abs(value(v, t, periods) or 0.0) for t in range(periods.count))


def is_timed(v: Any) -> bool:
    return isinstance(v, (ByPeriod, Growth))


def _resolved(obj: Any, t: int, periods: Periods) -> Any:
    """A copy of a schema object with every timed number replaced by its value in period t (the
    object itself when it holds none, so that an instance without periods is never copied)."""
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        update = {}
        for name in type(obj).model_fields:
            old = getattr(obj, name)
            new = _resolved(old, t, periods)
            if new is not old:
                update[name] = new
        return obj.model_copy(update=update) if update else obj
    if is_timed(obj):
        return value(obj, t, periods)
    if isinstance(obj, dict):
        out = {k: _resolved(v, t, periods) for k, v in obj.items()}
        return obj if all(out[k] is obj[k] for k in obj) else out
    if isinstance(obj, list):
        new_list = [_resolved(v, t, periods) for v in obj]
        return obj if all(a is b for a, b in zip(new_list, obj)) else new_list
    return obj


def resolve(inst: Instance, t: int) -> Instance:
    """The instance in period t: industries, parks and pairs with plain numbers; rules as given."""
    periods = periods_of(inst)
    update = {}
    for section in ("industries", "parks", "pairs"):
        old = getattr(inst, section)
        new = _resolved(old, t, periods)
        if new is not old:
            update[section] = new
    return inst.model_copy(update=update) if update else inst


def timed_values(obj: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) of every timed number in a schema object, for validation."""
    from pydantic import BaseModel

    out: list[tuple[tuple, Any]] = []
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            out += timed_values(getattr(obj, name), (*path, name))
    elif is_timed(obj):
        out.append((path, obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += timed_values(v, (*path, k))
    elif isinstance(obj, list):
        for n, v in enumerate(obj):
            out += timed_values(v, (*path, n))
    return out

