"""Published optima reproduced through the importers and the ordinary `solve` command.

Every row of ../shared/benchdata/optima-public.csv is solved with `industry-transfer solve --format
... --mip-gap 0` and compared with the published value at a relative 1e-6 (the values are rounded).
"""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from cli import main
from model.errors import InputError
from model.importers import gap, gap_count, holmberg, orlib_cap
from tests.conftest import ROOT

BENCH = ROOT.parent / "shared" / "benchdata"
needs_data = pytest.mark.skipif(not BENCH.is_dir(), reason=f"benchmark data not found at {BENCH}")
FORMAT = {"orlib_cap": "orlib-cap", "holmberg_sscflp": "holmberg", "gap": "gap"}


def _rows() -> list[dict[str, str]]:
    if not BENCH.is_dir():
        return []
    with open(BENCH / "optima-public.csv", newline="") as f:
        return list(csv.DictReader(f))


@needs_data
@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['instance']}-{r['sourcing']}")
def test_published_optimum(tmp_path, row):
    args = ["solve", "--format", FORMAT[row["set"]], str(BENCH / row["file"]), "--mip-gap", "0",
            "--out", str(tmp_path / "run")]
    if row["set"] == "orlib_cap":
        args += ["--sourcing", row["sourcing"]]
        if row["capacity"]:
            args += ["--capacity", row["capacity"]]
    if row["set"] == "gap":
        args += ["--index", row["instance"].split("#")[1]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text())
    assert kpis["status"] == "optimal"
    assert kpis["objective"] == pytest.approx(float(row["optimum"]), rel=1e-6)


@needs_data
def test_files_as_published_are_read_whole():
    # Holmberg files: CRLF, NUL padding, stray text after it (p47): exactly 2 + 2m + n + m·n numbers.
    for name in ("p1", "p47", "p71"):
        data = holmberg(BENCH / "holmberg_sscflp" / name).data
        assert len(data["pairs"]) == len(data["parks"]) * len(data["industries"])
    # `7500.` and `.00000`; one warehouse of cap41 has fixed cost 0 (it is in the original data).
    cap41 = orlib_cap(BENCH / "orlib_cap" / "cap41.txt").data
    assert sorted(p["open_cost"] for p in cap41["parks"])[:2] == [0.0, 7500.0]
    assert cap41["industries"][0]["use"] == {"demand": 146.0}
    assert cap41["pairs"][0]["cost"] == 6739.725  # c_{1,1}: first number after the demand
    # capa: the literal `capacity`, replaced by the capacity asked for.
    capa = orlib_cap(BENCH / "orlib_cap" / "capa.txt", capacity=8000).data
    assert {p["capacity"]["demand"] for p in capa["parks"]} == {8000.0}
    assert len(capa["industries"]) == 1000 and len(capa["parks"]) == 100
    # GAP: 5 instances in gap1, 6 in gapa, one in a type E file.
    assert gap_count(BENCH / "orlib_gap" / "gap1.txt") == 5
    assert gap_count(BENCH / "orlib_gap" / "gapa.txt") == 6
    assert gap_count(BENCH / "gap_typeE" / "e05100") == 1
    g = gap(BENCH / "orlib_gap" / "gap1.txt", 2).data
    assert len(g["parks"]) == 5 and len(g["industries"]) == 15


@pytest.mark.parametrize("text, message", [
    ("2 2\n10 5\n10 x\n", "cap.txt:3: cap.txt: fixed cost of warehouse 2: got text that is not a number; "
                           "expected a number"),
    ("2 2\n10 5\n10 5\n1\n1 2\n", "cap.txt:5: cap.txt: the file ends too early; expected more numbers"),
    ("2 1\n10 5\n10 5\n1\n1 2 3\n", "cap.txt:5: cap.txt: 1 numbers left over after the data (the first on "
                                      "this line)"),
    ("2 1\ncapacity 5\ncapacity 5\n1\n1 2\n", "cap.txt: --capacity: the file gives its capacity as the word "
                                              "`capacity`; expected --capacity N"),
    # A number the schema would refuse is named with its line here (validation could only say line 1).
    ("2 1\n10 5\n10 5\n-3\n1 2\n", "cap.txt:4: cap.txt: demand of customer 1: got -3; expected a number "
                                    "from 0 to 1e+12"),
    ("2 1\n10 5\n10 5\n3\n1 1e300\n", "cap.txt:5: cap.txt: cost of customer 1 from warehouse 2: got 1e300; "
                                       "expected a number from -1e+12 to 1e+12"),
    # A file that is no benchmark at all: what it holds is not shown (a key, a password file).
    ("aws_secret_access_key=wJalrEXAMPLEKEY\n", "cap.txt:1: cap.txt: number of warehouses: got text that is not "
                                                "a number; expected a number"),
])
def test_malformed_files_get_one_clear_line(tmp_path, text, message):
    path = tmp_path / "cap.txt"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        orlib_cap(path)
    assert len(err.value.problems) == 1 and str(err.value).startswith(f"{tmp_path}/{message}")


