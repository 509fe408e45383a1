"""`capacity`: labor, infrastructure and ecology quotas alike, with upgrades.

    capacity[p,k]:            Σ_{i:(i,p)∈E} use[i,p,k]·x[i,p] − cap[p,k]·y[p] − Σ_{u∈U_p} adds[u,k]·w[p,u] ≤ 0
                              (relaxable; big: the park's largest possible use of k)
    upgrade_open[p,u]:        w[p,u] − y[p] ≤ 0       (an upgrade is built only at a park that opens)
    upgrade_requires[p,u,v]:  w[p,u] − w[p,v] ≤ 0     (u requires v)
Rows whose left side has no use are not created (they cannot bind: the right side is ≥ 0).
With periods every row holds in each period t, the modules placed by then using the capacity of t
and the upgrades whose lead time has passed (`ready[u,t]`, `model/data.py`):
    capacity[p,k,t]:          Σ_i use[i,p,k]·Σ_{τ≤t} x[i,p,τ] − cap_t[p,k]·y[p,t]
                                − Σ_{u∈U_p: ready[u,t]≥0} adds[u,k]·w[p,u,ready[u,t]] ≤ 0
    upgrade_open[p,u,t], upgrade_requires[p,u,v,t]   as above, period by period
    upgrade_stays[p,u,t]:     w[p,u,t−1] − w[p,u,t] ≤ 0     (an upgrade built stays built)
Results: `parks.csv`, one row per park and resource: use, `capacity` (the instance's, as in the
YAML), `upgrade_capacity` (added by the upgrades built), `available` (capacity · open +
upgrade_capacity), slack, utilisation and the shadow price of the row; with periods, one row per
park, resource and period (`period`): the capacity of that period, the upgrades built by then
(`upgrades`) and the capacity of those whose lead time has passed (`upgrade_capacity`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.options import BuildOptions
from model.periods import periods_of, value
from model.tables import ResultContext, index_text
from solvers.problem import Problem

if TYPE_CHECKING:
    from model.check import CheckContext
    from model.data import Data
    from model.schema import Instance

NAME = "capacity"
RELAX = {"capacity": 1.0}


def add(problem: Problem, data: Data, options: BuildOptions) -> None:
    n_p, n_k, n_t = len(data.parks), len(data.resources), data.count
    pp = data.pairs["p"].to_numpy()
    x, y, w = (problem.cols(b).reshape(n_t, -1) for b in ("x", "y", "w"))
    has = np.zeros((n_p, n_k), dtype=bool)
    np.logical_or.at(has, pp, data.use > 0)
    row = np.full((n_p, n_k), -1)
    where = np.flatnonzero(has)  # park-major, resources in the instance's order
    m = len(where)
    row.flat[where] = np.arange(m)
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
    assert data.ready is not None
    ts = [(t, tau) for t in range(n_t) for tau in range(t + 1)]  # modules moved in τ use capacity in t ≥ τ
    built = [(t, u[data.ready[u, t] >= 0], uk[data.ready[u, t] >= 0]) for t in range(n_t)]
    problem.add_rows(
        "capacity", data.keys(np.asarray(data.parks, dtype=object)[rp], np.asarray(data.resources, dtype=object)[rk]),
        np.concatenate([t * m + row[pp[r], k] for t, _ in ts] + [t * m + np.arange(m) for t in range(n_t)]
                       + [t * m + row[up_park[uu], kk] for t, uu, kk in built]),
        np.concatenate([x[tau, r] for _, tau in ts] + [y[t, rp] for t in range(n_t)]
                       + [w[data.ready[uu, t], uu] for t, uu, _ in built]),
        np.concatenate([data.use[r, k] for _ in ts] + [-data.at(t).capacity[rp, rk] for t in range(n_t)]
                       + [-data.adds[uu, kk] for _, uu, kk in built]),
        hi=0.0, doc="use ≤ capacity + upgrades", relax="capacity", big=data.tile(most[rp, rk]))
    n_u = len(data.upgrades)
    at = np.arange(n_u * n_t)
    problem.add_rows("upgrade_open", data.keys(data.upgrades["park"], data.upgrades["upgrade"]),
                     np.r_[at, at], np.r_[w.ravel(), y[:, up_park].ravel()], np.r_[np.ones(len(at)), -np.ones(len(at))],
                     hi=0.0, doc="upgrades only at open parks")
    pos = {(p, name): n for n, (p, name) in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"]))}
    req = [(p, name, v) for p, name, vs in zip(data.upgrades["park"], data.upgrades["upgrade"],
                                               data.upgrades["requires"]) for v in vs]
    a = np.array([pos[p, name] for p, name, _ in req], dtype=np.int64)
    b = np.array([pos[p, v] for p, _, v in req], dtype=np.int64)
    at = np.arange(len(req) * n_t)
    problem.add_rows("upgrade_requires",
                     data.keys([p for p, _, _ in req], [q for _, q, _ in req], [v for *_, v in req]),
                     np.r_[at, at], np.r_[w[:, a].ravel(), w[:, b].ravel()].astype(np.int64),
                     np.r_[np.ones(len(at)), -np.ones(len(at))], hi=0.0, doc="an upgrade needs its prerequisites")
    if data.phased:
        from model.families.link import stays

        stays(problem, data, "upgrade_stays", "w", np.arange(n_u),
              (data.upgrades["park"].to_numpy(dtype=object), data.upgrades["upgrade"].to_numpy(dtype=object)),
              "an upgrade built stays built")


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
            cap += sum(u.adds.get(k, 0.0) for u in pk.upgrades if (p, u.id) in c.ready)
            if used > cap + c.tol * max(1.0, cap):
                bad.append(f"park {p}: {k} use {used:.6g} > capacity {cap:.6g} {c.unit(k)} "
                           f"(over by {abs(used - cap):.6g})")
    return bad


def rows(r: ResultContext) -> dict[str, list[dict]]:
    data = r.data
    money = data.inst.units.money
    park_no = {p: n for n, p in enumerate(data.parks)}
    pos = data.pair_position()
    prices = r.prices("capacity")
    out = []
    for _, pid, view, plan, ready in r.periods():
        use = np.zeros((len(data.parks), len(data.resources)))
        for (i, p), v in plan.x.items():
            use[park_no[p]] += data.use[pos[(i, p)]] * v
        added = np.zeros_like(use)
        names: dict[str, list[str]] = {}
        built = set(plan.upgrades)
        for n, (p, u) in enumerate(zip(data.upgrades["park"], data.upgrades["upgrade"])):
            if (p, u) in ready:
                added[park_no[p]] += data.adds[n]
            if (p, u) in built:
                names.setdefault(p, []).append(u)
        for n, p in enumerate(data.parks):
            is_open = plan.open.get(p, 0)
            for k, res in enumerate(data.resources):
                cap = view.capacity[n, k] * is_open + added[n, k]
                unit = data.inst.resources[res].unit
                key = (p, res, pid) if data.phased else (p, res)
                row = {"component": "capacity", "index": index_text(key), "park": p,
                       "province": data.park.at[p, "province"], "region": data.park.at[p, "region"]}
                if data.phased:
                    row["period"] = pid
                row.update({"open": is_open, "upgrades": ";".join(names.get(p, [])), "resource": res,
                            "unit": unit, "use": use[n, k], "available": cap,
                            "capacity": view.capacity[n, k], "upgrade_capacity": added[n, k],
                            "slack": cap - use[n, k],
                            "utilisation": use[n, k] / cap if cap > 0 else (0.0 if use[n, k] == 0 else np.inf),
                            "binding": bool(is_open and (cap > 0 or use[n, k] > 0)
                                            and abs(cap - use[n, k]) <= 1e-6 * max(1.0, cap)),
                            "shadow_price": prices.get(key, float("nan")),
                            "shadow_price_unit": f"{money} per {unit}"})
                out.append(row)
    return {"parks.csv": out}


def describe(inst: Instance, relax: str, label: tuple, amount: float) -> str:
    park, res = label[:2]
    cap = next(p for p in inst.parks if p.id == park).capacity[res]
    unit = inst.resources[res].unit
    if len(label) == 3:  # a period's row: the capacity may be given per period
        periods = periods_of(inst)
        now = value(cap, periods.index(label[2]), periods)
        return f"park {park}: {res} short by {amount:.6g} {unit} in period {label[2]} (capacity then {now:g})"
    return (f"park {park}: {res} short by {amount:.6g} {unit} (capacity {cap:g}; "
            f"parks.{park}.capacity.{res}={cap + amount:.6g} would do)")
