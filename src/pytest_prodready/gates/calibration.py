"""A fixed piece of work timed next to a gate's samples, so a baseline comparison can allow for machine speed.

On a shared machine the same build ran its operations 1.5x slower in one
process than in the next (neighbours, CPU frequency, caches), by more than
a 30 % regression.  The calibration is what a target's operation is made of,
Python bytecode and a hand-off to a worker thread and back (aiosqlite and
``asyncio.to_thread`` work this way), timed between the samples of the same
run: a run on a slow machine has a slow calibration too, and the baseline
comparison divides each run's samples by its calibration's median.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

from .latency import Clock

CALIBRATION_SAMPLES = 60  # per gated case, spread over its samples
_LOOP = 300  # bytecode iterations per calibration: about 20-50 us on this machine


class _Worker:
    """One daemon thread that answers each hand-off; started on first use."""

    def __init__(self) -> None:
        self.requests: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.replies: queue.SimpleQueue[int] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="prodready-calibration", daemon=True).start()

    def _serve(self) -> None:
        while True:
            self.replies.put(_bytecode(self.requests.get()))


_worker: _Worker | None = None


def _bytecode(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def calibration_work() -> None:
    """Python work on this thread, then the same on a worker thread (a hand-off there and back)."""
    global _worker
    if _worker is None:
        _worker = _Worker()
    _bytecode(_LOOP)
    _worker.requests.put(_LOOP)
    _worker.replies.get(timeout=10)


def per_sample(samples: int) -> int:
    """Calibrations to run before each kept sample, so a case gets about CALIBRATION_SAMPLES in all."""
    return max(1, -(-CALIBRATION_SAMPLES // max(1, samples)))


def timed(clock: Clock, times: int, work: Callable[[], None] = calibration_work) -> list[float]:
    """``times`` timings of ``work`` in ms."""
    found = []
    for _ in range(times):
        start = clock()
        work()
        found.append((clock() - start) / 1e6)
    return found