@needs_data
def test_import_command_writes_an_instance_that_solves_the_same(tmp_path):
    out = tmp_path / "cap41.yaml"
    result = CliRunner().invoke(main, ["import", "orlib-cap", str(BENCH / "orlib_cap" / "cap41.txt"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cap41-pairs.csv").is_file()
    result = CliRunner().invoke(main, ["solve", str(out), "--mip-gap", "0", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    objective = json.loads((tmp_path / "run" / "kpis.json").read_text())["objective"]
    assert objective == pytest.approx(1040444.375, rel=1e-6)


@needs_data
def test_gap_index_out_of_range(tmp_path):
    result = CliRunner().invoke(main, ["import", "gap", str(BENCH / "orlib_gap" / "gap1.txt"), "--index", "6",
                                       "-o", str(tmp_path / "g.yaml")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {BENCH / 'orlib_gap' / 'gap1.txt'}: --index: got 6; the file holds "
                                     "5 instance(s); expected a number from 1 to 5")




# OR-Library's own statement of gap1..gap12 is maximisation; its gapinfo page publishes those
# optima (http://people.brunel.ac.uk/~mastjjb/jeb/orlib/gapinfo.html): c515-1..5 and c520-1..5.
MAXIMA = {"gap1": [336, 327, 339, 341, 326], "gap2": [434, 436, 420, 419, 428]}


@needs_data
@pytest.mark.parametrize("name,index", [(f, k) for f in MAXIMA for k in range(1, 6)])
def test_published_maximisation_optimum(tmp_path, name, index):
    got = CliRunner().invoke(main, ["solve", "--format", "gap", str(BENCH / "orlib_gap" / f"{name}.txt"),
                                    "--index", str(index), "--maximise", "--mip-gap", "0",
                                    "--out", str(tmp_path / "run")])
    assert got.exit_code == 0, got.output
    kpis = json.loads((tmp_path / "run" / "kpis.json").read_text())
    assert -kpis["objective"] == pytest.approx(MAXIMA[name][index - 1], rel=1e-9)  # the objective is minus the profit
    assert json.loads((tmp_path / "run" / "instance.json").read_text())["name"] == f"{name}#{index}-max"


def test_maximise_is_for_gap_files_only(tmp_path):
    got = CliRunner().invoke(main, ["solve", str(ROOT / "instances" / "demo.yaml"), "--maximise",
                                    "--out", str(tmp_path / "r")])
    assert got.exit_code == 2 and "--maximise" in got.stderr and not (tmp_path / "r").exists()


def test_an_option_the_format_does_not_read_is_refused(tmp_path):
    gap = tmp_path / "g.txt"
    gap.write_text("1\n2 3\n1 2 3\n4 5 6\n1 1 1\n1 1 1\n3 3\n")  # one GAP instance: 2 agents, 3 jobs
    for args, errors in (
            ([str(ROOT / "instances" / "demo.yaml"), "--index", "3"],
             ["error: --index: 3: does not apply to a YAML instance; expected --format gap, or no --index"]),
            (["--format", "gap", str(gap), "--capacity", "5", "--sourcing", "multi"],
             ["error: --capacity: 5: does not apply to --format gap; expected --format orlib-cap, or no --capacity",
              "error: --sourcing: multi: does not apply to --format gap; expected --format orlib-cap, or no "
              "--sourcing"])):
        got = CliRunner().invoke(main, ["solve", *args, "--out", str(tmp_path / "r")])
        assert got.exit_code == 2 and got.stderr.strip().splitlines() == errors
        assert not (tmp_path / "r").exists()
    got = CliRunner().invoke(main, ["solve", "--format", "gap", str(gap), "--index", "1", "--out", str(tmp_path / "r")])
    assert got.exit_code == 0, got.output  # the options it reads, given explicitly, are fine
    assert json.loads((tmp_path / "r" / "kpis.json").read_text())["objective"] == pytest.approx(6.0)


def test_bench_refuses_an_option_no_spec_reads_and_capacity_on_a_file_with_its_own(tmp_path):
    """bench ran `gap:FILE --sourcing single` and `--index` on a cap file as if not given; and
    --capacity replaced a cap41-like file's own capacities (named as the file, compared with its
    published optimum)."""
    gap = tmp_path / "g.txt"
    gap.write_text("1\n2 3\n1 2 3\n4 5 6\n1 1 1\n1 1 1\n3 3\n")
    cap = tmp_path / "c.txt"
    cap.write_text("2 1\n10 5\n10 5\n1\n1 2\n")  # capacities given as numbers (10, 10)
    for args, error in (
            ([f"gap:{gap}", "--sourcing", "single"],
             "error: --sourcing: single: no SPEC is a file it applies to; expected a orlib-cap file among the SPECS, "
             "or no --sourcing"),
            ([f"orlib-cap:{cap}", "--index", "2"],
             "error: --index: 2: no SPEC is a file it applies to; expected a gap file among the SPECS, or no --index"),
            ([f"orlib-cap:{cap}", "--capacity", "7"],
             f"error: {cap}: --capacity: c.txt gives every warehouse's capacity as a number; --capacity would "
             "replace them, and the instance would no longer be the file's; expected --capacity only for "
             "capa/capb/capc (their file gives the word `capacity`)")):
        got = CliRunner().invoke(main, ["bench", *args, "--out", str(tmp_path / "b")])
        assert got.exit_code == 2 and got.stderr.strip().splitlines() == [error], got.stderr
        assert not (tmp_path / "b").exists()
    # the word `capacity` takes --capacity; a warehouse with a number keeps it
    mixed = tmp_path / "m.txt"
    mixed.write_text("2 1\ncapacity 5\n10 5\n1\n1 2\n")
    caps = [p["capacity"]["demand"] for p in orlib_cap(mixed, capacity=7).data["parks"]]
    assert caps == [7.0, 10.0]


def test_a_holmberg_file_is_not_read_as_an_orlib_cap_file(tmp_path):
    """Both layouts hold 2 + 2m + n(m+1) numbers, so a Holmberg file (demands, then facility-major
    costs) was read as a cap file, another instance, without a word. In a cap file each customer's
    demand starts its line; a file not laid out one warehouse a line is not judged by its lines."""
    holmberg_layout = tmp_path / "h.txt"
    holmberg_layout.write_text("2 4\n10 5\n10 5\n1 1 1 1\n1 2 3 4\n5 6 7 8\n")
    with pytest.raises(InputError) as err:
        orlib_cap(holmberg_layout)
    assert str(err.value).startswith(f"{holmberg_layout}:4: h.txt: customer 2's demand is not the first number of "
                                     "its line") and "laid out as a Holmberg file's" in str(err.value)
    one_line = tmp_path / "c.txt"
    one_line.write_text("2 1 10 5 10 5 1 1 2\n")
    assert [p["capacity"]["demand"] for p in orlib_cap(one_line).data["parks"]] == [10.0, 10.0]
    # a cap file re-wrapped (its customers run on, 3 numbers a line) is still the numbers it holds
    rewrapped = tmp_path / "r.txt"
    rewrapped.write_text("2 3\n10 5\n10 5\n7 1\n2 8\n3 4\n9 5\n6\n")
    data = orlib_cap(rewrapped).data
    assert [i["use"]["demand"] for i in data["industries"]] == [7.0, 8.0, 9.0]


def test_a_gap_number_out_of_range_is_named_with_its_line(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("1\n2 3\n1 2 3\n4 5 6\n1 1 -1\n1 1 1\n3 3\n")  # costs on lines 3-4, uses on 5-6
    with pytest.raises(InputError) as err:
        gap(path)
    assert str(err.value) == f"{path}:5: g.txt: use of job 3 at agent 1: got -1; expected a number from 0 to 1e+12"


@pytest.mark.parametrize("text, why", [
    ("1 2 inf\n1 2 3\n", "the numbers do not add up to GAP instances: instance 1's m n are 2 inf (line 1)"),
    ("nan 2 3\n1 2 3\n", "the numbers do not add up to GAP instances: instance 1's m n are nan 2 (line 1)"),
    ("1e400 2 3\n1 2 3\n", "the numbers do not add up to GAP instances: instance 1's m n are inf 2 (line 1)"),
    # read as one type E instance of 2·10⁷ agents: far too few numbers
    ("20000000\n2 -1\n", "the file ends early, inside instance 1 of 1 (99999999 numbers short, 20000000 agents "
                          "and 2 jobs from line 1)"),
    # a header and a body that disagree: each says how
    ("3\n1 2\n1 2\n1 1\n2\n", "the header says 3 instances; the file holds 1"),
    ("1\n1 2\n1 2\n1 1\n2\n9 9\n", "the header says 1 instances; 2 numbers are left over after them, from line 6"),
    ("2\n1 2\n1 2\n1 1\n2\n1 2\n1 2\n", "the file ends early, inside instance 2 of 2 (3 numbers short, 1 "
                                          "agents and 2 jobs from line 6)"),
])
def test_a_gap_file_whose_numbers_do_not_add_up_says_how(tmp_path, text, why):
    # Infinite or NaN sizes raised OverflowError or ValueError (an internal error). A negative job count
    # made blocks of size 0, which the reading counted up to P (31 s and 310 MB for P = 2·10⁷, measured
    # by hand, not here) before giving a message. Each case once read "the numbers do not add up".
    path = tmp_path / "g.txt"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        gap(path)
    assert str(err.value) == (f"{path}:1: g.txt: {why}; expected P, then per instance m n, m·n costs, m·n "
                              "resource uses and m capacities")


def test_a_benchmark_file_with_a_byte_order_mark_reads_as_without(tmp_path):
    text = "1\n2 3\n1 2 3\n4 5 6\n1 1 1\n1 1 1\n3 3\n"
    (tmp_path / "plain.txt").write_text(text)
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode())
    plain, bom = (gap(tmp_path / f"{name}.txt") for name in ("plain", "bom"))
    assert bom.data["industries"] == plain.data["industries"] and bom.data["parks"] == plain.data["parks"]


@needs_data
def test_bench_sets_each_run_against_its_published_optimum(tmp_path):
    """bench --optima: gap_to_published 0 at every proven optimum (minimisation, and maximisation
    stated as minus the profit), and a root bound no better than the final one."""
    (tmp_path / "max.csv").write_text("instance,optimum,sense\ngap1#2,327,max\n")
    for name, extra, optima in (("min", [], str(BENCH / "optima-public.csv")),
                                ("max", ["--maximise"], str(tmp_path / "max.csv"))):
        got = CliRunner().invoke(main, ["bench", str(BENCH / "orlib_gap" / "gap1.txt"), "--index", "2", *extra,
                                        "--formulation", "strong", "--mip-gap", "0", "--optima", optima,
                                        "--out", str(tmp_path / name)])
        assert got.exit_code == 0, got.output
        with open(tmp_path / name / "results.csv", newline="") as f:
            row = next(csv.DictReader(f))
        published = {"min": 269.0, "max": -327.0}[name]  # optima-public.csv; OR-Library's gapinfo (max)
        assert float(row["published"]) == published and float(row["objective"]) == pytest.approx(published)
        assert float(row["gap_to_published"]) == pytest.approx(0.0, abs=1e-12)
        assert float(row["root_bound"]) <= float(row["bound"]) + 1e-9


def test_bench_refuses_an_unknown_format_and_an_instance_twice(tmp_path):
    (tmp_path / "g.txt").write_text("1\n2 3\n1 2 3\n4 5 6\n1 1 1\n1 1 1\n3 3\n")
    got = CliRunner().invoke(main, ["bench", f"xyz:{tmp_path / 'g.txt'}", "--out", str(tmp_path / "b")])
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: xyz:{tmp_path / 'g.txt'}: (format): unknown format 'xyz'; expected one of: gap, holmberg, "
        "orlib-cap (FORMAT:PATH)")
    demo = str(ROOT / "instances" / "demo.yaml")
    got = CliRunner().invoke(main, ["bench", demo, demo, "--out", str(tmp_path / "b")])
    assert got.exit_code == 2 and "the case 'demo' comes twice; expected each instance once" in got.stderr
    assert not (tmp_path / "b").exists()
