"""The instance schema and loader, the data layer, the formulation, results and reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.errors import InputError, Problem
from model.loader import RawDoc, apply_overlays, read
from model.schema import Instance
from model.validate import validate


@dataclass
class Loaded:
    """A validated instance with the raw document it came from (for line marks and overlays)."""

    instance: Instance
    raw: RawDoc
    scenario: str | None

    @property
    def overlays(self) -> list[dict[str, Any]]:
        return self.raw.overlays


def load(file: str, scenario: str | None = None, sets: list[tuple[str, Any]] | None = None) -> Loaded:
    """Read, overlay (scenario, then `--set`), and validate an instance; raises `InputError`."""
    raw = apply_overlays(read(file), scenario, list(sets or []))
    return Loaded(validate(raw), raw, scenario)


def load_imported(imported: Any, sets: list[tuple[str, Any]] | None = None) -> Loaded:
    """Validate an imported benchmark (`model.importers.Imported`), with optional `--set` patches."""
    raw = apply_overlays(RawDoc(imported.data, {}, imported.source, imported.sha256), None, list(sets or []))
    return Loaded(validate(raw), raw, None)


def check_scenarios(file: str) -> list[str]:
    """Apply and validate every scenario of an instance; raise `InputError` with all problems.

    Returns the scenario names. A scenario is only applied when asked for, so a broken one would
    otherwise go unnoticed until someone runs it.
    """
    base = read(file)
    names = list((base.data.get("scenarios") or {}) if isinstance(base.data.get("scenarios"), dict) else {})
    problems: list[Problem] = []
    for name in names:
        try:
            validate(apply_overlays(base, name, []))
        except InputError as exc:
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise InputError(problems)
    return names
