"""Input errors that name the file, line and key, and say what is expected.

Every problem found in an instance becomes one `Problem`; the loader and the validators collect
all of them before raising one `InputError`, so a user fixes a file in one pass, not one error at a
time. `cli.py` prints each problem on its own line and exits with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]

# Longest piece of a user's file quoted in a message: keys and values are clipped to it, so that a file
# which is not an instance at all (a mistyped side table, say) is never echoed beyond a snippet.
SNIPPET = 40


def clip(text: str, limit: int = SNIPPET) -> str:
    """`text` cut to `limit` characters, ending in `...` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_path(path: Path) -> str:
    """`('parks', 'hefei', 'capacity', 'land')` -> `parks.hefei.capacity.land`; indices as `[3]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + show_key(str(part))
    return out or "(top level)"


def show_key(text: str) -> str:
    """One key as shown: quoted when it would read as something else, clipped."""
    if "." in text or ":" in text:
        return clip(repr(text))  # it would be taken for a path or a `file:line`
    return show_text(text, SNIPPET)


def show_text(text: str, limit: int = 80) -> str:
    """A dotted key or a command-line word as shown: quoted when blank or spanning lines, clipped."""
    if not text or text != text.strip() or not text.isprintable():
        return clip(repr(text), limit)
    return clip(text, limit)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (`where` is `file:line`), which key, what, expected what."""

    where: str
    key: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.key}: {self.message}"
        expected = self.expected
        if expected.rstrip() == "one of:":  # a list of choices that came out empty (an empty side table)
            expected = "one of those the instance defines, and it defines none"
        if expected:
            text += f"; expected {expected}"
        return text.translate(_ESCAPES)  # one line, and no terminal control sequences from a file


# Control characters shown as escapes (`\n`, `\x1b`), never acted on by the terminal.
_ESCAPES = {c: repr(chr(c))[1:-1] for c in [*range(32), *range(127, 160), 0x2028, 0x2029]}


@dataclass
class InputError(Exception):
    """Raised with every problem found; `str()` is one line per problem."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
