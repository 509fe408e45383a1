"""Read an instance: YAML with line marks, CSV side tables, scenario overlays, then validation.

The raw document is read into plain Python data plus a map from every key path to `file:line`, so
any error found later (by pydantic or by the reference checks) can point at the line that caused
it. Scenario overlays and `--set` patches are applied to the raw data *before* validation: an
overlay is validated exactly like the base, and errors in it point at the overlay's own line.

Dotted keys address lists of items by `id` (`parks.hefei_econ.capacity.land`), by position
(`parks.0.capacity.land`) or all items (`parks.*.capacity.cod`). A value written `"*0.8"` scales
the current number.

Input is hostile until read: every file is bounded in size and must be UTF-8 text; side tables
must lie inside the instance's folder (after following links); YAML tags other than plain values
are refused and alias expansion is bounded (a 500-byte "billion laughs" would expand to 10^10
values); nothing of a file that is not a valid input is echoed beyond a short snippet.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import csv
import gc
import hashlib
import io
import math
import os
import re
import threading
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from model.errors import InputError, Path, Problem, clip, format_path, show_text
from model.schema import text_number

# Top-level list sections that may be given as a CSV file name instead of a YAML list.
CSV_SECTIONS = ("industries", "parks", "pairs")
# CSV columns holding lists, written `a;b;c` in one cell.
CSV_LIST_COLUMNS = ("tags", "requires")

# Limits, far above any real instance (the 64-bundle china instance is 54 KB and 5,800 YAML values),
# that stop a hostile or broken file before it costs minutes or gigabytes.
MAX_BYTES = 50 * 1024 * 1024  # per file, the YAML and each side table; `read(max_bytes=...)` raises it
MAX_NODES = 10_000_000  # YAML values once aliases are expanded (50 MB of YAML written out holds ~7 million)
MAX_DEPTH = 100  # nesting of YAML mappings and lists (an instance needs 7); keeps the reader's recursion safe

# Numbers YAML 1.1 reads in a way a reader of the file would not: a leading zero (octal), 0b, 0x,
# ':' (base 60), '_' between digits. Plain decimal and exponent notation are read as written.
_YAML_1_1_ONLY = re.compile(r"^[-+]?(0[0-9_]+|0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?"
                            r"|[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|[0-9]*\.[0-9_]*_[0-9_]*([eE][-+]?[0-9]+)?)$")
_FLOAT_1_2 = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+$")
_SCALE = re.compile(r"^\*\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)$")
_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_TAG + t for t in ("null", "bool", "int", "float", "str")}
# Read as the text written: a date stays the text `2019-06-01`; `=` and `<<` as values are words.
_TEXT_TAGS = {_TAG + t for t in ("timestamp", "value", "merge")}
# libyaml's parser when installed (3-4 times faster; it also bounds nesting itself), else PyYAML's.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class RawDoc:
    """Plain data read from the instance files, with the `file:line` of every key path."""

    data: Any
    marks: dict[Path, str]
    file: str
    hash: str
    overlays: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading, reported with validation
    partial: set[str] = field(default_factory=set)  # sections missing items (a side table or rows unread)
    patches: set[Path] = field(default_factory=set)  # paths an overlay set
    renamed: dict[Path, str] = field(default_factory=dict)  # item path -> its id before an overlay changed it

    def where(self, path: Path) -> str:
        """The `file:line` of the longest prefix of `path` that has a mark; for a problem of an item
        that an overlay changed inside (a rule's bounds that no longer agree after `--set
        rules.r.min=5`), the overlay's place (`--set`, or the scenario's line), not the item's line
        in the file, which may be as it was."""
        below = [p for p in self.patches if len(p) > len(path) and p[: len(path)] == tuple(path)]
        if below and not self.patched(path):
            mark = self.marks.get(min(below, key=len))
            if mark:
                return mark
        for n in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:n]))
            if mark:
                return mark
        return f"{self.file}:1"

    def patched(self, path: Path) -> bool:
        """Whether an overlay set `path` or a mapping or item holding it."""
        return any(tuple(path[:n]) in self.patches for n in range(1, len(path) + 1))

    def display(self, path: Path) -> str:
        """The key as a user writes it: list positions shown as the item's id where it has one.

        An item whose id an overlay changed is shown by its id before, as the overlay named it.
        """
        out: list[str | int] = []
        node = self.data
        for n, part in enumerate(path):
            if isinstance(part, int) and isinstance(node, list):
                item = node[part] if 0 <= part < len(node) else None
                ident = self.renamed.get(tuple(path[: n + 1]))
                ident = ident or (item.get("id") if isinstance(item, dict) else None)
                out.append(str(ident) if isinstance(ident, str) and ident else part)
                node = item
            else:
                out.append(part)
                node = node.get(part) if isinstance(node, dict) else None
        return format_path(tuple(out))

    def problem(self, path: Path, message: str, expected: str = "") -> Problem:
        return Problem(self.where(path), self.display(path), message, expected)


class _GcPause:
    """A count of the readers that paused the garbage collector, and whether it ran before the first."""

    lock = threading.Lock()
    holders = 0
    was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading or validating a large instance.

    It rescans every live object each few thousand allocations; a 50 MB table is millions of
    objects and no cycles worth collecting, so pausing it halves the time of reading and validating.
    Counted, so that threads loading at once (a sweep's runs on one worker) resume it only at the end.
    """
    with _GcPause.lock:
        if _GcPause.holders == 0:
            _GcPause.was_enabled = gc.isenabled()
            gc.disable()
        _GcPause.holders += 1
    try:
        yield
    finally:
        with _GcPause.lock:
            _GcPause.holders -= 1
            if _GcPause.holders == 0 and _GcPause.was_enabled:
                gc.enable()


def _show(file: str | os.PathLike[str]) -> str:
    """A file name as short as it can be shown: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(file)
    except ValueError:
        return str(file)
    return str(file) if rel.startswith("..") else rel


# ---------------------------------------------------------------------------------------------
# Bytes to text


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"


def read_bounded(file: FsPath, max_bytes: int) -> tuple[bytes, str]:
    """The file's bytes and "", or b"" and why not; at most `max_bytes` are read (stat() can lie)."""
    try:
        with open(file, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return b"", f"cannot be read ({exc.strerror or type(exc).__name__})"
    if len(data) > max_bytes:
        return b"", f"is larger than {_size(max_bytes)}"
    return data, ""


NEWLINE = b"\n"
RETURN = b"\r"


def _decode(data: bytes, shown: str, key: str) -> str:
    """UTF-8 text (a BOM allowed), or one line saying where it is not; never the bytes themselves."""

    def line_at(offset: int) -> str:  # a line ends at \n, \r\n or a lone \r (a Mac-style CSV file)
        head = data[:offset]
        lines = head.count(NEWLINE) + head.count(RETURN) - head.count(RETURN + NEWLINE)
        return f"{shown}:{lines + 1}"

    expected = "UTF-8 text (save the file as UTF-8)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError([Problem(f"{shown}:1", key, "the file is UTF-16 or UTF-32 text", expected)])
    nul = data.find(b"\0")
    if nul >= 0:
        head = data[:4096]
        if head.count(b"\0") * 4 >= len(head):  # every other byte NUL: UTF-16 without a BOM
            raise InputError([Problem(f"{shown}:1", key, "the file looks like UTF-16 text (no BOM)", expected)])
        raise InputError([Problem(line_at(nul), key, "the file holds a NUL byte (binary data?)",
                                  "a text file in UTF-8")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(line_at(exc.start), key, f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                                  expected + "; Latin-1 or GBK files must be converted")]) from None
    return text.removeprefix("\ufeff")


# ---------------------------------------------------------------------------------------------
# YAML


def _line(shown: str, node: yaml.Node) -> str:
    return f"{shown}:{node.start_mark.line + 1}"


def _tag_name(tag: str) -> str:
    return clip("!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag)


def _children(node: yaml.Node) -> list[tuple[Any, yaml.Node]]:
    """(path part, child) of a node; a mapping's keys are children too (they can be aliases)."""
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[Any, yaml.Node]] = []
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            out += [(name, key), (name, value)]
        return out
    if isinstance(node, yaml.SequenceNode):
        return list(enumerate(node.value))
    return []


def _check_size(root: yaml.Node, shown: str) -> None:
    """Refuse a tree too big once aliases are expanded, too deep, or recursive, without expanding it.

    A node reached through an alias is the same object as its anchor, so its expanded size is
    computed once and reused: the 500-byte billion laughs costs 110 steps here, not 10^10. Only
    mappings and lists are remembered (a scalar counts 1), which keeps this small beside the tree.
    """
    measured: dict[int, tuple[int, int]] = {}  # id of a mapping or list -> (expanded size, height)
    open_: set[int] = set()  # collections being measured: met again inside itself = recursion
    stack: list[tuple[yaml.Node, Path, bool]] = [(root, (), False)]

    def refuse(node: yaml.Node, path: Path, message: str, expected: str) -> InputError:
        return InputError([Problem(_line(shown, node), clip(format_path(path), 80), message, expected)])

    while stack:
        node, path, done = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            continue
        key = id(node)
        kids = _children(node)
        if done:
            open_.discard(key)
            size, height = 1, 1
            for _, child in kids:
                s, h = measured.get(id(child), (1, 1))
                size, height = size + s, max(height, h + 1)
            measured[key] = (size, height)
            if size > MAX_NODES:
                raise refuse(node, path, f"more than {MAX_NODES:,} values once aliases (*name) are expanded",
                             f"at most {MAX_NODES:,} (large tables belong in CSV side tables)")
            continue
        reused = measured.get(key)
        if len(path) > MAX_DEPTH or (reused and len(path) + reused[1] - 1 > MAX_DEPTH):
            raise refuse(node, path, f"mappings and lists nested more than {MAX_DEPTH} deep",
                         f"at most {MAX_DEPTH} levels")
        if reused:
            continue
        if key in open_:
            raise refuse(node, path, "an alias refers to its own anchor",
                         "aliases (*name) to values defined before, not inside themselves")
        open_.add(key)
        stack.append((node, path, True))
        stack += [(child, (*path, part), False) for part, child in reversed(kids)]  # in file order


class _Reader:
    """Turns a composed YAML node tree into Python data, recording the line of every path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[Path, str] = {}
        self.problems: list[tuple[str, Path, str, str]] = []  # (where, key path, message, expected)
        self.duplicates: list[tuple[Path, str, str]] = []  # (key path, where, line first given)
        self.constructor = yaml.constructor.SafeConstructor()

    def mark(self, path: Path, node: yaml.Node) -> None:
        self.marks[path] = _line(self.file, node)

    def report(self, node: yaml.Node, path: Path, message: str, expected: str) -> None:
        self.problems.append((_line(self.file, node), path, message, expected))

    def refuse_tag(self, node: yaml.Node, path: Path) -> None:
        self.report(node, path, f"unsupported YAML tag {_tag_name(node.tag)}",
                    "plain values, mappings and lists (no `!tags`)")

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        """A plain value; a refused tag or a value its tag cannot read is reported, then read as text."""
        if node.tag in _TEXT_TAGS:
            return node.value
        if node.tag not in _PLAIN_TAGS:
            self.refuse_tag(node, path)
            return node.value
        if node.tag in (_TAG + "int", _TAG + "float") and not node.style and _YAML_1_1_ONLY.match(node.value):
            # YAML 1.1 reads `012` as octal 10 and `1:30` as base-60 90: a silent change of the number.
            self.report(node, path, f"{clip(node.value)} is read differently by YAML versions (an octal, binary "
                        "or hexadecimal number, base 60 with ':', or '_' between digits)",
                        "a plain decimal number (12, -0.5, 1.5e3), or quotes around a text")
            return node.value
        try:
            return self.constructor.yaml_constructors[node.tag](self.constructor, node)
        except Exception:  # e.g. `!!int ten`, `!!bool maybe`, a 5000-digit integer
            self.report(node, path, f"not a valid {_tag_name(node.tag)}", "a value its tag can read")
            return node.value

    def key(self, node: yaml.Node, path: Path) -> str | None:
        """A mapping key as written (`no:` is the word no, not false), or None if it is no plain word."""
        if isinstance(node, yaml.ScalarNode) and node.tag != _TAG + "null" and node.value:
            if node.tag not in _PLAIN_TAGS:
                self.refuse_tag(node, path)
            return node.value
        self.report(node, path, "a key must be a plain word", "a name such as `land`")
        return None

    def read(self, node: yaml.Node, path: Path) -> Any:
        self.mark(path, node)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _TAG + "map":
                self.refuse_tag(node, path)
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.refuse_tag(node, path)
            return [self.read(item, (*path, n)) for n, item in enumerate(node.value)]
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _TAG + "merge":
                merged.append((key_node, value_node))
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            sub = (*path, key)
            if key in out:
                self.duplicates.append((sub, _line(self.file, key_node), self.marks[sub].rsplit(":", 1)[1]))
                continue
            out[key] = self.read(value_node, sub)
            self.mark(sub, key_node)
        for key_node, value_node in merged:
            self.merge(out, key_node, value_node, path)
        return out

    def merge(self, out: dict[str, Any], key_node: yaml.Node, value_node: yaml.Node, path: Path) -> None:
        """`<<: *base` is refused, once; its keys are still merged so that nothing else is reported for it."""
        self.report(key_node, path, "merge keys (`<<`) are not supported",
                    "the keys written out (an alias `*name` may stand for a whole value)")
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                other = _Reader(self.file)  # its marks point into the anchor, not at this mapping: dropped
                merged = other.mapping(source, path)
                self.problems += other.problems
                self.duplicates += other.duplicates
                for key, value in merged.items():
                    if key not in out:
                        out[key] = value
                        self.mark((*path, key), key_node)


def _read_yaml(text: str, shown: str) -> tuple[Any, dict[Path, str], list[Problem]]:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = f"{exc.context}: {exc.problem}" if exc.context else str(exc.problem)
        raise InputError([Problem(f"{shown}:{line}", "(syntax)", f"not valid YAML: {clip(what, 100)}",
                                  "YAML mappings and lists")]) from None
    except yaml.YAMLError as exc:  # the reader's: a control character (libyaml reports no line)
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        reason = getattr(exc, "reason", None) or "unreadable"
        raise InputError([Problem(f"{shown}:{line}", "(syntax)", f"not valid YAML: {clip(str(reason), 80)}",
                                  "printable UTF-8 text")]) from None
    except RecursionError:  # PyYAML's own parser recurses once per level of nesting
        raise InputError([Problem(f"{shown}:1", "(syntax)", "mappings and lists nested too deep",
                                  f"at most {MAX_DEPTH} levels")]) from None
    if node is None:
        raise InputError([Problem(f"{shown}:1", "(top level)", "the file is empty",
                                  "a mapping with `resources`, `industries` and `parks`")])
    _check_size(node, shown)
    reader = _Reader(shown)
    data = reader.read(node, ())
    named = RawDoc(data, reader.marks, shown, "")
    problems = [Problem(where, named.display(path), message, expected)
                for where, path, message, expected in reader.problems]
    for path, where, first in reader.duplicates:
        problems.append(Problem(where, named.display(path), f"duplicate key (first given at line {first})",
                                "each key once"))
    return data, reader.marks, problems


# ---------------------------------------------------------------------------------------------
# CSV side tables


def _csv_columns(section: str) -> dict[str, tuple[str, ...] | None]:
    """Columns a side table may have: field -> keys allowed after a dot (() none, None any: a resource)."""
    from model.schema import Industry, Location, Pair, Park  # the schema is the one reference of the fields

    model = {"industries": Industry, "parks": Park, "pairs": Pair}[section]
    out: dict[str, tuple[str, ...] | None] = {}
    for name, info in model.model_fields.items():
        if name in ("upgrades", "enclave"):  # a list of mappings, a mapping of its own: written in YAML
            continue
        if name == "location":
            out[name] = tuple(Location.model_fields)
        else:
            out[name] = None if typing.get_origin(info.annotation) is dict else ()
    return out


def _check_header(header: list[str], section: str, shown: str) -> tuple[list[Problem], set[int]]:
    """Problems of the header row, and the columns to leave out of the rows (reported here, once)."""
    where = f"{shown}:1"
    allowed = _csv_columns(section)
    listed = ", ".join(c + (".<resource>" if s is None else ".{" + ",".join(s) + "}" if s else "")
                       for c, s in allowed.items())
    if not any(h.split(".")[0] in allowed for h in header):  # not a side table: say so without quoting it
        for sep, name in ((";", "`;`"), ("\t", "tabs")):
            if any(c.strip().split(".")[0] in allowed for h in header for c in h.split(sep)):
                return [Problem(where, section, f"the columns are separated by {name}", "commas (a CSV file)")], set(
                    range(len(header)))
        return [Problem(where, section, f"not a side table of {section}: no column of its header is one of its keys",
                        f"a header row naming columns among: {listed}")], set(range(len(header)))
    problems: list[Problem] = []
    skip: set[int] = set()
    first: dict[str, int] = {}
    for n, name in enumerate(header):
        p = name.split(".")
        sub = allowed.get(p[0], ())
        if name in first:
            problems.append(Problem(where, section, f"column {_quote(name)} appears twice (columns {first[name] + 1} "
                                    f"and {n + 1})", "each column once"))
            skip.add(n)
            continue
        first[name] = n
        if name == "":
            skip.add(n)  # an unnamed column (a trailing comma): its cells must be empty, checked per row
        elif p[0] not in allowed or len(p) > 2 or "" in p or (len(p) == 2 and (sub == () or (
                sub is not None and p[1] not in sub))):
            hint = {"upgrades": "; upgrades are written in YAML",
                    "enclave": "; a park's enclave is written in YAML (parks: - {id: ..., enclave: {partner: ...}})",
                    }.get(p[0], "") if section == "parks" else ""
            problems.append(Problem(where, section, f"unknown column {_quote(name)}{hint}",
                                    f"columns among: {listed}"))
            skip.add(n)
        elif len(p) == 1 and sub != ():  # `use` or `location` as one cell: a mapping cannot be written so
            other = next((h for h in header if h.startswith(name + ".")), "")
            problems.append(Problem(where, section, f"columns {_quote(name)} and {_quote(other)} clash"
                                    if other else f"column {_quote(name)} would hold a whole mapping",
                                    f"one column per key: {name}." + ("<resource>" if sub is None
                                                                       else "{" + ",".join(sub) + "}")))
            skip.add(n)
    return problems, skip


def _quote(text: str) -> str:
    return repr(clip(text))


class _Lines:
    """The records of a CSV text without quotes or carriage returns: one a line, cells between commas,
    as `csv.reader` reads them (with `line_num`), at `str.split`'s speed."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.line_num = 0

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        if self.line_num >= len(self.lines):
            raise StopIteration
        self.line_num += 1
        line = self.lines[self.line_num - 1]
        return line.split(",") if line else []


_SPACE_AFTER_QUOTE = re.compile(r'(?<!")"[ \t]+(?=,|\r|\n|$)')


def _records(text: str) -> Any:
    """A reader of the CSV text's records: `csv.reader` where quotes, carriage returns or a cell
    beyond its size limit need it (it says what is wrong with them), else `_Lines`."""
    if '"' in text or "\r" in text or len(text) > csv.field_size_limit() and max(
            map(len, text.split("\n"))) > csv.field_size_limit():
        # strict: text after a closing quote (`"1"0`, once read as 10) and a quote open at the end
        # are errors; skipinitialspace: `a, "b"` is the cell b (its quotes were once kept as text),
        # and spaces between a closing quote and its comma or line end go too (`"b" ,c`), as strict
        # reading would refuse them (a quote after a quote is an escaped one, left alone)
        return csv.reader(io.StringIO(_SPACE_AFTER_QUOTE.sub('"', text), newline=""), strict=True,
                          skipinitialspace=True)
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the newline that ends the last line
    return _Lines(lines)


def _read_csv(text: str, shown: str, path: Path) -> tuple[list[dict[str, Any]], dict[Path, str], list[Problem], bool]:
    """Rows of a side table as nested dicts: column `use.land` -> `{'use': {'land': ...}}`.

    Returns the rows, their marks, the problems, and whether every row was read.
    """
    section = str(path[0])
    rows: list[dict[str, Any]] = []
    marks: dict[Path, str] = {}
    problems: list[Problem] = []
    reader = _records(text)
    end = 0  # the line the previous record ended on
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            return [], marks, [Problem(f"{shown}:1", section, "the table is empty",
                                       "a header row and one row per item")], False
        header = [h.strip() for h in header]
        problems, skip = _check_header(header, section, shown)
        if len(skip) == len(header):
            return [], marks, problems, False
        complete = True
        width = len(header)
        unnamed = [col for col in sorted(skip) if header[col] == ""]  # their cells must be empty
        # Per column read: (position, key, sub-key or None, a list `a;b`); the header allows two levels.
        plan = [(col, *(name.split(".", 1) + [None])[:2], name.split(".")[-1] in CSV_LIST_COLUMNS)
                for col, name in enumerate(header) if col not in skip]
        flat = [(col, key) for col, key, sub, is_list in plan] if all(
            sub is None and not is_list for _, _, sub, is_list in plan) else []
        end = reader.line_num
        for cells in reader:
            first, end = end + 1, reader.line_num
            if end > first and any("\n" in c or "\r" in c for c in cells):
                # A cell holds one line: one over several is a quote left open, which took the rows
                # after it into one cell (with the right count of cells, it once passed unseen).
                problems.append(Problem(f"{shown}:{first}", section, f"a quoted cell runs over lines {first}–{end}: "
                                        "a line break in a cell, or a quote left open that took the rows after it",
                                        "each cell on one line (no line break in a cell; a closing \" for every "
                                        "opening one)"))
                complete = False
                continue
            if len(cells) != width:
                if not any(c.strip() for c in cells):
                    continue
                problems.append(Problem(f"{shown}:{first}", section, f"{len(cells)} cells for {width} columns",
                                        "one cell per column"))
                complete = False
                continue
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            where = f"{shown}:{first}"
            marks[(*path, len(rows))] = where
            for col in unnamed:
                if cells[col]:
                    problems.append(Problem(where, section, f"a value in unnamed column {col + 1}",
                                            "a name for the column in the header"))
            if flat:  # plain columns only (a pair table): one comprehension
                rows.append({key: cells[col] for col, key in flat if cells[col]})
                continue
            row: dict[str, Any] = {}
            for col, key, sub, is_list in plan:
                value: Any = cells[col]
                if not value:
                    continue
                if is_list:
                    value = [v.strip() for v in value.split(";") if v.strip()]
                if sub is None:
                    row[key] = value
                else:
                    row.setdefault(key, {})[sub] = value
            rows.append(row)
        if not rows and not problems:  # the section would be "empty" at the YAML's line, the table unnamed
            problems.append(Problem(f"{shown}:1", section, "the table has a header but no rows",
                                    "a header row and one row per item"))
            complete = False
    except csv.Error as exc:
        limit = csv.field_size_limit()
        why = str(exc)
        line = end + 1  # the record being read began on the line after the last one read
        quoted = "a closing \" for every opening one, on its line, right before the next comma"
        if "field limit" in why:
            what, line, wanted = f"a cell longer than {limit:,} characters", reader.line_num or 1, \
                f"cells of at most {limit:,} characters"
        elif "unexpected end of data" in why:
            what, wanted = "a quoted cell is not closed: it runs on to the end of the file", quoted
        elif "expected after" in why:
            what, wanted = "text after the closing quote of a cell (as in \"1\"0)", quoted
        else:
            what, line, wanted = f"not a valid CSV table ({clip(why, 60)})", reader.line_num or 1, quoted
        problems.append(Problem(f"{shown}:{line}", section, what, wanted))
        return rows, marks, problems, False
    return rows, marks, problems, complete


def _side_table(fs: FsPath, value: str) -> tuple[FsPath, str]:
    """The side table a section names, and why it cannot be read ("" if it can).

    It must resolve inside the instance's folder, links followed: `/etc/passwd`, `../../x` or a
    link leading out are refused whether or not they exist.
    """
    table = fs.parent / value
    try:
        folder, real = fs.parent.resolve(), table.resolve()
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL in the name
        return table, "is not a usable file name"
    if real != folder and not real.is_relative_to(folder):
        return table, "is outside the instance's folder"
    try:
        if not real.exists():
            return table, "not found"
        if not real.is_file():
            return table, "is not a regular file"
    except (OSError, ValueError):
        return table, "is not a usable file name"
    return table, ""


def not_a_file(path: os.PathLike[str]) -> str:
    """Why `path`, which is no regular file, cannot be read: missing, a folder, or a device or pipe."""
    p = FsPath(path)
    return "no such file" if not p.exists() else "a folder, not a file" if p.is_dir() else "not a regular file"


def read(file: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> RawDoc:
    """Read an instance file and its CSV side tables into a `RawDoc` (no validation yet).

    `max_bytes` bounds the YAML file and each side table (default `MAX_BYTES`, 50 MB).
    """
    with gc_paused():
        return _read(file, max_bytes)


def _read(file: str | os.PathLike[str], max_bytes: int) -> RawDoc:
    fs = FsPath(file)
    shown = _show(fs)
    if not fs.is_file():
        raise InputError([Problem(shown, "(file)", not_a_file(fs), "a path to a YAML instance")])
    raw_bytes, why = read_bounded(fs, max_bytes)
    if why:
        raise InputError([Problem(f"{shown}:1", "(file)", f"the file {why}", within(max_bytes))])
    data, marks, problems = _read_yaml(_decode(raw_bytes, shown, "(file)"), shown)
    digest = hashlib.sha256(raw_bytes)
    if not isinstance(data, dict):
        raise InputError([Problem(f"{shown}:1", "(top level)", "the document is not a mapping",
                                  "keys such as `resources`, `industries`, `parks`")])
    partial: set[str] = set()
    for section in CSV_SECTIONS:
        value = data.get(section)
        if not isinstance(value, str):
            continue
        table, why = _side_table(fs, value)
        table_bytes = b""
        if not why:
            table_bytes, why = read_bounded(table, max_bytes)
        if why:
            where = f" next to {shown}" if why == "not found" else ""
            expected = "a CSV file name relative to the YAML file" + (
                ", inside its folder" if "outside" in why else "")
            problems.append(Problem(marks[(section,)], section, f"side table {_quote(value)} {why}{where}",
                                    within(max_bytes) if "larger" in why else expected))
            data[section] = []  # reported once, here; not again as "not a list" or "empty"
            partial.add(section)
            continue
        table_shown = _show(table)
        try:
            rows, table_marks, table_problems, complete = _read_csv(
                _decode(table_bytes, table_shown, section), table_shown, (section,))
        except InputError as exc:  # not UTF-8 text
            rows, table_marks, table_problems, complete = [], {}, exc.problems, False
        digest.update(table_bytes)
        problems += table_problems
        if not complete:
            partial.add(section)
        data[section] = rows
        marks.update(table_marks)
    return RawDoc(data=data, marks=marks, file=shown, hash=digest.hexdigest(), problems=problems, partial=partial)


def within(max_bytes: int) -> str:
    return f"a file of at most {_size(max_bytes)} (industry-transfer --max-input-mb N raises it)"


# ---------------------------------------------------------------------------------------------
# Overlays


def scale_factor(value: Any) -> float | None:
    """The factor of an overlay value that scales (`*0.8`), else None."""
    m = _SCALE.match(value.strip()) if isinstance(value, str) else None
    return float(m.group(1)) if m else None


def key_paths(data: Any, key: str) -> list[Path]:
    """The concrete paths a dotted overlay key names in the document `data` (which it may extend
    with the empty sections the key goes through); raises KeyError with why."""
    return _resolve(data, key.split("."))


def _resolve(data: Any, segments: list[str], done: Path = (), every: bool = False) -> list[Path]:
    """Concrete paths (list positions as ints) that a dotted key names; raises KeyError with why.

    Missing mappings on the way are created (validation then judges the keys), except below a `*`
    (`every`): there an item without the section is passed over, not given an empty one (a park
    without upgrades keeps none); list items must exist.
    """
    if not segments:
        return [done]
    head, rest = segments[0], segments[1:]
    if isinstance(data, dict):
        if head == "*":
            raise KeyError(f"`*` stands for every item of a list; {format_path(done) or 'the top'} is a mapping")
        if not rest:
            return [(*done, head)]  # the last key may be new: validation judges it
        if data.get(head) is None:  # a section the file leaves out (e.g. `objective`): the overlay adds it
            if every:
                return []
            data[head] = {}
        return _resolve(data[head], rest, (*done, head), every)
    if isinstance(data, list):
        if head == "*":
            hits = list(range(len(data)))
        else:
            hits = [n for n, item in enumerate(data) if isinstance(item, dict) and item.get("id") == head]
            if not hits and head.isdigit() and int(head) < len(data):
                hits = [int(head)]
        if not hits and not every:
            raise KeyError(f"no item with id {_quote(head)} in {format_path(done)}")
        out: list[Path] = []
        for n in hits:
            out += _resolve(data[n], rest, (*done, n), every or head == "*") if rest else [(*done, n)]
        return out
    if every:
        return []  # this item holds a value where others hold the section: validation judges the value
    raise KeyError(f"{format_path(done)} is a value, not a mapping or list")


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part] if isinstance(data, list) else data.get(part)
    return data


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scaled(current: Any, factor: float) -> Any:
    """A number times `factor`; a number over time (`model/periods.py`) scaled in every period:
    each value of a mapping per period, the `value` of a growth (its rate unchanged). None: not a number."""
    def times(v: Any) -> Any:
        try:
            return v * factor
        except OverflowError:  # a 400-digit integer times a float
            return float("inf")

    def number(v: Any) -> float | int | None:
        """`v` as a number: itself, or the text of a CSV side table's cell (text until validation),
        read as validation reads it."""
        if _number(v):
            return v
        n = text_number(v) if isinstance(v, str) else None
        return n if n is not None and math.isfinite(n) else None

    if number(current) is not None:
        return times(number(current))
    if isinstance(current, dict) and current:
        if set(current) == {"value", "growth"} and number(current["value"]) is not None:
            return {**current, "value": times(number(current["value"]))}
        if all(number(v) is not None for v in current.values()):
            return {k: times(number(v)) for k, v in current.items()}
    return None


def _apply(raw: RawDoc, key: str, value: Any, where: str, origin: str) -> Problem | None:
    try:
        paths = _resolve(raw.data, key.split("."))
    except KeyError as exc:
        return Problem(where, show_text(key), f"cannot apply overlay: {exc.args[0]}",
                       "a dotted key naming an existing item, e.g. parks.<id>.capacity.land")
    if not paths:  # every item a `*` names lacks the section the key goes through
        return Problem(where, show_text(key), "cannot apply overlay: no item it names has that key",
                       "a dotted key naming an existing item, e.g. parks.<id>.capacity.land")
    scale = _SCALE.match(value.strip()) if isinstance(value, str) else None
    changed = 0
    for path in paths:
        parent, last = _get(raw.data, path[:-1]), path[-1]
        current = parent.get(last) if isinstance(parent, dict) else parent[last]
        new = value
        if scale and current is None and "*" in key.split("."):
            current = _default(path)  # an item that leaves the key out has the schema's default
            if current is None or (not current and not isinstance(current, bool)):  # None, 0, {}: nothing
                continue  # to scale there (`industries.*.use.cod: "*0.5"` where an industry uses none)
        if scale:
            new = _scaled(current, float(scale.group(1)))
            if new is None:
                if current is None:
                    return Problem(where, show_text(key), f"cannot scale by {clip(value)}: the item gives no value "
                                   "there", "a value instead of a factor, or a key the item gives a number")
                return Problem(where, show_text(key), f"cannot scale {clip(repr(current))} by {clip(value)}",
                               "a key that holds a number, a number per period or {value, growth}")
        if last == "id" and isinstance(current, str) and path[:-1] not in raw.renamed:
            raw.renamed[path[:-1]] = current  # errors name the item as the overlay did
        if isinstance(current, dict) and isinstance(current.get("id"), str) and path not in raw.renamed:
            raw.renamed[path] = current["id"]
        parent[last] = copy.deepcopy(new)
        if isinstance(current, (dict, list)):  # marks inside what was replaced now point at the overlay
            for mark in [m for m in raw.marks if m[: len(path)] == path]:
                del raw.marks[mark]
        raw.marks[path] = where
        raw.patches.add(path)
        changed += 1
        for n in range(1, len(path)):  # mappings the overlay created point at the overlay too
            raw.marks.setdefault(path[:n], where)
    if scale and "*" in key.split(".") and not changed:
        return Problem(where, show_text(key), "cannot scale: no item it names gives a value (nor has a default)",
                       "a key that the items hold, e.g. parks.*.capacity.land")
    raw.overlays.append({"key": key, "value": value, "origin": origin})
    return None


def _default(path: Path) -> Any:
    """The schema's default for the key `path` names (item positions as ints); None where it has
    none (a required key, an entry of a free mapping, a rule, whose fields depend on its kind)."""
    from pydantic import BaseModel

    from model.schema import Instance

    kind: Any = Instance
    info = None
    for part in path:
        while typing.get_origin(kind) is typing.Annotated or typing.get_origin(kind) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(kind) if a is not type(None)]
            if typing.get_origin(kind) is not typing.Annotated and len(args) != 1:
                return None
            kind = args[0]
        if isinstance(part, int) and typing.get_origin(kind) is list:
            kind, info = typing.get_args(kind)[0], None
        elif isinstance(part, str) and isinstance(kind, type) and issubclass(kind, BaseModel) \
                and part in kind.model_fields:
            info = kind.model_fields[part]
            kind = info.annotation
        else:
            return None
    if info is None or info.is_required():
        return None
    return info.get_default(call_default_factory=True)


def parse_set(text: str, option: str = "--set") -> tuple[str, Any]:
    """`KEY=VALUE` from the command line; VALUE is read as YAML (numbers, booleans, lists).

    It is read like the file (no tags, dates as text, aliases bounded); text that is not YAML is
    taken as it is. Problems name `option`, the command-line option the text came with.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError([Problem(option, show_text(text), "not of the form KEY=VALUE",
                                  "e.g. capacity=10" if option == "--weight" else
                                  "e.g. parks.hefei_econ.capacity.land=80")])
    try:
        node = yaml.compose(value, Loader=_LOADER) if value.strip() else None
    except (yaml.YAMLError, RecursionError):
        if value.strip()[:1] in ("[", "{"):  # meant as a list or mapping: taken as text it would mislead
            raise InputError([Problem(option, show_text(key), f"the value {clip(value)} is not a complete "
                                      "list or mapping", "e.g. [a, b] or {a: 1}, or quotes around a text")]) from None
        return key, value
    if node is None:
        return key, None
    try:
        _check_size(node, option)
    except InputError as exc:
        raise InputError([Problem(option, show_text(key), p.message, p.expected) for p in exc.problems]) from None
    reader = _Reader(option)
    parsed = reader.read(node, ())
    problems = [(message, expected) for _, _, message, expected in reader.problems] + [
        (f"duplicate key {show_text(str(path[-1]))}", "each key once") for path, _, _ in reader.duplicates]
    if problems:
        raise InputError([Problem(option, show_text(key), message, expected) for message, expected in problems])
    if isinstance(node, yaml.ScalarNode) and not node.style and isinstance(parsed, str) \
            and _FLOAT_1_2.match(parsed):
        parsed = float(parsed)  # YAML 1.2's number, text to YAML 1.1 (1e6 without a dot): as the user meant it
    return key, parsed


def apply_overlays(raw: RawDoc, scenario: str | None, sets: list[tuple[str, Any]]) -> RawDoc:
    """Apply a named scenario, then `--set` patches, to a copy of the raw data.

    A patch that cannot be applied is a problem recorded in the result (reported with validation,
    with every other problem), not a stop.
    """
    if scenario is None and not sets:
        return raw
    with gc_paused():
        return _overlaid(raw, scenario, sets)


def _overlaid(raw: RawDoc, scenario: str | None, sets: list[tuple[str, Any]]) -> RawDoc:
    out = RawDoc(copy.deepcopy(raw.data), dict(raw.marks), raw.file, raw.hash, list(raw.overlays),
                 list(raw.problems), set(raw.partial), set(raw.patches), dict(raw.renamed))
    if scenario is not None:
        scenarios = out.data.get("scenarios") or {}
        if not isinstance(scenarios, dict) or scenario not in scenarios:
            names = ", ".join(sorted(map(str, scenarios))) if isinstance(scenarios, dict) else ""
            raise InputError([Problem("--scenario", show_text(scenario), "no such scenario in " + raw.file,
                                      f"one of: {names}" if names else "a scenario defined under `scenarios:`")])
        patches = scenarios[scenario].get("set") if isinstance(scenarios[scenario], dict) else None
        # A scenario without a `set:` mapping is reported by validation (`scenarios.<name>.set`).
        for key, value in (patches.items() if isinstance(patches, dict) else []):
            where = raw.marks.get(("scenarios", scenario, "set", key), raw.file)
            problem = _apply(out, str(key), value, where, f"scenario {scenario}")
            if problem:
                out.problems.append(problem)
    for key, value in sets:
        problem = _apply(out, key, value, "--set", "--set")
        if problem:
            out.problems.append(problem)
    return out
