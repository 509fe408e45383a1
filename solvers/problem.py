"""A mixed-integer linear program written in arrays: blocks of variables, blocks of rows.

This is the one model definition both back-ends materialise (`solvers/highs_direct.py`: one CSR
matrix and `passModel`; `solvers/pyomo_backend.py`: a Pyomo model, for any solver Pyomo knows).
It knows nothing of industries or parks: a block has a name (the model's component name, as in
the YAML and the results), keys (one array per index position: the labels of its entries), and
arrays of bounds, integrality and coefficients.

    variables  l_j ≤ v_j ≤ u_j,   v_j integer where `integer[j]`
    rows       lo_r ≤ Σ_j A[r,j]·v_j ≤ hi_r       (lo = hi for an equality; ±inf for one side)
    objective  minimise Σ_t weight_t · (Σ_j e_t[j]·v_j + const_t)  over named expressions e_t

Rows are given as coordinate triplets (row within the block, column, coefficient), built with numpy
over whole tables; duplicates are summed and zeros dropped when the matrix is assembled.

An elastic problem (`Problem(elastic=True)`, for the infeasibility diagnosis) gives every row of a
block added with `relax=family` a penalised slack on the side that relaxes it:
    row ≤ hi + slack  (or ≥ lo − slack),   0 ≤ slack ≤ big · relaxed,   relaxed ∈ {0,1}
in blocks `slack_<name>`, `relaxed_<name>` and rows `slack_on_<name>` (`relaxations` lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Keys = tuple[np.ndarray, ...]


def keys_of(*columns: Sequence[Any] | np.ndarray) -> Keys:
    """Index arrays of a block, one per position of its labels (all of one length)."""
    return tuple(np.asarray(c, dtype=object) for c in columns)


def label(keys: Keys, n: int) -> tuple:
    return tuple(k[n] for k in keys)


@dataclass
class Lin:
    """Σ vals[j] · v[cols[j]] + const: a linear expression over the problem's columns."""

    cols: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    vals: np.ndarray = field(default_factory=lambda: np.empty(0))
    const: float = 0.0

    def __post_init__(self) -> None:
        self.cols = np.asarray(self.cols, dtype=np.int64)
        vals = np.asarray(self.vals, dtype=float)
        self.vals = vals if vals.shape == self.cols.shape else np.broadcast_to(vals, self.cols.shape).copy()

    def __add__(self, other: Lin) -> Lin:
        return Lin(np.concatenate([self.cols, other.cols]), np.concatenate([self.vals, other.vals]),
                   self.const + other.const)

    def __mul__(self, k: float) -> Lin:
        return Lin(self.cols, self.vals * k, self.const * k)

    __rmul__ = __mul__

    def __sub__(self, other: Lin) -> Lin:
        return self + other * -1.0

    def value(self, x: np.ndarray) -> float:
        return float(self.vals @ x[self.cols]) + self.const if len(self.cols) else self.const


def total(lins: Iterable[Lin]) -> Lin:
    out = Lin()
    for lin in lins:
        out = out + lin
    return out


@dataclass
class VarBlock:
    name: str
    keys: Keys
    start: int  # its first column
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray  # bool
    doc: str = ""
    _where: dict | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.lb)

    @property
    def cols(self) -> np.ndarray:
        return np.arange(self.start, self.start + len(self), dtype=np.int64)

    def col(self, *key: Any) -> int:
        """The column of the variable with this label (KeyError if there is none)."""
        if self._where is None:
            self._where = {label(self.keys, n): n for n in range(len(self))}
        return self.start + self._where[tuple(key)]


@dataclass
class RowBlock:
    name: str
    keys: Keys
    start: int  # its first row
    rows: np.ndarray  # row within the block, per coefficient
    cols: np.ndarray
    vals: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    doc: str = ""
    relax: str | None = None  # the relaxation family of its rows in the diagnosis
    # A valid inequality (removes no integer point, only fractional ones): left out of the LP that
    # prices the rows with the integer decisions held, so shadow prices are the model's own rows'.
    cut: bool = False

    def __len__(self) -> int:
        return len(self.lo)


