"""What-if tools: scenarios, sweeps (local and on a dask cluster), compare."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from tests.conftest import INSTANCES, base, write

DEMO = str(INSTANCES / "demo.yaml")
# Hand-derived (see demo.yaml): 49.6 base, 61.6 tight_cod. A carbon price of 1 per kt adds the
# CO2 of the same plans if they stay optimal: base 13.186 kt -> 62.786.
SWEEP = ["sweep", DEMO, "--all", "--grid", "objective.weights.co2=0,1", "--mip-gap", "0"]


def test_scenarios_lists_overlays():
    result = CliRunner().invoke(main, ["scenarios", DEMO])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["tight_cod: every park loses half its COD quota",
                                          "    parks.*.capacity.cod = *0.5"]


def _summary(out) -> pd.DataFrame:
    return pd.read_csv(out / "summary.csv").set_index("run")


def test_sweep_local_workers(tmp_path):
    result = CliRunner().invoke(main, [*SWEEP, "--workers", "2", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    table = _summary(tmp_path / "s")
    assert list(table.index) == ["base__co2=0", "base__co2=1", "tight_cod__co2=0", "tight_cod__co2=1"]
    assert table.loc["base__co2=0", "objective"] == pytest.approx(49.6)
    assert table.loc["tight_cod__co2=0", "objective"] == pytest.approx(61.6)
    assert table.loc["base__co2=1", "objective"] == pytest.approx(49.6 + 13.186)
    assert table.loc["tight_cod__co2=1", "overlays"] == "parks.*.capacity.cod=*0.5; objective.weights.co2=1"
    for run in table.index:
        assert (tmp_path / "s" / run / "kpis.json").is_file()
    # Two runs at once share the cores (HiGHS alone takes them all for each run), as run.json says;
    # threads the user gives are kept.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ran = json.loads((tmp_path / "s" / "base__co2=0" / "run.json").read_text())
    assert ran["options"]["threads"] == max(1, cores // 2)
    given = CliRunner().invoke(main, [*SWEEP, "--workers", "2", "--threads", "3", "--out", str(tmp_path / "t")])
    assert given.exit_code == 0, given.output
    assert json.loads((tmp_path / "t" / "base__co2=0" / "run.json").read_text())["options"]["threads"] == 3
    alone = CliRunner().invoke(main, [*SWEEP, "--out", str(tmp_path / "u")])
    assert alone.exit_code == 0, alone.output
    assert json.loads((tmp_path / "u" / "base__co2=0" / "run.json").read_text())["options"]["threads"] is None


def test_sweep_on_a_dask_cluster_matches_local_workers(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        result = CliRunner().invoke(main, [*SWEEP, "--scheduler", cluster.scheduler_address,
                                           "--out", str(tmp_path / "dask")])
    assert result.exit_code == 0, result.output
    local = CliRunner().invoke(main, [*SWEEP, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0
    a, b = _summary(tmp_path / "dask"), _summary(tmp_path / "local")
    assert list(a.index) == list(b.index)
    assert a["objective"].to_numpy() == pytest.approx(b["objective"].to_numpy())
    assert (a["status"] == b["status"]).all()


def test_sweep_refuses_a_scheduler_it_cannot_reach_before_claiming_the_folder(tmp_path):
    pytest.importorskip("distributed")
    result = CliRunner().invoke(main, [*SWEEP, "--scheduler", "not-an-address", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --scheduler: not-an-address: cannot be reached (")
    assert not (tmp_path / "s").exists()


def test_a_malformed_weight_or_grid_is_blamed_on_its_own_option(tmp_path):
    result = CliRunner().invoke(main, ["diagnose", DEMO, "--weight", "capacity"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --weight: capacity: not of the form KEY=VALUE; expected e.g. capacity=10"
    result = CliRunner().invoke(main, ["sweep", DEMO, "--grid", "objective.weights.co2=1,!!python/object x", "--out",
                                       str(tmp_path / "s")])
    assert result.exit_code == 2 and result.stderr.startswith("error: --grid: "), result.stderr
    assert not (tmp_path / "s").exists()
    result = CliRunner().invoke(main, ["sweep", DEMO, "--grid", "parks.wuhu.capacity.land=abc,5", "--out",
                                       str(tmp_path / "s")])  # read as text, refused by validation
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --grid: parks.wuhu.capacity.land: got 'abc'; expected a number"
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("args, message", [
    (["--grid", "parks.guangan.capacity.land=1,2", "--grid", "parks.2.capacity.land=30"],
     "parks.2.capacity.land: sets parks[2].capacity.land, which --grid parks.guangan.capacity.land sets too"),
    (["--grid", "parks.wuhu.capacity.land=1,2", "--grid", "parks.*.capacity.land=*2"], "which --grid parks.wuhu"),
    (["--grid", "parks.wuhu.capacity=*2,*3", "--grid", "parks.wuhu.capacity.land=10,11"],
     "which --grid parks.wuhu.capacity sets too"),
    (["--grid", "parks.wuhu.capacity.land=*0.5,*0.50"], "`*0.50` is the value `*0.5` again"),
    (["--grid", "parks.wuhu.capacity.land=10,1e1"], "`1e1` is the value `10` again"),
    (["--grid", "parks.wuhu.capacity.land=8,'8'"], "`'8'` is the value `8` again"),
    (["--scenario", "tight_cod", "--scenario", "tight_cod"], "--scenario: tight_cod: is given twice")])
def test_sweep_refuses_the_same_run_twice_however_it_is_written(tmp_path, args, message):
    result = CliRunner().invoke(main, ["sweep", DEMO, *args, "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "s").exists()


def test_sweep_of_a_scenario_that_makes_an_invalid_base_valid(tmp_path):
    """The grid's keys are checked in the document as read: a base that only its scenario makes
    valid sweeps as it solves."""
    data = yaml.safe_load(Path(DEMO).read_text(encoding="utf-8"))
    data["parks"][0]["capacity"]["land"] = -10
    data["scenarios"]["fixed"] = {"set": {"parks.wuhu.capacity.land": 10}}
    path = write(tmp_path, data)
    result = CliRunner().invoke(main, ["sweep", str(path), "--scenario", "fixed", "--grid",
                                       "parks.guangan.capacity.land=8,9", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert len(_summary(tmp_path / "s")) == 2


def test_sweep_grid_values_with_commas_inside_quotes_or_brackets(tmp_path):
    """A comma inside quotes or brackets belongs to its value: a text with a comma, a list."""
    from model.sweep import parse_grid

    assert parse_grid('parks.wuhu.description="a,b",c') == ("parks.wuhu.description", ["a,b", "c"])
    assert parse_grid("rules.0.parks.tags=[yangtze_shoreline, x],[y]") == (
        "rules.0.parks.tags", [["yangtze_shoreline", "x"], ["y"]])
    assert parse_grid("parks.wuhu.capacity.land=1e1,2") == ("parks.wuhu.capacity.land", [10.0, 2])
    assert parse_grid("parks.wuhu.name_en=Xi'an,Wuhu") == ("parks.wuhu.name_en", ["Xi'an", "Wuhu"])  # a letter
    assert parse_grid("parks.wuhu.name_en='it''s, ok',b") == ("parks.wuhu.name_en", ["it's, ok", "b"])
    result = CliRunner().invoke(main, ["sweep", DEMO, "--grid", "rules.0.parks={tags: yangtze_shoreline},{ids: [wuhu]}",
                                       "--mip-gap", "0", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert len(_summary(tmp_path / "s")) == 2


def test_sweep_rejects_a_bad_grid_before_running(tmp_path):
    result = CliRunner().invoke(main, ["sweep", DEMO, "--grid", "parks.nowhere.open_cost=1,2",
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "no item with id 'nowhere' in parks" in result.stderr
    assert not (tmp_path / "s").exists()


def test_compare_reports_the_known_difference(tmp_path):
    for name, extra in (("base", []), ("tight", ["--scenario", "tight_cod"])):
        r = CliRunner().invoke(main, ["solve", DEMO, "--mip-gap", "0", "--out", str(tmp_path / name), *extra])
        assert r.exit_code == 0
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "base"), str(tmp_path / "tight"),
                                       "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    kpis = pd.read_csv(tmp_path / "cmp" / "kpis.csv").set_index("kpi")
    # Columns are named by the runs' scenarios, not their folders.
    assert float(kpis.loc["objective", "delta tight_cod"]) == pytest.approx(61.6 - 49.6)
    assert float(kpis.loc["objective", "delta % tight_cod"]) == pytest.approx((61.6 - 49.6) / 49.6 * 100)
    assert kpis.loc["objective", "verdict tight_cod"] == "effect"  # both solved at gap 0
    alloc = pd.read_csv(tmp_path / "cmp" / "allocations.csv")
    # By hand: one textile module can no longer go to guangan (COD) and stays.
    assert sorted(map(tuple, alloc[["industry", "park", "base", "tight_cod"]].values.tolist())) == [
        ("textiles_js", "(stays)", 0.0, 1.0), ("textiles_js", "guangan", 1.0, 0.0)]
    parks = pd.read_csv(tmp_path / "cmp" / "parks.csv")
    assert list(parks["park"]) == ["guangan"]
    inputs = pd.read_csv(tmp_path / "cmp" / "inputs.csv")
    assert sorted(inputs["key"]) == ["parks.ganzhou.capacity.cod", "parks.guangan.capacity.cod",
                                     "parks.wuhu.capacity.cod"]
    binding = pd.read_csv(tmp_path / "cmp" / "binding.csv")
    assert "capacity[wuhu,cod]" in set(binding["row"])


def test_compare_tells_a_module_that_closes_from_one_that_stays(tmp_path):
    """Both leave the park empty in allocations.csv; the fate column tells them apart. By hand: under
    tight_cod one textile module has no park; closing it (retire_cost 15) is cheaper than keeping it
    home (stay_cost 20), and at retire_cost 25 it stays."""
    data = yaml.safe_load(Path(DEMO).read_text(encoding="utf-8"))
    data["industries"][0].update(may_retire=True, retire_cost=15)
    inst = write(tmp_path, data)
    for name, extra in (("closes", []), ("stays", ["--set", "industries.textiles_js.retire_cost=25"])):
        r = CliRunner().invoke(main, ["solve", str(inst), "--scenario", "tight_cod", "--mip-gap", "0",
                                      "--out", str(tmp_path / name), *extra])
        assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["compare", str(tmp_path / "closes"), str(tmp_path / "stays"),
                                  "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    alloc = pd.read_csv(tmp_path / "cmp" / "allocations.csv")
    assert sorted(map(tuple, alloc[["industry", "park"]].values.tolist())) == [
        ("textiles_js", "(closes)"), ("textiles_js", "(stays)")]
    closes, stays = alloc.columns[2], alloc.columns[3]
    assert alloc.set_index("park")[[closes, stays]].to_dict("index") == {
        "(closes)": {closes: 1.0, stays: 0.0}, "(stays)": {closes: 0.0, stays: 1.0}}

    # explain names the module that closes, and prices closing and staying in columns of their own.
    from model.explain import explain

    result = explain(tmp_path / "closes", "textiles_js")
    assert result.placed == {"wuhu": 1.0, "(closes)": 1.0}
    costs = result.costs.set_index("park")
    assert costs.loc["(closes)", ["retire_cost", "stay_cost", "total", "placed"]].tolist() == [15, 0, 15, 1]
    assert costs.loc["(stays)", ["retire_cost", "stay_cost", "total", "placed"]].tolist() == [0, 20, 20, 0]
    assert costs.loc["wuhu", ["retire_cost", "stay_cost"]].tolist() == [0, 0]
    # By hand, from the plan's 56.6 (wuhu's module 10, the closed one 15): both modules closed
    # 56.6 − 10 + 15 = 61.6; both at home 56.6 − 10 − 15 + 2 × 20 = 71.6.
    assert result.objective == pytest.approx(56.6)
    assert costs.loc["(closes)", "forced_objective"] == pytest.approx(61.6)
    assert costs.loc["(stays)", "forced_objective"] == pytest.approx(71.6)


def test_explain_prices_forcing_by_hand(tmp_path):
    r = CliRunner().invoke(main, ["solve", DEMO, "--mip-gap", "0", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0
    from model.explain import explain

    result = explain(tmp_path / "run", "electronics_gd")
    assert result.placed == {"(stays)": 1.0}
    costs = result.costs.set_index("park")
    # Per module: wuhu 6 + 200 × 0.05 = 16; ganzhou 6 + 200 × 0.04 = 14; staying 9.
    assert costs.loc["wuhu", "total"] == pytest.approx(16)
    assert costs.loc["ganzhou", "total"] == pytest.approx(14)
    assert costs.loc["(stays)", "total"] == pytest.approx(9)
    # Forced to wuhu it takes 200 of its 250 workers: a textile module stays (20, not 10 at wuhu):
    # 49.6 − 9 + 16 − 10 + 20 = 66.6. Forced to ganzhou it leaves no land for chem_zj: infeasible.
    assert costs.loc["wuhu", "forced_objective"] == pytest.approx(66.6)
    assert costs.loc["wuhu", "delta"] == pytest.approx(17)
    assert costs.loc["ganzhou", "forced_objective"] == "infeasible"
    # guangan: 200 workers > 150, with or without upgrades; ganzhou: room for it alone, not beside chem_zj.
    assert list(result.excluded["park"]) == ["guangan", "ganzhou"]
    assert "no plan has it there" in result.excluded["reason"].iloc[1]
    chem = explain(tmp_path / "run", "chem_zj")
    assert chem.excluded.set_index("park").loc["wuhu", "reason"].startswith("rule yangtze_chemicals forbids it")
    cli = CliRunner().invoke(main, ["explain", str(tmp_path / "run"), "--industry", "nobody"])
    assert cli.exit_code == 2 and "--industry: nobody: no such industry in the run" in cli.stderr


# In the demo, CO2 is 13.186 kt at the cost optimum (textile modules at guangan, 1.404, and wuhu,
# 6.782, and chem_zj's 5). The least CO2 keeps the wuhu module home (East grid, 5.617): 12.021 kt,
# at cost 49.6 − 10 + 20 = 59.6. Nothing lower exists: guangan has labor for one textile module.
LOW_CO2, LOW_CO2_COST = 1.404 + 5.617 + 5, 59.6
COST_TERMS = ["open_cost", "upgrade_cost", "relocation_cost", "operating_cost", "logistics_cost",
              "pair_cost", "stay_cost"]


def test_pareto_front_is_monotone_with_hand_checked_ends(tmp_path):
    result = CliRunner().invoke(main, ["pareto", DEMO, "--x", "co2", "--y", "cost", "--points", "5",
                                       "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    front = pd.read_csv(tmp_path / "p" / "front.csv")
    assert (front["status"] == "optimal").all() and front["check_ok"].all()
    assert front["co2"].iloc[0] == pytest.approx(LOW_CO2) and front["cost"].iloc[0] == pytest.approx(LOW_CO2_COST)
    assert front["co2"].iloc[-1] == pytest.approx(1.404 + 6.782 + 5) and front["cost"].iloc[-1] == pytest.approx(49.6)
    assert (front["co2"] <= front["epsilon"] + 1e-6).all()
    assert (front["cost"].diff().dropna() <= 1e-9).all()  # more CO2 allowed never costs more
    assert (tmp_path / "p" / "front.png").stat().st_size > 0
    assert (tmp_path / "p" / "point_03" / "allocations.csv").is_file()
    # A point's folder says what was solved (ε and the levels), and compare tells points apart by it.
    record = json.loads((tmp_path / "p" / "point_02" / "run.json").read_text())["pareto"]
    assert record["epsilon"] == pytest.approx(front["epsilon"].iloc[1]) and record["levels"] == ["min cost", "min co2"]
    cmp = CliRunner().invoke(main, ["compare", str(tmp_path / "p" / "point_01"), str(tmp_path / "p" / "point_05"),
                                    "--out", str(tmp_path / "cmp")])
    assert cmp.exit_code == 0, cmp.output
    inputs = pd.read_csv(tmp_path / "cmp" / "inputs.csv").set_index("key")
    assert list(inputs.loc["(solved).pareto.epsilon"]) == pytest.approx(list(front["epsilon"].iloc[[0, 4]]))
    verdict = pd.read_csv(tmp_path / "cmp" / "verdicts.csv").iloc[1]
    assert verdict["run"] == f"base + co2 ≤ {front['epsilon'].iloc[4]:.6g}" and "kt CO2" in verdict["meaning"]
    assert not verdict["alternative_optima"]


def test_pareto_maximises_a_benefit_and_bounds_it_from_below(tmp_path):
    """jobs is a benefit: the front trades cost against jobs ≥ ε. Its ends by hand: the most jobs is
    340, not all 440: chem (banned at wuhu, too big for guangan's land) takes ganzhou with its
    sewage plant, electronics (labor 200) then only fits wuhu, leaving wuhu 50 labor and ganzhou
    2 land, so one textile module can move (guangan, labor 150); its cost is chem 8 + 1.6 + open
    10 + sewage 3, electronics 6 + 10, textile 5 + 3, the other textile staying 20: 66.6. The
    least cost is the demo's optimum 49.6 (by hand) with 240 jobs."""
    result = CliRunner().invoke(main, ["pareto", DEMO, "--x", "jobs", "--y", "cost", "--points", "4",
                                       "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert "min cost subject to jobs ≥ ε" in " ".join(result.output.split())
    front = pd.read_csv(tmp_path / "p" / "front.csv")
    assert (front["status"] == "optimal").all() and front["check_ok"].all()
    most = front.loc[front["jobs"].idxmax()]
    assert (most["jobs"], most["cost"]) == (pytest.approx(340), pytest.approx(66.6))
    assert front["epsilon"].iloc[0] == pytest.approx(340)
    cheapest = front.loc[front["cost"].idxmin()]
    assert cheapest["cost"] == pytest.approx(49.6) and cheapest["jobs"] == pytest.approx(240)
    assert (front["jobs"] >= front["epsilon"] - 1e-6).all()
    by_floor = front.sort_values("epsilon")
    assert (by_floor["cost"].diff().dropna() >= -1e-9).all()  # a higher floor on jobs never costs less
    record = json.loads((tmp_path / "p" / "point_01" / "run.json").read_text())["pareto"]
    assert record["relation"] == "≥" and record["levels"] == ["min cost", "max jobs"]


@pytest.mark.parametrize("points", [1, 9, 99, 100, 1000])
def test_pareto_point_folders_sort_in_the_fronts_order(points):
    from model.pareto import point_names

    names = point_names(points)
    assert len(set(names)) == points and sorted(names) == names  # point_100 after point_99, not before point_11
    assert names[0] == "point_" + "1".rjust(max(2, len(str(points))), "0")


@pytest.mark.parametrize("tolerance, cost, co2", [
    (0.0, LOW_CO2_COST, LOW_CO2),  # CO2 first, exactly: the low-CO2 plan
    (0.1, 49.6, 1.404 + 6.782 + 5),  # 10 % leeway (≤ 13.22 kt) admits the cost optimum (13.186 kt)
])
def test_lexicographic_objective(tmp_path, tolerance, cost, co2):
    import yaml

    data = yaml.safe_load(open(DEMO))
    data["objective"] = {"lexicographic": [{"weights": {"co2": 1}, "tolerance": tolerance},
                                           {"weights": {t: 1 for t in COST_TERMS}}]}
    path = tmp_path / "lex.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["solve", str(path), "--mip-gap", "0", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    import json

    kpis = json.loads((tmp_path / "r" / "kpis.json").read_text())
    assert kpis["objective"] == pytest.approx(cost)
    assert kpis["kpis"]["co2"] == pytest.approx(co2)
    assert [level["objective"] for level in kpis["levels"]] == [pytest.approx(LOW_CO2), pytest.approx(cost)]


def test_compare_names_each_row_of_the_model_and_loses_none(tmp_path):
    """Two diversity bounds of one rule are rows of their own (the bug: one key for both lost one).

    By hand: a (textiles) costs 0 at p1 and 5 at p2; b (food) 0 at p1 and 3 at p2. With one sector
    per park, a takes p1 and b p2 (3); with two, both take p1 (0). Sector rows bind in both runs
    (each sector at one park, the most allowed); of the park rows only p2's changes (1 of 1 sector,
    then 0 of 2), while p1's binds in both (1 of 1, then 2 of 2)."""
    data = base()
    data["industries"] = [
        {"id": "a", "origin": "Jiangsu", "sector": "textiles", "use": {"land": 1}, "stay_cost": 100},
        {"id": "b", "origin": "Jiangsu", "sector": "food", "use": {"land": 1}, "stay_cost": 100}]
    data["pairs"] = [{"industry": "a", "park": "p1", "cost": 0}, {"industry": "a", "park": "p2", "cost": 5},
                     {"industry": "b", "park": "p1", "cost": 0}, {"industry": "b", "park": "p2", "cost": 3}]
    data["rules"] = [{"id": "div", "kind": "diversity", "source": "t", "max_parks_per_sector": 1,
                      "max_sectors_per_park": 1}]
    path = write(tmp_path, data)
    for name, value in (("one", 1), ("two", 2)):
        r = CliRunner().invoke(main, ["solve", str(path), "--mip-gap", "0", "--set",
                                      f"rules.div.max_sectors_per_park={value}", "--out", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
    one = pd.read_csv(tmp_path / "one" / "limits.csv").set_index(["component", "index"])
    two = pd.read_csv(tmp_path / "two" / "limits.csv").set_index(["component", "index"])
    assert json.loads((tmp_path / "one" / "kpis.json").read_text())["objective"] == pytest.approx(3)
    assert json.loads((tmp_path / "two" / "kpis.json").read_text())["objective"] == pytest.approx(0)
    for table in (one, two):
        assert table.loc[("max_parks_per_sector", "div,textiles"), "binding"]
        assert table.loc[("max_parks_per_sector", "div,food"), "binding"]
    assert one.loc[("max_sectors_per_park", "div,p2"), "value"] == 1
    assert two.loc[("max_sectors_per_park", "div,p1"), "value"] == 2
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "one"), str(tmp_path / "two"),
                                       "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    binding = pd.read_csv(tmp_path / "cmp" / "binding.csv")
    assert list(binding["row"]) == ["max_sectors_per_park[div,p2]"]


def test_explain_re_solves_every_lexicographic_level(tmp_path):
    """Forcing a bundle where the plan already has it gives back the plan's own objective: with a
    lexicographic objective only when every level is solved, as the run was (the last level's
    cost, not the first level's CO2)."""
    from model.explain import explain

    data = yaml.safe_load(Path(DEMO).read_text())
    data["objective"] = {"lexicographic": [
        {"weights": {"co2": 1}, "tolerance": 0.5},
        {"weights": {t: 1 for t in ("open_cost", "upgrade_cost", "relocation_cost", "operating_cost",
                                    "logistics_cost", "pair_cost", "stay_cost")}}]}
    path = tmp_path / "lex.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    r = CliRunner().invoke(main, ["solve", str(path), "--mip-gap", "0", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    objective = json.loads((tmp_path / "run" / "kpis.json").read_text())["objective"]
    # Without --prove the park it is at is the plan itself (not re-solved); --prove re-solves it.
    got = explain(tmp_path / "run", "chem_zj", prove=0.0)
    where = got.costs[got.costs["placed"] == 1.0]
    assert len(where) == 1 and where["verdict"].iloc[0] != "the plan itself"
    assert float(where["forced_objective"].iloc[0]) == pytest.approx(objective, rel=1e-6)


def test_explain_forces_a_lexicographic_run_in_its_own_terms(tmp_path):
    """CO2 first with 50 % leeway (≤ 1.5 × 12.021 = 18.0315 kt), then cost: the run is the demo's
    optimum (49.6, 13.186 kt; textiles_js split over wuhu and guangan). By hand, forcing textiles_js
    to wuhu (2 × 6.782 + chem_zj's 5 = 18.564 kt) breaks the first level: it cannot be compared on
    cost (solved on its own terms, the forced problem set its leeway from its own 18.564 and read
    as +2 on cost). Staying (16.234 kt) keeps it, at cost 71.6: +22."""
    from model.explain import explain

    data = yaml.safe_load(Path(DEMO).read_text())
    data["objective"] = {"lexicographic": [{"weights": {"co2": 1}, "tolerance": 0.5},
                                           {"weights": {t: 1 for t in COST_TERMS}}]}
    path = tmp_path / "lex.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    r = CliRunner().invoke(main, ["solve", str(path), "--mip-gap", "0", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    rows = explain(tmp_path / "run", "textiles_js").costs.set_index("park")
    assert rows.loc["wuhu", "verdict"] == "breaks level 1"
    assert rows.loc["wuhu", "forced_objective"] == "level 1: 18.564 > 18.0315"
    assert rows.loc["(stays)", "forced_objective"] == pytest.approx(71.6)
    assert rows.loc["(stays)", "delta"] == pytest.approx(22) and rows.loc["(stays)", "verdict"] == "effect"


def test_a_pareto_point_is_checked_against_the_objective_it_reports(tmp_path):
    """A point's kpis.json reports its tie-break level (x) as the objective, with those weights:
    `check` recomputes it with them, not with the instance's."""
    r = CliRunner().invoke(main, ["pareto", DEMO, "--x", "co2", "--y", "cost", "--points", "2",
                                  "--out", str(tmp_path / "front")])
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "front" / "point_01" / "kpis.json").read_text())
    assert doc["objective_weights"] == {"co2": 1.0}
    r = CliRunner().invoke(main, ["check", DEMO, str(tmp_path / "front" / "point_01")])
    assert r.exit_code == 0 and "disagrees" not in r.output, r.output


def test_check_says_a_run_without_a_plan_has_none(tmp_path):
    data = yaml.safe_load(Path(DEMO).read_text())
    data["industries"][0]["must_transfer"] = True
    for park in data["parks"]:
        park["capacity"]["labor"] = 0
    path = tmp_path / "none.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")]).exit_code == 3
    r = CliRunner().invoke(main, ["check", str(path), str(tmp_path / "run")])
    assert r.exit_code == 2 and "the run has no plan (infeasible)" in r.stderr


