"""The judging side of a run: gathers records, decides, writes and prints.

Registered on the process that writes reports (the xdist controller, or the
only process of a serial run).  Records come from ``pytest_runtest_logreport``,
which xdist replays on the controller for every worker report, so a
distributed run and a serial run are judged from identical records.

It stays dormant until the run is a readiness run: a ``--prodready*`` option
was given, or a readiness case was collected (serial run) or reported (an
xdist worker's).  Only then does it take SIGTERM, open the HTML report and
write anything; the judging modules are imported at that point too.
"""

from __future__ import annotations

import os
import time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generator, Mapping

import pytest

from .readiness_case import CASES_PLUGIN, INFO_KEY
from .usage import REPORT_ATTRIBUTE as USAGE_REPORT_ATTRIBUTE
from .session import distributing, redactor_of, settings_of

if TYPE_CHECKING:
    from .gates.suite_regression import SuiteRegression
    from .report.redaction import Redactor
    from .run_state import RunState
    from .settings import Settings


_NO_FIGURES: Mapping[str, Any] = MappingProxyType({})  # what a setup or teardown adds to its record: shared, read-only

# Exit statuses a NO-GO turns into 1; a blocked run ran nothing, which pytest calls "no tests collected".
_JUDGED_EXITS = {
    False: (pytest.ExitCode.OK,),
    True: (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED),
}


