"""The fixtures users see; ``pytest --fixtures`` shows these docstrings.

A setup problem fails the case with one line: inside an ``except`` block
that is ``raise pytest.fail.Exception(..., pytrace=False) from None``, or
pytest would print the original error again ("during handling of ...").
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from .extras import MissingExtra, require
from .markers import gate_arguments
from .readiness_case import figures
from .session import redactor_of, settings_of

# Everything else is imported inside the fixture that needs it: this module loads with the
# plugin in every pytest run, and SQLite, HTTP, the reference service and numpy cost start-up time.
if TYPE_CHECKING:
    from .canary.pair import CanaryPair
    from .canary.canary_run import CanaryRun
    from .checks.assertions import Consistency
    from .checks.sqlite import SQLiteProbe
    from .case_outcome import CaseOutcome
    from .gates.latency import Clock, LatencyRecorder
    from .gates.gate_spec import GateSpec
    from .load.harness import LoadHarness
    from .load.readiness import ReadinessFactory
    from .load.results import LoadResult
    from .net.server import RunningServer
    from .load.load_spec import LoadSpec
    from .checks.schema_expectation import SchemaExpectation
    from .dataset_growth import Dataset
    from .settings import Settings
    from .statement_capture import StatementLog
    from .target import MemoryServiceTarget

# What the measuring fixtures leave on the test item; the plugin judges it after the test body.
GATE_KEY = pytest.StashKey["tuple[GateSpec, LatencyRecorder]"]()
LOAD_KEY = pytest.StashKey["tuple[LoadSpec, LoadResult]"]()
CANARY_KEY = pytest.StashKey["CaseOutcome"]()
OVERHEAD_KEY = pytest.StashKey[dict[Any, float]]()  # the timer's own cost, measured once per clock
BUILT_TARGET_KEY = pytest.StashKey[object]()  # the adapter the ``target`` fixture built, to tell it from an override

CANARY_LOCK_FILE = "prodready-canary.lock"  # shared by the xdist workers of a run (their basetemps' parent)


def _require(extra: str, feature: str) -> None:
    """A fixture whose optional dependencies are missing fails its case with the install line."""
    try:
        require(extra, feature)
    except MissingExtra as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None


@pytest.fixture(scope="session")
def prodready_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved readiness settings: CLI options over ``[tool.prodready]``."""
    return settings_of(pytestconfig)


@pytest.fixture
def prodready_clock() -> Clock:
    """The clock performance gates read, in nanoseconds (``time.perf_counter_ns``).

    Override this fixture to inject a fake clock in tests of timing logic.
    """
    from .gates.latency import DEFAULT_CLOCK

    return DEFAULT_CLOCK


@pytest.fixture
def prodready_calibration() -> Callable[[], None] | None:
    """The fixed work timed between a gate's samples when a baseline is saved or compared (machine speed).

    Override it (or return None to take no calibration) in tests of timing logic.
    """
    from .gates.calibration import calibration_work

    return calibration_work


@pytest.fixture
def latency(
    request: pytest.FixtureRequest,
    prodready_settings: Settings,
    prodready_clock: Clock,
    prodready_calibration: Callable[[], None] | None,
) -> LatencyRecorder:
    """Records timed samples for the test's ``@pytest.mark.perf_gate``.

    ``for _ in latency.samples(): with latency.measure(): call()`` runs the
    gate's warm-up and sample counts; after the test the samples are checked
    against the gate's thresholds and the test fails with the percentile that
    missed (e.g. ``p99 63.1 ms > 50 ms (n=200; ...)``).
    """
    from .gates.latency import LatencyRecorder, measure_timer_overhead
    from .limits import ThresholdError

    marker = request.node.get_closest_marker("perf_gate")
    name, inline = gate_arguments(marker.args, marker.kwargs) if marker else (None, {})
    try:
        spec = prodready_settings.gate(name, inline, request.node.nodeid)
    except ThresholdError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    recorder = LatencyRecorder(clock=prodready_clock, samples=spec.samples, warmup=spec.warmup)
    recorder.gate = spec
    if prodready_settings.save_baseline or prodready_settings.baseline:
        recorder.calibration = prodready_calibration
    overheads = request.config.stash.setdefault(OVERHEAD_KEY, {})
    if prodready_clock not in overheads:
        overheads[prodready_clock] = measure_timer_overhead(prodready_clock, rounds=200)
    recorder.timer_overhead_ns = overheads[prodready_clock]
    request.node.stash[GATE_KEY] = (spec, recorder)
    return recorder


