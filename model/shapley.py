"""A Shapley value split of the cooperative gain among provinces (after the solve).

The game. The players P are provinces: origins of industries and provinces of parks (by default
every province that sends or receives modules in the instance's optimal plan). Provinces that are
not players are always in: they are not part of the game, so the game splits the gain that the
players' cooperation adds on top of what the others can do (what a non-player's industries or
parks make possible goes to no one: name it a player to have its part valued). For a coalition
S ⊆ P, the restricted instance keeps every rule of the instance (with periods, in every period) and
adds

    industries whose origin is a player outside S may not move (they stay at their origin, and
        their `must_transfer` is dropped): a `forbid` rule, industries {origin: P \\ S}, every park;
    parks whose province is a player outside S receive nothing: a `forbid` rule, every industry,
        parks {province: P \\ S};

and z*(S) is its optimal objective (the instance's objective; with a lexicographic objective, its
last level, whose weights z0 uses too). The status quo (every module at its origin, nothing built,
no park opened but those already open, at no cost) has the objective z0, computed by the
independent checker (`model.check`); the status quo may break rules (a `must_transfer` industry
stays, a transfer target is missed): only its objective is used.

The reference d is what happens without the players: d = z*(∅) when the empty coalition's
instance (only the non-players cooperating) is feasible, else d = z0. Then

    v(∅) = 0,    v(S) = d − z*(S)    (the saving S adds to what the others achieve without the
                                      players; with every province a player, d = z0 unless a
                                      rule forces a park open or an upgrade built).

Infeasible coalitions. A restricted instance may be infeasible (a transfer target the coalition
cannot meet alone, a `must_transfer` industry with no park of the coalition to go to). Then, by
convention, a coalition can at least do what its parts do:

    v(S) = max_{j ∈ S} v(S \\ {j})      (recursively; S is recorded in `infeasible`).

To evaluate this without solving the whole lattice below S, an infeasible S gets one more solve,
of its relaxation R(S): S's instance with `must_transfer` dropped for every player's industry.
Every T ⊆ S forbids at least what S forbids and requires at most what R(S) requires, so a plan of
T (extended by zeros) is a plan of R(S): if R(S) is infeasible, so is every T ⊆ S, ∅ included,
and the recursion ends at v(∅) = 0, so v(S) = 0 without further solves. Only when R(S) is feasible
are the subsets S \\ {j} solved (in the worst case, every infeasible coalition below S).

The Shapley value. With n = |P| ≤ `exact_up_to`, exactly over all 2^n coalitions:

    φ_i = Σ_{S ⊆ P∖{i}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S)),    Σ_i φ_i = v(P).

Otherwise by permutation sampling (Castro, Gómez & Tejada 2009, Computers & Operations Research
36(5)): for m random orders π of P (seeded), player i's marginal contribution in π is
v(Pre_π(i) ∪ {i}) − v(Pre_π(i)); φ_i is estimated by the mean over the m orders, with standard
error s_i / √m (s_i the sample standard deviation of the marginals). The marginals of one order
telescope to v(P) − v(∅) = v(P), so the estimates sum to v(P) exactly as well. v is cached per
coalition: one solve per distinct coalition met, whatever the number of orders. When the orders
have met all 2^n coalitions (few players, many orders), the exact value above costs no further
solve, and it is what is reported (exact, with the orders drawn recorded); when at least n!
orders are asked for, all of them are taken, each once: the exact value again (not n! draws with
replacement, which can repeat one order and report a standard error of 0 on a wrong value).

Each solve must be optimal for the values to be a game's values, hence `mip_gap=0` (a MIP gap g
leaves each z*(S) up to g·|z*(S)| above its optimum, and each φ_i up to 2·g·max|z*| off). A solve that stops at a limit
with a plan is used and recorded in `not_optimal`; one without a plan stops the computation.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model import Loaded
from model.check import check
from model.errors import InputError, Problem
from model.families.forbid import ForbidRule
from model.options import BuildOptions
from model.periods import resolve
from model.plan import Plan
from model.run import solve_instance
from model.schema import IndustrySelector, Instance, ParkSelector
from solvers import SolveOptions
from solvers.control import CONTROL, Interrupted

SOURCE = "shapley coalition"
EXACT_UP_TO = 5  # 32 solves: about 5 min on china-east-west at mip_gap 0 (benchmarks/shapley_players.py)


class NoValue(Exception):
    """A solve ended without a plan and without a proof of infeasibility (a limit, an error), or the
    instance itself has no plan to take the default players from; `status` is the solve's."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ShapleyResult:
    players: list[str]
    value: dict[str, float]  # φ per player
    std_error: dict[str, float]  # 0 when exact
    exact: bool
    v_grand: float  # v(P), which the values sum to
    z0: float  # the status quo's objective
    coalitions: dict[frozenset[str], float]  # v per coalition met
    infeasible: list[frozenset[str]]
    solves: int
    seconds: float
    reference: float = 0.0  # d: z*(∅) when feasible, else z0
    reference_is: str = "status quo"  # or "empty coalition"
    z_star: dict[frozenset[str], float | None] = field(default_factory=dict)  # z*(S) per solved coalition
    not_optimal: list[frozenset[str]] = field(default_factory=list)  # solved within a limit, not proven
    status_quo_violations: list[str] = field(default_factory=list)  # rules the status quo breaks
    non_players: list[str] = field(default_factory=list)  # provinces always in
    samples: int = 0  # orders drawn (0 when exact by --exact-up-to; n! with no seed when every one was taken)
    seed: int | None = None

    def as_dict(self) -> dict:
        """The content of shapley.json (coalitions as sorted lists of players)."""
        def members(s: frozenset[str]) -> list[str]:
            return [p for p in self.players if p in s]

        return {
            "players": self.players, "non_players": self.non_players,
            "method": "exact" if self.exact else "sampled", "samples": self.samples or None, "seed": self.seed,
            "value": self.value, "std_error": self.std_error, "v_grand": self.v_grand,
            "z0": self.z0, "reference": self.reference, "reference_is": self.reference_is,
            "status_quo_violations": self.status_quo_violations,
            "coalitions": [{"players": members(s), "v": v, "z_star": self.z_star.get(s),
                            "infeasible": s in self.infeasible, "optimal": s not in self.not_optimal}
                           for s, v in sorted(self.coalitions.items(), key=lambda kv: (len(kv[0]), members(kv[0])))],
            "solves": self.solves, "seconds": self.seconds,
        }