@dataclass
class Relaxation:
    """The elastic slack of one row block: which rows, their slack and on/off columns, and big."""

    family: str
    block: str
    rows: np.ndarray  # rows within the block that may be relaxed
    slack: np.ndarray  # columns
    relaxed: np.ndarray  # columns
    big: np.ndarray


@dataclass
class Solution:
    values: np.ndarray  # per column
    duals: np.ndarray | None = None  # per row (∂objective/∂right-hand side), if computed


class Problem:
    """Blocks of variables and rows over one column and one row numbering, and named expressions."""

    def __init__(self, name: str = "", elastic: bool = False) -> None:
        self.name = name
        self.elastic = elastic
        self.variables: dict[str, VarBlock] = {}
        self.constraints: dict[str, RowBlock] = {}
        self.expressions: dict[str, Lin] = {}  # the KPI terms of the objective
        self.weights: dict[str, float] = {}
        self.cost: np.ndarray | None = None  # explicit objective (replaces the weighted expressions)
        self.relaxations: list[Relaxation] = []
        self.n_cols = 0
        self.n_rows = 0
        self.solution: Solution | None = None
        self.start: np.ndarray | None = None  # a known feasible point (a MIP start), per column
        self._matrix: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # built once, until a block is added
        # A relaxation that knows the problem's structure (a Lagrangian), for the kernel search:
        # guide(problem, limit) -> solvers.kernel.Guide, or None where the structure does not fit; limit is the
        # search's whole time limit (None: none), of which the guide takes the share it needs.
        self.guide: Callable[[Problem, float], Any] | None = None

    # -- building -------------------------------------------------------------------------------

    def add_vars(self, name: str, keys: Keys, lb: Any = 0.0, ub: Any = np.inf, integer: Any = False,
                 doc: str = "") -> VarBlock:
        if name in self.variables:
            raise ValueError(f"variable block {name!r} defined twice")
        n = len(keys[0]) if keys else 1
        block = VarBlock(name, keys, self.n_cols, _full(lb, n, float), _full(ub, n, float),
                         _full(integer, n, bool), doc)
        self._matrix = None
        self.variables[name] = block
        self.n_cols += n
        return block

    def add_rows(self, name: str, keys: Keys, rows: Any, cols: Any, vals: Any, lo: Any = -np.inf,
                 hi: Any = np.inf, doc: str = "", relax: str | None = None, big: Any = None,
                 cut: bool = False) -> RowBlock:
        """A block of rows lo ≤ A·v ≤ hi from triplets; with `relax` (and `big`, a bound on any
        slack a plan could need), the rows get elastic slack in an elastic problem; `cut` marks a
        valid inequality (`RowBlock.cut`)."""
        if cut and relax is not None:
            raise ValueError(f"rows of {name!r}: a cut is not relaxable")
        if name in self.constraints:
            raise ValueError(f"row block {name!r} defined twice")
        n = len(keys[0]) if keys else 0
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape)
        lo, hi = _full(lo, n, float), _full(hi, n, float)
        if relax is not None and big is None:
            raise ValueError(f"rows of {name!r} are relaxable but have no big (a bound on their slack)")
        if self.elastic and relax is not None and n:
            big = _full(big, n, float)
            which = np.flatnonzero(big > 0)
            if len(which):
                upper = np.isfinite(hi[which])
                if (upper & np.isfinite(lo[which])).any():
                    raise ValueError(f"rows of {name!r} bounded on both sides cannot be relaxed")
                sub = tuple(k[which] for k in keys)
                slack = self.add_vars(f"slack_{name}", sub, 0.0, np.inf, False, "relaxation amount").cols
                on = self.add_vars(f"relaxed_{name}", sub, 0.0, 1.0, True, "relaxation used").cols
                rows = np.concatenate([rows, which])
                cols = np.concatenate([cols, slack])
                vals = np.concatenate([vals, np.where(upper, -1.0, 1.0)])
                m = len(which)
                self.relaxations.append(Relaxation(relax, name, which, slack, on, big[which]))
                self._append(f"slack_on_{name}", sub, np.r_[np.arange(m), np.arange(m)], np.r_[slack, on],
                             np.r_[np.ones(m), -big[which]], np.full(m, -np.inf), np.zeros(m), "slack ≤ big · relaxed")
        return self._append(name, keys, rows, cols, vals, lo, hi, doc, relax, cut)

    def _append(self, name: str, keys: Keys, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                lo: np.ndarray, hi: np.ndarray, doc: str, relax: str | None = None, cut: bool = False) -> RowBlock:
        block = RowBlock(name, keys, self.n_rows, rows, cols, np.asarray(vals, dtype=float), lo, hi, doc, relax, cut)
        self._matrix = None
        self.constraints[name] = block
        self.n_rows += len(lo)
        return block

    def drop_rows(self, name: str) -> None:
        """Remove the last row block added (rows are numbered in order: only the last can go)."""
        if list(self.constraints)[-1] != name:
            raise ValueError(f"only the last row block can be dropped, not {name!r}")
        self.n_rows -= len(self.constraints.pop(name))
        self._matrix = None

    def add_lin_rows(self, name: str, keys: Keys, lins: Sequence[Lin], lo: Any = -np.inf, hi: Any = np.inf,
                     doc: str = "", relax: str | None = None, big: Any = None) -> RowBlock:
        """Rows given as expressions: lo − const ≤ Σ coef·v ≤ hi − const."""
        n = len(lins)
        rows = np.concatenate([np.full(len(e.cols), r, dtype=np.int64) for r, e in enumerate(lins)] or [[]])
        cols = np.concatenate([e.cols for e in lins] or [[]])
        vals = np.concatenate([e.vals for e in lins] or [[]])
        const = np.array([e.const for e in lins], dtype=float)
        return self.add_rows(name, keys, rows, cols, vals, _full(lo, n, float) - const, _full(hi, n, float) - const,
                             doc, relax, big)

    def var(self, name: str) -> VarBlock:
        return self.variables[name]

    def cols(self, name: str) -> np.ndarray:
        return self.variables[name].cols

    # -- objective ------------------------------------------------------------------------------

    def weighted(self, weights: dict[str, float]) -> Lin:
        """Σ weight × expression over the named expressions."""
        return total(self.expressions[t] * w for t, w in weights.items() if w != 0)

    def objective(self) -> tuple[np.ndarray, float]:
        """Cost per column and the constant."""
        if self.cost is not None:
            return self.cost, 0.0
        cost, const = np.zeros(self.n_cols), 0.0
        for t, w in self.weights.items():
            if w != 0:
                e = self.expressions[t]
                cost += np.bincount(e.cols, weights=e.vals * w, minlength=self.n_cols)
                const += w * e.const
        return cost, const

    # -- the assembled arrays ------------------------------------------------------------------

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lower and upper bound and integrality of every column, in column order."""
        blocks = list(self.variables.values())
        return (np.concatenate([b.lb for b in blocks]) if blocks else np.empty(0),
                np.concatenate([b.ub for b in blocks]) if blocks else np.empty(0),
                np.concatenate([b.integer for b in blocks]) if blocks else np.empty(0, dtype=bool))

    def row_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        blocks = list(self.constraints.values())
        if not blocks:
            return np.empty(0), np.empty(0)
        return np.concatenate([b.lo for b in blocks]), np.concatenate([b.hi for b in blocks])

    def cut_rows(self) -> np.ndarray:
        """The rows of the cut blocks (`RowBlock.cut`)."""
        return np.concatenate([b.start + np.arange(len(b)) for b in self.constraints.values() if b.cut]
                              or [np.empty(0, dtype=np.int64)]).astype(np.int64)

    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The row-wise (CSR) matrix: start per row (n_rows + 1), column indices (int32, as HiGHS
        takes them, when the model is small enough), values.
        Duplicate entries are summed, zeros dropped, columns sorted within a row. Made once and
        kept until a block is added or dropped (the heuristic and the solver's hand-off share it;
        the blocks' coefficients are never changed in place)."""
        if self._matrix is None:
            self._matrix = self._make_matrix()
        return self._matrix

    def _make_matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # scipy's COO → CSR conversion (a counting sort by row, then each row's columns sorted and
        # duplicates summed, in C++): 0.6 s at 2000 × 500 (21M entries) where numpy's argsort of
        # row·n + col and its gathers took 3.3–4.6 s (one fresh process each, three runs)
        import scipy.sparse as sp

        blocks = list(self.constraints.values())
        if not blocks:
            return np.zeros(self.n_rows + 1, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
        index = np.int32 if max(self.n_rows, self.n_cols) < 2**31 - 1 else np.int64
        rows = np.concatenate([(b.rows + b.start).astype(index, copy=False) for b in blocks])
        cols = np.concatenate([b.cols.astype(index, copy=False) for b in blocks])
        vals = np.concatenate([b.vals for b in blocks]).astype(float, copy=False)
        m = sp.coo_array((vals, (rows, cols)), shape=(self.n_rows, self.n_cols)).tocsr()  # sums duplicates
        m.eliminate_zeros()
        m.sort_indices()
        return m.indptr.astype(np.int64), m.indices, m.data

    # -- the solution ---------------------------------------------------------------------------

    def value(self, name: str) -> np.ndarray:
        """Values of a variable block in the loaded solution."""
        assert self.solution is not None, "no solution loaded"
        b = self.variables[name]
        return self.solution.values[b.start:b.start + len(b)]

    def dual(self, name: str) -> np.ndarray | None:
        """Duals of a row block (∂objective/∂right-hand side), or None if not computed."""
        if self.solution is None or self.solution.duals is None or name not in self.constraints:
            return None
        b = self.constraints[name]
        if b.start + len(b) > len(self.solution.duals):  # a block added after the solve
            return None
        return self.solution.duals[b.start:b.start + len(b)]

    def row_values(self, name: str) -> np.ndarray:
        """Σ A·v of each row of a block in the loaded solution."""
        assert self.solution is not None, "no solution loaded"
        b = self.constraints[name]
        out = np.zeros(len(b))
        np.add.at(out, b.rows, b.vals * self.solution.values[b.cols])
        return out

    def names(self) -> tuple[list[str], list[str]]:
        """Column and row names, `block[key,key]` (as Pyomo names them), in order."""
        def named(name: str, keys: Keys, n: int) -> list[str]:
            if not keys:
                return [name] * n
            return [f"{name}[{','.join(map(str, label(keys, r)))}]" for r in range(n)]

        cols = [s for b in self.variables.values() for s in named(b.name, b.keys, len(b))]
        rows = [s for b in self.constraints.values() for s in named(b.name, b.keys, len(b))]
        return cols, rows

    def size(self) -> dict[str, int]:
        lb, ub, integer = self.bounds()
        free = lb < ub
        binary = integer & (lb >= 0) & (ub <= 1)
        return {"variables": int(free.sum()), "binary": int((free & binary).sum()),
                "integer": int((free & integer & ~binary).sum()), "constraints": self.n_rows}


def _full(value: Any, n: int, dtype: type) -> np.ndarray:
    arr = np.array(value, dtype=dtype)  # a copy: `Kept` changes bounds in place, never the caller's arrays
    if arr.ndim == 0:
        return np.full(n, arr, dtype=dtype)
    if len(arr) != n:
        raise ValueError(f"expected {n} values, got {len(arr)}")
    return arr
