"""SIGTERM ends a run the way Ctrl-C does, so the reports are still written.

Python's default SIGTERM action kills the process on the spot: no
``finally`` block runs, so load generators and servers started in their own
process groups are never stopped, and no report says the run was cut short.
Raising KeyboardInterrupt instead sends pytest down its INTERRUPTED path:
fixtures tear down, child groups are stopped, and the controller writes the
reports marked incomplete (verdict NO-GO).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Callable, Union

import pytest

Handler = Union[Callable[[int, FrameType | None], Any], int, signal.Handlers, None]


class TerminationInterrupted(KeyboardInterrupt):
    """A SIGTERM, turned into the interruption pytest already knows how to finish."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise TerminationInterrupted(f"terminated by signal {signal.Signals(signum).name}")


class SigtermGuard:
    """Holds the SIGTERM handler for the life of a session and puts the previous one back."""

    def __init__(self) -> None:
        self.previous: Handler = None
        self.installed = False

    def install(self) -> None:
        """Only the main thread may set handlers; elsewhere (an embedding host) leave SIGTERM alone."""
        if threading.current_thread() is not threading.main_thread():
            return
        self.previous = signal.signal(signal.SIGTERM, _interrupt)
        self.installed = True

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGTERM, self.previous if self.previous is not None else signal.SIG_DFL)
            self.installed = False

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.restore()
