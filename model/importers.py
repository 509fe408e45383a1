"""Importers: public benchmark files into the project's own instance format.

The very same formulation code is then validated against published optima:
- OR-Library capacitated warehouse location (Beasley 1988) and Holmberg's single-source CFLP:
  parks = facilities (capacity s_i, open_cost f_i), industries = customers with `must_transfer`,
  one resource `demand` (use d_j per module), pair cost c_ij = the cost of serving all of j's demand
  from i. Single sourcing: indivisible customers (x binary); multi-sourcing: `divisible`.
- Generalized assignment (OR-Library gap1..12, gapa..d; type E): parks = agents (capacity b_i,
  already open), industries = jobs with `must_transfer`, pair-specific use a_ij and cost c_ij.

The parsers read the files as published: numbers like `7500.` or `.00000`, CRLF line ends, NUL
padding (only the bytes before the first NUL are read), the literal `capacity` of capa/capb/capc.
A malformed file raises `InputError` with one line naming the file, line and what was expected.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from model.errors import InputError, Problem
from model.loader import MAX_BYTES, not_a_file, read_bounded, within
from model.outputs import check_new_files, write_file
from model.schema import MAX_NUMBER

FORMATS = ("orlib-cap", "holmberg", "gap")
# The import options and the one format that reads each (`solve --format` and `bench` refuse the others)
OPTION_FORMATS = {"capacity": "orlib-cap", "sourcing": "orlib-cap", "index": "gap"}
# capa/capb/capc: the four published capacities of each file (benchdata README).
CAPACITIES = {"capa": (8000, 10000, 12000, 14000), "capb": (5000, 6000, 7000, 8000),
              "capc": (5000, 5750, 6500, 7250)}
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
# Characters of plain numbers (deleted by `str.translate`: a file of numbers leaves only white space).
# A token of them that `float` reads also matches `_NUMBER`; one it does not read is refused by the
# token-by-token reading, which names its line.
_PLAIN_NUMBERS = str.maketrans("", "", "0123456789.eE+-")


@dataclass
class Imported:
    """An instance as plain data, ready for `model.validate` or for writing as YAML + CSV."""

    name: str
    data: dict[str, Any]
    source: str  # the benchmark file
    sha256: str


class _Tokens:
    """Whitespace-separated tokens of a benchmark file, each with its line number."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        if not path.is_file():
            raise InputError([Problem(str(path), "(file)", not_a_file(path), "a path to a benchmark file")])
        raw, why = read_bounded(path, max_bytes)
        if why:
            raise InputError([Problem(f"{path}:1", "(file)", f"the file {why}",
                                      within(max_bytes) if "larger" in why else "a readable file")])
        self.sha256 = hashlib.sha256(raw).hexdigest()
        # A byte-order mark (an editor's UTF-8 save) is not a token: YAML and CSV files may have one too.
        self.text = raw.split(b"\0", 1)[0].removeprefix(b"\xef\xbb\xbf").decode("ascii", errors="replace")
        self._items: list[tuple[str, int]] | None = None
        self.pos = 0

    @property
    def items(self) -> list[tuple[str, int]]:
        """Every token with its line (made when first asked for: the fast path never needs them)."""
        if self._items is None:
            self._items = [(tok, n) for n, line in enumerate(self.text.splitlines(), 1) for tok in line.split()]
        return self._items

    def numbers(self) -> np.ndarray | None:
        """Every token as a number, at once, when the file is plain numbers (digits, `.`, `e`, signs);
        None otherwise, or when a token is not a number: the token-by-token reading then says where."""
        if self.text.translate(_PLAIN_NUMBERS).strip():
            return None
        try:
            return np.array(self.text.split(), dtype=float)
        except ValueError:
            return None

    def error(self, message: str, expected: str, line: int | None = None) -> InputError:
        if line is None:
            line = self.items[min(self.pos, len(self.items) - 1)][1] if self.items else 1
        return InputError([Problem(f"{self.path}:{line}", self.path.name, message, expected)])

    def left(self) -> int:
        return len(self.items) - self.pos

    def word(self) -> str:
        if self.pos >= len(self.items):
            last = self.items[-1][1] if self.items else 1
            raise self.error("the file ends too early", "more numbers (is it truncated?)", last)
        tok = self.items[self.pos][0]
        self.pos += 1
        return tok

    def number(self, what: str, low: float = -MAX_NUMBER) -> float:
        """The next token as a number in [low, MAX_NUMBER] (the schema's range): out of it, the
        error names this line and what the number is, where the instance's validation could not."""
        tok = self.word()
        if not _NUMBER.match(tok):  # not echoed: the file may be anything (DESIGN: no content of it shown)
            raise self.error(f"{what}: got text that is not a number", "a number", self.items[self.pos - 1][1])
        value = float(tok)
        if not low <= value <= MAX_NUMBER:
            raise self.error(f"{what}: got {tok}", f"a number from {low:g} to {MAX_NUMBER:g}",
                             self.items[self.pos - 1][1])
        return value

    def whole(self, what: str) -> int:
        value = self.number(what)
        if value != int(value) or value < 1:
            raise self.error(f"{what}: got {value:g}", "a whole number ≥ 1", self.items[self.pos - 1][1])
        return int(value)

    def end(self) -> None:
        if self.left():
            tok, line = self.items[self.pos]
            raise self.error(f"{self.left()} numbers left over after the data (the first on this line)",
                             "exactly the numbers the header announces", line)


