"""Who gains and who pays: enclave parks, participation with side payments, eco-compensation and
carbon trading, each on a small case worked out by hand. Every plan passes the independent checker
(`solve_data`), which recomputes every new rule from the raw fields.

The base (as in tests/test_ledger.py): bundle a (province A, 2 modules: value added 10, tax 2, co2 1,
staying costs 100 a module, moving 1) and b (province B, 1 module: value added 20, tax 4; staying
costs nothing, moving 1, so it stays); one open park p1 in province C (region west).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import main
from model import load
from model.diagnose import diagnose
from solvers import SolveOptions
from tests.conftest import solve_data, write
from tests.test_ledger import book, three_provinces


def transfer_sums(out) -> dict[str, float]:
    """Each transfer measure's plan column summed over the provinces (zero when nothing is lost)."""
    table = out.tables["ledger.csv"]
    rows = table[(table["level"] == "province") & table["measure"].str.startswith(
        ("enclave_", "eco_", "side_", "allowances"))]
    return rows.groupby("measure")["plan"].sum().to_dict()


# ---------------------------------------------------------------------------------------------
# Enclave parks


def test_an_enclave_shares_value_added_and_tax_with_its_partner(tmp_path):
    d = three_provinces()
    d["parks"][0]["enclave"] = {"partner": "A", "share": 0.4}
    out = solve_data(tmp_path, d)
    got = book(out)
    # a's 2 modules run at p1: value added 20 and tax 4 on site in C; A gets 40 % of them.
    assert got["C", "value_added"] == (0, 20, 20) and got["A", "value_added"] == (20, 0, -20)
    assert got["A", "enclave_value_added"][1] == pytest.approx(8)
    assert got["C", "enclave_value_added"][1] == pytest.approx(-8)
    assert got["A", "enclave_tax"][1] == pytest.approx(1.6) and got["C", "enclave_tax"][1] == pytest.approx(-1.6)
    assert got["A", "value_added_agreed"] == pytest.approx((20, 8, -12))
    assert got["C", "value_added_agreed"] == pytest.approx((0, 12, 12))
    assert all(v == pytest.approx(0) for v in transfer_sums(out).values())
    # The region's rows are the sums of its provinces'.
    assert got["west", "value_added"] == got["C", "value_added"]


def test_by_contribution_the_partner_pays_its_share_of_the_investment(tmp_path):
    d = three_provinces()
    d["parks"][0].update(open_cost=10, enclave={"partner": "A", "contribution": 0.3})
    out = solve_data(tmp_path, d)
    assert out.result.objective == pytest.approx(12)  # open 10 + move 2
    got = book(out)
    assert got["A", "enclave_investment"][1] == pytest.approx(-3)
    assert got["C", "enclave_investment"][1] == pytest.approx(3)
    assert got["A", "enclave_value_added"][1] == pytest.approx(6)  # 30 % of 20


def test_a_partner_only_enclave_turns_other_provinces_away(tmp_path):
    d = three_provinces()
    d["industries"][1]["stay_cost"] = 50  # b would move too (1 < 50)
    assert solve_data(tmp_path, d).result.objective == pytest.approx(3)
    d["parks"][0]["enclave"] = {"partner": "A", "share": 0.5, "partner_only": True}
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): 2.0} and out.result.objective == pytest.approx(52)


# ---------------------------------------------------------------------------------------------
# No region worse off


def test_participation_binds_and_changes_the_plan(tmp_path):
    # A's value added is 20 at home; moving a leaves it 0, so A keeps both modules (200 a year).
    d = three_provinces()
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"]}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {} and out.result.objective == pytest.approx(200)
    row = out.tables["participation.csv"].iloc[0]
    assert (row["province"], row["status_quo"], row["plan"], bool(row["binding"])) == ("A", 20, 20, True)
    assert (row["unit"], row["shadow_price_unit"]) == ("million yuan", "million yuan per million yuan")


def test_side_payments_buy_the_sender_in(tmp_path):
    # Paying A its lost 20 costs 10 % of 20 = 2; with a moving (2) the objective is 4, not 200.
    d = three_provinces()
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"],
                   "side_payments": {"max": 50, "cost": 0.1, "payers": ["C"]}}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): 2.0} and out.result.objective == pytest.approx(4)
    assert out.kpis["side_payment_cost"] == pytest.approx(2)
    got = book(out)
    assert got["A", "side_payment"][1] == pytest.approx(20) and got["C", "side_payment"][1] == pytest.approx(-20)
    assert transfer_sums(out)["side_payment"] == pytest.approx(0)
    assert out.tables["transfers.csv"].query("measure == 'side_payment'")["amount"].sum() == pytest.approx(20)


