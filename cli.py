"""industry-transfer: the command line. Parses, calls model/ and solvers/, formats errors, sets exit codes.

Exit codes: 0 solved (optimal, or feasible within the limits); 2 bad input; 3 infeasible;
4 no solution within the limits, interrupted, or the solver failed; 5 the independent checker
rejected the solver's plan; 6 `check`: the plan breaks a constraint; 130 interrupted before
anything was written.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()  # a console command's budget (`--time-limit`) counts from here
_CONSOLE = False  # run as the console command (`entry`), not called as a library (tests, notebooks)

import math
import os
import signal
import sys


def _starting(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM while Python loads the libraries: nothing has been done yet."""
    os.write(2, f"error: interrupted ({signal.Signals(signum).name}) while starting; nothing was done\n".encode())
    os._exit(130)


if os.path.basename(sys.argv[0]) in ("industry-transfer", "cli.py"):  # the console command, not a library
    signal.signal(signal.SIGINT, _starting)
    signal.signal(signal.SIGTERM, _starting)

import errno
import functools
import json
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from model.options import DEFAULT_FORMULATION, FORMULATIONS

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_CHECK, EXIT_PLAN_INFEASIBLE = 0, 2, 3, 4, 5, 6
EXIT_INTERRUPTED = 130
# A write the machine refused (a full disk, a read-only file system, an I/O error): not a bug of ours
WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})
EXIT_BROKEN_PIPE = 1  # the reader left (`| head`): silent, as rich's consoles end then and Python's docs advise


class Finite(click.ParamType):
    """A finite number within [low, high] (NaN and infinity refused: click's FloatRange lets NaN through)."""

    name = "number"

    def __init__(self, low: float, high: float, low_open: bool = False) -> None:
        self.low, self.high, self.low_open = low, high, low_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        low_ok = number > self.low if self.low_open else number >= self.low
        if not (low_ok and number <= self.high):  # also false for NaN
            left = "(" if self.low_open else "["
            self.fail(f"{value!r} is not a finite number in {left}{self.low:g}, {self.high:g}]", param, ctx)
        return number


SECONDS = Finite(0, 10**7, low_open=True)  # up to about 115 days
GAP = Finite(0, 1)
FORMULATION_HELP = ("tight: the strong link with the sector capacity cut; strong or aggregated link; "
                    "strong_cover adds the total-capacity cover cut.")


def _fail(ctx: click.Context, lines: list[str], code: int) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    ctx.exit(code)


def reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input errors into one line each and exit 2; anything unexpected into one line, exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from model.errors import InputError

        ctx = click.get_current_context()
        debug = (ctx.find_root().obj or {}).get("debug", False)
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM outside a solve: nothing was written
            if debug:
                traceback.print_exc()
            name = str(exc) or "SIGINT"
            _fail(ctx, [f"interrupted ({name}): stopped before the work was done; no folder was left half-written"],
                  EXIT_INTERRUPTED)
        except InputError as exc:
            if debug:
                traceback.print_exc()
            _fail(ctx, [str(p) for p in exc.problems], EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the reader left (`| head`): not an error of ours, nothing more to say
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # the exit's flush of what is left must not fail again
            sys.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:
            if debug:
                traceback.print_exc()
            if exc.errno not in WRITE_FAILURES:
                _fail(ctx, [f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"], 1)
            if exc.filename is None:  # the terminal's output: the exit's flush of what is left must not fail again
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            where = exc.filename if exc.filename is not None else "the standard output"
            _fail(ctx, [f"cannot write to {where}: {exc.strerror or exc}"], 1)
        except Exception as exc:  # a bug: say so in one line, the traceback under --debug
            if debug:
                traceback.print_exc()
            _fail(ctx, [f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"], 1)

    return wrapper


def instance_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                        help="Patch a value after the scenario, e.g. parks.wuhu.capacity.land=80 "
                             "or parks.*.capacity.cod='*0.8'.")(func)
    func = click.option("--scenario", metavar="NAME", multiple=True, callback=_one_scenario,
                        help="Apply a named scenario of the instance.")(func)
    return click.argument("instance", type=click.Path(dir_okay=False))(func)


def _one_scenario(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> str | None:
    """One `--scenario` per run: given twice, Click would silently keep the last one."""
    if len(value) > 1:
        raise click.BadParameter(f"given {len(value)} times ({', '.join(value)}); one scenario per run (to run "
                                 f"several: industry-transfer sweep INSTANCE --scenario A --scenario B)")
    return value[0] if value else None


class _Commands(click.Group):
    """Click's group, with its usage errors (an option's value out of range, an unknown option, a
    missing argument) in the one-line form of every other error, still exit 2."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # no command at all: the help, as it is
            click.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            path = ctx.command_path if ctx is not None else "industry-transfer"
            see = f" (see {path} --help)" if isinstance(exc, click.UsageError) else ""
            click.echo("error: " + " ".join(exc.format_message().split()) + see, err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("--max-input-mb", type=Finite(0, 10**6, low_open=True), default=50, show_default=True,
              help="Largest YAML file or CSV side table read, in MB.")
@click.version_option(package_name="industry-transfer", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context, debug: bool, max_input_mb: float) -> None:
    """Allocate industries from China's eastern provinces to central and western parks (MIP, HiGHS)."""
    from solvers.control import CONTROL, install_handlers

    ctx.obj = {"debug": debug, "started": STARTED if _CONSOLE else time.monotonic(),
               "max_bytes": int(max_input_mb * 2**20)}
    CONTROL.reset()
    install_handlers()


def benchmark_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--index", type=click.IntRange(min=1), default=1, show_default=True,
                        help="GAP: which instance of the file (1-based).")(func)
    func = click.option("--maximise", is_flag=True,
                        help="GAP: maximise the profit, as OR-Library states gap1-12 (objective: minus it).")(func)
    func = click.option("--sourcing", type=click.Choice(["single", "multi"]), default="multi", show_default=True,
                        help="orlib-cap: may a customer's demand be split over warehouses?")(func)
    return click.option("--capacity", type=Finite(0, 1e12, low_open=True),
                        help="orlib-cap: capacity of every warehouse (needed for capa/capb/capc).")(func)


class RegistryHelp(click.Option):
    """An option whose help is computed when shown (from the families' registry): the command line
    starts without importing the model."""

    def __init__(self, *args: Any, help: Callable[[], str], **kwargs: Any) -> None:  # noqa: A002
        super().__init__(*args, **kwargs)
        self.lazy_help = help

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self.lazy_help()
        return super().get_help_record(ctx)


def solver_options(budget: str = "command", gap: float | None = None, alone: bool = True) -> Callable[..., Any]:
    """The solver options every solving command shares: `budget` says what --time-limit bounds
    (the whole command, or each run of a sweep or front); `gap` is the default --mip-gap;
    `alone`: --heuristic-only is offered (not where every point needs the solver's optimum)."""
    time_help = ("Wall-clock budget of the whole command in seconds (build, solve and write)." if budget == "command"
                 else "Wall-clock budget of each run in seconds (build, solve and write).")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([
            click.option("--solver", default="highs", show_default=True, help="Any solver Pyomo knows."),
            click.option("--backend", type=click.Choice(["direct", "pyomo"]), default="direct", show_default=True,
                         help="How the model reaches HiGHS: direct (one matrix through highspy) or through "
                              "Pyomo (the reference; always used for other solvers)."),
            click.option("--time-limit", type=SECONDS, metavar="S", help=time_help),
            click.option("--mip-gap", type=GAP, metavar="G", default=gap, show_default=gap is not None,
                         help="Relative MIP gap at which to stop, 0 to 1" + (" (HiGHS's default: 1e-4)." if gap is None
                                                                              else ".")),
            click.option("--threads", type=click.IntRange(1, 256), help="Solver threads (1 to 256)."),
            click.option("--seed", type=click.IntRange(0, 2_147_483_647),
                         help="Solver random seed (HiGHS: 0 to 2^31 - 1)."),
            click.option("--option", "raw", multiple=True, metavar="NAME=VALUE",
                         help="Raw solver option, checked against HiGHS (e.g. presolve=off)."),
            click.option("--formulation", type=click.Choice(list(FORMULATIONS)), default=DEFAULT_FORMULATION,
                         show_default=True, help=FORMULATION_HELP),
            click.option("--heuristic", type=click.Choice(["auto", "start", "off"]), default="auto",
                         show_default=True,
                         help="The construction heuristic's plan as the solver's MIP start: always (start), "
                              "never (off), or on models of 20,000 pairs or more (auto)."),
            click.option("--heuristic-only", is_flag=True, hidden=not alone,
                         help="Report the construction heuristic's plan without a solver (huge instances): "
                              "feasible, checked, no bound."),
        ]):
            func = option(func)
        return func

    return decorate


def method_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--method", type=click.Choice(["auto", "mip", "kernel"]), default="auto", show_default=True,
                        help="mip: the whole MIP to the solver; kernel: kernel search around the LP relaxation "
                             "(restricted MIPs from the LP's support, buckets by reduced cost, then the whole MIP "
                             "from the best plan unless a bound proves it already; the bound is the LP's or the "
                             "solver's, the better); auto: kernel "
                             "on models of 20,000 pairs or more (HiGHS direct), mip below.")(func)


def lang_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                        help="Label provinces, regions, parks, sectors and industries by their name_zh or name_en "
                             "(ids where a name is not given) [ids].")(func)


def _max_bytes() -> int:
    """The --max-input-mb of this command, in bytes (the library's default outside the command line)."""
    from model.loader import MAX_BYTES

    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return (obj or {}).get("max_bytes", MAX_BYTES)


def _sets(sets: tuple[str, ...], option: str = "--set") -> list[tuple[str, Any]]:
    from model.loader import parse_set

    return [parse_set(s, option) for s in sets]


def _import_options_given(capacity: float | None) -> set[str]:
    """The import options (`--capacity`, `--sourcing`, `--index`) the user gave, not their defaults."""
    ctx = click.get_current_context(silent=True)
    given = {name for name in ("index", "sourcing") if ctx is not None and ctx.get_parameter_source(name)
             in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)}
    return given | ({"capacity"} if capacity is not None else set())


def _load(instance: str, scenario: str | None, sets: tuple[str, ...], fmt: str | None = None,
          capacity: float | None = None, sourcing: str = "multi", index: int = 1, maximise: bool = False) -> Any:
    from model import load, load_imported
    from model.errors import InputError, Problem
    from model.importers import OPTION_FORMATS, import_file

    given = _import_options_given(capacity)
    wrong = [name for name in OPTION_FORMATS if name in given and (fmt is None or OPTION_FORMATS[name] != fmt)]
    if wrong:  # an option the file's format does not read would be ignored without a word
        value = {"capacity": capacity, "sourcing": sourcing, "index": index}
        raise InputError([Problem(f"--{name}", f"{value[name]:g}" if name == "capacity" else str(value[name]),
                                  f"does not apply to {'a YAML instance' if fmt is None else f'--format {fmt}'}",
                                  f"--format {OPTION_FORMATS[name]}, or no --{name}") for name in wrong])
    if fmt is None:
        if maximise:
            raise InputError([Problem("--maximise", instance, "is for a GAP benchmark file",
                                      "--format gap FILE (a YAML instance states its own objective)")])
        return load(instance, scenario, _sets(sets), max_bytes=_max_bytes())
    if scenario is not None:
        raise InputError([Problem("--scenario", scenario, "benchmark files have no scenarios", "--set KEY=VALUE")])
    return load_imported(import_file(fmt, instance, capacity, sourcing, index, maximise, _max_bytes()), _sets(sets))


@main.command()
@instance_options
@reports_errors
def validate(instance: str, scenario: str | None, sets: tuple[str, ...]) -> None:
    """Check an instance (and each of its scenarios) and print its size; exit 2 with every problem."""
    from model import check_scenarios
    from model.data import build_data

    loaded = _load(instance, scenario, sets)
    check_scenarios(loaded, max_bytes=_max_bytes())
    data = build_data(loaded.instance)
    inst = loaded.instance
    rules = sum(1 for r in inst.rules if r.enabled)
    click.echo(f"{loaded.raw.file}: valid. {len(inst.industries)} industries "
               f"({int(data.industry['modules'].sum())} modules), {len(inst.parks)} parks, "
               f"{len(inst.resources)} resources, {len(data.pairs)} eligible pairs, "
               f"{rules} enabled rules, {len(inst.scenarios)} scenarios.")


@main.command()
@instance_options
@click.option("--format", "fmt", type=click.Choice(["orlib-cap", "holmberg", "gap"]),
              help="INSTANCE is a benchmark file in this format, imported on the fly.")
@benchmark_options
@solver_options()
@method_option
@click.option("--out", type=click.Path(file_okay=False), help="Results folder [results/<instance>-<scenario>].")
@click.option("--tee", is_flag=True, help="Stream the solver's log.")
@click.option("--report", "with_report", is_flag=True,
              help="Also write report.html and report.xlsx into the results folder (see `report`).")
@lang_option
@reports_errors
def solve(instance: str, scenario: str | None, sets: tuple[str, ...], fmt: str | None, capacity: float | None,
          sourcing: str, index: int, solver: str, backend: str, time_limit: float | None, mip_gap: float | None,
          threads: int | None, seed: int | None, raw: tuple[str, ...], formulation: str, heuristic: str,
          heuristic_only: bool, out: str | None, tee: bool, with_report: bool, lang: str | None,
          maximise: bool, method: str) -> None:
    """Solve an instance, print a summary and write the results folder."""
    from model.errors import InputError, Problem
    from model.options import BuildOptions
    from model.outputs import check_folder, outside_ours
    from model.run import diagnose_outcome, solve_instance
    from solvers import SolverNotFound
    from solvers.control import CONTROL, phase

    ctx = click.get_current_context()
    CONTROL.set_budget(time_limit, ctx.obj["started"])  # the budget of the whole command, start to exit
    loaded = _load(instance, scenario, sets, fmt, capacity, sourcing, index, maximise)
    options = replace(_solve_options(solver, time_limit, mip_gap, threads, seed, raw, tee, backend, heuristic,
                                     heuristic_only), method=method)
    stem = loaded.instance.name if fmt else Path(instance).stem
    folder = Path(out) if out is not None else Path("results") / f"{stem}-{scenario or 'base'}"
    outside_ours(folder, "--out" if out else "results folder")
    check_folder(folder, "--out" if out else "results folder")  # before any work: never lose the user's files
    try:
        outcome = solve_instance(loaded, BuildOptions(formulation=formulation), options)
    except SolverNotFound as exc:
        raise InputError([Problem("--solver", solver, str(exc), "highs, or a solver installed for Pyomo")]) from None
    # The diagnosis of an infeasible run keeps to the budget and stops on a signal (its solves run
    # in children the parent ends); then a signal waits for the results to be written.
    diagnosis = diagnose_outcome(outcome, time_limit)
    with phase("writing"):
        _finish(ctx, loaded, outcome, folder, diagnosis, with_report, lang)


def _report_files(lang: str | None, folder: Path) -> Callable[[Path], dict[str, bytes]]:
    """report.html and report.xlsx made from a results folder as written (before it is swapped in
    at `folder`, the name the report gives it)."""

    def make(tmp: Path) -> dict[str, bytes]:
        from model.errors import InputError
        from model.htmlreport import render
        from model.runfolder import read_run
        from model.workbook import workbook

        try:
            run = read_run(tmp)
            run.folder = folder
            run.edited = []  # every file was written just now, by this solve; the marker listing them comes last
            return {"report.html": render([run], lang=lang).encode("utf-8"),
                    "report.xlsx": workbook([run], lang=lang)}
        except (InputError, ValueError, KeyError, TypeError, OSError) as exc:
            # The run is what was asked for; a report that cannot be made must not lose it.
            click.echo(f"warning: no report written ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
                       f"the results are; `industry-transfer report {folder} --html FILE` tries again", err=True)
            return {}

    return make


def _finish(ctx: click.Context, loaded: Any, outcome: Any, folder: Path, diagnosis: Any, with_report: bool = False,
            lang: str | None = None) -> None:
    """Diagnose an infeasible run, write the results folder, print the summary, set the exit code."""
    from model.outputs import beside
    from model.report import print_summary
    from model.run import write_outcome
    from solvers.control import CONTROL

    r = outcome.result
    console = Console(width=max(100, Console().width))
    if r.status == "interrupted" and not r.has_solution:
        click.echo(f"Interrupted ({r.message}) before a plan was found: nothing was written"
                   + (f"; {folder} is as it was." if folder.exists() else "."), err=True)
        ctx.exit(EXIT_NO_SOLUTION)
    if r.status == "interrupted" and folder.exists() and any(folder.iterdir()):
        # An interrupted run never replaces the results a folder holds; its incumbent goes beside them.
        kept, folder = folder, beside(folder, "-interrupted", "results folder")
        click.echo(f"Interrupted: {kept} keeps its results; this run's incumbent goes to {folder}.", err=True)
    elif r.status in ("no_solution", "error") and _holds_a_plan(folder):
        # A run that found nothing (a limit, a solver failure) proves nothing either: it does not
        # replace a plan the folder holds; its record goes beside it.
        kept, folder = folder, beside(folder, "-" + r.status.replace("_", "-"), "results folder")
        click.echo(f"No plan ({r.status}): {kept} keeps its results; this run's record goes to {folder}.", err=True)
    # `folder` was checked before the solve: if it is the user's now, the run goes beside it
    write_outcome(outcome, folder, diagnosis, report=_report_files(lang, folder) if with_report else None,
                  checked=True)
    from model import kpis

    units = loaded.instance.units
    unit_of = {t: kpis.unit(loaded.instance, t) for t in (*kpis.objective_terms(), *outcome.kpis)}
    unit_of.update({"money": units.money, "modules_moved": "modules", "modules_stayed": "modules",
                    "modules_retired": "modules"})
    shown = _labelled(outcome.tables, loaded.instance, lang)
    print_summary(console, outcome.summary(), unit_of, shown.get("allocations.csv"),
                  shown.get("parks.csv"), shown.get("limits.csv"), folder,
                  shown.get("periods.csv"), shown.get("ledger.csv"))
    if outcome.check is not None and not outcome.check.ok:
        _fail(ctx, ["the independent check rejected the plan:"] + outcome.check.violations
              + outcome.check.mismatches, EXIT_CHECK)
    if r.status == "interrupted":
        click.echo(f"Interrupted: {r.message}.", err=True)
        ctx.exit(EXIT_NO_SOLUTION)
    if r.status == "infeasible":
        _print_diagnosis(diagnosis)
        ctx.exit(EXIT_INFEASIBLE)
    if not r.has_solution:
        click.echo(f"No plan found ({r.status}, solver said {r.termination}). {r.message}".rstrip(), err=True)
        ctx.exit(EXIT_NO_SOLUTION)
    if CONTROL.stop.is_set():  # the signal came after the solve: the results are complete and written
        click.echo(f"({CONTROL.signal_name} received after the solve; the results were written in full.)", err=True)


def _labelled(tables: dict[str, Any], instance: Any, lang: str | None) -> dict[str, Any]:
    """Tables for the terminal, their ids named in `lang` (the files keep the ids)."""
    if lang is None:
        return tables
    from model.labels import Labels, relabel

    labels = Labels(instance, lang)
    return {name: relabel(table, labels) if table is not None else None for name, table in tables.items()}


def _holds_a_plan(folder: Path) -> bool:
    """Whether a results folder holds a run that found a plan."""
    try:
        return json.loads((folder / "kpis.json").read_text(encoding="utf-8")).get("objective") is not None
    except (OSError, ValueError, AttributeError):
        return False


def _solve_options(solver: str, time_limit: float | None, mip_gap: float | None, threads: int | None,
                   seed: int | None, raw: tuple[str, ...], tee: bool = False, backend: str = "direct",
                   heuristic: str = "auto", heuristic_only: bool = False) -> Any:
    """Typed solver options; raw `--option NAME=VALUE` checked against the solver where it can be."""
    from model.errors import InputError, Problem
    from solvers import SolveOptions, SolverNotFound
    from solvers.options import option_problems, parse_value
    from solvers.pyomo_backend import check_solver

    try:
        check_solver(solver)
    except SolverNotFound as exc:
        raise InputError([Problem("--solver", solver, str(exc), "highs, or a solver installed for Pyomo")]) from None
    parsed = {}
    for text in raw:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise InputError([Problem("--option", text, "not of the form NAME=VALUE", "e.g. presolve=off")])
        parsed[name.strip()] = parse_value(value)
    problems = [Problem("--option", text, why, "an option and value the solver knows (see its documentation)")
                for text, why in option_problems(solver, parsed)]
    if problems:
        raise InputError(problems)
    options = SolveOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed,
                           raw=parsed, tee=tee, backend=backend, heuristic="only" if heuristic_only else heuristic)
    if heuristic == "start" and not heuristic_only and options.path != "direct":  # `auto` just does without it
        raise InputError([Problem("--heuristic", "start", f"a MIP start reaches HiGHS through the direct back-end "
                                  f"only, not {solver} through Pyomo", "--heuristic auto or off with --backend "
                                  "pyomo or another solver, or --backend direct with HiGHS")])
    return options


