"""The outcome of a solve, the same whichever back-end or solver produced it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from importlib import metadata

STATUSES = ("optimal", "feasible", "interrupted", "infeasible", "unbounded", "no_solution", "error")


class SolverNotFound(Exception):
    """The named solver is not one Pyomo can run here."""


@dataclass
class SolveResult:
    status: str  # one of STATUSES
    termination: str  # the solver's own word
    objective: float | None
    bound: float | None
    gap: float | None  # |objective − bound| / |objective|, as HiGHS reports it
    seconds: float
    nodes: int | None
    solver: str
    version: str
    message: str = ""
    dual_seconds: float = 0.0  # the LP re-solve for the duals, not in `seconds`
    root_bound: float | None = None  # the MIP's dual bound when the root node was done (HiGHS direct)
    # (seconds, objective) at each improvement: the kernel search's, HiGHS's incumbents in a MIP
    trace: list[tuple[float, float]] | None = None
    method: str = "mip"  # how the MIP was searched: "mip" (whole, by the solver) or "kernel" (kernel search)

    @property
    def has_solution(self) -> bool:
        """A plan to report: optimal, feasible within a limit, or the incumbent of an interrupted solve."""
        return self.status in ("optimal", "feasible") or (self.status == "interrupted" and self.objective is not None)

    def as_dict(self) -> dict:
        return asdict(self)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    diff = abs(objective - bound)
    if diff <= 1e-12 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"
