"""The judging side of a run: gathers records, decides, writes and prints.

Registered on the process that writes reports (the xdist controller, or the
only process of a serial run).  Records come from ``pytest_runtest_logreport``,
which xdist replays on the controller for every worker report, so a
distributed run and a serial run are judged from identical records.
"""

from __future__ import annotations

import os
from typing import Any, Generator

import pytest

from .gates import baseline as baselines
from html import escape

from .keys import REDACTOR_KEY, SETTINGS_KEY
from .report.readiness_json import build_document
from .report import files as report_files
from .report import markdown
from .report import terminal
from .run_state import RunState
from .settings import Settings
from . import systems
from . import deselection
from .deselection import WORKER_OUTPUT
from .usage import REPORT_ATTRIBUTE, USAGE_ERROR_EXIT, error_line
from .verdict import decide


# Exit statuses a NO-GO turns into 1; a blocked run ran nothing, which pytest calls "no tests collected".
_JUDGED_EXITS = {
    False: (pytest.ExitCode.OK,),
    True: (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED),
}


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
        """Silent unless a readiness case ran, a prodready option was given or the wait blocked the run."""
        return self.state.active or self.settings.explicit or self.state.blocked is not None

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """An xdist worker's deselected readiness cases (every worker deselects the same ones)."""
        sent = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, {})
        self.state.deselected.update({nodeid: tuple(pair) for nodeid, pair in sent.items()})

    @pytest.hookimpl(trylast=True)  # after the terminal's own PASSED, so a gate's figures follow it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        mistake = getattr(report, REPORT_ATTRIBUTE, None)
        if mistake is not None:
            self.state.usage_mistakes.append(self.config.stash[REDACTOR_KEY].text(mistake))
        info = getattr(report, "prodready", None)
        if info is not None:
            worker = getattr(report, "node", None)
            if worker is not None:
                self.state.worker_ids.add(worker.gateway.id)
            redactor = self.config.stash[REDACTOR_KEY]
            clean = {**info, "figures": redactor.value(info.get("figures", {}))}
            self.state.add_phase(report.nodeid, report.when, report.outcome, report.duration, info["message"], clean)
            if report.when == "call" and report.passed and self.config.option.verbose > 0:
                self._show(terminal.gate_line(clean["figures"]))

    def _show(self, line: str | None) -> None:
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if line and reporter is not None:
            reporter.write_line(line)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, Any, Any]:
        """Once every case has run, drop the HTML report of a run with nothing to judge."""
        try:
            return (yield)
        finally:
            if not self.judging:
                report_files.release_html_report(self.config)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.state.usage_mistakes:  # the user's setup is wrong: no verdict on the product
            session.exitstatus = USAGE_ERROR_EXIT
            return
        if not self.judging:
            return
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        verdict = decide(
            self.state.ordered_records(), self.settings.requirements, incomplete=interrupted, blocked=self.state.blocked
        )
        self.state.verdict = verdict
        self.state.document = build_document(self.state, self.settings, self.config.stash[REDACTOR_KEY])
        self.state.report_files.extend(report_files.write_reports(self.config, self.settings, self.state.document))
        self.state.report_files.extend(
            markdown.write_summaries(self.settings.summary_md, os.environ, self.state.document, self.config.stash[REDACTOR_KEY])
        )
        if self.settings.save_baseline:
            gated = [
                (r.nodeid, {**r.figures["latency"], "samples_ms": r.figures.get("samples_ms", [])})
                for r in self.state.ordered_records()
                if "latency" in r.figures
            ]
            self.state.report_files.append(
                baselines.save(self.settings.baseline_dir, self.settings.save_baseline, gated).resolve()
            )
        if not verdict.go and session.exitstatus in _JUDGED_EXITS[verdict.blocked]:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.state.usage_mistakes:
            terminalreporter.write_line(error_line(self.state.usage_mistakes), red=True, bold=True)
            return
        if self.state.verdict is None:
            return
        terminalreporter.section("production readiness", sep="=")
        lines = terminal.summary_lines(
            self.state.verdict, self.settings, self.state.report_files, self.config.stash[REDACTOR_KEY],
            self.state.document["environment"]["systems"] if self.state.document else (),
        )
        for line, markup in lines:
            terminalreporter.write_line(line, **markup)
        for entry in self.state.document.get("deselected", ()) if self.state.document else ():
            terminalreporter.write_line(f"  {deselection.warning_line(entry)}", yellow=True)


class HtmlSections:
    """pytest-html hooks, registered only where pytest-html is active."""

    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self.config = config
        self.state = state

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
        if self.state.document is not None:
            from .report import html

            prefix.extend(html.summary_blocks(self.state.document))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="readiness">Readiness</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        info = getattr(report, "prodready", None)
        label = f"{info['domain']} / {info['category']}" if info else ""
        shown = systems.shown(info.get("figures", {})) if info else ""
        label += f" ({self.config.stash[REDACTOR_KEY].text(shown)})" if shown else ""
        cells.insert(2, f'<td class="col-readiness">{escape(label)}</td>')

    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """Failure logs are shown verbatim; secrets in them are masked first."""
        redactor = self.config.stash[REDACTOR_KEY]
        data[:] = [redactor.text(entry) for entry in data]