@pytest.mark.parametrize("weights", [{"bogus": 1}, {"co2": 1e308}, {"modules_moved": 1}, "co2"])
def test_check_does_not_trust_objective_weights_this_tool_would_not_write(tmp_path, weights):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", DEMO, "--out", str(out)]).exit_code == 0
    doc = json.loads((out / "kpis.json").read_text())
    doc["objective_weights"] = weights
    (out / "kpis.json").write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["check", DEMO, str(out)])
    assert r.exit_code == 0 and "kpis.json is not as this tool writes it" in r.output, r.output
    assert "objective 49.6 million yuan (the instance's weights)" in r.output


@pytest.mark.parametrize("edit, why", [({"bound": 1000.0}, "bound 1000 is above the objective 49.6"),
                                       ({"gap": -1.0}, "gap -1.0 is not a number ≥ 0"),
                                       ({"bound": float("nan")}, "bound nan is not a finite number"),
                                       ({"gap": 0.9}, "gap 0.9 is not the gap between the objective 49.6 and "
                                                      "the bound 49.6 (0)"),
                                       ({"bound": 40.0, "gap": 0.0}, "gap 0 is not the gap between the objective "
                                                                     "49.6 and the bound 40 (0.193548)"),
                                       ({"status": "banana"}, "status 'banana' is none of optimal, feasible, "
                                                              "interrupted, infeasible, unbounded, no_solution, "
                                                              "error")])
