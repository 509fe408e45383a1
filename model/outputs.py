"""Where results go: never delete, overwrite or half-write what the user did not hand us.

A folder of this tool carries a marker file (`MARKER`) saying what kind of folder it is (results of
a solve, a sweep, a comparison, ...) and listing what the tool wrote in it: each file with its size
and modification time, each sub-folder by name (itself a folder of ours). A command may write to a
folder that
    - does not exist yet (its parents are created), or is empty, or
    - is a folder of ours of the same kind, in which every entry is listed, every listed file is as
      the tool left it (same size and time: a file the user edited is the user's now), and every
      sub-folder is, recursively, a folder of ours with nothing foreign in it.
Anything else (a file, a link, a folder holding anything else, the working directory or one of
its parents, an unwritable place) is refused with one line, before any work: `check_folder`.
Names in a marker are plain names: a marker naming `..`, `/etc/passwd` or `a/b` makes the folder
foreign, so an edited marker can never point the tool at anything outside its folder.

A whole folder is written beside its target under a hidden temporary name and swapped in at once
(`renameat2(RENAME_EXCHANGE)` where the system has it, two renames otherwise), so an interrupted
run leaves the old folder or the new one, never a mixture or nothing. Temporaries left by a killed
process (their process id no longer runs) are removed, or put back where the swap was cut between
its two renames, by the next write beside them.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
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
# Hidden temporaries: `.industry-transfer-tmp-<hash of the target's name>-<pid>-<random>`. Short
# whatever the target's name, and unlike any name a user would give a file.
_TEMP = re.compile(r"^\.industry-transfer-(?P<what>tmp|old)-(?P<name>[0-9a-f]{12})-(?P<pid>\d+)-[0-9a-f]{8}$")
EXPECTED = "a new or empty folder, or a folder this tool wrote for the same command"


def _problem(option: str, path: Path, message: str, expected: str = "") -> InputError:
    return InputError([Problem(option, str(path), message, expected)])


def _plain(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\0" not in name


def _stamp(path: Path) -> list[int]:
    st = path.lstat()
    return [st.st_size, st.st_mtime_ns]


def manifest(folder: Path) -> dict | None:
    """The marker's content, or None if the folder is not one of ours (or its marker was tampered with)."""
    try:
        doc = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("tool") != TOOL or not isinstance(doc.get("kind"), str):
        return None
    files, stamps = doc.get("files"), doc.get("stamps", {})
    if not isinstance(files, list) or not all(_plain(f) for f in files) or not isinstance(stamps, dict):
        return None
    return doc


def _foreign(folder: Path, kind: str | None = None, depth: int = 0) -> list[str]:
    """Entries of `folder` that are not the tool's as it left them (all of them if it is not ours)."""
    entries = sorted(os.listdir(folder))
    if not entries:
        return []
    shown = [e + ("/" if (folder / e).is_dir() and not (folder / e).is_symlink() else "") for e in entries]
    doc = manifest(folder)
    if doc is None or (kind is not None and doc["kind"] != kind) or depth > 3:
        return shown
    listed, stamps = set(doc["files"]), doc.get("stamps", {})
    digests = doc["sha256"] if isinstance(doc.get("sha256"), dict) else {}
    out = []
    for entry, label in zip(entries, shown):
        path = folder / entry
        if entry == MARKER or _TEMP.match(entry):  # temporaries of ours: a write under way, or left by a kill
            continue
        if entry not in listed:
            out.append(label)
        elif entry not in stamps:  # listed by name only: a sub-folder of ours, nothing else
            if not path.is_dir() or path.is_symlink():
                out.append(f"{label} (where this tool listed a folder of its own)")
            else:
                out += [f"{entry}/{inner}" for inner in _foreign(path, None, depth + 1) or
                        ([] if manifest(path) is not None else ["(not a folder of this tool)"])]
        elif _differs(path, digests.get(entry), stamps[entry]):
            out.append(f"{label} (changed since this tool wrote it)")
    return out


def check_folder(out: Path, option: str = "--out", kind: str = "results") -> None:
    """Refuse, before any work, a destination that writing `out` would lose or leak anything in.

    Creates the missing parents and proves the location writable by making and removing a
    temporary folder there, so that a full disk or a read-only place fails now, not after a solve.
    """
    out = Path(out)
    try:
        if out.is_symlink():
            raise _problem(option, out, "is a symbolic link", "a folder of its own, not a link")
        if out.exists() and not out.is_dir():
            raise _problem(option, out, "is a file, not a folder", EXPECTED)
        real, cwd = out.resolve(), Path.cwd().resolve()
        if real == cwd or real in cwd.parents:
            raise _problem(option, out, "is the working directory or contains it, and would be replaced whole",
                           "a folder of its own, e.g. results/run1")
        if out.exists():
            doc = manifest(out)
            if doc is not None and doc["kind"] != kind and any(e != MARKER for e in os.listdir(out)):
                raise _problem(option, out, f"is a {doc['kind']} folder of this tool, not a {kind} folder; "
                                            "nothing was written", f"a new or empty folder, or a {kind} folder")
            foreign = _foreign(out, kind)
            if foreign:
                listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
                raise _problem(option, out, f"holds files this tool did not write ({listed}); nothing was written",
                               EXPECTED)
        out.parent.mkdir(parents=True, exist_ok=True)
        _new_temp(out).rmdir()
    except OSError as exc:
        raise _problem(option, out, f"cannot be written ({exc.strerror or exc})",
                       "a folder in a place you may write to") from None