def _cfl_instance(name: str, description: str, caps: list[float], fixed: list[float], demand: list[float],
                  cost: list[list[float]], divisible: bool) -> dict[str, Any]:
    m, n = len(caps), len(demand)
    facilities = [f"f{i + 1}" for i in range(m)]
    return {
        "name": name,
        "description": description,
        "units": {"money": "cost units", "co2": "-", "power": "-", "distance": "-", "jobs": "-"},
        "resources": {"demand": {"category": "benchmark", "unit": "demand units"}},
        "industries": [{"id": f"c{j + 1}", "origin": "benchmark", "sector": "customer", "divisible": divisible,
                        "must_transfer": True, "use": {"demand": demand[j]}} for j in range(n)],
        "parks": [{"id": f"f{i + 1}", "province": "benchmark", "region": "benchmark", "open_cost": fixed[i],
                   "capacity": {"demand": caps[i]}} for i in range(m)],
        "pairs": [{"industry": customer, "park": facility, "cost": c}
                  for customer, row in zip((f"c{j + 1}" for j in range(n)), zip(*cost))
                  for facility, c in zip(facilities, row)],
    }


def orlib_cap(path: str | Path, capacity: float | None = None, sourcing: str = "multi",
              max_bytes: int = MAX_BYTES) -> Imported:
    """OR-Library cap41..cap134 and capa/capb/capc (the latter need `capacity`)."""
    path = Path(path)
    t = _Tokens(path, max_bytes)
    quick = _orlib_cap_numbers(t.numbers())
    if quick is not None:
        caps, fixed, demand, cost = quick
        _customer_lines(t, len(caps), len(demand))
        if capacity is not None:  # every capacity is a number here: --capacity would replace the file's own
            raise InputError([Problem(str(path), "--capacity", f"{path.name} gives every warehouse's capacity as a "
                                      "number; --capacity would replace them, and the instance would no longer "
                                      "be the file's", "--capacity only for capa/capb/capc (their file gives the "
                                      "word `capacity`)")])
        desc = (f"OR-Library capacitated warehouse location {path.stem} (Beasley 1988), {sourcing}-sourcing; "
                f"imported from {path.name}")
        return Imported(path.stem, _cfl_instance(path.stem, desc, caps, fixed, demand, cost, sourcing == "multi"),
                        str(path), t.sha256)
    m, n = t.whole("number of warehouses"), t.whole("number of customers")
    caps, fixed = [], []
    literal = False
    for i in range(m):
        tok = t.word()
        if tok.lower() == "capacity":
            literal = True
            caps.append(float("nan"))
        else:
            t.pos -= 1
            caps.append(t.number(f"capacity of warehouse {i + 1}", 0.0))
        fixed.append(t.number(f"fixed cost of warehouse {i + 1}", 0.0))
    if literal and capacity is None:
        known = CAPACITIES.get(path.stem.lower())
        raise InputError([Problem(str(path), "--capacity", "the file gives its capacity as the word `capacity`",
                                  "--capacity N" + (f" (published: {', '.join(map(str, known))})" if known else ""))])
    if capacity is not None and not literal:
        raise InputError([Problem(str(path), "--capacity", f"{path.name} gives every warehouse's capacity as a "
                                  "number; --capacity would replace them, and the instance would no longer be the "
                                  "file's", "--capacity only for capa/capb/capc (their file gives the word "
                                  "`capacity`)")])
    if capacity is not None:  # the warehouses whose capacity is the word; a number stays the file's
        caps = [float(capacity) if math.isnan(c) else c for c in caps]
    demand: list[float] = []
    cost = [[0.0] * n for _ in range(m)]
    for j in range(n):
        demand.append(t.number(f"demand of customer {j + 1}", 0.0))
        for i in range(m):
            cost[i][j] = t.number(f"cost of customer {j + 1} from warehouse {i + 1}")
    t.end()
    _customer_lines(t, m, n)
    name = path.stem + (f"-{capacity:g}" if literal else "")
    desc = (f"OR-Library capacitated warehouse location {name} (Beasley 1988), {sourcing}-sourcing; "
            f"imported from {path.name}")
    return Imported(name, _cfl_instance(name, desc, caps, fixed, demand, cost, sourcing == "multi"),
                    str(path), t.sha256)