def test_compare_does_not_trust_a_bound_above_the_objective_or_a_negative_gap(tmp_path, edit, why):
    """A bound above the plan's objective is no bound of a minimum: trusted, it made the objective
    interval inverted and identical plans 'an effect'. A gap that is not the one between the
    objective and the bound made compare's headline say 'proven by the gaps (0.00% and 90.00%)'
    of plans it also called within tolerance."""
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert CliRunner().invoke(main, ["solve", DEMO, "--out", str(out)]).exit_code == 0
    doc = json.loads((b / "kpis.json").read_text())
    (b / "kpis.json").write_text(json.dumps({**doc, **edit}))
    r = CliRunner().invoke(main, ["compare", str(a), str(b)])
    assert r.exit_code == 2 and f"{b / 'kpis.json'}: (file): not as this tool writes it: {why}" in r.stderr, r.output
    r = CliRunner().invoke(main, ["explain", str(b), "--industry", "chem_zj"])
    assert r.exit_code == 2 and f"not as this tool writes it: {why}" in r.stderr, r.output


# --- honest comparisons: differences judged by the runs' proven gaps ------------------------------

def _two_parks(tmp_path: Path) -> Path:
    """One module of `a` (land 1, so2 1 t), two parks: per module relocation 1 + land × the park's
    unit cost (p1 10, p2 10.5): the optimum is p1 at 11. Scenario dear_p1 makes p1's land 20:
    the module goes to p2 at 11.5."""
    data = base()
    data["resources"]["so2"] = {"category": "ecology", "unit": "t"}
    data["industries"][0]["use"] = {"land": 1, "so2": 1}
    data["parks"][0].update(capacity={"land": 10, "so2": 10}, unit_costs={"land": 10})
    data["parks"][1].update(capacity={"land": 10, "so2": 10}, unit_costs={"land": 10.5})
    data["scenarios"] = {"dear_p1": {"set": {"parks.p1.unit_costs.land": 20}}}
    return write(tmp_path, data)


