"""Validation: pydantic's errors in the user's words, then the checks across sections.

`validate(raw)` returns an `Instance` or raises one `InputError` holding every problem found,
each pointing at `file:line` and the key as the user wrote it.
"""

from __future__ import annotations

import math
import types
import typing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from model import families, kpis
from model.errors import InputError, Problem, clip
from model.loader import RawDoc, gc_paused
from model.pairtable import PairTable, pair_table, text_codes
from model.periods import ByPeriod, Growth, Periods, largest, periods_of, resolve, timed_values
from model.schema import (
    MAX_NUMBER,
    Group,
    Industry,
    IndustrySelector,
    Instance,
    Pair,
    Park,
    ParkSelector,
    Province,
    bound_text,
)
from model.selectors import matches

_EXPECTED = {
    "float_type": "a number", "float_parsing": "a number",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "finite_number": "a finite number (no NaN or infinity)",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "list_type": "a list", "string_too_short": "a non-empty text",
}


def _other_upgrades(ids: list[str], own: str) -> str:
    """What `requires` of upgrade `own` may name: the park's other upgrades, or none to name."""
    others = [u for u in ids if u != own]
    return ("another upgrade of the same park: " + ", ".join(others) if others else
            "no `requires` (the park has no other upgrade to require)")


def _describe(value: Any) -> str:
    """A value quoted in a message: never more than a short snippet of the user's file."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 36:
        return f"a number of {int(value.bit_length() * math.log10(2)) + 1} digits"
    return clip(repr(value))


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
                    t = families.rule_kinds().get(node.get("kind"), t)
                keys += [k for k in t.model_fields if k not in keys]
    return keys


def _clean_loc(data: Any, loc: tuple, keyed: bool = True) -> tuple:
    """Drop pydantic's union-branch names from an error location, keeping the user's keys; a last
    part that is not in the data is kept only for an error about a key (`keyed`: missing, unknown)."""
    out: list[Any] = []
    node = data
    for n, part in enumerate(loc):
        last = n == len(loc) - 1
        if part == "[key]":  # the error is about a mapping's key, already in `out`
            break
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif keyed and last and isinstance(part, str) and (isinstance(node, dict) or node is None):
            out.append(part)  # a missing or unknown key
    return tuple(out)


def _value_at(data: Any, path: tuple) -> Any:
    for part in path:
        if isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _translate(raw: RawDoc, errors: list[Any]) -> list[Problem]:
    by_path: dict[tuple, list[dict[str, Any]]] = {}
    for err in errors:
        path = _clean_loc(raw.data, tuple(err["loc"]), err["type"] in ("missing", "extra_forbidden"))
        if len(path) == 1 and path[0] in raw.partial and err["type"] == "too_short":
            continue  # a side table that could not be read is reported once, by the loader
        by_path.setdefault(path, []).append(err)
    problems = []
    for path, errs in by_path.items():
        value = _value_at(raw.data, path) if errs[0]["type"] != "missing" else None
        if isinstance(value, dict) and all(e["type"] == "string_type" for e in errs) and any(
                len(other) > len(path) and other[:len(path)] == path for other in by_path):
            continue  # a mapping where a name or a mapping may stand: its own keys' errors say what is wrong
        if len(errs) > 1:  # a union such as "group name or selector": keep the branch that fits
            kept = [e for e in errs if not (isinstance(value, dict) and e["type"] == "string_type")
                    and not (isinstance(value, str) and e["type"] in ("model_type", "dict_type"))]
            errs = kept or errs
            if {e["type"] for e in errs} >= {"string_type", "model_type"}:  # neither a name nor a mapping
                problems.append(raw.problem(path, f"got {_describe(value)}", "a name, or a mapping of the keys it "
                                            "takes (e.g. {ids: [a, b]} or {tags: x})"))
                continue
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
            bound = bound_text(next(iter(ctx.values())))
            problems.append(raw.problem(path, f"got {_describe(err['input'])}", f"a number {sign} {bound}"))
        elif kind == "number_range":
            problems.append(raw.problem(path, f"got {_describe(err['input'])}",
                                        f"a number between {bound_text(ctx['lo'])} and {bound_text(ctx['hi'])}"))
        elif kind == "timed_value":
            key = (ctx["key"],) if ctx.get("key") else ()
            problems.append(raw.problem(path + key, ctx["what"], ctx["expected"]))
        elif kind == "text_format":  # a code or a name: the schema says what it expects
            problems.append(raw.problem(path, f"got {_describe(err['input'])}", ctx["expected"]))
        elif kind == "string_pattern_mismatch":
            problems.append(raw.problem(path, f"got {_describe(err['input'])}",
                                        "an id of letters, digits, `_` and `-`"))
        elif kind == "too_short":
            problems.append(raw.problem(path, "is empty", "at least one item"))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            got = f"kind {_describe(ctx.get('tag'))}" if kind == "union_tag_invalid" else "no `kind`"
            problems.append(raw.problem(path + (("kind",) if kind == "union_tag_not_found" else ()),
                                        f"got {got}", "kind: " + " | ".join(families.rule_kinds())))
        elif kind in _EXPECTED:
            problems.append(raw.problem(path, f"got {_describe(err['input'])}", _EXPECTED[kind]))
        elif kind == "value_error":
            problems.append(raw.problem(path, err["msg"].removeprefix("Value error, "), ""))
        else:
            problems.append(raw.problem(path, f"got {_describe(err.get('input'))}: {err['msg']}", ""))
    return problems


def validate(raw: RawDoc) -> Instance:
    """Validate raw instance data; raise `InputError` with every problem found, in one pass.

    When the schema fails, the checks across sections still run, on the items that did validate
    and on the keys of the rest: a user sees the unknown resource of one industry together with the
    negative number of another, not after fixing it.
    """
    with gc_paused():
        return _validate(raw)


def _validate(raw: RawDoc) -> Instance:
    problems = list(raw.problems)
    errors, inst = _schema(raw)
    if errors:
        problems += _translate(raw, errors)
        problems += check_references(_parts_from_raw(raw), raw)
        raise InputError(_unique(problems)) from None
    assert inst is not None
    problems += check_references(_parts_of(inst, raw), raw)
    if not problems:
        problems += check_magnitudes(inst, raw)
    if problems:
        raise InputError(_unique(problems))
    return inst


# Instance fields in the order the schema checks them: errors found apart are put in that order.
_FIELD_ORDER = {name: n for n, name in enumerate(Instance.model_fields)}


def _schema(raw: RawDoc) -> tuple[list[Any], Instance | None]:
    """The schema's errors (pydantic's, as `ValidationError.errors()` gives them), or the instance.

    A list of pairs is judged as columns (`model.pairtable`) and held as a `PairTable`; only its
    rows the columns doubt are validated one by one as `Pair`, their errors placed where the
    schema would place them, so that they read as if the whole instance had been validated at once.
    """
    pairs = raw.data.get("pairs") if isinstance(raw.data, dict) else None
    judged = pair_table(pairs) if isinstance(pairs, list) and pairs else None
    if judged is None:
        try:
            return [], Instance.model_validate(raw.data)
        except ValidationError as exc:
            return exc.errors(), None
    table, doubts = judged
    errors: list[Any] = []
    inst = None
    try:
        inst = Instance.model_validate({**raw.data, "pairs": []})
    except ValidationError as exc:
        errors = exc.errors()
    for n in doubts:
        try:
            Pair.model_validate(pairs[n])
        except ValidationError as exc:
            errors += [{**e, "loc": ("pairs", n, *e["loc"])} for e in exc.errors()]
        else:  # valid after all (the columns doubt more than the schema): nothing lost, the schema's way
            judged = None
    if errors:
        return sorted(errors, key=lambda e: _FIELD_ORDER.get(e["loc"][0], len(_FIELD_ORDER))), None
    assert inst is not None
    if judged is None:  # some row the columns doubted is valid: validate the pairs as the schema does
        return [], inst.model_copy(update={"pairs": TypeAdapter(list[Pair]).validate_python(pairs)})
    return [], inst.model_copy(update={"pairs": table})


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


# ---------------------------------------------------------------------------------------------
# The parts of an instance that passed the schema


@dataclass
class _Parts:
    """Validated items with their position in the raw lists, and what is known of the rest.

    A set of ids is None when it is not fully known (a section unreadable, an item without an id):
    references into it are then not judged, rather than reported as unknown by mistake.
    """

    resources: list[str] | None
    industries: list[tuple[int, Industry]]
    parks: list[tuple[int, Park]]
    groups: dict[str, Group]
    group_names: set[str] | None
    rules: list[tuple[int, Any]]
    industry_ids: set[str] | None
    park_ids: set[str] | None
    sectors: set[str] | None
    readable: set[str]  # sections whose every item was read: a selector selecting nothing can be judged
    failed: dict[str, list[dict[str, Any]]]  # section -> raw items that did not validate
    periods: list[str] | None = None  # period ids ([] without `periods`; None if not readable)
    pairs: list[tuple[int, Any]] = field(default_factory=list)  # pairs that may hold numbers over time
    province_table: dict[str, str] = field(default_factory=dict)  # the `provinces:` table: province -> region
    province_codes: dict[str, str] = field(default_factory=dict)  # province -> its GB/T 2260 code, where valid


def _period_ids(raw: RawDoc) -> list[str] | None:
    items = raw.data.get("periods") if isinstance(raw.data, dict) else None
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        return None
    return [i["id"] for i in items]


def _written(raw: RawDoc, section: str, key: str) -> set[str] | None:
    """The values of `key` over a section's raw items, or None if some item lacks it as text."""
    items = raw.data.get(section) if isinstance(raw.data, dict) else None
    if section in raw.partial or not isinstance(items, list):
        return None
    values = [item.get(key) if isinstance(item, dict) else None for item in items]
    return {v for v in values if isinstance(v, str)} if all(isinstance(v, str) for v in values) else None


