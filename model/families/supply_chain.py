"""`chain` and `cluster` (rule kinds): what moves together, and what gains from moving together.

A `chain` rule links followers F (an industry selector: auto parts) to leaders L (vehicle makers):
a follower's module placed at park p is near a leader when some leader module is placed at a park
q ∈ N(p): p itself (`near: park`), a park of p's province (`near: province`) or a park within `km`
great-circle kilometres (`near: distance`). With placed_t[i,p] = Σ_{τ≤t} x[i,p,τ]:
    chain_leader[r,q,t] ∈ {0,1}:  u[r,q,t] ≤ Σ_{i∈L} placed_t[i,q]        (a leader module at q)
    (u[r,q,t] = 1 as a constant at the `leader_parks`, which hold leaders already: a follower near one
    needs no row)
    must (`must: true`):          placed_t[i,p] ≤ x_max[i,p] · Σ_{q∈N(p)} u[r,q,t]      i ∈ F
    should (bonus or penalty):    v[r,i,p,t] ≤ placed_t[i,p],  v[r,i,p,t] ≤ x_max[i,p] · Σ_{q∈N(p)} u[r,q,t]
                                  chain_bonus_t = Σ_r Σ_{i,p} (bonus_r + penalty_r) · v − penalty_r · placed_t
so that v counts the follower modules near a leader (the objective pushes v up to
min(placed, x_max · [a leader near])) and a follower module not near one costs `penalty`.
Leaders count at a park from one module in all (divisible leaders below one module do not lead).
A `cluster` rule rewards k modules of a group sharing a park (cluster economies):
    cluster_at[r,p,t] ∈ {0,1}:    k_r · c[r,p,t] ≤ Σ_{i∈G} placed_t[i,p]
                                  cluster_bonus_t = Σ_r Σ_p bonus_r · c[r,p,t]
                                    (+ Σ bonus_per_module_r · w[r,i,p,t], w ≤ placed_t[i,p], w ≤ x_max · c)
The bonuses are yearly money, objective terms weighted −1 (benefits); the checker recomputes them
from the plan (each follower placement near a leader or not; each park with at least k modules).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from model import kpis
from model.kpis import Kpi
from model.options import BuildOptions
from model.schema import Amount, Count, Flag, IndustryRef, ParkRef, RuleBase
from model.selectors import industries_of, parks_of
from solvers.problem import Lin, Problem, keys_of, total

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "supply_chain"
RELAX = {"chain": 1.0}


class ChainRule(RuleBase):
    """Followers placed near leaders: must be, or should be with a bonus or a penalty per module."""

    kind: Literal["chain"]
    industries: IndustryRef = Field(description="the followers (e.g. {sector: auto_parts})")
    leaders: IndustryRef | None = Field(None, description="the industries they follow, where those are placed "
                                                          "(e.g. {tags: vehicle_maker})")
    leader_parks: ParkRef | None = Field(None, description="parks that hold leaders already (an existing vehicle "
                                                           "plant): a follower near one is near a leader")
    near: Literal["park", "province", "distance"] = Field(description="the same park, the same province, or "
                                                                       "within `km`")
    km: Amount | None = Field(None, description="great-circle km, with near: distance")
    must: Flag = Field(False, description="every follower module placed must be near a leader")
    bonus: Amount = Field(0.0, description="money a year per follower module placed near a leader")
    penalty: Amount = Field(0.0, description="money a year per follower module placed away from every leader")

    @model_validator(mode="after")
    def _terms(self) -> ChainRule:
        if (self.near == "distance") != (self.km is not None):
            raise ValueError("`km` goes with near: distance, and only with it")
        if self.leaders is None and self.leader_parks is None:
            raise ValueError("follows nothing; give `leaders`, `leader_parks` or both")
        if not self.must and not self.bonus and not self.penalty:
            raise ValueError("neither must nor a bonus or penalty; give `must: true`, `bonus` or `penalty`")
        if self.must and (self.bonus or self.penalty):
            raise ValueError("a bonus or penalty goes with `must: false` (a must leaves nothing to reward); "
                             "give one or the other")
        return self


class ClusterRule(RuleBase):
    """A bonus where at least `min_modules` modules of a group share a park."""

    kind: Literal["cluster"]
    industries: IndustryRef = Field(description="the sector or chain that clusters")
    parks: ParkRef | None = Field(None, description="where clusters count (all parks if absent)")
    min_modules: Count = Field(description="modules of the group at one park that make a cluster")
    bonus: Amount = Field(0.0, description="money a year per park holding a cluster")
    bonus_per_module: Amount = Field(0.0, description="money a year per module of the group in a cluster")

    @model_validator(mode="after")
    def _some(self) -> ClusterRule:
        if not self.bonus and not self.bonus_per_module:
            raise ValueError("has no bonus; give `bonus` or `bonus_per_module`")
        return self


RULES = (ChainRule, ClusterRule)


def validate(rule: Any, path: tuple, refs: Any) -> None:
    """Parks carry locations where a distance is asked; a bonus is rewarded by the objective (the
    model counts a follower near a leader, or a cluster, only where the objective pays for it, so
    its weight must be negative in the objective finally minimised)."""
    bonus = isinstance(rule, ClusterRule) or bool(rule.bonus or rule.penalty)
    if bonus:
        term = "cluster_bonus" if isinstance(rule, ClusterRule) else "chain_bonus"
        objective = refs.raw.data.get("objective") if isinstance(refs.raw.data, dict) else None
        levels = objective.get("lexicographic") if isinstance(objective, dict) else None
        if isinstance(levels, list) and levels and isinstance(levels[-1], dict):
            weights, where = levels[-1].get("weights"), ("objective", "lexicographic", len(levels) - 1, "weights")
            given = weights.get(term, 0.0) if isinstance(weights, dict) else 0.0
        else:
            weights = objective.get("weights") if isinstance(objective, dict) else None
            where = ("objective", "weights")
            given = weights.get(term, -1.0) if isinstance(weights, dict) else -1.0
        if isinstance(given, (int, float)) and not isinstance(given, bool) and given >= 0:
            refs.problem(where if isinstance(weights, dict) else path, f"{term} weighs {given:g} while rule "
                         f"{rule.id} gives a bonus", f"a negative weight on {term} (default -1) in the objective "
                         "finally minimised: the model counts a bonus only where the objective rewards it")
    if isinstance(rule, ChainRule) and rule.near == "distance":
        missing = [p.id for _, p in refs.parts.parks if p.location is None]
        if missing:
            refs.problem((*path, "near"), f"needs park locations; {', '.join(missing[:5])} have none",
                         "location: {lon, lat} on every park, or near: park | province")


def near_parks(rule: ChainRule, inst: Instance) -> dict[str, list[str]]:
    """Park -> the parks whose leaders count for a follower there."""
    parks = inst.parks
    if rule.near == "park":
        return {p.id: [p.id] for p in parks}
    if rule.near == "province":
        return {p.id: [q.id for q in parks if q.province == p.province] for p in parks}
    assert rule.km is not None
    out = {}
    for p in parks:
        assert p.location is not None
        out[p.id] = [q.id for q in parks if q.location is not None and
                     kpis.great_circle_km(p.location.lon, p.location.lat, q.location.lon, q.location.lat)
                     <= rule.km + 1e-9]
    return out


def _placed(problem: Problem, data: Data, rows: np.ndarray, t: int) -> list[Lin]:
    """placed_t of each pair row in `rows`."""
    x = problem.cols("x").reshape(data.count, -1)
    return [Lin(x[: t + 1, r], np.ones(t + 1)) for r in rows]


def _chains(data: Data) -> list[tuple[ChainRule, np.ndarray, np.ndarray]]:
    """(rule, its follower pair rows, the parks a leader could be placed at) of each enabled chain rule."""
    out = []
    for r in data.rules_of(ChainRule):
        followers = np.flatnonzero(data.pair_mask(None, r.industries))
        leaders = np.flatnonzero(data.pair_mask(None, r.leaders)) if r.leaders is not None else np.empty(0, int)
        out.append((r, followers, np.unique(data.pairs["p"].to_numpy()[leaders])))
    return out


def _anchored(rule: ChainRule, data: Data) -> set[str]:
    """Parks near a `leader_parks` park: a follower there is near a leader whatever is placed."""
    if rule.leader_parks is None:
        return set()
    fixed = set(data.park_set(rule.leader_parks))
    return {p for p, near in near_parks(rule, data.inst).items() if fixed & set(near)}


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    _add_chains(problem, data, options)
    _add_clusters(problem, data)


def _key(data: Data, t: int, *parts: str) -> tuple[str, ...]:
    assert data.periods is not None
    return (*parts, data.periods.ids[t]) if data.phased else parts


def _add_chains(problem: Problem, data: Data, options: BuildOptions) -> None:
    chains = _chains(data)
    if not chains:
        return
    pp = data.pairs["p"].to_numpy()
    industry = data.pairs["industry"].to_numpy()
    x_max = data.pairs["x_max"].to_numpy(dtype=float)
    lead = [(r, int(q), t) for r, _, qs in chains for t in range(data.count) for q in qs]
    u: dict[tuple[str, int, int], int] = {}
    if lead:
        problem.add_vars("chain_leader", keys_of(*zip(*[_key(data, t, r.id, data.parks[q]) for r, q, t in lead])),
                         0.0, 1.0, True, "a leader module is placed at the park")
        u = dict(zip([(r.id, q, t) for r, q, t in lead], problem.cols("chain_leader").tolist()))
    present = []  # u ≤ Σ leader modules placed at q
    for r, q, t in lead:
        rows = np.flatnonzero(data.pair_mask(None, r.leaders) & (pp == q))
        present.append(Lin(np.array([u[r.id, q, t]]), np.ones(1)) - total(_placed(problem, data, rows, t)))
    if lead:
        problem.add_lin_rows("chain_leader_present", keys_of(*zip(*[_key(data, t, r.id, data.parks[q])
                                                                    for r, q, t in lead])), present, hi=0.0,
                             doc="a leader counts at a park where one of its modules is")
    must, soft = [], []  # (rule, pair row, t, the leader columns near it; None: a leader park is near)
    for r, followers, qs in chains:
        near = near_parks(r, data.inst)
        index = {data.parks[q]: int(q) for q in qs}
        anchored = _anchored(r, data)
        for t in range(data.count):
            for n in followers:
                park = data.parks[pp[n]]
                cols = None if park in anchored else \
                    np.array([u[r.id, index[q], t] for q in near[park] if q in index], dtype=np.int64)
                if r.must and cols is not None:
                    must.append((r, int(n), t, cols))
                elif not r.must:
                    soft.append((r, int(n), t, cols))
    if must:
        problem.add_lin_rows(
            "chain", keys_of(*zip(*[_key(data, t, r.id, industry[n], data.parks[pp[n]]) for r, n, t, _ in must])),
            [_placed(problem, data, np.array([n]), t)[0] - Lin(cols, np.full(len(cols), x_max[n]))
             for _, n, t, cols in must],
            hi=0.0, doc="a follower only near a leader", relax="chain", big=[x_max[n] for _, n, _, _ in must])
    if soft:
        keys = [_key(data, t, r.id, industry[n], data.parks[pp[n]]) for r, n, t, _ in soft]
        problem.add_vars("chain_near", keys_of(*zip(*keys)), 0.0, np.inf, False,
                         "follower modules placed near a leader")
        v = problem.cols("chain_near")
        lins, names = [], []
        for k, (_, n, t, cols) in enumerate(soft):
            me = Lin(np.array([v[k]]), np.ones(1))
            lins.append(me - _placed(problem, data, np.array([n]), t)[0])
            names.append((*keys[k], "placed"))
            if cols is not None:  # else a leader park is near: v is bounded by the modules placed alone
                lins.append(me - Lin(cols, np.full(len(cols), x_max[n])))
                names.append((*keys[k], "leader"))
        problem.add_lin_rows("chain_near_is", keys_of(*zip(*names)), lins, hi=0.0,
                             doc="near: at most the modules placed, and only with a leader near")


def _add_clusters(problem: Problem, data: Data) -> None:
    assert data.periods is not None
    rules = data.rules_of(ClusterRule)
    if not rules:
        return
    ids = data.periods.ids
    pp = data.pairs["p"].to_numpy()
    x_max = data.pairs["x_max"].to_numpy(dtype=float)
    at: list[tuple[ClusterRule, int, int]] = []
    for r in rules:
        rows = np.flatnonzero(data.pair_mask(r.parks, r.industries))
        at += [(r, int(q), t) for t in range(data.count) for q in np.unique(pp[rows])]
    if not at:
        return
    problem.add_vars("cluster_at", keys_of(*zip(*[(r.id, data.parks[q], *((ids[t],) if data.phased else ()))
                                                  for r, q, t in at])), 0.0, 1.0, True, "a cluster at the park")
    c = problem.cols("cluster_at")
    lins, names, members = [], [], []
    for k, (r, q, t) in enumerate(at):
        rows = np.flatnonzero(data.pair_mask(r.parks, r.industries) & (pp == q))
        lins.append(Lin(np.array([c[k]]), np.array([float(r.min_modules)])) - total(_placed(problem, data, rows, t)))
        names.append((r.id, data.parks[q], *((ids[t],) if data.phased else ())))
        if r.bonus_per_module:
            members += [(k, int(n)) for n in rows]
    problem.add_lin_rows("cluster", keys_of(*zip(*names)), lins, hi=0.0, doc="k modules of the group make a cluster")
    if members:
        problem.add_vars("cluster_member", keys_of(*zip(*[(*names[k], str(data.pairs["industry"].iat[n]))
                                                          for k, n in members])), 0.0, np.inf, False,
                         "modules of the group in a cluster")
        w = problem.cols("cluster_member")
        rows_ = []
        keys = []
        for m, (k, n) in enumerate(members):
            me = Lin(np.array([w[m]]), np.ones(1))
            t = at[k][2]
            rows_ += [me - _placed(problem, data, np.array([n]), t)[0],
                      me - Lin(np.array([c[k]]), np.array([x_max[n]]))]
            keys += [(*names[k], str(data.pairs["industry"].iat[n]), "placed"),
                     (*names[k], str(data.pairs["industry"].iat[n]), "cluster")]
        problem.add_lin_rows("cluster_member_of", keys_of(*zip(*keys)), rows_, hi=0.0,
                             doc="a module counts in a cluster that exists")


def _chain_bonus(problem: Problem, data: Data, t: int) -> Lin:
    """Σ_r Σ (bonus + penalty) · v − penalty · placed_t, over the chain rules with a bonus or penalty."""
    if "chain_near" not in problem.variables:
        return Lin()
    block = problem.var("chain_near")
    v = problem.cols("chain_near")
    by_id = {r.id: r for r in data.rules_of(ChainRule)}
    pos = data.pair_position()
    out = Lin()
    for k in range(len(v)):
        key = [block.keys[j][k] for j in range(len(block.keys))]
        if data.phased and data.periods is not None and key[3] != data.periods.ids[t]:
            continue
        r = by_id[key[0]]
        placed = _placed(problem, data, np.array([pos[key[1], key[2]]]), t)[0]
        out = out + Lin(np.array([v[k]]), np.array([r.bonus + r.penalty])) - placed * r.penalty
    return out


def _cluster_bonus(problem: Problem, data: Data, t: int) -> Lin:
    if "cluster_at" not in problem.variables:
        return Lin()
    keys = problem.var("cluster_at").keys
    c = problem.cols("cluster_at")
    by_id = {r.id: r for r in data.rules_of(ClusterRule)}
    ids = data.periods.ids if data.phased and data.periods is not None else None
    out = Lin()
    for k in range(len(c)):
        rid = keys[0][k]
        if ids is not None and keys[2][k] != ids[t]:
            continue
        out = out + Lin(np.array([c[k]]), np.array([by_id[rid].bonus]))
    if "cluster_member" in problem.variables:
        mkeys = problem.var("cluster_member").keys
        w = problem.cols("cluster_member")
        for m in range(len(w)):
            if ids is not None and mkeys[2][m] != ids[t]:
                continue
            out = out + Lin(np.array([w[m]]), np.array([by_id[mkeys[0][m]].bonus_per_module]))
    return out


def polish(problem: Problem, data: Data) -> None:
    """Set u, v, c and w to what the plan earns, each at the most its rows allow: an incumbent
    stopped early may have left a bonus uncounted (at an optimum they are there already). Rows
    are Σ A·v ≤ hi; a variable's room in a row is hi − (the row's value with the variable at 0)."""
    if problem.solution is None:
        return
    x = problem.solution.values
    if "chain_leader" in problem.variables:  # u − Σ leaders placed ≤ 0: u = 1 where one module is
        u = problem.cols("chain_leader")
        x[u] = 0.0
        placed = -problem.row_values("chain_leader_present")
        x[u] = (placed >= 1 - 1e-9).astype(float)
    if "chain_near" in problem.variables:
        _to_room(problem, "chain_near_is", problem.cols("chain_near"))
    if "cluster_at" in problem.variables:  # k·c − Σ placed ≤ 0: c = 1 where k modules are
        c = problem.cols("cluster_at")
        x[c] = 0.0
        placed = -problem.row_values("cluster")
        x[c] = (placed >= np.array(_cluster_k(problem, data), dtype=float) - 1e-9).astype(float)
    if "cluster_member" in problem.variables:
        _to_room(problem, "cluster_member_of", problem.cols("cluster_member"))


def _to_room(problem: Problem, name: str, cols: np.ndarray) -> None:
    """Each column of `cols` (coefficient +1 in its rows of block `name`) to the least room its rows leave."""
    assert problem.solution is not None
    x = problem.solution.values
    b = problem.constraints[name]
    x[cols] = 0.0
    room = b.hi - problem.row_values(name)
    best = np.full(len(cols), np.inf)
    where = {c: n for n, c in enumerate(cols.tolist())}
    for r, c in zip(b.rows.tolist(), b.cols.tolist()):
        n = where.get(c)
        if n is not None:
            best[n] = min(best[n], room[r])
    x[cols] = np.maximum(np.where(np.isfinite(best), best, 0.0), 0.0)


def _cluster_k(problem: Problem, data: Data) -> list[int]:
    keys = problem.var("cluster_at").keys
    by_id = {r.id: r for r in data.rules_of(ClusterRule)}
    return [by_id[rid].min_modules for rid in keys[0]]


def _check_near(c: CheckContext, rule: ChainRule) -> dict[tuple[str, str], bool]:
    """(follower, park) placed -> whether a leader module is placed near it (this period)."""
    leaders = set(industries_of(c.inst, rule.leaders)) if rule.leaders is not None else set()
    followers = set(industries_of(c.inst, rule.industries))
    at: dict[str, float] = {}
    for (i, p), v in c.plan.x.items():
        if i in leaders:
            at[p] = at.get(p, 0.0) + v
    hosting = {p for p, v in at.items() if v >= 1 - c.tol}  # one module of the leaders in all
    if rule.leader_parks is not None:
        hosting |= set(parks_of(c.inst, rule.leader_parks))
    out = {}
    for (i, p), v in c.plan.x.items():
        if i in followers and v > c.tol:
            here = c.park[p]
            out[i, p] = any(_close_to(rule, here, c.park[q]) for q in hosting)
    return out


def _close_to(rule: ChainRule, a: Any, b: Any) -> bool:
    if rule.near == "park":
        return a.id == b.id
    if rule.near == "province":
        return a.province == b.province
    lon1, lat1, lon2, lat2 = (math.radians(v) for v in (a.location.lon, a.location.lat, b.location.lon,
                                                        b.location.lat))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h))) <= (rule.km or 0.0) + 1e-9


def _check_chain_bonus(c: CheckContext) -> float:
    out = 0.0
    for r in c.rules(ChainRule):
        if r.bonus or r.penalty:
            for (i, p), near in _check_near(c, r).items():
                out += (r.bonus if near else -r.penalty) * c.plan.x[i, p]
    return out


def _check_cluster_bonus(c: CheckContext) -> float:
    out = 0.0
    for r in c.rules(ClusterRule):
        group, where = set(industries_of(c.inst, r.industries)), set(parks_of(c.inst, r.parks))
        at: dict[str, float] = {}
        for (i, p), v in c.plan.x.items():
            if i in group and p in where:
                at[p] = at.get(p, 0.0) + v
        for n in at.values():
            if n >= r.min_modules - c.tol:
                out += r.bonus + r.bonus_per_module * n
    return out


KPIS = (
    Kpi("chain_bonus", "money", "bonus of follower modules placed near a leader, less the penalty of those "
        "that are not (a benefit: weighed −1)", weight=-1.0, limit=False, block=_chain_bonus,
        check_plan=_check_chain_bonus),
    Kpi("cluster_bonus", "money", "bonus of the clusters formed (a benefit: weighed −1)", weight=-1.0, limit=False,
        block=_cluster_bonus, check_plan=_check_cluster_bonus),
)


def check(c: CheckContext) -> list[str]:
    bad = []
    for r in c.rules(ChainRule):
        if not r.must:
            continue
        for (i, p), near in _check_near(c, r).items():
            if not near:
                where = {"park": "at", "province": "in the province of"}.get(r.near, f"within {r.km or 0:g} km of")
                bad.append(f"rule {r.id}: {c.plan.x[i, p]:g} modules of {i} at {p}, but no leader module {where} "
                           f"{p}")
    return bad


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    when = f" in period {label[3]}" if len(label) > 3 and label[3] else ""
    return (f"rule {label[0]} (chain): let {amount:.6g} module(s) of {label[1]} at {label[2]} stand without a "
            f"leader{when}")
