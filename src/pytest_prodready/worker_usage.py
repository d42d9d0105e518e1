"""Usage errors an xdist worker finds while collecting, carried to the controller so the run still exits 4.

Serially a misused marker or a rule-file mistake is ``pytest.UsageError``:
exit 4 with one ``ERROR:`` line.  Raised on an xdist worker, the same error
kills the worker after it announced its tests, and the controller ends with
an internal error (exit 3).  On a worker it is therefore caught and sent as
a failed collection report tagged with the mistake (a plain attribute, as
test reports carry theirs, see :mod:`.usage`), and the worker runs nothing;
every worker collects the same files, so none runs anything.  The
controller notes the tagged report and ends the run with exit 4 and the
one line, as for a fixture's usage mistake.
"""

from __future__ import annotations

from typing import Any, Generator

import pytest

from .usage import REPORT_ATTRIBUTE


class WorkerUsageErrors:
    """Registered on xdist workers only: their collection's usage errors become tagged collect reports."""

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> Generator[None, Any, None]:
        try:
            return (yield)
        except pytest.UsageError as exc:
            send_to_controller(config, str(exc))
            items.clear()  # like a serial run, which stops before any test
            return None


def send_to_controller(config: pytest.Config, mistake: str) -> None:
    """A failed collect report naming the mistake; xdist forwards failed collect reports to the controller."""
    report = pytest.CollectReport("", "failed", mistake, [])
    setattr(report, REPORT_ATTRIBUTE, mistake)
    config.hook.pytest_collectreport(report=report)