def _solve(path: Path, out: Path, *extra: str) -> None:
    r = CliRunner().invoke(main, ["solve", str(path), "--mip-gap", "0", "--out", str(out), *extra])
    assert r.exit_code == 0, r.output


def _loosen(folder: Path, slack: float) -> None:
    """Make a run read as one stopped at a gap: its bound `slack` below its objective (what a solve
    stopped by --mip-gap reports; the plan and the objective are untouched)."""
    doc = json.loads((folder / "kpis.json").read_text())
    doc["bound"] = doc["objective"] - slack
    doc["gap"] = slack / abs(doc["objective"])
    (folder / "kpis.json").write_text(json.dumps(doc))


def test_compare_calls_a_difference_the_gaps_allow_within_tolerance_and_prove_settles_it(tmp_path):
    from model.compare import compare

    path = _two_parks(tmp_path)
    long = tmp_path / ("b" + "x" * 250)  # its re-solved folder's name would be too long whole
    _solve(path, tmp_path / "a")
    _solve(path, long, "--set", "parks.p1.unit_costs.land=10.3")
    # By hand: a 11 (p1), b 11.3 (p1 at 10.3 is still cheaper than p2 at 10.5).
    _loosen(tmp_path / "a", 0.5)  # a's optimum in [10.5, 11]
    _loosen(long, 0.5)  # b's in [10.8, 11.3]
    result = compare([tmp_path / "a", long])
    b = "base + parks.p1.unit_costs.land=10.3"
    assert result.labels == ["base", b]
    v = result.verdicts[b]
    # The difference of the optima lies in [10.8 − 11, 11.3 − 10.5] = [−0.2, 0.8]: it contains 0.
    assert v.verdict == "within tolerance" and v.noise
    assert (v.low, v.high, v.delta) == (pytest.approx(-0.2), pytest.approx(0.8), pytest.approx(0.3))
    kpis = result.kpis.set_index("kpi")
    assert kpis.loc["objective", f"verdict {b}"] == "within tolerance"
    assert kpis.loc["operating_cost", f"verdict {b}"] == "may be solver noise"
    assert any("within solver tolerance" in line for line in result.summary)

    cli = CliRunner().invoke(main, ["compare", str(tmp_path / "a"), str(long), "--prove",
                                    "--out", str(tmp_path / "cmp")])
    assert cli.exit_code == 0, cli.output
    # Re-solved at gap 0: 11 and 11.3, bounds closed: +0.3 proven, 0.3 / 11 = 2.727 %.
    verdicts = pd.read_csv(tmp_path / "cmp" / "verdicts.csv").set_index("run")
    assert verdicts.loc[b, "verdict"] == "effect" and bool(verdicts.loc[b, "proven_by_resolve"])
    assert verdicts.loc[b, ["delta_low", "delta_high"]].tolist() == [pytest.approx(0.3)] * 2
    kpis = pd.read_csv(tmp_path / "cmp" / "kpis.csv").set_index("kpi")
    assert float(kpis.loc["objective", f"delta % {b}"]) == pytest.approx(0.3 / 11 * 100)
    assert float(kpis.loc["gap", "base"]) == 0
    # The proven runs are results folders inside --out; the users' folders are as they were.
    proven = tmp_path / "cmp"
    assert json.loads((proven / "proven-1-a" / "kpis.json").read_text())["objective"] == pytest.approx(11)
    second = [p for p in proven.iterdir() if p.name.startswith("proven-2-bxxx")]
    assert len(second) == 1 and len(second[0].name) == len("proven-2-") + 100
    assert json.loads((second[0] / "run.json").read_text())["proven_from"] == str(long)
    assert json.loads((tmp_path / "a" / "kpis.json").read_text())["bound"] == pytest.approx(10.5)
    assert "re-solving base" in cli.stderr and "an effect, proven by the gaps" in " ".join(cli.stdout.split())


