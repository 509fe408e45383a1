"""Validation: pydantic's errors in the user's words, then the checks across sections.

`validate(raw)` returns an `Instance` or raises one `InputError` holding every problem found,
each pointing at `file:line` and the key as the user wrote it.
"""

from __future__ import annotations

import math
import types
import typing
from collections import Counter
from typing import Any

from pydantic import BaseModel, ValidationError

from model.errors import InputError, Problem
from model.loader import RawDoc
from model.schema import (
    LIMIT_KPIS,
    OBJECTIVE_TERMS,
    PARK_LEVEL_KPIS,
    DiversityRule,
    ForbidRule,
    IndustrySelector,
    Instance,
    LimitRule,
    ParkSelector,
    TransferTargetRule,
)

RULE_KINDS = {"forbid": ForbidRule, "limit": LimitRule, "transfer_target": TransferTargetRule,
              "diversity": DiversityRule}

_EXPECTED = {
    "float_type": "a number", "float_parsing": "a number",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "finite_number": "a finite number (no NaN or infinity)",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "list_type": "a list",
}


def _describe(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _inner(tp: Any) -> list[Any]:
    """Candidate types behind Optional/Union/Annotated."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _inner(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out += _inner(arg)
        return out
    return [tp]


def _allowed_keys(data: Any, path: tuple) -> list[str]:
    """The keys the schema accepts at `path` (for an 'unknown key' message)."""
    candidates: list[Any] = [Instance]
    node = data
    for part in path:
        nxt: list[Any] = []
        for tp in candidates:
            for t in _inner(tp):
                origin = typing.get_origin(t)
                if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(part, str):
                    if part in t.model_fields:
                        nxt.append(t.model_fields[part].annotation)
                elif origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(t)[0])
                elif origin is dict:
                    nxt.append(typing.get_args(t)[1])
        node = node[part] if isinstance(node, list) else (node or {}).get(part)
        candidates = nxt
    keys: list[str] = []
    for tp in candidates:
        for t in _inner(tp):
            if isinstance(t, type) and issubclass(t, BaseModel):
                if "kind" in t.model_fields and isinstance(node, dict):
                    t = RULE_KINDS.get(node.get("kind"), t)
                keys += [k for k in t.model_fields if k not in keys]
    return keys


def _clean_loc(data: Any, loc: tuple) -> tuple:
    """Drop pydantic's union-branch names from an error location, keeping the user's keys."""
    out: list[Any] = []
    node = data
    for n, part in enumerate(loc):
        last = n == len(loc) - 1
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif last and isinstance(part, str) and (isinstance(node, dict) or node is None):
            out.append(part)  # a missing or unknown key
    return tuple(out)


def _value_at(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part] if isinstance(data, list) else data.get(part)
    return data


def _translate(raw: RawDoc, exc: ValidationError) -> list[Problem]:
    by_path: dict[tuple, list[dict[str, Any]]] = {}
    for err in exc.errors():
        path = _clean_loc(raw.data, tuple(err["loc"]))
        by_path.setdefault(path, []).append(err)
    problems = []
    for path, errs in by_path.items():
        value = _value_at(raw.data, path) if errs[0]["type"] != "missing" else None
        if len(errs) > 1:  # a union such as "group name or selector": keep the branch that fits
            kept = [e for e in errs if not (isinstance(value, dict) and e["type"] == "string_type")
                    and not (isinstance(value, str) and e["type"] in ("model_type", "dict_type"))]
            errs = kept or errs
        err = errs[0]
        kind, ctx = err["type"], err.get("ctx", {})
        if kind == "missing":
            problems.append(raw.problem(path, "required key is missing", "a value for it"))
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(raw.data, path[:-1])
            problems.append(raw.problem(path, "unknown key", "one of: " + ", ".join(allowed)))
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤",
                    "less_than": "<"}[kind]
            bound = next(iter(ctx.values()))
            bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
            problems.append(raw.problem(path, f"got {_describe(err['input'])}", f"a number {sign} {bound}"))
        elif kind == "string_pattern_mismatch":
            problems.append(raw.problem(path, f"got {_describe(err['input'])}",
                                        "an id of letters, digits, `_` and `-`"))
        elif kind == "too_short":
            problems.append(raw.problem(path, "is empty", "at least one item"))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            got = f"kind {_describe(ctx.get('tag'))}" if kind == "union_tag_invalid" else "no `kind`"
            problems.append(raw.problem(path + (("kind",) if kind == "union_tag_not_found" else ()),
                                        f"got {got}", "kind: " + " | ".join(RULE_KINDS)))
        elif kind in _EXPECTED:
            problems.append(raw.problem(path, f"got {_describe(err['input'])}", _EXPECTED[kind]))
        elif kind == "value_error":
            problems.append(raw.problem(path, err["msg"].removeprefix("Value error, "), ""))
        else:
            problems.append(raw.problem(path, f"got {_describe(err.get('input'))}: {err['msg']}", ""))
    return problems


def validate(raw: RawDoc) -> Instance:
    """Validate raw instance data; raise `InputError` with every problem found."""
    try:
        inst = Instance.model_validate(raw.data)
    except ValidationError as exc:
        raise InputError(raw.problems + _translate(raw, exc)) from None
    problems = raw.problems + check_references(inst, raw)
    if problems:
        raise InputError(problems)
    return inst


# ---------------------------------------------------------------------------------------------
# Checks across sections


def _matches(item: object, sel: ParkSelector | IndustrySelector) -> bool:
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
    return [p.id for p in inst.parks if _matches(p, sel)]


def select_industries(inst: Instance, sel: IndustrySelector) -> list[str]:
    """Ids of the industries a selector picks."""
    return [i.id for i in inst.industries if _matches(i, sel)]


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


def _duplicates(ids: list[str]) -> set[str]:
    return {k for k, n in Counter(ids).items() if n > 1}


def check_references(inst: Instance, raw: RawDoc) -> list[Problem]:
    """Everything a per-field check cannot see: ids, references, completeness, empty sets."""
    problems: list[Problem] = []
    add = problems.append
    res = set(inst.resources)
    res_list = ", ".join(inst.resources)
    park_ids = {p.id for p in inst.parks}
    ind_ids = {i.id for i in inst.industries}
    sectors = {i.sector for i in inst.industries}

    for section, ids in (("industries", [i.id for i in inst.industries]),
                         ("parks", [p.id for p in inst.parks]), ("rules", [r.id for r in inst.rules])):
        dup = _duplicates(ids)
        seen: set[str] = set()
        for n, ident in enumerate(ids):
            if ident in dup and ident in seen:
                add(raw.problem((section, n, "id"), f"duplicate id {ident!r}", "each id once"))
            seen.add(ident)

    def resource_keys(path: tuple, keys: Any) -> None:
        for key in keys:
            if key not in res:
                add(raw.problem((*path, key), "unknown resource", f"one of: {res_list}"))

    any_location_cost = False
    for n, ind in enumerate(inst.industries):
        resource_keys(("industries", n, "use"), ind.use)
        if ind.logistics_cost_per_km > 0:
            any_location_cost = True
            if ind.location is None:
                add(raw.problem(("industries", n, "location"), "missing while logistics_cost_per_km > 0",
                                "location: {lon: .., lat: ..}"))

    for n, park in enumerate(inst.parks):
        resource_keys(("parks", n, "capacity"), park.capacity)
        for key in inst.resources:
            if key not in park.capacity:
                add(raw.problem(("parks", n, "capacity"), f"no capacity for resource {key!r}",
                                "a capacity for every resource (0 if the park has none)"))
        resource_keys(("parks", n, "unit_costs"), park.unit_costs)
        if any_location_cost and park.location is None:
            add(raw.problem(("parks", n, "location"), "missing while industries have logistics costs",
                            "location: {lon: .., lat: ..}"))
        up_ids = [u.id for u in park.upgrades]
        for m, up in enumerate(park.upgrades):
            if up.id in _duplicates(up_ids) and up_ids.index(up.id) != m:
                add(raw.problem(("parks", n, "upgrades", m, "id"), f"duplicate upgrade id {up.id!r}",
                                "each upgrade id once per park"))
            resource_keys(("parks", n, "upgrades", m, "adds"), up.adds)
            for r, req in enumerate(up.requires):
                if req not in up_ids or req == up.id:
                    add(raw.problem(("parks", n, "upgrades", m, "requires", r),
                                    f"unknown upgrade {req!r}",
                                    "another upgrade of the same park: " + (", ".join(
                                        u for u in up_ids if u != up.id) or "(this park has none)")))

    seen_pairs: set[tuple[str, str]] = set()
    for n, pair in enumerate(inst.pairs):
        if pair.industry not in ind_ids:
            add(raw.problem(("pairs", n, "industry"), f"unknown industry {pair.industry!r}", "an industry id"))
        if pair.park not in park_ids:
            add(raw.problem(("pairs", n, "park"), f"unknown park {pair.park!r}", "a park id"))
        if (pair.industry, pair.park) in seen_pairs:
            add(raw.problem(("pairs", n), f"duplicate pair {pair.industry} -> {pair.park}", "each pair once"))
        seen_pairs.add((pair.industry, pair.park))
        resource_keys(("pairs", n, "use"), pair.use)

    def check_selector(path: tuple, sel: ParkSelector | IndustrySelector) -> None:
        known = park_ids if isinstance(sel, ParkSelector) else ind_ids
        for m, ident in enumerate(sel.ids or []):
            if ident not in known:
                what = "park" if isinstance(sel, ParkSelector) else "industry"
                add(raw.problem((*path, "ids", m), f"unknown {what} {ident!r}",
                                f"{'an' if what == 'industry' else 'a'} {what} id"))
        if isinstance(sel, IndustrySelector):
            for m, s in enumerate(sel.sector or []):
                if s not in sectors:
                    add(raw.problem((*path, "sector", m), f"no industry has sector {s!r}",
                                    "one of: " + ", ".join(sorted(sectors))))
        chosen = select_parks(inst, sel) if isinstance(sel, ParkSelector) else select_industries(inst, sel)
        if not chosen:
            add(raw.problem(path, "selects nothing", "a selector matching at least one item"))

    for name, group in inst.groups.items():
        sel = group.parks or group.industries
        assert sel is not None
        check_selector(("groups", name, "parks" if group.parks else "industries"), sel)

    def check_ref(path: tuple, ref: Any, kind: str) -> None:
        if ref is None:
            return
        if isinstance(ref, str):
            group = inst.groups.get(ref)
            if group is None:
                add(raw.problem(path, f"unknown group {ref!r}",
                                f"a group of {kind} defined under `groups:`, or an inline selector"))
            elif getattr(group, kind) is None:
                add(raw.problem(path, f"group {ref!r} is not a group of {kind}", f"a group of {kind}"))
        else:
            check_selector(path, ref)

    for n, rule in enumerate(inst.rules):
        path = ("rules", n)
        if isinstance(rule, (ForbidRule, LimitRule, DiversityRule)):
            check_ref((*path, "parks"), rule.parks, "parks")
        if isinstance(rule, (ForbidRule, LimitRule, TransferTargetRule)):
            check_ref((*path, "industries"), rule.industries, "industries")
        if isinstance(rule, LimitRule):
            if rule.kpi not in LIMIT_KPIS and rule.kpi not in res:
                add(raw.problem((*path, "kpi"), f"unknown KPI {rule.kpi!r}",
                                "one of: " + ", ".join(LIMIT_KPIS) + f", or a resource ({res_list})"))
            elif rule.kpi in PARK_LEVEL_KPIS and rule.industries is not None:
                add(raw.problem((*path, "industries"), f"{rule.kpi} belongs to parks, not industries",
                                "no `industries` on a limit of " + rule.kpi))
            if rule.max is not None and rule.min is not None and rule.min > rule.max:
                add(raw.problem((*path, "min"), f"min {rule.min} exceeds max {rule.max}", "min ≤ max"))
        if isinstance(rule, DiversityRule):
            for m, s in enumerate(rule.sectors or []):
                if s not in sectors:
                    add(raw.problem((*path, "sectors", m), f"no industry has sector {s!r}",
                                    "one of: " + ", ".join(sorted(sectors))))

    weight_maps = [(("objective", "weights"), inst.objective.weights)] + [
        (("objective", "lexicographic", n, "weights"), s.weights)
        for n, s in enumerate(inst.objective.lexicographic or [])]
    for path, weights in weight_maps:
        for term in weights:
            if term not in OBJECTIVE_TERMS:
                add(raw.problem((*path, term), "unknown KPI term", "one of: " + ", ".join(OBJECTIVE_TERMS)))
    return problems