@pytest.mark.parametrize("rate, paid", [(0.0, 20 - 6 + 3 / 5), (0.1, 20 - 6 + 3 / (1 + 1 / 1.1 + 1 / 1.1 ** 2
                                                                                 + 1 / 1.1 ** 3 + 1 / 1.1 ** 4))])
def test_a_one_off_counts_for_a_year_of_its_period_in_a_net_benefit(tmp_path, rate, paid):
    """In one 5-year period A loses its value added of 20 a year, gets 30 % of it back (6 a year)
    from the enclave it pays 30 % of the park's opening (10) for: 3 once, i.e. 3/5 a year (at rate
    0; 3 / Σ_y 1.1^-y at 10 %). The yearly side payment that keeps A whole is 14.6, not the 17 of
    a one-off counted as yearly (over the five years 85 paid back for 3)."""
    d = three_provinces()
    d["parks"][0].update(open_cost=10, enclave={"partner": "A", "contribution": 0.3})
    d["industries"][1]["relocation_cost"] = 100  # b stays (at 1 it would move to earn A its share)
    d["periods"] = [{"id": "t1", "years": 5}]
    d["discount_rate"] = rate
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"],
                   "side_payments": {"max": 50, "cost": 0.1, "payers": ["C"]}}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): 2.0}
    got = book(out)
    assert got["A", "enclave_investment"][1] == pytest.approx(-3)
    assert got["A", "side_payment"][1] == pytest.approx(paid)
    row = out.tables["participation.csv"].iloc[0]
    assert row["plan"] == pytest.approx(row["status_quo"]) and bool(row["binding"])


def test_participation_that_no_plan_meets_is_diagnosed_by_province_and_amount(tmp_path):
    # C can host at most a's 20 and b's 20 of value added: a minimum of 50 falls short by 10.
    d = three_provinces()
    d["industries"][0]["must_transfer"] = True
    d["rules"] = [{"id": "c_gains", "kind": "participation", "source": "test", "provinces": ["C"], "min": 50}]
    out = solve_data(tmp_path, d)
    assert out.result.status == "infeasible"
    found = diagnose(load(str(write(tmp_path, d))), None, SolveOptions(mip_gap=0.0))
    texts = [r.text for r in found.relaxations]
    assert texts == ["rule c_gains (participation): C's net benefit falls short of its stated minimum by 10 "
                     "million yuan a year"]


def test_bounded_side_payments_that_do_not_suffice_are_diagnosed(tmp_path):
    # a must move: A loses 20; two payers may pay at most 5 each, so A is short by 10.
    d = three_provinces()
    d["industries"][0]["must_transfer"] = True
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"],
                   "side_payments": {"max": 5}}]
    assert solve_data(tmp_path, d).result.status == "infeasible"
    found = diagnose(load(str(write(tmp_path, d))), {"must_transfer": 100.0}, SolveOptions(mip_gap=0.0))
    assert [r.text for r in found.relaxations] == [
        "rule a_gains (participation): A's net benefit falls short of the status quo by 10 million yuan a year"]


# ---------------------------------------------------------------------------------------------
# Eco-compensation


def eco(budget: float | None = None) -> dict:
    # p1 has a quota of 10 t COD; each module of a uses 3. A (downstream) pays C 2 per tonne unused.
    d = three_provinces()
    d["resources"]["cod"] = {"category": "ecology", "unit": "t"}
    d["industries"][0]["use"]["cod"] = 3
    d["parks"][0]["capacity"]["cod"] = 10
    rule = {"id": "basin", "kind": "eco_compensation", "source": "test", "payers": ["A"], "payees": ["C"],
            "resource": "cod", "basis": "unused", "rate": 2}
    if budget is not None:
        rule["budget"] = budget
    d["rules"] = [rule]
    return d


def test_eco_compensation_pays_for_the_quota_left_unused(tmp_path):
    # a moves: 6 t used, 4 unused: A pays C 8 (status quo: 10 unused, 20).
    out = solve_data(tmp_path, eco())
    got = book(out)
    assert got["C", "eco_compensation"] == pytest.approx((20, 8, -12))
    assert got["A", "eco_compensation"] == pytest.approx((-20, -8, 12))


