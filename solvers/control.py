"""The command's budget and its interrupts: Ctrl-C, SIGTERM and `--time-limit`, held to.

One `Control` per process. The command line sets its deadline (`--time-limit` is the wall-clock
budget of the whole command) and installs the signal handlers; the solve adapter and the writers
read it. What a signal does depends on the phase the process is in:

- `idle` (reading, building, tabulating): the work is abandoned at once (`Interrupted`), nothing
  is written, and an existing results folder stays as it was;
- `solving`: the solver is asked to stop and keeps its incumbent; a second signal stops it hard;
- `writing`: noted, and acted on once the folder is complete (a folder is never half-written).

The deadline is enforced in the same phases: a build that outlasts it is cut by an alarm
(`budget_alarm`), a solver that outlasts it is stopped (see `solvers.run`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

# Seconds kept back from a budget for what follows the deadline (writing the results folder, the
# exit): at most this, and at most a tenth of the budget.
EXIT_RESERVE = 1.0


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM outside a solve: the work is abandoned and nothing is written."""


class OutOfTime(Exception):
    """The command's time budget ran out outside a solve (while building the model)."""


@dataclass
class Control:
    stop: threading.Event = field(default_factory=threading.Event)  # a signal arrived
    force: threading.Event = field(default_factory=threading.Event)  # a second one: stop hard
    signum: int | None = None
    phase: str = "idle"
    # Per thread: runs of a sweep on a dask worker share a process, each with its own budget.
    _local: threading.local = field(default_factory=threading.local)

    @property
    def deadline(self) -> float | None:
        """time.monotonic() by which this thread's command or run must be done."""
        return getattr(self._local, "deadline", None)

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._local.deadline = value

    def reset(self) -> None:
        """A new command: no budget, no signal seen."""
        self.deadline, self.signum, self.phase = None, None, "idle"
        self.stop.clear()
        self.force.clear()

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def set_budget(self, seconds: float | None, start: float | None = None) -> None:
        """Allow `seconds` from `start` (a `time.monotonic()`, default now); None: no limit."""
        begin = time.monotonic() if start is None else start
        reserve = min(EXIT_RESERVE, 0.1 * float(seconds)) if seconds is not None else 0.0
        self.deadline = None if seconds is None else begin + float(seconds) - reserve

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""


CONTROL = Control()


def _on_signal(signum: int, frame: object) -> None:
    if CONTROL.stop.is_set():
        CONTROL.force.set()
    CONTROL.stop.set()
    CONTROL.signum = signum
    if CONTROL.phase == "idle":
        raise Interrupted(signal.Signals(signum).name)


def install_handlers() -> None:
    """Route SIGINT and SIGTERM through `CONTROL` (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Run a block in phase `solving` or `writing` (signals are noted, not raised, inside it)."""
    old, CONTROL.phase = CONTROL.phase, name
    try:
        yield
    finally:
        CONTROL.phase = old


def _alarm(signum: int, frame: object) -> None:
    if CONTROL.phase == "idle":
        raise OutOfTime()


@contextlib.contextmanager
def budget_alarm() -> Iterator[None]:
    """Cut the block short with `OutOfTime` when the deadline passes (main thread, with a deadline)."""
    left = CONTROL.remaining()
    if left is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    if left <= 0:
        raise OutOfTime()
    previous = signal.signal(signal.SIGALRM, _alarm)
    pyomo_log = logging.getLogger("pyomo.core")
    level = pyomo_log.level
    pyomo_log.setLevel(logging.CRITICAL)  # a build cut short is reported once, by us, not as Pyomo's ERROR
    signal.setitimer(signal.ITIMER_REAL, left)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        pyomo_log.setLevel(level)


def die_with_parent() -> None:
    """Make this process end when the process that started it ends, even by SIGKILL.

    Linux's PR_SET_PDEATHSIG does it at once; elsewhere a thread checks the parent every second.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()