def test_compare_reports_a_real_difference_as_an_effect_with_roll_ups(tmp_path):
    from model.compare import compare

    path = _two_parks(tmp_path)
    _solve(path, tmp_path / "a")
    _solve(path, tmp_path / "c", "--scenario", "dear_p1")
    result = compare([tmp_path / "a", tmp_path / "c"])
    assert result.labels == ["base", "dear_p1"]
    v = result.verdicts["dear_p1"]
    # By hand: 11.5 − 11 = +0.5 (4.545 %), both proven optimal: the interval is [0.5, 0.5].
    assert v.verdict == "effect" and not v.noise
    assert (v.low, v.high) == (pytest.approx(0.5), pytest.approx(0.5))
    kpis = result.kpis.set_index("kpi")
    assert kpis.loc["objective", "delta dear_p1"] == pytest.approx(0.5)
    assert kpis.loc["objective", "delta % dear_p1"] == pytest.approx(0.5 / 11 * 100)
    assert "may be solver noise" not in set(kpis["verdict dear_p1"])
    alloc = result.allocations
    assert sorted(map(tuple, alloc[["park", "base", "dear_p1"]].values.tolist())) == [("p1", 1, 0), ("p2", 0, 1)]
    # Roll-ups sum to the allocations: p1 is in Anhui (central), p2 in Sichuan (west); a is from Jiangsu.
    received = result.rollups["received_by_province"].set_index("province")
    assert received.to_dict("index") == {"Anhui": {"base": 1, "dear_p1": 0, "delta dear_p1": -1},
                                         "Sichuan": {"base": 0, "dear_p1": 1, "delta dear_p1": 1}}
    regions = result.rollups["received_by_region"].set_index("region")
    assert regions.loc["west", "delta dear_p1"] == 1 and regions.loc["central", "delta dear_p1"] == -1
    for label, folder in (("base", "a"), ("dear_p1", "c")):
        moved = pd.read_csv(tmp_path / folder / "allocations.csv").dropna(subset=["park"])["modules"].sum()
        assert received[label].sum() == moved == regions[label].sum()
        assert result.rollups["sent_by_province"].set_index("province").loc["Jiangsu", label] == moved
    ledger = result.rollups["ledger"].set_index(["jurisdiction", "measure"])
    assert ledger.loc[("Sichuan", "modules"), "delta dear_p1"] == 1
    # Alike runs: the same optimum, proven; the inputs differ, so it is not called alternative optima.
    _solve(path, tmp_path / "d", "--set", "parks.p2.capacity.land=11")
    same = compare([tmp_path / "a", tmp_path / "d"]).verdicts["base + parks.p2.capacity.land=11"]
    assert same.verdict == "no difference" and not same.alternative_optima


