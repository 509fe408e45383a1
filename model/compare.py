"""Compare results folders side by side: KPIs, allocations, parks, binding rows and the inputs.

Everything is read from the folders (`kpis.json`, `allocations.csv`, `parks.csv`, `limits.csv`,
`run.json`, `instance.json`), so runs from different instances, scenarios or machines compare
alike. The first run is the reference of every difference.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from model.errors import InputError, Problem
from model.schema import text_flag, text_number

# Two figures closer than this are the same figure: HiGHS stops a MIP at an absolute gap of 1e-6
# (mip_abs_gap) even at --mip-gap 0, and sums carry round-off of about 1e-9 relative.
ABS_TOLERANCE = 1e-6
REL_TOLERANCE = 1e-9

VERDICTS = {
    "reference": "the run every other is compared with",
    "effect": "the optima differ: the interval of the difference excludes 0",
    "within tolerance": "within solver tolerance: the proven gaps allow a difference of 0 (not proven different)",
    "no difference": "the same optimum, proven (both gaps closed)",
    "unknown": "a run reports no bound (or no plan): the difference cannot be judged",
    "not comparable": "the objectives are not in the same terms (other periods or discount rate, other money): "
                      "no difference is judged",
}


@dataclass
class Verdict:
    """How far the objective difference of a run from the reference is proven.

    Each run's optimum lies in [bound, objective] (minimisation), so the difference of the optima
    lies in [low, high] = [bound − objective_ref, objective − bound_ref]. `verdict` is one of
    VERDICTS; `noise` says whether the run's other differences (KPIs, allocations, parks, binding
    rows) may be solver noise rather than effects: a near-optimal plan of the same instance could
    differ as much. `alternative_optima`: both runs proven optimal with the same optimum and the
    same inputs, so plans that differ are alternative optima of one problem."""

    run: str  # label
    reference: str  # label of the reference run
    objective: float | None
    bound: float | None
    gap: float | None
    delta: float | None  # objective − the reference's (as reported: incumbents)
    low: float | None  # the least the difference of the optima can be
    high: float | None  # the most it can be
    verdict: str  # one of VERDICTS
    noise: bool  # the other differences may be solver noise
    alternative_optima: bool = False
    proven: bool = False  # figures of a re-solve (--prove), not of the folder
    sentence: str = ""  # the verdict in words, for the terminal and reports

    def as_row(self) -> dict[str, Any]:
        return {"run": self.run, "reference": self.reference, "objective": self.objective, "bound": self.bound,
                "gap": self.gap, "delta": self.delta, "delta_low": self.low, "delta_high": self.high,
                "verdict": self.verdict, "may_be_noise": self.noise, "alternative_optima": self.alternative_optima,
                "proven_by_resolve": self.proven, "meaning": self.sentence}


@dataclass
class Comparison:
    """Results folders side by side; the first run is the reference.

    Tables (DataFrames, written as CSV by `--out`; see `tables()`):
        kpis        kpi, one column per run (its label), then per other run `delta L`, `delta % L`
                    (against the reference, in % of its absolute value) and `verdict L` (on the
                    objective row the verdict, with `interval L`; on the other rows "may be solver
                    noise" where the objective difference is not proven)
        verdicts    one row per run: `Verdict.as_row()`
        allocations industry, park (and period of the move), modules per run: rows that differ
        parks       park, open and modules hosted per run: rows that differ
        binding     row (park/resource or rule/sense), binding per run: rows that differ
        inputs      key, value per run: input keys that differ
        rollups     name -> table: `received_by_province`, `received_by_region` (modules placed at
                    the parks of each province and region), `sent_by_province` (modules leaving
                    each origin province): one column per run and `delta L`; `ledger` (when every
                    run has ledger.csv): jurisdiction, level, measure, unit, the plan value per run
                    and `delta L`, for the measures LEDGER_MEASURES and the transfers between
                    provinces (received, net; the last period's with periods)
    Other fields:
        labels      a label per run: scenario and --set overlays from run.json (`base`,
                    `tight_cod + parks.wuhu.capacity.cod=3`), the folder's name added only to tell
                    runs with the same label apart; they name the tables' columns
        folders     label -> the folder the run was read from
        verdicts    label -> Verdict (the reference's is "reference")
        proven      label -> the re-solve's Outcome (`--prove`); the run's figures are its figures
        summary     sentences saying what is proven and what may be noise, for the terminal
        notes       what makes the runs' figures not comparable
        checks      label -> what the independent checker finds wrong with the run's plan
    """

    labels: list[str]
    checks: dict[str, list[str]]  # run -> what the independent checker says is wrong with its plan
    kpis: pd.DataFrame
    allocations: pd.DataFrame
    parks: pd.DataFrame
    binding: pd.DataFrame
    inputs: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    folders: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    rollups: dict[str, pd.DataFrame] = field(default_factory=dict)
    proven: dict[str, Any] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The runs' labels (the name of the field before labels came from run.json)."""
        return self.labels

    def verdict_table(self) -> pd.DataFrame:
        return pd.DataFrame([v.as_row() for v in self.verdicts.values()],
                            columns=list(Verdict("", "", None, None, None, None, None, None, "", False).as_row()))

    def tables(self) -> dict[str, pd.DataFrame]:
        # The notes go with the files: a table handed over without them reads as comparable figures.
        notes = {"notes.csv": pd.DataFrame({"note": self.notes})} if self.notes else {}
        return {"kpis.csv": self.kpis, "verdicts.csv": self.verdict_table(), "allocations.csv": self.allocations,
                "parks.csv": self.parks, "binding.csv": self.binding, "inputs.csv": self.inputs,
                **{f"{name}.csv": table for name, table in self.rollups.items()}, **notes}


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys as `--set` writes them: lists of items with an `id` by id, other lists whole."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and all(isinstance(v, dict) and "id" in v for v in data):
        for item in data:
            out.update(flatten({k: v for k, v in item.items() if k != "id"}, f"{prefix}.{item['id']}"))
    else:
        out[prefix] = data
    return out


def _runs(folders: list[Path], read: list[Any] | None) -> list[dict[str, Any]]:
    """The runs as compare works on them (file name -> content), from `model.runfolder.read_run`
    (its plan re-checked by the independent checker), or from runs a caller read already."""
    from model.runfolder import read_run

    out = []
    for r in read if read is not None else [read_run(f) for f in folders]:
        if not r.has_plan:
            raise InputError([Problem(str(r.folder), "(results folder)", f"the run has no plan ({r.kpis['status']})",
                                      "a run that found a plan")])
        out.append({"kpis.json": r.kpis, "run.json": r.run, "instance.json": r.raw, **r.tables,
                    "folder": str(r.folder), "check": r.check, "edited": r.edited_note})
    return out


def _value(text: Any) -> str:
    return text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)


def label(run_json: dict[str, Any]) -> str:
    """A run's name from run.json: its scenario (`base` without one) and its --set overlays."""
    scenario = run_json.get("scenario")
    name = scenario if isinstance(scenario, str) and scenario else "base"
    overlays = run_json.get("overlays")
    sets = [o for o in overlays if isinstance(o, dict) and o.get("origin") == "--set"] \
        if isinstance(overlays, list) else []
    pareto = run_json.get("pareto") if isinstance(run_json.get("pareto"), dict) else {}
    point = [f"{pareto.get('x')} {pareto.get('relation', '≤')} {pareto['epsilon']:.6g}"] \
        if isinstance(pareto.get("epsilon"), (int, float)) else []
    return " + ".join([name, *(f"{o.get('key')}={_value(o.get('value'))}" for o in sets), *point])


def labels(runs: list[dict[str, Any]], folders: list[Path]) -> list[str]:
    """Each run's label; runs of different instances are prefixed with the instance's name; runs
    that would share a label get their folder's name (its path if that is shared too)."""
    names = [label(r["run.json"]) for r in runs]
    instances = [str(r["instance.json"].get("name", "")) for r in runs]
    if len(set(instances)) > 1:
        names = [f"{i}: {n}" if i else n for i, n in zip(instances, names)]
    for attempt in (lambda f: Path(f).name, lambda f: str(f)):
        twice = {n for n in names if names.count(n) > 1}
        if not twice:
            break
        names = [f"{n} ({attempt(f)})" if n in twice else n for n, f in zip(names, folders)]
    return names


def _zero(*values: float | None) -> float:
    """What counts as 0 for figures of this size."""
    return ABS_TOLERANCE + REL_TOLERANCE * max([abs(v) for v in values if v is not None] or [0.0])


def objective_unit(kpis_json: dict[str, Any], units: Any) -> str:
    """The unit of a run's objective: the instance's money, unless the run minimised one KPI of
    another unit alone (a Pareto point's or a lexicographic run's last level, `objective_weights`
    of one term weighted ±1): then that KPI's unit (`kt CO2`; a benefit is minimised as its
    negative). Priced terms (CO2 at a carbon price) make money, as the instance's objective does."""
    from model.kpis import registry

    units = units if isinstance(units, dict) else {}
    money = str(units.get("money", "million yuan"))
    weights = kpis_json.get("objective_weights")
    terms = {t: w for t, w in weights.items() if w} if isinstance(weights, dict) else {}
    if len(terms) != 1:
        return money
    (term, weight), = terms.items()
    kpi = registry().get(term.partition("@")[0])
    word = kpi.unit if kpi is not None else "money"
    if word == "money" or abs(weight) != 1:
        return money
    unit = str(units.get(word, word))
    return unit if weight > 0 else f"{unit}, of its negative (−{term} is minimised)"


def judge(ref: dict[str, Any], run: dict[str, Any], ref_label: str, run_label: str, same_inputs: bool,
          proven: bool = False) -> Verdict:
    """The verdict on the objective difference of `run` from `ref` (their kpis.json)."""
    ka, kb = ref["kpis.json"], run["kpis.json"]
    oa, ob, ba, bb = ka.get("objective"), kb.get("objective"), ka.get("bound"), kb.get("bound")
    finite = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (ba, bb))
    delta = ob - oa if oa is not None and ob is not None else None
    base = dict(run=run_label, reference=ref_label, objective=ob, bound=bb, gap=kb.get("gap"), delta=delta,
                proven=proven)
    apart = _apart(ref, run)
    if apart:  # whatever the bounds: figures in other terms are not compared
        return Verdict(**base, low=None, high=None, verdict="not comparable", noise=True,
                       sentence=f"{run_label}: objective {'not known' if delta is None else _num(delta)}, not "
                                f"comparable with {ref_label}'s: {apart}; no difference is judged")
    if delta is None or not finite:
        missing = [n for n, k in ((ref_label, ka), (run_label, kb)) if k.get("objective") is None
                   or not isinstance(k.get("bound"), (int, float))]
        return Verdict(**base, low=None, high=None, verdict="unknown", noise=True,
                       sentence=f"{run_label}: objective difference {'not known' if delta is None else _num(delta)}: "
                                f"{', '.join(missing) or 'a run'} reports no {'plan' if delta is None else 'bound'}, "
                                "so the difference is not proven; the differences below may be solver noise")
    low, high = bb - oa, ob - ba
    eps = _zero(oa, ob)
    units = run["instance.json"].get("units") if isinstance(run.get("instance.json"), dict) else None
    shown = f"{_num(delta)} {objective_unit(kb, units)} (the optima differ by {_num(low)} to {_num(high)})"
    if low > eps or high < -eps:
        verdict, noise = "effect", False
        sentence = (f"{run_label}: objective {shown}: an effect, proven by the gaps "
                    f"({_pct(ka.get('gap'))} and {_pct(kb.get('gap'))})")
    elif max(abs(low), abs(high)) <= eps:
        verdict, noise = "no difference", False
        sentence = f"{run_label}: the same optimum as {ref_label}, proven (both gaps closed)"
    else:
        verdict, noise = "within tolerance", True
        sentence = (f"{run_label}: objective {shown}: within solver tolerance (gaps {_pct(ka.get('gap'))} and "
                    f"{_pct(kb.get('gap'))}): not proven different; its other differences may be solver noise "
                    "(--prove re-solves to a gap that tells)")
    alternative = verdict == "no difference" and same_inputs
    if alternative:
        sentence += "; same inputs: plans that differ are alternative optima"
    elif verdict == "no difference":
        sentence += "; plans that differ may be alternative optima"
    return Verdict(**base, low=low, high=high, verdict=verdict, noise=noise, alternative_optima=alternative,
                   sentence=sentence)


def _apart(ref: dict[str, Any], run: dict[str, Any]) -> str:
    """Why two runs' objectives are not in the same terms ("" when they are): present values over
    other periods or at another discount rate (or one year's values against them), or money in
    other units."""
    ka, kb = ref["kpis.json"], run["kpis.json"]
    if json.dumps(ka.get("periods")) != json.dumps(kb.get("periods")) or ka.get("discount_rate") != kb.get(
            "discount_rate"):
        return "their periods or discount rates differ"
    units = [(r.get("instance.json") or {}).get("units") or {} for r in (ref, run)]
    if units[0].get("money", "million yuan") != units[1].get("money", "million yuan"):
        return "their money is in different units"
    return ""


def _num(value: float) -> str:
    from model.report import _fmt

    return ("+" if value > 0 else "") + _fmt(float(value), scale=abs(value))


def _pct(gap: Any) -> str:
    return "unknown" if not isinstance(gap, (int, float)) else f"{gap:.2g}" if gap < 1e-4 and gap else f"{gap:.2%}"


def _inputs(runs: list[dict[str, Any]], names: list[str]) -> tuple[pd.DataFrame, list[bool]]:
    """Input keys that differ, and whether each run's inputs are the reference's."""
    # What was solved beyond the instance is an input too: a Pareto point's ε and its levels, and
    # the objective a point or a lexicographic run reports (without them two points of one front
    # would have the same inputs, and their differences would pass for alternative optima).
    flat = [{**flatten(r["instance.json"]),
             **flatten({"(solved)": {"pareto": r["run.json"].get("pareto"),
                                     "objective_weights": r["kpis.json"].get("objective_weights")}})}
            for r in runs]
    keys = sorted(set().union(*flat))
    diff_rows = []
    same = [True] * len(runs)
    for key in keys:
        values = [f.get(key, "(absent)") for f in flat]
        texts = [json.dumps(_as_read(v), sort_keys=True) for v in values]
        if any(t != texts[0] for t in texts[1:]):
            diff_rows.append({"key": key, **{n: v for n, v in zip(names, values)}})
            for n, t in enumerate(texts):
                same[n] = same[n] and t == texts[0]
    return pd.DataFrame(diff_rows, columns=["key", *names]), same


def _as_read(value: Any) -> Any:
    """A value as validation reads it: instance.json keeps a CSV side table's cells as the text
    they were (`'10'`, `'1e1'`, `'false'`), an overlay's as numbers, so that the same number
    written two ways was "an input difference"."""
    if isinstance(value, str):
        number, flag = text_number(value.strip()), text_flag(value)
        return number if number is not None else flag if flag is not None else value
    elif isinstance(value, bool):
        return value
    elif isinstance(value, (int, float)):
        return float(value)
    elif isinstance(value, list):
        return [_as_read(v) for v in value]
    return value


def judge_all(runs: list[dict[str, Any]], names: list[str], proven: set[str] | None = None) -> dict[str, Verdict]:
    proven = proven or set()
    _, same = _inputs(runs, names)
    k = runs[0]["kpis.json"]
    out = {names[0]: Verdict(names[0], names[0], k.get("objective"), k.get("bound"), k.get("gap"), 0.0, None, None,
                             "reference", False, proven=names[0] in proven,
                             sentence=f"{names[0]}: the reference (gap {_pct(k.get('gap'))})")}
    for n in range(1, len(runs)):
        out[names[n]] = judge(runs[0], runs[n], names[0], names[n], same[n], names[n] in proven or names[0] in proven)
    return out


def _from_outcome(outcome: Any, before: dict[str, Any]) -> dict[str, Any]:
    """A run as `_read` gives it, from a re-solve's outcome (in memory)."""
    record = {**outcome.run_record(), "scenario": before["run.json"].get("scenario"),
              "overlays": before["run.json"].get("overlays", [])}
    run = {"kpis.json": outcome.summary(), "run.json": record, "instance.json": before["instance.json"],
           "check": (outcome.check.violations + outcome.check.mismatches) if outcome.check else [],
           "folder": before["folder"]}
    for name in ("allocations.csv", "parks.csv", "limits.csv", "ledger.csv"):
        if name in outcome.tables:
            # As a folder would give it back: empty cells are missing values.
            run[name] = outcome.tables[name].replace("", float("nan")).infer_objects()
    return run


def resolve(folder: Path, run: dict[str, Any], gap: float, time_limit: float | None) -> Any:
    """Re-solve a run from its instance.json with its formulation and back-end, at `gap`."""
    from model import Loaded
    from model.explain import rerun_options
    from model.loader import RawDoc
    from model.run import solve_instance
    from model.validate import validate

    build, options = rerun_options(folder, run["run.json"], gap, time_limit)
    raw = RawDoc(run["instance.json"], {}, str(folder / "instance.json"), "",
                 [o for o in run["run.json"].get("overlays", []) if isinstance(o, dict)])
    return solve_instance(Loaded(validate(raw), raw, run["run.json"].get("scenario")), build, options)


def compare(folders: list[Path], prove: float | None = None, time_limit: float | None = None,
            progress: Any = None, read: list[Any] | None = None) -> Comparison:
    """Compare results folders; with `prove` (a relative gap, 0 for proven optima), first re-solve
    every run in a comparison the gaps cannot tell (verdict within tolerance or unknown) whose
    gap is wider than `prove`, each within `time_limit` seconds, and compare the re-solved figures.
    `read`: the folders as `model.runfolder.read_run` gave them already (a report), not read again."""
    folders = [Path(f) for f in folders]
    runs = _runs(folders, read)
    names = labels(runs, folders)
    verdicts = judge_all(runs, names)
    proven: dict[str, Any] = {}
    summary = []
    if prove is not None:
        unclear = [n for n, name in enumerate(names[1:], 1)
                   if verdicts[name].verdict in ("within tolerance", "unknown")]
        todo = sorted({m for n in unclear for m in (0, n)})
        for n in todo:
            gap = runs[n]["kpis.json"].get("gap")
            if isinstance(gap, (int, float)) and gap <= prove and runs[n]["kpis.json"].get("bound") is not None:
                continue  # already as tight as asked
            if progress is not None:
                progress(f"re-solving {names[n]} ({folders[n]}) at mip_gap {prove:g}"
                         + (f" within {time_limit:g} s" if time_limit else ""))
            outcome = resolve(folders[n], runs[n], prove, time_limit)
            proven[names[n]] = outcome
            if outcome.result.has_solution:
                runs[n] = _from_outcome(outcome, runs[n])
            else:
                summary.append(f"{names[n]}: the re-solve found no plan ({outcome.result.status}); its folder's "
                               "figures are kept")
        if not unclear:
            summary.append("--prove: every difference is already proven by the runs' gaps; nothing was re-solved")
        verdicts = judge_all(runs, names, set(proven))
        for name in names[1:]:
            if name in [names[n] for n in unclear] and verdicts[name].verdict in ("within tolerance", "unknown"):
                gaps = ", ".join(f"{n} {_pct(runs[names.index(n)]['kpis.json'].get('gap'))}" for n in (names[0], name))
                summary.append(f"{name}: even re-solved (mip_gap {prove:g}"
                               + (f", {time_limit:g} s each" if time_limit else "")
                               + f") the runs are not separated: gaps {gaps}; the difference stays unproven")
    summary[:0] = [v.sentence for v in verdicts.values() if v.verdict != "reference"]
    return _build(runs, names, verdicts, proven, folders, summary)


LEDGER_MEASURES = ("modules", "value_added", "tax", "jobs", "co2")


def _with_deltas(table: pd.DataFrame, names: list[str], percent: bool = False) -> pd.DataFrame:
    """Delta columns (and percentages) of every run against the reference's column."""
    for name in names[1:]:
        a, b = pd.to_numeric(table[names[0]], errors="coerce"), pd.to_numeric(table[name], errors="coerce")
        table[f"delta {name}"] = b - a
        if percent:
            table[f"delta % {name}"] = ((b - a) / a.abs().where(a.abs() > 1e-12)) * 100
    return table


def _rollups(runs: list[dict[str, Any]], names: list[str]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, by in (("received_by_province", "province"), ("received_by_region", "region"),
                     ("sent_by_province", "origin")):
        columns = []
        for r, n in zip(runs, names):
            a = r["allocations.csv"]
            a = a[a["park"].notna() & (a["park"].astype(str) != "")]
            if by not in a:  # an older allocations.csv: the park's province and region from the instance
                parks = {p.get("id"): p.get(by) for p in r["instance.json"].get("parks", []) if isinstance(p, dict)}
                a = a.assign(**{by: a["park"].map(parks)})
            columns.append(a.groupby(by)["modules"].sum().rename(n))
        table = pd.concat(columns, axis=1).fillna(0.0)
        table.index.name = "province" if by == "origin" else by
        out[name] = _with_deltas(table.reset_index(), names)
    if all("ledger.csv" in r for r in runs):
        from model.transfers import measures

        # What moves between provinces too (side payments, eco-compensation, enclave shares,
        # allowances): who pays under a scenario is the question a comparison of ledgers asks.
        transfers = measures()
        shown = (*LEDGER_MEASURES, *transfers)
        parts = []
        for r, n in zip(runs, names):
            led = r["ledger.csv"]
            if "period" in led and len(led):
                led = led[led["period"].astype(str) == str(led["period"].iloc[-1])]
            led = led[led["level"].isin(["province", "region"]) & led["measure"].isin(shown)]
            parts.append(led.set_index(["jurisdiction", "level", "measure", "unit"])["plan"].rename(n))
        table = pd.concat(parts, axis=1)
        # A transfer a run does not make (no side payments in the base) is 0 there, not unknown.
        moved = table.index.get_level_values("measure").isin(list(transfers))
        table.loc[moved] = table.loc[moved].fillna(0.0)
        out["ledger"] = _with_deltas(table.reset_index(), names)
    return out


def _build(runs: list[dict[str, Any]], names: list[str], verdicts: dict[str, Verdict], proven: dict[str, Any],
           folders: list[Path], summary: list[str]) -> Comparison:
    checks = {n: r["check"] for r, n in zip(runs, names)}

    kpi_rows: dict[str, list[Any]] = {}
    for n, run in enumerate(runs):
        k = run["kpis.json"]
        values = {"status": k["status"], "check": "fails" if checks[names[n]] else "ok",
                  "objective": k["objective"], "bound": k.get("bound"), "gap": k["gap"], **k["kpis"]}
        for key, value in values.items():
            kpi_rows.setdefault(key, [None] * len(runs))[n] = value
    kpis = pd.DataFrame.from_dict(kpi_rows, orient="index", columns=names)
    kpis.index.name = "kpi"
    kpis = _with_deltas(kpis, names, percent=True)
    for name in names[1:]:
        v = verdicts[name]
        col = pd.Series("", index=kpis.index, dtype=object)
        if v.noise:
            numeric = pd.to_numeric(kpis[f"delta {name}"], errors="coerce").abs() > 0
            # not comparable: no KPI of the two is in the same terms either (other periods, other money)
            col[numeric] = "not comparable" if v.verdict == "not comparable" else "may be solver noise"
        col["objective"] = v.verdict
        kpis[f"verdict {name}"] = col
        interval = pd.Series("", index=kpis.index, dtype=object)
        if v.low is not None and v.high is not None:
            interval["objective"] = f"[{v.low:.10g}, {v.high:.10g}]"
        kpis[f"interval {name}"] = interval
    kpis = kpis.reset_index()

    # Runs over the same periods differ in when modules move as well as where.
    timed = all("period" in r["allocations.csv"] for r in runs)

    def placed(run: dict[str, Any]) -> pd.Series:
        a = run["allocations.csv"]
        # Staying and closing both leave the park empty; the fate tells them apart.
        fill = pd.Series("(stays)", index=a.index)
        if "fate" in a:
            fill = fill.mask(a["fate"].eq("retired"), "(closes)")
        a = a.assign(park=a["park"].fillna(fill))
        if timed:
            a = a.assign(period=a["period"].fillna(""))
        return a.groupby(["industry", "park", *(["period"] if timed else [])])["modules"].sum()

    alloc = pd.concat([placed(r).rename(n) for r, n in zip(runs, names)], axis=1).fillna(0.0)
    alloc = alloc[(alloc.max(axis=1) - alloc.min(axis=1)).abs() > 1e-9].reset_index()

    def hosting(run: dict[str, Any]) -> pd.DataFrame:
        a = run["allocations.csv"].dropna(subset=["park"])
        modules = a.groupby("park")["modules"].sum()
        opened = run["parks.csv"].groupby("park", sort=False)["open"].max()  # open by the end
        return pd.DataFrame({"open": opened, "modules": modules.reindex(opened.index).fillna(0.0)})

    hosts = [hosting(r) for r in runs]
    parks = pd.concat([h.add_suffix(f" {n}") for h, n in zip(hosts, names)], axis=1).fillna(0)
    open_cols = [f"open {n}" for n in names]
    module_cols = [f"modules {n}" for n in names]
    changed = (parks[open_cols].nunique(axis=1) > 1) | ((parks[module_cols] > 0).nunique(axis=1) > 1)
    parks = parks[changed].reset_index(names="park")

    def binding(run: dict[str, Any]) -> pd.Series:
        p = run["parks.csv"]
        # Rows are named as the model names them: component[index], one per row of the model.
        rows = {f"{r.component}[{r.index}]": bool(r.binding) for r in p.itertuples()}
        for r in run["limits.csv"].itertuples():
            rows[f"{r.component}[{r.index}]"] = bool(r.binding)
        return pd.Series(rows, dtype=bool)

    bind = pd.concat([binding(r).rename(n) for r, n in zip(runs, names)], axis=1)
    bind = bind.astype("boolean")
    bind = bind[bind.nunique(axis=1, dropna=False) > 1].reset_index(names="row")

    inputs, _ = _inputs(runs, names)
    notes = []
    horizons = {n: (json.dumps(r["kpis.json"].get("periods")), r["kpis.json"].get("discount_rate"))
                for r, n in zip(runs, names)}
    if len(set(horizons.values())) > 1:
        notes.append("the runs are not over the same periods and discount rate: their KPIs (present values over "
                      "the periods, or one year's values without periods) are not comparable: "
                      + "; ".join(f"{n}: {json.loads(h) and [p['id'] for p in json.loads(h)] or 'one period'}"
                                  + (f" at {rate:g}" if rate is not None else "") for n, (h, rate) in horizons.items()))
    instances = {n: str(r["instance.json"].get("name", "")) for r, n in zip(runs, names)}
    money = {n: json.dumps((r["instance.json"].get("units") or {}).get("money", "million yuan"))
             for r, n in zip(runs, names)}
    if len(set(instances.values())) > 1 or len(set(money.values())) > 1:
        notes.append("the runs are of different instances (" + ", ".join(dict.fromkeys(instances.values()))
                     + "): their differences are between instances, not the effect of a change, and their money may "
                     "be in different units (" + ", ".join(dict.fromkeys(json.loads(m) for m in money.values()))
                     + ")")
    notes += [f"{n}: {r['edited']}, shown as the folder holds them (the plan is re-checked)"
              for r, n in zip(runs, names) if r.get("edited")]
    if any(r["kpis.json"].get("levels") for r in runs):
        notes.append("a lexicographic run's bound is its last level's, given the earlier levels as solved: the "
                     "intervals of its objective difference hold for that level only")
    return Comparison(names, checks, kpis, alloc, parks, bind, inputs, notes,
                      folders={n: str(f) for n, f in zip(names, folders)}, verdicts=verdicts,
                      rollups=_rollups(runs, names), proven=proven, summary=summary)


def _short(name: str, most: int = 100) -> str:
    """A folder's name cut to `most` bytes (file systems allow 255), kept apart from other names
    cut alike by a hash of the whole; checked up front, a long name failed only after the re-solves."""
    if len(name.encode("utf-8", "surrogateescape")) <= most:
        return name
    cut = name.encode("utf-8", "surrogateescape")[:most - 13].decode("utf-8", "ignore")
    return f"{cut}-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"


def write(out: Path, result: Comparison, checked: bool = False) -> list[str]:
    """The comparison's tables as CSV in `out` (a comparison folder, written whole), and each
    re-solved run (--prove) as a results folder `proven-<n>-<folder name>` inside it. Returns
    the names of those sub-folders. `checked`: `out` was checked before the comparison (`Folder`)."""
    from model.outputs import Folder
    from model.run import write_outcome

    subs = []
    with Folder(Path(out), "comparison", checked=checked) as tmp:
        for name, table in result.tables().items():
            table.to_csv(tmp / name, index=False, float_format="%.10g")
        for n, name in enumerate(result.labels, 1):
            outcome = result.proven.get(name)
            if outcome is None:
                continue
            sub = f"proven-{n}-{_short(Path(result.folders[name]).name)}"
            record = {**outcome.run_record(), "proven_from": result.folders[name]}
            write_outcome(outcome, tmp / sub, extra={"run.json": record})
            subs.append(sub)
    return subs
