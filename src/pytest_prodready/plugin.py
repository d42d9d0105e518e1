"""pytest hooks, and nothing else: each delegates to a plain module.

The plugin is active in every run of an environment where it is installed,
so it stays silent (no verdict, no report files) unless a readiness case ran
or a ``--prodready*`` option was given.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator

import pytest

from .fixtures import (  # noqa: F401  (a plugin module's fixtures are registered by import)
    CANARY_KEY,
    GATE_KEY,
    LOAD_KEY,
    fixture_systems,
    api_readiness,
    canary,
    canary_pair,
    consistency,
    corpus_dir,
    expected_schema,
    latency,
    load_runner,
    perf_dataset,
    prodready_dataset,
    prodready_calibration,
    prodready_clock,
    prodready_settings,
    readiness_figures,
    reference_app,
    sqlite_db,
    statement_log,
    target,
)
from . import async_cases
from .net.loopback import ALLOW_OPTION
from .markers import MARKERS, MarkerError, gate_arguments, readiness_info
from .readiness_case import CASES_PLUGIN, FIGURES_KEY, INFO_KEY, figures, is_readiness_case
from .readiness_wait import add_options as add_wait_options
from .session import asked, configured, distributing, mentions_prodready, pyproject, redactor_of, settings_of

# This module loads in every pytest run of an environment where the plugin is installed: what
# only a readiness run needs (judging, reports, SQLite, HTTP, numpy) is imported where it is used.
if TYPE_CHECKING:
    from .case_outcome import CaseOutcome
    from .settings import Settings

# A test carrying one of these markers (or using the canary fixture) is a readiness case.
RULE_FILES = ("pyproject.toml", "prodready.toml")
ASYNCIO_SCOPE_UNSET = 'The configuration option "asyncio_default_fixture_loop_scope" is unset'


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
    group.addoption("--prodready-min-regression", metavar="PCT|MS",
                    help="smallest regression that matters: a share of the gate's limit ('5%%', the default) "
                         "or a time ('0.5ms').")
    group.addoption("--prodready-regression-metric", metavar="METRIC",
                    help="figure compared with the baseline: p50_ms (default: the absolute p95 limits catch tail problems), p95_ms, p99_ms, mean_ms, max_ms.")
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
    group.addoption("--prodready-pin-cpu", metavar="auto|off",
                    help="auto (default): a run that saves or compares a stored baseline runs its threads on one CPU "
                         "(each xdist worker on its own), so its timings are comparable; off: every CPU.")
    group.addoption(ALLOW_OPTION, action="store_true", default=False,
                    help="let load tests target a non-loopback host (refused by default).")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for doc in MARKERS.values():
        config.addinivalue_line("markers", doc)
    _quiet_asyncio_default()
    settings = None
    if configured(config):
        settings = settings_of(config)  # a bad option or key stops the run here, before any test
        found = pyproject(config)
        if found is not None and mentions_prodready(found, b"consistency"):  # else it declares no rules
            from .rule_items import check_pyproject_rules

            check_pyproject_rules(config, found)
        _pin_for_stored_baseline(config, settings)
    if _is_worker(config):
        from .worker_usage import WorkerUsageErrors

        config.pluginmanager.register(WorkerUsageErrors(), "prodready-worker-usage")  # usage errors -> exit 4
        return
    from .controller import ReadinessController

    controller = ReadinessController(config, asked=asked(config))
    config.pluginmanager.register(controller, "prodready-controller")
    if settings is not None and settings.needs_preflight:
        from .preflight import Preflight

        # Registered before the waiter: of two tryfirst hooks the later registered runs first, so the wait comes first.
        config.pluginmanager.register(Preflight(controller.state, settings), "prodready-preflight")
    if config.getoption("prodready_wait", default=None) is not None:
        from .readiness_wait import ReadinessWait

        config.pluginmanager.register(ReadinessWait.from_options(config, controller.state), "prodready-wait")
    if asked(config):
        from .report import files as report_files

        report_files.add_html_sections(config, column=True)  # before pytest-html builds its table header
    if settings is not None and settings.explicit:
        from .report import files as report_files

        report_files.check_paths(config, settings)  # every file this run writes can be written, before any case


def _quiet_asyncio_default() -> None:
    """An unset ``asyncio_default_fixture_loop_scope`` makes pytest-asyncio warn in every run.

    Its behaviour when unset is kept and no setting is changed; only that one
    message is filtered, from here (a tryfirst ``pytest_configure``) until the
    run's configuration ends: pytest-asyncio warns in its own
    ``pytest_configure``, inside the warnings context pytest opens for it.
    (An ini ``filterwarnings`` line did the same but is parsed again for every
    test: about 15-35 µs each.)
    """
    warnings.filterwarnings("ignore", message=ASYNCIO_SCOPE_UNSET, category=pytest.PytestDeprecationWarning)


def _pin_for_stored_baseline(config: pytest.Config, settings: Settings) -> None:
    """A run that saves or compares a stored baseline is timed on one CPU (see cpu_pinning.py)."""
    from .cpu_pinning import for_run

    stored = settings.save_baseline is not None or settings.baseline is not None
    worker = getattr(config, "workerinput", {}).get("workerid")
    pinned = for_run(settings.pin_cpu, stored, worker, distributing=distributing(config))
    if pinned is not None:
        config.pluginmanager.register(pinned, "prodready-cpu-pin")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """A ``testpaths`` run never visits the rootdir's pyproject.toml: add it when it declares rules."""
    found = pyproject(session.config)
    testpaths = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if found is not None and testpaths and mentions_prodready(found):
        from .rule_items import add_pyproject_rules

        add_pyproject_rules(session.config, found)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> Generator[None, Any, Any]:
    """Inside pytest-asyncio's own wrapper, so it sees the asyncio marker added to async readiness cases."""
    collected = yield
    if async_cases.may_be_coroutine_test(obj):  # an ordinary test function costs one look
        async_cases.mark_async_cases(collected)
    return collected


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """prodready.toml files and ``[tool.prodready.consistency]`` become one item per rule."""
    if file_path.name not in RULE_FILES or not mentions_prodready(file_path, b"consistency"):
        return None
    from .rule_items import collect_rule_file

    return collect_rule_file(file_path, parent)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Reject rule-file mistakes and misused markers, and tag readiness cases, before anything runs;
    ordinary tests cost one look."""
    rule_items = sys.modules.get(f"{__package__}.rule_items")
    if rule_items is not None:  # only a run that collected a rule file imported it
        rule_items.raise_rule_file_errors(config)
    marked_nodes: dict[int, bool] = {}
    cases = [item for item in items if is_readiness_case(item, marked_nodes)]
    if cases:
        redactor_of(config)  # the environment's secrets as the run started
        _tag_cases(config, cases)
        if not config.pluginmanager.has_plugin(CASES_PLUGIN):
            config.pluginmanager.register(ReadinessCases(config), CASES_PLUGIN)
    if not configured(config):
        return  # the reference target: nothing is held back
    settings = settings_of(config)
    if not settings.uses_reference and not settings.allow_writes:
        from . import read_only

        for item in items:
            if read_only.blocks(item, settings.uses_reference, settings.allow_writes):
                item.add_marker(pytest.mark.skip(reason=read_only.WRITES_NOT_ALLOWED))


def _tag_cases(config: pytest.Config, cases: list[pytest.Item]) -> None:
    from . import case_warnings, where_ran
    from .limits import ThresholdError

    settings = settings_of(config)
    maybe_on_reference = settings.sqlite is not None and settings.uses_reference  # else no case asks which fixtures
    parents: dict[int, dict[str, pytest.Mark]] = {}
    for item in cases:
        marked = _ClosestMarkers(item, parents)
        try:
            info, canary_spec = _case_info(marked)
            gate = marked.get_closest_marker("perf_gate")
            if gate is not None:
                name, inline = gate_arguments(gate.args, gate.kwargs)
                settings.gate(name, inline, marked.nodeid)
                if "latency" not in marked.fixturenames:
                    raise MarkerError(f"{marked.nodeid}: @pytest.mark.perf_gate needs the 'latency' fixture")
            if marked.get_closest_marker("load") is not None:
                from .load.load_spec import check_marker as check_load_marker  # a load case's limits

                check_load_marker(marked)
            if canary_spec is not None:
                canary_spec.check_marker(marked, settings.max_regression_pct, settings.canary_inconclusive)
            severity = case_warnings.declared_severity(marked)
        except (MarkerError, ThresholdError) as exc:
            raise pytest.UsageError(str(exc)) from None
        if info is not None:
            # "message": what a quiet phase's report says (none): such a report shares this dict (ReadinessCases).
            item.stash[INFO_KEY] = {**info, "severity": severity, "message": ""}
            if maybe_on_reference and where_ran.on_reference(True, True, _fixtures(item)):
                item.stash[INFO_KEY]["ran_on"] = where_ran.EMBEDDED_REFERENCE
    if not settings.explicit and not _is_worker(config):
        from .report import files as report_files

        report_files.check_paths(config, settings)  # a run judged because it collected readiness cases


def _case_info(marked: _ClosestMarkers) -> tuple[dict[str, Any] | None, Any]:
    """The case's domain and category (a canary marker or fixture implies them), and the canary checks if it has one."""
    canary_spec = _canary_spec(marked)
    return readiness_info(marked, marked.nodeid) or (canary_spec and canary_spec.implied_info(marked)), canary_spec