def test_compare_judges_no_difference_between_runs_over_other_periods(tmp_path):
    """One year's objective against a present value over two periods of 2 and 3 years:
    not an effect, proven, but `not comparable`, in verdicts.csv and kpis.csv, and the note that
    says why is written with the tables (notes.csv), not only printed."""
    one = _two_parks(tmp_path)
    _solve(one, tmp_path / "a")
    data = yaml.safe_load(one.read_text())
    data["periods"] = [{"id": "t1", "years": 2}, {"id": "t2", "years": 3}]
    phased = tmp_path / "phased.yaml"
    phased.write_text(yaml.safe_dump(data))
    _solve(phased, tmp_path / "b")
    r = CliRunner().invoke(main, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    verdict = pd.read_csv(tmp_path / "cmp" / "verdicts.csv").iloc[1]
    assert verdict["verdict"] == "not comparable" and "periods or discount rates differ" in verdict["meaning"]
    assert pd.isna(verdict["delta_low"]) and bool(verdict["may_be_noise"])
    kpis = pd.read_csv(tmp_path / "cmp" / "kpis.csv").set_index("kpi")
    assert "effect" not in set(kpis.filter(like="verdict").stack().astype(str))
    assert kpis.filter(like="verdict").iloc[:, 0].loc[["objective", "operating_cost"]].tolist() == [
        "not comparable"] * 2
    notes = pd.read_csv(tmp_path / "cmp" / "notes.csv")["note"]
    assert notes.str.contains("not over the same periods").any()
    # without a bound (a heuristic's plan) it was "unknown ... may be solver noise": still not comparable
    doc = json.loads((tmp_path / "b" / "kpis.json").read_text())
    (tmp_path / "b" / "kpis.json").write_text(json.dumps({**doc, "bound": None, "gap": None}))
    from model.compare import compare

    assert compare([tmp_path / "a", tmp_path / "b"]).verdicts["base (b)"].verdict == "not comparable"


def test_compare_reads_a_side_tables_cells_as_numbers(tmp_path):
    """instance.json keeps a CSV cell as its text ('4'), an overlay as a number (4.0): the same
    value written two ways is no input difference."""
    from model.compare import compare
    from tests.test_input_hostile import industries_csv

    path, _, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_text(table)
    land = next(line for line in table.splitlines() if line.startswith("textiles_js,")).split(",")[6]
    _solve(path, tmp_path / "a")
    _solve(path, tmp_path / "b", "--set", f"industries.textiles_js.use.land={float(land)}")
    assert compare([tmp_path / "a", tmp_path / "b"]).inputs.empty


def test_compare_labels_runs_by_scenario_and_tells_twins_apart_by_folder(tmp_path):
    from model.compare import compare

    path = _two_parks(tmp_path)
    for name in ("x", "y"):
        _solve(path, tmp_path / name, "--scenario", "dear_p1", "--set", "parks.p2.capacity.land=9")
    result = compare([tmp_path / "x", tmp_path / "y"])
    assert result.labels == ["dear_p1 + parks.p2.capacity.land=9 (x)", "dear_p1 + parks.p2.capacity.land=9 (y)"]
    v = result.verdicts[result.labels[1]]
    assert v.verdict == "no difference" and v.alternative_optima  # the same instance, both proven optimal
    cli = CliRunner().invoke(main, ["compare", str(tmp_path / "x"), str(tmp_path / "y")])
    assert f"(x) = {tmp_path / 'x'};" in " ".join(cli.stdout.split())


def test_explain_names_the_resource_that_keeps_a_bundle_out(tmp_path):
    """p2 has 400 t of SO2 and a scrubber adding 147: 547 with every upgrade, 635 needed per module."""
    from model.explain import explain

    data = base()
    data["resources"]["so2"] = {"category": "ecology", "unit": "t"}
    data["industries"][0]["use"] = {"land": 1, "so2": 635}
    data["parks"][0]["capacity"] = {"land": 10, "so2": 1000}
    data["parks"][1]["capacity"] = {"land": 10, "so2": 400}
    data["parks"][1]["upgrades"] = [{"id": "scrubber", "cost": 1, "adds": {"so2": 147}}]
    _solve(write(tmp_path, data), tmp_path / "run")
    got = explain(tmp_path / "run", "a", candidates=0)
    row = got.excluded.set_index("park").loc["p2"]
    assert (row["resource"], row["available"], row["needed"]) == ("so2", 547, 635)
    assert row["reason"] == "too small: so2: 547 t available (capacity + scrubber), 635 needed per module"
    # Where the bundle already is: the plan itself, 0 by definition, nothing re-solved.
    here = got.costs.set_index("park").loc["p1"]
    assert here["verdict"] == "the plan itself" and here["delta"] == 0 and here["forced_objective"] == got.objective
    assert got.objective == pytest.approx(1) and got.bound == pytest.approx(1)  # relocation 1, gap 0
    # Staying costs 100 instead of 1: +99, an effect the closed gaps prove.
    stay = got.costs.set_index("park").loc["(stays)"]
    assert stay["delta"] == pytest.approx(99) and stay["delta_low"] == pytest.approx(99)
    assert stay["verdict"] == "effect"
    # A run that reports a wide gap: forcing is still 99 dearer than the plan, but may cost as
    # much as 99 + 0.5 against the optimum (bound 0.5); the low end 99 stays proven.
    _loosen(tmp_path / "run", 0.5)
    loose = explain(tmp_path / "run", "a", candidates=0).costs.set_index("park")
    assert loose.loc["(stays)", "delta_high"] == pytest.approx(99.5)
    assert loose.loc["p1", "delta_high"] == pytest.approx(0.5) and loose.loc["p1", "verdict"] == "the plan itself"


def test_compare_a_run_stopped_short_by_the_solver_is_within_tolerance_of_its_optimum(tmp_path):
    """The consultant's trap, with real solves: one generated instance solved to optimality and
    again with HiGHS stopped at a 30 % gap. The naive objective difference (+374 here) is pure
    solver noise: the instance is the same. compare must call it within tolerance, not an effect,
    and --prove must find no difference (both optima proven equal)."""
    from model.compare import compare

    inst = tmp_path / "g.yaml"
    got = CliRunner().invoke(main, ["generate", "--industries", "25", "--parks", "8", "--seed", "1", "-o", str(inst)])
    assert got.exit_code == 0, got.output
    _solve(inst, tmp_path / "exact")
    r = CliRunner().invoke(main, ["solve", str(inst), "--mip-gap", "0.3", "--out", str(tmp_path / "short")])
    assert r.exit_code == 0, r.output
    exact = json.loads((tmp_path / "exact" / "kpis.json").read_text())
    short = json.loads((tmp_path / "short" / "kpis.json").read_text())
    # The premise: HiGHS stopped short (an incumbent worse than the optimum, with a real gap).
    assert exact["gap"] == 0 and short["gap"] > 0 and short["objective"] > exact["objective"] + 1e-6
    result = compare([tmp_path / "exact", tmp_path / "short"])
    twin = result.labels[1]
    v = result.verdicts[twin]
    assert v.delta == pytest.approx(short["objective"] - exact["objective"])
    assert v.low == pytest.approx(short["bound"] - exact["objective"]) and v.low < 0 < v.high
    assert v.verdict == "within tolerance" and v.noise
    proven = compare([tmp_path / "exact", tmp_path / "short"], prove=0.0)
    w = proven.verdicts[proven.labels[1]]
    assert w.verdict == "no difference" and w.proven and abs(w.delta) <= 1e-6 * abs(exact["objective"])


def test_explain_says_why_forcing_the_whole_bundle_fails(tmp_path):
    """By hand (demo.yaml): guangan has room for one textile module of two (labor 150 for 100 each,
    COD 3 t for 2 t each); ganzhou takes both alone (land 8 of 12) but chem_zj, which can go
    nowhere else, needs 10 ha of it: no plan has the bundle there."""
    from model.explain import explain

    _solve(Path(DEMO), tmp_path / "run")
    got = explain(tmp_path / "run", "textiles_js", candidates=5)
    reasons = dict(zip(got.excluded["park"], got.excluded["reason"]))
    assert reasons["guangan"].startswith("room for 1 of the 2 modules")
    assert "labor: 150 persons available" in reasons["guangan"] and "200 for all 2" in reasons["guangan"]
    assert "cod: 3 t COD available" in reasons["guangan"]
    assert "no plan has it there" in reasons["ganzhou"]
    forced = dict(zip(got.costs["park"], got.costs["forced_objective"]))
    assert forced["guangan"] == forced["ganzhou"] == "infeasible"
    assert forced["wuhu"] == pytest.approx(51.6)  # both modules at wuhu: 49.6 − 8 + 10


def test_explain_counts_only_the_upgrades_ready_within_the_horizon(tmp_path):
    """Two 1-year periods; guangan gets an upgrade `dorm` (+100 labor, +2 t COD) whose lead time of
    5 years outlasts them, so it never adds capacity: guangan keeps room for one textile module of
    two (labor 150, COD 3 for 100 and 2 each), as without it. Explain said the bundle "fits the park
    alone, but no plan has it there", counting the dorm as built."""
    from model.explain import explain

    data = yaml.safe_load(Path(DEMO).read_text())
    data["periods"] = [{"id": "p1", "years": 1}, {"id": "p2", "years": 1}]
    guangan = next(p for p in data["parks"] if p["id"] == "guangan")
    guangan["upgrades"] = [{"id": "dorm", "cost": 1, "adds": {"labor": 100, "cod": 2}, "lead_time": 5}]
    path = tmp_path / "late.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    _solve(path, tmp_path / "run")
    got = explain(tmp_path / "run", "textiles_js")
    reason = dict(zip(got.excluded["park"], got.excluded["reason"]))["guangan"]
    assert reason.startswith("room for 1 of the 2 modules") and "labor: 150 persons available" in reason
    assert "dorm never ready within the horizon (lead time)" in reason


def test_a_plan_whose_rows_repeat_is_summed_with_a_note(tmp_path):
    from model import load
    from model.plans import read_plan

    plan = tmp_path / "plan.csv"
    plan.write_text("industry,park,modules\ntextiles_js,wuhu,1\ntextiles_js,wuhu,1\nchem_zj,ganzhou,1\n")
    got = read_plan(plan, load(DEMO).instance)
    assert got.plan.x[("textiles_js", "wuhu")] == 2.0
    assert got.notes[0] == "rows repeat, and their modules are added: textiles_js at wuhu (lines 2, 3)"
    result = CliRunner().invoke(main, ["check", DEMO, str(plan)])
    assert "note: rows repeat, and their modules are added: textiles_js at wuhu (lines 2, 3)" in result.stdout


def test_a_plan_file_that_is_no_plan_is_refused_at_its_line(tmp_path):
    """Each of these passed `check` as feasible (or depended on row order): a negative row summed
    away (3 − 1 at wuhu), rows whose sum loses what they hold in round-off (1e17 + 2 − 1e17 = 0),
    a park half open, a park open on one row and closed on the next, a form feed splitting a row.
    The demo: textiles_js has 2 modules."""
    demo = tmp_path / "demo"

    def check(plan: str, parks: str | None = None):
        demo.mkdir(exist_ok=True)
        (demo / "allocations.csv").write_text(plan, encoding="utf-8")
        if parks is not None:
            (demo / "parks.csv").write_text(parks, encoding="utf-8")
        return CliRunner().invoke(main, ["check", DEMO, str(demo / "allocations.csv")])

    plan = "industry,park,modules\ntextiles_js,wuhu,3\ntextiles_js,wuhu,-1\nchem_zj,ganzhou,1\n"
    got = check(plan)
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: {demo / 'allocations.csv'}:2: modules: got 3; expected a number from 0 to the industry's 2 "
        "modules")
    got = check("industry,park,modules\ntextiles_js,wuhu,2\ntextiles_js,wuhu,-1\nchem_zj,ganzhou,1\n")
    assert got.exit_code == 2 and "allocations.csv:3: modules: got -1; expected a number from 0" in got.stderr
    got = check("industry,park,modules\ntextiles_js,wuhu,1e17\n")
    assert got.exit_code == 2 and "allocations.csv:2: modules: got 1e17; expected" in got.stderr
    got = check("industry,park,modules\ntextiles_js,wu\x0chu,2\nchem_zj,ganzhou,1\n")
    assert got.exit_code == 6 and "unknown park" in got.stdout + got.stderr  # one row, its park 'wu\x0chu'

    good = "industry,park,modules\ntextiles_js,wuhu,2\nchem_zj,ganzhou,1\n"
    parks = "park,open,upgrades\nwuhu,1,\nganzhou,1,sewage_plant\nguangan,1,\n"  # guangan: open_cost 0
    got = check(good, parks)  # by hand: open 10 + sewage 3 + relocation 18 + operating 11.6 + stay 9 = 51.6
    assert got.exit_code == 0 and "objective 51.6 million yuan" in got.stdout
    got = check(good, parks.replace("ganzhou,1,", "ganzhou,0.6,"))
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: {demo / 'parks.csv'}:3: open: got 0.6; expected 0 or 1")
    got = check("industry,park,modules\ntextiles_js,wuhu,2.0000001\n")  # the value as written, not rounded
    assert got.exit_code == 2 and "allocations.csv:2: modules: got 2.0000001; expected" in got.stderr
    assert check(good, parks.replace("ganzhou,1,sewage_plant", "ganzhou,0.9999999999,sewage_plant;sewage_plant")
                 ).exit_code == 0  # round-off, and an upgrade named twice in a cell, are the plan as written
    got = check(good, parks + "ganzhou,0,\n")
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: {demo / 'parks.csv'}:5: open: park 'ganzhou' is closed with upgrades '' here but open with "
        "'sewage_plant' on line 3; expected the same open and upgrades on every row of a park")
    got = check(good, parks + "ghost,1,\n")
    assert got.exit_code == 6 and "parks.csv:5: park 'ghost': unknown park" in got.stdout + got.stderr
    assert check(good, parks.replace("ganzhou,1,sewage_plant", "ganzhou,1,x; sewage_plant")).exit_code == 6


