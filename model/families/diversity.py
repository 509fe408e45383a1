"""`diversity` (kind: diversity): against homogeneous competition between parks.

z[s,p] ∈ {0,1} exists only for the sectors s and parks p a diversity rule concerns.
    diversity_link[i,p]:          x[i,p] ≤ x_max[i,p] · z[s(i),p]     ∀ (i,p) ∈ E with z[s(i),p]
    sector_open[s,p]:             z[s,p] ≤ y[p]                      (a sector is only at an open park)
    max_parks_per_sector[r,s]:    Σ_{p∈G_r} z[s,p] ≤ max_parks_per_sector_r     ∀ s ∈ S_r
    max_sectors_per_park[r,p]:    Σ_{s∈S_r} z[s,p] ≤ max_sectors_per_park_r     ∀ p ∈ G_r
"""

from __future__ import annotations

import pyomo.environ as pyo

from model.data import Data
from model.families.elastic import slack


def add(m: pyo.ConcreteModel, data: Data, options: object) -> None:
    sector_of = data.industry["sector"]
    pair_sector = sector_of.to_numpy()[data.pairs["i"].to_numpy()]
    pair_park = data.pairs["park"].to_numpy()
    present = set(zip(pair_sector.tolist(), pair_park.tolist()))  # (s,p) with an eligible pair
    scopes = []
    for r in data.diversity_rules:
        parks = data.park_set(r.parks)
        sectors = r.sectors if r.sectors is not None else sorted(set(sector_of))
        scopes.append((r, parks, sectors))
    zs = sorted({(s, p) for _, parks, sectors in scopes for s in sectors for p in parks if (s, p) in present})
    m.SECTOR_PARK = pyo.Set(initialize=zs, dimen=2, ordered=True)
    m.z = pyo.Var(m.SECTOR_PARK, domain=pyo.Binary, doc="sector s present at park p")

    zset = set(zs)
    rows = [r for r in range(len(pair_sector)) if (pair_sector[r], pair_park[r]) in zset]
    x_max = data.pairs["x_max"].to_numpy(dtype=float)
    xs = m.x_list
    pair_industry = data.pairs["industry"].to_numpy()
    row_of = {(pair_industry[r], pair_park[r]): r for r in rows}
    m.DIVERSITY_PAIRS = pyo.Set(initialize=list(row_of), dimen=2, ordered=True)

    def link_rule(m: pyo.ConcreteModel, i: str, p: str) -> object:
        r = row_of[i, p]
        return xs[r] - float(x_max[r]) * m.z[pair_sector[r], p] <= 0

    m.diversity_link = pyo.Constraint(m.DIVERSITY_PAIRS, rule=link_rule, doc="x[i,p] ≤ x_max[i,p] · z[s(i),p]")
    m.sector_open = pyo.Constraint(m.SECTOR_PARK, rule=lambda m, s, p: m.z[s, p] <= m.y[p],
                                   doc="z[s,p] ≤ y[p]")

    per_sector = [(r.id, s) for r, parks, sectors in scopes if r.max_parks_per_sector for s in sectors
                  if any((s, p) in zset for p in parks)]
    per_park = [(r.id, p) for r, parks, sectors in scopes if r.max_sectors_per_park for p in parks
                if any((s, p) in zset for s in sectors)]
    scope = {r.id: (r, parks, sectors) for r, parks, sectors in scopes}

    def parks_rule(m: pyo.ConcreteModel, rid: str, s: str) -> object:
        r, parks, _ = scope[rid]
        extra = slack(m, options, "diversity", (rid, s), float(len(parks)))
        return sum(m.z[s, p] for p in parks if (s, p) in zset) - extra <= r.max_parks_per_sector

    def sectors_rule(m: pyo.ConcreteModel, rid: str, p: str) -> object:
        r, _, sectors = scope[rid]
        extra = slack(m, options, "diversity", (rid, p), float(len(sectors)))
        return sum(m.z[s, p] for s in sectors if (s, p) in zset) - extra <= r.max_sectors_per_park

    m.PER_SECTOR = pyo.Set(initialize=per_sector, dimen=2, ordered=True)
    m.max_parks_per_sector = pyo.Constraint(m.PER_SECTOR, rule=parks_rule, doc="parks per sector ≤ max")
    m.PER_PARK = pyo.Set(initialize=per_park, dimen=2, ordered=True)
    m.max_sectors_per_park = pyo.Constraint(m.PER_PARK, rule=sectors_rule, doc="sectors per park ≤ max")