def _canary_spec(marked: _ClosestMarkers) -> Any:
    """The canary marker's checks (canary/spec.py), imported only for a case with the marker or the fixture."""
    if marked.get_closest_marker("canary") is None and "canary" not in marked.fixturenames:
        return None
    from .canary import spec

    return spec


class _ClosestMarkers:
    """An item's closest marker of each name, as ``item.iter_markers()`` finds them (the test's own first, then
    its class's, module's, ...): the collection checks ask for each readiness marker by name, about 13 times a case.

    ``parents`` (one dict per collection) keeps each parent's, so a module's markers are gathered once,
    not once per test; ``get_closest_marker`` is the dict's own ``get``.
    """

    def __init__(self, item: pytest.Item, parents: dict[int, dict[str, pytest.Mark]]) -> None:
        self.nodeid = item.nodeid
        self.fixturenames = tuple(getattr(item, "fixturenames", ()))
        self.get_closest_marker = _closest(item, parents).get


def _closest(node: pytest.Item | pytest.Collector, parents: dict[int, dict[str, pytest.Mark]]) -> dict[str, pytest.Mark]:
    parent = node.parent
    inherited: dict[str, pytest.Mark] | None = {} if parent is None else parents.get(id(parent))
    if inherited is None:
        inherited = parents[id(parent)] = _closest(parent, parents)
    found = dict(inherited)
    for mark in reversed(node.own_markers):  # the first of a name on a node wins, as in iter_markers
        found[mark.name] = mark
    return found