def test_check_says_when_the_folder_was_solved_from_another_instance_or_scenario(tmp_path):
    """A folder checked under another scenario, other --set values, or another file: its kpis.json
    is the other run's, and nothing said so (the violations read as the plan's own fault)."""
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", DEMO, "--out", str(run)]).exit_code == 0
    same = CliRunner().invoke(main, ["check", DEMO, str(run)])
    assert same.exit_code == 0 and "differs from this check" not in same.stdout
    tail = ": the plan is checked against the instance as given here"
    got = CliRunner().invoke(main, ["check", DEMO, str(run), "--scenario", "tight_cod"])
    assert ("note: the folder's run differs from this check: it was solved as the base, checked here as "
            f"scenario 'tight_cod'{tail}") in " ".join(got.stdout.split())
    got = CliRunner().invoke(main, ["check", DEMO, str(run), "--set", "parks.wuhu.capacity.land=9"])
    assert f"its overlays (--set) are not the ones given here{tail}" in " ".join(got.stdout.split())
    other = tmp_path / "other.yaml"
    other.write_text(Path(DEMO).read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["check", str(other), str(run / "allocations.csv")])
    solved = json.loads((run / "run.json").read_text())["instance"]["file"]  # as the solve was given it
    assert f"its instance ({solved}) is not this file as it is now{tail}" in " ".join(got.stdout.split())


def test_pareto_refuses_one_kpi_against_itself(tmp_path):
    result = CliRunner().invoke(main, ["pareto", DEMO, "--x", "co2", "--y", "co2", "--out", str(tmp_path / "p")])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --x/--y: co2/co2: the two axes are the same KPI; expected two "
                                     "different KPIs")
    assert not (tmp_path / "p").exists()
