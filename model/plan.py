"""A plan in the instance's terms: plain data, no model, so the checker and the readers need no solver.

With periods the plan also says when: the modules moving in each period (`moves`), closing in
each period (`retirements`), the period each park is open from (`opened`) and each upgrade is
built in (`built`); `x`, `stay`, `open` and
`upgrades` are then the plan at the end of the last period. `period(t)` is the plan as it stands
in period t, with what happens in t itself (`moved`, `opening`, `building`) for one-off amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    """Which modules go where, which stay, which parks open and which upgrades are built."""

    x: dict[tuple[str, str], float] = field(default_factory=dict)  # (industry, park) -> modules
    stay: dict[str, float] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)  # park -> 0/1
    upgrades: list[tuple[str, str]] = field(default_factory=list)  # (park, upgrade) built
    periods: tuple[str, ...] = ()  # period ids; empty: a single period
    moves: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (industry, park, period) -> modules
    opened: dict[str, str] = field(default_factory=dict)  # park -> the period it is open from
    built: dict[tuple[str, str], str] = field(default_factory=dict)  # (park, upgrade) -> the period it is built in
    # In a plan of one period (`period(t)`): what happens in that period (None: everything in `x`,
    # `open`, `upgrades` happens in it, as in a single-period plan).
    moved: dict[tuple[str, str], float] | None = None
    opening: dict[str, int] | None = None
    building: list[tuple[str, str]] | None = None
    # Amounts the model decides between jurisdictions (side payments, allowances bought), by
    # (measure, rule, payer, payee, period): `model/transfers.py`; period "" without periods.
    transfers: dict[tuple[str, str, str, str, str], float] = field(default_factory=dict)
    retire: dict[str, float] = field(default_factory=dict)  # industry -> modules closed (by the end)
    retirements: dict[tuple[str, str], float] = field(default_factory=dict)  # (industry, period) -> closing then
    retired: dict[str, float] | None = None  # in a plan of one period: closing in it (None: all of `retire`)

    @property
    def phased(self) -> bool:
        return bool(self.periods)

    def period(self, t: int) -> Plan:
        """The plan as it stands in period t (a single-period plan is itself)."""
        if not self.phased:
            return self
        now = self.periods[t]
        before = set(self.periods[: t + 1])
        x: dict[tuple[str, str], float] = {}
        moved: dict[tuple[str, str], float] = {}
        stay = dict(self.stay)
        for (i, p, q), v in self.moves.items():
            if q in before:
                x[i, p] = x.get((i, p), 0.0) + v
                if q == now:
                    moved[i, p] = moved.get((i, p), 0.0) + v
            else:  # moves later: it is still at its origin in t
                stay[i] = stay.get(i, 0.0) + v
        retire: dict[str, float] = {}
        retired: dict[str, float] = {}
        for (i, q), v in self.retirements.items():
            if q in before:
                retire[i] = retire.get(i, 0.0) + v
                if q == now:
                    retired[i] = retired.get(i, 0.0) + v
            else:  # closes later: it is still running at its origin in t
                stay[i] = stay.get(i, 0.0) + v
        is_open = {p: int(self.opened.get(p) in before) for p in self.open}
        return Plan(x, stay, is_open, [pu for pu, q in self.built.items() if q in before],
                    moved=moved, opening={p: int(self.opened.get(p) == now) for p in self.open},
                    building=[pu for pu, q in self.built.items() if q == now],
                    transfers={k: v for k, v in self.transfers.items() if k[4] == now},
                    retire=retire, retired=retired)
