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
    # How the model reaches the solver: "direct" (HiGHS through highspy, one CSR matrix) or "pyomo"
    # (the reference, through Pyomo; the only way for any other solver).
    backend: str = "direct"
    # The construction heuristic (`model/heuristic.py`): "start" hands its plan to the solver as a
    # MIP start, "only" reports it without a solver, "off" never runs it, "auto" is "start" on
    # models of at least AUTO_PAIRS pair columns (below, HiGHS finds plans at once by itself).
    heuristic: str = "auto"
    # How the MIP is searched: "mip" hands the whole problem to the solver; "kernel" runs the kernel
    # search around the LP relaxation (`solvers/kernel.py`), whose restricted MIPs the solver solves;
    # "auto" is "kernel" on models of at least AUTO_PAIRS pair columns through the direct back-end
    # (there HiGHS's own root LP takes minutes: benchmarks/heuristic.py), "mip" elsewhere.
    method: str = "auto"

    def as_dict(self) -> dict[str, Any]:
        return {"solver": self.solver, "backend": self.path, "time_limit": self.time_limit,
                "mip_gap": self.mip_gap, "threads": self.threads, "seed": self.seed, "raw": dict(self.raw),
                "heuristic": self.heuristic, "method": self.method}

    @property
    def path(self) -> str:
        """The back-end actually used: direct only for HiGHS."""
        return "direct" if self.backend == "direct" and self.solver in HIGHS_NAMES else "pyomo"


def search_method(opts: SolveOptions, pairs: int) -> str:
    """"mip" or "kernel": what `opts.method` means for a model of `pairs` pair columns."""
    if opts.method != "auto":
        return opts.method
    return "kernel" if pairs >= AUTO_PAIRS and opts.path == "direct" else "mip"


HIGHS_NAMES = ("highs", "appsi_highs")
HEURISTICS = ("auto", "start", "off", "only")
AUTO_PAIRS = 20_000
METHODS = ("auto", "mip", "kernel")
BACKENDS = ("direct", "pyomo")


# HiGHS options that read or write files of their own choosing: the tool never writes outside the
# folders it checked, nor reads what the user did not hand it (`--tee` shows the log).
FILE_OPTIONS = ("log_file", "write_model_to_file", "write_presolved_model_to_file", "write_solution_to_file",
                "read_solution_file", "read_basis_file", "write_model_file", "solution_file", "write_basis_file",
                "write_presolved_model_file", "write_iis_model_file", "mip_improving_solution_file")
# HiGHS options the typed ones set: given both ways, the two back-ends would settle the clash
# differently (Pyomo lets the raw option win), so the raw spelling is refused.
TYPED = {"time_limit": "--time-limit", "mip_rel_gap": "--mip-gap", "threads": "--threads",
         "random_seed": "--seed", "output_flag": "--tee", "log_to_console": "--tee"}
# Options that change what the solver's statuses mean: an objective cutoff makes HiGHS call a
# feasible instance infeasible, which the diagnosis would then try to explain.
CHANGES_STATUS = ("objective_bound", "objective_target", "mip_max_improving_sols")
# Options that change how HiGHS reads the model (what counts as zero, infinite or too large).
CHANGES_MODEL = ("small_matrix_value", "large_matrix_value", "infinite_bound", "infinite_cost")
# Feasibility tolerances looser than the independent checker's (1e-6) give plans it rejects.
TOLERANCES = ("primal_feasibility_tolerance", "mip_feasibility_tolerance")
CHECKER_TOLERANCE = 1e-6
MAX_THREADS = 256  # HiGHS starts that many threads; 100,000 hung for minutes on a 3-bundle model


def parse_value(text: str) -> Any:
    """An option's value as written: true/false, a whole number, a number, or else the word itself
    (`presolve=off` stays the word `off`, not YAML's boolean)."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            pass
    return text.strip()


def option_problems(solver: str, raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Raw options the solver would refuse, as (NAME=VALUE, why). HiGHS's are checked against
    HiGHS itself (name, type and range); other solvers' are passed on unchecked."""
    if solver not in ("highs", "appsi_highs") or not raw:
        return []
    import highspy

    from solvers.silent import new_highs

    highs = new_highs()
    out = []
    for name, value in raw.items():
        if name in FILE_OPTIONS:
            out.append((f"{name}={value}", "reads or writes a file of its own; not allowed (--tee shows the log)"))
            continue
        if name == "threads" and isinstance(value, int) and not isinstance(value, bool) and value > MAX_THREADS:
            out.append((f"{name}={value}", f"more than {MAX_THREADS} threads"))
            continue
        status, kind = highs.getOptionType(name)
        if status != highspy.HighsStatus.kOk:
            out.append((f"{name}={value}", "not an option of HiGHS"))
            continue
        wants_bool = kind == highspy.HighsOptionType.kBool
        if isinstance(value, bool) != wants_bool or value is None:
            out.append((f"{name}={value}", f"not a valid value (HiGHS wants {_KINDS.get(kind.name, kind.name)})"))
            continue
        ok = highs.setOptionValue(name, value) == highspy.HighsStatus.kOk
        highs.setOptionValue("output_flag", False)  # were it the option checked: HiGHS stays silent
        if not ok:
            wants = ("one of the words HiGHS accepts for it" if kind == highspy.HighsOptionType.kString
                     else f"{_KINDS.get(kind.name, kind.name)} within the option's range")
            out.append((f"{name}={value}", f"not a valid value (HiGHS wants {wants})"))
        elif name in TYPED:
            out.append((f"{name}={value}", f"set by {TYPED[name]}; give it there"))
        elif name in CHANGES_STATUS:
            out.append((f"{name}={value}", "changes what the solver's statuses mean (a cutoff reads as "
                                           "infeasible); not allowed"))
        elif name in CHANGES_MODEL:
            out.append((f"{name}={value}", "changes how HiGHS reads the model; not allowed"))
        elif name in TOLERANCES and isinstance(value, (int, float)) and value > CHECKER_TOLERANCE:
            out.append((f"{name}={value}", f"looser than the independent checker's {CHECKER_TOLERANCE:g}: its "
                                           "plans would be rejected"))
        elif isinstance(value, float) and value != value:
            out.append((f"{name}={value}", "not a number"))
    return out


_KINDS = {"kBool": "true or false", "kInt": "a whole number", "kDouble": "a number", "kString": "a word"}