def _resource_names(raw: RawDoc) -> list[str] | None:
    value = raw.data.get("resources") if isinstance(raw.data, dict) else None
    return [str(k) for k in value] if isinstance(value, dict) else None


def _parts_of(inst: Instance, raw: RawDoc) -> _Parts:
    complete = {"industries", "parks"} - raw.partial
    return _Parts(
        resources=list(inst.resources), industries=list(enumerate(inst.industries)),
        parks=list(enumerate(inst.parks)), groups=dict(inst.groups),
        group_names=set(inst.groups), rules=list(enumerate(inst.rules)),
        industry_ids={i.id for i in inst.industries} if "industries" in complete else None,
        park_ids={p.id for p in inst.parks} if "parks" in complete else None,
        sectors={i.sector for i in inst.industries} if "industries" in complete else None,
        readable=complete, failed={}, periods=_period_ids(raw),
        pairs=[] if isinstance(inst.pairs, PairTable) else list(enumerate(inst.pairs)),  # a table: nothing timed
        province_table={q: v.region for q, v in inst.provinces.items()},
        province_codes={q: v.code for q, v in inst.provinces.items() if v.code is not None})


def _valid_items(raw: RawDoc, section: str, check: Callable[[Any], Any]
                 ) -> tuple[list[tuple[int, Any]], list[Any] | None]:
    """Items of a list section that pass `check`, and the raw items that do not (None: unreadable)."""
    items = raw.data.get(section, []) if isinstance(raw.data, dict) else None
    if not isinstance(items, list):
        return [], None
    out, failed = [], []
    for n, item in enumerate(items):
        try:
            out.append((n, check(item)))
        except ValidationError:
            failed.append(item)
    return out, None if section in raw.partial else failed