def _print_diagnosis(diagnosis: Any) -> None:
    if diagnosis is not None and diagnosis.status not in ("optimal", "feasible") and not diagnosis.relaxations:
        click.echo(f"The instance is infeasible. The diagnosis stopped before it found a set of relaxations "
                   f"({diagnosis.status}); `industry-transfer diagnose` runs it on its own.", err=True)
        return
    if diagnosis is None or not diagnosis.relaxations:
        click.echo("The instance is infeasible, and no relaxation of its capacities, limits, targets or rules "
                   "restores feasibility.", err=True)
    elif diagnosis.status != "optimal":
        click.echo("The instance is infeasible. A set of relaxations that restores feasibility (the search "
                   "stopped before it proved it the smallest):", err=True)
    else:
        click.echo("The instance is infeasible. The smallest set of relaxations that restores feasibility:",
                   err=True)
    for line in diagnosis.lines() if diagnosis else []:
        click.echo(f"  - {line}", err=True)


def _weights_help() -> str:
    from model.diagnose import default_weights

    return "Penalty per relaxation (default: " + ", ".join(f"{k} {w:g}" for k, w in default_weights().items()) + ")."


@main.command()
@instance_options
@click.option("--weight", "weights", multiple=True, metavar="NAME=W", cls=RegistryHelp,
              help=lambda: _weights_help())
