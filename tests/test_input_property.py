"""Property: whatever is done to a valid instance, `validate` exits 0 or 2 with one clear line per problem.

Valid instances (`instances/demo.yaml`, and a copy with its industries in a CSV side table) are
mutated in their values, types, keys and structure, in their YAML text (random byte and character
edits), in their CSV cells, and through `--set`/`--scenario`. `validate` must never raise, never
exit 1 ("internal error"); on exit 2 every stderr line starts with `error: ` and names a file and
line (`<file>:<n>:`), or `--set`/`--scenario`. Derandomized: the same examples on every run.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from tests.conftest import INSTANCES

DEMO = (INSTANCES / "demo.yaml").read_text(encoding="utf-8")
LINE = re.compile(r"^error: (\S+:\d+|--set|--scenario): \S.*$")
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


def _split_demo() -> tuple[str, str]:
    """The demo with its industries in `industries.csv`: (YAML text, CSV text)."""
    data = yaml.safe_load(DEMO)
    columns = ["id", "origin", "sector", "modules", "must_transfer", "use.labor", "use.land", "use.cod",
               "relocation_cost", "stay_cost", "value_added", "jobs", "power_use", "grid_factor", "co2_process", "tags"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for item in data["industries"]:
        flat = {**item, **{f"use.{k}": v for k, v in item["use"].items()}}
        writer.writerow([str(flat.get(c, "")).lower() if isinstance(flat.get(c), bool) else flat.get(c, "")
                         for c in columns])
    start, end = DEMO.index("industries:\n"), DEMO.index("parks:\n")
    return DEMO[:start] + "industries: industries.csv\n\n" + DEMO[end:], out.getvalue()


SPLIT_YAML, SPLIT_CSV = _split_demo()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property")


def check(folder: Path, yaml_bytes: bytes, csv_bytes: bytes | None = None, args: tuple[str, ...] = ()) -> None:
    """Run `validate` and assert the contract: exit 0 or 2, and on 2 only well-formed error lines."""
    path = folder / "inst.yaml"
    path.write_bytes(yaml_bytes)
    if csv_bytes is not None:
        (folder / "industries.csv").write_bytes(csv_bytes)
    result = CliRunner().invoke(main, ["validate", str(path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 0:
        assert "valid." in result.stdout
        return
    lines = result.stderr.splitlines()
    assert lines, "exit 2 without a message"
    for line in lines:
        assert LINE.match(line), line
        assert "Traceback" not in line and "internal error" not in line


# ---------------------------------------------------------------------------------------------
# Strategies

NUMBERS = st.one_of(
    st.integers(min_value=-10**6, max_value=10**6),
    st.sampled_from([0, -1, 10**6 + 1, 10**12, 10**13, 10**29, -10**29, 10**400, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e-300, 0.5, 1.5, float("nan"), float("inf")]),
)
WORDS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "*0.5", "*1e400", "true", "yes", "nan", "1e400", "2019-06-01", "x" * 200, "wuhu",
                     "ganzhou", "labor", "cod", "chemicals", "yangtze_shoreline", "textiles_js", "=", "<<", "~",
                     "industries.csv", "inst.yaml", "/etc/passwd", "../../../../etc/passwd", ".", "a\0b"]),
)
SCALARS = st.one_of(NUMBERS, WORDS, st.booleans(), st.none())
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(WORDS, SCALARS, max_size=3),
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            out += _paths(value, (*prefix, n))
    return out


def _mutate(data: Any, draw: Any) -> Any:
    """One structural change at a random place: a new value, a deleted, renamed or added key, a copied item."""
    path = draw(st.sampled_from(_paths(data)[1:]))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    op = draw(st.sampled_from(["value", "value", "delete", "rename", "add", "copy", "wrap"]))
    if op == "value":
        parent[last] = draw(VALUES)
    elif op == "delete":
        del parent[last]
    elif op == "rename" and isinstance(parent, dict):
        parent[draw(WORDS)] = parent.pop(last)
    elif op == "add" and isinstance(parent, dict):
        parent[draw(WORDS)] = draw(VALUES)
    elif op == "copy" and isinstance(parent, list):
        parent.append(parent[last])
    elif op == "wrap":
        parent[last] = draw(st.sampled_from([[parent[last]], {"x": parent[last]}, str(parent[last])]))
    return data


BYTES = st.one_of(
    st.binary(min_size=1, max_size=3),
    st.sampled_from([c.encode() for c in ":-[]{}&*!#|>'\"%@`,?\t\n \\"] + [
        b"\x00", b"\x01", b"\x85", b"\xef\xbb\xbf", b"\xff\xfe", "é".encode(), "中".encode(), b"\xc3", b"&a ",
        b"*a", b"<<: ", b"!!python/object ", b"!foo ", b"!!int ", b"\n  - ", b": ", b"{", b"}"]),
)


def _edit(text: bytes, draw: Any) -> bytes:
    """A few random byte edits: insertions, deletions and replacements."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:at] + draw(BYTES) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)):]
        else:
            text = text[:at] + draw(BYTES) + text[at + 1:]
    return text


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Properties


