"""Pairs judged as columns (`model/pairtable.py`) read exactly as the schema reads them one by one.

Property: for any list of raw pair items (numbers, numbers as text, odd text, booleans, NaN,
huge integers, bad ids, unknown keys, uses over known and unknown resources, mappings per period),
`validate` gives the same problems, in the same order, or the same pairs, whether the pairs go
through the columns or through `schema.Pair` alone (the columns switched off). And a table of
pairs solves to the optimum its hand-made twin of `Pair` objects solves to; a CSV side table split
by lines reads as `csv.reader` reads it.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import load, loader
from model.errors import InputError
from model.loader import RawDoc
from model.options import BuildOptions
from model.pairtable import PairTable
from model.run import solve_instance
from model.schema import Pair
from tests.conftest import EXACT, base, write

validation = importlib.import_module("model.validate")  # the module (`model.validate` is also its function)
IDS = st.sampled_from(["a", "b", "p1", "p2", "p3", "x y", "a\n", "", "c-1_2"])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64), st.integers(-10**14, 10**14),
    st.sampled_from([10**400, True, False, None, 0, -0.0, 1e12, 1e13, -1e12]),
    st.sampled_from(["5", "-3.25", "1e3", ".5", "5.", "1_000", "nan", "inf", "1e400", " 5", "5\n", "٣", "abc",
                     "", "+7", "1e-5"]),
    st.just({"p1": 3.0}), st.just([1, 2]))
USE = st.one_of(st.dictionaries(st.sampled_from(["land", "water", "labor"]), NUMBERS, max_size=2),
                st.sampled_from([None, "land", [1]]))
ITEM = st.one_of(
    st.fixed_dictionaries({"industry": IDS, "park": IDS}, optional={"cost": NUMBERS, "use": USE,
                                                                    "note": st.just("x")}),
    st.sampled_from([None, "pair", [1, 2], 7]))
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _data(pairs: list, broken: bool = False) -> dict:
    """Two industries, two parks and `pairs`; `broken`: with problems before and after the pairs
    too (an unknown key first, a bad group after), which must keep their places around them."""
    data = base()
    data["industries"].append({**data["industries"][0], "id": "b"})
    if broken:
        return {"colour": "red", **data, "pairs": pairs, "groups": {"g": 5}}
    return {**data, "pairs": pairs}


def _outcome(pairs: list, columns: bool, broken: bool = False) -> tuple[str, object]:
    """("ok", the pairs) or ("error", the problems as printed), with the columns on or off."""
    with pytest.MonkeyPatch.context() as m:
        if not columns:
            m.setattr(validation, "pair_table", lambda items: None)
        try:
            inst = validation.validate(RawDoc(_data(pairs, broken), {}, "inst.yaml", ""))
        except InputError as exc:
            return "error", [str(p) for p in exc.problems]
    return "ok", list(inst.pairs)


@SETTINGS
@given(st.lists(ITEM, min_size=1, max_size=6), st.booleans())
def test_columns_judge_pairs_as_the_schema_does(pairs, broken):
    assert _outcome(pairs, True, broken) == _outcome(pairs, False, broken)


def test_valid_pairs_are_held_as_a_table():
    pairs = [{"industry": "a", "park": "p1", "cost": "2.5"}, {"industry": "b", "park": "p2", "cost": 3,
                                                               "use": {"land": "4"}}]
    inst = validation.validate(RawDoc(_data(pairs), {}, "inst.yaml", ""))
    assert isinstance(inst.pairs, PairTable)
    assert list(inst.pairs) == [Pair(industry="a", park="p1", cost=2.5), Pair(industry="b", park="p2", cost=3.0,
                                                                              use={"land": 4.0})]
    assert inst.pairs.get(("b", "p2")).use == {"land": 4.0} and inst.pairs.get(("a", "p2")) is None
    assert math.isnan(inst.pairs.use["land"][0]) and inst.pairs.use["land"][1] == 4.0


def test_a_table_solves_as_its_pairs_do(tmp_path):
    """Pair costs steer a to p2 (1 against 5) and b to p1 (0.5 against 2) (hand-checked): the same
    plan and objective whether the pairs are a table or `Pair` objects, and the checker agrees."""
    data = _data([{"industry": "a", "park": "p1", "cost": 5.0}, {"industry": "a", "park": "p2", "cost": 1.0},
                  {"industry": "b", "park": "p1", "cost": 0.5, "use": {"land": 2.0}},
                  {"industry": "b", "park": "p2", "cost": 2.0}])
    loaded = load(str(write(tmp_path, data)))
    assert isinstance(loaded.instance.pairs, PairTable)
    twin = replace(loaded, instance=loaded.instance.model_copy(update={"pairs": list(loaded.instance.pairs)}))
    table, objects = (solve_instance(x, BuildOptions(), EXACT) for x in (loaded, twin))
    assert table.plan.x == objects.plan.x == {("a", "p2"): 1, ("b", "p1"): 1}
    assert table.result.objective == pytest.approx(objects.result.objective)
    assert table.check.ok and objects.check.ok


@pytest.mark.parametrize("text", [
    "industry,park,cost\na,p1,1\n\nb,p2,2\n",
    "industry,park,cost,\na,p1,1,x\nb,p2\n,,\n",
    "industry,park,cost,use.land\na,p1,,3\nb,p2,2,\n",
    "industry,park,cost",
])
def test_lines_read_as_csv_reader_reads_them(monkeypatch, text):
    fast = loader._read_csv(text, "pairs.csv", ("pairs",))
    with monkeypatch.context() as m:
        m.setattr(loader, "_records", lambda t: loader.csv.reader(loader.io.StringIO(t, newline="")))
        slow = loader._read_csv(text, "pairs.csv", ("pairs",))
    assert fast == slow