@click.option("--time-limit", type=SECONDS, metavar="S",
              help="Wall-clock budget of the whole command in seconds; the best set found by then is reported.")
@click.option("--threads", type=click.IntRange(1, 256), help="Solver threads (1 to 256).")
@reports_errors
def diagnose(instance: str, scenario: str | None, sets: tuple[str, ...], weights: tuple[str, ...],
             time_limit: float | None, threads: int | None) -> None:
    """Explain why an instance is infeasible: the smallest set of relaxations, in its own words."""
    from model.diagnose import default_weights, diagnose
    from model.errors import InputError, Problem
    from solvers import SolveOptions
    from solvers.control import CONTROL

    CONTROL.set_budget(time_limit, click.get_current_context().obj["started"])

    parsed = dict(_sets(weights, "--weight"))
    names = list(default_weights())
    for family, value in parsed.items():
        if family not in names or isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 \
                or not math.isfinite(value):  # at 0 a relaxation is free: no set would be the smallest
            raise InputError([Problem("--weight", f"{family}={value}", "not a relaxation with a finite weight > 0",
                                      "NAME=W with NAME one of " + ", ".join(names))])
    result = diagnose(_load(instance, scenario, sets), {k: float(v) for k, v in parsed.items()},
                      SolveOptions(mip_gap=0.0, time_limit=time_limit, threads=threads))
    if not result.relaxations and result.status not in ("optimal", "feasible"):
        _fail(click.get_current_context(), [f"the diagnosis stopped before it found an answer ({result.status})"],
              EXIT_NO_SOLUTION)
    if not result.relaxations:
        click.echo("Feasible: no relaxation is needed.")
        return
    # Some relaxation is needed only if the least it can cost is above 0: the bound says so.
    proven = result.bound > 1e-6 if result.bound is not None else result.status == "optimal"
    if proven:
        _print_diagnosis(result)
    else:  # stopped before its bound rose above 0: a plan with no relaxation may still exist
        click.echo(f"The diagnosis stopped early ({result.status}) before it proved the instance infeasible. "
                   "Relaxations that restore feasibility (not proven needed):", err=True)
        for line in result.lines():
            click.echo(f"  - {line}", err=True)
    # Interrupted, the command exits as an interrupted solve does, whatever it found.
    click.get_current_context().exit(EXIT_INFEASIBLE if proven and result.status != "interrupted"
                                     else EXIT_NO_SOLUTION)


@main.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@reports_errors
def scenarios(instance: str) -> None:
    """List the named scenarios of an instance with their overlays."""
    from model import check_scenarios, load

    check_scenarios(instance, max_bytes=_max_bytes())
    inst = load(instance, max_bytes=_max_bytes()).instance
    if not inst.scenarios:
        click.echo("No scenarios.")
    for name, sc in inst.scenarios.items():
        click.echo(f"{name}: {sc.description}".rstrip(": "))
        for key, value in sc.set.items():
            click.echo(f"    {key} = {value}")


@main.command()
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--scenario", "names", multiple=True, metavar="NAME", help="A named scenario (repeatable).")
@click.option("--all", "all_scenarios", is_flag=True, help="The base and every named scenario.")
@click.option("--grid", "grids", multiple=True, metavar="KEY=V1,V2,...",
              help="Values to sweep; several --grid options make a cartesian product.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Local worker processes.")
@click.option("--scheduler", metavar="ADDRESS", help="Send the runs to this dask.distributed scheduler instead.")
@solver_options(budget="run")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@reports_errors
def sweep(instance: str, names: tuple[str, ...], all_scenarios: bool, grids: tuple[str, ...], workers: int,
          scheduler: str | None, solver: str, backend: str, time_limit: float | None, mip_gap: float | None,
          threads: int | None, seed: int | None, raw: tuple[str, ...], formulation: str, heuristic: str,
          heuristic_only: bool, out: str) -> None:
    """Solve many variants: named scenarios and a grid of values; one results folder each, and a summary."""
    from dataclasses import replace

    import pandas as pd
    from rich.progress import Progress

    from model import load
    from model.errors import InputError, Problem
    from model.loader import read
    from model.report import print_table
    from model.sweep import SHOWN, check_scheduler, claim, parse_grid, variants
    from model.sweep import sweep as run_sweep

    chosen: list[str | None] = ([None, *load(instance, max_bytes=_max_bytes()).instance.scenarios]
                                if all_scenarios else list(names))
    if len(set(chosen)) < len(chosen):
        twice = next(n for n in chosen if chosen.count(n) > 1)
        raise InputError([Problem("--scenario", str(twice), "is given twice: the same run twice",
                                  "each scenario once")])
    # The grid's keys are matched in the document as read: the base need not validate (a scenario
    # may be what makes it valid), each variant is validated below.
    document = read(instance, max_bytes=_max_bytes()).data if grids else None
    runs = variants(chosen or [None], [parse_grid(g) for g in grids], document)
    for v in runs:  # every variant is validated here, before any is sent to a worker
        try:
            load(instance, v.scenario, list(v.sets), max_bytes=_max_bytes())
        except InputError as exc:  # a run's patches are its --grid values: blame them, not --set
            raise InputError([replace(p, where="--grid") if p.where == "--set" else p for p in exc.problems]) from None
    options = _solve_options(solver, time_limit, mip_gap, threads, seed, raw, backend=backend, heuristic=heuristic,
                             heuristic_only=heuristic_only)
    if scheduler:
        check_scheduler(scheduler)  # before the folder is claimed: an unreachable one leaves it as it was
    folder = claim(Path(out))
    done: list[str] = []
    try:
        with Progress(transient=True) as bar:
            task = bar.add_task(f"{len(runs)} runs", total=len(runs))
            table = run_sweep(instance, runs, folder, formulation, options, workers, scheduler, _max_bytes(),
                              progress=lambda row: (done.append(row), bar.advance(task)))
    except KeyboardInterrupt as exc:
        # What the summary lists, not what the progress saw: a run may complete while the sweep stops.
        try:
            earlier = pd.read_csv(Path(out) / "summary.csv")["earlier"].astype(bool)
            kept, completed = int(earlier.sum()), int((~earlier).sum())
        except (OSError, ValueError, KeyError):
            kept, completed = 0, len(done)
        also = (f", with {kept} runs of an earlier sweep into the folder (column earlier), kept until a sweep "
                "into it completes") if kept else ""
        _fail(click.get_current_context(), [
            f"interrupted ({exc or 'SIGINT'}): {completed} of {len(runs)} runs completed; "
            f"{Path(out) / 'summary.csv'} lists them{also}"], EXIT_NO_SOLUTION if completed else EXIT_INTERRUPTED)
    console = Console(width=max(100, Console().width))
    print_table(console, "Sweep", table[SHOWN])
    console.print(f"Results in {out} (summary.csv and one folder per run)")
    if len(table) and table["objective"].isna().all():
        _fail(click.get_current_context(), ["no run of the sweep found a plan (see the status column)"],
              EXIT_NO_SOLUTION)


@main.command()
@instance_options
@click.option("--x", "x_axis", default="co2", show_default=True,
              help="KPI to constrain: x ≤ ε, or x ≥ ε for a benefit (value_added, jobs).")
@click.option("--y", "y_axis", default="cost", show_default=True,
              help="KPI to minimise (a benefit: to maximise): a KPI term, `cost` (the sum of the cost terms: "
                   "open, upgrade, relocation, operating, logistics, pair, stay, retire, trade and side-payment "
                   "costs) or `objective`.")
