"""pytest hooks, and nothing else: each delegates to a plain module.

The plugin is active in every run of an environment where it is installed,
so it stays silent (no verdict, no report files) unless a readiness case ran
or a ``--prodready*`` option was given.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Generator

import pytest

from .controller import HtmlSections, ReadinessController
from .fixtures import (  # noqa: F401  (a plugin module's fixtures are registered by import)
    api_readiness,
    canary,
    canary_pair,
    consistency,
    corpus_dir,
    latency,
    load_runner,
    prodready_clock,
    prodready_settings,
    readiness_figures,
    reference_app,
    sqlite_db,
    target,
)
from . import case_warnings
from .readiness_wait import ReadinessWait, add_options as add_wait_options
from .gates import evaluation
from .interrupts import SigtermGuard
from . import read_only
from .gates.evaluation import GateOutcome
from .gates.thresholds import ThresholdError
from .canary.spec import check_marker as check_canary_marker, implied_info as implied_canary_info
from .keys import CANARY_KEY, FIGURES_KEY, GATE_KEY, INFO_KEY, LOAD_KEY, REDACTOR_KEY, SETTINGS_KEY, STATE_KEY
from .load import evaluation as load_evaluation
from .load.harness import check_marker as check_load_marker
from .load.loopback import ALLOW_OPTION
from .markers import MARKERS, MarkerError, gate_arguments, readiness_info
from .report import files as report_files
from .records import failure_message
from .report.junit import junit_properties
from .report.redaction import Redactor
from .rule_items import add_pyproject_rules, collect_rule_file, raise_rule_file_errors
from .run_state import RunState
from .settings import OPTION_KEYS, SettingsError, resolve


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prodready", "production readiness (pytest-prodready)")
    group.addoption("--prodready", action="store_true", default=False,
                    help="give a verdict and write the reports even if no readiness case is collected.")
    group.addoption("--prodready-target", metavar="MODULE:FACTORY",
                    help="adapter factory for the system under test (default: the embedded reference service).")
    group.addoption("--prodready-sqlite", metavar="PATH",
                    help="existing SQLite file for the SQL-level checks; opened read-only.")
    group.addoption("--prodready-profile", metavar="NAME",
                    help="threshold profile: production (default), staging, development, or one of yours.")
    group.addoption("--prodready-html", metavar="PATH",
                    help="HTML report path (default reports/readiness.html; --html overrides).")
    group.addoption("--prodready-json", metavar="PATH", help="JSON report path (default reports/readiness.json).")
    group.addoption("--prodready-save-baseline", metavar="NAME",
                    help="store every gated case's percentiles as baseline NAME.")
    group.addoption("--prodready-compare", metavar="NAME",
                    help="fail gated cases that regressed against baseline NAME.")
    group.addoption("--prodready-max-regression", metavar="PCT",
                    help="largest tolerated regression against the baseline (default 10%%).")
    group.addoption("--prodready-regression-metric", metavar="METRIC",
                    help="figure compared with the baseline: p50_ms, p95_ms (default), p99_ms, mean_ms, max_ms.")
    group.addoption("--prodready-baseline-dir", metavar="DIR",
                    help="folder of baseline files (default .prodready/baselines).")
    group.addoption("--prodready-allow-writes", action="store_true", default=None,
                    help="let cases marked 'writes' run against a --prodready-target (skipped by default).")
    group.addoption("--prodready-summary-md", metavar="PATH",
                    help="also write the verdict as Markdown (appended to $GITHUB_STEP_SUMMARY when set).")
    add_wait_options(group)
    group.addoption("--prodready-baseline-url", metavar="URL",
                    help="the live baseline service canary cases compare --prodready-target-url with.")
    group.addoption("--prodready-canary-inconclusive", metavar="go|no-go",
                    help="what a canary comparison too short or noisy to decide makes of the verdict (default go: a warning).")
    group.addoption(ALLOW_OPTION, action="store_true", default=False,
                    help="let load tests target a non-loopback host (refused by default).")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for doc in MARKERS.values():
        config.addinivalue_line("markers", doc)
    cli = {dest: config.getoption(dest) for dest in (*OPTION_KEYS, "prodready")}
    try:
        settings = resolve(cli, _pyproject(config), config.rootpath, config.invocation_params.dir)
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = RunState()
    config.stash[REDACTOR_KEY] = Redactor.from_environment(os.environ)
    config.stash[SETTINGS_KEY] = settings
    config.stash[STATE_KEY] = state
    if _is_worker(config):
        return
    config.pluginmanager.register(ReadinessController(config, state), "prodready-controller")
    waiter = ReadinessWait.from_options(config, state)
    if waiter is not None:
        config.pluginmanager.register(waiter, "prodready-wait")
    guard = SigtermGuard()
    guard.install()
    config.pluginmanager.register(guard, "prodready-sigterm")
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(HtmlSections(config, state), "prodready-html")
        report_files.claim_html_report(config, settings)


def _pyproject(config: pytest.Config) -> Path | None:
    """The pyproject.toml that holds ``[tool.prodready]``, if any."""
    if config.inipath is not None and config.inipath.name == "pyproject.toml":
        return config.inipath
    candidate = config.rootpath / "pyproject.toml"
    return candidate if candidate.is_file() else None


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """A ``testpaths`` run never visits the rootdir's pyproject.toml: add it when it declares rules."""
    add_pyproject_rules(session.config, _pyproject(session.config))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """prodready.toml files and ``[tool.prodready.consistency]`` become one item per rule."""
    return collect_rule_file(file_path, parent)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tag readiness cases and reject misused markers and rule files before anything runs."""
    raise_rule_file_errors(config)
    settings = config.stash[SETTINGS_KEY]
    for item in items:
        try:
            info = readiness_info(item, item.nodeid) or implied_canary_info(item)
            gate = item.get_closest_marker("perf_gate")
            if gate is not None:
                name, inline = gate_arguments(gate.args, gate.kwargs)
                settings.gate(name, inline, item.nodeid)
                if "latency" not in getattr(item, "fixturenames", ()):
                    raise MarkerError(f"{item.nodeid}: @pytest.mark.perf_gate needs the 'latency' fixture")
            check_load_marker(item)
            check_canary_marker(item, settings.max_regression_pct, settings.canary_inconclusive)
            severity = case_warnings.declared_severity(item, settings.escalate_warnings)
        except (MarkerError, ThresholdError) as exc:
            raise pytest.UsageError(str(exc)) from None
        if info is not None:
            item.stash[INFO_KEY] = {**info, "severity": severity}
        if read_only.blocks(item, settings.uses_reference, settings.allow_writes):
            item.add_marker(pytest.mark.skip(reason=read_only.WRITES_NOT_ALLOWED))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """After a gated or load test body succeeds, hold its figures against the limits."""
    result = yield
    gate = item.stash.get(GATE_KEY, None)
    if gate is not None:
        spec, recorder = gate
        if not recorder.samples_ms:
            pytest.fail(f"perf gate {spec.name or item.name!r} recorded no samples", pytrace=False)
        settings = item.config.stash[SETTINGS_KEY]
        outcome = evaluation.evaluate(
            spec,
            recorder.summary(),
            recorder.samples_ms,
            nodeid=item.nodeid,
            baseline=settings.baseline,
            metric=settings.regression_metric,
            bound_pct=settings.max_regression_pct,
        )
        _judge(item, outcome)
    load = item.stash.get(LOAD_KEY, None)
    if load is not None:
        escalate = item.config.stash[SETTINGS_KEY].escalate_warnings
        _judge(item, load_evaluation.evaluate(*load, escalate=escalate))
    canary_outcome = item.stash.get(CANARY_KEY, None)
    if canary_outcome is not None:
        _judge(item, canary_outcome)
    return result


def _judge(item: pytest.Item, outcome: GateOutcome) -> None:
    """Attach an outcome's figures to the case, and fail it when a limit was missed."""
    item.stash.setdefault(FIGURES_KEY, {}).update(outcome.figures)
    item.user_properties.extend(junit_properties(outcome.figures))
    case_warnings.note(item, outcome.warnings)
    if outcome.failures:
        pytest.fail(outcome.message, pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Tag the report with plain data so it survives the trip from an xdist worker."""
    report = yield
    info = item.stash.get(INFO_KEY, None)
    if info is not None:
        figures = item.stash.get(FIGURES_KEY, {}) if report.when == "call" else {}
        redactor = item.config.stash[REDACTOR_KEY]
        report.prodready = {**info, "figures": dict(figures), "message": redactor.text(failure_message(report))}
        if report.failed:
            _mask_secrets(report, redactor)
        case_warnings.soften(report)
    return report


def _mask_secrets(report: pytest.TestReport, redactor: Redactor) -> None:
    """A readiness failure's text reaches the terminal, JUnit and HTML: mask secrets once, here."""
    text = report.longreprtext
    masked = redactor.text(text)
    if masked != text:
        report.longrepr = masked
    report.sections = [(title, redactor.text(body)) for title, body in report.sections]
