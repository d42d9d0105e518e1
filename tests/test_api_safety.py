"""The API readiness checks never send a data-changing method with the valid key (unless writes are allowed).

A real loopback service (stdlib ``http.server`` in a thread) records every
request the checks send through the plugin's ``api_readiness`` fixture in a
real pytest session.  It answers 200 to everything, as a careless service
would, so a check that sent ``DELETE /orders`` with the key would have
deleted there.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

VALID_KEY = "valid-key-5f1e"
DATA_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
ROUTES = [("GET", "/orders"), ("POST", "/orders"), ("PUT", "/orders/1"), ("PATCH", "/orders/1"), ("DELETE", "/orders/1")]

CASES = f"""
import pytest

ROUTES = {ROUTES!r}

@pytest.fixture
def checks(api_readiness, request):
    return api_readiness(request.config.getoption("--prodready-target-url"), {VALID_KEY!r}, ROUTES)

@pytest.mark.api_readiness(check="authentication")
def test_auth(checks):
    checks.assert_auth()

@pytest.mark.api_readiness(check="security_headers")
def test_headers(checks):
    checks.assert_security_headers()

@pytest.mark.api_readiness(check="error_format")
def test_problem_json(checks):
    checks.assert_problem_json()

@pytest.mark.api_readiness(check="health")
def test_health(checks):
    checks.assert_health()

@pytest.mark.api_readiness(check="rate_limiting")
def test_rate_limit(checks):
    checks.assert_rate_limited("/orders", {VALID_KEY!r}, requests=3)
"""


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 with a JSON body to every method, and writes down (method, path, key)."""

    seen: list[tuple[str, str, str | None]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get("X-API-Key")))
        body = json.dumps({"status": "healthy", "dependencies": {"db": {"status": "healthy", "response_time_ms": 1}}})
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body.encode())

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recording_service() -> Iterator[tuple[str, list]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Recording", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def run_checks(project, url: str, *options: str) -> pytest.RunResult:
    pytester = project()
    pytester.makepyfile(test_api=CASES)
    return pytester.runpytest("-p", "no:cacheprovider", "--prodready-target-url", url, *options)


def writes_with_the_key(seen: list[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    return [(method, path) for method, path, key in seen if method in DATA_CHANGING and key == VALID_KEY]


def test_no_data_changing_request_carries_the_valid_key(project, recording_service):
    url, seen = recording_service
    result = run_checks(project, url)
    # the careless service fails auth (answers without a key) and headers; what matters is what was sent
    assert len(seen) > 20
    assert {method for method, _, _ in seen} >= DATA_CHANGING  # each write route was probed, keyless
    assert writes_with_the_key(seen) == []
    assert ("TRACE", "/orders", VALID_KEY) in seen  # the "wrong method" probe
    assert result.ret == 1


def test_allow_writes_lets_the_write_probes_carry_the_key(project, recording_service):
    url, seen = recording_service
    run_checks(project, url, "--prodready-allow-writes")
    sent = writes_with_the_key(seen)
    assert {("POST", "/orders"), ("PUT", "/orders/1"), ("PATCH", "/orders/1"), ("DELETE", "/orders/1")} <= set(sent)