def _rule_adapter() -> TypeAdapter:
    """Validates one rule of any registered kind (the union `Instance.rules` holds)."""
    return TypeAdapter(typing.get_args(Instance.model_fields["rules"].annotation)[0])


def _parts_from_raw(raw: RawDoc) -> _Parts:
    industries, failed_industries = _valid_items(raw, "industries", Industry.model_validate)
    parks, failed_parks = _valid_items(raw, "parks", Park.model_validate)
    rules, _ = _valid_items(raw, "rules", _rule_adapter().validate_python)
    raw_groups = raw.data.get("groups", {})
    groups: dict[str, Group] = {}
    if isinstance(raw_groups, dict):
        for name, value in raw_groups.items():
            try:
                groups[str(name)] = Group.model_validate(value)
            except ValidationError:
                pass
    return _Parts(
        resources=_resource_names(raw), industries=industries, parks=parks, groups=groups,
        group_names=set(map(str, raw_groups)) if isinstance(raw_groups, dict) else None, rules=rules,
        industry_ids=_written(raw, "industries", "id"), park_ids=_written(raw, "parks", "id"),
        sectors=_written(raw, "industries", "sector"),
        readable={s for s, f in (("industries", failed_industries), ("parks", failed_parks)) if f is not None},
        failed={"industries": failed_industries or [], "parks": failed_parks or []}, periods=_period_ids(raw),
        province_table=_province_table(raw), province_codes=_province_codes(raw))


def _province_table(raw: RawDoc) -> dict[str, str]:
    table = raw.data.get("provinces") if isinstance(raw.data, dict) else None
    if not isinstance(table, dict):
        return {}
    return {str(q): str(v.get("region", "")) if isinstance(v, dict) else "" for q, v in table.items()}


def _province_codes(raw: RawDoc) -> dict[str, str]:
    """The codes of the `provinces:` entries that pass the schema (a bad code is reported once, by it)."""
    table = raw.data.get("provinces") if isinstance(raw.data, dict) else None
    out: dict[str, str] = {}
    for q, v in (table.items() if isinstance(table, dict) else ()):
        try:
            code = Province.model_validate(v).code
        except ValidationError:
            continue
        if code is not None:
            out[str(q)] = code
    return out


# ---------------------------------------------------------------------------------------------
# Checks across sections


def _duplicates(ids: list[str]) -> set[str]:
    return {k for k, n in Counter(ids).items() if n > 1}


def _select(items: list[tuple[int, Any]], sel: ParkSelector | IndustrySelector) -> list[str]:
    return [item.id for _, item in items if matches(item, sel)]


def _may_match(item: Any, sel: ParkSelector | IndustrySelector) -> bool:
    """Whether an item that failed the schema might match a selector: False only when its text says no."""
    if not isinstance(item, dict):
        return False
    for name, values in sel:
        if values is None:
            continue
        got = item.get("id" if name == "ids" else name, [] if name == "tags" else "" if name == "zone" else None)
        if name == "tags":
            got = [got] if isinstance(got, str) else got
            if not isinstance(got, list) or not all(isinstance(t, str) for t in got):
                return True
            if not set(got) & set(values):
                return False
        elif not isinstance(got, str):
            return True
        elif got not in values:
            return False
    return True


def _raw_items(raw: RawDoc, section: str) -> list[tuple[int, dict[str, Any]]]:
    items = raw.data.get(section) if isinstance(raw.data, dict) else None
    return [(n, item) for n, item in enumerate(items) if isinstance(item, dict)] if isinstance(items, list) else []


def _check_ids(raw: RawDoc, add: Callable[[Problem], None]) -> None:
    """Duplicate ids, on the raw items: an item blamed is one an overlay changed, if any, else a later one."""
    for section in ("industries", "parks", "rules"):
        by_id: dict[str, list[int]] = {}
        for n, item in _raw_items(raw, section):
            if isinstance(item.get("id"), str):
                by_id.setdefault(item["id"], []).append(n)
        for ident, places in by_id.items():
            if len(places) < 2:
                continue
            keep = next((n for n in places if not raw.patched((section, n, "id"))), places[0])
            for n in places:
                if n != keep:
                    add(raw.problem((section, n, "id"), f"duplicate id {_describe(ident)}", "each id once"))


