"""Typed solver options, with a raw pass-through for anything else the solver knows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SolveOptions:
    solver: str = "highs"
    time_limit: float | None = None  # seconds, wall clock
    mip_gap: float | None = None  # relative; HiGHS's own default is 1e-4
    threads: int | None = None
    seed: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # passed to the solver as they are
    tee: bool = False  # stream the solver's log

    def as_dict(self) -> dict[str, Any]:
        return {"solver": self.solver, "time_limit": self.time_limit, "mip_gap": self.mip_gap,
                "threads": self.threads, "seed": self.seed, "raw": dict(self.raw)}
