"""Bad input: one line per problem naming file:line, key, what is wrong and what is expected; exit 2.

Each case breaks `instances/demo.yaml` in one place. The expected line number is found by searching
the broken file for the broken text, not taken from the tool.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import INSTANCES

DEMO = (INSTANCES / "demo.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert DEMO.count(old) >= 1, old
    text = DEMO.replace(old, new, 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def run(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stderr.strip().splitlines(), result.stdout


# (name, old text, new text, the line to point at (a needle in the broken file), expected message)
YAML_1_1 = ("is read differently by YAML versions (an octal, binary or hexadecimal number, base 60 with ':', or "
            "'_' between digits); expected a plain decimal number (12, -0.5, 1.5e3), or quotes around a text")
CASES = [
    ("negative modules", "modules: 2", "modules: -2", "modules: -2",
     "industries.textiles_js.modules: got -2; expected a number ≥ 1"),
    ("octal to YAML 1.1", "stay_cost: 20", "stay_cost: 020", "stay_cost: 020",
     f"industries.textiles_js.stay_cost: 020 {YAML_1_1}"),  # 16 to YAML 1.1, 20 to a reader
    ("base 60 to YAML 1.1", "relocation_cost: 5", "relocation_cost: 1:30", "relocation_cost: 1:30",
     f"industries.textiles_js.relocation_cost: 1:30 {YAML_1_1}"),  # 90 to YAML 1.1
    ("underscores", "stay_cost: 20", "stay_cost: 2_0", "stay_cost: 2_0",
     f"industries.textiles_js.stay_cost: 2_0 {YAML_1_1}"),
    ("a space at a name's end", "province: Sichuan", "province: 'Sichuan '", "province: 'Sichuan '",
     "parks.guangan.province: got 'Sichuan '; expected a name with no space at either end and no line break or "
     "control character"),  # 'Sichuan ' and 'Sichuan' would be two provinces, printed alike
    ("a province in two regions", "province: Sichuan", "province: Anhui", "region: west",
     "parks.guangan.region: 'west', while another park of 'Anhui' is in 'central': the province's region (its "
     "ledger rows, rules on regions) would be unknown; expected one region for the parks of a province"),
    ("word for a number", "modules: 2", "modules: two", "modules: two",
     "industries.textiles_js.modules: got 'two'; expected a whole number"),
    ("fractional modules", "modules: 2", "modules: 2.5", "modules: 2.5",
     "industries.textiles_js.modules: got 2.5; expected a whole number"),
    ("NaN", "stay_cost: 20", "stay_cost: .nan", "stay_cost: .nan",
     "industries.textiles_js.stay_cost: got nan; expected a finite number (no NaN or infinity)"),
    ("infinity", "open_cost: 10", "open_cost: .inf", "open_cost: .inf",
     "parks.ganzhou.open_cost: got inf; expected a finite number (no NaN or infinity)"),
    ("negative capacity", "capacity: {labor: 150, land: 8, cod: 3}", "capacity: {labor: 150, land: -8, cod: 3}",
     "land: -8", "parks.guangan.capacity.land: got -8; expected a number ≥ 0"),
    ("not a boolean", "must_transfer: true", "must_transfer: maybe", "must_transfer: maybe",
     "industries.chem_zj.must_transfer: got 'maybe'; expected true or false"),
    ("unknown resource", "use: {labor: 100, land: 4, cod: 2}", "use: {labour: 100, land: 4, cod: 2}",
     "labour: 100", "industries.textiles_js.use.labour: unknown resource; expected one of: labor, land, cod"),
    ("capacity missing a resource", "capacity: {labor: 250, land: 10, cod: 4}", "capacity: {labor: 250, land: 10}",
     "capacity: {labor: 250, land: 10}",
     "parks.wuhu.capacity: no capacity for resource 'cod'; expected a capacity for every resource "
     "(0 if the park has none)"),
    ("duplicate id", "id: chem_zj", "id: textiles_js", "  - id: textiles_js\n    origin: Zhejiang",
     "industries.textiles_js.id: duplicate id 'textiles_js'; expected each id once"),
    ("unknown group", "parks: {tags: yangtze_shoreline}", "parks: yangtze", "parks: yangtze",
     "rules.yangtze_chemicals.parks: unknown group 'yangtze'; expected a group of parks defined under "
     "`groups:`, or an inline selector"),
    ("unknown rule kind", "kind: forbid", "kind: forbidd", "- id: yangtze_chemicals",
     "rules.yangtze_chemicals: got kind 'forbidd'; expected kind: retire | forbid | carbon_trade | limit | "
     "transfer_target | diversity | capacity_replacement | chain | cluster | eco_compensation | participation"),
    ("missing required key", "    source: Yangtze", "    sources: Yangtze", "- id: yangtze_chemicals",
     "rules.yangtze_chemicals.source: required key is missing; expected a value for it"),
    ("unknown prerequisite", "{id: sewage_plant, cost: 3, adds: {cod: 6}}",
     "{id: sewage_plant, cost: 3, adds: {cod: 6}, requires: [pipes]}", "requires: [pipes]",
     "parks.ganzhou.upgrades.sewage_plant.requires[0]: unknown upgrade 'pipes'; expected no `requires` (the "
     "park has no other upgrade to require)"),
    ("selector that selects nothing", "industries: {sector: chemicals}", "industries: {ids: [steel_hb]}",
     "ids: [steel_hb]", "rules.yangtze_chemicals.industries.ids[0]: unknown industry 'steel_hb'; "
     "expected an industry id"),
    ("duplicate YAML key", "    relocation_cost: 5\n", "    relocation_cost: 5\n    relocation_cost: 6\n",
     "relocation_cost: 6", "industries.textiles_js.relocation_cost: duplicate key (first given at line {prev}); "
     "expected each key once"),
    ("YAML syntax", "name: demo", "name: demo: x", "name: demo: x", None),
    ("unknown objective term", "scenarios:", "objective: {weights: {carbon: 1}}\nscenarios:", "objective:",
     "objective.weights.carbon: unknown KPI term; expected one of: open_cost, upgrade_cost, relocation_cost, "
     "operating_cost, logistics_cost, pair_cost, stay_cost, co2, value_added, jobs, retire_cost, trade_cost, "
     "chain_bonus, cluster_bonus, side_payment_cost, or KPI@JURISDICTION"),
    ("resource named as a KPI", "  cod: {category: ecology",
     "  co2: {category: ecology, unit: kt}\n  cod: {category: ecology", "co2: {category",
     "resources.co2: resource 'co2' has the name of a KPI; expected an id that is not a KPI name (open_cost, "
     "upgrade_cost, relocation_cost, operating_cost, logistics_cost, pair_cost, stay_cost, co2, value_added, jobs, "
     "tax, power_use, modules, retire_cost, production_capacity, spend, trade_cost, chain_bonus, cluster_bonus, "
     "side_payment_cost)"),
    ("diversity sector listed twice", "scenarios:",
     "  - {id: div, kind: diversity, source: t, sectors: [textiles, textiles], max_sectors_per_park: 1}\n"
     "scenarios:", "sectors: [textiles, textiles]",
     "rules.div.sectors[1]: sector 'textiles' listed twice; expected each sector once"),
    ("renamed objective term", "scenarios:", "objective: {weights: {opening_cost: 2}}\nscenarios:", "objective:",
     "objective.weights.opening_cost: the KPI opening_cost is now called open_cost; expected open_cost"),
    ("empty list", "rules:\n  - id: yangtze_chemicals", "pairs: []\nindustries_x:\nrules:\n  - id: yangtze_chemicals",
     "industries_x:", "industries_x: unknown key; expected one of: name, description, units, resources, "
     "industries, parks, pairs, groups, provinces, sectors, regions, rules, objective, scenarios, periods, "
     "discount_rate, "
     "terminal_years"),
    ("overlay naming a missing park", 'parks.*.capacity.cod: "*0.5"', "parks.nowhere.capacity.cod: 3",
     "parks.nowhere", "parks.nowhere.capacity.cod: cannot apply overlay: no item with id 'nowhere' in parks; "
     "expected a dotted key naming an existing item, e.g. parks.<id>.capacity.land"),
]


@pytest.mark.parametrize("name, old, new, needle, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_clear_line(tmp_path, name, old, new, needle, message):
    path, text = broken(tmp_path, old, new)
    code, errors, _ = run("validate", str(path))
    assert code == 2
    assert "Traceback" not in "\n".join(errors)
    line = line_of(text, needle.split("\n")[0]) if "\n" not in needle else text[: text.index(needle)].count("\n") + 1
    if message is None:  # syntax errors: the parser's own words, at the right line
        assert len(errors) == 1 and errors[0].startswith(f"error: {path}:{line}: (syntax): not valid YAML:")
        return
    if "{prev}" in message:
        message = message.format(prev=line - 1)
    assert f"error: {path}:{line}: {message}" in errors


def test_several_problems_are_reported_together(tmp_path):
    text = DEMO.replace("modules: 2", "modules: -2").replace("stay_cost: 9", "stay_cost: -9")
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    code, errors, _ = run("validate", str(path))
    assert code == 2
    assert errors == [
        f"error: {path}:{line_of(text, 'modules: -2')}: industries.textiles_js.modules: got -2; expected a number ≥ 1",
        f"error: {path}:{line_of(text, 'stay_cost: -9')}: industries.electronics_gd.stay_cost: got -9; "
        "expected a number ≥ 0",
    ]


def test_command_line_overlays_are_validated_too():
    code, errors, _ = run("solve", str(INSTANCES / "demo.yaml"), "--set", "parks.wuhu.capacity.land=-3",
                          "--set", "parks.wuhu.colour=red")
    assert code == 2
    assert errors[0] == "error: --set: parks.wuhu.capacity.land: got -3; expected a number ≥ 0"
    assert errors[1].startswith("error: --set: parks.wuhu.colour: unknown key; expected one of: id, province,")


@pytest.mark.parametrize("args, expected", [
    (["--scenario", "nope"], "error: --scenario: nope: no such scenario in {f}; expected one of: tight_cod"),
    (["--set", "parks.wuhu.capacity.land"], "error: --set: parks.wuhu.capacity.land: not of the form KEY=VALUE; "
                                            "expected e.g. parks.hefei_econ.capacity.land=80"),
    (["--solver", "no_such_solver"], "error: --solver: no_such_solver: Pyomo cannot run this solver "
                                     "here (not installed or not known); expected highs, or a solver installed for "
                                     "Pyomo"),
])
def test_bad_command_line_values(args, expected):
    path = INSTANCES / "demo.yaml"
    code, errors, _ = run("solve", str(path), *args)
    assert code == 2
    shown = str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)
    assert errors == [expected.format(f=shown)]


def test_missing_file_and_side_table(tmp_path):
    code, errors, _ = run("validate", str(tmp_path / "none.yaml"))
    assert code == 2 and errors == [f"error: {tmp_path / 'none.yaml'}: (file): no such file; "
                                    "expected a path to a YAML instance"]
    path, text = broken(tmp_path, "rules:\n", "pairs: pairs.csv\nrules:\n")
    code, errors, _ = run("validate", str(path))
    assert code == 2
    assert errors == [f"error: {path}:{line_of(text, 'pairs: pairs.csv')}: pairs: side table 'pairs.csv' not "
                      f"found next to {path}; expected a CSV file name relative to the YAML file"]


def test_bad_value_in_a_csv_side_table_points_at_its_row(tmp_path):
    path, _ = broken(tmp_path, "rules:\n", "pairs: pairs.csv\nrules:\n")
    (tmp_path / "pairs.csv").write_text("industry,park,cost,use.land\n"
                                        "textiles_js,wuhu,1.5,\n"
                                        "chem_zj,guangan,cheap,9\n", encoding="utf-8")
    code, errors, _ = run("validate", str(path))
    assert code == 2
    assert errors == [f"error: {tmp_path / 'pairs.csv'}:3: pairs[1].cost: got 'cheap'; expected a number"]


def test_debug_shows_the_traceback(tmp_path):
    path, _ = broken(tmp_path, "modules: 2", "modules: -2")
    result = CliRunner().invoke(main, ["--debug", "validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "InputError" in result.stderr


def test_an_empty_list_of_choices_is_said_as_such():
    from model.errors import Problem

    shown = str(Problem("inst.yaml:9", "rules.r.sectors[0]", "no industry has sector 'x'", "one of: " + ", ".join([])))
    assert shown == ("inst.yaml:9: rules.r.sectors[0]: no industry has sector 'x'; expected one of those the "
                     "instance defines, and it defines none")


def test_a_damaged_results_folder_or_an_odd_path_is_one_line_naming_what_is_wrong(tmp_path):
    """A value that is not a number names its line; a removed plan is 'missing', not 'no plan'; a
    run without a plan says so before any file it never had; a device is not 'no such file'."""
    import shutil

    from tests.conftest import base, write

    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", str(INSTANCES / "demo.yaml"), "--out", str(run)]).exit_code == 0
    bad = tmp_path / "bad"
    shutil.copytree(run, bad)
    lines = (bad / "allocations.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("modules")] = "abc"
    lines[2] = ",".join(cells)
    lines.insert(1, "")  # a blank line: pandas skips it, the line number must not
    (bad / "allocations.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["compare", str(run), str(bad)])
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: {bad / 'allocations.csv'}:4: modules: got 'abc', not a number; expected a folder written by "
        "`industry-transfer solve`")

    kpis = (run / "kpis.json").read_text(encoding="utf-8")
    (bad / "kpis.json").write_text(kpis.replace('"status"', '"status" "x"', 1), encoding="utf-8")
    line = next(n for n, t in enumerate(kpis.splitlines(), 1) if '"status"' in t)
    column = kpis.splitlines()[line - 1].index('"status"') + len('"status" ') + 1  # where "x" stands
    got = CliRunner().invoke(main, ["compare", str(run), str(bad)])
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: {bad / 'kpis.json'}:{line}: (file): not readable JSON (Expecting ':' delimiter at column "
        f"{column}); expected a file written by `industry-transfer solve`")
    (bad / "kpis.json").write_text(kpis, encoding="utf-8")
    bom = tmp_path / "bom"
    shutil.copytree(run, bom)
    (bom / "kpis.json").write_text("\ufeff" + kpis, encoding="utf-8")  # a BOM an editor added: read
    got = CliRunner().invoke(main, ["check", str(INSTANCES / "demo.yaml"), str(bom)])
    assert got.exit_code == 0 and "objective 49.6" in got.stdout, got.output

    (bad / "allocations.csv").unlink()
    got = CliRunner().invoke(main, ["check", str(INSTANCES / "demo.yaml"), str(bad)])
    assert got.exit_code == 2 and "missing allocations.csv (the run found a plan: optimal)" in got.stderr

    data = base()
    data["industries"][0].update(use={"land": 25}, must_transfer=True)  # fits neither park
    path = write(tmp_path, data)
    assert CliRunner().invoke(main, ["solve", str(path), "--out", str(tmp_path / "none")]).exit_code == 3
    got = CliRunner().invoke(main, ["explain", str(tmp_path / "none"), "--industry", "a"])
    assert got.exit_code == 2 and "the run has no plan (infeasible)" in got.stderr

    got = CliRunner().invoke(main, ["validate", "/dev/null"])
    assert got.exit_code == 2 and got.stderr.strip() == ("error: /dev/null: (file): not a regular file; expected a "
                                                         "path to a YAML instance")


@pytest.mark.parametrize("value, message", [
    ("{}", "rules.yangtze_chemicals.parks: selects by nothing; give ids, province, region, zone or tags"),
    ("[wuhu]", "rules.yangtze_chemicals.parks: got a list; expected a name, or a mapping of the keys it takes "
               "(e.g. {ids: [a, b]} or {tags: x})"),
    ("{bogus: 1}", "rules.yangtze_chemicals.parks.bogus: unknown key; expected one of: ids, province, region, "
                   "zone, tags")])
def test_a_selector_that_is_neither_a_name_nor_a_mapping_is_one_line_in_the_users_words(value, message):
    """No name of pydantic's own (`constrained-str`, `function-after[...]`) in a message."""
    code, errors, _ = run("validate", str(INSTANCES / "demo.yaml"), "--set", f"rules.yangtze_chemicals.parks={value}")
    assert code == 2 and errors == [f"error: --set: {message}"]


