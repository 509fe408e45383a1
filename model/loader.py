"""Read an instance: YAML with line marks, CSV side tables, scenario overlays, then validation.

The raw document is read into plain Python data plus a map from every key path to `file:line`, so
any error found later (by pydantic or by the reference checks) can point at the line that caused
it. Scenario overlays and `--set` patches are applied to the raw data *before* validation: an
overlay is validated exactly like the base, and errors in it point at the overlay's own line.

Dotted keys address lists of items by `id` (`parks.hefei_econ.capacity.land`), by position
(`parks.0.capacity.land`) or all items (`parks.*.capacity.cod`). A value written `"*0.8"` scales
the current number.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from model.errors import InputError, Path, Problem, format_path

# Top-level list sections that may be given as a CSV file name instead of a YAML list.
CSV_SECTIONS = ("industries", "parks", "pairs")
# CSV columns holding lists, written `a;b;c` in one cell.
CSV_LIST_COLUMNS = ("tags", "requires")

_SCALE = re.compile(r"^\*\s*([-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?)$")


@dataclass
class RawDoc:
    """Plain data read from the instance files, with the `file:line` of every key path."""

    data: Any
    marks: dict[Path, str]
    file: str
    hash: str
    overlays: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading, reported with validation

    def where(self, path: Path) -> str:
        """The `file:line` of the longest prefix of `path` that has a mark."""
        for n in range(len(path), -1, -1):
            mark = self.marks.get(tuple(path[:n]))
            if mark:
                return mark
        return f"{self.file}:1"

    def display(self, path: Path) -> str:
        """The key as a user writes it: list positions shown as the item's id where it has one."""
        out: list[str | int] = []
        node = self.data
        for part in path:
            if isinstance(part, int) and isinstance(node, list):
                item = node[part] if 0 <= part < len(node) else None
                ident = item.get("id") if isinstance(item, dict) else None
                out.append(str(ident) if isinstance(ident, str) and ident else part)
                node = item
            else:
                out.append(part)
                node = node.get(part) if isinstance(node, dict) else None
        return format_path(tuple(out))

    def problem(self, path: Path, message: str, expected: str = "") -> Problem:
        return Problem(self.where(path), self.display(path), message, expected)


def _show(file: str | os.PathLike[str]) -> str:
    """A file name as short as it can be shown: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(file)
    except ValueError:
        return str(file)
    return str(file) if rel.startswith("..") else rel


class _Reader:
    """Turns a composed YAML node tree into Python data, recording the line of every path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.marks: dict[Path, str] = {}
        self.problems: list[Problem] = []
        self.duplicates: list[tuple[Path, str, str]] = []  # (key path, where, line first given)

    def mark(self, path: Path, node: yaml.Node) -> None:
        self.marks[path] = f"{self.file}:{node.start_mark.line + 1}"

    def read(self, node: yaml.Node, path: Path) -> Any:
        self.mark(path, node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = yaml.constructor.SafeConstructor().construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)):
                    self.problems.append(Problem(
                        f"{self.file}:{key_node.start_mark.line + 1}", format_path(path),
                        "a key must be a plain word", "a name such as `land`"))
                    continue
                key = str(key) if not isinstance(key, str) else key
                sub = (*path, key)
                if key in out:
                    self.duplicates.append((sub, f"{self.file}:{key_node.start_mark.line + 1}",
                                            self.marks[sub].rsplit(":", 1)[1]))
                    continue
                self.mark(sub, key_node)
                out[key] = self.read(value_node, sub)
                self.marks[sub] = f"{self.file}:{key_node.start_mark.line + 1}"
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*path, n)) for n, item in enumerate(node.value)]
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _read_yaml(file: FsPath, shown: str) -> tuple[Any, dict[Path, str], list[Problem]]:
    text = file.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise InputError([Problem(f"{shown}:{line}", "(syntax)", f"not valid YAML: {exc.problem}",
                                  "YAML mappings and lists")]) from None
    if node is None:
        raise InputError([Problem(f"{shown}:1", "(top level)", "the file is empty",
                                  "a mapping with `resources`, `industries` and `parks`")])
    reader = _Reader(shown)
    data = reader.read(node, ())
    named = RawDoc(data, reader.marks, shown, "")
    for path, where, first in reader.duplicates:
        reader.problems.append(Problem(where, named.display(path), f"duplicate key (first given at line {first})",
                                       "each key once"))
    return data, reader.marks, reader.problems


def _read_csv(file: FsPath, shown: str, path: Path) -> tuple[list[dict[str, Any]], dict[Path, str]]:
    """Rows of a side table as nested dicts: column `use.land` -> `{'use': {'land': ...}}`."""
    rows: list[dict[str, Any]] = []
    marks: dict[Path, str] = {path: f"{shown}:1"}
    text = file.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InputError([Problem(f"{shown}:1", format_path(path), "the table is empty",
                                  "a header row and one row per item")])
    header = [h.strip() for h in header]
    line = 1
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        n = len(rows)
        row: dict[str, Any] = {}
        marks[(*path, n)] = f"{shown}:{line}"
        if len(cells) != len(header):
            raise InputError([Problem(f"{shown}:{line}", format_path((*path, n)),
                                      f"{len(cells)} cells for {len(header)} columns",
                                      "one cell per column")])
        for column, cell in zip(header, cells):
            cell = cell.strip()
            if cell == "":
                continue
            parts = column.split(".")
            value: Any = cell
            if parts[-1] in CSV_LIST_COLUMNS:
                value = [v.strip() for v in cell.split(";") if v.strip()]
            target = row
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
        rows.append(row)
    return rows, marks


