"""A HiGHS object that prints nothing from its creation on.

highspy's constructor registers HiGHS's callback, and HiGHS prints its banner ("Running HiGHS …")
at that moment unless `output_flag` is already off; `Highs.silent()` after the constructor is too
late. The subclass below turns the flag off in that step (`enableCallbacks`, which the constructor
calls), so nothing has to capture the process's output: pyomo's `capture_output`, used before,
loads `pyomo.common.dependencies`, which imports scipy.stats, scipy.integrate and scipy.spatial as
soon as scipy is loaded too (0.7 s of every solving command). A caller may turn the flag on again
(`--tee`): HiGHS then prints its banner and log as usual.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _silent_class() -> type:
    import highspy

    class SilentHighs(highspy.Highs):
        def enableCallbacks(self) -> None:  # noqa: N802 (highspy's name)
            if not getattr(self, "_silenced", False):  # the constructor's call: before HiGHS logs
                self._silenced = True
                self.silent()
            super().enableCallbacks()

    return SilentHighs


def new_highs() -> Any:
    """A `highspy.Highs` with `output_flag` off, which has printed nothing."""
    return _silent_class()()