@pytest.mark.parametrize("patch, message", [
    ("parks.wuhu.capacity.land=", "parks.wuhu.capacity.land: got nothing (an empty value); expected a number"),
    ("parks.wuhu.open_cost=*2", "parks.wuhu.open_cost: cannot scale by *2: the item gives no value there; expected "
                                "a value instead of a factor, or a key the item gives a number")])
def test_an_empty_value_is_named_in_words_not_as_none(patch, message):
    code, errors, _ = run("validate", str(INSTANCES / "demo.yaml"), "--set", patch)
    assert code == 2 and errors == [f"error: --set: {message}"]


def test_an_edited_results_folder_missing_what_the_report_draws_is_one_line(tmp_path):
    """Columns the report and compare read (a park's region, the binding flags) are required, a
    binding flag is True or False, and a region the instance does not know is drawn grey: each of
    these was an internal error (KeyError, AttributeError, ValueError)."""
    import shutil

    import pandas as pd

    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["solve", str(INSTANCES / "demo.yaml"), "--out", str(run)]).exit_code == 0

    def edited(name: str, table: str, change) -> Path:
        folder = tmp_path / name
        shutil.copytree(run, folder)
        change(pd.read_csv(folder / table)).to_csv(folder / table, index=False)
        return folder

    def maybe(f: pd.DataFrame) -> pd.DataFrame:
        f["binding"] = f["binding"].astype(str)
        f.loc[1, "binding"] = "maybe"
        return f

    cases = [
        (edited("nobind", "parks.csv", lambda f: f.drop(columns=["binding"])),
         "parks.csv:1: (header): missing column binding"),
        (edited("maybe", "parks.csv", maybe), "parks.csv:3: binding: got 'maybe', not True or False"),
        (edited("noregion", "allocations.csv", lambda f: f.drop(columns=["region"])),
         "allocations.csv:1: (header): missing column region"),
    ]
    for folder, message in cases:
        for command in (["report", str(folder), "--html", str(tmp_path / f"{folder.name}.html")],
                        ["compare", str(run), str(folder)]):
            got = CliRunner().invoke(main, command)
            assert got.exit_code == 2 and got.stderr.strip() == (
                f"error: {folder / message}; expected a folder written by `industry-transfer solve`"), command
    def unknown_park(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f["park"] == "wuhu", ["park", "province", "region"]] = ["Wuhu", "Atlantis", "mars"]
        return f

    mars = edited("mars", "allocations.csv", unknown_park)
    got = CliRunner().invoke(main, ["report", str(mars), "--html", str(tmp_path / "mars.html")])
    assert got.exit_code == 0 and "fails the independent check: textiles_js at Wuhu: unknown park" in got.stderr