def read(file: str | os.PathLike[str]) -> RawDoc:
    """Read an instance file and its CSV side tables into a `RawDoc` (no validation yet)."""
    fs = FsPath(file)
    shown = _show(fs)
    if not fs.is_file():
        raise InputError([Problem(shown, "(file)", "no such file", "a path to a YAML instance")])
    data, marks, problems = _read_yaml(fs, shown)
    digest = hashlib.sha256(fs.read_bytes())
    if not isinstance(data, dict):
        raise InputError([Problem(f"{shown}:1", "(top level)", "the document is not a mapping",
                                  "keys such as `resources`, `industries`, `parks`")])
    for section in CSV_SECTIONS:
        value = data.get(section)
        if not isinstance(value, str):
            continue
        table = fs.parent / value
        if not table.is_file():
            problems.append(Problem(marks[(section,)], section,
                                    f"side table {value!r} not found next to {shown}",
                                    "a CSV file name relative to the YAML file"))
            data[section] = []  # reported once, here; not again as "not a list"
            continue
        rows, table_marks = _read_csv(table, _show(table), (section,))
        digest.update(table.read_bytes())
        data[section] = rows
        marks.update({k: v for k, v in table_marks.items() if k != (section,)})
    return RawDoc(data=data, marks=marks, file=shown, hash=digest.hexdigest(), problems=problems)


# ---------------------------------------------------------------------------------------------
# Overlays


def _resolve(data: Any, segments: list[str], done: Path = ()) -> list[Path]:
    """Concrete paths (list positions as ints) that a dotted key names; raises KeyError with why.

    Missing mappings on the way are created (validation then judges the keys); list items must exist.
    """
    if not segments:
        return [done]
    head, rest = segments[0], segments[1:]
    if isinstance(data, dict):
        if not rest:
            return [(*done, head)]  # the last key may be new: validation judges it
        if head not in data:  # a section the file leaves out (e.g. `objective`): the overlay adds it
            data[head] = {}
        return _resolve(data[head], rest, (*done, head))
    if isinstance(data, list):
        if head == "*":
            hits = list(range(len(data)))
        else:
            hits = [n for n, item in enumerate(data) if isinstance(item, dict) and item.get("id") == head]
            if not hits and head.isdigit() and int(head) < len(data):
                hits = [int(head)]
        if not hits:
            raise KeyError(f"no item with id {head!r} in {format_path(done)}")
        out: list[Path] = []
        for n in hits:
            out += _resolve(data[n], rest, (*done, n)) if rest else [(*done, n)]
        return out
    raise KeyError(f"{format_path(done)} is a value, not a mapping or list")


def _get(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part] if isinstance(data, list) else data.get(part)
    return data


def _apply(raw: RawDoc, key: str, value: Any, where: str, origin: str) -> Problem | None:
    try:
        paths = _resolve(raw.data, key.split("."))
    except KeyError as exc:
        return Problem(where, key, f"cannot apply overlay: {exc.args[0]}",
                       "a dotted key naming an existing item, e.g. parks.<id>.capacity.land")
    for path in paths:
        parent, last = _get(raw.data, path[:-1]), path[-1]
        new = value
        if isinstance(value, str) and _SCALE.match(value.strip()):
            factor = float(_SCALE.match(value.strip()).group(1))
            current = parent.get(last) if isinstance(parent, dict) else parent[last]
            if isinstance(current, bool) or not isinstance(current, (int, float)):
                return Problem(where, key, f"cannot scale {current!r} by {value}",
                               "a key that holds a number")
            new = current * factor
        parent[last] = copy.deepcopy(new)
        for mark in [m for m in raw.marks if m[: len(path)] == path]:
            del raw.marks[mark]
        raw.marks[path] = where
        for n in range(1, len(path)):  # mappings the overlay created point at the overlay too
            raw.marks.setdefault(path[:n], where)
    raw.overlays.append({"key": key, "value": value, "origin": origin})
    return None


def parse_set(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` from the command line; VALUE is read as YAML (numbers, booleans, lists)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError([Problem("--set", text, "not of the form KEY=VALUE",
                                  "e.g. parks.hefei_econ.capacity.land=80")])
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    return key.strip(), parsed


def apply_overlays(raw: RawDoc, scenario: str | None, sets: list[tuple[str, Any]]) -> RawDoc:
    """Apply a named scenario, then `--set` patches, to a copy of the raw data."""
    if scenario is None and not sets:
        return raw
    out = RawDoc(copy.deepcopy(raw.data), dict(raw.marks), raw.file, raw.hash, [], list(raw.problems))
    problems: list[Problem] = []
    if scenario is not None:
        scenarios = out.data.get("scenarios") or {}
        if not isinstance(scenarios, dict) or scenario not in scenarios:
            names = ", ".join(sorted(scenarios)) if isinstance(scenarios, dict) else ""
            raise InputError([Problem("--scenario", scenario, "no such scenario in " + raw.file,
                                      f"one of: {names}" if names else "a scenario defined under `scenarios:`")])
        patches = scenarios[scenario].get("set") if isinstance(scenarios[scenario], dict) else None
        if not isinstance(patches, dict):
            raise InputError([out.problem(("scenarios", scenario), "has no `set:` mapping",
                                          "`set:` with dotted keys and values")])
        for key, value in patches.items():
            where = raw.marks.get(("scenarios", scenario, "set", key), raw.file)
            problem = _apply(out, str(key), value, where, f"scenario {scenario}")
            if problem:
                problems.append(problem)
    for key, value in sets:
        problem = _apply(out, key, value, "--set", "--set")
        if problem:
            problems.append(problem)
    if problems:
        raise InputError(problems)
    return out