@pytest.mark.parametrize("budget, paid, quo", [(15, 8, 15), (5, 5, 5)])
def test_a_budget_caps_the_payment(tmp_path, budget, paid, quo):
    got = book(solve_data(tmp_path, eco(budget)))
    assert got["C", "eco_compensation"] == pytest.approx((quo, paid, paid - quo))


def test_the_capped_payment_is_exact_even_when_the_payer_would_pay_less(tmp_path):
    # A (weighing only money) may lose at most 4; the payment is min(8, 5) = 5 whatever A wants:
    # no plan meets it (a looser model would pay 4).
    d = eco(5)
    d["rules"].append({"id": "a_pays_little", "kind": "participation", "source": "test", "provinces": ["A"],
                       "weights": {"value_added": 0}, "min": -4})
    d["industries"][0]["must_transfer"] = True
    assert solve_data(tmp_path, d).result.status == "infeasible"
    d["rules"][1]["min"] = -5
    assert solve_data(tmp_path, d).result.status == "optimal"


# ---------------------------------------------------------------------------------------------
# Carbon trading


def market(price: float | None = None) -> dict:
    """A and B emit 10 each at home (grid 1); at p1 in C (grid 0.5) a module emits 0.5. Moving a
    costs 2 a module, b 3: abatement costs 4 per tonne for a, 6 for b. Caps A 7, B 7, C 3 (17 in
    all): 3 t must be abated, by 6 modules of a, at 4 a tonne; A sells 3 allowances, B buys 3."""
    d = {
        "name": "market",
        "resources": {"land": {"category": "infrastructure", "unit": "ha"}},
        "industries": [
            {"id": "a", "origin": "A", "sector": "s", "modules": 10, "divisible": True, "use": {"land": 1},
             "power_use": 1, "grid_factor": 1, "relocation_cost": 2},
            {"id": "b", "origin": "B", "sector": "s", "modules": 10, "divisible": True, "use": {"land": 1},
             "power_use": 1, "grid_factor": 1, "relocation_cost": 3}],
        "parks": [{"id": "p1", "province": "C", "region": "west", "capacity": {"land": 100}, "grid_factor": 0.5}],
    }
    if price is None:
        d["rules"] = [*({"id": f"cap_{q}", "kind": "limit", "source": "test", "kpi": "co2", "provinces": [q],
                         "max": m} for q, m in (("A", 7), ("B", 7), ("C", 3))),
                      {"id": "ets", "kind": "carbon_trade", "source": "test", "caps": ["cap_A", "cap_B", "cap_C"]}]
    else:
        d["objective"] = {"weights": {"co2": price}}
    return d


def test_the_allowance_price_is_the_dual_of_the_balance_and_clears_the_market(tmp_path):
    out = solve_data(tmp_path, market())
    assert out.plan.x == {("a", "p1"): pytest.approx(6.0)} and out.result.objective == pytest.approx(12)
    table = out.tables["carbon_market.csv"].set_index("cap")
    assert table["price"].tolist() == pytest.approx([4, 4, 4])
    assert (table.at["cap_A", "sold"], table.at["cap_B", "bought"]) == pytest.approx((3, 3))
    got = book(out)
    assert got["A", "allowances"][1] == pytest.approx(-3) and got["B", "allowances"][1] == pytest.approx(3)
    assert transfer_sums(out)["allowances"] == pytest.approx(0)
    # A fixed price of 4 makes the trading plan optimal: cost 12 + 4 × 17 t = 80, the best at that price;
    # a little above, more is abated (15 t); a little below, nothing (20 t).
    fixed = solve_data(tmp_path, market(4.0))
    assert fixed.result.objective == pytest.approx(12 + 4 * 17)
    assert solve_data(tmp_path, market(4.5)).kpis["co2"] == pytest.approx(15)
    assert solve_data(tmp_path, market(3.5)).kpis["co2"] == pytest.approx(20)