def provinces(inst: Instance) -> list[str]:
    """Every province of the instance: origins, then parks' provinces, each once, in the file's order."""
    return list(dict.fromkeys([i.origin for i in inst.industries] + [p.province for p in inst.parks]))


def status_quo(inst: Instance) -> Plan:
    """Every module at its origin, nothing built, no park opened but those already open (open_cost 0
    in the first period: the model holds them open, at no cost), in every period."""
    ids = tuple(p.id for p in inst.periods) if inst.periods else ()
    already = [p.id for p in resolve(inst, 0).parks if p.open_cost == 0]
    return Plan(x={}, stay={i.id: float(i.modules) for i in inst.industries},
                open={p.id: int(p.id in already) for p in inst.parks}, periods=ids,
                opened={p: ids[0] for p in already} if ids else {})


def restrict(inst: Instance, players: Iterable[str], coalition: Iterable[str], relax: bool = False) -> Instance:
    """The instance with only `coalition` of `players` cooperating (see the module's docstring);
    `relax` drops `must_transfer` for every player's industry (the relaxation R(S))."""
    players, coalition = set(players), set(coalition)
    out = sorted(players - coalition)
    dropped = players if relax else set(out)
    industries = [i.model_copy(update={"must_transfer": False}) if i.must_transfer and i.origin in dropped else i
                  for i in inst.industries]
    rules = list(inst.rules)
    # Only provinces that own something get a selector: a forbid on nothing changes nothing, and the
    # grand coalition's instance stays the instance itself.
    out_origins = [p for p in out if any(i.origin == p for i in inst.industries)]
    out_parks = [p for p in out if any(k.province == p for k in inst.parks)]
    if out_origins:
        rules.append(ForbidRule(id="_shapley_out_industries", kind="forbid", source=SOURCE,
                                description="industries of players outside the coalition stay at their origin",
                                industries=IndustrySelector(origin=out_origins)))
    if out_parks:
        rules.append(ForbidRule(id="_shapley_out_parks", kind="forbid", source=SOURCE,
                                description="parks of players outside the coalition receive nothing",
                                parks=ParkSelector(province=out_parks)))
    return inst.model_copy(update={"industries": industries, "rules": rules})


def active_provinces(loaded: Loaded, solve_options: SolveOptions | None = None,
                     build_options: BuildOptions | None = None) -> tuple[list[str], float | None, str]:
    """The provinces that send or receive modules in the instance's optimal plan, the plan's
    objective (None when the instance has no plan: infeasible, or a limit) and the solve's status."""
    outcome = solve_instance(loaded, build_options, solve_options)
    if outcome.plan is None or outcome.result.objective is None:
        return [], None, outcome.result.status
    inst = loaded.instance
    origin = {i.id: i.origin for i in inst.industries}
    province = {p.id: p.province for p in inst.parks}
    moving = {origin[i] for (i, _), v in outcome.plan.x.items() if v > 0}
    moving |= {province[p] for (_, p), v in outcome.plan.x.items() if v > 0}
    return [p for p in provinces(inst) if p in moving], float(outcome.result.objective), outcome.result.status


