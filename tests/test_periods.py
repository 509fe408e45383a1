"""Periods: small phased instances whose optimum is worked out by hand in each test's comment.

Every solve runs under each formulation and through the Pyomo reference back-end, and every plan
passes the independent checker, which re-verifies it period by period (see conftest.solve_data).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from model.check import check
from model.options import FORMULATIONS, BuildOptions
from model.plan import Plan
from tests.conftest import base, solve_data


@pytest.fixture(params=[*FORMULATIONS, "strong@pyomo"])
def formulation(request: pytest.FixtureRequest) -> str:
    return request.param


def phased(*years: int, rate: float = 0.0) -> dict:
    """The base instance over periods t1, t2, ... of the given years; one park (p1, already open)."""
    d = base()
    d["parks"] = d["parks"][:1]
    d["periods"] = [{"id": f"t{n + 1}", "years": y} for n, y in enumerate(years)]
    d["discount_rate"] = rate
    return d


def moves(out) -> dict:
    assert out.plan is not None
    return dict(out.plan.moves)


def test_growing_capacity_moves_in_the_second_period(tmp_path, formulation):
    # a needs 10 ha; p1 has 5 ha in t1, growing 100 % a year: 5 · 2^1 = 10 ha in t2 (one year later).
    # Staying costs 10 a year, moving nothing: stay in t1 (10), move in t2. Objective 10.
    d = phased(1, 1)
    d["industries"][0].update(use={"land": 10}, relocation_cost=0, stay_cost=10)
    d["parks"][0]["capacity"] = {"land": {"value": 5, "growth": 1.0}}
    out = solve_data(tmp_path, d, formulation)
    assert out.result.objective == pytest.approx(10.0)
    assert moves(out) == {("a", "p1", "t2"): 1.0}
    assert out.kpis["stay_cost"] == pytest.approx(10.0)


def test_capacity_given_per_period_holds_until_the_next_value(tmp_path):
    # Capacity {t1: 5, t3: 10}: t2 keeps t1's 5 ha, so a (10 ha) moves in t3 only: two years of stay.
    d = phased(1, 1, 1)
    d["industries"][0].update(use={"land": 10}, relocation_cost=0, stay_cost=10)
    d["parks"][0]["capacity"] = {"land": {"t1": 5, "t3": 10}}
    out = solve_data(tmp_path, d)
    assert moves(out) == {("a", "p1", "t3"): 1.0}
    assert out.result.objective == pytest.approx(20.0)


@pytest.mark.parametrize(("lead", "period", "objective"), [(0, "t1", 1.0), (2, "t2", 21.0), (3, "t3", 41.0)])
def test_upgrade_lead_time(tmp_path, formulation, lead, period, objective):
    # p1 has no land; its upgrade u (cost 1) adds 10 ha `lead` years after the start of the period
    # it is built in. Periods of 2 years each start at years 0, 2, 4. Built in t1 (it costs the
    # same whenever), it is ready in the first period starting ≥ lead: t1 for 0, t2 for 2, t3 for 3.
    # a stays until then at 10 a year: 1 + 0, 1 + 2·10, 1 + 4·10.
    d = phased(2, 2, 2)
    d["industries"][0].update(relocation_cost=0, stay_cost=10)
    d["parks"][0].update(capacity={"land": 0},
                         upgrades=[{"id": "u", "cost": 1, "adds": {"land": 10}, "lead_time": lead}])
    out = solve_data(tmp_path, d, formulation)
    assert out.result.objective == pytest.approx(objective)
    assert moves(out) == {("a", "p1", period): 1.0}
    assert out.plan.built == {("p1", "u"): "t1"}
    parks = out.tables["parks.csv"]
    ready = parks[parks["upgrade_capacity"] > 0]["period"].tolist()
    assert ready == ["t1", "t2", "t3"][["t1", "t2", "t3"].index(period):]


def test_cumulative_target_forces_an_early_move(tmp_path, formulation):
    # a: 2 modules, relocation 5 each (one-off), nothing else costs. Rate 50 %: a move in t2 (one
    # year later) costs 5 / 1.5. A target of 2 modules by t2 alone: both move in t2, 2 · 5/1.5.
    # Targets {t1: 1, t2: 2}: one must move in t1: 5 + 5/1.5 = 8.333.
    d = phased(1, 1, rate=0.5)
    d["industries"][0].update(modules=2, relocation_cost=5, stay_cost=0)
    d["rules"] = [{"id": "out", "kind": "transfer_target", "source": "test", "min_modules": 2, "by": "t2"}]
    out = solve_data(tmp_path, d, formulation)
    assert moves(out) == {("a", "p1", "t2"): 2.0}
    assert out.result.objective == pytest.approx(2 * 5 / 1.5)
    d["rules"][0].pop("by")
    d["rules"][0]["min_modules"] = {"t1": 1, "t2": 2}
    out = solve_data(tmp_path, d, formulation)
    assert moves(out) == {("a", "p1", "t1"): 1.0, ("a", "p1", "t2"): 1.0}
    assert out.result.objective == pytest.approx(5 + 5 / 1.5)
    limits = out.tables["limits.csv"]
    assert limits["period"].tolist() == ["t1", "t2"] and limits["bound"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(("rate", "period"), [(0.0, "t1"), (0.3, "t2")])
def test_discounting_delays_a_costly_move(tmp_path, formulation, rate, period):
    # a must move (by the end), relocation 10 (one-off), staying costs 2 a year; t1 lasts 1 year.
    # Move in t1: 10. Move in t2: 2 + 10/(1+rate). Undiscounted 10 < 12: now. At 30 %: 2 + 7.69 < 10.
    d = phased(1, 5, rate=rate)
    d["industries"][0].update(must_transfer=True, relocation_cost=10, stay_cost=2)
    out = solve_data(tmp_path, d, formulation)
    assert moves(out) == {("a", "p1", period): 1.0}
    assert out.result.objective == pytest.approx(10.0 if period == "t1" else 2 + 10 / 1.3)
    ledger = out.tables["kpis_by_period.csv"]
    assert ledger["weighted"].sum() == pytest.approx(out.result.objective)


@pytest.mark.parametrize(("terminal", "objective"), [(0, 2.0), (10, 10.0)])
def test_terminal_years_count_the_last_period_beyond_the_horizon(tmp_path, formulation, terminal, objective):
    # One period of a year, undiscounted: a move costs 10 once and saves a stay of 2 a year. Over
    # the year alone staying is cheaper (2); counting 10 more years, staying costs 22 and a moves (10).
    d = phased(1)
    d["industries"][0].update(relocation_cost=10, stay_cost=2)
    d["terminal_years"] = terminal
    out = solve_data(tmp_path, d, formulation)
    assert out.result.objective == pytest.approx(objective)
    assert moves(out) == ({} if terminal == 0 else {("a", "p1", "t1"): 1.0})


def test_the_phased_link_is_tight_in_the_lp_relaxation(tmp_path):
    # One module must move to p1 (open_cost 100, room for 10), over four periods of a year: the LP
    # relaxation must pay the whole open cost, not a quarter of it by spreading the module (1/4 a
    # period, each needing y = 1/4) as a link on x[i,p,t] alone would let it.
    from model import load
    from model.assemble import assemble
    from model.data import build_data
    from solvers import SolveOptions, solve
    from tests.conftest import write

    d = phased(1, 1, 1, 1)
    d["industries"][0].update(relocation_cost=0, stay_cost=0, must_transfer=True)
    d["parks"][0]["open_cost"] = 100
    for formulation in FORMULATIONS:
        problem = assemble(build_data(load(str(write(tmp_path, d))).instance), BuildOptions(formulation))
        for block in problem.variables.values():
            block.integer[:] = False
        result = solve(problem, SolveOptions())
        assert result.objective == pytest.approx(100.0), formulation


def test_budget_per_period_spreads_the_moves(tmp_path, formulation):
    # a: 2 modules, relocation 5 each, staying 10 a year, must move. Without a budget both move
    # in t1 (10). A spend budget of 5 per period: one in t1, one in t2: 5 + 10 (a year of stay) + 5.
    d = phased(1, 1)
    d["industries"][0].update(modules=2, relocation_cost=5, stay_cost=10, must_transfer=True)
    d["rules"] = [{"id": "budget", "kind": "limit", "source": "test", "kpi": "spend", "max": 5}]
    out = solve_data(tmp_path, d, formulation)
    assert moves(out) == {("a", "p1", "t1"): 1.0, ("a", "p1", "t2"): 1.0}
    assert out.result.objective == pytest.approx(20.0)


def test_declining_cap_and_cumulative_cap(tmp_path, formulation):
    # a (co2 8 a year wherever it runs) must move; p1 is cheap (0), p2 costs 10 a year; staying
    # costs 3 a year. Two periods of a year.
    d = phased(1, 1)
    d["parks"] = base()["parks"]
    d["industries"][0].update(co2_process=8, relocation_cost=0, stay_cost=3, must_transfer=True)
    d["pairs"] = [{"industry": "a", "park": "p2", "cost": 10}]
    # Without a cap: p1 now, 0. A cap at p1 declining from 10 to 5: a, once at p1, would still be
    # there in t2 (8 > 5), so p1 is out; p2 now costs 10 + 10, staying a year then p2 costs 3 + 10.
    d["rules"] = [{"id": "cap", "kind": "limit", "source": "test", "kpi": "co2", "parks": {"ids": ["p1"]},
                   "max": {"t1": 10, "t2": 5}}]
    out = solve_data(tmp_path, d, formulation)
    assert moves(out) == {("a", "p2", "t2"): 1.0}
    assert out.result.objective == pytest.approx(13.0)
    # A cumulative cap of 12 by t2 at p1: a year there (8) fits, two (16) do not: stay in t1 (3),
    # move to p1 in t2.
    d["rules"] = [{"id": "cap", "kind": "limit", "source": "test", "kpi": "co2", "parks": {"ids": ["p1"]},
                   "max": 12, "cumulative": True, "periods": ["t2"]}]
    out = solve_data(tmp_path, d, formulation)
    assert moves(out) == {("a", "p1", "t2"): 1.0}
    assert out.result.objective == pytest.approx(3.0)


def test_one_period_of_one_year_is_the_single_period_model(tmp_path, demo_path):
    # The demo's hand-checked optimum (49.6, see instances/demo.yaml) with one explicit period.
    import yaml

    d = yaml.safe_load(demo_path.read_text(encoding="utf-8"))
    d["periods"] = [{"id": "only", "years": 1}]
    out = solve_data(tmp_path, d)
    assert out.result.objective == pytest.approx(49.6)
    d["discount_rate"] = 0.05  # nothing is discounted in the first period of one year
    assert solve_data(tmp_path, d).result.objective == pytest.approx(49.6)


def test_checker_rejects_a_move_before_the_capacity_is_there(tmp_path):
    d = phased(1, 1)
    d["industries"][0].update(use={"land": 10}, relocation_cost=0, stay_cost=10)
    d["parks"][0]["capacity"] = {"land": {"t1": 5, "t2": 10}}
    out = solve_data(tmp_path, d)
    inst = out.loaded.instance
    early = Plan({("a", "p1"): 1.0}, {"a": 0.0}, {"p1": 1, "p2": 1}, [], ("t1", "t2"),
                 {("a", "p1", "t1"): 1.0}, {"p1": "t1"}, {})
    report = check(inst, early)
    assert report.violations == ["period t1: park p1: land use 10 > capacity 5 ha (over by 5)"]
    assert check(inst, out.plan).ok
    unphased = Plan({("a", "p1"): 1.0}, {"a": 0.0}, {"p1": 1}, [])
    assert not check(inst, unphased).feasible


# Bad input over time: one line per problem, file:line, key, what is wrong, what is expected; exit 2.
PHASED = """name: t
resources: {land: {category: infrastructure, unit: ha}}
periods:
  - {id: t1, years: 1}
  - {id: t2, years: 2}
