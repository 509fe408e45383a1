"""The instance schema and loader, the data layer, the formulation, results and reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