def _check_resource_keys(raw: RawDoc, resources: list[str], add: Callable[[Problem], None]) -> None:
    """Resource ids used as keys, on the raw items (valid or not: only the keys are read)."""
    known = set(resources)
    listed = ", ".join(resources)

    def keys(path: tuple, mapping: Any) -> None:
        if isinstance(mapping, dict):
            for key in mapping:
                if key not in known:
                    add(raw.problem((*path, key), "unknown resource", f"one of: {listed}"))

    for n, ind in _raw_items(raw, "industries"):
        keys(("industries", n, "use"), ind.get("use"))
    for n, park in _raw_items(raw, "parks"):
        capacity = park.get("capacity")
        keys(("parks", n, "capacity"), capacity)
        if isinstance(capacity, dict):
            for key in resources:
                if key not in capacity:
                    add(raw.problem(("parks", n, "capacity"), f"no capacity for resource {_describe(key)}",
                                    "a capacity for every resource (0 if the park has none)"))
        keys(("parks", n, "unit_costs"), park.get("unit_costs"))
        upgrades = park.get("upgrades")
        for m, up in enumerate(upgrades if isinstance(upgrades, list) else []):
            if isinstance(up, dict):
                keys(("parks", n, "upgrades", m, "adds"), up.get("adds"))
    pairs = raw.data.get("pairs") if isinstance(raw.data, dict) else None
    for n, pair in enumerate(pairs if isinstance(pairs, list) else []):  # most pairs give no `use`
        if type(pair) is dict and "use" in pair:
            keys(("pairs", n, "use"), pair["use"])


def _check_province_table(raw: RawDoc, parts: _Parts, add: Callable[[Problem], None]) -> None:
    """A park's region is its province's: the parks of a province are in one region, and the table,
    where it names a host province's region, names theirs (a park of a province in two regions
    would count in both: in rules on its province's region, through the province, and in those
    that select parks by region, and the ledger would book it where the table says); each code
    names one province."""
    of_parks: dict[str, set[str]] = {}
    for _, p in parts.parks:
        of_parks.setdefault(p.province, set()).add(p.region)
    for item in parts.failed.get("parks", []):  # a park that failed the schema may still say its region
        if isinstance(item, dict) and isinstance(item.get("province"), str) and isinstance(item.get("region"), str):
            of_parks.setdefault(item["province"], set()).add(item["region"])
    seen: dict[str, str] = {}
    for n, p in parts.parks:
        table = parts.province_table.get(p.province)
        if table and table in of_parks[p.province] and p.region != table:  # (a table region no park has: below)
            add(raw.problem(("parks", n, "region"), f"{_describe(p.region)}, while provinces.{p.province}.region "
                            f"is {_describe(table)}: a park's region is its province's (the park would count in "
                            "rules on both regions)", _describe(table)))
        elif not table and p.province in seen and p.region != seen[p.province]:
            add(raw.problem(("parks", n, "region"), f"{_describe(p.region)}, while another park of "
                            f"{_describe(p.province)} is in {_describe(seen[p.province])}: the province's region "
                            "(its ledger rows, rules on regions) would be unknown",
                            "one region for the parks of a province"))
        seen.setdefault(p.province, p.region)
    for q, region in parts.province_table.items():
        if region and q in of_parks and region not in of_parks[q]:
            theirs = ", ".join(sorted(of_parks[q]))
            add(raw.problem(("provinces", q, "region"), f"{_describe(region)} is not the region of its parks "
                            f"({theirs})", f"{theirs}, or no `region` (a host province's region is its parks')"
                            if len(of_parks[q]) == 1 else
                            "its parks in one region, and that one here (or no `region`: its parks')"))
    first: dict[str, str] = {}
    for q, code in parts.province_codes.items():
        if code in first:
            add(raw.problem(("provinces", q, "code"), f"code {code} is given to {_describe(first[code])} too",
                            "each GB/T 2260 code once: a code names one province"))
        else:
            first[code] = q


def _check_sector_table(raw: RawDoc, parts: _Parts, add: Callable[[Problem], None]) -> None:
    """Every entry of `sectors:` names a sector some industry has: an entry no industry uses is a typo
    (its labels would be lost without a word)."""
    table = raw.data.get("sectors") if isinstance(raw.data, dict) else None
    if not isinstance(table, dict) or parts.sectors is None:
        return
    for s in table:
        if str(s) not in parts.sectors:
            add(raw.problem(("sectors", s), f"no industry has sector {_describe(str(s))}",
                            "one of: " + ", ".join(sorted(parts.sectors)[:30])))


def _check_region_table(raw: RawDoc, add: Callable[[Problem], None]) -> None:
    """Every entry of `regions:` names a region a park or a province has (else a typo, its names lost)."""
    data = raw.data if isinstance(raw.data, dict) else {}
    table = data.get("regions")
    if not isinstance(table, dict) or not isinstance(data.get("parks"), list):
        return
    known = {p.get("region") for p in data["parks"] if isinstance(p, dict)}
    provinces = data.get("provinces")
    known |= {v.get("region") for v in (provinces.values() if isinstance(provinces, dict) else [])
              if isinstance(v, dict)}
    known = {str(r) for r in known if isinstance(r, str) and r}
    for r in table:
        if str(r) not in known:
            add(raw.problem(("regions", r), f"no park or province has region {_describe(str(r))}",
                            "one of: " + ", ".join(sorted(known)[:30])))


