"""Time a stored-baseline run on one CPU, so a saved run and a compared run are timed alike.

A gated operation is Python work plus hand-offs to a worker thread and back
(aiosqlite, ``asyncio.to_thread``).  On a two-CPU virtual machine a hand-off
to a thread on the *other* CPU was fast in some processes and 2-3x slower in
others (calibration 60-120 µs vs 200-280 µs), and operations with different
numbers of hand-offs did not slow down alike, so the calibration could not
cancel the difference: an unchanged build compared with a baseline saved in
the other mode was a false NO-GO.  With every thread of the process on one
CPU the slow mode never appeared (bench/baseline_noise.py, README "Stored
baseline").

So while a run saves or compares a stored baseline (``pin_cpu = "auto"``,
the default), every thread of this process is pinned to one CPU, each
``pytest-xdist`` worker to its own; processes the run starts (servers, load
generators, a canary's apps) get every CPU back.  Everything is put back at
the end of the configuration, so an in-process pytester run leaves its
caller as it was.  Linux only (``os.sched_setaffinity``); elsewhere, or with
one CPU allowed, nothing is done.  Pure: no pytest import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet

PIN_POLICIES = ("auto", "off")
_OFF_HINT = '(pin_cpu = "off" keeps every CPU)'
DEFAULT_POLICY = "auto"
_TASKS = Path("/proc/self/task")

_held: Pinning | None = None  # the process's pin while it lasts: affinity is process-wide state


@dataclass(frozen=True)
class Pinning:
    """This process's threads were moved to ``cpu``; ``allowed`` is what they had before."""

    cpu: int
    allowed: frozenset[int]

    def describe(self, worker: str | None = None) -> str:
        who = f"worker {worker}" if worker else "this run"
        return f"{who} timed on CPU {self.cpu} of {len(self.allowed)} while it saves or compares a stored baseline {_OFF_HINT}"


def wanted(policy: str, stored_baseline: bool) -> bool:
    """Pin only a run that saves or compares a stored baseline, unless the user said off."""
    return policy == "auto" and stored_baseline and hasattr(os, "sched_setaffinity")


def for_run(policy: str, stored_baseline: bool, worker: str | None, distributing: bool) -> PinnedRun | None:
    """Pin this process if the run wants it; the hooks to register (None: nothing to say or undo).

    An xdist controller (``distributing``, no ``worker`` id) does not pin:
    its workers start with every CPU and each pins itself to its own.
    """
    if not wanted(policy, stored_baseline):
        return None
    if worker is None and distributing:
        return PinnedRun(None)
    pinning = pin(worker_index(worker))
    return None if pinning is None else PinnedRun(pinning, worker)


def timed_on_one_cpu(policy: str) -> bool:
    """Whether this run's timing threads run on one CPU: pinned by ``auto``, or only one CPU allowed anyway.

    Asked of a run that saves or compares a stored baseline; under xdist the
    controller answers for its workers, which pin themselves.
    """
    if not hasattr(os, "sched_getaffinity"):
        return False
    return len(os.sched_getaffinity(0)) == 1 or wanted(policy, stored_baseline=True)


def choose_cpu(allowed: AbstractSet[int], worker_index: int) -> int:
    """Worker ``n`` gets the n-th allowed CPU (round robin), so workers do not share one."""
    ordered = sorted(allowed)
    return ordered[worker_index % len(ordered)]


def worker_index(worker_id: str | None) -> int:
    """``gw3`` -> 3; a serial run (no worker id) is 0."""
    digits = "".join(ch for ch in (worker_id or "") if ch.isdigit())
    return int(digits) if digits else 0


def pin(worker: int = 0) -> Pinning | None:
    """Move every thread of this process to one CPU; None when there is nothing to choose from or nothing to do.

    ``os.sched_setaffinity(0, ...)`` moves only the calling thread, and a
    thread inherits its creator's CPUs when it starts: so each thread that
    already exists is moved by id, and threads started later (aiosqlite's,
    the calibration's) follow the one that starts them.
    """
    global _held
    if _held is not None or not hasattr(os, "sched_setaffinity"):
        return None  # pinned already, by an enclosing run (pytester in-process), which gives the CPUs back
    allowed = frozenset(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    cpu = choose_cpu(allowed, worker)
    _set_every_thread({cpu})
    _held = Pinning(cpu, allowed)
    return _held


def release() -> None:
    """Give every thread of this process (also those started while pinned) its CPUs back."""
    global _held
    if _held is None:
        return
    _set_every_thread(_held.allowed)
    _held = None


def held() -> Pinning | None:
    return _held


def free_child(pid: int) -> None:
    """A process this run started gets every CPU back (it inherited the one CPU at fork).

    Called as soon as ``Popen`` returns, that is once the child has exec'd
    and before it can have started anything of its own.
    """
    if _held is None:
        return
    try:
        os.sched_setaffinity(pid, _held.allowed)
    except (ProcessLookupError, PermissionError):
        pass  # it already exited, or it is not ours to move: it keeps the one CPU


def _set_every_thread(cpus: AbstractSet[int]) -> None:
    for tid in _thread_ids():
        try:
            os.sched_setaffinity(tid, cpus)
        except ProcessLookupError:
            pass  # the thread ended between the listing and the move


def _thread_ids() -> list[int]:
    try:
        return [int(entry.name) for entry in _TASKS.iterdir()]
    except OSError:  # no /proc: at least this thread
        return [0]


class PinnedRun:
    """Hooks of a run timed on one CPU (per worker under xdist): says so in the header, unpins at the end."""

    def __init__(self, pinning: Pinning | None, worker: str | None = None) -> None:
        self.pinning = pinning  # None: the xdist controller, whose workers pin themselves
        self.worker = worker

    def pytest_report_header(self) -> str:
        if self.pinning is None:
            return ("prodready: each xdist worker is timed on its own CPU while the run saves or compares a stored "
                    f"baseline {_OFF_HINT}")
        return f"prodready: {self.pinning.describe(self.worker)}"

    def pytest_unconfigure(self) -> None:
        if self.pinning is not None:
            release()