def check_players(inst: Instance, players: Iterable[str], option: str = "--players") -> list[str]:
    """The players as given; `InputError` naming `option` for a name that is no province, or given twice."""
    known = provinces(inst)
    named = [p.strip() for p in players]
    twice = sorted({p for p in named if named.count(p) > 1})
    if twice:  # a player is one province: named twice is a slip, not a weight
        raise InputError([Problem(option, ",".join(twice), "named twice", "each province once")])
    given = list(dict.fromkeys(named))
    unknown = [p for p in given if p not in known]
    if unknown or not given:
        what = ("no player given" if not given else
                f"{'is not a province' if len(unknown) == 1 else 'are not provinces'} of the instance")
        raise InputError([Problem(option, ",".join(unknown) or "(empty)", what,
                                  "a comma-separated list of: " + ", ".join(known))])
    return given


class _Game:
    """v(S), solved once per coalition, with the infeasibility convention of the module's docstring."""

    def __init__(self, loaded: Loaded, players: list[str], solve_options: SolveOptions | None,
                 build_options: BuildOptions | None, progress: Callable[[str], None] | None) -> None:
        self.loaded, self.players, self.progress = loaded, players, progress
        self.options, self.build = solve_options, build_options
        self.v: dict[frozenset[str], float] = {}
        self.z: dict[frozenset[str], float | None] = {}
        self.infeasible: list[frozenset[str]] = []
        self.not_optimal: list[frozenset[str]] = []
        self.solves = 0
        self.reference = 0.0

    def solve(self, coalition: frozenset[str], relax: bool = False) -> float | None:
        """z* of the coalition's instance (of its relaxation), None when infeasible."""
        inst = restrict(self.loaded.instance, self.players, coalition, relax)
        outcome = solve_instance(Loaded(inst, self.loaded.raw, self.loaded.scenario), self.build, self.options)
        self.solves += 1
        r = outcome.result
        if r.status == "interrupted" or CONTROL.stop.is_set():
            raise Interrupted(CONTROL.signal_name or "SIGINT")
        if self.progress is not None:
            members = ", ".join(p for p in self.players if p in coalition) or "none"
            self.progress(f"solve {self.solves}: {'R' if relax else ''}{{{members}}} {r.status}"
                          + (f" {r.objective:.10g}" if r.has_solution else "") + f" ({r.seconds:.1f} s)")
        if r.status == "infeasible":
            return None
        if not r.has_solution or r.objective is None:
            members = ", ".join(p for p in self.players if p in coalition) or "no player"
            raise NoValue(f"the solve of the coalition {{{members}}} ended without a plan ({r.status})"
                          + (f": {r.message}" if r.message else ""), r.status)
        if r.status != "optimal" and not relax:
            self.not_optimal.append(coalition)
        return float(r.objective)

    def value(self, coalition: frozenset[str]) -> float:
        if coalition in self.v:
            return self.v[coalition]
        if not coalition:
            self.v[coalition] = 0.0
            return 0.0
        z = self.z[coalition] = self.solve(coalition)
        if z is not None:
            self.v[coalition] = self.reference - z
            return self.v[coalition]
        self.infeasible.append(coalition)
        parts = [coalition - {j} for j in coalition]
        # An exact run has met every part already; a sampled run proves most infeasible coalitions'
        # parts infeasible with one solve of the relaxation instead of solving the lattice below.
        if not all(s in self.v for s in parts) and self.solve(coalition, relax=True) is None:
            self.v[coalition] = 0.0
        else:
            self.v[coalition] = max(self.value(s) for s in parts)
        return self.v[coalition]


