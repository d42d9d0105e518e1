"""One canary measurement at a time on this machine, across pytest-xdist workers.

Two comparisons measured at once load the same services and the same CPUs
in ways neither side's interleaving can cancel, so every interval widens
and decisions turn inconclusive.  Workers take turns through an exclusive
lock on a file their runs share; each turn is bounded by the case's own
``duration``, so a wait is bounded too.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def one_at_a_time(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` for the block (no lock where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: comparisons may overlap
        yield
        return
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
