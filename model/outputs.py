"""Where results go: never delete, overwrite or half-write what the user did not hand us.

A results folder of this tool carries a marker file (`MARKER`) listing the files the tool wrote in
it. A command may write to a folder that
    - does not exist yet (its parents are created), or is empty, or
    - is a folder of this tool: it has the marker, and nothing in it that the marker does not list.
Anything else (a file, a link, a folder holding the user's own files, the working directory or one
of its parents) is refused with one line, before any work is done: `check_folder`.

A whole folder is written beside its target under a hidden temporary name and swapped in at once
(`renameat2(RENAME_EXCHANGE)` where the system has it, two renames otherwise), so an interrupted
run leaves either the old folder or the new one, never a mixture or nothing. Temporary folders
left by a killed process (their process id no longer runs) are removed, or put back where the
swap was cut between its two renames, by the next write beside them.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

from model.errors import InputError, Problem

MARKER = ".industry-transfer"
TOOL = "industry-transfer"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _problem(option: str, path: Path, message: str, expected: str = "") -> InputError:
    return InputError([Problem(option, str(path), message, expected)])


EXPECTED = "a new or empty folder, or a results folder written by industry-transfer"


def manifest(folder: Path) -> dict | None:
    """The marker's content, or None if the folder is not one of ours."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("tool") != TOOL or not isinstance(doc.get("files"), list):
        return None
    return doc


_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<what>tmp|old)-(?P<pid>\d+)-[0-9a-f]+$")


def _foreign(folder: Path) -> list[str]:
    """Entries of `folder` that this tool did not write (all of them if it is not ours)."""
    entries = sorted(os.listdir(folder))
    if not entries:
        return []
    doc = manifest(folder)
    if doc is None:
        return [e + ("/" if (folder / e).is_dir() else "") for e in entries]
    ours = set(doc["files"]) | {MARKER}
    # Temporaries of ours inside a folder of ours (a sweep's runs being written, or left by a kill).
    return [e + ("/" if (folder / e).is_dir() else "") for e in entries if e not in ours and not _TEMP.match(e)]


def check_folder(out: Path, option: str = "--out") -> None:
    """Refuse, before any work, a destination that writing `out` would lose or leak anything in.

    Creates the missing parents and proves the location writable by making and removing a
    temporary folder there, so that a full disk or a read-only place fails now, not after a solve.
    """
    out = Path(out)
    if out.is_symlink():
        raise _problem(option, out, "is a symbolic link", "a folder of its own, not a link")
    if out.exists() and not out.is_dir():
        raise _problem(option, out, "is a file, not a folder", EXPECTED)
    real, cwd = out.resolve(), Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise _problem(option, out, "is the working directory or contains it, and would be replaced whole",
                       "a folder of its own, e.g. results/run1")
    if out.exists():
        try:
            foreign = _foreign(out)
        except OSError as exc:
            raise _problem(option, out, f"cannot be read ({exc.strerror})", EXPECTED) from None
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise _problem(option, out, f"holds files this tool did not write ({shown}); nothing was written",
                           EXPECTED)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = _new_temp(out)
        probe.rmdir()
    except OSError as exc:
        raise _problem(option, out, f"cannot be written ({exc.strerror or exc})",
                       "a folder in a place you may write to") from None


def _temp_prefix(out: Path) -> str:
    return f".{out.name}.tmp-"


def _old_prefix(out: Path) -> str:
    return f".{out.name}.old-"