class ReadinessCases:
    """The per-test hooks, registered only in a process that collected readiness cases."""

    def __init__(self, config: pytest.Config) -> None:
        # Imported once here: an import statement in a hook costs microseconds on every report of the run.
        from . import case_warnings, records, systems, usage
        from .report import clean_reports

        self.case_warnings, self.records, self.systems, self.usage = case_warnings, records, systems, usage
        self.clean_reports = clean_reports
        # Looked up once, not on each of the run's reports: both are built before any case runs and kept.
        self.redactor = redactor_of(config)
        self.escalate_warnings = settings_of(config).escalate_warnings

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """After a gated or load test body succeeds, hold its figures against the limits."""
        result = yield
        stash = item.stash  # "in" first: Stash.get raises and catches a KeyError for a missing key (most cases)
        gate = stash[GATE_KEY] if GATE_KEY in stash else None
        if gate is not None:
            from .gates import gate_judgement

            spec, recorder = gate
            if not recorder.samples_ms:
                pytest.fail(f"perf gate {spec.name or item.name!r} recorded no samples", pytrace=False)
            settings = settings_of(item.config)
            outcome = gate_judgement.evaluate(
                spec,
                recorder.summary(),
                recorder.samples_ms,
                nodeid=item.nodeid,
                calibration_ms=recorder.calibration_ms,
                baseline=settings.baseline,
                metric=settings.regression_metric,
                bound_pct=settings.max_regression_pct,
                min_change=settings.min_regression,
            )
            _judge(item, outcome)
        load = stash[LOAD_KEY] if LOAD_KEY in stash else None
        if load is not None:
            from .load import load_judgement

            _judge(item, load_judgement.evaluate(*load))
        canary_outcome = stash[CANARY_KEY] if CANARY_KEY in stash else None
        if canary_outcome is not None:
            _judge(item, canary_outcome)
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        """Tag the report with plain data so it survives the trip from an xdist worker."""
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(self.usage.UsageMistake):
            mistake = f"{item.nodeid}: {call.excinfo.value}"
            report.longrepr = redactor_of(item.config).text(mistake)
            setattr(report, self.usage.REPORT_ATTRIBUTE, mistake)
            return report  # not a readiness record: the run ends as a usage error
        info = item.stash.get(INFO_KEY, None)
        if info is None:
            return report
        quiet = report.passed and call.excinfo is None and report.longrepr is None and not report.sections
        if report.when == "call":
            if FIGURES_KEY in item.stash:  # "in" first: Stash.get and setdefault raise and catch a KeyError when missing
                case = item.stash[FIGURES_KEY]
                del item.stash[FIGURES_KEY]  # the report carries them from here on: no copy needed
            else:
                case = {}  # the case recorded no figure
            self.systems.note(case, *fixture_systems(item))
            if not case and quiet and not self.escalate_warnings:
                report.prodready = info  # no figure, nothing to say (most smoke cases): shared like a quiet setup
                return report
            report.prodready = {**info, "figures": case}
        elif quiet and not self.escalate_warnings:
            report.prodready = info  # most setups and teardowns: nothing below changes it, so it is shared, not copied
            return report
        else:  # a setup or teardown carries no figures: text only, which the garbage collector need not track
            report.prodready = dict(info)
        if self.escalate_warnings:
            self.case_warnings.escalate(report)
            quiet = report.passed and report.longrepr is None and quiet
        if quiet:
            return report  # most phases: no text to mask, no message ("" from the info), nothing to soften
        self._tell(report, call)
        return report

    def _tell(self, report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
        """A phase with something to say: its message, its text masked, an unsupported or soft failure marked."""
        redactor, clean_reports = self.redactor, self.clean_reports
        report.prodready["message"] = clean_reports.one_line(redactor.text(self.records.failure_message(report)))
        if call.excinfo is not None and call.excinfo.errisinstance(NotImplementedError):
            _mark_unsupported(report, redactor.text(f"unsupported by the target: {call.excinfo.value or report.nodeid}"))
        clean_reports.clean_report(report, redactor)  # its text reaches the terminal, JUnit and HTML, passed or not
        self.case_warnings.soften(report)


def _fixtures(item: pytest.Item) -> tuple[str, ...]:
    """The fixtures the test itself asks for (``sqlite_db`` needs ``target`` too, but only to find the file)."""
    function = getattr(item, "obj", None)
    try:
        return tuple(inspect.signature(function).parameters) if callable(function) else ()
    except (TypeError, ValueError):
        return tuple(getattr(item, "fixturenames", ()))


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember deselected readiness cases; a worker sends them to the controller in its workeroutput."""
    if not items:
        return
    found: dict[str, tuple[str, str]] = {}
    parents: dict[int, dict[str, pytest.Mark]] = {}
    for item in items:
        try:
            info, _ = _case_info(_ClosestMarkers(item, parents))
        except MarkerError:
            continue
        if info is not None:
            found[item.nodeid] = (info["domain"], info["category"])
    config = items[0].config
    if not found:
        return
    if _is_worker(config):
        from .deselection import WORKER_OUTPUT

        config.workeroutput.setdefault(WORKER_OUTPUT, {}).update({k: list(v) for k, v in found.items()})
        return
    controller = config.pluginmanager.get_plugin("prodready-controller")
    if controller is not None:
        controller.state.deselected.update(found)


def _judge(item: pytest.Item, outcome: CaseOutcome) -> None:
    """Attach an outcome's figures to the case, and fail it when a limit was missed."""
    from . import case_warnings
    from .report.junit import junit_properties

    figures(item).update(outcome.figures)
    item.user_properties.extend(junit_properties(outcome.figures))
    case_warnings.note(item, outcome.warnings)
    if outcome.failures:
        pytest.fail(outcome.message, pytrace=False)


def _mark_unsupported(report: pytest.TestReport, message: str) -> None:
    """pytest shows it as a skip with the reason (not a failure); the verdict counts it as ``unsupported``."""
    report.prodready["unsupported"] = True
    report.prodready["message"] = message
    report.outcome = "skipped"
    path, lineno, _ = report.location
    report.longrepr = (str(path), (lineno or 0) + 1, message)
