"""A plan in the instance's terms: plain data, no model, so the checker and the readers need no solver."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    """Which modules go where, which stay, which parks open and which upgrades are built."""

    x: dict[tuple[str, str], float] = field(default_factory=dict)  # (industry, park) -> modules
    stay: dict[str, float] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)  # park -> 0/1
    upgrades: list[tuple[str, str]] = field(default_factory=list)  # (park, upgrade) built
