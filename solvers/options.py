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


def option_problems(solver: str, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Raw options the solver would refuse, as (NAME=VALUE, why). HiGHS's are checked against
    HiGHS itself (name, type and range); other solvers' are passed on unchecked."""
    if solver not in ("highs", "appsi_highs") or not raw:
        return []
    import highspy
    from pyomo.common.tee import capture_output

    with capture_output(capture_fd=True):  # HiGHS prints a banner when created
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
    out = []
    for name, value in raw.items():
        status, kind = highs.getOptionType(name)
        if status != highspy.HighsStatus.kOk:
            out.append((f"{name}={value}", "not an option of HiGHS"))
            continue
        wants_bool = kind == highspy.HighsOptionType.kBool
        if isinstance(value, bool) != wants_bool or value is None:
            out.append((f"{name}={value}", f"not a valid value (HiGHS wants {_KINDS.get(kind.name, kind.name)})"))
            continue
        with capture_output(capture_fd=True):
            ok = highs.setOptionValue(name, value) == highspy.HighsStatus.kOk
        if not ok:
            wants = ("one of the words HiGHS accepts for it" if kind == highspy.HighsOptionType.kString
                     else f"{_KINDS.get(kind.name, kind.name)} within the option's range")
            out.append((f"{name}={value}", f"not a valid value (HiGHS wants {wants})"))
    return out


_KINDS = {"kBool": "true or false", "kInt": "a whole number", "kDouble": "a number", "kString": "a word"}
