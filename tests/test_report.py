"""The reports: the HTML page in a real browser, the Excel workbook read back, `solve --report`.

The browser test opens the page in headless Chromium (Debian's chromium and chromium-driver,
which `.ci/run` installs) and fails on any console error, on a chart that did not render or a
table DataTables did not fill. Without the browser it is skipped, saying so, except where
REQUIRE_BROWSER=1 (CI), where a missing browser fails it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from cli import main
from model import load

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "instances" / "demo.yaml"
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def cli(*args: str) -> Result:
    """The command line in this process (as the other tests run it: a second start of Python and
    plotly for each command would cost a second apiece)."""
    result = CliRunner().invoke(main, list(args))
    result.returncode = result.exit_code  # type: ignore[attr-defined]
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo solved as it is and under `tight_cod`, each with its report written by `solve --report`."""
    tmp = tmp_path_factory.mktemp("report")
    base, tight = tmp / "base", tmp / "tight"
    for folder, extra in ((base, []), (tight, ["--scenario", "tight_cod"])):
        got = cli("solve", str(DEMO), *extra, "--mip-gap", "0", "--report", "--out", str(folder))
        assert got.returncode == 0, got.stderr
    return base, tight


def test_solve_report_writes_both_files_into_the_results_folder(runs: tuple[Path, Path]) -> None:
    base, _ = runs
    from model.outputs import manifest

    listed = manifest(base)["files"]
    assert {"report.html", "report.xlsx"} <= set(listed)
    page = (base / "report.html").read_text(encoding="utf-8")
    # Self-contained: no script or stylesheet named by address (the browser test proves nothing is fetched).
    assert "<script src=" not in page and "<link " not in page and "<h1>demo: base</h1>" in page
    # Made before the folder's marker is written: its files are this solve's, not "not written by this tool".
    assert "not as this tool wrote" not in page and "passed: the plan" in page


def test_workbook_round_trip(runs: tuple[Path, Path]) -> None:
    """Every sheet reads back with pandas, the same rows and values as the CSV files, units in headers."""
    base, _ = runs
    sheets = pd.read_excel(base / "report.xlsx", sheet_name=None)
    kpis = json.loads((base / "kpis.json").read_text())
    assert list(sheets)[:2] == ["manifest", "kpis"]
    manifest = dict(zip(sheets["manifest"]["key"], sheets["manifest"]["value"]))
    assert manifest["status"] == "optimal" and manifest["label"] == "base"
    assert float(manifest["objective"]) == kpis["objective"]  # full precision kept
    assert math.isclose(float(manifest["objective"]), 49.6, rel_tol=1e-9)  # by hand in demo.yaml
    assert dict(zip(sheets["kpis"]["kpi"], sheets["kpis"]["value"]))["objective"] == pytest.approx(49.6)
    assert dict(zip(sheets["kpis"]["kpi"], sheets["kpis"]["unit"]))["value_added"] == "million yuan"
    for name in ("allocations", "parks", "limits", "ledger"):
        csv = pd.read_csv(base / f"{name}.csv", keep_default_na=False, na_values=[""])
        sheet = sheets[name]
        assert len(sheet) == len(csv), name
        # Headers carry units: `value_added [million yuan]`; stripped, they are the CSV's columns.
        assert [c.split(" [")[0] for c in sheet.columns] == list(csv.columns), name
        for col, header in zip(csv.columns, sheet.columns):
            if pd.api.types.is_numeric_dtype(csv[col]) and not pd.api.types.is_bool_dtype(csv[col]):
                assert sheet[header].to_numpy() == pytest.approx(csv[col].to_numpy(), nan_ok=True), (name, col)
    assert "value_added [million yuan]" in sheets["allocations"].columns
    assert "modules [modules]" in sheets["allocations"].columns

    from openpyxl import load_workbook

    book = load_workbook(base / "report.xlsx")
    assert all(ws.freeze_panes == "A2" for ws in book.worksheets)
    for name in ("allocations", "parks"):  # whole numbers with thousands; others two decimals shown, all kept
        for n, col in enumerate(sheets[name].columns, start=1):
            values = sheets[name][col]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) \
                    and col != "utilisation":
                small = any(0 < abs(v) < 0.005 for v in values.dropna())  # 0.00 would hide them
                expected = "#,##0" if pd.api.types.is_integer_dtype(values) else ("General" if small else "#,##0.00")
                assert book[name].cell(row=2, column=n).number_format == expected, (name, col)
    assert book["parks"].cell(row=2, column=list(sheets["parks"].columns).index("utilisation") + 1
                              ).number_format == "0.00%"


