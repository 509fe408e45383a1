"""`diversity` (rule kind `diversity`): against homogeneous competition between parks.

z[s,p] ∈ {0,1} exists only for the sectors s and parks p a diversity rule concerns (and where s
has an eligible pair at p).
    diversity_link[i,p]:          x[i,p] − x_max[i,p] · z[s(i),p] ≤ 0   ∀ (i,p) ∈ E with z[s(i),p]
    sector_open[s,p]:             z[s,p] − y[p] ≤ 0                    (a sector is only at an open park)
    max_parks_per_sector[r,s]:    Σ_{p∈G_r} z[s,p] ≤ max_parks_per_sector_r     ∀ s ∈ S_r
    max_sectors_per_park[r,p]:    Σ_{s∈S_r} z[s,p] ≤ max_sectors_per_park_r     ∀ p ∈ G_r
The two bounds are relaxable, each under its own name (big: the parks of the group, the sectors
of the rule); a bound row with no z (no eligible pair of the sector in the group, or no sector of
the rule at the park) is not created. In the results a sector counts at a park when modules of
it are placed there (z may be 1 without any).

Formulation `tight` (the default) adds a valid inequality per z[s,p] that links two or more
eligible pairs, and per resource k some of them use, with I_s the industries of sector s:
    sector_capacity[s,p,k]:  Σ_{i∈I_s:(i,p)∈E} use[i,p,k]·x[i,p] − cap[p,k]·z[s,p] − Σ_{u∈U_p} adds[u,k]·w[p,u] ≤ 0
Valid (it removes no integer point, so the optimum is the same): if z[s,p] = 0 the diversity links
make every x[i,p] of the sector 0, and the left side is −Σ adds·w ≤ 0; if z[s,p] = 1 then y[p] = 1
(sector_open) and the sector's use is at most the park's whole use, which `capacity[p,k]` bounds by
cap·y + Σ adds·w (uses, capacities and adds are ≥ 0). It is tighter in the LP relaxation: there
z[s,p] must pay for the sector's capacity share (cap·z ≥ the sector's use − the upgrades), where
the diversity links alone let each pair x[i,p] ≤ x_max·z claim the whole park for itself. A row
is made only where the sector's most use Σ_{i∈I_s} use[i,p,k]·x_max[i,p] exceeds cap[p,k] (the
least over the periods): elsewhere the diversity links imply it, Σ use·x ≤ Σ use·x_max ·
max_i (x_i/x_max_i) ≤ cap·z (on china 789 rows of 2,233; the same LP bound, smaller LPs). On the
china sweep it halves HiGHS's time or better (`benchmarks/china_sweep.py`). With
periods it holds in each period t on the modules placed by then, against cap_t and the upgrades
ready by t, as `capacity[p,k,t]` does (z has no period: z = 1 with the park closed in t leaves
nothing placed in t). Not in an elastic problem (capacity may be relaxed there, and the cut with
it), and left out of the LP that prices the rows (a cut, `Problem.add_rows(cut=True)`): the
shadow prices are the capacity rows' own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from model.options import BuildOptions
from model.schema import Count, ParkRef, RuleBase, Words
from model.selectors import parks_of
from model.tables import TOL, ResultContext, limit_row
from solvers.problem import Lin, Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "diversity"
RELAX = {"max_parks_per_sector": 1.0, "max_sectors_per_park": 1.0}
BOUNDS = (("max_parks_per_sector", "parks_per_sector"), ("max_sectors_per_park", "sectors_per_park"))


class DiversityRule(RuleBase):
    """Anti-homogeneous competition: few parks per sector in a group, few sectors per park."""

    kind: Literal["diversity"]
    parks: ParkRef | None = None
    sectors: Words | None = Field(None, description="sectors concerned (all if absent)")
    max_parks_per_sector: Count | None = None
    max_sectors_per_park: Count | None = None

    @model_validator(mode="after")
    def _bound(self) -> DiversityRule:
        if self.max_parks_per_sector is None and self.max_sectors_per_park is None:
            raise ValueError("has no bound; give max_parks_per_sector or max_sectors_per_park")
        return self


RULES = (DiversityRule,)


def validate(rule: DiversityRule, path: tuple, refs: Any) -> None:
    if rule.sectors is not None and not rule.sectors:  # `[]` is not "all" (no key): it would bound nothing
        refs.problem((*path, "sectors"), "an empty list: the rule would bound nothing",
                     "the sectors it bounds, or no `sectors` for all of them")
    seen: set[str] = set()
    for m, s in enumerate(rule.sectors or []):
        if s in seen:  # counted twice, the sector's z would weigh 2 in the bound's row
            refs.problem((*path, "sectors", m), f"sector {refs.describe(s)} listed twice", "each sector once")
        seen.add(s)
    if refs.sectors is not None:
        for m, s in enumerate(rule.sectors or []):
            if s not in refs.sectors:
                refs.problem((*path, "sectors", m), f"no industry has sector {refs.describe(s)}",
                             "one of: " + ", ".join(sorted(refs.sectors)))


def _scopes(data: Data) -> list[tuple[DiversityRule, list[str], list[str]]]:
    everything = sorted(set(data.industry["sector"]))
    return [(r, data.park_set(r.parks), list(dict.fromkeys(r.sectors)) if r.sectors is not None else everything)
            for r in data.rules_of(DiversityRule)]


def _bound_rows(data: Data, zset: set[tuple[str, str]]) -> dict[str, list[tuple[Any, str, list, int, int]]]:
    """Per bound: (rule, where, [(s,p) counted], bound, big) of each row of the model."""
    out: dict[str, list] = {"max_parks_per_sector": [], "max_sectors_per_park": []}
    for r, parks, sectors in _scopes(data):
        if r.max_parks_per_sector:
            for s in sectors:
                zs = [(s, p) for p in parks if (s, p) in zset]
                if zs:
                    out["max_parks_per_sector"].append((r, s, zs, r.max_parks_per_sector, len(parks)))
        if r.max_sectors_per_park:
            for p in parks:
                zs = [(s, p) for s in sectors if (s, p) in zset]
                if zs:
                    out["max_sectors_per_park"].append((r, p, zs, r.max_sectors_per_park, len(sectors)))
    return out


def _zs(data: Data) -> list[tuple[str, str]]:
    pair_sector = data.industry["sector"].to_numpy()[data.pairs["i"].to_numpy()]
    present = set(zip(pair_sector.tolist(), data.pairs["park"].tolist()))  # (s,p) with an eligible pair
    return sorted({(s, p) for _, parks, sectors in _scopes(data) for s in sectors for p in parks if (s, p) in present})


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    zs = _zs(data)
    z = problem.add_vars("z", keys_of([s for s, _ in zs], [p for _, p in zs]), 0.0, 1.0, True,
                         "sector s present at park p").cols
    col = {sp: z[n] for n, sp in enumerate(zs)}
    pairs = pd.DataFrame({"s": data.industry["sector"].to_numpy()[data.pairs["i"].to_numpy()],
                          "p": data.pairs["park"].to_numpy(), "r": np.arange(len(data.pairs))})
    zframe = pd.DataFrame({"s": pd.Series([s for s, _ in zs], dtype=object),
                           "p": pd.Series([p for _, p in zs], dtype=object), "z": z})
    linked = pairs.merge(zframe, on=["s", "p"]).sort_values("r")
    rows = linked["r"].to_numpy()
    n = len(rows)
    x_max = data.pairs["x_max"].to_numpy(dtype=float)
    x = problem.cols("x").reshape(data.count, -1)
    problem.add_rows("diversity_link",
                     keys_of(data.pairs["industry"].to_numpy()[rows], data.pairs["park"].to_numpy()[rows]),
                     np.r_[np.tile(np.arange(n), data.count), np.arange(n)],
                     np.r_[x[:, rows].ravel(), linked["z"].to_numpy()],
                     np.r_[np.ones(n * data.count), -x_max[rows]], hi=0.0, doc="x[i,p] ≤ x_max[i,p] · z[s(i),p]")
    y = problem.cols("y").reshape(data.count, -1)[-1]
    park_no = {p: n for n, p in enumerate(data.parks)}
    m = len(zs)
    problem.add_rows("sector_open", keys_of([s for s, _ in zs], [p for _, p in zs]), np.r_[np.arange(m), np.arange(m)],
                     np.r_[z, [y[park_no[p]] for _, p in zs]].astype(np.int64), np.r_[np.ones(m), -np.ones(m)], hi=0.0,
                     doc="z[s,p] ≤ y[p]")
    if options.sector_capacity and not options.elastic:
        _sector_capacity(problem, data, zs, z, linked["r"].to_numpy(), np.searchsorted(z, linked["z"].to_numpy()))
    for component, found in _bound_rows(data, set(zs)).items():
        problem.add_lin_rows(component, keys_of([r.id for r, *_ in found], [w for _, w, *_ in found]),
                             [Lin([col[sp] for sp in zz], 1.0) for _, _, zz, _, _ in found],
                             hi=[b for *_, b, _ in found], doc=component.replace("_", " ") + " ≤ max",
                             relax=component, big=[g for *_, g in found])


def _sector_capacity(problem: Problem, data: Data, zs: list[tuple[str, str]], z: np.ndarray, rows: np.ndarray,
                     z_of: np.ndarray) -> None:
    """The rows sector_capacity[s,p,k(,t)] (see the docstring): z[j] is column z[s,p] for (s,p) = zs[j];
    `rows` are the pair rows linked to a z, `z_of` the position j of each one's z."""
    n_k, n_t = len(data.resources), data.count
    shared = np.bincount(z_of, minlength=len(z))[z_of] >= 2  # one pair alone: its diversity link is tighter
    rows, z_of = rows[shared], z_of[shared]
    park_no = {p: n for n, p in enumerate(data.parks)}
    z_park = np.array([park_no[p] for _, p in zs], dtype=np.int64)
    most = np.zeros((len(z), n_k))  # the sector's most use of k at the park
    np.add.at(most, z_of, data.use[rows] * data.pairs["x_max"].to_numpy(dtype=float)[rows, None])
    least_cap = np.min([data.at(t).capacity[z_park] for t in range(n_t)], axis=0)
    # Where the sector's most use fits the capacity the cut is implied by the diversity links
    # (Σ use·x ≤ Σ use·x_max·max_i x_i/x_max_i ≤ cap·z): only the others are rows.
    has = most > least_cap * (1 + 1e-9) + 1e-9
    where = np.flatnonzero(has)  # z-major, resources in the instance's order
    m = len(where)
    row = np.full((len(z), n_k), -1)
    row.flat[where] = np.arange(m)
    rz, rk = np.divmod(where, n_k)
    rp = z_park[rz]
    a, k = np.nonzero((data.use[rows] > 0) & has[z_of])
    # every upgrade of a row's park that adds the row's resource
    ups = pd.DataFrame({"u": np.arange(len(data.upgrades)),
                        "p": data.upgrades["p"].to_numpy() if len(data.upgrades) else np.empty(0, dtype=np.int64)})
    found = pd.DataFrame({"row": np.arange(m), "p": rp, "k": rk}).merge(ups, on="p")
    found = found[data.adds[found["u"].to_numpy(), found["k"].to_numpy()] > 0] if len(found) else found
    fr, fu, fk = (found[c].to_numpy(dtype=np.int64) for c in ("row", "u", "k"))
    x, w = problem.cols("x").reshape(n_t, -1), problem.cols("w").reshape(n_t, -1)
    assert data.ready is not None
    ts = [(t, tau) for t in range(n_t) for tau in range(t + 1)]  # modules moved in τ use capacity in t ≥ τ
    built = [(t, data.ready[fu, t] >= 0) for t in range(n_t)]
    problem.add_rows(
        "sector_capacity",
        data.keys([zs[j][0] for j in rz], np.asarray(data.parks, dtype=object)[rp],
                  np.asarray(data.resources, dtype=object)[rk]),
        np.concatenate([t * m + row[z_of[a], k] for t, _ in ts] + [t * m + np.arange(m) for t in range(n_t)]
                       + [t * m + fr[b] for t, b in built]),
        np.concatenate([x[tau, rows[a]] for _, tau in ts] + [z[rz] for _ in range(n_t)]
                       + [w[data.ready[fu[b], t], fu[b]] for t, b in built]),
        np.concatenate([data.use[rows[a], k] for _ in ts] + [-data.at(t).capacity[rp, rk] for t in range(n_t)]
                       + [-data.adds[fu[b], fk[b]] for _, b in built]),
        hi=0.0, doc="a sector's use ≤ capacity · z[s,p] + upgrades", cut=True)


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(DiversityRule):
        ps = set(parks_of(c.inst, r.parks))
        sectors = set(r.sectors) if r.sectors is not None else {a.sector for a in c.ind.values()}
        present = {(c.ind[i].sector, p) for (i, p), v in c.plan.x.items() if v > c.tol and p in ps
                   and c.ind[i].sector in sectors}
        if r.max_parks_per_sector:
            for s in sectors:
                n = sum(1 for s2, _ in present if s2 == s)
                if n > r.max_parks_per_sector:
                    bad.append(f"rule {r.id}: sector {s} at {n} parks > max_parks_per_sector {r.max_parks_per_sector}")
        if r.max_sectors_per_park:
            for p in ps:
                n = sum(1 for _, p2 in present if p2 == p)
                if n > r.max_sectors_per_park:
                    bad.append(f"rule {r.id}: park {p} hosts {n} sectors > "
                               f"max_sectors_per_park {r.max_sectors_per_park}")
    return bad


def rows(ctx: ResultContext) -> dict[str, list[dict]]:
    """One row per row of the model (a sector of the rule, a park of its group), as built."""
    data = ctx.data
    sector = data.industry["sector"]
    present = {(sector[i], p) for (i, p), v in ctx.plan.x.items() if v > TOL}
    out = []
    for component, found in _bound_rows(data, set(_zs(data))).items():
        kpi = dict(BOUNDS)[component]
        for r, where, zs, bound, _ in found:
            value = sum(1 for sp in zs if sp in present)
            out.append(limit_row(r, kpi, "max", bound, value, bound - value, component=component,
                                 index=f"{r.id},{where}", value_unit=kpi.split("_per_")[0]))
    order = {r.id: n for n, r in enumerate(data.rules_of(DiversityRule))}
    out.sort(key=lambda row: order[row["rule"]])  # rule by rule, as the instance lists them
    return {"limits.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    rid, where = label
    if relax == "max_parks_per_sector":
        return f"rule {rid} (max_parks_per_sector): allow sector {where} at {amount:.6g} more park(s)"
    return f"rule {rid} (max_sectors_per_park): allow {amount:.6g} more sector(s) at park {where}"
