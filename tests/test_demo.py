"""The demo instance: the allocation and objective worked out by hand in its comments."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from model import load
from model.options import BuildOptions
from model.run import solve_instance
from tests.conftest import EXACT, INSTANCES

DEMO = INSTANCES / "demo.yaml"
BY_HAND = {("textiles_js", "guangan"): 1.0, ("textiles_js", "wuhu"): 1.0, ("chem_zj", "ganzhou"): 1.0}


@pytest.mark.parametrize("formulation", ["strong", "aggregated"])
def test_demo_optimum_by_hand(formulation):
    out = solve_instance(load(str(DEMO)), BuildOptions(formulation), EXACT)
    assert out.result.status == "optimal"
    assert out.result.objective == pytest.approx(49.6)
    assert out.plan.x == BY_HAND
    assert out.plan.stay == {"textiles_js": 0.0, "chem_zj": 0.0, "electronics_gd": 1.0}
    assert out.plan.upgrades == [("ganzhou", "sewage_plant")]
    assert out.plan.open == {"wuhu": 1, "ganzhou": 1, "guangan": 1}
    assert out.check.ok


def test_demo_scenario_by_hand():
    out = solve_instance(load(str(DEMO), "tight_cod"), BuildOptions(), EXACT)
    assert out.result.objective == pytest.approx(61.6)
    assert out.plan.x == {("textiles_js", "wuhu"): 1.0, ("chem_zj", "ganzhou"): 1.0}
    assert out.plan.stay["textiles_js"] == 1.0


def test_solve_command_writes_the_results_folder(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(DEMO), "--mip-gap", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("optimal  objective 49.6 million yuan  gap 0.00%")
    assert sorted(p.name for p in out.iterdir()) == [".industry-transfer", "allocations.csv", "instance.json",
                                                     "kpis.json", "ledger.csv", "limits.csv",
                                                     "parks.csv", "run.json"]
    assert json.loads((out / "instance.json").read_text())["name"] == "demo"  # the instance as solved
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["status"] == "optimal" and kpis["objective"] == pytest.approx(49.6) and kpis["gap"] == 0
    # Hand-derived KPIs: open ganzhou 10, sewage plant 3, relocation 5 + 5 + 8, wages 5 + 3 + 1.6.
    assert kpis["kpis"]["open_cost"] == pytest.approx(10)
    assert kpis["kpis"]["upgrade_cost"] == pytest.approx(3)
    assert kpis["kpis"]["relocation_cost"] == pytest.approx(18)
    assert kpis["kpis"]["operating_cost"] == pytest.approx(9.6)
    assert kpis["kpis"]["stay_cost"] == pytest.approx(9)
    # CO2: textiles 10 GWh at Sichuan 0.1404 and Anhui 0.6782, chem_zj's process 5 kt.
    assert kpis["kpis"]["co2"] == pytest.approx(10 * 0.1404 + 10 * 0.6782 + 5)
    alloc = pd.read_csv(out / "allocations.csv", keep_default_na=False)
    moved = {(r.industry, r.park): r.modules for r in alloc.itertuples() if r.park}
    assert moved == BY_HAND
    parks = pd.read_csv(out / "parks.csv").set_index(["park", "resource"])
    assert parks.loc[("ganzhou", "cod"), "available"] == pytest.approx(2 + 6)  # capacity 2 + the upgrade's 6
    assert parks.loc[("ganzhou", "cod"), "capacity"] == 2 and parks.loc[("ganzhou", "cod"), "upgrade_capacity"] == 6
    assert parks.loc[("ganzhou", "cod"), "use"] == pytest.approx(6)
    assert parks.loc[("guangan", "labor"), "slack"] == pytest.approx(50)
    run = json.loads((out / "run.json").read_text())
    assert run["instance"]["sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert run["solver"]["name"] == "highs" and run["options"]["mip_gap"] == 0
    assert run["size"]["eligible_pairs"] == 8  # 9 pairs less chem_zj at wuhu
    assert run["check"] == {"ok": True, "violations": [], "mismatches": []}


def test_scenario_and_overlays_are_recorded(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(DEMO), "--scenario", "tight_cod", "--mip-gap", "0",
                                       "--set", "industries.electronics_gd.stay_cost=20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = json.loads((out / "run.json").read_text())
    assert run["scenario"] == "tight_cod"
    assert run["overlays"] == [
        {"key": "parks.*.capacity.cod", "value": "*0.5", "origin": "scenario tight_cod"},
        {"key": "industries.electronics_gd.stay_cost", "value": 20, "origin": "--set"},
    ]
    # electronics_gd now costs 20 to keep. Its only possible host is wuhu (16), whose 250 workers
    # cannot take it and a textile module (200 + 100). Moving it means both textile modules stay:
    # 22.6 + 16 + 2·20 = 78.6; keeping it: 22.6 + 10 + 20 + 20 = 72.6.
    assert json.loads((out / "kpis.json").read_text())["objective"] == pytest.approx(72.6)
