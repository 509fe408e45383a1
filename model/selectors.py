"""Selectors: which parks or industries a group name or an inline selector picks.

Part of the input's meaning, so the data layer, the checker and validation all read it here; it
depends on the schema only.
"""

from __future__ import annotations

from model.schema import IndustrySelector, Instance, ParkSelector


def matches(item: object, sel: ParkSelector | IndustrySelector) -> bool:
    """Every field given must match; a field matches any of its values; `tags` any shared tag."""
    for name, values in sel:
        if values is None:
            continue
        if name == "tags":
            if not set(values) & set(item.tags):
                return False
        elif getattr(item, "id" if name == "ids" else name) not in values:
            return False
    return True


def select_parks(inst: Instance, sel: ParkSelector) -> list[str]:
    """Ids of the parks a selector picks."""
    return [p.id for p in inst.parks if matches(p, sel)]


def select_industries(inst: Instance, sel: IndustrySelector) -> list[str]:
    """Ids of the industries a selector picks."""
    return [i.id for i in inst.industries if matches(i, sel)]


def parks_of(inst: Instance, ref: str | ParkSelector | None) -> list[str]:
    """Park ids of a group name, an inline selector, or every park for None."""
    if ref is None:
        return [p.id for p in inst.parks]
    sel = inst.groups[ref].parks if isinstance(ref, str) else ref
    return select_parks(inst, sel)


def industries_of(inst: Instance, ref: str | IndustrySelector | None) -> list[str]:
    """Industry ids of a group name, an inline selector, or every industry for None."""
    if ref is None:
        return [i.id for i in inst.industries]
    sel = inst.groups[ref].industries if isinstance(ref, str) else ref
    return select_industries(inst, sel)