def _new_temp(out: Path) -> Path:
    """A fresh hidden folder beside `out`, with the permissions the user's umask gives (not 0700)."""
    tmp = out.parent / f"{_temp_prefix(out)}{os.getpid()}-{secrets.token_hex(4)}"
    os.mkdir(tmp)
    return tmp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(parent: Path, name: str | None = None) -> None:
    """Remove temporaries in `parent` (of `name`, or all) left by a process that is gone, and put
    back a folder whose swap was cut between its two renames."""
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        m = _TEMP.match(entry.name)
        if not m or (name is not None and m["name"] != name) or _alive(int(m["pid"])) or entry.is_symlink():
            continue
        out = parent / m["name"]
        if entry.is_file():
            entry.unlink(missing_ok=True)  # a file written atomically, cut before its rename
            continue
        if m["what"] == "old" and not out.exists() and manifest(entry) is not None:
            os.rename(entry, out)  # the swap was cut between its two renames: the old folder goes back
        elif manifest(entry) is not None or not any(entry.iterdir()):
            shutil.rmtree(entry, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_marker(folder: Path, files: Iterable[str], kind: str) -> None:
    """Mark `folder` as this tool's, listing what it wrote (replaced atomically)."""
    doc = {"tool": TOOL, "kind": kind, "files": sorted(set(files) - {MARKER})}
    write_file(folder / MARKER, json.dumps(doc, indent=1) + "\n")


def write_file(path: Path, text: str | bytes) -> None:
    """Write a file atomically: a temporary file beside it, then one rename."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        if isinstance(text, bytes):
            tmp.write_bytes(text)
        else:
            tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_new_files(paths: Iterable[Path], force: bool, option: str = "-o") -> None:
    """Refuse to overwrite existing files unless `force`; refuse links and folders always."""
    for path in paths:
        if path.is_symlink() or path.is_dir():
            raise _problem(option, path, "is a link or a folder", "a file name")
        if path.exists() and not force:
            raise _problem(option, path, "exists already; nothing was written", "a new file name, or --force")
        if not path.parent.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _problem(option, path, f"cannot be written ({exc.strerror})",
                               "a path in a place you may write to") from None


def swap_in(tmp: Path, out: Path) -> None:
    """Put the finished folder `tmp` at `out`, replacing it at once; remove what was there."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # now holds the previous folder
        return
    old = out.parent / f"{_old_prefix(out)}{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


class Folder:
    """A whole folder written at once: `with Folder(out, kind) as tmp:` write into tmp; swapped in
    when the block ends without an exception, removed otherwise."""

    def __init__(self, out: Path, kind: str = "results", option: str = "--out") -> None:
        self.out, self.kind, self.option = Path(out), kind, option
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        check_folder(self.out, self.option)
        clean_stale(self.out.parent, self.out.name)
        self.tmp = _new_temp(self.out)
        write_marker(self.tmp, [], self.kind)  # ours from the start: a killed write is cleaned up later
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        try:
            write_marker(self.tmp, os.listdir(self.tmp), self.kind)
            check_folder(self.out, self.option)  # nothing of the user's appeared there meanwhile
            swap_in(self.tmp, self.out)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise


class Collection:
    """A folder of this tool filled piece by piece (a sweep, a Pareto front, a benchmark): claimed
    before any work, its marker updated after every piece, so a killed run leaves a folder that
    says what it holds."""

    def __init__(self, out: Path, kind: str, option: str = "--out") -> None:
        self.out, self.kind, self.option = Path(out), kind, option
        self.files: set[str] = set()

    def claim(self) -> None:
        check_folder(self.out, self.option)
        self.out.mkdir(parents=True, exist_ok=True)
        clean_stale(self.out)
        doc = manifest(self.out)
        self.files = set(doc["files"]) if doc else set()
        write_marker(self.out, self.files, self.kind)

    def add(self, *names: str) -> None:
        self.files.update(names)
        write_marker(self.out, self.files, self.kind)

    def write_file(self, name: str, text: str | bytes) -> None:
        self.files.add(name)
        write_marker(self.out, self.files, self.kind)  # listed first: a file of ours is never unlisted
        write_file(self.out / name, text)

    def remove(self, name: str) -> None:
        """Delete an entry of ours (a run folder of an earlier sweep that this one did not redo)."""
        path = self.out / name
        if name in self.files and (path.is_dir() and manifest(path) is not None):
            shutil.rmtree(path, ignore_errors=True)
        elif name in self.files and path.is_file():
            path.unlink()
        self.files.discard(name)
        write_marker(self.out, self.files, self.kind)
