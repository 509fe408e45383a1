"""Jurisdictions: the provinces, the regions they form, and the instance's groups of provinces.

The provinces are those industries come from and parks are in, in the order the instance names
them (origins, then hosts), and any a transfer names (a payer such as `centre`). A province's
region is the one the `provinces:` table gives it, else the region of its parks when they agree.
A word in a rule's `provinces:` is a province, a group of provinces (`groups: {g: {provinces:
[...]}}`) or a region, in that order, and stands for the provinces it names.
"""

from __future__ import annotations

from typing import Any

from model.schema import Instance


def provinces(inst: Instance) -> list[str]:
    """Every province of the instance: origins, then hosts, then any only the `provinces:` table names."""
    return list(dict.fromkeys([*(i.origin for i in inst.industries), *(p.province for p in inst.parks),
                               *inst.provinces]))


def regions(inst: Instance) -> dict[str, str]:
    """Province -> region ("" when neither the `provinces:` table nor its parks say)."""
    out: dict[str, str] = {}
    of_parks: dict[str, set[str]] = {}
    for p in inst.parks:
        of_parks.setdefault(p.province, set()).add(p.region)
    for q in provinces(inst):
        given = inst.provinces.get(q)
        if given is not None and given.region:
            out[q] = given.region
        else:
            found = of_parks.get(q, set())
            out[q] = next(iter(found)) if len(found) == 1 else ""
    return out


def province_groups(inst: Instance) -> dict[str, list[str]]:
    """Group id -> its provinces, for the groups of provinces."""
    return {g: list(grp.provinces) for g, grp in inst.groups.items() if grp.provinces is not None}


def expand(words: Any, inst: Instance) -> list[str]:
    """The provinces a list of words stands for (see the module's docstring), each once, in order."""
    known, groups = set(provinces(inst)), province_groups(inst)
    region = regions(inst)
    out: list[str] = []
    for w in words or []:
        if w in known:
            out.append(w)
        elif w in groups:
            out.extend(groups[w])
        else:
            out.extend(q for q, r in region.items() if r == w)
    return list(dict.fromkeys(out))


def known_word(word: str, inst: Instance) -> bool:
    return word in set(provinces(inst)) or word in province_groups(inst) or word in set(regions(inst).values()) - {""}


def levels(inst: Instance, extra: list[str] | None = None) -> list[tuple[str, str, list[str]]]:
    """(jurisdiction, level, its provinces) for the ledger: each province (and each other
    jurisdiction a transfer names, `extra`), each region, each group of provinces."""
    out = [(q, "province", [q]) for q in dict.fromkeys([*provinces(inst), *(extra or [])])]
    region = regions(inst)
    for r in dict.fromkeys(v for v in region.values() if v):
        out.append((r, "region", [q for q, v in region.items() if v == r]))
    for g, members in province_groups(inst).items():
        out.append((g, "group", members))
    return out