def shapley(loaded: Loaded, players: list[str] | None = None, *, samples: int = 200, seed: int = 0,
            exact_up_to: int = EXACT_UP_TO, solve_options: SolveOptions | None = None,
            build_options: BuildOptions | None = None,
            progress: Callable[[str], None] | None = None) -> ShapleyResult:
    """The Shapley value of each player's share of the cooperative gain (see the module's docstring).

    `players` None: every province sending or receiving modules in the optimal plan (one solve).
    Exact when there are at most `exact_up_to` players, else `samples` random orders from `seed`.
    `build_options` choose the formulation; `progress` receives one line per solve. Raises
    `InputError` for unknown players, `NoValue` when a solve ends without a plan or a proof of
    infeasibility, `solvers.control.Interrupted` on Ctrl-C or SIGTERM.
    """
    start = time.perf_counter()
    inst = loaded.instance
    if samples < 1:
        raise InputError([Problem("--samples", str(samples), "not a positive number", "at least 1")])
    grand_z: float | None = None
    grand_status, first_solves = "optimal", 0
    if players is None:
        players, grand_z, grand_status = active_provinces(loaded, solve_options, build_options)
        first_solves = 1
        if grand_z is None:
            raise NoValue(f"the instance's own solve found no plan ({grand_status}) to take the players from; "
                          "name them with --players", grand_status)
        if not players:
            raise InputError([Problem("--players", "(default)", "no province sends or receives modules in the "
                                      "optimal plan: there is no gain to split", "a list of provinces to split")])
    else:
        players = check_players(inst, players)
    report = check(inst, status_quo(inst))
    game = _Game(loaded, players, solve_options, build_options, progress)
    game.solves = first_solves
    empty, grand = frozenset(), frozenset(players)
    game.z[empty] = game.solve(empty)
    game.reference = report.objective if game.z[empty] is None else float(game.z[empty])
    if game.z[empty] is None:
        game.infeasible.append(empty)
    game.v[empty] = 0.0
    if grand_z is not None:  # the grand coalition's instance is the instance itself: its solve is done
        game.z[grand], game.v[grand] = grand_z, game.reference - grand_z
        if grand_status != "optimal":
            game.not_optimal.append(grand)
    n = len(players)
    exact = n <= exact_up_to
    # As many orders asked for as there are, or more: all of them, each once, is the exact value
    # (drawn with replacement, 3 orders of 2 players could be one order thrice: a standard error
    # of 0 on a wrong value).
    every_order = not exact and math.factorial(n) <= samples
    if exact or every_order:
        for size in range(1, n + 1):  # by size, so an infeasible coalition's parts are all known
            for s in itertools.combinations(players, size):
                game.value(frozenset(s))
        value, error = _exact(players, game), {p: 0.0 for p in players}
    else:
        value, error = _sampled(players, game.value, samples, seed)
        if len(game.v) == 2 ** n:  # the orders met every coalition: the exact value costs no solve
            exact = True
            value, error = _exact(players, game), {p: 0.0 for p in players}
    v_grand = game.value(grand)
    total = sum(value.values())
    assert abs(total - v_grand) <= 1e-6 * max(1.0, abs(v_grand)), f"Σφ = {total} ≠ v(P) = {v_grand}"
    exact = exact or every_order
    return ShapleyResult(
        players, value, error, exact, v_grand, report.objective, dict(game.v), game.infeasible, game.solves,
        time.perf_counter() - start, game.reference, "status quo" if game.z[empty] is None else "empty coalition",
        dict(game.z), game.not_optimal, list(report.violations),
        [p for p in provinces(inst) if p not in set(players)],
        0 if n <= exact_up_to else math.factorial(n) if every_order else samples,
        None if n <= exact_up_to or every_order else seed)


def _sampled(players: list[str], v: Callable[[frozenset[str]], float], samples: int,
             seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """φ_i estimated over `samples` random orders (seeded), and each estimate's standard error."""
    n = len(players)
    rng = np.random.default_rng(seed)
    marginals = np.zeros((samples, n))
    for k in range(samples):
        before: frozenset[str] = frozenset()
        for j in rng.permutation(n):
            after = before | {players[j]}
            marginals[k, j] = v(after) - v(before)
            before = after
    spread = marginals.std(axis=0, ddof=1) / math.sqrt(samples) if samples > 1 else np.full(n, math.nan)
    return dict(zip(players, marginals.mean(axis=0).tolist())), dict(zip(players, spread.tolist()))


def _exact(players: list[str], game: _Game) -> dict[str, float]:
    """φ_i = Σ_{S ⊆ P∖{i}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S)), over coalitions already met."""
    n = len(players)
    value = {p: 0.0 for p in players}
    for p in players:
        others = [q for q in players if q != p]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for s in itertools.combinations(others, size):
                value[p] += weight * (game.value(frozenset(s) | {p}) - game.value(frozenset(s)))
    return value


def table(result: ShapleyResult, unit: str) -> pd.DataFrame:
    """One row per player, largest value first: φ, its share of v(P) (none when v(P) ≤ 0: a share of
    a loss reads with its sign turned, the province that costs most as taking most), its standard error."""
    share = [result.value[p] / result.v_grand if result.v_grand > 0 else math.nan for p in result.players]
    out = pd.DataFrame({"province": result.players, "shapley_value": [result.value[p] for p in result.players],
                        "share_of_gain": share, "std_error": [result.std_error[p] for p in result.players],
                        "unit": unit})
    return out.sort_values("shapley_value", ascending=False, kind="stable").reset_index(drop=True)