def test_a_transaction_cost_and_a_trade_bound(tmp_path):
    # With m_a + m_b = 6 moves every cap binds: n_A = 3 − m_a, n_B = m_a − 3, n_C = 0, and the cost
    # 2 m_a + 3 (6 − m_a) + 0.5 (m_a − 3) falls with m_a; unbounded, m_a = 6 (13.5); a bound of 2 on
    # what one cap trades stops it at m_a = 5, m_b = 1: 10 + 3 + 0.5 × 2 = 14.
    d = market()
    d["rules"][-1].update(transaction_cost=0.5)
    assert solve_data(tmp_path, d).result.objective == pytest.approx(13.5)
    d["rules"][-1].update(max_trade=2)
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): pytest.approx(5.0), ("b", "p1"): pytest.approx(1.0)}
    assert out.kpis["trade_cost"] == pytest.approx(1) and out.result.objective == pytest.approx(14)


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["parks"][0].update(enclave={"partner": "C", "share": 0.5}),
     "parks.p1.enclave.partner: is the park's own province 'C'"),
    (lambda d: d["parks"][0].update(enclave={"partner": "Z", "share": 0.5}),
     "parks.p1.enclave.partner: no industry comes from and no park is in 'Z'"),
    (lambda d: d["parks"][0].update(enclave={"partner": "A", "share": 0.5, "contribution": 0.5}),
     "give either `share` or `contribution`"),
    (lambda d: d.update(rules=[{"id": "r", "kind": "participation", "source": "s", "provinces": ["A"],
                                "weights": {"gdp": 1}}]), "rules.r.weights.gdp: unknown ledger measure 'gdp'"),
    (lambda d: d.update(rules=[{"id": "r", "kind": "eco_compensation", "source": "s", "payers": {"A": 0.5},
                                "payees": ["C"], "resource": "land", "basis": "unused", "rate": 1}]),
     "rules.r.payers: shares sum to 0.5; expected shares summing to 1"),
    (lambda d: d.update(rules=[{"id": "cap", "kind": "limit", "source": "s", "kpi": "co2", "max": 1},
                               {"id": "r", "kind": "carbon_trade", "source": "s", "caps": ["cap", "nope"]}]),
     "rules.r.caps[0]: rule cap does not name one jurisdiction"),
    # A bound per period with `periods` too: the rule held in the bound's periods, `periods` unread.
    (lambda d: d.update(periods=[{"id": "t1", "years": 1}, {"id": "t2", "years": 1}],
                        rules=[{"id": "r", "kind": "participation", "source": "s", "provinces": ["A"],
                                "min_change": {"t2": -100}, "periods": ["t1"]}]),
     "rules.r.periods: given with a bound per period; expected either `periods` or bounds given per period, "
     "not both"),
    # A province named as a parks' region, used as a word: `provinces: [west]` meant the province alone.
    (lambda d: (d["industries"][0].update(origin="west"),
                d.update(rules=[{"id": "cap", "kind": "limit", "source": "s", "kpi": "co2", "provinces": ["west"],
                                 "max": 0}])),
     "rules.cap.provinces[0]: 'west' is the name of a province and of a region: it would stand for the province "
     "alone; expected a word that means one thing here: rename the province or the region"),
])
def test_new_keys_are_validated(tmp_path, edit, message):
    d = three_provinces()
    edit(d)
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, d))])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# A jurisdiction's own KPI in the objective, and the check of a results folder


def test_a_provinces_own_value_added_in_the_objective(tmp_path):
    # Weighing A's own value added at −10 a unit: keeping a module of a at home (10 of value added)
    # is worth 100, which the stay cost of 100 exactly offsets; at −11 both stay.
    d = three_provinces()
    d["objective"] = {"weights": {"value_added@A": -11}}
    out = solve_data(tmp_path, d)
    assert out.plan.x == {} and out.kpis["value_added@A"] == pytest.approx(20)
    assert out.result.objective == pytest.approx(200 - 11 * 20)


def test_compare_shows_who_pays(tmp_path):
    """Without the rule nothing is paid; with it C pays A 20 (test above, by hand).
    compare's ledger held modules, value added, tax, jobs and CO2 only: who pays under a scenario
    did not show at all."""
    import pandas as pd

    d = three_provinces()
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"],
                   "side_payments": {"max": 50, "cost": 0.1, "payers": ["C"]}}]
    d["scenarios"] = {"unpaid": {"set": {"rules.a_gains.enabled": False}}}
    path = write(tmp_path, d)
    runner = CliRunner()
    for name, extra in (("paid", []), ("unpaid", ["--scenario", "unpaid"])):
        assert runner.invoke(main, ["solve", str(path), *extra, "--out", str(tmp_path / name)]).exit_code == 0
    got = runner.invoke(main, ["compare", str(tmp_path / "unpaid"), str(tmp_path / "paid"), "--out",
                               str(tmp_path / "cmp")])
    assert got.exit_code == 0, got.output
    ledger = pd.read_csv(tmp_path / "cmp" / "ledger.csv").query("measure == 'side_payment' and level == 'province'")
    paid = dict(zip(ledger["jurisdiction"], ledger[ledger.columns[-1]]))  # the delta column
    assert paid == pytest.approx({"A": 20.0, "B": 0.0, "C": -20.0})


