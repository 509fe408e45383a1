"""The pair table of a validated instance, as columns: what `Instance.pairs` holds at scale.

A benchmark instance has a million (industry, park) pairs; as a million `Pair` objects they cost
seconds to make and validate and hundreds of megabytes to hold, and every walk over the instance
(periods, magnitudes, the checker) pays for them again. `pair_table` validates the raw items as
whole columns instead: each row is judged by the rules of `schema.Pair` (ids of letters, digits,
`_` and `-`; `cost` a number in [-1e12, 1e12] or absent; each `use` a number in [0, 1e12]; no
other key; numbers as text read as the schema reads them), and a row any column has a doubt about
is handed back for `schema.Pair` itself to judge, so its problems read exactly as they always did.
Costs given over time (a mapping per period) are left to the schema: the table holds plain numbers.

`PairTable` is a read-only sequence of `Pair` (made on demand, for code that reads pairs one by
one) with the columns for code that reads them all: `industry`, `park` (text), `cost` (NaN where
not given) and `use` (resource -> column, NaN where the pair does not override the industry's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from model.schema import MAX_NUMBER, Pair

_ID = re.compile(r"[A-Za-z0-9_\-]+")  # matched whole (`fullmatch`): `$` would let a final newline through
# What the schema reads as a number from text (`schema._number_check`), less what needs its judgement.
_PLAIN = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"  # ASCII digits: `\d` takes any script's
_NOT_PLAIN = str.maketrans("", "", "0123456789.eE+-")  # deletes what plain numbers are made of
_ABSENT = object()  # a key not given (`use: null` is given, and refused)
_KEYS = frozenset(("industry", "park", "cost", "use"))


class PairTable(Sequence[Pair]):
    """Pairs as columns; a sequence of `Pair` for code that reads them one at a time."""

    def __init__(self, industry: np.ndarray, park: np.ndarray, cost: np.ndarray,
                 use: dict[str, np.ndarray] | None = None) -> None:
        self.industry = np.asarray(industry, dtype=object)
        self.park = np.asarray(park, dtype=object)
        self.cost = np.asarray(cost, dtype=float)
        self.use = dict(use or {})
        self._index: tuple[dict[str, int], dict[str, int], np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> PairTable:
        """The table of a sequence of pairs with plain numbers (a table is returned as it is)."""
        if isinstance(pairs, PairTable):
            return pairs
        keys = list(dict.fromkeys(k for pr in pairs for k in pr.use))
        return cls(np.array([pr.industry for pr in pairs], dtype=object),
                   np.array([pr.park for pr in pairs], dtype=object),
                   np.array([math.nan if pr.cost is None else pr.cost for pr in pairs], dtype=float),
                   {k: np.array([pr.use.get(k, math.nan) for pr in pairs], dtype=float) for k in keys})

    def __len__(self) -> int:
        return len(self.industry)

    def __getitem__(self, n: Any) -> Any:
        if isinstance(n, slice):
            return [self[m] for m in range(*n.indices(len(self)))]
        cost = self.cost[n]
        return Pair.model_construct(industry=self.industry[n], park=self.park[n],
                                    cost=None if math.isnan(cost) else float(cost),
                                    use={k: float(v[n]) for k, v in self.use.items() if not math.isnan(v[n])})

    def __iter__(self) -> Iterator[Pair]:
        return (self[n] for n in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or len(self) != len(other):
            return False
        return all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PairTable({len(self)} pairs, use: {', '.join(self.use) or '-'})"

    def get(self, key: tuple[str, str]) -> Pair | None:
        """The pair of (industry, park), or None (the first such row: ids are checked unique)."""
        if self._index is None:  # (industry code, park code) as one sorted integer: a lookup is a bisection
            ci, industries = pd.factorize(self.industry)
            cp, parks = pd.factorize(self.park)
            code = ci.astype(np.int64) * max(1, len(parks)) + cp
            order = np.argsort(code, kind="stable")
            self._index = ({k: n for n, k in enumerate(industries)}, {k: n for n, k in enumerate(parks)},
                           code[order], order)
        industries, parks, codes, order = self._index
        i, p = industries.get(key[0]), parks.get(key[1])
        if i is None or p is None:
            return None
        code = i * max(1, len(parks)) + p
        at = int(np.searchsorted(codes, code))
        return self[int(order[at])] if at < len(codes) and codes[at] == code else None


def _numbers(values: list[Any], lo: float, hi: float, absent: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The numbers of a column (NaN where `absent`) and where a value needs the schema's judgement:
    not a number, a boolean, text that is not plain notation, or outside [lo, hi]."""
    out = np.full(len(values), np.nan)
    doubt = np.zeros(len(values), dtype=bool)
    kinds = np.array([type(v).__name__ for v in values], dtype=object) if values else np.array([], dtype=object)
    number = (kinds == "float") | (kinds == "int")
    if number.any():
        at = np.flatnonzero(number)
        try:
            out[at] = np.array([values[n] for n in at], dtype=float)
        except OverflowError:  # a 400-digit integer: the schema says how it is out of range
            doubt[at] = True
    text = kinds == "str"
    if text.any():
        at = np.flatnonzero(text)
        cells = [values[n] for n in at]
        read = _plain_numbers(cells)
        if read is not None:
            out[at] = read
        else:
            plain = pd.Series(cells, dtype=object).str.fullmatch(_PLAIN).to_numpy(dtype=bool)
            out[at[plain]] = np.array([c for c, ok in zip(cells, plain) if ok], dtype=float)
            doubt[at[~plain]] = True
    doubt |= ~(number | text | np.fromiter((v is absent for v in values), dtype=bool, count=len(values)))
    checked = number | text
    with np.errstate(invalid="ignore"):
        doubt |= checked & ~((out >= lo) & (out <= hi))  # NaN and infinities too
    return out, doubt


