"""The fixtures users see; ``pytest --fixtures`` shows these docstrings.

A setup problem fails the case with one line: inside an ``except`` block
that is ``raise pytest.fail.Exception(..., pytrace=False) from None``, or
pytest would print the original error again ("during handling of ...").
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_asyncio

from .canary.exclusive import one_at_a_time
from .canary.pair import CanaryPair, PairError, embedded_pair, from_urls
from .canary.runner import CanaryRun
from .canary.spec import parse_canary
from .checks.assertions import Consistency
from .checks.sqlite import ProbeError, SQLiteProbe
from .gates.evaluation import GateOutcome
from .gates.latency import DEFAULT_CLOCK, Clock, LatencyRecorder, measure_timer_overhead
from .gates.thresholds import ThresholdError
from .keys import CANARY_KEY, FIGURES_KEY, GATE_KEY, OVERHEAD_KEY, REDACTOR_KEY, SETTINGS_KEY
from .load.harness import LoadHarness, harness_for, terminal_reporter
from .load.readiness import ReadinessFactory
from .load.server import RunningServer, ServerStartError, reference_server
from .markers import gate_arguments
from .rule_items import open_graphs
from .settings import Settings
from .target import MemoryServiceTarget, TargetContext, TargetLoadError, build_target

CANARY_LOCK_FILE = "prodready-canary.lock"  # shared by the xdist workers of a run (their basetemps' parent)


@pytest.fixture(scope="session")
def prodready_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved readiness settings: CLI options over ``[tool.prodready]``."""
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture
def prodready_clock() -> Clock:
    """The clock performance gates read, in nanoseconds (``time.perf_counter_ns``).

    Override this fixture to inject a fake clock in tests of timing logic.
    """
    return DEFAULT_CLOCK


@pytest.fixture
def latency(request: pytest.FixtureRequest, prodready_settings: Settings, prodready_clock: Clock) -> LatencyRecorder:
    """Records timed samples for the test's ``@pytest.mark.perf_gate``.

    ``for _ in latency.samples(): with latency.measure(): call()`` runs the
    gate's warm-up and sample counts; after the test the samples are checked
    against the gate's thresholds and the test fails with the percentile that
    missed (e.g. ``p99 63.1 ms > 50 ms (n=200; ...)``).
    """
    marker = request.node.get_closest_marker("perf_gate")
    name, inline = gate_arguments(marker.args, marker.kwargs) if marker else (None, {})
    try:
        spec = prodready_settings.gate(name, inline, request.node.nodeid)
    except ThresholdError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    recorder = LatencyRecorder(clock=prodready_clock, samples=spec.samples, warmup=spec.warmup)
    recorder.gate = spec
    overheads = request.config.stash.setdefault(OVERHEAD_KEY, {})
    if prodready_clock not in overheads:
        overheads[prodready_clock] = measure_timer_overhead(prodready_clock, rounds=200)
    recorder.timer_overhead_ns = overheads[prodready_clock]
    request.node.stash[GATE_KEY] = (spec, recorder)
    return recorder


@pytest.fixture
def readiness_figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A dict whose contents are attached to this case in the verdict and reports."""
    return request.node.stash.setdefault(FIGURES_KEY, {})


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
    return Consistency(readiness_figures, timeouts=prodready_settings.timeouts, graphs=open_graphs(request.config))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def target(
    prodready_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MemoryServiceTarget]:
    """The system under test, behind the :class:`~pytest_prodready.target.MemoryServiceTarget` contract.

    By default the embedded reference service on a fresh SQLite file in a
    temporary folder; ``--prodready-target module:factory`` builds yours.
    """
    context = TargetContext(
        workdir=tmp_path_factory.mktemp("prodready-target"),
        options={"volume": dict(prodready_settings.volume)} if prodready_settings.volume else {},
    )
    try:
        built = await build_target(prodready_settings.target, context)
    except TargetLoadError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    try:
        yield built
    finally:
        await built.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sqlite_db(prodready_settings: Settings, target: MemoryServiceTarget) -> AsyncIterator[SQLiteProbe]:
    """A read-only probe of the SQLite database behind the target.

    ``--prodready-sqlite PATH`` points it at an existing file instead; the
    file is opened with ``mode=ro`` and never written.
    """
    path = prodready_settings.sqlite or getattr(target, "database_path", None)
    if path is None:
        pytest.fail("no SQLite database to check: the target has none; pass --prodready-sqlite PATH", pytrace=False)
    probe = SQLiteProbe(path, prodready_settings.timeouts.query_s)
    try:
        await probe.open()
    except ProbeError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    try:
        yield probe
    finally:
        await probe.close()


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
    return harness_for(request.node, tmp_path_factory)


@pytest.fixture(scope="session")
def reference_app(
    pytestconfig: pytest.Config, prodready_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The reference service over HTTP on a free 127.0.0.1 port, stopped after the session.

    ``.base_url``; ``.api_key`` (no load test reaches its rate limit) and
    ``.limited_api_key`` (5 requests/s) are sent as ``X-API-Key``.
    """
    with ExitStack() as stack:
        try:
            app = stack.enter_context(
                reference_server(tmp_path_factory.mktemp("reference-app"), volume=prodready_settings.volume or None)
            )
        except ServerStartError as exc:
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        pytestconfig.stash[REDACTOR_KEY].remember(app.api_key, app.limited_api_key)
        yield app


@pytest.fixture
def api_readiness(readiness_figures: dict[str, Any], prodready_settings: Settings) -> Iterator[ReadinessFactory]:
    """API readiness checks against any base URL: ``checks = api_readiness(url, key, routes)``.

    ``checks.assert_auth()`` (every route rejects a missing or wrong key,
    health needs none), ``assert_security_headers()`` (on every response
    seen), ``assert_problem_json()`` (RFC 7807 error bodies),
    ``assert_health()`` (each dependency with status and response time),
    ``assert_rate_limited(path, key)``; outcomes go into the case's figures.
    """
    timeouts = prodready_settings.timeouts
    factory = ReadinessFactory(readiness_figures, timeout_s=timeouts.query_s, connect_timeout_s=timeouts.connect_s)
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
        pytestconfig.stash[REDACTOR_KEY].remember(pair.baseline.api_key, pair.candidate.api_key)
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
    marker = request.node.get_closest_marker("canary")
    try:
        spec = parse_canary(
            marker.kwargs if marker is not None else {}, request.node.nodeid,
            default_bound_pct=prodready_settings.max_regression_pct, inconclusive=prodready_settings.canary_inconclusive,
        )
    except ThresholdError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None

    def record(outcome: GateOutcome) -> None:
        request.node.stash[CANARY_KEY] = outcome

    report, redactor = terminal_reporter(request.config), request.config.stash[REDACTOR_KEY]
    return CanaryRun(
        canary_pair, spec, timeouts=prodready_settings.timeouts,
        allow_remote=bool(request.config.getoption("prodready_allow_remote_load", default=False)),
        clock=prodready_clock, record=record, progress=lambda line: report(redactor.text(line)),
        exclusive=lambda: one_at_a_time(tmp_path_factory.getbasetemp().parent / CANARY_LOCK_FILE),
    )
