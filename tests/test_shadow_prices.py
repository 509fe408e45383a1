"""Shadow prices: with the integer decisions held, a price equals the objective change per unit.

Each case is checked against a second, independent solve with the bound moved by one unit.
"""

from __future__ import annotations

import pytest

from tests.conftest import base, solve_data


def _divisible() -> dict:
    d = base()
    d["industries"][0].update(modules=3, use={"land": 4}, divisible=True)
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 2}]
    return d


def test_capacity_price_is_the_saving_of_one_more_unit(tmp_path):
    out = solve_data(tmp_path, _divisible())
    parks = out.tables["parks.csv"].set_index(["park", "resource"])
    row = parks.loc[("p1", "land")]
    # p1 is full (2.5 modules × 4 ha); one more ha moves 0.25 module from p2 (2 more a module): 0.5.
    assert bool(row["binding"]) and row["shadow_price"] == pytest.approx(0.5)
    assert row["shadow_price_unit"] == "million yuan per ha"
    assert parks.loc[("p2", "land"), "shadow_price"] == pytest.approx(0.0)
    d = _divisible()
    d["parks"][0]["capacity"]["land"] = 11
    again = solve_data(tmp_path, d)
    assert out.result.objective - again.result.objective == pytest.approx(row["shadow_price"])


@pytest.mark.parametrize("rule, moved", [
    ({"kpi": "modules", "parks": {"region": "west"}, "min": 1}, {"min": 2}),
    ({"kpi": "land", "parks": {"region": "central"}, "max": 6}, {"max": 7}),
])
def test_limit_price_is_the_saving_of_loosening_by_one_unit(tmp_path, rule, moved):
    d = _divisible()
    d["rules"] = [{"id": "r", "kind": "limit", "source": "t", **rule}]
    out = solve_data(tmp_path, d)
    price = out.tables["limits.csv"].set_index("rule").loc["r", "shadow_price"]
    assert price > 0
    d["rules"][0].update(moved)
    again = solve_data(tmp_path, d)
    # Tightening a min by one costs the price; loosening a max by one saves it.
    change = again.result.objective - out.result.objective
    assert abs(change) == pytest.approx(price)
    assert (change > 0) == ("min" in moved)