class ReadinessController:
    """Collects readiness records and turns them into a verdict at the end."""

    def __init__(self, config: pytest.Config, *, asked: bool) -> None:
        self.config = config
        self.started_at = time.time()
        self._state: RunState | None = None
        self.asked = asked  # a --prodready* option was given: judge even with no readiness case
        self.active = False
        self.session: pytest.Session | None = None
        self.holding = True  # keep reports a late HTML report would miss (failed collections; test reports under xdist)
        self.held: list[Any] = []
        self.redactor: Redactor | None = None  # the session's (redactor_of), kept from activation on: one look-up per run

    @property
    def state(self) -> RunState:
        """Made on first use: a dormant run never needs it, nor the record and verdict modules it imports."""
        if self._state is None:
            from .run_state import RunState

            self._state = RunState(started_at=self.started_at)
        return self._state

    def _usage_mistakes(self) -> list[str]:
        return self._state.usage_mistakes if self._state is not None else []

    @property
    def settings(self) -> Settings:
        return settings_of(self.config)

    def _hold_test_reports(self) -> bool:
        """Only an xdist controller learns of readiness cases from their reports, after pytest-html saw others."""
        if not distributing(self.config):
            return False
        from .report import files as report_files

        return report_files.may_open_html_report(self.config)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._note_usage_mistake(report)  # an xdist worker's collection (worker_usage.py)
        if report.failed and self.holding:
            self.held.append(report)

    def _note_usage_mistake(self, report: Any) -> None:
        mistake = getattr(report, USAGE_REPORT_ATTRIBUTE, None)
        if mistake is not None:
            self.state.usage_mistakes.append(redactor_of(self.config).text(mistake))

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown without pytest-xdist
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """An xdist worker's deselected readiness cases (every worker deselects the same ones)."""
        from .deselection import WORKER_OUTPUT

        sent = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT, {})
        self.state.deselected.update({nodeid: tuple(pair) for nodeid, pair in sent.items()})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, Any, Any]:
        """A run with an option or a collected readiness case is judged; others stay silent."""
        if self.asked or any(INFO_KEY in item.stash for item in session.items):
            self._activate()
        elif not distributing(self.config) and not self.config.pluginmanager.has_plugin(CASES_PLUGIN):
            # A serial run with no readiness case: no report can bring one or a usage mistake, nothing to judge.
            self.config.pluginmanager.unregister(self)
        elif not self._hold_test_reports():
            self.holding, self.held = False, []
        return (yield)

    @pytest.hookimpl(trylast=True)  # after the terminal's own PASSED, so a gate's figures follow it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(report, USAGE_REPORT_ATTRIBUTE):  # seldom: looked at here, not in a call per report
            self._note_usage_mistake(report)
        info = getattr(report, "prodready", None)
        if info is None:
            if self.holding:
                self.held.append(report)
            return
        if not self.active:
            self.held.append(report)  # a report opened now misses the hook call under way: replay this one too
            self._activate()
        state = self.state
        worker = getattr(report, "node", None)
        if worker is not None:
            state.worker_ids.add(worker.gateway.id)
        found = info.get("figures")  # a setup or teardown report has none
        clean = self.redactor.value(found) if found else _NO_FIGURES
        state.add_phase(report.nodeid, report.when, report.outcome, report.duration, info["message"], info, clean)
        if report.when == "call" and report.passed and self.config.option.verbose > 0:
            from .report import terminal

            self._show(terminal.gate_line(clean))

    def _show(self, line: str | None) -> None:
        reporter = self.config.pluginmanager.getplugin("terminalreporter")
        if line and reporter is not None:
            reporter.write_line(line)

    def _activate(self) -> None:
        """From now on this is a readiness run: SIGTERM ends it cleanly and pytest-html writes our report."""
        from .interrupts import SigtermGuard
        from .report import files as report_files

        self.active, self.holding = True, False
        self.redactor = redactor_of(self.config)  # the environment's secrets as the run started
        guard = SigtermGuard()
        guard.install()
        self.config.pluginmanager.register(guard, "prodready-sigterm")
        held, self.held = self.held, []
        if self.session is not None:
            report_files.open_html_report(self.config, self.settings, self.session, held)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from .usage import USAGE_ERROR_EXIT

        if self._usage_mistakes():  # the user's setup is wrong: no verdict on the product
            session.exitstatus = USAGE_ERROR_EXIT
            return
        if not self.active:
            return
        from .report import files as report_files
        from .report.readiness_json import build_document
        from .verdict import decide_verdict

        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        if interrupted:
            self.state.mark_interrupted()
        gated = self._gated_figures() if self.settings.save_baseline or self.settings.baseline else {}
        suite = self._baseline_suite(gated)
        verdict = decide_verdict(
            self.state.ordered_records(), self.settings.requirements, incomplete=interrupted, blocked=self.state.blocked,
            waived=self.settings.waived, regression=suite,
        )
        if suite is not None:
            self.state.baseline_suite = suite.to_dict()
        self.state.verdict = verdict
        self.state.document = build_document(self.state, self.settings, redactor_of(self.config))
        self.state.report_files.extend(report_files.write_reports(self.config, self.settings, self.state.document))
        if report_files.writes_summary(self.settings.summary_md, os.environ):
            from .report import markdown

            self.state.report_files.extend(
                markdown.write_summaries(self.settings.summary_md, os.environ, self.state.document, redactor_of(self.config))
            )
        if self.settings.save_baseline:
            from .cpu_pinning import timed_on_one_cpu
            from .gates import baseline as baselines

            self.state.report_files.append(
                baselines.save(self.settings.baseline_dir, self.settings.save_baseline, gated.items(),
                               one_cpu=timed_on_one_cpu(self.settings.pin_cpu)).resolve()
            )
        if not verdict.go and session.exitstatus in _JUDGED_EXITS[verdict.blocked]:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _gated_figures(self) -> dict[str, dict[str, Any]]:
        """Each gated case's percentiles, calibration and samples: what a baseline saves and compares."""
        from .gates import baseline as baselines

        return {
            r.nodeid: {**r.figures["latency"], **baselines.calibration_of(r.figures), "samples_ms": r.figures.get("samples_ms", [])}
            for r in self.state.ordered_records()
            if "latency" in r.figures
        }

    def _baseline_suite(self, gated: dict[str, dict[str, Any]]) -> SuiteRegression | None:
        """The run's gated operations together against ``--prodready-compare`` (None without one)."""
        if self.settings.baseline is None:
            return None
        from .cpu_pinning import timed_on_one_cpu
        from .gates import suite_regression

        return suite_regression.compare_suite(
            self.settings.baseline, gated, self.settings.regression_metric, self.settings.max_regression_pct,
            one_cpu=timed_on_one_cpu(self.settings.pin_cpu),
        )

    def pytest_unconfigure(self) -> None:
        """The reports are written and the summary shown: the run's records and document go now, not after
        pytest's clean-up and Python's exit have each walked them (a few objects per case) in a full collection."""
        if self._state is not None:
            self._state.release()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._usage_mistakes():
            from .usage import error_line

            terminalreporter.write_line(error_line(self._usage_mistakes()), red=True, bold=True)
            return
        if self._state is None or self._state.verdict is None:
            return
        from . import deselection
        from .report import terminal

        terminalreporter.section("production readiness", sep="=")
        lines = terminal.summary_lines(
            self.state.verdict, self.settings, self.state.report_files, redactor_of(self.config),
            self.state.document["environment"]["systems"] if self.state.document else (),
        )
        for line, markup in lines:
            terminalreporter.write_line(line, **markup)
        for entry in self.state.document.get("deselected", ()) if self.state.document else ():
            terminalreporter.write_line(f"  {deselection.warning_line(entry)}", yellow=True)