def test_comparison_workbook_and_labels(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """Two runs: the comparison's tables, each run's manifest, the runs named by their scenarios."""
    base, tight = runs
    got = cli("report", str(base), str(tight), "--xlsx", str(tmp_path / "c.xlsx"), "--html", str(tmp_path / "c.html"))
    assert got.returncode == 0, got.stderr
    sheets = pd.read_excel(tmp_path / "c.xlsx", sheet_name=None)
    assert set(sheets["manifest"]["run"]) == {"base", "tight_cod"}
    kpis = sheets["kpis"].set_index("kpi")
    assert float(kpis.at["objective", "base"]) == pytest.approx(49.6)
    assert float(kpis.at["objective", "tight_cod"]) == pytest.approx(61.6)  # by hand in demo.yaml
    assert dict(zip(kpis.index, kpis["unit"]))["value_added"] == "million yuan"
    assert set(sheets["received_by_region"]["unit"]) == {"modules"}
    # Each run's own tables follow, numbered as in the manifest, with the CSV's values.
    for n, folder in ((1, base), (2, tight)):
        csv = pd.read_csv(folder / "allocations.csv", keep_default_na=False, na_values=[""])
        sheet = sheets[f"{n} allocations"]
        assert len(sheet) == len(csv)
        assert sheet["modules [modules]"].tolist() == pytest.approx(csv["modules"].tolist())
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "Comparison: base vs tight_cod" in page


def test_report_refuses_what_it_should(runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, _ = runs
    got = cli("report", str(base))
    assert got.returncode == 2 and got.stderr.count("\n") == 1 and "--html PATH" in got.stderr
    kept = tmp_path / "mine.html"
    kept.write_text("the user's own page")
    got = cli("report", str(base), "--html", str(kept))
    assert got.returncode == 2 and "exists already" in got.stderr and "Traceback" not in got.stderr
    assert kept.read_text() == "the user's own page"
    got = cli("report", str(tmp_path / "nowhere"), "--html", str(tmp_path / "r.html"))
    assert got.returncode == 2 and got.stderr.count("\n") == 1 and not (tmp_path / "r.html").exists()
    got = cli("report", str(base), "--html", str(tmp_path / "same"), "--xlsx", str(tmp_path / "same"))
    assert got.returncode == 2 and "same file" in got.stderr


def _browser() -> object:
    if not (CHROMIUM.exists() and DRIVER.exists()):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"REQUIRE_BROWSER is set but {CHROMIUM} or {DRIVER} is missing (see .ci/run)")
        pytest.skip(f"no browser: {CHROMIUM} and {DRIVER} (Debian's chromium, chromium-driver) are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # No network: the page must need none; these flags keep Chromium from trying its own services.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(str(DRIVER)), options=options)


RENDERED = """
const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
return {
  plots: plots.length,
  empty: plots.filter(p => !p.querySelector('svg.main-svg') || p.getBoundingClientRect().height < 50).length,
  sankey_nodes: document.querySelectorAll('.sankey-node').length,
  points: document.querySelectorAll('.scatterlayer .point').length,
  heatmaps: document.querySelectorAll('.hm image').length,
  bars: document.querySelectorAll('.bars path').length,
  tables: document.querySelectorAll('table.dataTable').length,
  rows: document.querySelectorAll('table.dataTable tbody tr').length,
  title: document.title,
};
"""


@pytest.mark.parametrize("which", ["one", "two", "hostile"])
def test_report_in_a_real_browser(runs: tuple[Path, Path], tmp_path: Path, which: str) -> None:
    base, tight = runs
    page = tmp_path / "report.html"
    folders = [base] if which != "two" else [base, tight]
    if which == "hostile":  # names that are markup: shown as text, nothing runs, nothing is injected
        folders = [tmp_path / "hostile"]
        got = cli("solve", str(DEMO), "--set", f"parks.wuhu.name_en={json.dumps(HOSTILE[0])}",
                  "--set", f"parks.guangan.name_en={json.dumps('<b>bold</b><script>alert(2)</script>')}",
                  "--out", str(folders[0]))
        assert got.exit_code == 0, got.output
    got = cli("report", *map(str, folders), "--html", str(page), *(["--lang", "en"] if which == "hostile" else []))
    assert got.returncode == 0, got.stderr
    driver = _browser()
    try:
        driver.get(page.as_uri())
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.querySelectorAll('table.dataTable tbody tr').length > 0"))
        state = driver.execute_script(RENDERED)
        injected = driver.execute_script("return document.querySelectorAll('img[src=x], [onerror], b').length")
        shown = driver.execute_script("return document.body.innerText")
        from selenium.common.exceptions import NoAlertPresentException

        try:
            alert = driver.switch_to.alert.text
        except NoAlertPresentException:
            alert = None
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1400, min(int(height), 12000))
        shot = tmp_path / f"report-{which}.png"
        driver.save_screenshot(str(shot))
        if os.environ.get("REPORT_SCREENSHOTS"):
            target = Path(os.environ["REPORT_SCREENSHOTS"])
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, target / shot.name)
    finally:
        driver.quit()
    assert errors == [], errors
    assert alert is None and injected == 0
    if which == "hostile":  # the name is there, as the text it is
        assert HOSTILE[0] in shown
    runs_shown = len(folders)
    # Per run: the Sankey, the map, the heatmap and the ledger's bars; with two, the region bars too.
    assert state["plots"] == 4 * runs_shown + (runs_shown > 1), state
    assert state["empty"] == 0, state
    assert state["sankey_nodes"] > 0 and state["points"] > 0 and state["heatmaps"] == runs_shown, state
    assert state["bars"] > 0 and state["tables"] > 0 and state["rows"] > 0, state
    assert shot.stat().st_size > 10_000