def _check_pairs(raw: RawDoc, parts: _Parts, add: Callable[[Problem], None]) -> None:
    """Unknown industries and parks, and pairs given twice: found over whole columns (each id judged
    once, by its code), then each row found wanting reported in order, as a loop over the rows would."""
    items = _raw_items(raw, "pairs")
    (ci, industries), (cp, parks) = (text_codes([pair.get(key) for _, pair in items]) for key in ("industry", "park"))
    both = (ci >= 0) & (cp >= 0)
    pair = np.where(both, ci.astype(np.int64) * len(parks) + cp, -1 - np.arange(len(items)))  # not text: unique
    twice = pd.Series(pair).duplicated().to_numpy()
    unknown = {}
    for key, codes, ids, known in (("industry", ci, industries, parts.industry_ids),
                                   ("park", cp, parks, parts.park_ids)):
        strange = np.array([known is not None and u not in known for u in ids] + [False], dtype=bool)
        unknown[key] = strange[codes]  # code -1 (not text) takes the last, False
    for m in np.flatnonzero(twice | unknown["industry"] | unknown["park"]).tolist():
        n, pair = items[m]
        industry, park = pair["industry"], pair["park"]
        if unknown["industry"][m]:
            add(raw.problem(("pairs", n, "industry"), f"unknown industry {_describe(industry)}", "an industry id"))
        if unknown["park"][m]:
            add(raw.problem(("pairs", n, "park"), f"unknown park {_describe(park)}", "a park id"))
        if twice[m]:
            add(raw.problem(("pairs", n), f"duplicate pair {clip(industry)} -> {clip(park)}", "each pair once"))


def _check_weights(raw: RawDoc, add: Callable[[Problem], None], words: set[str] | None = None) -> None:
    objective = raw.data.get("objective") if isinstance(raw.data, dict) else None
    if not isinstance(objective, dict):
        return
    maps = [(("objective", "weights"), objective.get("weights"))]
    levels = objective.get("lexicographic")
    maps += [(("objective", "lexicographic", n, "weights"), s.get("weights"))
             for n, s in enumerate(levels if isinstance(levels, list) else []) if isinstance(s, dict)]
    for path, weights in maps:
        for term in weights if isinstance(weights, dict) else []:
            if term in kpis.RENAMED:
                add(raw.problem((*path, term), f"the KPI {term} is now called {kpis.RENAMED[term]}",
                                kpis.RENAMED[term]))
            elif "@" in term:
                kpi, _, where = term.partition("@")
                if kpi not in kpis.limit_kpis():
                    add(raw.problem((*path, term), f"{_describe(kpi)} is not a KPI of a jurisdiction",
                                    "KPI@JURISDICTION with a KPI among: " + ", ".join(kpis.limit_kpis())))
                elif words is not None and where not in words:
                    add(raw.problem((*path, term), f"no province, group of provinces or region {_describe(where)}",
                                    "KPI@JURISDICTION with one of: " + ", ".join(sorted(words)[:30])))
            elif term not in kpis.objective_terms():
                add(raw.problem((*path, term), "unknown KPI term", "one of: " + ", ".join(kpis.objective_terms())
                                + ", or KPI@JURISDICTION"))


@dataclass
class _References:
    """What a family's `validate(rule, path, refs)` reads: the instance's known ids (None when not
    fully known: a reference into them is then not judged) and a way to report a problem."""

    parts: _Parts
    raw: RawDoc
    add: Callable[[Problem], None]
    check_ref: Callable[[tuple, Any, str], None] = lambda path, ref, kind: None  # set by check_references

    @property
    def resources(self) -> list[str] | None:
        return self.parts.resources

    @property
    def sectors(self) -> set[str] | None:
        return self.parts.sectors

    @property
    def industry_ids(self) -> set[str] | None:
        return self.parts.industry_ids

    @property
    def provinces(self) -> set[str] | None:
        """Origins of the industries and provinces of the parks (None when not fully known)."""
        if not {"industries", "parks"} <= self.parts.readable or self.parts.failed.get("industries") \
                or self.parts.failed.get("parks"):
            return None
        return {i.origin for _, i in self.parts.industries} | {p.province for _, p in self.parts.parks} | \
            set(self.parts.province_table)

    @property
    def province_words(self) -> dict[str, str] | None:
        """What a word in `provinces:` may be: province, group of provinces or region -> which."""
        known = self.provinces
        if known is None:
            return None
        out = {r: "region" for r in self.regions().values() if r}
        out.update({g: "group" for g, grp in self.parts.groups.items() if grp.provinces is not None})
        out.update({q: "province" for q in known})
        return out

    def regions(self) -> dict[str, str]:
        """Province -> region, as `model.jurisdictions.regions` says it: the `provinces:` table's, else
        its parks' when they agree."""
        of_parks: dict[str, set[str]] = {}
        for _, p in self.parts.parks:
            of_parks.setdefault(p.province, set()).add(p.region)
        out = {q: next(iter(r)) if len(r) == 1 else "" for q, r in of_parks.items()}
        out.update({q: r for q, r in self.parts.province_table.items() if r})
        return out

    def provinces_of(self, word: str) -> set[str] | None:
        """The provinces a word of `provinces:` stands for (None when not known)."""
        kind = (self.province_words or {}).get(word)
        if kind == "province":
            return {word}
        if kind == "group":
            return set(self.parts.groups[word].provinces or ())
        if kind == "region":
            return {q for q, r in self.regions().items() if r == word}
        return None

    def check_provinces(self, path: tuple, names: list[str] | None, words: bool = True) -> None:
        """Names of provinces are known and not empty; with `words`, a group of provinces or a
        region may stand for its provinces (`model/jurisdictions.py`)."""
        if names is None:
            return
        if not names:
            self.problem(path, "is empty", "at least one province")
            return
        known = self.province_words if words else dict.fromkeys(self.provinces or (), "province")
        if known is None or (not words and self.provinces is None):
            return
        regions = {r for r in self.regions().values() if r} | {p.region for _, p in self.parts.parks}
        for m, q in enumerate(names):
            where = (*path, m) if path[-1] != "partner" else path
            if q not in known:
                expected = "a province, a group of provinces or a region: " if words else "a province: "
                self.problem(where, f"no industry comes from and no park is in {_describe(q)}",
                             expected + ", ".join(sorted(known)[:30]))
            elif words and q in regions and q in (self.provinces or ()):
                # Read as the province alone: a cap over the region (`provinces: [central]`) went
                # empty when a province of that name came in (an origin, a `provinces:` entry).
                self.problem(where, f"{_describe(q)} is the name of a province and of a region: it would "
                                    "stand for the province alone",
                             "a word that means one thing here: rename the province or the region")

    @property
    def park_ids(self) -> set[str] | None:
        return self.parts.park_ids

    def problem(self, path: tuple, what: str, expected: str) -> None:
        self.add(self.raw.problem(path, what, expected))

    def timeline(self) -> Periods | None:
        """The instance's periods (one of a year without `periods`; None if not readable)."""
        known = self.parts.periods
        if known is None:
            return None
        if not known:
            return Periods(("",), np.ones(1), 0.0, False)
        return _periods_from(self.raw, list(dict.fromkeys(known)))

    def check_periods(self, path: tuple, ids: list[str] | None) -> None:
        """Period ids a rule names are the instance's."""
        known = list(dict.fromkeys(self.parts.periods)) if self.parts.periods is not None else None
        if ids is None or known is None:
            return
        if not known:
            self.problem(path, "names a period, but the instance has no `periods`",
                         "`periods: [{id: .., years: ..}, ...]` at the top level, or no period here")
            return
        if not ids:
            self.problem(path, "is empty", "at least one period id (or no `periods` key: every period)")
        for m, q in enumerate(ids):
            if q in ids[:m]:
                self.problem((*path, m), f"period {_describe(q)} listed twice", "each period once")
            elif q not in known:
                self.problem((*path, m) if len(ids) > 1 or path[-1] == "periods" else path,
                             f"unknown period {_describe(q)}", "one of: " + ", ".join(known))

    @staticmethod
    def describe(value: Any) -> str:
        return _describe(value)