def _customer_lines(t: _Tokens, m: int, n: int) -> None:
    """Each customer's block (its demand, then its m costs) starts on a line of its own, as in every
    OR-Library cap file. A Holmberg file has as many numbers (2 + 2m + n(m+1)) and was read as one
    without a word (its demands, then facility-major costs: a different instance); this tells them
    apart where the lines say which."""
    items = t.items
    if len(items) < 2 + 2 * m or not all(items[2 + 2 * i][1] != items[1 + 2 * i][1]  # capacity starts a line
                                         and items[3 + 2 * i][1] == items[2 + 2 * i][1] for i in range(m)):
        return  # not one warehouse a line either: a layout of its own (all on one line, one number a line), not judged
    def starts_line(at: int) -> bool:
        return 0 < at < len(items) and items[at][1] != items[at - 1][1]

    # Refused only where the Holmberg reading fits the lines instead: its n demands start a line and
    # so does each facility's row of n costs (a cap file re-wrapped, its customers run on 7 numbers
    # a line, is still read as the numbers it holds).
    late = next((j for j in range(n) if not starts_line(2 + 2 * m + j * (m + 1))), None)
    holmberg = starts_line(2 + 2 * m) and all(starts_line(2 + 2 * m + n + i * n) for i in range(m))
    if late is not None and holmberg:
        at = 2 + 2 * m + late * (m + 1)
        raise t.error(f"customer {late + 1}'s demand is not the first number of its line, as in an OR-Library cap "
                      "file (demand, then its costs, per customer), and the lines are laid out as a Holmberg file's",
                      "the holmberg format for a Holmberg file (solve --format holmberg, import holmberg, "
                      "bench holmberg:PATH)", line=items[at][1])


def _orlib_cap_numbers(numbers: np.ndarray | None) -> tuple[list, list, list, list] | None:
    """Capacities, fixed costs, demands and costs (warehouse-major) of a file read as numbers at once,
    or None when its numbers do not add up (the token-by-token reading then says what is wrong)."""
    if numbers is None or len(numbers) < 2:
        return None
    m, n = numbers[0], numbers[1]
    if not (m >= 1 and n >= 1 and m == int(m) and n == int(n)) or len(numbers) != 2 + 2 * m + n * (m + 1):
        return None
    m, n = int(m), int(n)
    body = numbers[2 + 2 * m:].reshape(n, m + 1)
    amounts = np.r_[numbers[2:2 + 2 * m], body[:, 0]]  # capacities, fixed costs, demands
    if not ((amounts >= 0) & (amounts <= MAX_NUMBER)).all() or not (np.abs(body[:, 1:]) <= MAX_NUMBER).all():
        return None  # a number out of range: the token-by-token reading names its line
    return (numbers[2:2 + 2 * m:2].tolist(), numbers[3:3 + 2 * m:2].tolist(), body[:, 0].tolist(),
            body[:, 1:].T.tolist())