@click.option("--points", type=click.IntRange(min=1), default=7, show_default=True)
@solver_options(budget="run", gap=0.0, alone=False)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@reports_errors
def pareto(instance: str, scenario: str | None, sets: tuple[str, ...], x_axis: str, y_axis: str, points: int,
           solver: str, backend: str, time_limit: float | None, mip_gap: float, threads: int | None,
           seed: int | None,
           raw: tuple[str, ...], formulation: str, heuristic: str, heuristic_only: bool, out: str) -> None:
    """The trade-off between two KPIs: an ε-constraint sweep, written as front.csv, front.png and a
    results folder per point."""
    from model.options import BuildOptions
    from model.outputs import outside_ours
    from model.pareto import Interrupted, NoPlan, front
    from model.report import print_table

    outside_ours(Path(out))
    try:
        table = front(_load(instance, scenario, sets), x_axis, y_axis, points, Path(out), BuildOptions(formulation),
                      _solve_options(solver, time_limit, mip_gap, threads, seed, raw, backend=backend,
                                     heuristic=heuristic))
    except NoPlan as exc:
        _fail(click.get_current_context(), [str(exc)],
              EXIT_INFEASIBLE if exc.status == "infeasible" else EXIT_NO_SOLUTION)
    except Interrupted as exc:
        _fail(click.get_current_context(), [str(exc)], EXIT_NO_SOLUTION)
    console = Console(width=max(100, Console().width))
    from model.pareto import sign

    print_table(console, f"Pareto front: {'max' if sign(y_axis) < 0 else 'min'} {y_axis} subject to {x_axis} "
                f"{'≥' if sign(x_axis) < 0 else '≤'} ε", table)
    console.print(f"Results in {out} (front.csv, front.png, one folder per point)")
    from solvers.control import CONTROL

    if CONTROL.stop.is_set():  # after the last point's solve: the front is complete and written
        click.echo(f"({CONTROL.signal_name} received after the last point; the front was written in full.)", err=True)


@main.command("check")
@instance_options
@click.argument("plan", type=click.Path())
@reports_errors
def check_command(instance: str, scenario: str | None, sets: tuple[str, ...], plan: str) -> None:
    """Check a plan against an instance: every constraint it breaks, in the instance's words, its
    KPIs and its objective. PLAN is a results folder or an allocations CSV (industry, park, modules;
    an empty park for modules that stay; an optional column fate, `retired` with an empty park for
    modules that close, as solve writes it; with periods, a column period). Exit 0 if the plan is
    feasible, 6 if not."""
    import pandas as pd

    from model.check import check
    from model.plans import objective_weights, read_plan, solved_from
    from model.report import print_table

    loaded = _load(instance, scenario, sets)
    got = read_plan(Path(plan), loaded.instance)
    other = solved_from(Path(plan), loaded.raw.hash, loaded.scenario, loaded.overlays)
    if other is not None:  # kpis.json is the other run's: its disagreements with the plan would mislead
        got.notes.insert(0, f"the folder's run differs from this check: {other}")
    reported = got.reported or {}
    report = check(loaded.instance, got.plan, reported.get("kpis"), reported.get("objective"),
                   objective_weights(reported))
    report.violations[:0] = got.violations
    console = Console(width=max(100, Console().width))
    for note in got.notes:
        console.print(f"note: {note}")
    from model import kpis

    units = loaded.instance.units
    rows = [{"kpi": k, "value": v, "unit": kpis.unit(loaded.instance, k)} for k, v in report.kpis.items()]
    print_table(console, "KPIs of the plan (recomputed)", pd.DataFrame(rows))
    given = objective_weights(reported)
    if given is not None and all(abs(w - loaded.instance.weight(t)) <= 1e-12 for t, w in given.items()):
        given = None  # the instance's own objective
    console.print(f"objective {report.objective:,.6g} (the weights of the objective the folder reports)" if given
                  else f"objective {report.objective:,.6g} {units.money} (the instance's weights)")
    for line in report.mismatches:
        console.print(f"note: the folder's kpis.json disagrees with its plan: {line}")
    if report.feasible:
        console.print(f"feasible: the plan keeps every constraint of {loaded.raw.file}")
        return
    click.echo(f"infeasible: {len(report.violations)} violation(s)", err=True)
    for line in report.violations:
        click.echo(f"  - {line}", err=True)
    click.get_current_context().exit(EXIT_PLAN_INFEASIBLE)


@main.command()
@click.argument("run", type=click.Path(file_okay=False))
@click.option("--industry", required=True, help="The bundle to explain.")
@click.option("--candidates", type=click.IntRange(min=0), default=5, show_default=True,
              help="How many next-best parks to price by forcing the bundle there.")
@click.option("--prove", type=GAP, is_flag=False, flag_value=0.0, default=None, metavar="[GAP]",
              help="Re-solve the plan and every forcing at this relative MIP gap (0 alone: proven optima), so that "
                   "the deltas are proven; without it they are solved with the run's own options.")
@click.option("--time-limit", type=SECONDS, metavar="S",
              help="The wall-clock limit of each re-solve [the run's own].")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write the cost table as CSV (a new file).")
@click.option("--force", is_flag=True, help="Replace the --out file if it exists.")
@lang_option
@reports_errors
def explain(run: str, industry: str, candidates: int, prove: float | None, time_limit: float | None,
            out: str | None, force: bool, lang: str | None) -> None:
    """Why this park: the bundle's costs where it went and at the next-best parks, the cost of forcing
    it to each (re-solves; whether the gaps prove it), and the rules and capacities (the resource
    short, by how much) that keep it out of the others."""
    import pandas as pd

    from model.explain import explain as explain_run
    from model.outputs import check_new_files, write_file
    from model.report import print_table, printable

    if out is not None:
        _outside_runs([Path(out)], [run], "--out")
        check_new_files([Path(out)], force, "--out")

    result = explain_run(Path(run), industry, candidates, prove, time_limit)
    if out is not None:  # before anything is printed: a closed or full output (`| head`) must not lose it
        write_file(Path(out), result.costs.to_csv(index=False, float_format="%.10g"))
    from model.labels import Labels, relabel

    labels = Labels.from_results(Path(run), lang)
    console = Console(width=max(100, Console().width))
    when = result.when or {}
    where = ", ".join(f"{labels.park(p)} ({v:g} modules" + (f", moved in {when[p]}" if p in when else "") + ")"
                      for p, v in result.placed.items()) or "nowhere"
    console.print(printable(f"{labels.industry(industry)} went to: {where}. Plan objective {result.objective:,.6g}."),
                  markup=False)
    console.print(f"Tolerance: {result.tolerance}.", markup=False)
    if result.note:
        console.print(result.note)
    if result.check:
        click.echo(f"warning: the plan of {run} fails the independent check: " + "; ".join(result.check[:5]),
                   err=True)
    # The terms that are 0 at every row shown say nothing in a narrow terminal (--out keeps them).
    costs = result.costs
    terms = list(costs.columns[1:costs.columns.get_loc("total")])
    zeros = [t for t in terms if pd.to_numeric(costs[t], errors="coerce").fillna(0).abs().max() == 0]
    print_table(console, f"Weighted cost per module of {labels.industry(industry)}, and the plan's objective with "
                "the whole bundle forced there" + (f" ({', '.join(zeros)}: 0 throughout)" if zeros else ""),
                relabel(costs.drop(columns=zeros), labels))
    print_table(console, "Parks the whole bundle cannot go to", relabel(result.excluded[["park", "reason"]], labels))


