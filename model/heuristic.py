"""A plan in seconds: a regret greedy, a repair towards the targets, a local search, a neighbourhood MIP.

The heuristic works on the assembled problem (lo ≤ A·v ≤ hi, lb ≤ v ≤ ub, some v integer), so it
respects every family, those of today and those to come, without knowing any of them.

**Moves.** The decisions are the `assign` family's: where each module of an industry goes. A move
takes k modules of industry i from one of its *decision columns* to another: stay[i], retire[i,t]
or x[i,p,t]. Every other column (parks opened y, upgrades w, sector flags z, payments, trades, any
family's helper variables) is *auxiliary*: a move sets them by propagation over the rows:

    a move changes v by Δ; every row r it touches must end no further out of [lo_r, hi_r] than it
    was (its violation max(0, lo_r − A_r·v, A_r·v − hi_r) must not grow). A row pushed out is
    brought back by changing one auxiliary column j of that row, in the direction that helps and
    within its bounds, by |excess| / |A_rj| (rounded up when j is integer), choosing the j of
    least objective cost c_j·Δv_j; that change may push other rows, which are mended the same way.
    A move whose propagation cannot mend a row (no auxiliary with room) is refused.

The rows that no auxiliary can mend are the *targets* (a transfer target, a region's share of value
added, a must-transfer industry's stay ≤ 0 bound): their total violation, each row scaled by its
largest coefficient on a decision column,
    D(v) = Σ_r max(0, lo_r − A_r·v, A_r·v − hi_r) / max_j∈decisions |A_rj|  +  Σ_i max(0, stay_i − ub_i),
is what the repair drives to 0.

**Phases.**
1. *Regret greedy.* Every module starts at home (stay = modules). Industries are taken in order of
   regret (the second-cheapest move's cost minus the cheapest, on the objective's coefficients),
   must-transfer industries first. Each places its modules by the cheapest feasible move out of
   stay, whole bundle first, then module by module; a move is made if it lowers the objective,
   or lowers D (a must-transfer industry). Candidates are its 48 cheapest places by estimate (own
   cost plus the open cost of a park not open yet: a lower bound, the auxiliaries' costs being
   ≥ 0), estimated below staying unless the industry must move, among those the rows let in as
   far as their auxiliaries' room to mend them tells (all screened at once) and that no row
   refused a module of the industry before (places alike fill in turn), then tried cheapest
   first until no untried one can beat the best found (or beat staying).
2. *Repair* (half of what time is left when the neighbourhood's MIP follows, the repair of last
   resort). While D > 0: the move of least cost per unit of D removed, among moves of the
   decision columns the violated targets hold; when none is feasible, an ejection chain: a module
   moved out of the row that refused one of the cheapest such moves, then that move.
3. *Local search* (15 % of what time is left): moves of modules from where they are to a cheaper
   place (ΔD ≤ 0), and the closing of parks opened for few modules (move them all, then y = 0).
4. *Neighbourhood MIP*, until the time is up or a round finds nothing better: x restricted to
   each industry's places now and its 4 cheapest by estimate, every other x at 0, solved by
   HiGHS from the plan as a MIP start. It is a restriction of the model, so its plans keep every
   row; it holds the swaps and multi-module exchanges single moves cannot make, and when the
   repair left a target open it is run without a start, as the repair of last resort, widened
   (16, 64... places each, at the widest the model itself) while it holds no plan.

A plan is returned only when the rows, bounds and integrality all hold to 1e-6 on values computed
afresh (A·v from the matrix, not the running sums). It is handed to HiGHS as a MIP start, or
reported alone (`solve --heuristic-only`); either way the independent checker checks it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from model.data import Data
from solvers.control import CONTROL
from solvers.options import SolveOptions
from solvers.problem import Problem, RowBlock, VarBlock

TOL = 1e-6
DECISIONS = ("x", "stay", "retire")


def _past(deadline: float) -> bool:
    """Time to stop: the deadline passed, or Ctrl-C / SIGTERM arrived (the caller runs the heuristic
    in the phase `solving`, where a signal is noted, not raised: the plan so far is kept)."""
    return time.perf_counter() > deadline or CONTROL.stop.is_set()


@dataclass
class HeuristicResult:
    values: np.ndarray | None  # per column, None when no plan was found
    objective: float | None
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)  # objective after each phase
    times: dict[str, float] = field(default_factory=dict)  # seconds from the start to each phase's end
    moves: int = 0
    message: str = ""
    first: float | None = None  # seconds to the first plan that keeps every row


class _State:
    """The running plan: column values, row activities, and the move machinery."""

    def __init__(self, problem: Problem, data: Data) -> None:
        lb, ub, integer = problem.bounds()
        self.lb, self.ub, self.integer = lb, ub, integer
        self.lo, self.hi = problem.row_bounds()
        cost, self.offset = problem.objective()
        self.c = np.asarray(cost, dtype=float)
        start, index, value = problem.matrix()
        n_rows, n_cols = problem.n_rows, problem.n_cols
        self.rowptr, self.rowcol, self.rowval = start, index, value
        # The CSC view, by scipy's counting sort: 0.3 s at 2000 × 500 (21M entries), numpy's
        # stable argsort of the column indices 1.1–1.9 s
        csc = sp.csr_array((value, index, start.astype(index.dtype)), shape=(n_rows, n_cols)).tocsc()
        self.colptr = csc.indptr.astype(np.int64)
        self.colrow, self.colval = csc.indices, csc.data
        self.decision = np.zeros(n_cols, dtype=bool)
        for name in DECISIONS:
            if name in problem.variables:
                self.decision[problem.cols(name)] = True
        self.aux = ~self.decision & (lb < ub)
        # A row's scale in D: its largest coefficient on a decision column (1 if it has none).
        scale = _row_max_abs(start, index, value, self.decision)
        self.scale = np.where(scale > 0, scale, 1.0)
        # Each row's auxiliary entries (CSR restricted to them): the columns that may mend it,
        # taken from the CSC's few auxiliary columns, not by a mask over every entry
        aux_cols = np.flatnonzero(self.aux)
        sub = csc[:, aux_cols].tocsr()
        sub.sort_indices()
        self.auxcol, self.auxval = aux_cols[sub.indices], sub.data
        self.auxptr = sub.indptr.astype(np.int64)
        self.aux_row = np.repeat(np.arange(n_rows), np.diff(self.auxptr))
        self.menders = np.diff(self.auxptr) > 0
        # Decision columns: industry and what they are (stay, retire or a pair's x).
        n_i, n_t = len(data.industries), data.count
        self.n_i = n_i
        self.stay = problem.cols("stay")
        pi = data.pairs["i"].to_numpy()
        self.x = problem.cols("x")
        self.x_industry = np.tile(pi, n_t)
        self.retire = problem.cols("retire") if "retire" in problem.variables else np.empty(0, dtype=np.int64)
        self.retire_industry = np.tile(data.retiring, n_t) if len(self.retire) else np.empty(0, dtype=np.int64)
        targets = np.concatenate([self.x, self.retire])
        owner = np.concatenate([self.x_industry, self.retire_industry])
        order = np.argsort(owner, kind="stable")
        self.targets, owner = targets[order], owner[order]
        self.target_ptr = np.zeros(n_i + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n_i), out=self.target_ptr[1:])
        self.owner = np.full(n_cols, -1, dtype=np.int64)
        self.owner[self.targets] = owner
        self.owner[self.stay] = np.arange(n_i)
        self.modules = data.industry["modules"].to_numpy(dtype=float)
        # The park a pair's x opens (y[p,t]): its open cost is part of a move's cost estimate.
        pp = data.pairs["p"].to_numpy()
        self.opens = np.full(n_cols, -1, dtype=np.int64)
        y = problem.cols("y").reshape(n_t, -1)
        self.opens[self.x] = y[np.repeat(np.arange(n_t), len(pp)), np.tile(pp, n_t)]
        # The start: every module at home, auxiliaries at their lower bounds.
        self.v = lb.copy()
        self.v[self.stay] = self.modules
        self.act = self.activity()
        self.room_down, self.room_up = self.rooms()
        self.pending = np.zeros(n_rows)
        self._strict = False
        self.soft = np.zeros(n_rows, dtype=bool)  # the targets: set once the start is settled

    def activity(self) -> np.ndarray:
        """A·v afresh, from the columns that are not 0 (a plan's few: stay, moves, parks open)."""
        nz = np.flatnonzero(self.v)
        n = self.colptr[nz + 1] - self.colptr[nz]
        at = np.repeat(self.colptr[nz] - np.cumsum(n) + n, n) + np.arange(n.sum())
        return np.bincount(self.colrow[at], weights=self.colval[at] * np.repeat(self.v[nz], n),
                           minlength=len(self.lo))

    def rooms(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row, how far its auxiliaries could lower it and raise it from where they are, each
        within its bounds: Σ_j max over v_j ∈ [lb_j, ub_j] of ∓a_rj·(v_j − v_j now). No
        propagation can mend a row further than that (`screen`); `commit` keeps them current."""
        col, a = self.auxcol, self.auxval
        above, below = self.ub[col] - self.v[col], self.v[col] - self.lb[col]
        down = np.where(a < 0, -a * above, a * below)
        up = np.where(a > 0, a * above, -a * below)
        n = len(self.lo)
        return np.bincount(self.aux_row, down, minlength=n), np.bincount(self.aux_row, up, minlength=n)

    def reset(self, values: np.ndarray) -> None:
        """A new plan: its values, row activities and rooms afresh."""
        self.v = values
        self.act = self.activity()
        self.room_down, self.room_up = self.rooms()

    # -- measures --------------------------------------------------------------------------------

    def violation(self, rows: np.ndarray, act: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, np.maximum(self.lo[rows] - act, act - self.hi[rows]))

    def deficit(self) -> float:
        """D(v): the targets' scaled violation and the stay columns above their bounds."""
        rows = np.flatnonzero(self.soft)
        d = self.violation(rows, self.act[rows]) / self.scale[rows]
        over = np.maximum(0.0, self.v[self.stay] - self.ub[self.stay])
        return float(d[d > TOL].sum() + over.sum())

    def objective(self) -> float:
        return float(self.c @ self.v) + self.offset

    def holders(self, i: int) -> np.ndarray:
        """The decision columns of industry i that hold modules now."""
        cols = np.concatenate([[self.stay[i]], self.targets[self.target_ptr[i]:self.target_ptr[i + 1]]])
        return cols[self.v[cols] > TOL]

    def estimate(self, cols: np.ndarray) -> np.ndarray:
        """A lower bound on the cost of a module moved into each column: its own cost and the
        open cost of a park not open yet (the other auxiliaries' costs are ≥ 0 or unknown)."""
        y = self.opens[cols]
        shut = (y >= 0) & (self.v[np.maximum(y, 0)] < 0.5)
        return self.c[cols] + np.where(shut, np.maximum(self.c[np.maximum(y, 0)], 0.0), 0.0)

    def options(self, i: int, first: int | None = None, below: float | None = None) -> np.ndarray:
        """Industry i's decision columns that could take modules (bounds allow), by estimated
        cost (the `first` cheapest only, if given; only those estimated below `below`, if given)."""
        cols = np.concatenate([[self.stay[i]], self.targets[self.target_ptr[i]:self.target_ptr[i + 1]]])
        cols = cols[self.ub[cols] > self.v[cols] + TOL]
        est = self.estimate(cols)
        if below is not None:
            cols, est = cols[est < below], est[est < below]
        if first is not None and len(cols) > first:
            keep = np.argpartition(est, first)[:first]
            cols, est = cols[keep], est[keep]
        return cols[np.argsort(est, kind="stable")]

    def screen(self, cols: np.ndarray, k: float) -> np.ndarray:
        """The columns that could take k more modules as far as the rows and the rooms of their
        auxiliaries can tell: a quick test of all candidates at once, on their own entries (the
        source's change is not counted, equalities are left out): column t is refused when a row
        r it pushes up would end above hi_r + room_down_r (down: below lo_r − room_up_r), where
        no propagation can bring it back; the move's propagation decides the rest. (A full park
        whose upgrade is taken is refused here, not after its mends: 28,251 of 29,912 moves
        tried at 2000 × 500 were refused by a capacity row when only rows without auxiliaries
        were screened.)"""
        if not len(cols):
            return cols
        s, e = self.colptr[cols], self.colptr[cols + 1]
        n = e - s
        at = np.repeat(s - np.cumsum(n) + n, n) + np.arange(n.sum())
        rows, vals = self.colrow[at], self.colval[at]
        # (equalities are left out: the assign row's change is the source's to balance)
        firm = ~self.soft[rows] & (self.lo[rows] < self.hi[rows])
        new = self.act[rows] + k * vals
        slack = TOL * self.scale[rows]
        bad = firm & ((new > self.hi[rows] + slack + self.room_down[rows]) & (vals > 0)
                      | (new < self.lo[rows] - slack - self.room_up[rows]) & (vals < 0))
        owner = np.repeat(np.arange(len(cols)), n)
        refused = np.zeros(len(cols), dtype=bool)
        refused[owner[bad]] = True
        return cols[~refused]

    # -- a move and its propagation --------------------------------------------------------------

    def propose(self, delta: dict[int, float], limit: int = 60, settle: np.ndarray | None = None
                ) -> tuple[dict[int, float], float, float] | None:
        """The closure of a move (column changes), its cost and its change of D; None if refused.
        Nothing is changed: `commit` applies it. `settle`: rows to bring within their bounds
        (not merely back to where they were), the start's mending."""
        changes: dict[int, float] = {}
        touched: list[np.ndarray] = []
        pending = self.pending
        stay_before = {j: self.v[j] for j in delta if self.owner[j] >= 0 and j in self._stay_set}
        queue: list[np.ndarray] = [] if settle is None else [settle]
        self._strict = settle is not None

        def apply(j: int, d: float) -> None:
            changes[j] = changes.get(j, 0.0) + d
            s, e = self.colptr[j], self.colptr[j + 1]
            rows = self.colrow[s:e]
            pending[rows] += self.colval[s:e] * d
            touched.append(rows)
            queue.append(rows)

        try:
            for j, d in delta.items():
                nv = self.v[j] + d
                if nv < self.lb[j] - TOL or (nv > self.ub[j] + TOL and j not in stay_before):
                    return None
                apply(j, d)
            steps = 0
            while queue:
                rows = np.concatenate(queue) if len(queue) > 1 else queue[0]
                queue.clear()
                now = self.act[rows] + pending[rows]
                was = 0.0 if self._strict else self.violation(rows, self.act[rows])
                # A target is not refused here: its change is the move's ΔD.
                worse = (self.violation(rows, now) > was + TOL * self.scale[rows]) & ~self.soft[rows]
                if worse.any():
                    for r in dict.fromkeys(rows[worse].tolist()):
                        steps += 1
                        if steps > limit or not self._mend(r, changes, apply):
                            self.refused_by = r  # for the message when nothing works
                            return None
            all_rows = np.concatenate(touched) if touched else np.empty(0, dtype=np.int64)
            soft = np.unique(all_rows[self.soft[all_rows]])
            before = self.violation(soft, self.act[soft])
            after = self.violation(soft, self.act[soft] + pending[soft])
            d_rows = float(((after - before) / self.scale[soft]).sum())
            d_stay = 0.0
            for j, old in stay_before.items():
                new = old + changes.get(j, 0.0)
                d_stay += max(0.0, new - self.ub[j]) - max(0.0, old - self.ub[j])
            cost = float(sum(self.c[j] * d for j, d in changes.items()))
            return changes, cost, d_rows + d_stay
        finally:
            for rows in touched:
                pending[rows] = 0.0

    def _mend(self, r: int, changes: dict[int, float], apply: object) -> bool:
        """Bring row r back within what it was, by one auxiliary column; False if none can."""
        s, e = self.auxptr[r], self.auxptr[r + 1]
        if s == e:
            return False
        cols, vals = self.auxcol[s:e], self.auxval[s:e]
        current = self.act[r] + self.pending[r]
        old = self.act[r] if not self._strict else np.clip(self.act[r], self.lo[r], self.hi[r])
        if current > self.hi[r]:
            need = current - max(self.hi[r], old)  # lower the row by this much
            sign = -1.0
        else:
            need = min(self.lo[r], old) - current  # raise the row by this much
            sign = 1.0
        if need <= 0:
            return True
        direction = sign * np.sign(vals)  # the change of each v_j that moves the row the right way
        step = need / np.abs(vals)
        integer = self.integer[cols]
        step = np.where(integer, np.ceil(step - 1e-9), step)
        done = np.array([changes.get(int(j), 0.0) for j in cols])
        value = self.v[cols] + done
        room = np.where(direction > 0, self.ub[cols] - value, value - self.lb[cols])
        room[done * direction < 0] = 0.0  # a closure never takes back its own change (it would cycle)
        full = room + TOL >= step
        if full.any():
            # Ties go to an integer column: a switch (a binary choosing a branch) mends for good
            # where a continuous amount would push the row's sibling (a ≤ budget) out in turn.
            cost = np.where(full, self.c[cols] * direction * step - 1e-9 * integer, np.inf)
            n = int(np.argmin(cost))
            apply(int(cols[n]), float(direction[n] * step[n]))  # type: ignore[operator]
            return True
        amount = np.where(room > TOL, room * np.abs(vals), 0.0)
        n = int(np.argmax(amount))
        if amount[n] <= 0:
            return False
        # The largest partial mend: the row comes back to the queue and the next column mends the rest.
        apply(int(cols[n]), float(direction[n] * room[n]))  # type: ignore[operator]
        return True

    def commit(self, changes: dict[int, float]) -> None:
        for j, d in changes.items():
            s, e = self.colptr[j], self.colptr[j + 1]
            rows, change = self.colrow[s:e], self.colval[s:e] * d
            self.act[rows] += change
            self.v[j] += d
            if self.aux[j]:  # its rows' rooms: each entry's share moves by a·Δv
                self.room_down[rows] += change
                self.room_up[rows] -= change

    @property
    def _stay_set(self) -> set[int]:
        if not hasattr(self, "_stays"):
            self._stays = set(int(j) for j in self.stay)
        return self._stays

    def move(self, source: int, target: int, k: float) -> tuple[dict[int, float], float, float] | None:
        return self.propose({source: -k, target: k})

    def verify(self, problem: Problem) -> list[str]:
        """What the plan breaks, computed afresh (empty: a feasible plan)."""
        act = self.act = self.activity()
        out = []
        bad = np.flatnonzero(self.violation(np.arange(len(act)), act) > TOL * np.maximum(1.0, np.abs(act)))
        names = None
        for r in bad[:3]:
            names = names or _row_names(problem)
            out.append(f"row {names(r)}: {act[r]:.6g} not in [{self.lo[r]:.6g}, {self.hi[r]:.6g}]")
        if len(bad) > 3:
            out.append(f"and {len(bad) - 3} more rows")
        off = np.flatnonzero((self.v < self.lb - TOL) | (self.v > self.ub + TOL))
        col = _col_names(problem)
        for j in off[:3]:
            out.append(f"{col(j)}: {self.v[j]:.6g} not in [{self.lb[j]:.6g}, {self.ub[j]:.6g}]")
        if len(off) > 3:
            out.append(f"and {len(off) - 3} more columns outside their bounds")
        frac = np.flatnonzero(self.integer & (np.abs(self.v - np.round(self.v)) > TOL))
        if len(frac):
            out.append(f"{len(frac)} integer columns fractional")
        return out


def _row_max_abs(start: np.ndarray, index: np.ndarray, value: np.ndarray, on: np.ndarray,
                 chunk: int = 1 << 20) -> np.ndarray:
    """Per row of a CSR matrix, the largest |value| over its entries in the columns `on` (0 if
    none), a slice of rows at a time: a temporary as long as the matrix (21M entries at 2000 ×
    500) costs more in fresh pages than the arithmetic."""
    n = len(start) - 1
    out = np.zeros(n)
    r = 0
    while r < n:
        e = max(int(np.searchsorted(start, start[r] + chunk, side="right")) - 1, r + 1)
        a, b = int(start[r]), int(start[e])
        if b > a:
            w = np.abs(value[a:b])
            w[~on[index[a:b]]] = 0.0
            full = start[r + 1:e + 1] > start[r:e]
            out[r:e][full] = np.maximum.reduceat(w, start[r:e][full] - a)
        r = e
    return out


def _namer(blocks: Iterable[VarBlock | RowBlock]) -> Callable[[int], str]:
    """`block[key,...]` of a column or row number, for the messages (as Pyomo names them)."""
    starts = [(b.start, b) for b in blocks]

    def name(n: int) -> str:
        for s, b in reversed(starts):
            if n >= s:
                return f"{b.name}[{','.join(str(k[n - s]) for k in b.keys)}]"
        return str(n)

    return name


def _col_names(problem: Problem) -> Callable[[int], str]:
    return _namer(problem.variables.values())


def _row_names(problem: Problem) -> Callable[[int], str]:
    return _namer(problem.constraints.values())


def _regret_order(st: _State) -> np.ndarray:
    """Industries by regret (second-cheapest minus cheapest move out of stay, on the objective's
    coefficients alone), must-transfer industries first."""
    base = st.c[st.targets] - np.repeat(st.c[st.stay], np.diff(st.target_ptr))
    owner = np.repeat(np.arange(st.n_i), np.diff(st.target_ptr))
    order = np.lexsort((base, owner))
    base, owner = base[order], owner[order]
    first = np.searchsorted(owner, np.arange(st.n_i))
    count = np.diff(st.target_ptr)
    best = np.where(count > 0, base[np.minimum(first, len(base) - 1)] if len(base) else 0.0, np.inf)
    second = np.where(count > 1, base[np.minimum(first + 1, len(base) - 1)] if len(base) else 0.0, np.inf)
    with np.errstate(invalid="ignore"):  # inf − inf where an industry has no place: np.where drops it
        regret = np.where(np.isfinite(second), second - best, np.where(np.isfinite(best), 1e12, -1.0))
    must = st.ub[st.stay] < st.modules - TOL
    return np.lexsort((-regret, ~must))


def _best_move(st: _State, source: int, k: float, candidates: np.ndarray, need_d: bool,
               max_tries: int = 40, any_cost: bool = False, refused: set[int] | None = None
               ) -> tuple[dict[int, float], float, float] | None:
    """The cheapest feasible move of k modules from `source` to one of `candidates` (cheapest
    first), that lowers the objective, or lowers D when `need_d` (any move with ΔD ≤ 0 when
    `any_cost`). `refused` collects the candidates whose move the rows refused."""
    best, best_score = None, np.inf
    tries = 0
    for t in candidates:
        if t == source:
            continue
        base = (st.estimate(np.array([t]))[0] - st.c[source]) * k
        if base >= best_score - 1e-12 and best is not None:
            break  # propagation adds costs ≥ 0 here: no later candidate can win
        if base >= -1e-9 and not (need_d or any_cost):
            break  # nor lower the objective: at 2000 × 500, 12 tries each for most industries
        tries += 1
        if tries > max_tries:
            break
        m = st.move(source, int(t), k)
        if m is None:
            if refused is not None:
                refused.add(int(t))
            continue
        changes, cost, d = m
        if d > TOL:
            continue
        if (any_cost or cost < -1e-9 or (need_d and d < -TOL)) and cost < best_score:
            best, best_score = m, cost
    return best


def _repair_move(st: _State, deadline: float) -> tuple[dict[int, float], float, float] | None:
    """The move of least cost per unit of D removed, among moves of the decision columns that the
    violated targets contain (in the direction that helps them)."""
    rows = np.flatnonzero(st.soft & (st.violation(np.arange(len(st.act)), st.act) > TOL * st.scale))
    up: set[int] = set()  # decision columns whose increase helps a violated target
    down: set[int] = set()
    for r in rows:
        s, e = st.rowptr[r], st.rowptr[r + 1]
        cols, vals = st.rowcol[s:e], st.rowval[s:e]
        dec = st.decision[cols]
        raise_row = st.act[r] < st.lo[r]
        helps_up = (vals > 0) == raise_row
        up.update(int(c) for c in cols[dec & helps_up])
        down.update(int(c) for c in cols[dec & ~helps_up & (st.v[cols] > TOL)])
    over = st.stay[st.v[st.stay] > st.ub[st.stay] + TOL]
    down.update(int(c) for c in over)
    candidates: list[tuple[float, int, int, float]] = []
    for t in up:
        i = int(st.owner[t])
        for src in st.holders(i):
            if int(src) != t:
                k = min(1.0, st.v[src]) if st.integer[src] else st.v[src]
                candidates.append((st.c[t] - st.c[src], int(src), t, k))
    for src in down:
        i = int(st.owner[src])
        k = min(1.0, st.v[src]) if st.integer[src] else st.v[src]
        for t in st.options(i)[:20]:
            if int(t) != src:
                candidates.append((st.c[t] - st.c[src], src, int(t), k))
    candidates.sort()
    best, best_ratio = None, np.inf
    refused: list[tuple[int, int, float, int]] = []
    for n, (_, src, t, k) in enumerate(candidates):
        if n % 64 == 0 and _past(deadline):
            break
        st.refused_by = None
        m = st.move(src, t, k)
        if m is None:
            if st.refused_by is not None and len(refused) < 40:
                refused.append((src, t, k, st.refused_by))
            continue
        if m[2] >= -TOL:
            continue
        ratio = m[1] / -m[2]
        if ratio < best_ratio:
            best, best_ratio = [m[0]], ratio
    if best is None:  # an ejection chain: make room in the row that refused a move, then make it
        for src, t, k, r in refused:
            if _past(deadline):
                break
            for first in _make_room(st, r):
                st.commit(first[0])
                m = st.move(src, t, k)
                st.commit({c: -d for c, d in first[0].items()})
                if m is None or m[2] + first[2] >= -TOL:
                    continue
                ratio = (m[1] + first[1]) / -(m[2] + first[2])
                if ratio < best_ratio:
                    best, best_ratio = [first[0], m[0]], ratio
                break
    return best


def _make_room(st: _State, r: int, tries: int = 6) -> list[tuple[dict[int, float], float, float]]:
    """Moves that loosen row r: a module of a decision column in it moved elsewhere (ΔD ≤ 0),
    cheapest first."""
    s, e = st.rowptr[r], st.rowptr[r + 1]
    cols, vals = st.rowcol[s:e], st.rowval[s:e]
    # Which side refused: the upper bound when it is the nearer one (or the only one).
    over = bool(np.isfinite(st.hi[r]) and (not np.isfinite(st.lo[r]) or st.hi[r] - st.act[r] < st.act[r] - st.lo[r]))
    helps = st.decision[cols] & (st.v[cols] > TOL) & ((vals > 0) == over)
    out = []
    weight = np.abs(vals[helps]) * st.v[cols[helps]]
    for src in cols[helps][np.argsort(-weight, kind="stable")][:tries]:  # the biggest share of the row first
        src = int(src)
        i = int(st.owner[src])
        k = min(1.0, st.v[src]) if st.integer[src] else st.v[src]
        m = _best_move(st, src, k, st.options(i), need_d=True, max_tries=10, any_cost=True)
        if m is not None:
            out.append(m)
    return sorted(out, key=lambda m: m[1])


def _chunks(st: _State, i: int, amount: float) -> list[float]:
    whole = bool(st.integer[st.stay[i]])
    if amount <= TOL:
        return []
    one = 1.0 if whole else min(1.0, amount)
    return [amount] if amount <= one + TOL else [amount, one]


def heuristic(problem: Problem, data: Data, time_limit: float = 5.0, local_search: bool = True,
              neighbourhood: bool = True, options: SolveOptions | None = None,
              quick: bool = False) -> HeuristicResult:
    """A feasible plan of `problem` (its current objective weights), or None with the reason.
    `options`: the solver options the neighbourhood's MIP keeps (threads, seed, raw options; its
    time limit is the heuristic's own). `quick`: a search that improves plans better follows (the
    kernel search): the first plan and the local search's share of the time, no neighbourhood MIP."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    st = _State(problem, data)
    out = HeuristicResult(None, None, 0.0)
    moves = 0
    off = np.flatnonzero(st.menders & (st.violation(np.arange(len(st.act)), st.act) > TOL))
    if len(off):  # the start's auxiliaries, brought within the rows they can mend
        m = st.propose({}, limit=10 * len(off) + 100, settle=off)
        if m is not None:
            st.commit(m[0])
    # The targets: rows the start breaks and no auxiliary mends. Every other row is kept.
    st.soft = st.violation(np.arange(len(st.act)), st.act) > TOL * st.scale
    # 1. Regret greedy.
    for i in _regret_order(st):
        if _past(deadline):
            break
        i = int(i)
        src = int(st.stay[i])
        must = st.ub[src] < st.modules[i] - TOL
        # Places the rows refused one module, left out of the next tries for this industry (places
        # alike by estimate fill in turn: the cheapest 48 may all be full while others are empty).
        refused: set[int] = set()
        while st.v[src] > TOL and not _past(deadline):  # module by module: a bundle may be large
            done = False
            chunks = _chunks(st, i, st.v[src])
            for n, k in enumerate(chunks):
                last = n == len(chunks) - 1  # the whole bundle is tried once, a module until none is refused
                for _ in range(2):  # a second round past refused places: more cost more than they find
                    if _past(deadline):
                        break
                    # only a move that lowers the objective is made, unless the industry must
                    # move: its estimate (a lower bound) must be below staying's cost
                    cols = st.options(i, below=None if must else float(st.c[src]))
                    if refused:
                        cols = cols[~np.isin(cols, np.fromiter(refused, dtype=np.int64, count=len(refused)))]
                    seen = len(refused)
                    # The 48 cheapest screened first; all of them screened only when none of those
                    # passes (screening 500 places per module made 2000 × 500 take 18 s, not 3).
                    near = st.screen(cols[:48], k)
                    near = near if len(near) else st.screen(cols, k)[:48]
                    m = _best_move(st, src, k, near, need_d=must, max_tries=12,
                                   refused=refused if last else None)
                    if m is not None:
                        st.commit(m[0])
                        moves += 1
                        done = True
                    if done or not last or len(refused) == seen:
                        break
                if done:
                    break
            if not done:
                break
    out.phases["greedy"] = st.objective()
    out.times["greedy"] = time.perf_counter() - t0
    # 2. Repair towards the targets.
    d = st.deficit()
    # Half of what time is left, with the neighbourhood's MIP to follow: it is the repair of last
    # resort, and a target over many columns can take the repair's moves all the time there is.
    until = deadline if not neighbourhood else time.perf_counter() + 0.5 * (deadline - time.perf_counter())
    while d > TOL and not _past(until):
        best = _repair_move(st, until)
        if best is None:
            break
        for changes in best:
            st.commit(changes)
            moves += 1
        d = st.deficit()
    out.phases["repair"] = st.objective()
    out.times["repair"] = time.perf_counter() - t0
    if d <= TOL and not st.verify(problem):
        out.first = time.perf_counter() - t0  # the first plan that keeps every row
    # 3. Local search.
    if local_search and d <= TOL:
        improved = True
        # A share of the time: the neighbourhood's MIP below (or the search that follows) finds more per second.
        share = 0.15 if neighbourhood or quick else 1.0
        stop = time.perf_counter() + share * (deadline - time.perf_counter())
        while improved and not _past(stop):
            improved = False
            for i in range(st.n_i):
                if _past(stop):
                    break
                for src in st.holders(i):
                    src = int(src)
                    for k in _chunks(st, i, st.v[src]):
                        m = _best_move(st, src, k, st.options(i), need_d=False, max_tries=10)
                        if m is not None and m[2] <= TOL:
                            st.commit(m[0])
                            moves += 1
                            improved = True
                            break
            improved = _close_parks(st, stop) or improved
        out.phases["local_search"] = st.objective()
        out.times["local_search"] = time.perf_counter() - t0
    # 4. The neighbourhood's MIP: each industry's modules where they are or at its few cheapest
    # places, every other x at 0, solved by HiGHS from the plan (or, when the repair left targets
    # open, without one: a restriction of the model, so any plan it finds keeps every row).
    problems = st.verify(problem)
    rounds = 0
    places, widest = 4, int(np.diff(st.target_ptr).max(initial=0))
    while neighbourhood and not quick and not _past(deadline - 0.5):
        values = _neighbourhood(problem, st, deadline, start=not problems, k=places, options=options)
        if values is None:
            if problems and places < widest:  # the repair of last resort: its restriction held no plan,
                places *= 4  # a wider one may (at the widest, the model itself)
                continue
            break
        st.reset(values)  # a new centre: the next round's places are around this plan
        problems = st.verify(problem)
        rounds += 1
        out.phases[f"neighbourhood {rounds}"] = st.objective()
        out.times[f"neighbourhood {rounds}"] = time.perf_counter() - t0
    out.moves = moves
    out.seconds = time.perf_counter() - t0
    if problems:
        # Stopped by the time (or a signal) before the neighbourhood's MIP could finish: that is
        # no sign the instance has no plan, and the message must not read as one.
        late = _past(deadline - 0.5) if neighbourhood and not quick else _past(deadline)
        why = f" in the {time_limit:.1f} s it had (more time, or the solver, may find one)" if late else ""
        out.message = f"the heuristic found no plan{why} that keeps every rule: " + "; ".join(problems)
        return out
    st.v[st.integer] = np.round(st.v[st.integer])
    out.values = st.v
    out.objective = st.objective()
    return out


def _neighbourhood(problem: Problem, st: _State, deadline: float, start: bool, k: int = 4,
                   options: SolveOptions | None = None) -> np.ndarray | None:
    """The best plan HiGHS finds by the deadline with x restricted to each industry's holders and
    its k cheapest places (by estimate); None if it finds none better."""
    from solvers import highs_direct

    x = problem.var("x")
    est = st.estimate(st.targets)
    owner = np.repeat(np.arange(st.n_i), np.diff(st.target_ptr))
    order = np.lexsort((est, owner))
    rank = np.arange(len(order)) - st.target_ptr[owner[order]]
    chosen = st.targets[order][rank < k]
    keep = np.zeros(problem.n_cols, dtype=bool)
    keep[chosen] = True
    keep[st.v > TOL] = True
    shut = ~keep[x.cols]
    saved = x.ub.copy()
    x.ub[shut] = 0.0
    try:
        h = highs_direct.load(problem, reduce=True)
    finally:
        x.ub[:] = saved
    limit = max(0.1, deadline - time.perf_counter())
    # HiGHS runs here, in this process: Ctrl-C or SIGTERM (noted in CONTROL) asks it to stop, and its
    # plan so far is kept, as a solver's incumbent is.
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if CONTROL.stop.wait(0.05):
                highs_direct.cancel(h)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        sub = replace(options or SolveOptions(), time_limit=limit, mip_gap=None)
        result, values = highs_direct.run(h, problem, sub, st.v.copy() if start else None)
    finally:
        done.set()
        watcher.join()
    if values is None or result.objective is None:
        return None
    if start and result.objective >= st.objective() - 1e-9 * max(1.0, abs(st.objective())):
        return None
    return values


def _close_parks(st: _State, deadline: float) -> bool:
    """Lower every costly auxiliary the rows allow; where one is held up by decisions alone (a
    park open for its modules), try moving those modules elsewhere and lowering it then."""
    improved = False
    costly = np.flatnonzero(st.aux & (st.c > 0) & (st.v > st.lb + TOL))
    for j in costly[np.argsort(-st.c[costly])]:
        if _past(deadline):
            break
        j = int(j)
        m = st.propose({j: st.lb[j] - st.v[j]})
        if m is not None and m[1] < -1e-9 and m[2] <= TOL:
            st.commit(m[0])
            improved = True
            continue
        # The decision columns in rows of j that hold it up: move their modules, then lower j.
        s, e = st.colptr[j], st.colptr[j + 1]
        held = set()
        for r in st.colrow[s:e]:
            rs, re = st.rowptr[r], st.rowptr[r + 1]
            cols = st.rowcol[rs:re]
            held.update(int(c) for c in cols[st.decision[cols] & (st.v[cols] > TOL) & ~np.isin(cols, st.stay)])
        if not held or len(held) > 20:
            continue
        log: list[dict[int, float]] = []
        ok = True
        for src in held:
            i = int(st.owner[src])
            best = None
            for t in st.options(i)[:15]:
                t = int(t)
                if t == src or t in held:
                    continue
                m = st.move(src, t, st.v[src])
                if m is not None and m[2] <= TOL and (best is None or m[1] < best[1]):
                    best = m
            if best is None:
                ok = False
                break
            st.commit(best[0])
            log.append(best[0])
        if ok:
            m = st.propose({j: st.lb[j] - st.v[j]})
            if m is not None and m[2] <= TOL:
                gain = sum(float(sum(st.c[c] * d for c, d in ch.items())) for ch in log) + m[1]
                if gain < -1e-9:
                    st.commit(m[0])
                    improved = True
                    continue
        for ch in reversed(log):  # undo
            st.commit({c: -d for c, d in ch.items()})
    return improved