def _references(cls: type) -> list[tuple[str, str]]:
    """The fields of a rule class that name parks or industries (a group name or a selector)."""
    out = []
    for name, f in cls.model_fields.items():
        inner = [t for t in _inner(f.annotation) if isinstance(t, type)]
        if ParkSelector in inner:
            out.append((name, "parks"))
        elif IndustrySelector in inner:
            out.append((name, "industries"))
    return out


def check_references(parts: _Parts, raw: RawDoc) -> list[Problem]:
    """Everything a per-field check cannot see: ids, references, completeness, empty sets."""
    problems: list[Problem] = []
    add = problems.append

    _check_ids(raw, add)
    if parts.resources is not None:
        _check_resource_keys(raw, parts.resources, add)
        names = kpis.registry()
        for name in parts.resources:
            if name in names:  # `kpi: co2` must mean one thing: the KPI, or the resource
                add(raw.problem(("resources", name), f"resource {_describe(name)} has the name of a KPI",
                                "an id that is not a KPI name (" + ", ".join(names) + ")"))
    _check_pairs(raw, parts, add)

    any_location_cost = False
    for n, ind in parts.industries:
        if _ever_positive(ind.logistics_cost_per_km):
            any_location_cost = True
            if ind.location is None:
                add(raw.problem(("industries", n, "location"), "missing while logistics_cost_per_km > 0",
                                "location: {lon: .., lat: ..}"))

    for n, park in parts.parks:
        if any_location_cost and park.location is None:
            add(raw.problem(("parks", n, "location"), "missing while industries have logistics costs",
                            "location: {lon: .., lat: ..}"))
        up_ids = [u.id for u in park.upgrades]
        for m, up in enumerate(park.upgrades):
            if up.id in _duplicates(up_ids) and up_ids.index(up.id) != m:
                add(raw.problem(("parks", n, "upgrades", m, "id"), f"duplicate upgrade id {_describe(up.id)}",
                                "each upgrade id once per park"))
            for r, req in enumerate(up.requires):
                if req == up.id:
                    add(raw.problem(("parks", n, "upgrades", m, "requires", r),
                                    f"upgrade {_describe(req)} requires itself", _other_upgrades(up_ids, up.id)))
                elif req not in up_ids:
                    add(raw.problem(("parks", n, "upgrades", m, "requires", r),
                                    f"unknown upgrade {_describe(req)}", _other_upgrades(up_ids, up.id)))
        # A longer loop (a requires b, b requires a) is no order to build in: both were built at once.
        needs = {u.id: [q for q in u.requires if q != u.id and q in up_ids] for u in park.upgrades}

        def reached(start: str, needs: dict[str, list[str]] = needs) -> set[str]:
            seen: set[str] = set()
            todo = list(needs.get(start, []))
            while todo:
                q = todo.pop()
                if q not in seen:
                    seen.add(q)
                    todo += needs.get(q, [])
            return seen

        looped = [m for m, up in enumerate(park.upgrades) if up.id in reached(up.id)]
        if looped:
            names = ", ".join(_describe(park.upgrades[m].id) for m in looped)
            add(raw.problem(("parks", n, "upgrades", looped[0], "requires"),
                            f"upgrades {names} require one another in a loop", "requirements that do not loop"))

    def check_selector(path: tuple, sel: ParkSelector | IndustrySelector) -> None:
        parks = isinstance(sel, ParkSelector)
        known = parts.park_ids if parks else parts.industry_ids
        what = "park" if parks else "industry"
        for m, ident in enumerate(sel.ids or []):
            if known is not None and ident not in known:
                add(raw.problem((*path, "ids", m), f"unknown {what} {_describe(ident)}",
                                f"{'an' if what == 'industry' else 'a'} {what} id"))
        if isinstance(sel, IndustrySelector) and parts.sectors is not None:
            for m, s in enumerate(sel.sector or []):
                if s not in parts.sectors:
                    add(raw.problem((*path, "sector", m), f"no industry has sector {_describe(s)}",
                                    "one of: " + ", ".join(sorted(parts.sectors))))
        section = "parks" if parks else "industries"
        if section in parts.readable and not _select(parts.parks if parks else parts.industries, sel) and not any(
                _may_match(item, sel) for item in parts.failed.get(section, [])):
            add(raw.problem(path, "selects nothing", "a selector matching at least one item"))

    refs = _References(parts, raw, add)
    for name, group in parts.groups.items():
        if group.provinces is not None:
            refs.check_provinces(("groups", name, "provinces"), group.provinces, words=False)
            taken = "a province" if name in (refs.provinces or ()) else \
                "a region" if name in set(refs.regions().values()) else ""
            if taken:
                add(raw.problem(("groups", name), f"a group of provinces has the name of {taken}",
                                "another name: a word in `provinces:` must mean one thing"))
            continue
        sel = group.parks or group.industries
        assert sel is not None
        check_selector(("groups", name, "parks" if group.parks else "industries"), sel)
    for q, region in parts.province_table.items():
        if region and region in (refs.provinces or ()):
            add(raw.problem(("provinces", q, "region"), f"is the name of a province ({_describe(region)})",
                            "a region's name, which no province has"))
    _check_province_table(raw, parts, add)
    _check_sector_table(raw, parts, add)
    _check_region_table(raw, add)
    for n, park in parts.parks:
        if park.enclave is not None:
            if park.enclave.partner == park.province:
                add(raw.problem(("parks", n, "enclave", "partner"),
                                f"is the park's own province {_describe(park.province)}",
                                "another province (the one that co-builds the park)"))
            else:
                refs.check_provinces(("parks", n, "enclave", "partner"), [park.enclave.partner], words=False)

    def check_ref(path: tuple, ref: Any, kind: str) -> None:
        if ref is None:
            return
        if isinstance(ref, str):
            group = parts.groups.get(ref)
            if parts.group_names is not None and ref not in parts.group_names:
                add(raw.problem(path, f"unknown group {_describe(ref)}",
                                f"a group of {kind} defined under `groups:`, or an inline selector"))
            elif group is not None and getattr(group, kind) is None:
                add(raw.problem(path, f"group {_describe(ref)} is not a group of {kind}", f"a group of {kind}"))
        else:
            check_selector(path, ref)

    refs.check_ref = check_ref  # for a family's references nested below a rule's own fields
    for n, rule in parts.rules:
        path = ("rules", n)
        for name, kind in _references(type(rule)):
            check_ref((*path, name), getattr(rule, name), kind)
        hook = getattr(families.family_of_rule(rule.kind), "validate", None)
        if hook is not None:
            hook(rule, path, refs)

    _check_weights(raw, add, set(refs.province_words or {}) if refs.province_words is not None else None)
    _check_time(raw, parts, add)
    return problems