def test_check_of_a_results_folder_reads_the_decided_transfers(tmp_path):
    d = three_provinces()
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"],
                   "side_payments": {"max": 50, "cost": 0.1, "payers": ["C"]}}]
    path = write(tmp_path, d)
    runner = CliRunner()
    assert runner.invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")]).exit_code == 0
    result = runner.invoke(main, ["check", str(path), str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    # Paying A less than it loses breaks the rule, and the checker says by how much.
    moved = tmp_path / "run" / "transfers.csv"
    moved.write_text(moved.read_text().replace("A,20,0,", "A,15,0,"))
    result = runner.invoke(main, ["check", str(path), str(tmp_path / "run")])
    assert result.exit_code == 6
    assert "rule a_gains: A's net benefit 15 < the status quo's 20 million yuan (short by 5)" in result.output + \
        result.stderr


# ---------------------------------------------------------------------------------------------
# What an attack found: each now fails as it should


def test_check_refuses_allowances_of_a_cap_in_a_period_where_it_does_not_hold(tmp_path):
    """cap_A holds in t2 only: the model gives it no allowances to trade in t1, and a plan that has
    A sell 3 to B there (B's 10 t over its 7 then covered) is refused by the checker too."""
    from model.check import check

    d = market()
    d["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    d["rules"][0]["periods"] = ["t2"]
    d["rules"][1]["max"] = 10  # B's cap holds in both periods, so the solver's plan need not move b
    out = solve_data(tmp_path, d)
    plan = out.plan
    plan.transfers = {**plan.transfers, ("allowances", "cap_A", "", "A", "t1"): -3.0,
                      ("allowances", "cap_B", "", "B", "t1"): 3.0}
    assert "period t1: rule ets: cap cap_A trades 3 kt CO2, but it does not hold in this period (a cap trades " \
        "only where its max holds)" in check(out.loaded.instance, plan).violations


def test_check_refuses_forged_allowances_and_side_payments(tmp_path):
    d = three_provinces()
    d["rules"] = [{"id": "a_gains", "kind": "participation", "source": "test", "provinces": ["A"],
                   "side_payments": {"max": 50, "cost": 0.1, "payers": ["C"]}},
                  {"id": "cap_C", "kind": "limit", "source": "test", "kpi": "co2", "provinces": ["C"], "max": 0}]
    path = write(tmp_path, d)
    runner = CliRunner()
    runner.invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")])
    moved = tmp_path / "run" / "transfers.csv"
    if not moved.exists():  # cap_C keeps a at home: nothing is paid; forge a file of the same shape
        moved.write_text("measure,rule,payer,payee,amount,status_quo,unit,decided\n")
    moved.write_text(moved.read_text() + "allowances,cap_C,,C,5,0,kt CO2,True\n"
                     "side_payment,a_gains,C,A,200,0,million yuan,True\n"
                     "side_payment,a_gains,B,A,1,0,million yuan,True\n"
                     "side_payment,nope,C,A,1,0,million yuan,True\n")
    result = runner.invoke(main, ["check", str(path), str(tmp_path / "run")])
    assert result.exit_code == 6
    for line in ("allowances of cap_C (5 kt CO2 to C): cap_C is not a cap of an enabled carbon_trade rule",
                 "rule a_gains: side payment C → A (200 million yuan): outside 0..50",
                 "rule a_gains: side payment B → A (1 million yuan): B may not pay",
                 "side payment C → A (1 million yuan): no enabled participation rule nope with side_payments"):
        assert line in result.stderr, result.stderr


def test_an_upgraded_quota_keeps_the_basis_whole_and_the_payment_free(tmp_path):
    # An upgrade adds 10 t COD to p1's 10: a's 5 modules (15 t) fit only with it. The payment moves
    # money between provinces and costs the plan nothing, so the plan is the one without the rule.
    d = eco(100)
    d["industries"][0]["modules"] = 5
    d["industries"][0]["stay_cost"] = 100
    d["parks"][0]["upgrades"] = [{"id": "u", "cost": 0.5, "adds": {"cod": 10}}]
    out = solve_data(tmp_path, d)
    assert out.plan.x == {("a", "p1"): 5.0} and out.result.objective == pytest.approx(5.5)
    assert book(out)["C", "eco_compensation"][1] == pytest.approx(2 * (20 - 15))
    d["rules"][0]["basis"], d["rules"][0]["rate"], d["rules"][0]["budget"] = "used", 1, 2
    out = solve_data(tmp_path, d)
    assert out.result.objective == pytest.approx(5.5) and book(out)["C", "eco_compensation"][1] == pytest.approx(2)


def test_the_carbon_price_is_per_unit_in_a_year_of_a_long_period(tmp_path):
    # Over one 5-year period moving a costs 2 once and abates 0.5 t a year for 5 years: 0.8 a tonne.
    d = market()
    d["periods"] = [{"id": "t1", "years": 5}]
    out = solve_data(tmp_path, d)
    assert out.tables["carbon_market.csv"]["price"].tolist() == pytest.approx([0.8, 0.8, 0.8])
    d["rules"] = []
    d["objective"] = {"weights": {"co2": 0.81}}
    assert solve_data(tmp_path, d).kpis["co2"] == pytest.approx(15 * 5)  # a little above it: all of a moves


def test_terms_given_from_a_later_period_on(tmp_path):
    # Rate, budget, trade bound and payment bound start in t2: nothing is paid or traded in t1.
    d = eco(None)
    d["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    d["rules"][0].update(rate={"t2": 2}, budget={"t2": 5})
    out = solve_data(tmp_path, d)
    assert out.result.status == "optimal"
    rows = out.tables["transfers.csv"].set_index("period")["amount"]
    assert rows["t1"] == 0 and rows["t2"] == pytest.approx(5)
    m = market()
    m["periods"] = [{"id": "t1", "years": 1}, {"id": "t2", "years": 1}]
    m["rules"][-1]["max_trade"] = {"t2": 1}
    assert solve_data(tmp_path, m).result.status == "optimal"


def test_a_jurisdictions_kpi_keeps_check_comparing_kpis_json(tmp_path):
    d = three_provinces()
    d["objective"] = {"weights": {"value_added@A": -11}}
    path = write(tmp_path, d)
    runner = CliRunner()
    assert runner.invoke(main, ["solve", str(path), "--out", str(tmp_path / "run")]).exit_code == 0
    result = runner.invoke(main, ["check", str(path), str(tmp_path / "run")])
    assert result.exit_code == 0 and "not as this tool writes it" not in result.output + result.stderr


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(rules=[{"id": "r", "kind": "participation", "source": "s", "provinces": ["A"],
                                "weights": {"side_payment_cost": -1}}]),
     "rules.r.weights.side_payment_cost: side_payment_cost is a cost of the whole plan, not of a province"),
    (lambda d: d.update(groups={"B": {"provinces": ["A"]}}),
     "groups.B: a group of provinces has the name of a province"),
    (lambda d: d.update(provinces={"C": {"region": "A"}}), "provinces.C.region: is the name of a province ('A')"),
    (lambda d: d.update(rules=[
        {"id": "c1", "kind": "limit", "source": "s", "kpi": "co2", "provinces": ["C"], "max": 0},
        {"id": "c2", "kind": "limit", "source": "s", "kpi": "co2", "provinces": ["west"], "max": 10},
        {"id": "r", "kind": "carbon_trade", "source": "s", "caps": ["c1", "c2"]}]),
     "rules.r.caps[1]: caps c1 and c2 both count C"),
    (lambda d: d.update(rules=[{"id": "r", "kind": "eco_compensation", "source": "s", "payers": ["A", "A"],
                                "payees": ["C"], "resource": "land", "basis": "unused", "rate": 1}]),
     "lists A twice"),
    (lambda d: d.update(rules=[{"id": "r", "kind": "eco_compensation", "source": "s", "payers": ["C"],
                                "payees": ["A"], "resource": "land", "basis": "unused", "rate": 1}]),
     "rules.r.payees: no park is in the payees' provinces"),
])
def test_more_bad_keys_are_refused(tmp_path, edit, message):
    d = three_provinces()
    edit(d)
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, d))])
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_a_rule_made_inconsistent_by_set_blames_the_set(tmp_path):
    """`--set rules.r.min=5` on a rule with `min_change`: the rule is wrong because of the overlay,
    and the error named the rule's line in the file, which is as it was."""
    d = three_provinces()
    d["rules"] = [{"id": "r", "kind": "participation", "source": "s", "provinces": ["A"], "min_change": 0}]
    path = str(write(tmp_path, d))
    got = CliRunner().invoke(main, ["validate", path, "--set", "rules.r.min=5"])
    assert got.exit_code == 2 and got.stderr.strip().splitlines()[0].startswith(
        "error: --set: rules.r: give either `min_change` or `min`, not both")
    assert CliRunner().invoke(main, ["validate", path]).exit_code == 0
