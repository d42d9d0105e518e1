"""The fake clocks of the project's tests, in one place.

Code under test takes its clock as a callable returning nanoseconds (the
plugin's ``prodready_clock``) or seconds (the wait loop).  ``StepClock``
moves on every read; ``ManualClock`` moves only when a fake request spends
time or the code sleeps, so what is left of a deadline is exact;
``PairClock`` makes each start/stop pair of reads span one step;
``ScriptedClock`` returns given readings in order.  Inner
pytest sessions get the same classes as source text (``source_of``).
"""

from __future__ import annotations

import inspect


class StepClock:
    """Advances ``step_ns`` on every read; ``jump(ns)`` moves it on once (a request that hung)."""

    def __init__(self, step_ns: int = 1_000_000) -> None:
        self.step_ns = step_ns
        self.now = 0

    def __call__(self) -> int:
        value = self.now
        self.now += self.step_ns
        return value

    def jump(self, ns: int) -> None:
        self.now += ns


class ManualClock:
    """Stands still between reads: time moves only when a request spends it or the code sleeps."""

    def __init__(self) -> None:
        self.now = 0
        self.sleeps = []

    def __call__(self) -> int:
        return self.now

    def seconds(self) -> float:
        """The same time in seconds, for code that takes a seconds clock."""
        return self.now / 1e9

    def spend_ms(self, ms: float) -> None:
        self.now += int(ms * 1_000_000)

    def spend_s(self, seconds: float) -> None:
        self.now += int(seconds * 1e9)

    def sleep(self, seconds: float) -> None:
        """An injected ``time.sleep``: recorded, and the clock moves by it."""
        self.sleeps.append(seconds)
        self.spend_s(seconds)


class PairClock:
    """Each start/stop pair of reads spans exactly ``step_ns`` (no gap between pairs): every sample is one step."""

    def __init__(self, step_ns: int) -> None:
        self.step_ns = step_ns
        self.reads = 0

    def __call__(self) -> int:
        value = ((self.reads + 1) // 2) * self.step_ns
        self.reads += 1
        return value


class ScriptedClock:
    """Returns the given nanosecond readings in order, and counts reads."""

    def __init__(self, readings) -> None:
        self._readings = list(readings)
        self.reads = 0

    def __call__(self) -> int:
        value = self._readings[self.reads]
        self.reads += 1
        return value


def source_of(*classes: type) -> str:
    """The classes' source, for a conftest written into an inner pytest session."""
    return "\n\n".join(inspect.getsource(cls) for cls in classes)