def holds_anything(folder: Path) -> bool:
    """Whether `folder` is a folder (not a link) with anything in it but our marker."""
    folder = Path(folder)
    return folder.is_dir() and not folder.is_symlink() and any(e != MARKER for e in os.listdir(folder))


def beside(out: Path, suffix: str, option: str, kind: str = "results", plain: bool = True) -> Path:
    """Where a run that must not replace `out` goes: the first of `<out><suffix>` (unless not
    `plain`), `<out><suffix>-2`, ... that is new or empty, so that neither a user's folder of that
    name nor an earlier run put there (an earlier interrupted one) is replaced by it."""
    out = Path(out)
    names = [out.name + suffix] * plain + [f"{out.name}{suffix}-{n}" for n in range(2, 100)]
    for name in names:
        place = out.with_name(name)
        try:
            if holds_anything(place):
                continue
            check_folder(place, option, kind)
            return place
        except (InputError, OSError):
            continue
    check_folder(out.with_name(names[0]), option, kind)  # none of them: raises the first one's reason
    return out.with_name(names[0])


def part_of(out: Path) -> tuple[Path, str] | None:
    """The nearest folder of ours (a results, sweep, Pareto, comparison... folder) that `out` would
    be inside, with its kind, or None. Only the command that made such a folder writes in it: a
    foreign entry would make its summary or front false, and the folder foreign to the next run."""
    # As written (named as the user gave it) and with its links followed (`link/../x` is the link
    # target's parent's x, which the written path hides).
    for parent in (*Path(os.path.abspath(out)).parents, *Path(out).resolve().parents):
        doc = manifest(parent)
        if doc is not None:
            return parent, doc["kind"]
    return None


def outside_ours(out: Path, option: str = "--out") -> None:
    """Refuse, before any work, a destination inside a folder of ours (`part_of`)."""
    inside = part_of(out)
    if inside is not None:
        raise _problem(option, out, f"is inside the {inside[1]} folder {inside[0]}, whose entries only the command "
                                    "that made it writes", "a path of its own, e.g. results/run1")


