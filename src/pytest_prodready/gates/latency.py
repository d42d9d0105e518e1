"""Latency samples: a monotonic clock, warm-up discarded, exact percentiles.

The clock is injected (a callable returning nanoseconds) so that tests of
timing logic never depend on the speed of the machine running them.  numpy
is imported inside the functions that take percentiles, so importing this
module does not load it (tests/test_silent.py checks that a dormant run never loads numpy).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator, Sequence


Clock = Callable[[], int]

DEFAULT_CLOCK: Clock = time.perf_counter_ns


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles of the kept samples, in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    min_ms: float
    max_ms: float
    mean_ms: float
    total_s: float
    timer_overhead_ns: float = 0.0

    @property
    def ops_per_s(self) -> float:
        """Sequential throughput over the measured time."""
        return self.n / self.total_s if self.total_s > 0 else float("inf")

    def to_dict(self) -> dict[str, float]:
        data = asdict(self)
        data["ops_per_s"] = self.ops_per_s
        return data


def percentile(samples_ms: Sequence[float], q: float) -> float:
    """Exact percentile by linear interpolation between order statistics."""
    if not samples_ms:
        raise ValueError("no samples to take a percentile of")
    import numpy as np

    return float(np.percentile(np.asarray(samples_ms, dtype=float), q, method="linear"))


def summarize(samples_ms: Sequence[float], timer_overhead_ns: float = 0.0) -> LatencySummary:
    """Reduce raw samples to the figures gates and reports use."""
    if not samples_ms:
        raise ValueError("no samples were recorded")
    import numpy as np

    arr = np.asarray(samples_ms, dtype=float)
    p50, p95, p99 = np.percentile(arr, [50, 95, 99], method="linear")
    return LatencySummary(
        n=int(arr.size),
        p50_ms=float(p50),
        p95_ms=float(p95),
        p99_ms=float(p99),
        min_ms=float(arr.min()),
        max_ms=float(arr.max()),
        mean_ms=float(arr.mean()),
        total_s=float(arr.sum()) / 1000.0,
        timer_overhead_ns=timer_overhead_ns,
    )


def measure_timer_overhead(clock: Clock = DEFAULT_CLOCK, rounds: int = 2000) -> float:
    """Median cost of one clock pair, so reports can say what timing itself costs."""
    deltas = []
    for _ in range(rounds):
        start = clock()
        deltas.append(clock() - start)
    return float(statistics.median(deltas))


class LatencyRecorder:
    """Collects timed samples of a block of code.

    ``for _ in recorder.samples(): with recorder.measure(): work()`` runs the
    warm-up iterations first and keeps only the later ones.  ``measure`` is a
    plain context manager, so it times ``await`` expressions inside an async
    test just as well.
    """

    def __init__(self, clock: Clock = DEFAULT_CLOCK, samples: int = 100, warmup: int = 10) -> None:
        self._clock = clock
        self.planned_samples = samples
        self.planned_warmup = warmup
        self._warmup_left = 0
        self.samples_ms: list[float] = []
        self.timer_overhead_ns = 0.0
        self.gate: Any = None  # the GateSpec being measured, when a gate owns this recorder
        self.calibration: Callable[[], None] | None = None  # work timed between samples (gates/calibration.py)
        self.calibration_ms: list[float] = []

    def samples(self, n: int | None = None, warmup: int | None = None) -> Iterator[int]:
        """Yield one index per iteration: warm-up iterations first, then kept ones."""
        count = self.planned_samples if n is None else n
        warm = self.planned_warmup if warmup is None else warmup
        self._warmup_left = warm
        if self.calibration is None:
            yield from range(warm + count)
            return
        from .calibration import per_sample, timed

        repeats = per_sample(count)
        for index in range(warm + count):
            if index >= warm:
                self.calibration_ms.extend(timed(self._clock, repeats, self.calibration))
            yield index

    def measure(self) -> "_Timing":
        """Time the enclosed block; warm-up iterations are timed but dropped."""
        return _Timing(self)

    def _keep(self, elapsed_ns: int) -> None:
        if self._warmup_left > 0:
            self._warmup_left -= 1
            return
        self.samples_ms.append(elapsed_ns / 1e6)

    def summary(self) -> LatencySummary:
        return summarize(self.samples_ms, self.timer_overhead_ns)


class _Timing:
    """A context manager as a small class: a generator-based one costs several times more per sample
    (``bench/gate_overhead.py`` prints both)."""

    __slots__ = ("_recorder", "_start")

    def __init__(self, recorder: LatencyRecorder) -> None:
        self._recorder = recorder
        self._start = 0

    def __enter__(self) -> None:
        self._start = self._recorder._clock()

    def __exit__(self, *exc: object) -> None:
        self._recorder._keep(self._recorder._clock() - self._start)