def _plain_numbers(cells: list[str]) -> np.ndarray | None:
    """Every cell read as a number at once (as `float()` reads it, to the digit), when each is in
    plain notation; None if one may not be. Cells of digits, `.`, `e`, `E`, `+` and `-` alone that
    `float()` reads are exactly the plain notation `_PLAIN` describes."""
    if "".join(cells).translate(_NOT_PLAIN) or not all(cells):
        return None
    try:
        return np.array(cells, dtype=float)
    except ValueError:
        return None


def text_codes(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column's text values (-1 where a value is not text) and the distinct texts: ids
    repeat (a million pairs name a thousand industries), so each is judged once, by its code."""
    column = np.fromiter(values, dtype=object, count=len(values))
    try:
        codes, uniques = pd.factorize(column)
    except TypeError:  # a list or a mapping (not hashable): not text
        column = np.fromiter((v if type(v) is str else None for v in values), dtype=object, count=len(values))
        codes, uniques = pd.factorize(column)
    text = np.array([type(u) is str for u in uniques], dtype=bool)
    if not text.all():  # numbers, booleans, None: not text; the texts renumbered
        renumber = np.full(len(uniques) + 1, -1)
        renumber[np.flatnonzero(text)] = np.arange(text.sum())
        codes, uniques = renumber[codes], uniques[text]
    return codes, np.asarray(uniques, dtype=object)


def pair_table(items: list[Any]) -> tuple[PairTable, list[int]] | None:
    """The table of the raw pair items that the columns show valid, and the positions of the rest
    (for `schema.Pair` to judge); None when some cost is given over time (the schema's, then)."""
    n = len(items)
    if not all(type(item) is dict for item in items):
        doubt = np.array([type(item) is not dict for item in items], dtype=bool)
        items = [item if type(item) is dict else {} for item in items]
    else:
        doubt = np.zeros(n, dtype=bool)
    doubt |= np.fromiter((not _KEYS.issuperset(item) for item in items), dtype=bool, count=n)
    industry, park, costs, uses = (list(c) for c in zip(*(
        (item.get("industry"), item.get("park"), item.get("cost"), item.get("use", _ABSENT)) for item in items)))
    ids = {}
    for key, values in (("industry", industry), ("park", park)):
        codes, uniques = text_codes(values)
        good = np.array([bool(_ID.fullmatch(u)) for u in uniques] + [False], dtype=bool)  # [-1]: not text
        doubt |= ~good[codes]
        ids[key] = np.where(codes >= 0, uniques[np.maximum(codes, 0)] if len(uniques) else None, None)
    if any(type(c) is dict for c in costs):
        return None
    cost, bad = _numbers(costs, -MAX_NUMBER, MAX_NUMBER)
    doubt |= bad
    given = [n for n, u in enumerate(uses) if u is not _ABSENT]  # most pairs give no `use`
    use = {}
    if given:
        kinds = np.zeros(n, dtype=bool)
        kinds[given] = [type(uses[m]) is dict for m in given]
        doubt[given] |= ~kinds[given]
        keys = list(dict.fromkeys(k for m in given if kinds[m] for k in uses[m]))
        for key in keys:
            if type(key) is not str:
                doubt[[m for m in given if kinds[m] and key in uses[m]]] = True
                continue
            column = [_ABSENT] * n
            for m in given:
                if kinds[m]:
                    column[m] = uses[m].get(key, _ABSENT)
            use[key], bad = _numbers(column, 0.0, MAX_NUMBER, _ABSENT)  # `land: null` is given, and refused
            doubt |= bad
    keep = ~doubt
    table = PairTable(ids["industry"][keep], ids["park"][keep], cost[keep], {k: v[keep] for k, v in use.items()})
    return table, np.flatnonzero(doubt).tolist()
