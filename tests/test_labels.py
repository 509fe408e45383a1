"""Names and codes: labels in Chinese or English with their fallbacks, a table relabelled, the
checks of codes and of the `sectors:` table (one line each, exit 2), and the china instance's names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli import main
from model import jurisdictions, load
from model.errors import InputError
from model.labels import Labels, relabel
from tests.conftest import INSTANCES

# Every way a label can be found: both names (wuhu, Anhui, steel), Chinese only (ganzhou: English
# falls back to it), English only (Jiangsu, textiles: Chinese falls back to it), none (Jiangxi,
# chemicals, chem_zj: the id).
TEXT = """\
name: labels
resources:
  land: {category: infrastructure, unit: ha}
industries:
  - {id: steel_js, origin: Jiangsu, sector: steel, name_zh: 江苏 钢铁, name_en: Jiangsu steel, use: {land: 2}}
  - {id: textiles_js, origin: Jiangsu, sector: textiles, name_en: Jiangsu textiles, use: {land: 1}}
  - {id: chem_zj, origin: Zhejiang, sector: chemicals, use: {land: 1}}
parks:
  - {id: wuhu, province: Anhui, region: central, capacity: {land: 5}, name_zh: 芜湖经济技术开发区,
     name_en: Wuhu ETDZ}
  - {id: ganzhou, province: Jiangxi, region: central, capacity: {land: 5}, name_zh: 赣州产业园}
provinces:
  Jiangsu: {region: east, code: 320000, name_en: Jiangsu Province}
  Zhejiang: {region: east, code: "330000", name_zh: 浙江省}
  Anhui: {code: "340000", name_zh: 安徽省, name_en: Anhui}
sectors:
  steel: {code: C31, name_zh: 钢铁, name_en: Steel, description: ferrous metal smelting}
  textiles: {code: C1711, name_en: Textiles}
