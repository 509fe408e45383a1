"""Helpers: small instances written to a temporary folder and solved for real with HiGHS."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from model import load
from model.options import BuildOptions
from model.run import Outcome, solve_instance
from solvers import SolveOptions

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = ROOT / "instances"

# Exact solves for hand-checked values: HiGHS's default gap (1e-4) could stop short of them.
EXACT = SolveOptions(mip_gap=0.0)


def base() -> dict[str, Any]:
    """One resource, one industry, two open parks: the skeleton the family tests extend."""
    return copy.deepcopy({
        "name": "t",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [{"id": "a", "origin": "Jiangsu", "sector": "textiles", "modules": 1,
                        "use": {"land": 1}, "relocation_cost": 1, "stay_cost": 100}],
        "parks": [{"id": "p1", "province": "Anhui", "region": "central", "capacity": {"land": 10}},
                  {"id": "p2", "province": "Sichuan", "region": "west", "capacity": {"land": 10}}],
    })


def write(tmp_path: Path, data: dict[str, Any], name: str = "inst.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def solve_data(tmp_path: Path, data: dict[str, Any], formulation: str = "strong",
               options: SolveOptions = EXACT, scenario: str | None = None) -> Outcome:
    """Write, load and solve an instance; every plan found must pass the independent checker.
    `formulation` may name a back-end too: `strong@pyomo` solves through the Pyomo reference."""
    from model.assemble import assemble
    from model.data import build_data
    from tests.forms import assert_same_model

    formulation, _, backend = formulation.partition("@")
    if backend:
        options = replace(options, backend=backend)
    loaded = load(str(write(tmp_path, data)), scenario)
    assert_same_model(assemble(build_data(loaded.instance), BuildOptions(formulation)))  # both back-ends, one model
    out = solve_instance(loaded, BuildOptions(formulation), options)
    if out.result.has_solution:
        assert out.check is not None and out.check.ok, out.check.violations
    return out


def placed(out: Outcome) -> dict[tuple[str, str], float]:
    assert out.plan is not None
    return dict(out.plan.x)


@pytest.fixture(scope="session")
def china_base() -> Outcome:
    """The china instance's base plan, solved once for every test that reads it (read only)."""
    return solve_instance(load(str(INSTANCES / "china-east-west.yaml")))


@pytest.fixture
def demo_path() -> Path:
    return INSTANCES / "demo.yaml"
