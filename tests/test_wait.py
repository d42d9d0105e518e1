"""Wait-for-ready: the polling loop on a fake clock, and whole runs against a slow-starting server and Neo4j.

The Neo4j runs use a real server (``neo4j_uri`` in tests/conftest.py); they never skip.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from pytest_prodready.net.loopback import RemoteHostError
from pytest_prodready.wait import (
    MIN_PROBE_S,
    PROBE_TIMEOUT_S,
    Status,
    http_health,
    neo4j_connects,
    sqlite_answers,
    wait_until_ready,
)

from .clocks import ManualClock


def healthy_after(fake: ManualClock, seconds: float):
    return lambda timeout_s: Status(fake.seconds() >= seconds, "HTTP 200" if fake.seconds() >= seconds else "HTTP 503")


def test_polls_with_backoff_until_healthy():
    fake, lines = ManualClock(), []
    result = wait_until_ready([("http", healthy_after(fake, 3.0))], 120, clock=fake.seconds, sleep=fake.sleep,
                              progress=lines.append)
    assert (result.ready, result.attempts, fake.sleeps) == (True, 5, [0.25, 0.5, 1.0, 2.0])
    assert result.last_status == "http: HTTP 200"
    assert lines[0] == "waiting for the target: http: HTTP 503 (0.0 s of 120 s)"


def test_gives_up_at_the_deadline_and_never_sleeps_past_it():
    fake = ManualClock()
    result = wait_until_ready([("http", healthy_after(fake, 99.0))], 3, clock=fake.seconds, sleep=fake.sleep)
    assert not result.ready and fake.seconds() == pytest.approx(3.0)
    assert result.reason() == "target never became ready within 3.0 s (last status: http: HTTP 503)"


def test_every_probe_must_be_healthy_at_once():
    fake = ManualClock()
    probes = [("http", healthy_after(fake, 1.0)), ("sqlite", healthy_after(fake, 2.0))]
    result = wait_until_ready(probes, 10, clock=fake.seconds, sleep=fake.sleep)
    assert result.ready and fake.seconds() >= 2.0


def test_probes_that_use_their_whole_timeout_end_the_wait_at_the_deadline():
    """Four probes that never answer (each takes all the time it is given) and 3 s to wait.

    Each probe is given the time left when it starts, so the wait ends at the deadline plus the
    short last looks, not at the deadline plus one whole timeout per probe (3 + 4 x 2 s before).
    """
    fake, given = ManualClock(), []

    def never_answers(timeout_s: float) -> Status:
        given.append(timeout_s)
        fake.spend_s(timeout_s)
        return Status(False, "no answer")

    result = wait_until_ready([(name, never_answers) for name in ("http", "baseline", "sqlite", "neo4j")], 3,
                              clock=fake.seconds, sleep=fake.sleep)
    assert not result.ready
    assert given[:2] == [2.0, 1.0] and max(given) <= PROBE_TIMEOUT_S
    assert result.waited_s <= 3 + 4 * MIN_PROBE_S + 1e-9, (result.waited_s, given)


def test_a_remote_health_url_is_refused_unless_allowed():
    with pytest.raises(RemoteHostError, match="refusing to connect to '203.0.113.9'"):
        http_health("http://203.0.113.9:8080")
    assert http_health("http://203.0.113.9:8080", allow_remote=True) is not None


def test_the_sqlite_probe_opens_read_only_and_answers(tmp_path):
    path = tmp_path / "app.db"
    assert not sqlite_answers(path)(1.0).healthy
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    assert sqlite_answers(path)(1.0) == Status(True, "answers")


class SlowStart(BaseHTTPRequestHandler):
    """/health answers 503 to the first ``unhealthy_polls`` requests, then 200.

    Counting polls, not seconds, keeps the test independent of how long a
    busy machine takes to start pytest.
    """

    def do_GET(self) -> None:
        self.server.polls += 1
        ready = self.server.polls > self.server.unhealthy_polls
        self.send_response(200 if ready else 503)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowStart)
    server.polls, server.unhealthy_polls = 0, 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


SMOKE = '''
import pytest


@pytest.mark.smoke(category="checks")
@pytest.mark.parametrize("case", range(3))
def test_check(case):
    pass
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_checks=SMOKE)
    pytester.makepyprojecttoml('[tool.prodready.require.smoke]\nchecks = 3\n')
    return pytester


def run(project: pytest.Pytester, server: ThreadingHTTPServer, *args: str) -> tuple[pytest.RunResult, float]:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.monotonic()
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-target-url", url, *args)
    return result, time.monotonic() - started


def test_a_run_waits_for_a_slow_target_then_passes(project, slow_server):
    slow_server.unhealthy_polls = 3
    result, _ = run(project, slow_server, "--prodready-wait", "30s")
    assert slow_server.polls == 4
    assert result.ret == 0
    result.stdout.fnmatch_lines(["waiting for the target: http http://127.0.0.1:*/health: HTTP 503 *",
                                 "target ready after * s (http http://127.0.0.1:*/health: HTTP 200)",
                                 "READINESS: GO (3 of 3 readiness cases passed, at least 3 required)"])


@pytest.mark.parametrize("workers", [(), ("-n", "2")])
def test_a_target_that_never_turns_healthy_is_one_no_go_within_the_deadline(project, slow_server, workers):
    slow_server.unhealthy_polls = 10**9
    result, elapsed = run(project, slow_server, "--prodready-wait", "3s", *workers)
    assert result.ret == 1
    output = result.stdout.str()
    result.stdout.fnmatch_lines([
        "  reason: target never became ready within 3.0 s (last status: http http://127.0.0.1:*/health: HTTP 503)",
        "READINESS: NO-GO (0 of 0 readiness cases passed)",
    ])
    assert output.count("reason:") == 1 and "PASSED" not in output and "FAILED" not in output
    assert elapsed < 3 + 12  # the deadline plus interpreter start-up and xdist workers on a busy machine
    document = json.loads((project.path / "reports" / "readiness.json").read_text())
    assert document["verdict"]["blocked"] and document["cases"] == []


def test_wait_without_anything_to_poll_is_a_usage_error(project):
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-wait", "3s")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--prodready-wait: nothing to poll*"])


def free_loopback_port() -> int:
    """A port nothing listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_neo4j_probe_answers_within_its_timeout_when_the_port_accepts_but_never_speaks():
    with socket.socket() as silent:  # the kernel completes the TCP handshake; nothing ever reads or writes
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        status = neo4j_connects(f"bolt://127.0.0.1:{silent.getsockname()[1]}")(1.0)
        elapsed = time.monotonic() - started
    assert status == Status(False, "ServiceUnavailable")
    assert elapsed < 1 + 5  # the driver's own default is 60 s


