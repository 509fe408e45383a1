"""The data layer: a validated instance as arrays over the sparse set of eligible pairs.

Everything the formulation needs is assembled here, vectorised with numpy over the pair table,
never by Python loops over pairs: a pair's resource use, its per-module KPI coefficients
(cost terms, CO2, value added, jobs), the resolved groups and rules. The families' blocks
(`model/assemble.py`), the results and any heuristic read the same `Data`.

Per-module coefficients of the KPIs (costs, CO2, value added, jobs) are the KPI registry's
(`model/kpis.py`), computed from these arrays on first use (`pair_coef`). A pair's resource use:
    use[i,p,k]        = pairs override if given, else industry i's use of k

The most modules a pair can ever hold, used as the big-M of every
on/off link (a tighter M gives a tighter LP relaxation):
    x_max[i,p] = min(modules_i, min_{k: use[i,p,k] > 0} (cap[p,k] + Σ_{u∈U_p} adds[u,k]) / use[i,p,k]),
rounded down for indivisible industries.

With `periods` (`model/periods.py`), `build_data` makes one `Data` per period from the instance as
it stands then (`resolve`): the pair set is the same in every period, the numbers may differ.
The first period's is returned, holding the others (`at(t)`); its x_max is the largest over the
periods, so that the big-M holds in each (`x_max_by_period[t]` is period t's own). An upgrade
built in period τ adds its capacity in period t when offset_t ≥ offset_τ + lead_time: `ready[u, t]`
is the latest such τ (−1: none).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model import kpis
from model.families.assign import may_retire
from model.pairtable import PairTable
from model.periods import Periods, periods_of, resolve
from model.schema import IndustrySelector, Instance, ParkSelector, RuleBase
from model.selectors import industries_of, parks_of
from solvers.problem import Keys, keys_of


@dataclass
class Data:
    """Index sets and coefficient arrays of one instance (ids keep the instance's order)."""

    inst: Instance
    industries: list[str]
    parks: list[str]
    resources: list[str]
    industry: pd.DataFrame  # index: industry id
    park: pd.DataFrame  # index: park id
    capacity: np.ndarray  # parks × resources
    pairs: pd.DataFrame  # one row per eligible pair: industry, park, i, p, x_max, forbidden_by, pair_cost
    use: np.ndarray  # pairs × resources
    unit_costs: np.ndarray  # parks × resources: money per unit used
    upgrades: pd.DataFrame  # park, upgrade, p, cost, requires (list)
    adds: np.ndarray  # upgrades × resources
    rules: list = field(default_factory=list)  # enabled rules
    removed_by_rule: dict[str, int] = field(default_factory=dict)  # forbid rule id -> pairs it forbids
    forbids: dict[str, np.ndarray] = field(default_factory=dict)  # forbid rule id -> industries × parks mask
    periods: Periods | None = None
    views: list[Data] = field(default_factory=list, repr=False)  # per period; [self] without periods
    ready: np.ndarray | None = None  # upgrades × periods: the latest period of building that adds capacity in t
    x_max_by_period: np.ndarray | None = None  # periods × pairs: x_max as it stands in each period
    _coef: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _position: PairRows | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        """The number of periods (1 without `periods`)."""
        return self.periods.count if self.periods is not None else 1

    @property
    def phased(self) -> bool:
        return self.periods is not None and self.periods.phased

    @property
    def retiring(self) -> np.ndarray:
        """The industries that may close (`may_retire`), by position: the `retire` block's order."""
        return np.flatnonzero(self.industry["may_retire"].to_numpy())

    def tile(self, values: object) -> np.ndarray:
        """Per-item values repeated for every period (blocks over periods are period-major)."""
        return np.tile(np.asarray(values), self.count)

    def keys(self, *columns: object) -> Keys:
        """Keys of a block over items × periods: the items' keys, with the period last when phased."""
        if not self.phased:
            return keys_of(*columns)
        n = len(np.asarray(columns[0], dtype=object))
        assert self.periods is not None
        ids = np.repeat(np.asarray(self.periods.ids, dtype=object), n)
        return keys_of(*(np.tile(np.asarray(c, dtype=object), self.count) for c in columns), ids)

    def at(self, t: int) -> Data:
        """The data as it stands in period t."""
        return self.views[t] if self.views else self

    def park_set(self, ref: str | ParkSelector | None) -> list[str]:
        return parks_of(self.inst, ref)

    def industry_set(self, ref: str | IndustrySelector | None) -> list[str]:
        return industries_of(self.inst, ref)

    def pair_coef(self, kpi: str) -> np.ndarray:
        """Per-module coefficient of a per-pair KPI or of a resource (its use), over the pairs."""
        if kpi not in self._coef:
            self._coef[kpi] = kpis.pair_coef(self, kpi)
        return self._coef[kpi]

    def pair_position(self) -> PairRows:
        """(industry, park) -> its row of the pair table."""
        if self._position is None:
            self._position = PairRows(self)
        return self._position

    def pair_mask(self, parks: object = None, industries: object = None) -> np.ndarray:
        """Boolean mask of the pairs with the park in `parks` and the industry in `industries`."""
        mask = np.ones(len(self.pairs), dtype=bool)
        if parks is not None:
            chosen = np.isin(self.parks, self.park_set(parks))
            mask &= chosen[self.pairs["p"].to_numpy()]
        if industries is not None:
            chosen = np.isin(self.industries, self.industry_set(industries))
            mask &= chosen[self.pairs["i"].to_numpy()]
        return mask

    def rules_of(self, kind: type[RuleBase]) -> list:
        """The enabled rules of one schema class."""
        return [r for r in self.rules if isinstance(r, kind)]


class PairRows(Mapping[tuple[str, str], int]):
    """(industry, park) -> its row of the pair table, by bisection over the rows' codes i·|P| + p:
    the few pairs a plan places are looked up without a dictionary of every pair."""

    def __init__(self, data: Data) -> None:
        self.industry = {i: n for n, i in enumerate(data.industries)}
        self.park = {p: n for n, p in enumerate(data.parks)}
        self.width = max(1, len(data.parks))
        codes = data.pairs["i"].to_numpy(dtype=np.int64) * self.width + data.pairs["p"].to_numpy(dtype=np.int64)
        self.order = np.argsort(codes, kind="stable")
        self.codes = codes[self.order]
        self.data = data

    def __getitem__(self, key: tuple[str, str]) -> int:
        i, p = self.industry.get(key[0]), self.park.get(key[1])
        if i is not None and p is not None:
            code = i * self.width + p
            at = int(np.searchsorted(self.codes, code))
            if at < len(self.codes) and self.codes[at] == code:
                return int(self.order[at])
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        pairs = self.data.pairs
        return zip(pairs["industry"].to_numpy().tolist(), pairs["park"].to_numpy().tolist())

    def __len__(self) -> int:
        return len(self.codes)


def build_data(inst: Instance, keep_forbidden: bool = False) -> Data:
    """Assemble `Data` from a validated instance, one per period (see the module's docstring).

    `keep_forbidden` keeps the pairs a forbid rule removes, marked in column `forbidden_by` (the
    first rule that forbids them; `forbids` has every rule's pairs): only the infeasibility
    diagnosis wants them, to price relaxing a rule. Otherwise they are dropped and `forbidden_by`
    is empty.
    """
    periods = periods_of(inst)
    if not periods.phased:
        data = _build(inst, keep_forbidden)
        data.periods, data.views = periods, [data]
        data.ready = np.zeros((len(data.upgrades), 1), dtype=np.int64)
        return data
    views = [_build(resolve(inst, t), keep_forbidden) for t in range(periods.count)]
    data = views[0]
    data.inst, data.periods, data.views = inst, periods, views
    data.x_max_by_period = np.array([v.pairs["x_max"].to_numpy(dtype=float) for v in views])
    data.pairs["x_max"] = data.x_max_by_period.max(axis=0)
    lead = data.upgrades["lead_time"].to_numpy(dtype=float)
    offset = periods.offset
    ok = offset[None, None, :] >= offset[None, :, None] + lead[:, None, None] - 1e-9  # [u, built τ, t]
    taus = np.arange(periods.count)[None, :, None]
    data.ready = np.where(ok, taus, -1).max(axis=1)
    return data


def _build(inst: Instance, keep_forbidden: bool) -> Data:
    res = list(inst.resources)
    ind_ids = [i.id for i in inst.industries]
    park_ids = [p.id for p in inst.parks]
    n_i, n_p, n_k = len(ind_ids), len(park_ids), len(res)

    closing = may_retire(inst)
    industry = pd.DataFrame({
        "origin": [i.origin for i in inst.industries],
        "sector": [i.sector for i in inst.industries],
        "modules": [i.modules for i in inst.industries],
        "divisible": [i.divisible for i in inst.industries],
        "must_transfer": [i.must_transfer for i in inst.industries],
        "may_retire": [i.id in closing for i in inst.industries],
        "stay_cost": [i.stay_cost for i in inst.industries],
        "stay_co2": [i.co2_process + i.power_use * i.grid_factor for i in inst.industries],
        **{f: [getattr(i, f) for i in inst.industries] for f in (
            "relocation_cost", "value_added", "jobs", "tax", "co2_process", "power_use", "logistics_cost_per_km",
            "retire_cost", "production_capacity")},
        "lon": [i.location.lon if i.location else 0.0 for i in inst.industries],
        "lat": [i.location.lat if i.location else 0.0 for i in inst.industries],
    }, index=pd.Index(ind_ids, name="industry"))
    park = pd.DataFrame({
        "province": [p.province for p in inst.parks],
        "region": [p.region for p in inst.parks],
        "open_cost": [p.open_cost for p in inst.parks],
        "already_open": [p.open_cost == 0 for p in inst.parks],
        "grid_factor": [p.grid_factor for p in inst.parks],
        "power_price": [p.power_price for p in inst.parks],
        "lon": [p.location.lon if p.location else 0.0 for p in inst.parks],
        "lat": [p.location.lat if p.location else 0.0 for p in inst.parks],
    }, index=pd.Index(park_ids, name="park"))
    capacity = np.array([[p.capacity.get(k, 0.0) for k in res] for p in inst.parks], dtype=float)

    # Eligibility: the full industry × park grid less every enabled forbid rule.
    rules = [r for r in inst.rules if r.enabled]
    eligible = np.ones((n_i, n_p), dtype=bool)
    forbidden_by = np.full((n_i, n_p), "", dtype=object)
    removed: dict[str, int] = {}
    forbids: dict[str, np.ndarray] = {}
    for rule in rules:
        if rule.kind == "forbid":
            rows = np.isin(ind_ids, industries_of(inst, rule.industries))
            cols = np.isin(park_ids, parks_of(inst, rule.parks))
            hit = np.outer(rows, cols)  # every pair the rule forbids, whether another rule does too
            forbids[rule.id] = hit
            removed[rule.id] = int(hit.sum())
            forbidden_by[hit & eligible] = rule.id  # the first rule that forbids the pair
            eligible &= ~hit
    ii, pp = np.nonzero(np.ones_like(eligible) if keep_forbidden else eligible)

    use_ind = np.array([[i.use.get(k, 0.0) for k in res] for i in inst.industries], dtype=float)
    use = use_ind[ii].reshape(len(ii), n_k)
    pair_cost = np.zeros(len(ii))
    if len(inst.pairs):
        table = PairTable.of(inst.pairs)
        row = np.full((n_i, n_p), -1, dtype=np.int64)  # the pair table's row of (i, p); -1 if forbidden
        row[ii, pp] = np.arange(len(ii))
        at = row[pd.Index(ind_ids).get_indexer(table.industry), pd.Index(park_ids).get_indexer(table.park)]
        given = (at >= 0) & ~np.isnan(table.cost)  # a pair a rule forbids: its data is not needed
        pair_cost[at[given]] = table.cost[given]
        for k, values in table.use.items():
            given = (at >= 0) & ~np.isnan(values)
            use[at[given], res.index(k)] = values[given]

    unit_costs = np.array([[p.unit_costs.get(k, 0.0) for k in res] for p in inst.parks], dtype=float)
    unit_costs = unit_costs.reshape(n_p, n_k)

    up_rows = [(p.id, u.id, u.cost, list(u.requires), u.lead_time) for p in inst.parks for u in p.upgrades]
    upgrades = pd.DataFrame(up_rows, columns=["park", "upgrade", "cost", "requires", "lead_time"])
    upgrades["p"] = upgrades["park"].map({p: n for n, p in enumerate(park_ids)}).astype(int)
    adds = np.array([[u.adds.get(k, 0.0) for k in res] for p in inst.parks for u in p.upgrades],
                    dtype=float).reshape(len(up_rows), n_k)

    full = capacity.copy()  # capacity with every upgrade built
    if len(up_rows):
        np.add.at(full, upgrades["p"].to_numpy(), adds)
    with np.errstate(divide="ignore", invalid="ignore"):
        fits = np.where(use > 0, full[pp] / np.where(use > 0, use, 1.0), np.inf).min(axis=1)
    modules = industry["modules"].to_numpy(dtype=float)[ii]
    x_max = np.minimum(modules, fits)
    whole = ~industry["divisible"].to_numpy()[ii]
    x_max[whole] = np.floor(x_max[whole] + 1e-9)

    pairs = pd.DataFrame({
        "industry": np.asarray(ind_ids, dtype=object)[ii],
        "park": np.asarray(park_ids, dtype=object)[pp],
        "i": ii, "p": pp, "x_max": x_max, "forbidden_by": forbidden_by[ii, pp],
        "pair_cost": pair_cost,
    })


    return Data(inst, ind_ids, park_ids, res, industry, park, capacity, pairs, use, unit_costs, upgrades, adds,
                rules, removed, forbids)