def _periods_from(raw: RawDoc, known: list[str]) -> Periods:
    """The periods' years as the raw file gives them (1 where a year count is not readable)."""
    items = raw.data.get("periods") if isinstance(raw.data, dict) else None
    years = [i.get("years") if isinstance(i, dict) else None for i in (items or [])]
    years = [y if isinstance(y, int) and not isinstance(y, bool) and 1 <= y <= 100 else 1 for y in years]
    return Periods(tuple(known), np.array(years[: len(known)] or [1], dtype=float), 0.0, True)


def _ever_positive(v: Any) -> bool:
    """A number, or a number over time, that is above 0 in some period."""
    if isinstance(v, ByPeriod):
        return max(v.values.values()) > 0
    return (v.value if isinstance(v, Growth) else v) > 0


RESERVED_PERIOD_IDS = ("value", "growth")  # the keys of a growth: a mapping naming them would be ambiguous
SHARES = ("min_share",)  # fields whose numbers are shares (at most 1) in every period


def _check_time(raw: RawDoc, parts: _Parts, add: Callable[[Problem], None]) -> None:
    """Periods: ids once each; numbers given per period name known periods (data the first one
    too: a value must hold from the start); nothing is timed in an instance without periods."""
    known = parts.periods
    if known is None:
        return
    for n, q in enumerate(known):
        if q in known[:n]:
            add(raw.problem(("periods", n, "id"), f"duplicate period id {_describe(q)}", "each id once"))
    for n, q in enumerate(known):
        if q in RESERVED_PERIOD_IDS:
            add(raw.problem(("periods", n, "id"), f"{q!r} cannot name a period (it is a key of a growth)",
                            "another id, e.g. p2030"))
    known = list(dict.fromkeys(known))
    for key in ("discount_rate", "terminal_years"):
        if not known and isinstance(raw.data, dict) and raw.data.get(key) is not None:
            add(raw.problem((key,), "is given, but the instance has no `periods`",
                            f"`periods: [{{id: .., years: ..}}, ...]` at the top level, or no {key}"))
    if not known:
        for n, park in parts.parks:
            for m, up in enumerate(park.upgrades):
                if up.lead_time > 0:
                    add(raw.problem(("parks", n, "upgrades", m, "lead_time"),
                                    "is given, but the instance has no `periods`",
                                    "`periods: [{id: .., years: ..}, ...]` at the top level, or no lead_time"))
    found = [(("industries", n), item, True) for n, item in parts.industries]
    found += [(("parks", n), item, True) for n, item in parts.parks]
    found += [(("pairs", n), item, True) for n, item in parts.pairs]
    found += [(("rules", n), item, False) for n, item in parts.rules]
    for base, item, data in found:
        for path, v in timed_values(item, base):
            if not known:
                add(raw.problem(path, "is given over time, but the instance has no `periods`",
                                "a number, or `periods: [{id: .., years: ..}, ...]` at the top level"))
                continue
            if isinstance(v, Growth) and known and not any(q in RESERVED_PERIOD_IDS for q in known):
                top = 1.0 if path[-1] in SHARES else MAX_NUMBER
                reach = largest(v, _periods_from(raw, known))
                if not reach <= top:
                    add(raw.problem(path, f"grows to {reach:.3g} by the last period",
                                    f"at most {bound_text(top)} in every period (a smaller value or growth rate)"))
            if not isinstance(v, ByPeriod):
                continue
            for q in v.values:
                if q not in known:
                    add(raw.problem((*path, q), f"unknown period {_describe(q)}", "one of: " + ", ".join(known)))
            if data and known[0] not in v.values:
                add(raw.problem(path, f"gives no value for the first period {known[0]}",
                                f"{known[0]}: NUMBER (a period not named takes the latest value named before it)"))