@main.command()
@instance_options
@click.option("--players", metavar="A,B,...",
              help="Provinces whose cooperation is split, comma-separated [every province that sends or receives "
                   "modules in the optimal plan]; the other provinces always cooperate.")
@click.option("--samples", type=click.IntRange(min=1), default=200, show_default=True,
              help="Random orders of the players, when there are more than --exact-up-to.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the random orders.")
@click.option("--exact-up-to", type=click.IntRange(0, 12), default=5, show_default=True,  # model.shapley.EXACT_UP_TO
              help="Exact over all 2^n coalitions up to this many players (0 to 12); sampled above.")
@click.option("--solver", default="highs", show_default=True, help="Any solver Pyomo knows.")
@click.option("--backend", type=click.Choice(["direct", "pyomo"]), default="direct", show_default=True,
              help="How the model reaches HiGHS: direct (one matrix through highspy) or through Pyomo.")
@click.option("--time-limit", type=SECONDS, metavar="S",
              help="Wall-clock limit of each coalition's solve in seconds (a solve stopped with a plan is used "
                   "and reported as not optimal).")
@click.option("--mip-gap", type=GAP, metavar="G", default=0.0, show_default=True,
              help="Relative MIP gap of each solve, 0 to 1; above 0 each value may be off by up to G × |objective|.")
@click.option("--threads", type=click.IntRange(1, 256), help="Solver threads (1 to 256).")
@click.option("--option", "raw", multiple=True, metavar="NAME=VALUE",
              help="Raw solver option, checked against HiGHS (e.g. presolve=off).")
@click.option("--formulation", type=click.Choice(list(FORMULATIONS)), default=DEFAULT_FORMULATION, show_default=True,
              help=FORMULATION_HELP)
@click.option("--out", type=click.Path(file_okay=False), help="Also write shapley.csv and shapley.json to this folder.")
@click.option("--force", is_flag=True, help="Replace the results of an earlier shapley run in --out.")
@click.option("--progress", is_flag=True, help="Print a line per solve on stderr.")
@reports_errors
def shapley(instance: str, scenario: str | None, sets: tuple[str, ...], players: str | None, samples: int, seed: int,
            exact_up_to: int, solver: str, backend: str, time_limit: float | None, mip_gap: float,
            threads: int | None, raw: tuple[str, ...], formulation: str, out: str | None, force: bool,
            progress: bool) -> None:
    """Split the gain of cooperation among provinces by their Shapley values: a coalition's value is
    what its re-solve (the other players' industries kept home, their parks closed) saves against
    the empty coalition's optimum, or the status quo's objective where no plan without the players
    exists (exact up to --exact-up-to players, else sampled over random orders)."""
    from model.errors import InputError, Problem
    from model.options import BuildOptions
    from model.outputs import check_folder, outside_ours
    from model.report import print_table, write_results
    from model.shapley import NoValue, check_players, table
    from model.shapley import shapley as split

    loaded = _load(instance, scenario, sets)
    chosen = check_players(loaded.instance, players.split(",")) if players is not None else None
    options = _solve_options(solver, time_limit, mip_gap, threads, None, raw, backend=backend)
    if out is not None:  # before any solve: never lose the user's files, nor an hour of solves
        outside_ours(Path(out))
        check_folder(Path(out), "--out", kind="shapley")
        if (Path(out) / "shapley.json").exists() and not force:
            raise InputError([Problem("--out", out, "holds the results of an earlier shapley run; nothing was "
                                                     "written", "a new folder, or --force to replace them")])
    try:
        result = split(loaded, chosen, samples=samples, seed=seed, exact_up_to=exact_up_to, solve_options=options,
                       build_options=BuildOptions(formulation),
                       progress=(lambda line: click.echo(line, err=True)) if progress else None)
    except NoValue as exc:
        _fail(click.get_current_context(), [str(exc)],
              EXIT_INFEASIBLE if exc.status == "infeasible" else EXIT_NO_SOLUTION)
    money = loaded.instance.units.money
    frame = table(result, money)
    console = Console(width=max(100, Console().width))
    how = ("exact over all coalitions" if result.exact else
           f"sampled: {result.samples} random orders, seed {result.seed}; std_error is each estimate's")
    grand = result.reference - result.v_grand
    if result.reference_is == "status quo":
        console.print(f"Gain of cooperation v(P) = {result.v_grand:,.6g} {money}: the status quo's objective "
                      f"{result.z0:,.6g} less the grand coalition's optimum {grand:,.6g}.")
    else:
        console.print(f"Gain of cooperation v(P) = {result.v_grand:,.6g} {money}: the optimum without the players "
                      f"{result.reference:,.6g} (the others cooperating) less the grand coalition's {grand:,.6g}; "
                      f"status quo {result.z0:,.6g}.")
    print_table(console, f"Shapley values ({how})", frame)
    console.print(f"{len(result.players)} players, {result.solves} solves in {result.seconds:.1f} s; "
                  f"{len(result.infeasible)} infeasible coalition(s) valued at the best of their parts"
                  + (f"; always cooperating: {', '.join(result.non_players)}" if result.non_players else "") + ".")
    if result.exact and result.samples and result.seed is None:
        console.print(f"--samples asks for no fewer than the {result.samples} orders of {len(result.players)} "
                      "players: each was taken once, and the values are exact.")
    elif result.exact and result.samples:
        console.print(f"The {result.samples} random orders (seed {result.seed}) met every coalition: "
                      "the values are exact.")
    if result.v_grand <= 0:
        click.echo(f"warning: the gain of cooperation v(P) = {result.v_grand:,.6g} {money} is not positive (the "
                   "players' must_transfer industries cost more than cooperation saves): no share_of_gain is "
                   "given; each value is still the player's average marginal contribution", err=True)
    if options.mip_gap:  # values are differences of optima: each solve's gap is their error
        worst = max((abs(z) for z in result.z_star.values() if z is not None), default=0.0)
        click.echo(f"warning: solved to a relative gap of {options.mip_gap:g}: each value may be off by up to "
                   f"2 × {options.mip_gap:g} × {worst:,.6g} = {2 * options.mip_gap * worst:,.4g} {money} "
                   "(--mip-gap 0, the default, for exact values)", err=True)
    if result.not_optimal:
        click.echo(f"warning: {len(result.not_optimal)} coalition solve(s) stopped at a limit before proving "
                   "optimality; their values may be low (see shapley.json)", err=True)
    if out is not None:
        doc = {"instance": loaded.raw.file, "scenario": scenario, "overlays": loaded.overlays,
               "unit": money, "solve_options": options.as_dict(), "formulation": formulation, **result.as_dict()}
        write_results(Path(out), {"shapley.csv": frame}, {"shapley.json": doc}, kind="shapley", checked=True)
        console.print(f"Written to {out} (shapley.csv, shapley.json)")


def _kpi_display(result: Any) -> tuple[Any, Any]:
    """The KPI table for reading: percentages as text, and each row's scale (its largest figure
    over the runs) so that what is round-off against it shows as 0."""
    import pandas as pd

    table = result.kpis.drop(columns=[c for c in result.kpis.columns if str(c).startswith("interval ")])
    values = table[result.labels].apply(pd.to_numeric, errors="coerce").abs()
    for col in [c for c in table.columns if str(c).startswith("delta % ")]:
        table[col] = [f"{v:+.3g} %" if isinstance(v, float) and v == v and abs(v) >= 1e-7 else
                      ("0 %" if isinstance(v, float) and v == v else "") for v in table[col]]
    return table, values.max(axis=1).fillna(0.0)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="Write the report as one self-contained HTML page here (a new file).")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False),
              help="Write the tables as an Excel workbook here (a new file).")