@pytest.mark.parametrize("sets, message", [
    # a requires b, b requires a: validated, then both built at once, in no order
    (["parks.ganzhou.upgrades=[{id: a, cost: 1, adds: {land: 1}, requires: [b]}, "
      "{id: b, cost: 1, adds: {land: 1}, requires: [a]}]"],
     "error: --set: parks.ganzhou.upgrades.a.requires: upgrades 'a', 'b' require one another in a loop; expected "
     "requirements that do not loop"),
    # `sectors: []` switched the rule off, where no `sectors` means all of them
    (["rules=[{id: d, kind: diversity, source: s, sectors: [], max_parks_per_sector: 1}]"],
     "error: --set: rules.d.sectors: an empty list: the rule would bound nothing; expected the sectors it bounds, "
     "or no `sectors` for all of them"),
])
def test_inputs_that_validated_and_solved_a_different_model(sets, message):
    got = CliRunner().invoke(main, ["validate", str(INSTANCES / "demo.yaml"), *(a for s in sets for a in ("--set", s))])
    assert got.exit_code == 2 and got.stderr.strip() == message


def test_coefficients_too_large_for_the_solver_name_their_rows(tmp_path):
    """A participation weight of 1e12 on a tax of 1e4 makes a coefficient of 1e16 in the rule's
    rows: HiGHS refuses the model, which the tool reported as only 'HiGHS refused the model'."""
    got = CliRunner().invoke(main, ["solve", str(INSTANCES / "demo.yaml"), "--set",
                                    "rules=[{id: r, kind: participation, source: s, provinces: [Jiangsu], "
                                    "weights: {tax: 1e12}}]", "--set", "industries.textiles_js.tax=1e4",
                                    "--out", str(tmp_path / "run")])
    assert got.exit_code == 4
    assert ("HiGHS refused the model: coefficients above the 1e15 it takes in the rows participation (up to "
            "1e+16)") in " ".join(got.output.split())
