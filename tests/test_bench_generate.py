"""The benchmark harness and the instance generator, on small inputs."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from model import load
from model.bench import COLUMNS, expand_specs, profile
from model.options import FORMULATIONS
from model.run import solve_instance
from tests.conftest import EXACT, INSTANCES
from tests.test_benchmarks import BENCH


@pytest.mark.skipif(not BENCH.is_dir(), reason=f"benchmark data not found at {BENCH}")
def test_bench_compares_formulations(tmp_path):
    out = tmp_path / "bench"
    result = CliRunner().invoke(main, ["bench", str(BENCH / "orlib_cap" / "cap41.txt"), str(INSTANCES / "demo.yaml"),
                                       f"gap:{BENCH / 'orlib_gap' / 'gap1.txt'}", "--index", "2", "--repeat", "2",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == COLUMNS
    assert len(table) == 3 * len(FORMULATIONS) * 2
    assert set(table["instance"]) == {"cap41-multi", "demo", "gap1#2"}
    assert set(table["seed"]) == {0, 1}
    assert (table["status"] == "optimal").all() and table["check_ok"].all()
    # The formulations are the same model: one optimum per instance (cap41 and gap1#2 published).
    optimum = table.groupby("instance")["objective"].agg(["min", "max"])
    assert optimum.loc["cap41-multi", "min"] == pytest.approx(1040444.375, rel=1e-6)
    assert optimum.loc["gap1#2", "max"] == pytest.approx(269, rel=1e-6)
    assert (optimum["max"] - optimum["min"]).abs().max() <= 1e-6 * optimum["max"].abs().max()
    assert (out / "profile.png").stat().st_size > 0
    assert set(pd.read_csv(out / "summary.csv")["formulation"]) == set(FORMULATIONS)


@pytest.mark.skipif(not BENCH.is_dir(), reason=f"benchmark data not found at {BENCH}")
def test_specs_expand_files_instances_and_capacities():
    names = [c.name for c in expand_specs([str(BENCH / "orlib_gap" / "gap1.txt"), str(BENCH / "orlib_cap" / "capb.txt"),
                                           str(BENCH / "holmberg_sscflp" / "p1[0-2]")])]
    assert names == ["gap1#1", "gap1#2", "gap1#3", "gap1#4", "gap1#5", "capb-5000-multi", "capb-6000-multi",
                     "capb-7000-multi", "capb-8000-multi", "p10", "p11", "p12"]  # the sourcing tells the two apart


def test_profile_by_hand():
    # Two problems: A takes 1 s and 2 s; B fails on problem 2, where A took 3 s.
    table = pd.DataFrame({
        "instance": ["i1", "i1", "i2", "i2"], "solver": "highs", "seed": 0,
        "formulation": ["A", "B", "A", "B"], "status": ["optimal", "optimal", "optimal", "no_solution"],
        "solve_seconds": [1.0, 2.0, 3.0, 0.1]})
    taus, rho = profile(table)
    at = {tau: n for n, tau in enumerate(taus)}
    assert rho["A"][at[1.0]] == 1.0  # A is best on both
    assert rho["B"][at[1.0]] == 0.0
    assert rho["B"][-1] == 0.5  # B is within 2× on i1 and never solves i2


def test_generator_is_deterministic_with_its_rule_kinds(tmp_path):
    for folder in ("a", "b"):
        result = CliRunner().invoke(main, ["generate", "--industries", "30", "--parks", "12", "--seed", "7",
                                           "-o", str(tmp_path / folder / "g.yaml")])
        assert result.exit_code == 0, result.output
    for name in ("g.yaml", "g-industries.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    loaded = load(str(tmp_path / "a" / "g.yaml"))
    inst = loaded.instance
    assert len(inst.industries) == 30 and len(inst.parks) == 12
    assert {r.kind for r in inst.rules} == {"forbid", "limit", "transfer_target", "diversity"}
    assert any(u.requires for p in inst.parks for u in p.upgrades)
    out = solve_instance(loaded, None, EXACT)
    assert out.result.status == "optimal" and out.check.ok
    other = CliRunner().invoke(main, ["generate", "--industries", "30", "--parks", "12", "--seed", "8",
                                      "-o", str(tmp_path / "c" / "g.yaml")])
    assert other.exit_code == 0
    assert (tmp_path / "c" / "g-industries.csv").read_bytes() != (tmp_path / "a" / "g-industries.csv").read_bytes()


def test_scaling_a_value_read_from_a_csv_side_table(tmp_path):
    """A generated instance keeps its industries in CSV, whose cells are text until validation:
    `*factor` scales them as it scales a value written in the YAML."""
    path = tmp_path / "g.yaml"
    assert CliRunner().invoke(main, ["generate", "--industries", "6", "--parks", "3", "-o", str(path)]).exit_code == 0
    from model.loader import parse_set

    plain = load(str(path)).instance
    doubled = load(str(path), sets=[parse_set("industries.*.modules=*2"),
                                    parse_set(f"industries.{plain.industries[0].id}.value_added=*1.5")]).instance
    assert [i.modules for i in doubled.industries] == [2 * i.modules for i in plain.industries]
    assert doubled.industries[0].value_added == pytest.approx(1.5 * plain.industries[0].value_added)
    uses = load(str(path), sets=[parse_set("industries.*.use=*2")]).instance  # a mapping of cells
    assert [i.use for i in uses.industries] == [{k: 2 * v for k, v in i.use.items()} for i in plain.industries]
    got = CliRunner().invoke(main, ["validate", str(path), "--set", f"industries.{plain.industries[0].id}.origin=*2"])
    assert got.exit_code == 2 and "cannot scale" in got.stderr  # text stays text


def test_an_interrupted_bench_keeps_the_runs_it_completed(tmp_path):
    """Ctrl-C after some runs: results.csv holds exactly the completed runs (the one under way is
    dropped); no summary or profile of a part of the benchmark; exit 4. A complete benchmark
    already in --out stays as it was: the part goes beside it (it used to be replaced)."""
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = tmp_path / "b"
    earlier = CliRunner().invoke(main, ["bench", str(INSTANCES / "demo.yaml"), "--formulation", "tight", "--out",
                                        str(out)])
    assert earlier.exit_code == 0, earlier.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {"results.csv", "summary.csv", "profile.png"} <= set(before)
    proc = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "bench", str(INSTANCES / "demo.yaml"),
                             "--formulation", "tight", "--repeat", "500", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # progress lines: "[n/500] ..."
        seen.append(line)
        if line.startswith("[3/"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 4, rest
    part = tmp_path / "b-interrupted"
    results = pd.read_csv(part / "results.csv")
    done = sum(line.startswith("[") for line in seen + rest.splitlines())
    assert len(results) == done >= 3 and (results["status"] == "optimal").all()
    assert results["objective"].tolist() == pytest.approx([49.6] * done)  # the demo's optimum, by hand
    assert not (part / "summary.csv").exists() and not (part / "profile.png").exists()
    assert f"after {done} of 500 runs: {part / 'results.csv'} holds them" in rest and f"{out} is as it was" in rest
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("industries,parks,seeds", [(1, 1, range(10)), (1, 3, range(8, 16)), (2, 2, range(4, 12)),
                                                    (5, 3, range(18, 22))])
def test_small_generated_instances_have_a_plan(tmp_path, industries, parks, seeds):
    """A plan exists by construction (model/generate.py), at every size, and under the instance's
    scenario: before, 59 of 300 generated instances of 1–5 industries and 1–3 parks were
    infeasible (one bundle over a region's carbon cap or a park's capacity, a must-transfer
    industry every park bans); each size here holds some of them (1 × 1 seed 8, 1 × 3 seeds
    8–15, 2 × 2 seeds 6, 10 and 11, 5 × 3 seed 20)."""
    from model.generate import generate_instance

    for seed in seeds:
        path = generate_instance(industries, parks, seed, tmp_path / f"g{seed}.yaml")
        for scenario in (None, "tight_ecology"):
            out = solve_instance(load(str(path), scenario), None, EXACT)
            assert out.result.status == "optimal" and out.check.ok, (seed, scenario, out.result.message)


def test_bench_reads_only_a_plain_optima_file_within_the_input_limit(tmp_path):
    """A pipe blocked bench for ever, /dev/zero filled the memory: both are refused before any run,
    as is a file over --max-input-mb."""
    import os

    demo = str(INSTANCES / "demo.yaml")
    pipe = tmp_path / "optima.csv"
    os.mkfifo(pipe)
    big = tmp_path / "big.csv"
    big.write_text("instance,optimum\n" + "demo,1\n" * 200_000)
    for optima, why, extra in ((pipe, "not a regular file", []), ("/dev/zero", "not a regular file", []),
                               (big, "is larger than 1 MB", ["--max-input-mb", "1"])):
        got = CliRunner().invoke(main, [*extra, "bench", demo, "--optima", str(optima), "--out", str(tmp_path / "b")])
        assert got.exit_code == 2 and got.stderr.strip() == (
            f"error: {optima}: --optima: {why}; expected a CSV with instance and optimum columns")
        assert not (tmp_path / "b").exists()