def test_a_run_waits_for_neo4j_then_runs_the_cases(project, neo4j_uri):
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-wait", "60s",
                                          "--prodready-neo4j-uri", neo4j_uri)
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"target ready after * s (neo4j {neo4j_uri}: connected)", "READINESS: GO (3 of 3 readiness cases passed, at least 3 required)"])
    result.assert_outcomes(passed=3)


def test_a_neo4j_that_never_answers_is_one_no_go_within_the_deadline(project, monkeypatch):
    monkeypatch.setenv("PRODREADY_NEO4J_USER", "neo4j")
    monkeypatch.setenv("PRODREADY_NEO4J_PASSWORD", "s3cret-never-shown")
    uri = f"bolt://127.0.0.1:{free_loopback_port()}"
    started = time.monotonic()
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-wait", "3s", "--prodready-neo4j-uri", uri)
    elapsed = time.monotonic() - started
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        f"waiting for the target: neo4j {uri}: ServiceUnavailable *",
        f"  reason: target never became ready within 3.0 s (last status: neo4j {uri}: ServiceUnavailable)",
        "READINESS: NO-GO (0 of 0 readiness cases passed)",
    ])
    output = result.stdout.str() + result.stderr.str()
    assert output.count("reason:") == 1 and "PASSED" not in output and "FAILED" not in output
    assert "Traceback" not in output and "s3cret-never-shown" not in output
    assert elapsed < 3 + 15  # the deadline plus interpreter start-up on a busy machine
    document = json.loads((project.path / "reports" / "readiness.json").read_text())
    assert document["verdict"]["blocked"] and document["cases"] == []


# --- probe safety: paths, redirects, userinfo, plain seconds -------------------------------------------------------

@pytest.mark.parametrize("name", ["run#1.db", "what?.db", "100%.db", "with space.db", "données é.db", "a%20b.db"])
def test_the_sqlite_probe_opens_exactly_the_named_file_and_creates_nothing(tmp_path, name):
    """``file:{path}?mode=ro`` unquoted opened ``run`` read-write-create for ``run#1.db`` and said "answers"."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / name
    assert not sqlite_answers(path)(1.0).healthy, "a missing file is not ready"
    assert list(folder.iterdir()) == [], "the probe created a file"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    before = path.read_bytes()
    assert sqlite_answers(path)(1.0) == Status(True, "answers")
    assert sorted(p.name for p in folder.iterdir()) == [name] and path.read_bytes() == before


class Recorder(BaseHTTPRequestHandler):
    """Answers ``server.answer`` (status, headers) and keeps every request line and its headers."""

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        status, headers = self.server.answer
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen, server.answer = [], (200, {})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


AUDITED: list[tuple[str, tuple]] = []
_AUDITING = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if _AUDITING.is_set() and event in ("socket.connect", "socket.getaddrinfo"):
        AUDITED.append((event, args))


@pytest.fixture
def network_calls() -> Iterator[list[tuple[str, tuple]]]:
    """Every socket.connect and socket.getaddrinfo this process makes while the test runs (audit hooks stay)."""
    if not getattr(_audit, "installed", False):
        import sys

        sys.addaudithook(_audit)
        _audit.installed = True
    AUDITED.clear()
    _AUDITING.set()
    try:
        yield AUDITED
    finally:
        _AUDITING.clear()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_the_http_probe_never_follows_a_redirect(recorder, network_calls, status):
    """A loopback /health answering 302 to a remote address was followed and reported ready."""
    recorder.answer = (status, {"Location": "http://10.255.255.1/health"})
    port = recorder.server_address[1]
    result = http_health(f"http://127.0.0.1:{port}")(1.0)
    assert not result.healthy
    assert result.detail == f"HTTP {status} (redirect not followed)"
    assert [path for path, _ in recorder.seen] == ["/health"]
    touched = [args for _, args in network_calls]
    assert not any("10.255.255.1" in str(args) for args in touched), touched


def test_the_http_probe_never_sends_userinfo_to_name_resolution_or_the_server(recorder, network_calls):
    port = recorder.server_address[1]
    result = http_health(f"http://probe-user:s3cret-pw@127.0.0.1:{port}")(1.0)
    assert result == Status(True, "HTTP 200")
    calls = [str(args) for _, args in network_calls]
    assert calls and not any("s3cret-pw" in call or "probe-user" in call for call in calls), calls
    (path, headers), = recorder.seen
    assert path == "/health" and "Authorization" not in headers


def test_wait_accepts_plain_seconds(project, slow_server):
    result, _ = run(project, slow_server, "--prodready-wait", "120")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["target ready after * s (http http://127.0.0.1:*/health: HTTP 200)"])