def holmberg(path: str | Path, max_bytes: int = MAX_BYTES) -> Imported:
    """Holmberg, Rönnqvist and Yuan (1999) single-source CFLP p1..p71 (costs facility-major)."""
    path = Path(path)
    t = _Tokens(path, max_bytes)
    m, n = t.whole("number of facilities"), t.whole("number of customers")
    caps, fixed = [], []
    for i in range(m):
        caps.append(t.number(f"capacity of facility {i + 1}", 0.0))
        fixed.append(t.number(f"fixed cost of facility {i + 1}", 0.0))
    demand = [t.number(f"demand of customer {j + 1}", 0.0) for j in range(n)]
    cost = [[t.number(f"cost of customer {j + 1} from facility {i + 1}") for j in range(n)] for i in range(m)]
    t.end()
    desc = f"Holmberg, Rönnqvist and Yuan (1999) single-source CFLP {path.name}"
    return Imported(path.name, _cfl_instance(path.name, desc, caps, fixed, demand, cost, False), str(path), t.sha256)


def gap_count(path: str | Path, max_bytes: int = MAX_BYTES) -> int:
    """How many instances a GAP file holds (OR-Library files several, type E files one)."""
    return len(_gap_blocks(_Tokens(Path(path), max_bytes)))


def _gap_blocks(t: _Tokens) -> list[int]:
    """Token positions of each instance's `m n`; tells OR-Library files (leading P) from type E."""
    nums = t.items
    try:
        first = [float(tok) for tok, _ in nums[:3]]
    except ValueError:
        raise t.error("the header is not numbers", "P, or m n, at the start of the file") from None

    def walk(start: int, count: int | None) -> list[int] | None:
        pos, blocks = start, []
        while pos < len(nums) and (count is None or len(blocks) < count):
            try:
                m, n = float(nums[pos][0]), float(nums[pos + 1][0])
            except (ValueError, IndexError):
                return None
            if not (1 <= m <= len(nums) and 1 <= n <= len(nums) and m == int(m) and n == int(n)):
                return None  # no instance of this file has that many agents or jobs (nor none, nor NaN)
            blocks.append(pos)
            pos += 2 + 2 * int(m) * int(n) + int(m)
        return blocks if pos == len(nums) and (count is None or len(blocks) == count) else None

    whole = len(first) == 3 and 1 <= first[0] <= len(nums) and first[0] == int(first[0])
    blocks = walk(1, int(first[0])) if whole else None
    if blocks is None:
        blocks = walk(0, 1)
    if blocks is None:
        raise t.error(_gap_mismatch(nums, int(first[0]) if whole else None),
                      "P, then per instance m n, m·n costs, m·n resource uses and m capacities")
    return blocks


def _gap_mismatch(nums: list, count: int | None) -> str:
    """What does not add up in a GAP file read as the header `count` instances (None: one, type E)."""
    start = 1 if count is not None else 0
    want = count if count is not None else 1
    pos, k = start, 0
    while pos < len(nums) and k < want:
        try:
            m, n = float(nums[pos][0]), float(nums[pos + 1][0])
        except (ValueError, IndexError):
            return f"the numbers do not add up to GAP instances: instance {k + 1} has no m n (line {nums[pos][1]})"
        if not (math.isfinite(m) and math.isfinite(n) and m >= 1 and n >= 1 and m == int(m) and n == int(n)):
            return f"the numbers do not add up to GAP instances: instance {k + 1}'s m n are {m:g} {n:g} (line " \
                   f"{nums[pos][1]})"
        end = pos + 2 + 2 * int(m) * int(n) + int(m)
        if end > len(nums):
            return (f"the file ends early, inside instance {k + 1} of {want} ({end - len(nums)} numbers short, "
                    f"{int(m)} agents and {int(n)} jobs from line {nums[pos][1]})")
        pos, k = end, k + 1
    if pos < len(nums):
        said = f"the header says {count} instances" if count is not None else "one instance (no header P)"
        return f"{said}; {len(nums) - pos} numbers are left over after them, from line {nums[pos][1]}"
    if k < want:
        return f"the header says {count} instances; the file holds {k}"
    return "the numbers do not add up to GAP instances"