"""


@pytest.fixture
def instance_file(tmp_path: Path) -> Path:
    path = tmp_path / "labels.yaml"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_labels_in_each_language_with_their_fallbacks(instance_file):
    inst = load(str(instance_file)).instance
    zh, en, ids = Labels(inst, "zh"), Labels(inst, "en"), Labels(inst)
    assert [zh.park("wuhu"), en.park("wuhu"), ids.park("wuhu")] == ["芜湖经济技术开发区", "Wuhu ETDZ", "wuhu"]
    assert [zh.park("ganzhou"), en.park("ganzhou")] == ["赣州产业园", "赣州产业园"]  # English falls back to Chinese
    assert [zh.province("Jiangsu"), en.province("Jiangsu")] == ["Jiangsu Province", "Jiangsu Province"]
    assert [zh.province("Zhejiang"), en.province("Zhejiang")] == ["浙江省", "浙江省"]
    assert [zh.province("Jiangxi"), en.province("Jiangxi")] == ["Jiangxi", "Jiangxi"]  # not in the table: the id
    assert [zh.sector("steel"), en.sector("steel"), zh.sector("textiles"), zh.sector("chemicals")] == [
        "钢铁", "Steel", "Textiles", "chemicals"]
    assert [zh.industry("steel_js"), en.industry("steel_js"), zh.industry("textiles_js"), en.industry("chem_zj")] \
        == ["江苏 钢铁", "Jiangsu steel", "Jiangsu textiles", "chem_zj"]
    assert zh.park("nowhere") == "nowhere"  # an id the instance does not have is shown as it is


def test_codes(instance_file):
    labels = Labels(load(str(instance_file)).instance, "en")
    assert labels.code("province", "Jiangsu") == "320000"  # written as a YAML number, kept as text
    assert labels.code("province", "Zhejiang") == "330000"
    assert labels.code("province", "Jiangxi") is None
    assert labels.code("sector", "textiles") == "C1711"
    assert labels.code("sector", "chemicals") is None
    with pytest.raises(ValueError):
        labels.code("park", "wuhu")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Labels(load(str(instance_file)).instance, "fr")


def test_relabel_changes_the_id_columns_only(instance_file):
    labels = Labels(load(str(instance_file)).instance, "zh")
    df = pd.DataFrame({"industry": ["steel_js", "chem_zj", None], "park": ["wuhu", "(stays)", "ganzhou"],
                       "origin": ["Jiangsu", "Zhejiang", "Jiangsu"], "sector": ["steel", "chemicals", "textiles"],
                       "jurisdiction": ["Zhejiang", "east", "Anhui"], "modules": [1.0, 2.0, 3.0],
                       "note": ["wuhu", "steel", "Anhui"]})
    out = relabel(df, labels)
    assert out["industry"].tolist()[:2] == ["江苏 钢铁", "chem_zj"] and pd.isna(out["industry"][2])
    assert out["park"].tolist() == ["芜湖经济技术开发区", "(stays)", "赣州产业园"]
    assert out["origin"].tolist() == ["Jiangsu Province", "浙江省", "Jiangsu Province"]
    assert out["sector"].tolist() == ["钢铁", "chemicals", "Textiles"]
    assert out["jurisdiction"].tolist() == ["浙江省", "east", "安徽省"]  # a region keeps its id
    assert out["modules"].tolist() == [1.0, 2.0, 3.0] and out["note"].tolist() == ["wuhu", "steel", "Anhui"]
    assert df["park"].tolist() == ["wuhu", "(stays)", "ganzhou"]  # the table given is left as it was
    assert relabel(df, Labels(load(str(instance_file)).instance)).equals(df)  # no language: ids


def test_labels_from_a_results_folder(tmp_path, instance_file):
    folder = tmp_path / "run"
    folder.mkdir()
    # A results folder's instance.json is the instance as read (`model/run.py` writes `raw.data`).
    (folder / "instance.json").write_text(json.dumps(load(str(instance_file)).raw.data, ensure_ascii=False),
                                          encoding="utf-8")
    labels = Labels.from_results(folder, "zh")
    assert labels.park("wuhu") == "芜湖经济技术开发区" and labels.code("province", "Jiangsu") == "320000"
    with pytest.raises(InputError, match="missing instance.json"):
        Labels.from_results(tmp_path, "zh")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


PROVINCE_CODE = ("a six-digit GB/T 2260 code beginning with a province's two digits, e.g. 110000 (Beijing)")
SECTOR_CODE = ("a GB/T 4754-2017 code: a section letter A-T and 2 to 4 digits of a division of that section, "
               "e.g. C31 or C3130")


@pytest.mark.parametrize("old, new, needle, message", [
    ("code: 320000,", "code: 32000,", "code: 32000,", f"provinces.Jiangsu.code: got 32000; expected {PROVINCE_CODE}"),
    ('code: "330000"', 'code: "990000"', '"990000"',
     f"provinces.Zhejiang.code: got '990000'; expected {PROVINCE_CODE}"),
    ("code: C31,", "code: 31,", "code: 31,", f"sectors.steel.code: got 31; expected {SECTOR_CODE}"),
    ("code: C31,", "code: C99,", "code: C99,", f"sectors.steel.code: got 'C99'; expected {SECTOR_CODE}"),
    ("code: C1711,", "code: Z17,", "code: Z17,", f"sectors.textiles.code: got 'Z17'; expected {SECTOR_CODE}"),
    ("  textiles: {code", "  textile: {code", "textile: {code",
     "sectors.textile: no industry has sector 'textile'; expected one of: chemicals, steel, textiles"),
    ('code: "330000"', 'code: "320000"', 'code: "320000"',
     "provinces.Zhejiang.code: code 320000 is given to 'Jiangsu' too; expected each GB/T 2260 code once: a code "
     "names one province"),
    ('Anhui: {code: "340000"', 'Anhui: {region: west, code: "340000"', "Anhui: {region: west",
     "provinces.Anhui.region: 'west' is not the region of its parks (central); expected central, or no `region` "
     "(a host province's region is its parks')"),
    ("name_en: Wuhu ETDZ}", 'name_en: " "}', 'name_en: " "}',
     "parks.wuhu.name_en: got ' '; expected a name (text that is not blank)"),
    ("name_zh: 浙江省}", "name_zh: 12}", "name_zh: 12}", "provinces.Zhejiang.name_zh: got 12; expected text"),
    ("steel: {code", "steel: {colour: red, code", "colour: red",
     "sectors.steel.colour: unknown key; expected one of: code, name_zh, name_en, description"),
])
def test_bad_names_and_codes_give_one_clear_line(tmp_path, old, new, needle, message):
    assert TEXT.count(old) == 1, old
    text = TEXT.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    errors = result.stderr.strip().splitlines()
    assert result.exit_code == 2
    assert errors == [f"error: {path}:{line_of(text, needle)}: {message}"]


def test_the_china_instance_names_and_codes_everything():
    inst = load(str(INSTANCES / "china-east-west.yaml")).instance
    table = inst.provinces
    places = list(dict.fromkeys([*(i.origin for i in inst.industries), *(p.province for p in inst.parks)]))
    assert len(places) == 24
    for q in places:
        assert table[q].code and table[q].name_zh and table[q].name_en, q
    assert len({table[q].code for q in places}) == len(places)
    assert table["Guangxi"].code == "450000" and table["Guangxi"].name_zh == "广西壮族自治区"
    assert table["Beijing"].code == "110000" and table["Ningxia"].code == "640000"
    for s in {i.sector for i in inst.industries}:
        assert inst.sectors[s].code and inst.sectors[s].name_zh and inst.sectors[s].name_en, s
    assert inst.sectors["steel"].code == "C31" and inst.sectors["auto_parts"].code == "C36"
    assert all(item.name_zh and item.name_en for item in [*inst.parks, *inst.industries])
    zh = Labels(inst, "zh")
    assert zh.park("wuhu") == "芜湖经济技术开发区" and zh.industry("shanghai_electronics") == "上海 电子"
    # Host provinces listed for their names keep the region of their parks.
    assert jurisdictions.regions(inst)["Anhui"] == "central" and jurisdictions.regions(inst)["Guangxi"] == "west"



def test_a_park_outside_its_provinces_region_is_refused(tmp_path):
    """A province in two regions, settled by the table: its park in the other region would count in
    rules on both (through its province, and by its own region), so it is refused at that park."""
    text = TEXT.replace("{id: ganzhou, province: Jiangxi, region: central",
                        "{id: ganzhou, province: Anhui, region: west")
    text = text.replace('Anhui: {code: "340000"', 'Anhui: {region: central, code: "340000"')
    assert text.count("province: Anhui, region: west") == 1 and text.count("Anhui: {region: central") == 1
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "id: ganzhou" in t)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {path}:{line}: parks.ganzhou.region: 'west', while provinces.Anhui.region is 'central': a park's "
        "region is its province's (the park would count in rules on both regions); expected 'central'"]


def test_a_table_region_none_of_its_disagreeing_parks_has_asks_for_one_region(tmp_path):
    """Parks of Anhui in central and west, the table saying east: the hint named 'central, west',
    each of which the stricter rule then refused; it asks for the one region they must share."""
    text = TEXT.replace("{id: ganzhou, province: Jiangxi, region: central",
                        "{id: ganzhou, province: Anhui, region: west")
    text = text.replace('Anhui: {code: "340000"', 'Anhui: {region: east, code: "340000"')
    path = tmp_path / "three.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert ("provinces.Anhui.region: 'east' is not the region of its parks (central, west); expected its parks in "
            "one region, and that one here (or no `region`: its parks')") in result.stderr