@pytest.fixture
def readiness_figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A dict whose contents are attached to this case in the verdict and reports."""
    return figures(request.node)


@pytest.fixture
def consistency(
    request: pytest.FixtureRequest, readiness_figures: dict[str, Any], prodready_settings: Settings
) -> Consistency:
    """Data-consistency rules as assertions: ``await consistency.assert_no_orphans(db, child=..., parent=...)``.

    ``assert_integrity``, ``assert_foreign_keys``, ``assert_tables``,
    ``assert_indexes``, ``assert_pragmas``, ``assert_no_orphans``,
    ``assert_unique``, ``assert_not_null``, ``assert_in_range`` on SQLite;
    ``assert_graph`` (seed 001's five metrics) on SQLite or Neo4j;
    ``assert_counts_match(a, b, tolerance=0.05)`` across two stores.  A
    missed threshold fails with the rule, its value and a sample of the
    offending rows; every outcome is added to this case's report figures.
    Any rule kind runs with ``assert_rule(db, "allowed_values", table=..., ...)``.
    A Neo4j URI is connected once per run, shared with the rule files' rules.
    """
    from .checks.assertions import Consistency
    from .rule_items import open_graphs

    return Consistency(readiness_figures, timeouts=prodready_settings.timeouts, graphs=open_graphs(request.config))


@pytest.fixture(scope="session")
def statement_log() -> Iterator[StatementLog]:
    """The SQL and the connections of the in-process target, captured for the whole session.

    ``with statement_log.window() as seen: await target.get_session(...)`` then
    ``seen.reads()`` gives the distinct read statements the target issued;
    ``statement_log.connections()`` the connections it opened (see
    :mod:`pytest_prodready.statement_capture`).
    """
    from .statement_capture import StatementLog

    log = StatementLog()
    log.install()
    try:
        yield log
    finally:
        log.uninstall()
        log.stop_leaked()  # a target that raised after connecting must not keep the run from ending


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def target(
    pytestconfig: pytest.Config, prodready_settings: Settings, tmp_path_factory: pytest.TempPathFactory,
    statement_log: StatementLog,
) -> AsyncIterator[MemoryServiceTarget]:
    """The system under test, behind the :class:`~pytest_prodready.target.MemoryServiceTarget` contract.

    By default the embedded reference service on a fresh SQLite file in a
    temporary folder; ``--prodready-target module:factory`` builds yours.
    """
    from .target import TargetContext, TargetLoadError, build_target

    context = TargetContext(workdir=tmp_path_factory.mktemp("prodready-target"), options=prodready_settings.target_options)
    try:
        built = await build_target(prodready_settings.target, context)
    except TargetLoadError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    pytestconfig.stash[BUILT_TARGET_KEY] = built
    try:
        yield built
    finally:
        await built.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sqlite_db(
    prodready_settings: Settings, target: MemoryServiceTarget, statement_log: StatementLog
) -> AsyncIterator[SQLiteProbe]:
    """A read-only probe of the SQLite database behind the target.

    ``--prodready-sqlite PATH`` points it at an existing file instead; the
    file is opened with ``mode=ro`` and never written.
    """
    from .checks.sqlite import ProbeError, SQLiteProbe

    path = prodready_settings.sqlite or getattr(target, "database_path", None)
    if path is None:
        pytest.fail("no SQLite database to check: the target has none; pass --prodready-sqlite PATH", pytrace=False)
    probe = SQLiteProbe(path, prodready_settings.timeouts.query_s)
    try:
        with statement_log.ignoring():
            await probe.open()
    except ProbeError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    try:
        yield probe
    finally:
        await probe.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def prodready_dataset(
    prodready_settings: Settings, target: MemoryServiceTarget, statement_log: StatementLog,
    tmp_path_factory: pytest.TempPathFactory,
) -> Dataset:
    """The target's dataset, grown through the protocol to ``volume`` first when writes are allowed."""
    from .checks.sqlite import ProbeError, SQLiteProbe
    from .dataset_growth import Dataset, count_rows, grow
    from .reference.seed import DEFAULT_VOLUME  # the default volume only

    dataset = Dataset({**DEFAULT_VOLUME, **prodready_settings.volume})
    path = getattr(target, "database_path", None) or prodready_settings.sqlite
    probe = SQLiteProbe(path, prodready_settings.timeouts.query_s) if path else None
    try:
        if probe is not None:
            with statement_log.ignoring():
                await probe.open()
        dataset.before = await count_rows(probe)
        if prodready_settings.uses_reference or prodready_settings.allow_writes:
            await grow(target, dataset, tmp_path_factory.mktemp("prodready-volume"))
    except ProbeError:
        dataset.before = await count_rows(None)
    finally:
        if probe is not None:
            await probe.close()
    return dataset


@pytest.fixture
def perf_dataset(request: pytest.FixtureRequest, prodready_dataset: Dataset, readiness_figures: dict[str, Any]) -> Dataset:
    """The dataset this gate runs on, reported with the case; a near-empty target measured read-only is a warning."""
    from . import case_warnings

    readiness_figures["dataset"] = prodready_dataset.to_figures()
    warning = prodready_dataset.warning()
    if warning:
        case_warnings.note(request.node, [warning])
    return prodready_dataset


@pytest.fixture(scope="session")
def expected_schema(prodready_settings: Settings) -> SchemaExpectation:
    """The schema the target must have: ``[tool.prodready.schema]``, else the reference schema."""
    from .checks.schema_expectation import reference_expectation

    return prodready_settings.schema or reference_expectation()


@pytest.fixture
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An empty folder for markdown documents a case syncs into the target."""
    yield tmp_path_factory.mktemp("corpus")


@pytest.fixture
def load_runner(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LoadHarness:
    """Runs locust for this test's ``@pytest.mark.load(...)``: ``load_runner.run("locustfiles/x.py", host=url)``.

    Locust runs headless in its own process group (never imported by
    pytest), bounded by ``duration`` and a request cap, against loopback
    hosts only (``--prodready-allow-remote-load`` lifts that).  After the
    test its figures are held against the marker's limits
    (``max_error_ratio``, ``p50_ms``, ``p95_ms``, ``p99_ms``, ``mean_ms``,
    ``min_rps``) and reported with the case.
    """
    _require("load", "load_runner (locust)")
    from .load.harness import harness_for

    def record(spec: LoadSpec, result: LoadResult, host: str) -> None:
        from . import systems

        request.node.stash[LOAD_KEY] = (spec, result)
        systems.note(figures(request.node), host)

    return harness_for(request.node, tmp_path_factory, record)


@pytest.fixture(scope="session")
def reference_app(
    pytestconfig: pytest.Config, prodready_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The reference service over HTTP on a free 127.0.0.1 port, stopped after the session.

    ``.base_url``; ``.api_key`` (no load test reaches its rate limit) and
    ``.limited_api_key`` (5 requests/s) are sent as ``X-API-Key``.
    """
    _require("http", "reference_app (the reference service over HTTP)")
    from .net.server import ServerStartError, reference_server

    with ExitStack() as stack:
        try:
            app = stack.enter_context(
                reference_server(tmp_path_factory.mktemp("reference-app"), volume=prodready_settings.volume or None)
            )
        except ServerStartError as exc:
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        redactor_of(pytestconfig).remember(app.api_key, app.limited_api_key)
        yield app


@pytest.fixture
def api_readiness(readiness_figures: dict[str, Any], prodready_settings: Settings) -> Iterator[ReadinessFactory]:
    """API readiness checks against any base URL: ``checks = api_readiness(url, key, routes)``.

    ``checks.assert_auth()`` (every route rejects a missing or wrong key,
    health needs none), ``assert_security_headers()`` (on every response
    seen), ``assert_problem_json()`` (RFC 7807 error bodies),
    ``assert_health()`` (each dependency with status and response time),
    ``assert_rate_limited(path, key)``; outcomes go into the case's figures.
    A method that can change data (POST, PUT, PATCH, DELETE) is sent with
    the valid key only under ``--prodready-allow-writes``.
    """
    _require("http", "api_readiness")
    from .load.readiness import ReadinessFactory

    timeouts = prodready_settings.timeouts
    factory = ReadinessFactory(
        readiness_figures, timeout_s=timeouts.query_s, connect_timeout_s=timeouts.connect_s,
        allow_writes=prodready_settings.allow_writes,
    )
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def canary_pair(
    pytestconfig: pytest.Config, prodready_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CanaryPair]:
    """The two services canary cases compare: ``--prodready-baseline-url`` and ``--prodready-target-url``.

    API keys come from ``PRODREADY_API_KEY`` (and ``PRODREADY_BASELINE_API_KEY``
    when the baseline's differs).  Without either URL: two identical embedded
    reference apps on loopback.  Override this fixture to compare other services.
    """
    _require("http", "canary_pair")
    from .canary.pair import PairError, embedded_pair, from_urls
    from .net.server import ServerStartError

    settings = prodready_settings
    try:
        pair = from_urls(settings.baseline_url, settings.target_url, os.environ)
    except PairError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    if pair is not None:
        yield pair
        return
    with ExitStack() as stack:
        try:
            pair = stack.enter_context(embedded_pair(tmp_path_factory.mktemp("canary"), settings.volume or None))
        except ServerStartError as exc:
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        redactor_of(pytestconfig).remember(pair.baseline.api_key, pair.candidate.api_key)
        yield pair


@pytest.fixture
def canary(
    request: pytest.FixtureRequest,
    prodready_settings: Settings,
    canary_pair: CanaryPair,
    prodready_clock: Clock,
    tmp_path_factory: pytest.TempPathFactory,
) -> CanaryRun:
    """Compares the candidate with the live baseline: ``canary.get("/search", {"q": "memory"})``.

    ``canary.compare(lambda http: http.get(...))`` sends the same request to
    both sides (``http`` is an ``httpx.Client`` on the side's base URL, with
    its API key) in interleaved blocks, A B, B A, ... per the test's
    ``@pytest.mark.canary(...)``, then compares p50 / p95 / p99 and the error
    rate with bootstrap intervals.  The case fails only when an interval lies
    wholly above its bound (default: p50 or p95 worse by more than
    ``--prodready-max-regression``, 10 %; the error rate 5 points higher);
    an undecided comparison is a warning, or a failure under
    ``--prodready-canary-inconclusive no-go``.
    """
    _require("http", "canary")
    from .canary.exclusive import one_at_a_time
    from .canary.canary_run import CanaryRun
    from .canary.spec import parse_canary
    from .limits import ThresholdError
    from .load.harness import terminal_reporter

    marker = request.node.get_closest_marker("canary")
    try:
        spec = parse_canary(
            marker.kwargs if marker is not None else {}, request.node.nodeid,
            default_bound_pct=prodready_settings.max_regression_pct, inconclusive=prodready_settings.canary_inconclusive,
        )
    except ThresholdError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None

    def record(outcome: CaseOutcome) -> None:
        request.node.stash[CANARY_KEY] = outcome

    from . import systems

    systems.note(figures(request.node), canary_pair.baseline.url, canary_pair.candidate.url)
    report, redactor = terminal_reporter(request.config), redactor_of(request.config)
    return CanaryRun(
        canary_pair, spec, timeouts=prodready_settings.timeouts,
        allow_remote=bool(request.config.getoption("prodready_allow_remote_load", default=False)),
        clock=prodready_clock, record=record, progress=lambda line: report(redactor.text(line)),
        exclusive=lambda: one_at_a_time(tmp_path_factory.getbasetemp().parent / CANARY_LOCK_FILE),
    )


def fixture_systems(item: pytest.Item) -> list[str]:
    """What this case's ``target`` and ``sqlite_db`` fixtures pointed at, when the plugin built them."""
    found, values = [], getattr(item, "funcargs", {})
    target = values.get("target")  # most cases use neither fixture: no stash look-up, no import for them
    if target is not None and BUILT_TARGET_KEY in item.config.stash and target is item.config.stash[BUILT_TARGET_KEY]:
        from . import systems

        found.append(systems.target_factory(settings_of(item.config).target))
    probe = values.get("sqlite_db")
    if probe is not None:  # a case without it does not import aiosqlite for the check
        from . import systems
        from .checks.sqlite import SQLiteProbe

        if isinstance(probe, SQLiteProbe):
            found.append(systems.describe_store(probe))
    return found