def _key(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def _temp_name(out: Path, what: str) -> Path:
    return out.parent / f".industry-transfer-{what}-{_key(out.name)}-{os.getpid()}-{secrets.token_hex(4)}"


def _new_temp(out: Path) -> Path:
    """A fresh hidden folder beside `out`, with the permissions the user's umask gives (not 0700)."""
    tmp = _temp_name(out, "tmp")
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
    """Remove temporaries in `parent` (of the entry `name`, or all) left by a process that is gone,
    and put back a folder whose swap was cut between its two renames."""
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        m = _TEMP.match(entry.name)
        if not m or (name is not None and m["name"] != _key(name)) or _alive(int(m["pid"])) or entry.is_symlink():
            continue
        if entry.is_file():
            entry.unlink(missing_ok=True)  # a file written atomically, cut before its rename
            continue
        doc = manifest(entry)
        if m["what"] == "old" and name is not None and not (parent / name).exists() and doc is not None:
            os.rename(entry, parent / name)  # the swap was cut between its two renames: the old folder goes back
        elif doc is not None or not any(entry.iterdir()):
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
    """Mark `folder` as this tool's, listing what it wrote with each file's stamp (replaced
    atomically) and content hash (a copy keeps the content, not the stamp: `not_as_written`)."""
    names = sorted(set(files) - {MARKER})
    plain = [n for n in names if (folder / n).is_file() and not (folder / n).is_symlink()]
    stamps = {n: _stamp(folder / n) for n in plain}
    digests = {n: _digest(folder / n) for n in plain}
    doc = {"tool": TOOL, "kind": kind, "files": names, "stamps": stamps, "sha256": digests}
    write_file(folder / MARKER, json.dumps(doc, indent=1) + "\n")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _differs(path: Path, digest: str | None, stamp: list[int] | None) -> bool:
    """Whether a file of ours is no longer as the tool wrote it: by content where the marker has its
    hash (a copy, with new times, is still ours; an edit whose size and time were put back is
    not), by size and time in a folder of an earlier version."""
    return _digest(path) != digest if digest is not None else stamp is not None and stamp != _stamp(path)


def not_as_written(folder: Path, names: Iterable[str]) -> list[str]:
    """Of `names` (files of a folder of ours, those present), each whose content changed since the
    tool wrote it, `name (changed)`, or that it did not write, `name (not written by this tool)`;
    [] when the marker keeps no hashes (a folder of an earlier version, or a marker edited)."""
    doc = manifest(folder)
    if doc is None or not isinstance(doc.get("sha256"), dict):
        return []
    listed, digests = set(doc["files"]), doc["sha256"]
    out = []
    for name in names:
        path = Path(folder) / name
        if not _plain(name) or not path.is_file() or path.is_symlink():
            continue
        if name not in listed:
            out.append(f"{name} (not written by this tool)")
        elif _differs(path, digests.get(name), None):
            out.append(f"{name} (changed)")
    return out


def write_file(path: Path, text: str | bytes) -> None:
    """Write a file atomically: a temporary file beside it, then one rename."""
    path = Path(path)
    tmp = _temp_name(path, "tmp")
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
    """Refuse to overwrite existing files unless `force`, links and folders always, and places
    that cannot be written (proved by writing and removing a temporary file there)."""
    for path in paths:
        outside_ours(path, option)
        try:
            if path.is_symlink() or path.is_dir():
                raise _problem(option, path, "is a link or a folder", "a file name")
            if path.exists() and not force:
                raise _problem(option, path, "exists already; nothing was written", "a new file name, or --force")
            path.parent.mkdir(parents=True, exist_ok=True)
            probe = _temp_name(path, "tmp")
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise _problem(option, path, f"cannot be written ({exc.strerror or exc})",
                           "a path in a place you may write to") from None


def swap_in(tmp: Path, out: Path) -> None:
    """Put the finished folder `tmp` at `out`, replacing it at once; remove what was there."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # now holds the previous folder
        return
    old = _temp_name(out, "old")
    os.rename(out, old)
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


class Folder:
    """A whole folder written at once: `with Folder(out, kind) as tmp:` write into tmp; swapped in
    when the block ends without an exception, removed otherwise. `checked`: the caller refused a
    bad `out` before its work (a solve), so a refusal now means it changed during that work: the
    folder is still written, beside it (`_divert`)."""

    def __init__(self, out: Path, kind: str = "results", option: str = "--out", checked: bool = False) -> None:
        self.out, self.kind, self.option, self.checked = Path(out), kind, option, checked
        self.tmp: Path | None = None
        self.changed: InputError | None = None

    def __enter__(self) -> Path:
        try:
            check_folder(self.out, self.option, self.kind)
        except InputError as exc:
            if not self.checked:
                raise
            self.changed = exc
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
            if self.changed is None:
                try:
                    check_folder(self.out, self.option, self.kind)  # nothing of the user's appeared there meanwhile
                except InputError as exc:
                    self.changed = exc
            if self.changed is not None:
                self._divert(self.changed)
            swap_in(self.tmp, self.out)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _divert(self, exc: InputError) -> None:
        """The target changed while the work ran (a file of the user's appeared in it): it is left
        as it is, and the finished work goes beside it (`<out>-2`, ...) rather than being lost."""
        assert self.tmp is not None
        place = beside(self.out, "", self.option, self.kind, plain=False)
        swap_in(self.tmp, place)
        why = exc.problems[0].message.removesuffix("; nothing was written")
        raise _problem(self.option, self.out, f"changed during the run: {why}; it was left as it was, and the "
                                              f"new {self.kind} folder is {place}") from None


class Collection:
    """A folder of this tool filled piece by piece (a sweep, a benchmark): claimed
    before any work, its marker updated after every piece, so a killed run leaves a folder that
    says what it holds."""

    def __init__(self, out: Path, kind: str, option: str = "--out") -> None:
        self.out, self.kind, self.option = Path(out), kind, option
        self.files: set[str] = set()
        self._lock: int | None = None

    def claim(self) -> None:
        """Check the folder, take it (an exclusive lock, held until this object goes), mark it."""
        outside_ours(self.out, self.option)
        check_folder(self.out, self.option, self.kind)
        self.out.mkdir(parents=True, exist_ok=True)
        self._take()
        clean_stale(self.out)
        doc = manifest(self.out)
        self.files = set(doc["files"]) if doc else set()
        write_marker(self.out, self.files, self.kind)

    def _take(self) -> None:
        """An exclusive lock on the folder: two sweeps into one folder at once each took the other's
        runs under way for an earlier sweep's, deleted them, and both said they had succeeded."""
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no lock (the tool is run on Linux)
            return
        fd = os.open(self.out, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _problem(self.option, self.out, "is being written by another command of this tool now; "
                                                  "nothing was written", "a folder no other run is writing (wait "
                                                  "for it to end, or choose another)") from None
        self._lock = fd

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def __del__(self) -> None:
        self.release()

    def add(self, *names: str) -> None:
        self.files.update(names)
        write_marker(self.out, self.files, self.kind)

    def write_file(self, name: str, text: str | bytes) -> None:
        self.files.add(name)
        write_marker(self.out, self.files, self.kind)  # listed first: a file of ours is never unlisted
        write_file(self.out / name, text)
        write_marker(self.out, self.files, self.kind)  # and stamped as written

    def remove(self, name: str) -> None:
        """Delete an entry of ours (a run folder of an earlier sweep that this one did not redo):
        only a plain name the marker lists, and only if it is still as the tool left it."""
        path = self.out / name
        if _plain(name) and name in self.files and path.exists() and not path.is_symlink():
            if path.is_dir() and manifest(path) is not None and not _foreign(path):
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_file():
                path.unlink()
        self.files.discard(name)
        write_marker(self.out, self.files, self.kind)
