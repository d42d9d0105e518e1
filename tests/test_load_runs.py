"""Load runs for real: locust against the reference HTTP app, gates that fail, no orphans.

Interrupted load runs (Ctrl-C, SIGTERM, a timeout) are tested in ``test_interrupts.py``.

These start servers and locust processes; each run is short (a few
seconds) and bounded.  Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import httpx
import psutil
import pytest

from pytest_prodready.load.readiness import ApiReadiness
from pytest_prodready.load.locust_process import API_KEY_ENV, LoadPlan, run_load
from pytest_prodready.net.server import reference_server
from pytest_prodready.load.load_spec import parse_load
from pytest_prodready.reference.app import EXAMPLE_ROUTES

from .sessions import SUITES

# Timing-sensitive runs share one xdist worker (--dist loadgroup), so a 1000-user locust run never
# loads the CPUs under a canary comparison that is judged on a few milliseconds.
pytestmark = pytest.mark.xdist_group("timing")

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = SUITES / "load" / "locustfiles" / "memory_api.py"
SMALL_VOLUME = {"sessions": 20, "memories": 100, "documents": 10}
INNER_TOML = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready]
volume = { sessions = 20, memories = 100, documents = 10 }
"""
QUICK = "env={'MEMORY_API_THINK_S': '0.05,0.2'}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    with reference_server(tmp_path_factory.mktemp("app"), volume=SMALL_VOLUME) as running:
        yield running


def live_processes_mentioning(text: str) -> list[psutil.Process]:
    """Running (not zombie) processes whose command line contains ``text``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and text in " ".join(proc.info["cmdline"] or ()):
                found.append(proc)
        except psutil.Error:
            continue
    return [p for p in found if p.pid != os.getpid()]


# API readiness against a running app
def test_api_readiness_passes_on_the_reference_app(app):
    checks = ApiReadiness(app.base_url, app.api_key, EXAMPLE_ROUTES)
    try:
        checks.assert_auth()
        checks.assert_problem_json()
        checks.assert_health()
        checks.assert_security_headers()
        checks.assert_rate_limited("/sessions/example-session", app.limited_api_key, requests=20)
    finally:
        checks.close()


class DropHeader(httpx.HTTPTransport):
    """A variant of the app that forgets one security header on every response."""

    def __init__(self, header: str):
        super().__init__()
        self.header = header

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        del response.headers[self.header]
        return response


def test_api_readiness_fails_on_a_missing_security_header(app):
    figures: dict = {}
    client = httpx.Client(base_url=app.base_url, transport=DropHeader("x-frame-options"))
    checks = ApiReadiness(app.base_url, app.api_key, EXAMPLE_ROUTES, client=client, figures=figures)
    with pytest.raises(AssertionError, match="header x-frame-options missing"):
        checks.assert_security_headers()
    checks.close()
    assert figures["api_readiness"]["security_headers"]["passed"] is False


# the runner itself
def test_request_cap_stops_a_two_process_run_early(app, tmp_path):
    spec = parse_load({"users": 20, "spawn_rate": 20, "duration": "30s", "max_requests": 300, "processes": 2}, "t")
    env = {API_KEY_ENV: app.api_key, "MEMORY_API_THINK_S": "0.05,0.1"}
    plan = LoadPlan(LOCUSTFILE, app.base_url, spec, tmp_path, env)
    started = time.monotonic()
    result = run_load(plan)
    assert time.monotonic() - started < 25
    assert result.stopped_by == "request cap"
    # with workers, the first one to make its share (150) ends the run for all
    assert 150 <= result.requests <= 400 and result.failures == 0
    assert not live_processes_mentioning(str(tmp_path))


# through pytest
def test_the_shipped_100_session_case_passes(pytester: pytest.Pytester):
    case = SUITES / "load" / "test_load.py"
    out = pytester.path
    result = pytester.runpytest_subprocess(
        f"{case}::test_100_concurrent_sessions", "-p", "no:cacheprovider",
        "--prodready-json", str(out / "r.json"), "--prodready-html", str(out / "r.html"),
    )
    result.assert_outcomes(passed=1)
    result.stdout.re_match_lines([r"load [\d,]+ req, [\d.,]+ req/s, p95 \d+ ms, errors \d+\.\d %", r"READINESS: GO.*"])


VARIANTS = f"""
import pytest
from pytest_prodready.net.server import reference_server

LOCUSTFILE = {str(LOCUSTFILE)!r}

@pytest.fixture(scope="module")
def faulty():
    with reference_server(fault_ratio=0.1, volume={SMALL_VOLUME}) as app:
        yield app

