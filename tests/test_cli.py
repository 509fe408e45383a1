"""The command line: commands, exit codes, the default results folder and atomic writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from model import load
from model.run import solve_instance
from tests.conftest import EXACT, INSTANCES, ROOT

DEMO = str(INSTANCES / "demo.yaml")


def test_validate_reports_size():
    result = CliRunner().invoke(main, ["validate", DEMO])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("valid. 3 industries (4 modules), 3 parks, 3 resources, 8 eligible "
                                          "pairs, 1 enabled rules, 1 scenarios.")


def test_one_scenario_per_run(tmp_path):
    """`--scenario a --scenario b` was run as `b` alone (Click keeps the last value): refused, exit 2,
    nothing written; one `--scenario` still works."""
    out = tmp_path / "run"
    twice = CliRunner().invoke(main, ["solve", DEMO, "--scenario", "tight_cod", "--scenario", "tight_cod",
                                      "--out", str(out)])
    assert twice.exit_code == 2 and "'--scenario': given 2 times (tight_cod, tight_cod)" in twice.stderr
    assert "sweep" in twice.stderr and not out.exists()
    assert CliRunner().invoke(main, ["validate", DEMO, "--scenario", "tight_cod"]).exit_code == 0


def test_infeasible_exits_3_and_still_records_the_run(tmp_path):
    out = tmp_path / "inf"
    # chem_zj must move and needs 10 ha; no park has more than 1.
    result = CliRunner().invoke(main, ["solve", DEMO, "--set", "parks.*.capacity.land=1", "--out", str(out)])
    assert result.exit_code == 3
    assert "infeasible" in result.stdout and "infeasible" in result.stderr
    assert json.loads((out / "kpis.json").read_text())["status"] == "infeasible"


def test_no_solution_within_limits_exits_4(tmp_path):
    # Raw HiGHS options passed straight through: no presolve and no branch-and-bound node, so no
    # incumbent on the demo.
    result = CliRunner().invoke(main, ["solve", DEMO, "--option", "mip_max_nodes=0", "--option", "presolve=off",
                                       "--out", str(tmp_path / "x")])
    assert result.exit_code == 4
    assert json.loads((tmp_path / "x" / "kpis.json").read_text())["status"] == "no_solution", \
        (tmp_path / "x" / "run.json").read_text()
    for option, flag in (("time_limit=5", "--time-limit"), ("mip_rel_gap=0.5", "--mip-gap"),
                         ("random_seed=3", "--seed")):  # the typed option is the one way to set these
        refused = CliRunner().invoke(main, ["solve", DEMO, "--option", option, "--out", str(tmp_path / "y")])
        assert refused.exit_code == 2 and f"--option: {option}: set by {flag}; give it there" in refused.stderr
    for option, why in (("objective_bound=10", "changes what the solver's statuses mean"),
                        ("mip_feasibility_tolerance=0.9", "looser than the independent checker's 1e-06"),
                        ("large_matrix_value=1", "changes how HiGHS reads the model"),
                        ("mip_heuristic_effort=nan", "not a number")):
        refused = CliRunner().invoke(main, ["solve", DEMO, "--option", option, "--out", str(tmp_path / "y")])
        assert refused.exit_code == 2 and why in refused.stderr, refused.stderr


def test_a_run_without_a_plan_does_not_replace_one_with_a_plan(tmp_path):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", DEMO, "--out", str(out)]).exit_code == 0
    before = (out / "kpis.json").read_text()
    result = CliRunner().invoke(main, ["solve", DEMO, "--option", "mip_max_nodes=0", "--option", "presolve=off",
                                       "--out", str(out)])
    assert result.exit_code == 4 and "keeps its results" in result.stderr
    assert (out / "kpis.json").read_text() == before
    assert json.loads((tmp_path / "run-no-solution" / "kpis.json").read_text())["status"] == "no_solution"


def test_both_entry_points_run():
    for cmd in ([sys.executable, "cli.py", "validate", "instances/demo.yaml"],
                [os.path.join(os.path.dirname(sys.executable), "industry-transfer"), "validate",
                 "instances/demo.yaml"]):
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "valid." in done.stdout


def test_csv_side_tables_load_like_yaml(tmp_path):
    """The demo with its industries and pairs moved to CSV files solves to the same optimum."""
    data = yaml.safe_load((INSTANCES / "demo.yaml").read_text())
    rows = ["id,origin,sector,modules,must_transfer,use.labor,use.land,use.cod,relocation_cost,stay_cost,"
            "value_added,jobs,power_use,grid_factor,co2_process,tags"]
    for i in data["industries"]:
        u = i["use"]
        rows.append(",".join(str(v) for v in (
            i["id"], i["origin"], i["sector"], i.get("modules", 1), str(i.get("must_transfer", False)).lower(),
            u.get("labor", ""), u.get("land", ""), u.get("cod", ""), i["relocation_cost"], i.get("stay_cost", ""),
            i["value_added"], i["jobs"], i.get("power_use", ""), i.get("grid_factor", ""),
            i.get("co2_process", ""), "east;moving")))
    (tmp_path / "industries.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "pairs.csv").write_text("industry,park,cost\ntextiles_js,wuhu,0\n")
    data["industries"] = "industries.csv"
    data["pairs"] = "pairs.csv"
    (tmp_path / "demo.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load(str(tmp_path / "demo.yaml"))
    assert loaded.instance.industries[0].tags == ["east", "moving"]
    assert loaded.instance.industries[1].must_transfer is True
    out = solve_instance(loaded, None, EXACT)
    assert out.result.objective == pytest.approx(49.6)


@pytest.mark.parametrize("command", ["solve", "import"])
def test_a_missing_or_oversized_benchmark_file_is_one_clear_line(tmp_path, command):
    # A missing file gave "internal error: FileNotFoundError" (exit 1); a file of any size was read whole.
    def run(file, *head):
        args = (["solve", "--format", "orlib-cap", str(file), "--out", str(tmp_path / "run")] if command == "solve"
                else ["import", "orlib-cap", str(file), "-o", str(tmp_path / "x.yaml")])
        return CliRunner().invoke(main, [*head, *args])

    missing = run(tmp_path / "absent.txt")
    assert missing.exit_code == 2, missing.output
    assert "absent.txt: (file): no such file; expected a path to a benchmark file" in missing.output
    big = tmp_path / "big.txt"
    big.write_text(" 1 1\n 5 0.\n 3\n 1.5\n" + " " * (1 << 20))
    too_big = run(big, "--max-input-mb", "1")
    assert too_big.exit_code == 2, too_big.output
    assert "big.txt:1: (file): the file is larger than 1 MB" in too_big.output
    assert "Traceback" not in missing.output + too_big.output
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "run").exists()


def test_a_reader_that_leaves_early_is_no_error(tmp_path):
    """`industry-transfer ... | head -1`: the pipe closes under the command; it ends quietly, with
    no 'internal error' line (rich's consoles and click's echo alike)."""
    from tests.conftest import INSTANCES, ROOT

    for args in (["scenarios", str(INSTANCES / "china-east-west.yaml")],
                 ["validate", str(INSTANCES / "china-east-west.yaml")]):
        proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        proc.stdout.readline()
        proc.stdout.close()
        stderr = proc.stderr.read()
        assert proc.wait(timeout=60) in (0, 1) and "internal error" not in stderr and "Traceback" not in stderr, stderr
