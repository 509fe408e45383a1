"""The two back-ends give one model: the direct HiGHS matrix and the Pyomo reference.

The direct side is the assembled CSR matrix handed to `passModel`. The Pyomo side is read back
from the Pyomo model by Pyomo's own expression walker (`generate_standard_repn`), so that a
mistake in turning blocks into Pyomo components (a lost term, a sign, a bound, a domain) shows
up. Rows and columns are compared by name after a canonical ordering; then both are solved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn import generate_standard_repn

from model import load
from model.assemble import assemble
from model.data import build_data
from model.generate import generate_instance
from model.options import FORMULATIONS, BuildOptions
from model.run import solve_instance
from solvers import SolveOptions, solve
from solvers.highs_direct import load as load_highs
from solvers.problem import Problem, label
from solvers.pyomo_backend import to_pyomo
from tests.conftest import INSTANCES


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


def _generated(tmp_path: Path) -> str:
    return str(generate_instance(12, 5, 3, tmp_path / "gen.yaml", False))


def _cases(tmp_path: Path) -> list[tuple[str, str | None]]:
    china = str(INSTANCES / "china-east-west.yaml")
    scenarios = list(load(china).instance.scenarios)
    return [(str(INSTANCES / "demo.yaml"), None), (china, None), *[(china, s) for s in scenarios],
            (_generated(tmp_path), None)]


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_both_back_ends_build_the_same_model(tmp_path, formulation):
    for path, scenario in _cases(tmp_path):
        data = build_data(load(path, scenario).instance)
        problem = assemble(data, BuildOptions(formulation))
        assert_same(direct_form(problem), pyomo_form(to_pyomo(problem)))


def test_the_elastic_model_is_the_same_too(tmp_path):
    for path, scenario in _cases(tmp_path)[:2]:
        data = build_data(load(path, scenario).instance, keep_forbidden=True)
        problem = assemble(data, BuildOptions(elastic=True))
        problem.cost = np.linspace(0.0, 1.0, problem.n_cols)
        assert_same(direct_form(problem), pyomo_form(to_pyomo(problem)))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_both_back_ends_find_the_same_optimum(tmp_path, formulation):
    for path in (str(INSTANCES / "demo.yaml"), _generated(tmp_path)):
        loaded = load(path)
        got = {backend: solve_instance(loaded, BuildOptions(formulation), SolveOptions(mip_gap=0.0, backend=backend))
               for backend in ("direct", "pyomo")}
        assert got["direct"].result.status == got["pyomo"].result.status == "optimal"
        assert got["direct"].result.objective == pytest.approx(got["pyomo"].result.objective, rel=1e-9)
        assert got["direct"].check.ok and got["pyomo"].check.ok
        # The shadow prices of the binding rows agree (the same LP with the integer decisions held,
        # when the plans agree; a tie between optimal plans may price differently).
        if got["direct"].plan == got["pyomo"].plan:
            a, b = (got[k].tables["parks.csv"]["shadow_price"].to_numpy() for k in ("direct", "pyomo"))
            assert np.allclose(np.nan_to_num(a, nan=-1), np.nan_to_num(b, nan=-1), atol=1e-6)


def test_a_kept_model_changed_in_place_matches_a_rebuild(tmp_path):
    """What-if on a kept direct model gives the optimum of the instance changed and rebuilt: a
    limit's max tightened (changeRowsBounds), then an industry held at its origin (changeColsBounds)."""
    from solvers.highs_direct import Kept

    path = _generated(tmp_path)
    data = build_data(load(path).instance)
    problem = assemble(data)
    kept = Kept(problem)
    assert solve(problem, SolveOptions(mip_gap=0.0), kept=kept).status == "optimal"
    block = problem.constraints["limit"]
    activity = problem.row_values("limit")
    n = next(n for n in range(len(block)) if block.keys[1][n] == "max" and activity[n] > 1e-6)
    rid, tighter = block.keys[0][n], float(round(0.9 * activity[n], 3))
    kept.change_row_bounds("limit", [n], -np.inf, tighter)
    changed = solve(problem, SolveOptions(mip_gap=0.0), kept=kept)
    rebuilt = solve_instance(load(path, sets=[(f"rules.{rid}.max", tighter)]), None, SolveOptions(mip_gap=0.0))
    assert changed.status == rebuilt.result.status
    if changed.has_solution:
        assert changed.objective == pytest.approx(rebuilt.result.objective, rel=1e-9)

    industry = data.industries[0]
    x = problem.var("stay")
    kept.change_col_bounds("stay", [x.col(industry) - x.start], 1.0, 1.0)
    held = solve(problem, SolveOptions(mip_gap=0.0), kept=kept)
    sets = [(f"rules.{rid}.max", tighter), (f"industries.{industry}.must_transfer", False)]
    again = assemble(build_data(load(path, sets=sets).instance))
    again.var("stay").lb[0] = again.var("stay").ub[0] = 1.0
    direct = solve(again, SolveOptions(mip_gap=0.0, backend="pyomo"))
    assert held.status == direct.status
    if held.has_solution:
        assert held.objective == pytest.approx(direct.objective, rel=1e-9)


def test_a_mip_start_is_taken_and_kept_feasible(tmp_path):
    loaded = load(str(INSTANCES / "demo.yaml"))
    problem = assemble(build_data(loaded.instance))
    first = solve(problem, SolveOptions(mip_gap=0.0))
    problem.start = problem.solution.values.copy()
    again = solve(problem, SolveOptions(mip_gap=0.0, raw={"mip_max_nodes": 0, "presolve": "off"}))
    # With no node allowed, the plan can only come from the start (or root heuristics): it is
    # never worse than the start.
    assert again.has_solution and again.objective <= first.objective + 1e-9