discount_rate: 0.05
industries:
  - {id: a, origin: X, sector: s, use: {land: 1}, stay_cost: 3}
parks:
  - {id: p1, province: A, region: central, capacity: {land: 5}}
rules:
  - {id: r1, kind: transfer_target, source: s, min_modules: 1}
  - {id: r2, kind: limit, source: s, kpi: co2, max: 5}
"""

BAD = [
    ("unknown period in data", "capacity: {land: 5}", "capacity: {land: {t1: 5, t9: 6}}", "t9: 6",
     "parks.p1.capacity.land.t9: unknown period 't9'; expected one of: t1, t2"),
    ("data without the first period", "capacity: {land: 5}", "capacity: {land: {t2: 5}}", "land: {t2",
     "parks.p1.capacity.land: gives no value for the first period t1; expected t1: NUMBER"),
    ("growth out of range", "stay_cost: 3", "stay_cost: {value: 3, growth: 2}", "growth: 2",
     "industries.a.stay_cost.growth: got 2; expected a yearly rate between -0.99 and 1"),
    ("growth without value", "stay_cost: 3", "stay_cost: {growth: 0.1}", "growth: 0.1",
     "industries.a.stay_cost: a growth needs exactly `value` and `growth`"),
    ("negative value per period", "max: 5", "max: {t1: -5}", "max: {t1: -5}",
     "rules.r2.max.t1: got -5; expected a number ≥ 0"),
    ("empty mapping", "stay_cost: 3", "stay_cost: {}", "stay_cost: {}",
     "industries.a.stay_cost: is an empty mapping; expected a number, or period id: number"),
    ("unknown by", "min_modules: 1}", "min_modules: 1, by: t7}", "by: t7",
     "rules.r1.by: unknown period 't7'; expected one of: t1, t2"),
    ("unknown limit period", "max: 5}", "max: 5, periods: [t1, t8]}", "periods: [t1, t8]",
     "rules.r2.periods[1]: unknown period 't8'; expected one of: t1, t2"),
    ("periods with a bound per period", "max: 5}", "max: {t1: 5}, periods: [t2]}", "periods: [t2]",
     "rules.r2.periods: given with a bound per period; expected either `periods` or bounds given per period"),
    ("zero years", "years: 2}", "years: 0}", "years: 0",
     "periods.t2.years: got 0; expected a number ≥ 1"),
    ("discount rate of 100 %", "discount_rate: 0.05", "discount_rate: 1.5", "discount_rate: 1.5",
     "discount_rate: got 1.5; expected a number between 0 and 1"),
    ("duplicate period", "  - {id: t2, years: 2}", "  - {id: t1, years: 2}", "{id: t1, years: 2}",
     "periods.t1.id: duplicate period id 't1'; expected each id once"),
    ("a share growing past 1", "min_modules: 1}", "min_share: {value: 0.6, growth: 1}}", "growth: 1}",
     "rules.r1.min_share: grows to 1.2 by the last period; expected at most 1 in every period"),
    ("a growth past 1e12", "stay_cost: 3", "stay_cost: {value: 1e12, growth: 0.5}", "1e12",
     "industries.a.stay_cost: grows to 1.5e+12 by the last period; expected at most 1e12 in every period"),
    ("min above max in a period", "max: 5}", "max: 5, min: {t1: 1, t2: 6}}", "min: {t1: 1",
     "rules.r2.min: min 6 exceeds max 5 in period t2; expected min ≤ max"),
    ("a period called value", "  - {id: t2, years: 2}", "  - {id: value, years: 2}", "id: value",
     "periods.value.id: 'value' cannot name a period"),
    ("no period listed", "max: 5}", "max: 5, periods: []}", "periods: []",
     "rules.r2.periods: is empty"),
    ("a period listed twice", "max: 5}", "max: 5, periods: [t1, t1]}", "periods: [t1, t1]",
     "rules.r2.periods[1]: period 't1' listed twice"),
    ("years beyond a century", "years: 2}", "years: 101}", "years: 101",
     "periods.t2.years: got 101; expected a number between 1 and 100"),
    ("timed without periods", "periods:\n  - {id: t1, years: 1}\n  - {id: t2, years: 2}\ndiscount_rate: 0.05\n",
     "", "stay_cost: 3", None),
]


@pytest.mark.parametrize(("old", "new", "needle", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_periods_input(tmp_path, old, new, needle, message):
    text = PHASED.replace(old, new, 1)
    if message is None:  # the base without periods, and a number given over time
        text = text.replace("stay_cost: 3", "stay_cost: {t1: 3}")
        needle, message = "stay_cost: {t1: 3}", "industries.a.stay_cost: is given over time, but the instance has no"
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    errors = result.stderr.strip().splitlines()
    line = next(n for n, t in enumerate(text.splitlines(), 1) if needle in t)
    assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr
    assert any(e.startswith(f"error: {path}:{line}: {message}") for e in errors), errors


@pytest.mark.parametrize(("key", "value"), [("max: 5}", "max: 5, cumulative: true}"),
                                            ("capacity: {land: 5}", "capacity: {land: 5}, upgrades: [{id: u, cost: 1, "
                                                                    "lead_time: 2}]")])
def test_time_keys_without_periods_are_refused(tmp_path, key, value):
    text = PHASED.replace("periods:\n  - {id: t1, years: 1}\n  - {id: t2, years: 2}\ndiscount_rate: 0.05\n", "")
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(key, value), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and "but the instance has no `periods`" in result.stderr, result.stderr


def test_a_valid_phased_instance_and_a_discount_rate_set_from_the_command_line(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(PHASED, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path), "--set", "discount_rate=0.2"])
    assert result.exit_code == 0, result.stderr


def test_scaling_a_number_given_over_time_scales_every_period(tmp_path):
    from model import load

    path = tmp_path / "ok.yaml"
    path.write_text(PHASED.replace("capacity: {land: 5}", "capacity: {land: {t1: 4, t2: 8}}")
                    .replace("stay_cost: 3", "stay_cost: {value: 3, growth: 0.1}"), encoding="utf-8")
    inst = load(str(path), None, [("parks.*.capacity.land", "*0.5"), ("industries.a.stay_cost", "*2")]).instance
    assert inst.parks[0].capacity["land"].values == {"t1": 2.0, "t2": 4.0}
    assert (inst.industries[0].stay_cost.value, inst.industries[0].stay_cost.growth) == (6.0, 0.1)


def test_logistics_costs_over_time(tmp_path):
    # a (must move) at 0.01 per km in t1, 0.02 in t2, p1 and a at the same place but p2 110 km off:
    # only the distance matters and p1 wins, but a timed rate must be read (it once crashed validation).
    d = phased(1, 1)
    d["parks"] = base()["parks"]
    d["industries"][0].update(must_transfer=True, relocation_cost=0, stay_cost=0, location={"lon": 117, "lat": 31},
                              logistics_cost_per_km={"t1": 0.01, "t2": 0.02})
    d["parks"][0]["location"] = {"lon": 117, "lat": 31}
    d["parks"][1]["location"] = {"lon": 117, "lat": 32}
    out = solve_data(tmp_path, d)
    assert moves(out) == {("a", "p1", "t1"): 1.0} and out.result.objective == pytest.approx(0.0)


def test_check_refuses_a_park_that_closes_and_a_plan_of_other_periods(tmp_path):
    from model.run import write_outcome

    d = phased(1, 1)
    d["industries"][0].update(relocation_cost=0, stay_cost=10, must_transfer=True)
    d["parks"][0]["open_cost"] = 1
    out = solve_data(tmp_path, d)
    folder = tmp_path / "run"
    write_outcome(out, folder)
    inst = tmp_path / "inst.yaml"
    ok = CliRunner().invoke(main, ["check", str(inst), str(folder)])
    assert ok.exit_code == 0, ok.stderr
    import pandas as pd

    from tests.conftest import write

    parks = pd.read_csv(folder / "parks.csv", keep_default_na=False)
    last = parks.index[(parks["park"] == "p1") & (parks["period"] == "t2")]
    assert parks.loc[last, "open"].tolist() == [1]
    parks.loc[last, "open"] = 0  # the park hosting a closes in t2
    parks.to_csv(folder / "parks.csv", index=False)
    bad = CliRunner().invoke(main, ["check", str(inst), str(folder)])
    assert bad.exit_code == 6 and "period t2: park p1: not open, though open from period t1" in bad.stderr
    del d["periods"], d["discount_rate"]
    single = write(tmp_path, d, "single.yaml")
    other = CliRunner().invoke(main, ["check", str(single), str(folder)])
    assert other.exit_code == 2 and "the plan is over periods but the instance has none" in other.stderr


def test_a_park_whose_open_cost_falls_to_zero_is_not_already_open(tmp_path):
    # "Already open" is open_cost 0 in the first period: a park costing 500 to open in t1 and 0 in t2
    # may stay closed throughout, and the checker must not demand it open in t2.
    d = phased(1, 1)
    d["industries"][0].update(relocation_cost=5, stay_cost=0)
    d["parks"][0]["open_cost"] = {"t1": 500, "t2": 0}
    out = solve_data(tmp_path, d)
    inst = out.loaded.instance
    closed = Plan({}, {"a": 1.0}, {"p1": 0}, [], ("t1", "t2"), {}, {}, {})
    assert check(inst, closed).feasible, check(inst, closed).violations
    assert out.result.objective == pytest.approx(0.0)
