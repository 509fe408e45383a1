"""The model as each back-end holds it, keyed by (block, label): the direct HiGHS matrix read back
from HiGHS (`getLp`), and the Pyomo model read back by Pyomo's own expression walker
(`generate_standard_repn`), so that a mistake in turning blocks into Pyomo components (a lost term,
a sign, a bound, a domain) shows up. Used by `test_backends.py` and by every solve of the tests
(`conftest.solve_data`)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

from solvers.highs_direct import load as load_highs
from solvers.problem import Problem, label
from solvers.pyomo_backend import to_pyomo


def _key(component: str, index: object) -> tuple:
    return (component, index if isinstance(index, tuple) else (index,))


def direct_form(problem: Problem) -> dict:
    """The model as HiGHS holds it from the direct back-end, keyed by (block, label)."""
    lp = load_highs(problem).getLp()
    cols = [(b.name, label(b.keys, n)) for b in problem.variables.values() for n in range(len(b))]
    rows = [(b.name, label(b.keys, n)) for b in problem.constraints.values() for n in range(len(b))]
    start, index, value = (np.asarray(lp.a_matrix_.start_), np.asarray(lp.a_matrix_.index_),
                           np.asarray(lp.a_matrix_.value_))
    integer = np.asarray(lp.integrality_, dtype=int) if len(lp.integrality_) else np.zeros(len(cols), int)
    import highspy

    if lp.a_matrix_.format_ == highspy.MatrixFormat.kRowwise:
        matrix = {(rows[r], cols[index[k]]): float(value[k])
                  for r in range(len(rows)) for k in range(start[r], start[r + 1])}
    else:  # HiGHS keeps the matrix column-wise
        matrix = {(rows[index[k]], cols[c]): float(value[k])
                  for c in range(len(cols)) for k in range(start[c], start[c + 1])}
    position = {r: n for n, r in enumerate(rows)}
    row_count = np.bincount(np.asarray([position[r] for r, _ in matrix], dtype=int), minlength=len(rows))
    return {"cols": {c: (float(lp.col_lower_[n]), float(lp.col_upper_[n]), bool(integer[n]),
                         float(lp.col_cost_[n])) for n, c in enumerate(cols)},
            "rows": {r: (float(lp.row_lower_[n]), float(lp.row_upper_[n])) for n, r in enumerate(rows)
                     if row_count[n] or not lp.row_lower_[n] <= 0 <= lp.row_upper_[n]},
            "matrix": matrix, "offset": float(lp.offset_)}


def pyomo_form(m: pyo.ConcreteModel) -> dict:
    """The same read from the Pyomo model's components."""
    obj = generate_standard_repn(m.objective.expr, compute_values=True)
    cost = {}
    for v, c in zip(obj.linear_vars, obj.linear_coefs):
        cost[id(v)] = cost.get(id(v), 0.0) + float(c)
    cols = {}
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        lb = -np.inf if v.lb is None else float(v.lb)
        ub = np.inf if v.ub is None else float(v.ub)
        cols[_key(v.parent_component().name, v.index())] = (lb, ub, v.is_integer(), cost.get(id(v), 0.0))
    rows, matrix = {}, {}
    for con in m.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        repn = generate_standard_repn(con.body, compute_values=True)
        key = _key(con.parent_component().name, con.index())
        shift = float(repn.constant)
        lo = -np.inf if con.lower is None else float(pyo.value(con.lower)) - shift
        hi = np.inf if con.upper is None else float(pyo.value(con.upper)) - shift
        rows[key] = (lo, hi)
        for v, c in zip(repn.linear_vars, repn.linear_coefs):
            if c:
                entry = (key, _key(v.parent_component().name, v.index()))
                matrix[entry] = matrix.get(entry, 0.0) + float(c)
    return {"cols": cols, "rows": rows, "matrix": matrix, "offset": float(obj.constant)}


def assert_same(a: dict, b: dict) -> None:
    assert set(a["cols"]) == set(b["cols"]), set(a["cols"]) ^ set(b["cols"])
    for k, v in a["cols"].items():
        assert v[:3] == b["cols"][k][:3], k
        assert v[3] == pytest.approx(b["cols"][k][3], rel=1e-12, abs=1e-12), k
    assert a["rows"] == b["rows"]
    assert set(a["matrix"]) == set(b["matrix"])
    for k, v in a["matrix"].items():
        assert v == pytest.approx(b["matrix"][k], rel=1e-12), k
    assert a["offset"] == pytest.approx(b["offset"])


def assert_same_model(problem: Problem) -> None:
    """Both back-ends hold the same model of `problem`."""
    assert_same(direct_form(problem), pyomo_form(to_pyomo(problem)))
