"""Labels: the names people read in place of ids, in Chinese or English.

An instance may name its provinces (`provinces:`), sectors (`sectors:`), parks and industries in
both languages (`name_zh`, `name_en`) and give provinces their GB/T 2260 code and sectors their
GB/T 4754-2017 code. `Labels` answers, for one language, the name of each: the name in that
language, else the one in the other language, else the id. Without a language every label is the
id, so that code printing labels prints what it printed before names existed.

Labels only change what is shown: results files keep ids (they are read back by `check`,
`compare` and `explain`, which match on ids).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pandas as pd

from model.errors import InputError, Problem
from model.loader import RawDoc
from model.schema import Instance
from model.validate import validate

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")
Kind = Literal["province", "park", "sector", "industry", "region"]

# Columns of the results' tables that hold ids, and the kind of id each holds. A jurisdiction is a
# province, a region or a group: regions and groups have no names and are shown as their ids.
# payer/payee (transfers.csv) and partner (an enclave's) are provinces too.
COLUMNS: dict[str, Kind] = {
    "industry": "industry", "park": "park", "origin": "province", "province": "province",
    "sector": "sector", "jurisdiction": "province", "payer": "province", "payee": "province",
    "partner": "province", "region": "region",
}


class Labels:
    """The labels of one instance in one language (`lang`: "zh", "en", or None for the ids)."""

    def __init__(self, inst: Instance, lang: str | None = None) -> None:
        if lang is not None and lang not in LANGS:
            raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}, or None")
        self.lang = lang
        named: dict[Kind, Any] = {"province": inst.provinces.items(), "sector": inst.sectors.items(),
                                  "region": inst.regions.items(),
                                  "park": ((p.id, p) for p in inst.parks),
                                  "industry": ((i.id, i) for i in inst.industries)}
        # Only ids that have a name are kept: a large instance (a million generated industries)
        # usually names none of them, and a label lookup then costs one failed dict probe.
        self._names: dict[Kind, dict[str, str]] = {
            kind: {ident: name for ident, item in items if (name := self._pick(item)) is not None}
            for kind, items in named.items()}
        self._codes: dict[Literal["province", "sector"], dict[str, str]] = {
            "province": {q: v.code for q, v in inst.provinces.items() if v.code is not None},
            "sector": {s: v.code for s, v in inst.sectors.items() if v.code is not None}}

    @classmethod
    def union(cls, insts: list[Instance], lang: str | None = None) -> Labels:
        """The labels of several instances (the runs of a report): an id takes its name from the
        first instance that names it."""
        out = cls(insts[0], lang)
        for inst in insts[1:]:
            other = cls(inst, lang)
            for kind, names in other._names.items():
                for ident, name in names.items():
                    out._names[kind].setdefault(ident, name)
            for kind, codes in other._codes.items():
                for ident, code in codes.items():
                    out._codes[kind].setdefault(ident, code)
        return out

    @classmethod
    def from_results(cls, folder: str | Path, lang: str | None = None) -> Labels:
        """The labels of the instance a results folder holds (`instance.json`: the instance as solved,
        names included); raises `InputError` when it is missing or not a valid instance."""
        path = Path(folder) / "instance.json"
        from model.plans import read_json  # deferred: the results layer sits above this module

        if not path.is_file():
            raise InputError([Problem(str(folder), "(results folder)", "missing instance.json",
                                      "a folder written by `industry-transfer solve`")])
        data = read_json(path)
        if not isinstance(data, dict):
            raise InputError([Problem(str(path), "(file)", "not an instance",
                                      "a file written by `industry-transfer solve`")])
        return cls(validate(RawDoc(data, {}, str(path), "")), lang)

    def _pick(self, item: Any) -> str | None:
        if self.lang is None:
            return None
        mine, other = (item.name_zh, item.name_en) if self.lang == "zh" else (item.name_en, item.name_zh)
        return mine if mine is not None else other

    def label(self, kind: Kind, ident: str) -> str:
        """The label of an id of a kind: its name in the language, else in the other one, else the id."""
        return self._names[kind].get(ident, ident)

    def province(self, ident: str) -> str:
        return self.label("province", ident)

    def park(self, ident: str) -> str:
        return self.label("park", ident)

    def sector(self, ident: str) -> str:
        return self.label("sector", ident)

    def region(self, ident: str) -> str:
        return self.label("region", ident)

    def industry(self, ident: str) -> str:
        return self.label("industry", ident)

    def code(self, kind: Literal["province", "sector"], ident: str) -> str | None:
        """The standard code of a province (GB/T 2260) or a sector (GB/T 4754-2017); None if not given."""
        if kind not in self._codes:
            raise ValueError(f"codes are of provinces and sectors, not of {kind!r}")
        return self._codes[kind].get(ident)


def relabel(df: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """A copy of `df` with the ids of its id columns (`COLUMNS`) replaced by their labels.

    Everything else is left as it was: other columns, the index, and any cell that is not text (a
    missing value) or not a known id (`(stays)`, a region) in an id column.
    """
    out = df.copy()
    for column, kind in COLUMNS.items():
        if column in out.columns:
            names = labels._names[kind]
            if column == "jurisdiction":  # a province, or a region (the ledger's rows of both levels)
                names = {**labels._names["region"], **names}
            if names:  # nothing named (or no language): leave the column, and its dtype, untouched
                out[column] = out[column].map(lambda v, names=names: names.get(v, v) if isinstance(v, str) else v)
    return out


# Columns whose ids have a standard code, and the name of the code column put beside each.
CODED: dict[str, tuple[Literal["province", "sector"], str]] = {
    "origin": ("province", "origin_code"), "province": ("province", "province_code"),
    "jurisdiction": ("province", "code"), "sector": ("sector", "sector_code")}


def with_codes(df: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """A copy of `df` with a code column (GB/T 2260 for provinces, GB/T 4754 for sectors) after
    each id column that has codes in the instance; unchanged where the instance gives none."""
    out = df.copy()
    for column, (kind, name) in CODED.items():
        codes = labels._codes[kind]
        if column in out.columns and codes and name not in out.columns:
            values = out[column].map(lambda v, codes=codes: codes.get(v, "") if isinstance(v, str) else "")
            out.insert(out.columns.get_loc(column) + 1, name, values)
    return out