@SETTINGS
@given(st.data(), st.booleans())
def test_structural_mutations(folder, data, split):
    doc = yaml.safe_load(SPLIT_YAML if split else DEMO)
    for _ in range(data.draw(st.integers(1, 3))):
        doc = _mutate(doc, data.draw)
        if not isinstance(doc, dict) or not _paths(doc)[1:]:
            break
    check(folder, _dump(doc), SPLIT_CSV.encode() if split else None)


@SETTINGS
@given(st.data(), st.booleans())
def test_text_edits(folder, data, split):
    text = (SPLIT_YAML if split else DEMO).encode("utf-8")
    check(folder, _edit(text, data.draw), SPLIT_CSV.encode() if split else None)


@SETTINGS
@given(st.data())
def test_csv_cells(folder, data):
    rows = list(csv.reader(io.StringIO(SPLIT_CSV)))
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["cell", "cell", "cell", "header", "ragged", "bytes"]))
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, max(len(rows[r]) - 1, 0)))
        if not rows[r]:
            continue
        if op == "cell":
            rows[r][c] = str(data.draw(SCALARS))
        elif op == "header" and c < len(rows[0]):
            rows[0][c] = data.draw(st.one_of(WORDS, st.sampled_from(
                ["use", "use.labor", "use.x.y", "location", "location.lon", "location.alt", "id", "upgrades",
                 "tags", "modules", ".", "use.", "capacity.cod"])))
        elif op == "ragged":
            rows[r] = rows[r] + ["1"] if data.draw(st.booleans()) else rows[r][:-1]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    table = out.getvalue().encode("utf-8")
    if data.draw(st.booleans()):
        table = _edit(table, data.draw)
    check(folder, SPLIT_YAML.encode(), table)


SET_KEYS = st.one_of(
    st.sampled_from(["parks.wuhu.id", "parks.wuhu.capacity.land", "parks.*.capacity.cod", "parks.0", "parks",
                     "industries.textiles_js.modules", "industries.*.use", "rules.yangtze_chemicals.enabled",
                     "rules.0.parks", "objective.weights.co2", "scenarios.tight_cod.set", "name", "parks.nowhere.x",
                     "resources.cod", "groups.west", "", "..", "parks.*.*", "industries.0.id"]),
    st.text(max_size=20),
)


SET_VALUES = st.one_of(WORDS, st.sampled_from(
    ["[1, 2", "{a: 1}", "*0.5", "-3", "1e400", ".nan", "&a [*a]", "!!python/object x", "ganzhou", "null",
     "'unclosed", "[" * 200]))
SCENARIOS = st.one_of(st.none(), st.sampled_from(["tight_cod", "nope", ""]), st.text(max_size=8))


@SETTINGS
@given(st.lists(st.tuples(SET_KEYS, SET_VALUES), max_size=3), SCENARIOS)
def test_set_and_scenario(folder, sets, scenario):
    args: list[str] = []
    for key, value in sets:
        args += ["--set", f"{key}={value}"]
    if scenario is not None:
        args += ["--scenario", scenario]
    check(folder, DEMO.encode(), None, tuple(args))