@click.option("--force", is_flag=True, help="Replace the --html and --xlsx files if they exist.")
@lang_option
@reports_errors
def report(runs: tuple[str, ...], html_path: str | None, xlsx_path: str | None, force: bool, lang: str | None) -> None:
    """Report one results folder, or several side by side with their comparison: an HTML page
    (charts, map, utilisation, ledger, sortable tables) and an Excel workbook."""
    from model.errors import InputError, Problem
    from model.outputs import check_new_files, write_file

    if html_path is None and xlsx_path is None:
        raise InputError([Problem("--html/--xlsx", "(none given)", "nothing to write",
                                  "--html PATH, --xlsx PATH, or both")])
    if "-" in (html_path, xlsx_path):
        raise InputError([Problem("--html/--xlsx", "-", "standard output is not supported (a file named '-' "
                                  "is not what was meant)", "a file name, e.g. report.html")])
    targets = [Path(p) for p in (html_path, xlsx_path) if p is not None]
    if len({t.resolve() for t in targets}) < len(targets):
        raise InputError([Problem("--xlsx", str(xlsx_path), "is the same file as --html", "two different files")])
    if len({Path(r).resolve() for r in runs}) < len(runs):
        raise InputError([Problem("RUNS", " ".join(runs), "the same folder is given twice", "different runs")])
    _outside_runs(targets, runs, "--html/--xlsx")
    from model.htmlreport import render
    from model.runfolder import read_run
    from model.workbook import workbook

    folders = [read_run(Path(r), _max_bytes()) for r in runs]
    check_new_files(targets, force, "--html/--xlsx")
    for r, folder in zip(runs, folders):  # the page says so too, but a reader of the terminal must know
        if folder.check:
            click.echo(f"warning: the plan of {r} fails the independent check: " + "; ".join(folder.check[:5])
                       + (f" and {len(folder.check) - 5} more" if len(folder.check) > 5 else ""), err=True)
        if folder.edited_note:
            click.echo(f"warning: {r}: {folder.edited_note}, shown as the folder holds them", err=True)
    # Both made before either is written: a failure leaves neither, not half the output.
    page = render(folders, lang=lang) if html_path is not None else None
    book = workbook(folders, lang=lang) if xlsx_path is not None else None
    if page is not None:
        write_file(Path(html_path), page)  # type: ignore[arg-type]
        click.echo(f"Report in {html_path}")
    if book is not None:
        write_file(Path(xlsx_path), book)  # type: ignore[arg-type]
        click.echo(f"Workbook in {xlsx_path}")


def _outside_runs(targets: list[Path], runs: tuple[str, ...] | list[str], option: str) -> None:
    """Refuse to write into a results folder being read: it is the tool's, and a file added or
    replaced there would lose a run (kpis.json replaced) or make the folder foreign to the next solve."""
    from model.errors import InputError, Problem

    for target in targets:
        real = target.resolve()
        for r in runs:
            if Path(r).resolve() in real.parents:
                raise InputError([Problem(option, str(target), f"is inside {r}, a results folder being read",
                                          "a path outside the results folders (solve --report writes the report "
                                          "into the folder itself)")])


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), help="Also write the tables as CSV files here (and the "
              "re-solved runs of --prove as results folders proven-<n>-<folder> in it).")
@click.option("--prove", type=GAP, is_flag=False, flag_value=0.0, default=None, metavar="[GAP]",
              help="Re-solve (from each folder's instance.json, with its formulation and back-end) every run whose "
                   "objective difference the gaps cannot tell, at this relative MIP gap (0 alone: proven optima), "
                   "and compare the re-solved figures. The folders are never written to.")
@click.option("--time-limit", type=SECONDS, metavar="S", help="With --prove: the wall-clock limit of each re-solve.")
@lang_option
@reports_errors
def compare(runs: tuple[str, ...], out: str | None, prove: float | None, time_limit: float | None,
            lang: str | None) -> None:
    """Put results folders side by side: KPIs with deltas and whether each is proven by the runs'
    gaps, moved bundles, parks, binding rows, roll-ups by province and region, input differences."""
    from model.compare import compare as compare_runs
    from model.compare import write as write_comparison
    from model.errors import InputError, Problem
    from model.outputs import check_folder, outside_ours
    from model.report import print_table, printable

    if len(runs) < 2:
        raise click.BadParameter("give at least two results folders", param_hint="RUNS")
    if time_limit is not None and prove is None:
        raise InputError([Problem("--time-limit", f"{time_limit:g}", "limits the re-solves of --prove",
                                  "--prove [GAP] with it, or no --time-limit")])
    if out is not None:
        target = Path(out).resolve()
        for r in runs:
            if Path(r).resolve() == target or target in Path(r).resolve().parents:
                raise InputError([Problem("--out", out, f"would replace {r}, which is being compared",
                                          "a folder apart from the runs")])
            if Path(r).resolve() in target.parents:  # a run's folder must stay as the run wrote it
                raise InputError([Problem("--out", out, f"is inside {r}, which is being compared",
                                          "a folder apart from the runs")])
        outside_ours(Path(out))
        check_folder(Path(out), kind="comparison")
    if len({Path(r).resolve() for r in runs}) < len(runs):
        raise InputError([Problem("RUNS", " ".join(runs), "the same folder is given twice", "different runs")])
    result = compare_runs([Path(r) for r in runs], prove, time_limit,
                          progress=lambda line: click.echo(line, err=True))
    # Written before anything is printed: a closed or full output (`| head`) must not lose the files.
    subs = write_comparison(Path(out), result, checked=True) if out is not None else []
    from model.labels import Labels, relabel

    labels = Labels.from_results(Path(runs[0]), lang)  # the runs of a comparison are usually of one instance
    console = Console(width=max(100, Console().width))
    console.print(printable("Runs: " + "; ".join(f"{name} = {folder}" for name, folder in result.folders.items())
                            + " (the first is the reference)"), markup=False)
    for line in result.summary:
        console.print(printable(line), markup=False)
    noisy = [n for n, v in result.verdicts.items() if v.noise]
    caveat = f" (may be solver noise for {', '.join(noisy)})" if noisy else ""
    kpis, scale = _kpi_display(result)
    print_table(console, "KPIs (delta against the reference; the objective's verdict by the gaps, its interval in "
                "kpis.csv)", kpis, scale)
    titles = {"allocations.csv": "Allocations that differ (modules)",
              "parks.csv": "Parks opened or closed, or that began or stopped hosting modules",
              "binding.csv": "Rows whose binding changed"}
    for name, title in titles.items():
        print_table(console, title + caveat, relabel(result.tables()[name], labels))
    rollups = {"received_by_province": "Modules received per host province",
               "received_by_region": "Modules received per region", "sent_by_province": "Modules sent per origin "
               "province", "ledger": "Ledger per province and region (the plan; the last period's with periods)"}
    for name, table in result.rollups.items():
        if name == "ledger":  # the rows that differ; ledger.csv of --out holds them all
            deltas = table[[c for c in table.columns if str(c).startswith("delta ")]].abs()
            table = table[(deltas > 1e-9 * max(1.0, float(deltas.max().max() or 0))).any(axis=1)]
            name, rollups[name] = name, rollups[name] + ", rows that differ"
        print_table(console, rollups[name] + caveat, relabel(table, labels), "column")
    print_table(console, "Input differences (the instance as solved)", result.inputs)
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    for name, problems in result.checks.items():
        if problems:
            click.echo(f"warning: the plan of {name} fails the independent check: " + "; ".join(problems[:5])
                       + (f" and {len(problems) - 5} more" if len(problems) > 5 else ""), err=True)
    if out is not None:
        console.print(f"Written to {out}" + (f" (re-solved runs in {', '.join(subs)})" if subs else ""))


