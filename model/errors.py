"""Input errors that name the file, line and key, and say what is expected.

Every problem found in an instance becomes one `Problem`; the loader and the validators collect
all of them before raising one `InputError`, so a user fixes a file in one pass, not one error at a
time. `cli.py` prints each problem on its own line and exits with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """`('parks', 'hefei', 'capacity', 'land')` -> `parks.hefei.capacity.land`; indices as `[3]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (`where` is `file:line`), which key, what, expected what."""

    where: str
    key: str
    message: str
    expected: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.key}: {self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text


@dataclass
class InputError(Exception):
    """Raised with every problem found; `str()` is one line per problem."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