# ---------------------------------------------------------------------------------------------
# Products of figures the solver cannot handle


# HiGHS refuses matrix entries ≥ 1e15 (`large_matrix_value`) and reads costs ≥ 1e20 as infinite. Each
# figure is at most 1e12, but the model multiplies them (use × a park's unit cost, a KPI × its weight):
# a coefficient above 1e15 is refused here, in the user's words, rather than by the solver.
MAX_COEFFICIENT = 1e15
HALF_EARTH_KM = 20_016  # the longest great-circle distance: a bound of logistics cost per module


def check_magnitudes(inst: Instance, raw: RawDoc) -> list[Problem]:
    """`_magnitudes` of the instance in each of its periods."""
    out: list[Problem] = []
    for t in range(periods_of(inst).count):
        out += [p for p in _magnitudes(resolve(inst, t), raw) if p not in out]
    return out


def _magnitudes(inst: Instance, raw: RawDoc) -> list[Problem]:
    """Bounds of every per-module coefficient (cost, CO2, value added, jobs, alone or weighted).

    Each bound takes every factor at its largest over the parks, so it is at most a few times the
    true coefficient: a check of orders of magnitude, not of values.
    """
    res = list(inst.resources)
    unit = {k: max((p.unit_costs.get(k, 0.0) for p in inst.parks), default=0.0) for k in res}
    priced = [(k, u) for k, u in unit.items() if u]
    power_price = max((p.power_price for p in inst.parks), default=0.0)
    grid = max((p.grid_factor for p in inst.parks), default=0.0)
    table = PairTable.of(inst.pairs)  # the largest cost and use of each industry's pairs, over the columns
    by_industry = pd.DataFrame({"cost": np.nan_to_num(np.abs(table.cost)),
                                **{k: np.nan_to_num(v) for k, v in table.use.items()}}).groupby(table.industry).max()
    pair_cost: dict[str, float] = by_industry["cost"].to_dict()
    pair_use: dict[str, dict[str, float]] = by_industry.drop(columns="cost").to_dict("index")
    weight = {t: max([1.0] + [abs(w[t]) for w, _ in inst.levels()]) for t in kpis.objective_terms()}
    problems: list[Problem] = []

    def check(path: tuple, terms: dict[str, float]) -> None:
        term, value = max(((t, v * weight[t]) for t, v in terms.items()), key=lambda tv: tv[1])
        if value > MAX_COEFFICIENT:
            by = f" (× its weight {weight[term]:g})" if weight[term] > 1 else ""
            problems.append(raw.problem(path, f"{term} per module reaches {value:.3g}{by}",
                                        f"coefficients of at most {bound_text(MAX_COEFFICIENT)} (the solver's "
                                        "limit): figures in larger units, e.g. million yuan, kt"))

    for n, ind in enumerate(inst.industries):
        use = pair_use.get(ind.id, {})
        check(("industries", n), {
            "relocation_cost": ind.relocation_cost, "stay_cost": ind.stay_cost, "value_added": ind.value_added,
            "jobs": ind.jobs, "pair_cost": pair_cost.get(ind.id, 0.0),
            "operating_cost": sum(max(ind.use.get(k, 0.0), use.get(k, 0.0)) * u for k, u in priced)
            + ind.power_use * power_price,
            "logistics_cost": ind.logistics_cost_per_km * HALF_EARTH_KM,
            "co2": ind.co2_process + ind.power_use * max(grid, ind.grid_factor)})
    for n, park in enumerate(inst.parks):
        check(("parks", n), {"open_cost": park.open_cost,
                             "upgrade_cost": max((u.cost for u in park.upgrades), default=0.0)})
    return problems