@main.group("import")
def import_group() -> None:
    """Turn a public benchmark file into a YAML instance (with a CSV pair table beside it)."""


def _write_import(fmt: str, file: str, output: str, force: bool, **options: Any) -> None:
    from model import load
    from model.importers import import_file, write_instance

    path = write_instance(import_file(fmt, file, **options, max_bytes=_max_bytes()), output, force)
    inst = load(str(path), max_bytes=_max_bytes()).instance  # what was written must read back as valid
    click.echo(f"{path}: {len(inst.industries)} industries, {len(inst.parks)} parks, "
               f"{len(inst.pairs)} pairs (in {path.stem}-pairs.csv).")


def output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--force", is_flag=True, help="Replace the files if they exist.")(func)
    return click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                        help="YAML file to write (and a CSV file beside it); never replaced without --force.")(func)


@import_group.command("orlib-cap")
@click.argument("file", type=click.Path(dir_okay=False))
@output_option
@click.option("--capacity", type=Finite(0, 1e12, low_open=True),
              help="Capacity of every warehouse (needed for capa/capb/capc).")
@click.option("--sourcing", type=click.Choice(["single", "multi"]), default="multi", show_default=True)
@reports_errors
def import_orlib_cap(file: str, output: str, force: bool, capacity: float | None, sourcing: str) -> None:
    """OR-Library capacitated warehouse location (cap41..cap134, capa/capb/capc)."""
    _write_import("orlib-cap", file, output, force, capacity=capacity, sourcing=sourcing)


@import_group.command("holmberg")
@click.argument("file", type=click.Path(dir_okay=False))
@output_option
@reports_errors
def import_holmberg(file: str, output: str, force: bool) -> None:
    """Holmberg's single-source CFLP instances p1..p71."""
    _write_import("holmberg", file, output, force)


@import_group.command("gap")
@click.argument("file", type=click.Path(dir_okay=False))
@output_option
@click.option("--index", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which instance of the file (1-based).")
@click.option("--maximise", is_flag=True,
              help="Maximise the profit, as OR-Library states gap1-12 (each cost becomes −profit).")
@reports_errors
def import_gap(file: str, output: str, force: bool, index: int, maximise: bool) -> None:
    """Generalized assignment (OR-Library gap1..12, gapa..d; type E)."""
    _write_import("gap", file, output, force, index=index, maximise=maximise)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--formulation", "formulations", multiple=True, type=click.Choice(list(FORMULATIONS)),
              help="Formulation(s) to compare [all].")
@click.option("--solver", "solvers", multiple=True, default=["highs"], show_default=True)
@click.option("--backend", "backends", multiple=True, type=click.Choice(["direct", "pyomo"]), default=["direct"],
              show_default=True, help="How the model reaches HiGHS (both to compare them).")
@click.option("--time-limit", type=SECONDS, default=60, show_default=True)
@click.option("--mip-gap", type=GAP, default=0.0, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256))
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs per combination, with solver seeds 0..N-1.")
@benchmark_options
@click.option("--optima", type=click.Path(dir_okay=False, exists=True),
              help="Published optima (CSV: instance, optimum[, set, sourcing, sense], as "
                   "../shared/benchdata/optima-public.csv): each run's gap to them in results.csv.")
@click.option("--method", "methods", multiple=True, type=click.Choice(["mip", "kernel"]), default=["mip"],
              show_default=True, help="Search method(s) to compare: mip (the whole MIP to the solver) or kernel "
                                      "(kernel search around the LP relaxation).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for results.csv and the plot.")
@reports_errors
def bench(specs: tuple[str, ...], formulations: tuple[str, ...], solvers: tuple[str, ...], backends: tuple[str, ...],
          time_limit: float,
          mip_gap: float, threads: int | None, repeat: int, capacity: float | None, sourcing: str, index: int,
          maximise: bool, optima: str | None, out: str, methods: tuple[str, ...]) -> None:
    """Run every instance × formulation × solver × seed and write a tidy CSV and a performance profile.

    SPECS are YAML instances, benchmark files or globs; a benchmark file's format comes from a
    `FORMAT:` prefix (orlib-cap:, holmberg:, gap:) or from its folder (orlib_cap, holmberg_sscflp,
    orlib_gap, gap_typeE). A GAP file stands for all its instances unless --index is given; capa,
    capb and capc for their four published capacities unless --capacity is given.
    """
    from model.bench import Stopped, expand_specs, read_optima, run_bench, write_bench
    from model.outputs import beside, check_folder, holds_anything, outside_ours
    from solvers.control import phase

    outside_ours(Path(out))
    check_folder(Path(out), kind="bench")  # before the runs, not after them
    given = _import_options_given(capacity)
    cases = expand_specs(list(specs), capacity, sourcing, index if "index" in given else None, _max_bytes(), maximise,
                         given)
    # An option given twice would run every case twice under one label (a repeat is --repeat's).
    chosen = list(dict.fromkeys(formulations)) or list(FORMULATIONS)
    published = read_optima(Path(optima), _max_bytes()) if optima is not None else None
    try:
        table = run_bench(cases, chosen, list(dict.fromkeys(solvers)), time_limit, mip_gap, threads, repeat,
                          progress=lambda line: click.echo(line, err=True), backends=list(dict.fromkeys(backends)),
                          optima=published, methods=list(dict.fromkeys(methods)))
    except Stopped as stop:  # the runs completed are kept: a long benchmark is not lost to one Ctrl-C
        # An earlier benchmark in the folder is not replaced by part of one (DESIGN: an interrupt
        # never leaves a folder with less than it had): the part goes beside it.
        place = beside(Path(out), "-interrupted", "--out", kind="bench") if holds_anything(Path(out)) else Path(out)
        with phase("writing"):
            write_bench(stop.table, place, complete=False)
        kept = f"; {out} is as it was" if place != Path(out) else ""
        _fail(click.get_current_context(), [
            f"interrupted ({stop.signal}) after {len(stop.table)} of {stop.total} runs: {place / 'results.csv'} "
            f"holds them (no summary.csv or profile.png of a benchmark stopped part-way){kept}"], EXIT_NO_SOLUTION)
    for path in write_bench(table, Path(out)):
        click.echo(f"wrote {path}")


@main.command()
# Beyond these the files outgrow what `load` reads by default (50 MB per file), and generating them
# held every row in memory: 100,000,000 industries ran a machine of 24 GB out of memory.
@click.option("--industries", type=click.IntRange(min=1, max=200_000), required=True)
@click.option("--parks", type=click.IntRange(min=1, max=20_000), required=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@output_option
@reports_errors
def generate(industries: int, parks: int, seed: int, output: str, force: bool) -> None:
    """Write a random instance of realistic shape (capacities with upgrades, forbid, limit,
    transfer_target and diversity rules), the same for the same seed."""
    from model import load
    from model.generate import generate_instance

    path = generate_instance(industries, parks, seed, Path(output), force)
    inst = load(str(path), max_bytes=_max_bytes()).instance
    click.echo(f"{path}: {len(inst.industries)} industries, {len(inst.parks)} parks, {len(inst.rules)} rules.")


def entry() -> None:
    """The console command: run it, then leave at once. Freeing a large model object by object
    takes seconds that `--time-limit` does not allow, and the operating system does it anyway."""
    global _CONSOLE
    _CONSOLE = True
    try:
        main.main(prog_name="industry-transfer")
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


if __name__ == "__main__":
    entry()