@pytest.fixture(scope="module")
def slow():
    with reference_server(delay_ms=200, volume={SMALL_VOLUME}) as app:
        yield app

@pytest.mark.load(users=10, spawn_rate=10, duration="5s", max_error_ratio=0.01)
def test_errors(load_runner, faulty):
    load_runner.run(LOCUSTFILE, host=faulty.base_url, api_key=faulty.api_key, {QUICK})

@pytest.mark.load(users=10, spawn_rate=10, duration="5s", p95_ms=150)
def test_latency(load_runner, slow):
    load_runner.run(LOCUSTFILE, host=slow.base_url, api_key=slow.api_key, {QUICK})
"""


def test_faulty_and_slow_variants_fail_their_gates_with_the_measured_figures(pytester: pytest.Pytester):
    pytester.makepyprojecttoml(INNER_TOML)
    pytester.makepyfile(test_variants=VARIANTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.re_match_lines([
        # 10 % of requests fail at the server; a failed session create makes later calls of that user fail too
        # the verdict's line names the system it ran against: "test_errors [ran against http://...] - ..."
        r".*test_errors \[ran against http://127\.0\.0\.1:\d+\] - error ratio (9|[1-4]\d)\.\d % > 1 % \([\d,]+ req, [\d.]+ req/s\)",
        r".*test_latency \[ran against http://127\.0\.0\.1:\d+\] - p95 2\d\d ms > 150 ms \([\d,]+ req, [\d.]+ req/s\)",
    ])


def test_a_non_loopback_host_is_refused_before_any_connection(pytester: pytest.Pytester):
    pytester.makepyfile(f"""
        import pytest

        @pytest.mark.load(users=1, duration=1)
        def test_remote(load_runner):
            load_runner.run({str(LOCUSTFILE)!r}, host="http://10.0.0.1:8080")
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--basetemp={pytester.path / 'bt'}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*refusing to connect to '10.0.0.1'*--prodready-allow-remote-load*"])
    assert not list((pytester.path / "bt").rglob("locust.out"))  # locust never started


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("load(users=5, p95=10)", "*test_x.py::test_load: unknown load key 'p95'*"),
        ("load(users=0)", "*test_x.py::test_load: users: expected a whole number >= 1, got 0*"),
        ("load(users=5)", "*@pytest.mark.load(users=...) needs the 'load_runner' fixture*"),
    ],
)
def test_a_misused_load_marker_stops_the_run_before_it_starts(pytester: pytest.Pytester, marker, message):
    fixture = "load_runner" if "p95" in marker or "=0" in marker else ""
    pytester.makepyprojecttoml(INNER_TOML)
    pytester.makepyfile(test_x=f"""
        import pytest

        @pytest.mark.{marker}
        def test_load({fixture}):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


WARN_LOAD = f"""
import pytest
from pytest_prodready.net.server import reference_server

@pytest.fixture(scope="module")
def slow():
    with reference_server(delay_ms=200, volume={SMALL_VOLUME}) as app:
        yield app

@pytest.mark.load(users=5, spawn_rate=5, duration="3s", p95_ms=150, severity="warn")
def test_latency_warns(load_runner, slow):
    load_runner.run({str(LOCUSTFILE)!r}, host=slow.base_url, api_key=slow.api_key, {QUICK})
"""
ESCALATING_PROFILE = """
[tool.prodready.profiles.production]
escalate_warnings = true
"""
P95_MISS = r".*p95 [2-9]\d\d(,\d\d\d)? ms > 150 ms.*"


@pytest.mark.parametrize("escalate", [False, True], ids=["warn", "escalated"])
def test_a_warn_severity_load_miss_is_a_warning_and_a_failure_under_escalate_warnings(pytester: pytest.Pytester, escalate):
    """Real locust against a reference app 200 ms slow: the p95 limit of 150 ms is missed at warn level."""
    pytester.makepyprojecttoml(INNER_TOML + (ESCALATING_PROFILE if escalate else ""))
    pytester.makepyfile(test_warn_load=WARN_LOAD)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    case = json.loads((pytester.path / "reports" / "readiness.json").read_text())["cases"][0]
    if escalate:
        assert result.ret == 1, result.stdout.str()
        result.assert_outcomes(failed=1)
        result.stdout.re_match_lines([r".*warnings escalated to failures \(escalate_warnings = true\).*", r"READINESS: NO-GO.*"])
        assert case["outcome"] == "failed"
    else:
        assert result.ret == 0, result.stdout.str()
        result.stdout.re_match_lines([P95_MISS, r"READINESS: GO.*"])
        assert case["outcome"] == "warned"
    assert re.search(P95_MISS, result.stdout.str())
