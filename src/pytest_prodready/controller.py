"""The judging side of a run: gathers records, decides, writes and prints.

Registered on the process that writes reports (the xdist controller, or the
only process of a serial run).  Records come from ``pytest_runtest_logreport``,
which xdist replays on the controller for every worker report, so a
distributed run and a serial run are judged from identical records.
"""

from __future__ import annotations

from typing import Any, Generator

import pytest

from .gates import baseline as baselines
from .keys import SETTINGS_KEY
from .report import files as report_files
from .report import terminal
from .run_state import RunState
from .settings import Settings
from .verdict import decide


class ReadinessController:
    """Collects readiness records and turns them into a verdict at the end."""

    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self.config = config
        self.state = state

    @property
    def settings(self) -> Settings:
        return self.config.stash[SETTINGS_KEY]

    @property
    def judging(self) -> bool:
        """Silent unless a readiness case ran or a prodready option was given."""
        return self.state.active or self.settings.explicit

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        info = getattr(report, "prodready", None)
        if info is not None:
            self.state.add_phase(report.nodeid, report.when, report.outcome, report.duration, _message(report), info)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, Any, Any]:
        """Once every case has run, drop the HTML report of a run with nothing to judge."""
        try:
            return (yield)
        finally:
            if not self.judging:
                report_files.release_html_report(self.config)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.judging:
            return
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        verdict = decide(self.state.ordered_records(), self.settings.requirements, incomplete=interrupted)
        self.state.verdict = verdict
        self.state.report_files.extend(report_files.write_json_report(self.config, self.settings, self.state))
        if self.settings.save_baseline:
            gated = [(r.nodeid, r.figures["latency"]) for r in self.state.ordered_records() if "latency" in r.figures]
            self.state.report_files.append(
                baselines.save(self.settings.baseline_dir, self.settings.save_baseline, gated).resolve()
            )
        if not verdict.go and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.state.verdict is None:
            return
        terminalreporter.section("production readiness", sep="=")
        for line, markup in terminal.summary_lines(self.state.verdict, self.settings, self.state.report_files):
            terminalreporter.write_line(line, **markup)


class HtmlSections:
    """pytest-html hooks, registered only where pytest-html is active."""

    def __init__(self, state: RunState, settings: Settings) -> None:
        self.state = state
        self.settings = settings

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
        if self.state.verdict is not None:
            from .report import html

            prefix.extend(html.summary_blocks(self.state.verdict, self.settings))


def _message(report: pytest.TestReport) -> str:
    """The last line of a failure, or the reason of a skip: what a reader needs first."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    if report.failed and crash is not None:
        return crash.message.strip().splitlines()[0].removeprefix("Failed: ")
    if report.failed and report.longreprtext:
        return report.longreprtext.strip().splitlines()[-1]
    return ""