def test_codes_and_names_beside_the_ids_of_the_china_instance() -> None:
    """The workbook and page put GB/T 2260 and GB/T 4754 codes beside province and sector columns,
    and names in the chosen language in place of the ids (the files keep the ids)."""
    from model import load
    from model.labels import Labels, relabel, with_codes

    inst = load(str(ROOT / "instances" / "china-east-west.yaml")).instance
    table = pd.DataFrame({"industry": ["hebei_steel"], "origin": ["Hebei"], "sector": ["steel"],
                          "park": ["wuhu"], "province": ["Anhui"], "modules": [1.0]})
    shown = relabel(with_codes(table, Labels(inst, "zh")), Labels(inst, "zh"))
    assert list(shown.columns) == ["industry", "origin", "origin_code", "sector", "sector_code", "park", "province",
                                   "province_code", "modules"]
    assert shown.iloc[0].tolist() == ["河北 钢铁", "河北省", "130000", "钢铁", "C31", "芜湖经济技术开发区", "安徽省",
                                      "340000", 1.0]
    assert relabel(table, Labels(inst, None)).equals(table)  # no language: the ids


HOSTILE = ("<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://evil.example\",\"x\")", "[/x]\x1b[2J\x0b\u202e")


def test_hostile_names_stay_text_in_the_terminal_the_page_and_the_sheet(tmp_path: Path) -> None:
    """Names that are markup, a formula, terminal escapes and a bidi override: the run and its report
    are written, the terminal shows them escaped, the sheet holds text (no formula), the page shows
    text (the browser test below checks nothing runs)."""
    got = cli("solve", str(DEMO), "--set", f"parks.wuhu.name_en={json.dumps(HOSTILE[0])}",
              "--set", f"industries.textiles_js.origin={json.dumps(HOSTILE[1])}",
              "--set", f"parks.guangan.name_en={json.dumps(HOSTILE[2])}",
              "--report", "--lang", "en", "--out", str(tmp_path / "h"))
    assert got.exit_code == 0, got.output
    assert "\x1b" not in got.output and "\\x1b[2J" in got.output and "warning" not in got.output
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "h" / "report.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == HOSTILE[1] for c in cells)  # kept as the text it is
    page = (tmp_path / "h" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "\x1b" not in page and "\u202e" not in page


def test_solve_report_keeps_a_run_without_a_plan(tmp_path: Path) -> None:
    """An infeasible run is written as without --report (exit 3, the diagnosis), its report says why."""
    got = cli("solve", str(DEMO), "--set", "parks.*.capacity.land=1", "--report", "--out", str(tmp_path / "inf"))
    assert got.exit_code == 3, got.output
    assert (tmp_path / "inf" / "diagnosis.json").is_file() and (tmp_path / "inf" / "report.html").is_file()
    page = (tmp_path / "inf" / "report.html").read_text(encoding="utf-8")
    assert "No plan" in page and "land short by" in page
    assert "none (no plan)" in page and "<td> million yuan" not in page  # no unit without a number


def test_a_workbook_keeps_the_tables_of_a_run_beside_one_without_a_plan(runs: tuple[Path, Path],
                                                                        tmp_path: Path) -> None:
    """The planned run's own sheets were dropped when another run had no plan."""
    base, _ = runs
    got = cli("solve", str(DEMO), "--set", "parks.*.capacity.land=1", "--out", str(tmp_path / "inf"))
    assert got.exit_code == 3, got.output
    got = cli("report", str(base), str(tmp_path / "inf"), "--xlsx", str(tmp_path / "w.xlsx"))
    assert got.returncode == 0, got.stderr
    sheets = pd.read_excel(tmp_path / "w.xlsx", sheet_name=None)
    csv = pd.read_csv(base / "allocations.csv", keep_default_na=False, na_values=[""])
    assert sheets["1 allocations"]["modules [modules]"].tolist() == pytest.approx(csv["modules"].tolist())


def test_a_phased_report_says_which_period_and_that_its_figures_are_present_values(tmp_path: Path) -> None:
    """The ledger and the heatmap show the last period; the cards and the Sankey present values."""
    import yaml

    data = yaml.safe_load(DEMO.read_text())
    data["periods"] = [{"id": "t1", "years": 2}, {"id": "t2", "years": 3}]
    path = tmp_path / "phased.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    got = cli("solve", str(path), "--mip-gap", "0", "--report", "--out", str(tmp_path / "run"))
    assert got.exit_code == 0, got.output
    page = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "in period t2 (the last: yearly amounts, and the one-off amounts of that period" in page
    assert "period t2 (the last)" in page and "present values over the periods" in page
    assert "value added (million yuan, present value)" in page and "million yuan a year" not in page


def test_the_ledger_bars_are_green_where_a_province_is_better_off() -> None:
    """More CO2 is no gain: a province whose CO2 grows was drawn green."""
    from model.htmlreport import _more_is_better

    assert [_more_is_better(m) for m in ("value_added", "tax", "jobs", "modules", "co2")] == [
        True, True, True, True, False]


def test_report_reads_only_what_solve_wrote(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """A link planted in a results folder, a table with wrong columns, a plan edited by hand (the
    record re-checks it), and an output inside a run folder: each one line, or a FAILS in the record."""
    base, _ = runs
    planted = tmp_path / "planted"
    shutil.copytree(base, planted)
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (planted / "timeline.png").symlink_to(tmp_path / "secret.txt")
    got = cli("report", str(planted), "--html", str(tmp_path / "p.html"))
    assert got.exit_code == 2 and "link" in got.stderr and not (tmp_path / "p.html").exists()

    columns = tmp_path / "columns"
    shutil.copytree(base, columns)
    (columns / "parks.csv").write_text("a,b\n1,2\n")
    got = cli("report", str(columns), "--html", str(tmp_path / "c.html"))
    assert got.exit_code == 2 and got.stderr.count("\n") == 1 and "missing column" in got.stderr

    edited = tmp_path / "edited"
    shutil.copytree(base, edited)
    alloc = pd.read_csv(edited / "allocations.csv", keep_default_na=False, na_values=[""])
    alloc.loc[alloc["park"].notna(), "park"] = "nowhere"
    alloc.to_csv(edited / "allocations.csv", index=False)
    got = cli("report", str(edited), "--html", str(tmp_path / "e.html"))
    assert got.exit_code == 0, got.output  # a plan that breaks the instance is reported, as failing
    page = (tmp_path / "e.html").read_text(encoding="utf-8")
    assert "FAILS" in page and "at nowhere: unknown park" in page and "passed (re-checked" not in page
    assert "warning: the plan of" in got.stderr and "at nowhere: unknown park" in got.stderr  # the terminal too

    negative = tmp_path / "negative"  # negative modules: no plan at all (rows are summed: -1 would hide), refused
    shutil.copytree(base, negative)
    alloc = pd.read_csv(negative / "allocations.csv", keep_default_na=False, na_values=[""])
    row = alloc["park"].notna().idxmax()
    alloc.loc[row, "modules"] = -1
    alloc.to_csv(negative / "allocations.csv", index=False)
    got = cli("report", str(negative), "--html", str(tmp_path / "n.html"))
    industry = alloc.loc[row, "industry"]
    total = {i.id: i.modules for i in load(str(DEMO)).instance.industries}[industry]
    assert got.exit_code == 2 and got.stderr.strip() == (
        f"error: {negative / 'allocations.csv'}:{row + 2}: modules: got -1; expected a number from 0 to the "
        f"industry's {total} modules") and not (tmp_path / "n.html").exists()

    got = cli("report", str(base), "--html", str(base / "kpis.json"), "--force")
    assert got.exit_code == 2 and "inside" in got.stderr
    assert json.loads((base / "kpis.json").read_text())["objective"] == pytest.approx(49.6)


def test_lang_zh_end_to_end_in_the_terminal_the_page_and_the_sheet(tmp_path: Path) -> None:
    """Names given in Chinese (a park, a province, a region) show under --lang zh in solve's
    terminal tables, the page and the workbook; the files keep the ids; a region no park has is
    refused as the typo it is."""
    names = ["--set", "parks.wuhu.name_zh=芜湖开发区", "--set", "provinces.Jiangsu.name_zh=江苏省",
             "--set", "regions.central.name_zh=中部地区"]
    got = cli("solve", str(DEMO), *names, "--report", "--lang", "zh", "--out", str(tmp_path / "zh"))
    assert got.exit_code == 0, got.output
    assert "芜湖开发区" in got.output and "江苏省" in got.output  # the allocations and the ledger
    page = (tmp_path / "zh" / "report.html").read_text(encoding="utf-8")
    assert "芜湖开发区" in page and "中部地区" in page and "江苏省" in page
    sheets = pd.read_excel(tmp_path / "zh" / "report.xlsx", sheet_name=None)
    assert "芜湖开发区" in set(sheets["allocations"]["park"]) and "中部地区" in set(sheets["allocations"]["region"])
    assert "wuhu" in set(pd.read_csv(tmp_path / "zh" / "allocations.csv")["park"])  # files keep ids
    # The binding rows' table names the park too (wuhu's land made binding: 4 ha, what the plan uses).
    got = cli("solve", str(DEMO), *names, "--set", "parks.wuhu.capacity.land=4", "--report", "--lang", "zh",
              "--out", str(tmp_path / "bind"))
    assert got.exit_code == 0, got.output
    parks = pd.read_csv(tmp_path / "bind" / "parks.csv")
    assert parks[parks["binding"]][["park", "resource"]].values.tolist() == [["wuhu", "land"]]
    page = (tmp_path / "bind" / "report.html").read_text(encoding="utf-8")
    assert "芜湖开发区: land 4 of 4 ha" in page and "wuhu: land" not in page
    got = cli("validate", str(DEMO), "--set", "regions.centrl.name_zh=中部")
    assert got.exit_code == 2 and "no park or province has region 'centrl'" in got.stderr


def test_tables_edited_since_solve_wrote_them_are_named(tmp_path: Path) -> None:
    """The report and compare show the folder's ledger, parks and limits as it holds them (only the
    plan and kpis.json are re-checked): one edited by hand is now named, in the terminal, on the
    page and among compare's notes. A copy (new modification times, the same content) is not."""
    base = tmp_path / "base"
    assert cli("solve", str(DEMO), "--out", str(base)).exit_code == 0
    copy = tmp_path / "copy"
    shutil.copytree(base, copy, copy_function=shutil.copy)  # as `cp -r`: the times are new
    got = cli("report", str(copy), "--html", str(tmp_path / "copy.html"))
    assert got.exit_code == 0 and "changed since" not in got.stderr
    edited = tmp_path / "edited"
    shutil.copytree(base, edited)
    ledger = pd.read_csv(edited / "ledger.csv", keep_default_na=False, na_values=[""])
    ledger.loc[0, "plan"] = 5000
    ledger.to_csv(edited / "ledger.csv", index=False)
    (edited / "diagnosis.json").write_text('{"relaxations": [{"text": "raise wuhu land by 1000"}]}')
    got = cli("report", str(edited), "--html", str(tmp_path / "edited.html"))
    assert got.exit_code == 0
    note = "files not as this tool wrote them: ledger.csv (changed), diagnosis.json (not written by this tool)"
    assert f"warning: {edited}: {note}, shown as the folder holds them" in got.stderr
    page = (tmp_path / "edited.html").read_text(encoding="utf-8")
    assert f"{note}, shown as the folder holds them" in page
    got = cli("compare", str(base), str(edited))
    assert got.exit_code == 0
    assert f"{note}, shown as the folder holds them (the plan is re-checked)" in " ".join(got.stderr.split())
    # An edit whose size and time were put back is still an edit: a solve into the folder is refused
    # (it replaced the edited file without a word); a copy with new times is still the tool's.
    stamp = os.stat(base / "ledger.csv")
    text = (base / "ledger.csv").read_text(encoding="utf-8")
    (base / "ledger.csv").write_text(text.replace("Anhui", "Anhuy", 1), encoding="utf-8")
    os.utime(base / "ledger.csv", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    got = cli("solve", str(DEMO), "--out", str(base))
    assert got.exit_code == 2 and "ledger.csv (changed since this tool wrote it)" in got.stderr
    assert "Anhuy" in (base / "ledger.csv").read_text(encoding="utf-8")
    assert cli("solve", str(DEMO), "--out", str(copy)).exit_code == 0
