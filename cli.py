"""industry-transfer: the command line. Parses, calls model/ and solvers/, formats errors, sets exit codes.

Exit codes: 0 solved (optimal, or feasible within the limits); 2 bad input; 3 infeasible;
4 no solution within the limits (or the solver failed); 5 the independent checker rejected the plan.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_CHECK = 0, 2, 3, 4, 5


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
        except InputError as exc:
            if debug:
                traceback.print_exc()
            _fail(ctx, [str(p) for p in exc.problems], EXIT_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: say so in one line, the traceback under --debug
            if debug:
                traceback.print_exc()
            _fail(ctx, [f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"], 1)

    return wrapper


def instance_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                        help="Patch a value after the scenario, e.g. parks.wuhu.capacity.land=80 "
                             "or parks.*.capacity.cod='*0.8'.")(func)
    func = click.option("--scenario", metavar="NAME", help="Apply a named scenario of the instance.")(func)
    return click.argument("instance", type=click.Path(dir_okay=False))(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="industry-transfer", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Allocate industries from China's eastern provinces to central and western parks (MIP, HiGHS)."""
    ctx.obj = {"debug": debug}


def _load(instance: str, scenario: str | None, sets: tuple[str, ...]) -> Any:
    from model import load
    from model.loader import parse_set

    return load(instance, scenario, [parse_set(s) for s in sets])


@main.command()
@instance_options
@reports_errors
def validate(instance: str, scenario: str | None, sets: tuple[str, ...]) -> None:
    """Check an instance (and each of its scenarios) and print its size; exit 2 with every problem."""
    from model import check_scenarios
    from model.data import build_data

    loaded = _load(instance, scenario, sets)
    check_scenarios(instance)
    data = build_data(loaded.instance)
    inst = loaded.instance
    rules = sum(1 for r in inst.rules if r.enabled)
    click.echo(f"{loaded.raw.file}: valid. {len(inst.industries)} industries "
               f"({int(data.industry['modules'].sum())} modules), {len(inst.parks)} parks, "
               f"{len(inst.resources)} resources, {len(data.pairs)} eligible pairs, "
               f"{rules} enabled rules, {len(inst.scenarios)} scenarios.")


@main.command()
@instance_options
@click.option("--solver", default="highs", show_default=True, help="Any solver Pyomo knows.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), metavar="S", help="Seconds.")
@click.option("--mip-gap", type=click.FloatRange(min=0), metavar="G",
              help="Relative MIP gap at which to stop (HiGHS's default: 1e-4).")
@click.option("--threads", type=click.IntRange(min=1))
@click.option("--seed", type=int)
@click.option("--option", "raw", multiple=True, metavar="NAME=VALUE", help="Raw solver option, passed as is.")
@click.option("--formulation", type=click.Choice(["strong", "aggregated"]), default="strong", show_default=True,
              help="Variant of the link family.")
@click.option("--out", type=click.Path(file_okay=False), help="Results folder [results/<instance>-<scenario>].")
@click.option("--tee", is_flag=True, help="Stream the solver's log.")
@reports_errors
def solve(instance: str, scenario: str | None, sets: tuple[str, ...], solver: str, time_limit: float | None,
          mip_gap: float | None, threads: int | None, seed: int | None, raw: tuple[str, ...],
          formulation: str, out: str | None, tee: bool) -> None:
    """Solve an instance, print a summary and write the results folder."""
    from model.build import BuildOptions
    from model.errors import InputError, Problem
    from model.loader import parse_set
    from model.report import print_summary
    from model.run import solve_instance, write_outcome
    from solvers import SolveOptions, SolverNotFound

    ctx = click.get_current_context()
    loaded = _load(instance, scenario, sets)
    raw_options = dict(parse_set(r) for r in raw)
    options = SolveOptions(solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed,
                           raw=raw_options, tee=tee)
    try:
        outcome = solve_instance(loaded, BuildOptions(formulation=formulation), options)
    except SolverNotFound as exc:
        raise InputError([Problem("--solver", solver, str(exc), "highs, or a solver installed for Pyomo")]) from None
    folder = Path(out) if out else Path("results") / f"{Path(instance).stem}-{scenario or 'base'}"
    write_outcome(outcome, folder)
    console = Console(width=max(100, Console().width))
    units = loaded.instance.units
    unit_of = {t: units.money for t in ("opening_cost", "upgrade_cost", "relocation_cost", "operating_cost",
                                        "logistics_cost", "pair_cost", "stay_cost", "value_added")}
    unit_of.update({"co2": units.co2, "jobs": units.jobs, "money": units.money})
    r = outcome.result
    print_summary(console, outcome.summary(), unit_of, outcome.tables.get("allocations.csv"),
                  outcome.tables.get("parks.csv"), outcome.tables.get("limits.csv"), folder)
    if r.status == "infeasible":
        click.echo("The instance is infeasible: no plan meets every constraint. Relax a capacity, a limit "
                   "or a rule (try `--set rules.<id>.enabled=false`) and solve again.", err=True)
        ctx.exit(EXIT_INFEASIBLE)
    if not r.has_solution:
        click.echo(f"No plan found ({r.status}, solver said {r.termination}). {r.message}".rstrip(), err=True)
        ctx.exit(EXIT_NO_SOLUTION)
    if outcome.check is not None and not outcome.check.ok:
        _fail(ctx, ["the independent check rejected the plan:"] + outcome.check.violations, EXIT_CHECK)


if __name__ == "__main__":
    sys.exit(main())
