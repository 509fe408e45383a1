"""Hostile and broken input: one line per problem (file:line, key, what, expected), exit 2, nothing leaked.

Each case was found by a tester and reproduced before the fix. Lines are checked whole; expected
line numbers are found by searching the broken file, not taken from the tool.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from model import load
from model.errors import InputError
from model.loader import MAX_NODES, read
from tests.conftest import INSTANCES

DEMO = (INSTANCES / "demo.yaml").read_text(encoding="utf-8")
OUTSIDE = "expected a CSV file name relative to the YAML file, inside its folder"
UTF8 = "expected UTF-8 text (save the file as UTF-8)"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def run(path: Path, *args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["validate", str(path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.exit_code, result.stderr.strip().splitlines()


def write(tmp_path: Path, text: str | bytes, name: str = "inst.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def demo_with(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in DEMO, old
    text = DEMO.replace(old, new, 1)
    return write(tmp_path, text), text


def industries_csv(tmp_path: Path) -> tuple[Path, str, str]:
    """The demo with its industries in `ind.csv`; returns the YAML path, its text and the CSV text."""
    data = yaml.safe_load(DEMO)
    columns = ["id", "origin", "sector", "modules", "must_transfer", "use.labor", "use.land", "use.cod",
               "relocation_cost", "stay_cost", "value_added", "jobs"]
    rows = [",".join(columns)]
    for i in data["industries"]:
        flat = {**i, **{f"use.{k}": v for k, v in i["use"].items()}}
        rows.append(",".join(str(flat.get(c, "")).lower() if c == "must_transfer" else str(flat.get(c, ""))
                             for c in columns))
    start, end = DEMO.index("industries:\n"), DEMO.index("parks:\n")
    text = DEMO[:start] + "industries: ind.csv\n\n" + DEMO[end:]
    return write(tmp_path, text), text, "\n".join(rows) + "\n"


# ---------------------------------------------------------------------------------------------
# 1. Side tables resolve inside the instance's folder; nothing of another file is echoed


@pytest.mark.parametrize("value", ["/etc/passwd", "../../../../etc/passwd", "link.csv"])
def test_side_table_outside_the_folder_is_refused(tmp_path, value):
    (tmp_path / "link.csv").symlink_to("/etc/passwd")
    path, text = demo_with(tmp_path, "rules:\n", f"pairs: {value}\nrules:\n")
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:{line_of(text, 'pairs: ')}: pairs: side table '{value}' is outside the "
                      f"instance's folder; {OUTSIDE}"]


def test_side_table_through_a_link_inside_the_folder_is_read(tmp_path):
    path, text, table = industries_csv(tmp_path)
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "real.csv").write_text(table)
    (tmp_path / "ind.csv").symlink_to(tmp_path / "tables" / "real.csv")
    assert run(path) == (0, [])


def test_a_file_that_is_not_a_side_table_is_not_echoed(tmp_path):
    path, text = demo_with(tmp_path, "rules:\n", "pairs: notes.txt\nrules:\n")
    secret = "password hunter2, api key 0123456789abcdef, and more\nsecond line, with, commas\n"
    (tmp_path / "notes.txt").write_text(secret)
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {tmp_path / 'notes.txt'}:1: pairs: not a side table of pairs: no column of its "
                      "header is one of its keys; expected a header row naming columns among: industry, park, "
                      "cost, use.<resource>"]
    assert "hunter2" not in "\n".join(errors)


def test_a_long_cell_is_quoted_as_a_snippet(tmp_path):
    path, _ = demo_with(tmp_path, "rules:\n", "pairs: pairs.csv\nrules:\n")
    (tmp_path / "pairs.csv").write_text("industry,park,cost\ntextiles_js,wuhu," + "x" * 5000 + "\n")
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {tmp_path / 'pairs.csv'}:2: pairs[0].cost: got '{'x' * 36}...; expected a number"]


# ---------------------------------------------------------------------------------------------
# 2. Alias expansion, nesting and file size are bounded


BOMB = "\n".join(['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]) + "\n"


def test_billion_laughs_stops_at_once(tmp_path):
    path = write(tmp_path, BOMB)
    assert len(BOMB) < 600
    start = time.monotonic()
    code, errors = run(path)
    assert time.monotonic() - start < 5
    assert code == 2
    # a6 is the first anchor whose expansion (10^7 strings) is over the limit
    assert errors == [f"error: {path}:7: a6: more than {MAX_NODES:,} values once aliases (*name) are expanded; "
                      f"expected at most {MAX_NODES:,} (large tables belong in CSV side tables)"]


def test_a_recursive_alias_and_deep_nesting_are_refused(tmp_path):
    path = write(tmp_path, "name: &a [1, *a]\n")
    code, errors = run(path)
    assert code == 2 and len(errors) == 1
    assert errors[0].startswith(f"error: {path}:1: ")
    path = write(tmp_path, "name: " + "[" * 5000 + "]" * 5000 + "\n")
    code, errors = run(path)
    assert code == 2 and len(errors) == 1 and errors[0].startswith(f"error: {path}:1: ")
    path = write(tmp_path, "name: " + "[" * 500 + "]" * 500 + "\n")
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:1: name{'[0]' * 24}[...: mappings and lists nested more than 100 deep; "
                      "expected at most 100 levels"]


def test_file_size_is_bounded_and_the_bound_can_be_raised(tmp_path):
    path, text, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_text(table + "\n" * 10_000)  # blank lines: read, then skipped
    with pytest.raises(InputError) as exc:
        read(path, max_bytes=1000)
    assert [str(p) for p in exc.value.problems] == [
        f"{path}:1: (file): the file is larger than 1000 bytes; expected a file of at most 1000 bytes "
        "(industry-transfer --max-input-mb N raises it)"]
    with pytest.raises(InputError) as exc:
        load(str(path), max_bytes=len(text.encode()))
    assert [str(p) for p in exc.value.problems] == [
        f"{path}:{line_of(text, 'industries: ind.csv')}: industries: side table 'ind.csv' is larger than "
        f"{len(text.encode())} bytes; expected a file of at most {len(text.encode())} bytes "
        "(industry-transfer --max-input-mb N raises it)"]
    assert load(str(path), max_bytes=20_000).instance.industries[0].id == "textiles_js"
    # The command line's flag: the same bound, in MB.
    small = CliRunner().invoke(main, ["--max-input-mb", "0.001", "validate", str(path)])
    assert small.exit_code == 2 and "is larger than 1048 bytes" in small.stderr
    assert CliRunner().invoke(main, ["--max-input-mb", "1", "validate", str(path)]).exit_code == 0


# ---------------------------------------------------------------------------------------------
# 3. Encodings, binary files, YAML tags and merge keys, CSV oddities: exit 2, not "internal error"


LATIN1 = DEMO.replace("Jiangsu", "Jiangsü").encode("latin-1", errors="replace")


@pytest.mark.parametrize("name, content, line, message", [
    ("binary", bytes(range(256)) * 4, 1, "the file holds a NUL byte (binary data?); expected a text file in UTF-8"),
    ("latin-1", LATIN1, 3, f"not UTF-8 text (byte 0xd7); {UTF8}; Latin-1 or GBK files must be converted"),
    ("utf-16 with BOM", DEMO.encode("utf-16"), 1, f"the file is UTF-16 or UTF-32 text; {UTF8}"),
    ("utf-16 without BOM", DEMO.encode("utf-16-le"), 1, f"the file looks like UTF-16 text (no BOM); {UTF8}"),
    ("NUL", DEMO.replace("name: demo", "name: de\0mo").encode(), 22,
     "the file holds a NUL byte (binary data?); expected a text file in UTF-8"),
])
def test_undecodable_yaml(tmp_path, name, content, line, message):
    path = write(tmp_path, content)
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:{line}: (file): {message}"]


@pytest.mark.parametrize("name, encode, line, message", [
    ("binary", lambda t: bytes(range(256)) * 4, 1,
     "the file holds a NUL byte (binary data?); expected a text file in UTF-8"),
    ("latin-1", lambda t: t.replace("Jiangsu", "Jiangsü").encode("latin-1"), 2,
     f"not UTF-8 text (byte 0xfc); {UTF8}; Latin-1 or GBK files must be converted"),
    ("utf-16 with BOM", lambda t: t.encode("utf-16"), 1, f"the file is UTF-16 or UTF-32 text; {UTF8}"),
    ("utf-16 without BOM", lambda t: t.encode("utf-16-be"), 1, f"the file looks like UTF-16 text (no BOM); {UTF8}"),
    ("NUL", lambda t: t.replace("Zhejiang", "Zhe\0jiang").encode(), 3,
     "the file holds a NUL byte (binary data?); expected a text file in UTF-8"),
])
def test_undecodable_side_table(tmp_path, name, encode, line, message):
    path, _, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_bytes(encode(table))
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {tmp_path / 'ind.csv'}:{line}: industries: {message}"]


def test_merge_keys_are_refused_once(tmp_path):
    path, text = demo_with(tmp_path, "units: {money: million yuan, co2: kt CO2, power: GWh}",
                           "units: {<<: {money: million yuan}, co2: kt CO2}")
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:{line_of(text, '<<')}: units: merge keys (`<<`) are not supported; expected "
                      "the keys written out (an alias `*name` may stand for a whole value)"]


@pytest.mark.parametrize("tag, shown", [("!!python/object:os.system", "!!python/object:os.system"),
                                        ("!foo", "!foo"), ("!!binary", "!!binary")])
def test_yaml_tags_are_refused(tmp_path, tag, shown):
    path, text = demo_with(tmp_path, "name: demo", f"name: {tag} ZGVtbw==")
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:{line_of(text, 'name: ')}: name: unsupported YAML tag {shown}; expected plain "
                      "values, mappings and lists (no `!tags`)"]


def test_a_value_its_tag_cannot_read(tmp_path):
    path, text = demo_with(tmp_path, "modules: 2", "modules: !!int two")
    code, errors = run(path)
    assert code == 2
    assert errors[0] == (f"error: {path}:{line_of(text, '!!int')}: industries.textiles_js.modules: not a valid !!int; "
                         "expected a value its tag can read")


def test_csv_cell_over_the_field_limit(tmp_path):
    path, _, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_text(table.replace("Zhejiang", "Z" * 200_000))
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {tmp_path / 'ind.csv'}:3: industries: a cell longer than 131,072 characters; expected "
                      "cells of at most 131,072 characters"]


@pytest.mark.parametrize("old, new, message", [
    ("use.labor,", "use,use.labor,", "columns 'use' and 'use.labor' clash; expected one column per key: "
                                     "use.<resource>"),
    ("jobs\n", "jobs,location,location.lon\n", "columns 'location' and 'location.lon' clash; expected one "
                                               "column per key: location.{lon,lat}"),
    ("jobs\n", "jobs,jobs\n", "column 'jobs' appears twice (columns 12 and 13); expected each column once"),
    ("jobs\n", "jobs,colour\n", "unknown column 'colour'; expected columns among: id, origin, sector, modules, "
                                "divisible, must_transfer, may_retire, retire_cost, production_capacity, "
                                "use.<resource>, value_added, jobs, tax, co2_process, power_use, grid_factor, "
                                "relocation_cost, stay_cost, logistics_cost_per_km, "
                                "location.{lon,lat}, tags, name_zh, name_en"),
])
def test_csv_header_clashes(tmp_path, old, new, message):
    path, _, table = industries_csv(tmp_path)
    head, rest = table.split("\n", 1)
    extra = new.count(",") - old.count(",")
    rows = [r + "," * extra for r in rest.strip().split("\n")]
    (tmp_path / "ind.csv").write_text((head + "\n").replace(old, new) + "\n".join(rows) + "\n")
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {tmp_path / 'ind.csv'}:1: industries: {message}"]


def test_a_semicolon_separated_table(tmp_path):
    path, _, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_text(table.replace(",", ";"))
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {tmp_path / 'ind.csv'}:1: industries: the columns are separated by `;`; expected "
                      "commas (a CSV file)"]


@pytest.mark.parametrize("value, message", [
    ("!!python/object:os.system x", "unsupported YAML tag !!python/object:os.system; expected plain values, "
                                    "mappings and lists (no `!tags`)"),
    ("&a [1, *a]", "an alias refers to its own anchor; expected aliases (*name) to values defined before, not "
                   "inside themselves"),
])
def test_set_values_are_read_like_the_file(value, message):
    code, errors = run(INSTANCES / "demo.yaml", "--set", f"parks.wuhu.description={value}")
    assert code == 2
    assert errors == [f"error: --set: parks.wuhu.description: {message}"]


# ---------------------------------------------------------------------------------------------
# 4. Numbers: never booleans, finite, within the range the solver handles


@pytest.mark.parametrize("old, new, key, message", [
    ("modules: 2", "modules: true", "industries.textiles_js.modules", "got True; expected a whole number"),
    ("stay_cost: 20", "stay_cost: yes", "industries.textiles_js.stay_cost", "got True; expected a number"),
    ("must_transfer: true", "must_transfer: 1", "industries.chem_zj.must_transfer", "got 1; expected true or false"),
    ("modules: 2", "modules: 100000000000000000000000000000", "industries.textiles_js.modules",
     "got 100000000000000000000000000000; expected a number between 1 and 1000000"),
    ("open_cost: 10", "open_cost: 1.0e+13", "parks.ganzhou.open_cost", "got 10000000000000.0; expected a number "
                                                                      "between 0 and 1e12"),
    ("scenarios:", "objective: {weights: {co2: 1.0e+300}}\nscenarios:", "objective.weights.co2",
     "got 1e+300; expected a number between -1e12 and 1e12"),
])
def test_numbers_out_of_range_or_booleans(tmp_path, old, new, key, message):
    path, text = demo_with(tmp_path, old, new)
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:{line_of(text, new.split(chr(10))[0])}: {key}: {message}"]


def test_products_the_solver_cannot_handle(tmp_path):
    """Each figure is in range, but a carbon price of 1e12 on 1e12 kt per module is not a model HiGHS solves."""
    path, text = demo_with(tmp_path, "co2_process: 5", "co2_process: 1.0e+12")
    text = text.replace("scenarios:", "objective: {weights: {co2: 1.0e+12}}\nscenarios:")
    write(tmp_path, text)
    code, errors = run(path)
    assert code == 2
    assert errors == [f"error: {path}:{line_of(text, 'id: chem_zj')}: industries.chem_zj: co2 per module reaches "
                      "1e+24 (× its weight 1e+12); expected coefficients of at most 1e15 (the solver's limit): figures "
                      "in larger units, e.g. million yuan, kt"]


def test_booleans_and_numbers_in_csv_cells(tmp_path):
    path, _, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_text(table.replace("textiles,2,,", "textiles,true,1,"))
    code, errors = run(path)
    assert code == 2
    csv_file = tmp_path / "ind.csv"
    assert errors == [f"error: {csv_file}:2: industries.textiles_js.modules: got 'true'; expected a whole number",
                      f"error: {csv_file}:2: industries.textiles_js.must_transfer: got '1'; expected true or false"]


# ---------------------------------------------------------------------------------------------
# 5. Everything at once, and `--set` problems blamed on `--set`


def test_problems_across_sections_in_one_pass(tmp_path):
    path, text = demo_with(tmp_path, "modules: 2", "modules: -2")
    text = text.replace("capacity: {labor: 250, land: 10, cod: 4}", "capacity: {labor: 250, land: 10}")
    text = text.replace("parks: {tags: yangtze_shoreline}", "parks: {tags: yangtze}")
    write(tmp_path, text)
    code, errors = run(path)
    assert code == 2
    assert errors == [
        f"error: {path}:{line_of(text, 'modules: -2')}: industries.textiles_js.modules: got -2; expected a number ≥ 1",
        f"error: {path}:{line_of(text, 'land: 10}')}: parks.wuhu.capacity: no capacity for resource 'cod'; expected "
        "a capacity for every resource (0 if the park has none)",
        f"error: {path}:{line_of(text, 'tags: yangtze}')}: rules.yangtze_chemicals.parks: selects nothing; expected "
        "a selector matching at least one item",
    ]


def test_every_overlay_problem_at_once(tmp_path):
    path, text = demo_with(tmp_path, 'parks.*.capacity.cod: "*0.5"',
                           "parks.nowhere.capacity.cod: 3\n      parks.wuhu.capacity.land: -1\n"
                           "      parks.wuhu.colour: red")
    code, errors = run(path)
    assert code == 2
    assert errors[0] == (f"error: {path}:{line_of(text, 'nowhere')}: parks.nowhere.capacity.cod: cannot apply "
                         "overlay: no item with id 'nowhere' in parks; expected a dotted key naming an existing item, "
                         "e.g. parks.<id>.capacity.land")
    assert errors[1] == (f"error: {path}:{line_of(text, 'land: -1')}: parks.wuhu.capacity.land: got -1; expected a "
                         "number ≥ 0")
    assert errors[2].startswith(f"error: {path}:{line_of(text, 'colour')}: parks.wuhu.colour: unknown key;")
    assert len(errors) == 3


def test_a_scaling_over_every_item_scales_defaults_and_refuses_a_key_no_item_has():
    # demo: textiles_js gives modules: 2; chem_zj and electronics_gd leave it at the default 1.
    inst = load(str(INSTANCES / "demo.yaml"), None, [("industries.*.modules", "*2")]).instance
    assert {i.id: i.modules for i in inst.industries} == {"textiles_js": 4, "chem_zj": 2, "electronics_gd": 2}
    code, errors = run(INSTANCES / "demo.yaml", "--set", "industries.*.modules=*1.5")
    assert code == 2 and errors == ["error: --set: industries.chem_zj.modules: got 1.5; expected a whole number",
                                    "error: --set: industries.electronics_gd.modules: got 1.5; expected a whole number"]
    code, errors = run(INSTANCES / "demo.yaml", "--set", "parks.*.capacity.xyz=*0.5")  # a typo: no park has it
    assert code == 2 and errors == ["error: --set: parks.*.capacity.xyz: cannot scale: no item it names gives a "
                                    "value (nor has a default); expected a key that the items hold, e.g. "
                                    "parks.*.capacity.land"]


def test_an_empty_id_or_place_is_refused_with_what_is_expected(tmp_path):
    path, text = demo_with(tmp_path, "origin: Jiangsu", 'origin: ""')
    text = text.replace("id: chem_zj", 'id: ""')
    write(tmp_path, text)
    code, errors = run(path)
    assert code == 2 and errors[:2] == [
        f"error: {path}:{line_of(text, 'origin: ' + chr(34))}: industries.textiles_js.origin: got ''; "
        "expected a non-empty text",
        f"error: {path}:{line_of(text, 'id: ' + chr(34))}: industries[1].id: got ''; expected a non-empty text"]


def test_a_set_that_duplicates_an_id_is_blamed_on_set():
    code, errors = run(INSTANCES / "demo.yaml", "--set", "parks.wuhu.id=ganzhou")
    assert code == 2
    assert errors == ["error: --set: parks.wuhu.id: duplicate id 'ganzhou'; expected each id once"]


def test_scenario_problems_come_with_the_base_problems(tmp_path):
    path, text = demo_with(tmp_path, "modules: 2", "modules: -2")
    text = text.replace('parks.*.capacity.cod: "*0.5"', "parks.nowhere.capacity.cod: 3")
    write(tmp_path, text)
    code, errors = run(path)
    assert code == 2
    assert errors == [
        f"error: {path}:{line_of(text, 'modules: -2')}: industries.textiles_js.modules: got -2; expected a number ≥ 1",
        f"error: {path}:{line_of(text, 'nowhere')}: parks.nowhere.capacity.cod: cannot apply overlay: no item with id "
        "'nowhere' in parks; expected a dotted key naming an existing item, e.g. parks.<id>.capacity.land",
    ]


def test_the_demo_still_validates_and_reads_the_same():
    assert run(INSTANCES / "demo.yaml") == (0, [])
    assert os.path.exists(INSTANCES / "china-east-west.yaml")
    assert run(INSTANCES / "china-east-west.yaml") == (0, [])


def test_an_unclosed_quote_in_a_side_table_is_named_where_it_opens(tmp_path):
    path, _, table = industries_csv(tmp_path)
    lines = table.splitlines()
    lines[1] = lines[1].replace(",", ',"', 1)  # line 2 opens a quote that nothing closes
    (tmp_path / "ind.csv").write_text("\n".join(lines) + "\n")
    code, errors = run(path)
    assert code == 2
    assert errors[0] == (f"error: {tmp_path / 'ind.csv'}:2: industries: a quoted cell is not closed: it runs on "
                         "to the end of the file; expected a closing \" for every opening one, on its line, right "
                         "before the next comma")


def _edited(tmp_path: Path, line: int, edit) -> list[str]:
    path, _, table = industries_csv(tmp_path)
    lines = table.splitlines()
    lines[line - 1] = edit(lines[line - 1])
    (tmp_path / "ind.csv").write_text("\n".join(lines) + "\n")
    code, errors = run(path)
    assert code == 2, errors
    return [e.replace(f"{tmp_path / 'ind.csv'}", "ind.csv") for e in errors]


def test_a_quote_left_open_in_the_last_column_does_not_swallow_the_rows_after_it(tmp_path):
    """With the right number of cells, the open quote once took the next rows into one cell (its
    tags) and validation passed with one industry less each."""
    errors = _edited(tmp_path, 2, lambda s: s.rsplit(",", 1)[0] + ',"100')
    assert errors[0].startswith("error: ind.csv:2: industries: a quoted cell is not closed")


@pytest.mark.parametrize("edit, message", [
    # a quote after a space: the cell is Jiangsu (its quotes were kept: a province '"Jiangsu"')
    (lambda s: s.replace(",Jiangsu,", ', "Jiangsu",'), None),
    # spaces or a tab after the closing quote (strict reading refused them)
    (lambda s: s.replace(",Jiangsu,", ',"Jiangsu" \t,'), None),
    # text after a closing quote: "1"0 was read as 10
    (lambda s: s.replace(",textiles,2,", ',textiles,"1"0,'),
     "error: ind.csv:2: industries: text after the closing quote of a cell (as in \"1\"0)"),
])
def test_quotes_mean_what_they_say_in_a_side_table(tmp_path, edit, message):
    path, _, table = industries_csv(tmp_path)
    lines = table.splitlines()
    assert ",Jiangsu," in lines[1] and ",textiles,2," in lines[1]
    lines[1] = edit(lines[1])
    (tmp_path / "ind.csv").write_text("\n".join(lines) + "\n")
    code, errors = run(path)
    if message is None:
        assert code == 0, errors
        from model.loader import read

        assert read(str(path)).data["industries"][0]["origin"] == "Jiangsu"
    else:
        assert code == 2 and errors[0].replace(str(tmp_path / "ind.csv"), "ind.csv").startswith(message), errors


def test_side_table_messages_name_the_table(tmp_path):
    """A header alone, tabs for commas, an enclave column of parks: each said at the table."""
    path, _, table = industries_csv(tmp_path)
    (tmp_path / "ind.csv").write_text(table.splitlines()[0] + "\n")
    assert run(path)[1][0] == (f"error: {tmp_path / 'ind.csv'}:1: industries: the table has a header but no "
                               "rows; expected a header row and one row per item")
    (tmp_path / "ind.csv").write_text(table.replace(",", "\t"))
    assert run(path)[1][0] == (f"error: {tmp_path / 'ind.csv'}:1: industries: the columns are separated by tabs; "
                               "expected commas (a CSV file)")
    parks = "id,province,region,enclave\np9,Anhui,central,Shanghai\n"
    (tmp_path / "parks.csv").write_text(parks)
    (tmp_path / "inst2.yaml").write_text(DEMO[:DEMO.index("parks:\n")] + "parks: parks.csv\n")
    errors = run(tmp_path / "inst2.yaml")[1]
    assert any("parks: unknown column 'enclave'; a park's enclave is written in YAML" in e for e in errors), errors


def test_a_byte_that_is_not_utf8_is_placed_on_its_line_with_mac_line_ends(tmp_path):
    path, _, table = industries_csv(tmp_path)
    raw = table.replace("\n", "\r").encode()
    at = raw.index(b"Zhejiang")
    (tmp_path / "ind.csv").write_bytes(raw[:at] + "Zh\u00e9jiang".encode("latin-1") + raw[at + 8:])
    line = table[:table.index("Zhejiang")].count("\n") + 1
    assert run(path)[1][0].startswith(f"error: {tmp_path / 'ind.csv'}:{line}: industries: not UTF-8 text (byte 0xe9)")


def test_a_set_value_that_starts_a_list_or_mapping_must_finish_it():
    code, errors = run(INSTANCES / "demo.yaml", "--set", "parks.wuhu.tags=[a, b")
    assert code == 2 and errors == ["error: --set: parks.wuhu.tags: the value [a, b is not a complete list or "
                                    "mapping; expected e.g. [a, b] or {a: 1}, or quotes around a text"]
    assert run(INSTANCES / "demo.yaml", "--set", "name='[1'")[0] == 0  # quoted, it is the text it says


def test_a_star_passes_over_items_without_the_section_and_never_stands_for_a_mapping():
    # demo: only ganzhou has upgrades (sewage_plant, cost 3); the others must not be given any.
    inst = load(str(INSTANCES / "demo.yaml"), None, [("parks.*.upgrades.*.cost", "*2")]).instance
    assert {p.id: [u.cost for u in p.upgrades] for p in inst.parks} == {"ganzhou": [6.0], "wuhu": [], "guangan": []}
    code, errors = run(INSTANCES / "demo.yaml", "--set", "*.*.capacity=*2")
    assert code == 2 and errors == ["error: --set: *.*.capacity: cannot apply overlay: `*` stands for every item of "
                                    "a list; (top level) is a mapping; expected a dotted key naming an existing "
                                    "item, e.g. parks.<id>.capacity.land"]
    code, errors = run(INSTANCES / "demo.yaml", "--set", "parks.*.nothere.x=1")
    assert code == 2 and errors == ["error: --set: parks.*.nothere.x: cannot apply overlay: no item it names has "
                                    "that key; expected a dotted key naming an existing item, e.g. "
                                    "parks.<id>.capacity.land"]


def test_a_set_that_fails_only_under_a_scenario_names_the_scenario():
    # demo: wuhu's COD is 4 and scenario tight_cod halves every park's; scaling it by -1 fails in the
    # base (got -4.0) and under the scenario with another value (got -2.0): the second says where.
    code, errors = run(INSTANCES / "demo.yaml", "--set", "parks.wuhu.capacity.cod=*-1")
    assert code == 2 and errors == [
        "error: --set: parks.wuhu.capacity.cod: got -4.0; expected a number ≥ 0",
        "error: --set: parks.wuhu.capacity.cod: got -2.0 (under scenario tight_cod); expected a number ≥ 0"]
