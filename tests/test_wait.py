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

from pytest_prodready.load.loopback import RemoteHostError
from pytest_prodready.wait import Status, http_health, neo4j_connects, sqlite_answers, wait_until_ready


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def healthy_after(fake: FakeTime, seconds: float):
    return lambda timeout_s: Status(fake.now >= seconds, "HTTP 200" if fake.now >= seconds else "HTTP 503")


def test_polls_with_backoff_until_healthy():
    fake, lines = FakeTime(), []
    result = wait_until_ready([("http", healthy_after(fake, 3.0))], 120, clock=fake.clock, sleep=fake.sleep,
                              progress=lines.append)
    assert (result.ready, result.attempts, fake.sleeps) == (True, 5, [0.25, 0.5, 1.0, 2.0])
    assert result.last_status == "http: HTTP 200"
    assert lines[0] == "waiting for the target: http: HTTP 503 (0.0 s of 120 s)"


def test_gives_up_at_the_deadline_and_never_sleeps_past_it():
    fake = FakeTime()
    result = wait_until_ready([("http", healthy_after(fake, 99.0))], 3, clock=fake.clock, sleep=fake.sleep)
    assert not result.ready and fake.now == pytest.approx(3.0)
    assert result.reason() == "target never became ready within 3.0 s (last status: http: HTTP 503)"


def test_every_probe_must_be_healthy_at_once():
    fake = FakeTime()
    probes = [("http", healthy_after(fake, 1.0)), ("sqlite", healthy_after(fake, 2.0))]
    result = wait_until_ready(probes, 10, clock=fake.clock, sleep=fake.sleep)
    assert result.ready and fake.now >= 2.0


def test_a_remote_health_url_is_refused_unless_allowed():
    with pytest.raises(RemoteHostError, match="refusing to send load to '203.0.113.9'"):
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
