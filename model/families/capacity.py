"""`capacity`: labor, infrastructure and ecology quotas alike, with upgrades.

    capacity[p,k]:            Σ_{i:(i,p)∈E} use[i,p,k]·x[i,p] − cap[p,k]·y[p] − Σ_{u∈U_p} adds[u,k]·w[p,u] ≤ 0
                              (relaxable; big: the park's largest possible use of k)
    upgrade_open[p,u]:        w[p,u] − y[p] ≤ 0       (an upgrade is built only at a park that opens)
    upgrade_requires[p,u,v]:  w[p,u] − w[p,v] ≤ 0     (u requires v)
Rows whose left side has no use are not created (they cannot bind: the right side is ≥ 0).
Results: `parks.csv`, one row per park and resource: use, `capacity` (the instance's, as in the
YAML), `upgrade_capacity` (added by the upgrades built), `available` (capacity · open +
upgrade_capacity), slack, utilisation and the shadow price of the row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.options import BuildOptions
from model.tables import ResultContext, index_text
from solvers.problem import Problem, keys_of

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "capacity"
RELAX = {"capacity": 1.0}


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    n_p, n_k = len(data.parks), len(data.resources)
    pp = data.pairs["p"].to_numpy()
    x, y, w = problem.cols("x"), problem.cols("y"), problem.cols("w")
    has = np.zeros((n_p, n_k), dtype=bool)
    np.logical_or.at(has, pp, data.use > 0)
    row = np.full((n_p, n_k), -1)
    where = np.flatnonzero(has)  # park-major, resources in the instance's order
    row.flat[where] = np.arange(len(where))
    rp, rk = np.divmod(where, n_k)
    r, k = np.nonzero(data.use)
    keep = has[pp[r], k]
    r, k = r[keep], k[keep]
    up_park = data.upgrades["p"].to_numpy() if len(data.upgrades) else np.empty(0, dtype=int)
    u, uk = np.nonzero(data.adds)
    keep = has[up_park[u], uk] if len(u) else np.empty(0, dtype=bool)
    u, uk = u[keep], uk[keep]
    most = np.zeros((n_p, n_k))
    modules = data.industry["modules"].to_numpy(dtype=float)[data.pairs["i"].to_numpy()]
    np.add.at(most, pp, data.use * modules[:, None])
    problem.add_rows(
        "capacity", keys_of(np.asarray(data.parks, dtype=object)[rp], np.asarray(data.resources, dtype=object)[rk]),
        np.concatenate([row[pp[r], k], np.arange(len(where)), row[up_park[u], uk]]),
        np.concatenate([x[r], y[rp], w[u]]),
        np.concatenate([data.use[r, k], -data.capacity[rp, rk], -data.adds[u, uk]]),
        hi=0.0, doc="use ≤ capacity + upgrades", relax="capacity", big=most[rp, rk])
    n_u = len(data.upgrades)
    problem.add_rows("upgrade_open", keys_of(data.upgrades["park"], data.upgrades["upgrade"]),
                     np.r_[np.arange(n_u), np.arange(n_u)], np.r_[w, y[up_park]], np.r_[np.ones(n_u), -np.ones(n_u)],
                     hi=0.0, doc="upgrades only at open parks")
    pos = {(p, name): n for n, (p, name) in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"]))}
    req = [(p, name, v) for p, name, vs in zip(data.upgrades["park"], data.upgrades["upgrade"],
                                               data.upgrades["requires"]) for v in vs]
    m = len(req)
    problem.add_rows("upgrade_requires", keys_of([a for a, _, _ in req], [b for _, b, _ in req], [c for *_, c in req]),
                     np.r_[np.arange(m), np.arange(m)],
                     np.r_[[w[pos[p, a]] for p, a, _ in req], [w[pos[p, v]] for p, _, v in req]].astype(np.int64),
                     np.r_[np.ones(m), -np.ones(m)], hi=0.0, doc="an upgrade needs its prerequisites")


def check(c: CheckContext) -> list[str]:
    bad = []
    built = set(c.plan.upgrades)
    used_at: dict[tuple[str, str], float] = {}
    for (i, q), v in c.plan.x.items():  # one pass over the plan, not one per park and resource
        for k in c.inst.resources:
            used_at[q, k] = used_at.get((q, k), 0.0) + c.use(i, q, k) * v
    for p, pk in c.park.items():
        ups = {u.id: u for u in pk.upgrades}
        for (pp, u) in built:
            if pp != p:
                continue
            if u not in ups:
                bad.append(f"park {p}: no upgrade {u}")
                continue
            if c.plan.open.get(p, 0) != 1:
                bad.append(f"park {p}: upgrade {u} built at a park that is not open")
            for req in ups[u].requires:
                if (p, req) not in built:
                    bad.append(f"park {p}: upgrade {u} built without its prerequisite {req}")
        for k in c.inst.resources:
            used = used_at.get((p, k), 0.0)
            cap = pk.capacity.get(k, 0.0) * c.plan.open.get(p, 0)
            cap += sum(u.adds.get(k, 0.0) for u in pk.upgrades if (p, u.id) in built)
            if used > cap + c.tol * max(1.0, cap):
                bad.append(f"park {p}: {k} use {used:.6g} > capacity {cap:.6g} {c.unit(k)} "
                           f"(over by {abs(used - cap):.6g})")
    return bad


def rows(r: ResultContext) -> dict[str, list[dict]]:
    data, plan = r.data, r.plan
    money = data.inst.units.money
    park_no = {p: n for n, p in enumerate(data.parks)}
    use = np.zeros((len(data.parks), len(data.resources)))
    pos = data.pair_position()
    for (i, p), v in plan.x.items():
        use[park_no[p]] += data.use[pos[(i, p)]] * v
    added = np.zeros_like(use)
    built = set(plan.upgrades)
    names: dict[str, list[str]] = {}
    for n, (p, u) in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"])):
        if (p, u) in built:
            added[park_no[p]] += data.adds[n]
            names.setdefault(p, []).append(u)
    prices = r.prices("capacity")
    out = []
    for n, p in enumerate(data.parks):
        is_open = plan.open.get(p, 0)
        for k, res in enumerate(data.resources):
            cap = data.capacity[n, k] * is_open + added[n, k]
            unit = data.inst.resources[res].unit
            out.append({"component": "capacity", "index": index_text((p, res)),
                        "park": p, "province": data.park.at[p, "province"], "region": data.park.at[p, "region"],
                        "open": is_open, "upgrades": ";".join(names.get(p, [])), "resource": res,
                        "unit": unit, "use": use[n, k], "available": cap,
                        "capacity": data.capacity[n, k], "upgrade_capacity": added[n, k],
                        "slack": cap - use[n, k],
                        "utilisation": use[n, k] / cap if cap > 0 else (0.0 if use[n, k] == 0 else np.inf),
                        "binding": bool(is_open and (cap > 0 or use[n, k] > 0)
                                        and abs(cap - use[n, k]) <= 1e-6 * max(1.0, cap)),
                        "shadow_price": prices.get((p, res), float("nan")),
                        "shadow_price_unit": f"{money} per {unit}"})
    return {"parks.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    park, res = label
    cap = next(p for p in inst.parks if p.id == park).capacity[res]
    unit = inst.resources[res].unit
    return (f"park {park}: {res} short by {amount:.6g} {unit} (capacity {cap:g}; "
            f"parks.{park}.capacity.{res}={cap + amount:.6g} would do)")
