"""The instance schema and loader, the data layer, the formulation, results and reports."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from model.errors import InputError, Problem
from model.loader import MAX_BYTES, RawDoc, apply_overlays, read
from model.schema import Instance
from model.validate import validate


@dataclass
class Loaded:
    """A validated instance with the raw document it came from (for line marks and overlays)."""

    instance: Instance
    raw: RawDoc
    scenario: str | None
    base: RawDoc | None = None  # the document as read, when no overlay changed it (for `check_scenarios`)

    @property
    def overlays(self) -> list[dict[str, Any]]:
        return self.raw.overlays


def load(file: str, scenario: str | None = None, sets: list[tuple[str, Any]] | None = None, *,
         max_bytes: int = MAX_BYTES) -> Loaded:
    """Read, overlay (scenario, then `--set`), and validate an instance; raises `InputError`.

    When it fails, the problems of the instance's other scenarios (with the same `--set` patches)
    are reported too: the file is wrong either way, and one pass shows all of it. `max_bytes`
    bounds the YAML file and each side table.
    """
    base = read(file, max_bytes=max_bytes)
    sets = list(sets or [])
    raw = apply_overlays(base, scenario, sets)
    try:
        # The base is kept only when it is `raw` itself: a copy would double the memory of a large instance.
        return Loaded(validate(raw), raw, scenario, base if raw is base else None)
    except InputError as exc:
        problems = dict.fromkeys(exc.problems)  # each once, in order: scenarios repeat the base's problems
        for name in _scenario_names(base):
            if name != scenario:
                found = [p for p in _problems(base, name, sets) if p not in problems]
                problems.update(dict.fromkeys(_named(p, name) for p in found))
        raise InputError(list(problems)) from None


def load_imported(imported: Any, sets: list[tuple[str, Any]] | None = None) -> Loaded:
    """Validate an imported benchmark (`model.importers.Imported`), with optional `--set` patches."""
    raw = apply_overlays(RawDoc(imported.data, {}, imported.source, imported.sha256), None, list(sets or []))
    return Loaded(validate(raw), raw, None)


def check_scenarios(source: str | Loaded, *, max_bytes: int = MAX_BYTES) -> list[str]:
    """Apply and validate every scenario of an instance; raise `InputError` with all problems.

    Returns the scenario names. A scenario is only applied when asked for, so a broken one would
    otherwise go unnoticed until someone runs it. `source` is the instance file, or what `load`
    returned (the file is then not read again).
    """
    base = source.base if isinstance(source, Loaded) else None
    if base is None:  # read again: the file, or the one `load` read under an overlay
        base = read(source.raw.file if isinstance(source, Loaded) else source, max_bytes=max_bytes)
    names = _scenario_names(base)
    problems: dict[Problem, None] = {}
    for name in names:
        problems.update(dict.fromkeys(_named(p, name) for p in _problems(base, name, [])))
    if problems:
        raise InputError(list(problems))
    return names


def _named(problem: Problem, scenario: str) -> Problem:
    """A problem a command-line patch (`--set`, `--grid`) has only under `scenario`, saying so: the
    same key may fail with another value under another scenario."""
    if problem.where.startswith("--"):
        return replace(problem, message=f"{problem.message} (under scenario {scenario})")
    return problem


def _scenario_names(raw: RawDoc) -> list[str]:
    scenarios = raw.data.get("scenarios")
    return [str(n) for n in scenarios] if isinstance(scenarios, dict) else []


def _problems(base: RawDoc, scenario: str | None, sets: list[tuple[str, Any]]) -> list[Problem]:
    try:
        validate(apply_overlays(base, scenario, sets))
    except InputError as exc:
        return exc.problems
    return []