def gap(path: str | Path, index: int = 1, maximise: bool = False, max_bytes: int = MAX_BYTES) -> Imported:
    """Generalized assignment: the `index`-th instance (1-based) of an OR-Library or type E file.

    OR-Library states gap1..gap12 as maximisation problems (max Σ c x) and publishes those optima
    as well as the minimisation ones. `maximise` imports the file as max Σ c x, written for a tool
    that minimises: each assignment's cost is −c_ij, so the objective is −(the profit), and the
    instance is named `<file>#<k>-max`."""
    path = Path(path)
    t = _Tokens(path, max_bytes)
    blocks = _gap_blocks(t)
    if not 1 <= index <= len(blocks):
        raise InputError([Problem(str(path), "--index", f"got {index}; the file holds {len(blocks)} instance(s)",
                                  f"a number from 1 to {len(blocks)}")])
    t.pos = blocks[index - 1]
    m, n = t.whole("number of agents"), t.whole("number of jobs")
    cost = [[t.number(f"cost of job {j + 1} at agent {i + 1}") for j in range(n)] for i in range(m)]
    use = [[t.number(f"use of job {j + 1} at agent {i + 1}", 0.0) for j in range(n)] for i in range(m)]
    caps = [t.number(f"capacity of agent {i + 1}", 0.0) for i in range(m)]
    name = path.stem + (f"#{index}" if len(blocks) > 1 else "") + ("-max" if maximise else "")
    sense = "maximisation of the profit: the objective is minus the profit" if maximise else "minimisation"
    sign = -1.0 if maximise else 1.0
    data = {
        "name": name,
        "description": f"generalized assignment {name} ({m} agents, {n} jobs), {sense}; from {path.name}",
        "units": {"money": "cost units", "co2": "-", "power": "-", "distance": "-", "jobs": "-"},
        "resources": {"capacity": {"category": "benchmark", "unit": "resource units"}},
        "industries": [{"id": f"j{j + 1}", "origin": "benchmark", "sector": "job", "must_transfer": True}
                       for j in range(n)],
        "parks": [{"id": f"a{i + 1}", "province": "benchmark", "region": "benchmark",
                   "capacity": {"capacity": caps[i]}} for i in range(m)],
        "pairs": [{"industry": f"j{j + 1}", "park": f"a{i + 1}", "cost": sign * cost[i][j] + 0.0,
                   "use": {"capacity": use[i][j]}}
                  for j in range(n) for i in range(m)],
    }
    return Imported(name, data, str(path), t.sha256)


def import_file(fmt: str, path: str | Path, capacity: float | None = None, sourcing: str = "multi",
                index: int = 1, maximise: bool = False, max_bytes: int = MAX_BYTES) -> Imported:
    if maximise and fmt != "gap":
        raise InputError([Problem("--maximise", fmt, "only GAP files are stated as maximisation problems",
                                  "--format gap (or no --maximise)")])
    if fmt == "orlib-cap":
        return orlib_cap(path, capacity, sourcing, max_bytes)
    if fmt == "holmberg":
        return holmberg(path, max_bytes)
    if fmt == "gap":
        return gap(path, index, maximise, max_bytes)
    raise InputError([Problem("--format", fmt, "unknown benchmark format", "one of: " + ", ".join(FORMATS))])


def write_instance(imported: Imported, out: str | Path, force: bool = False) -> Path:
    """Write the instance as YAML with its pair table in a CSV file beside it (neither may exist
    unless `force`)."""
    out = Path(out)
    data = dict(imported.data)
    pairs = data.pop("pairs")
    table = out.with_name(out.stem + "-pairs.csv")
    check_new_files([out, table], force)
    resources = list(data["resources"])
    used = [k for k in resources if any(k in p.get("use", {}) for p in pairs)]
    columns = {"industry": [p["industry"] for p in pairs], "park": [p["park"] for p in pairs],
               "cost": [float(p["cost"]) for p in pairs]}
    columns.update({f"use.{k}": [float(p["use"][k]) for p in pairs] for k in used})
    # Floats as repr writes them (exact: published optima are reproduced to the digit), quoted where needed.
    write_file(table, pd.DataFrame(columns).to_csv(index=False, lineterminator="\n"))
    data["pairs"] = table.name
    head = f"# Imported from {imported.source} (sha256 {imported.sha256}) by `industry-transfer import`.\n"
    write_file(out, head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))
    return out
