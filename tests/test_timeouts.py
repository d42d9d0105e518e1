"""A dependency that refuses or never answers fails its check within the timeout, and the run goes on.

Two loopback endpoints stand in for a broken production dependency: a port
where nothing listens (connection refused) and a socket that accepts
connections and never writes a byte.  Neo4j stores declared in
``[tool.prodready.consistency]`` and the API readiness checks are pointed at
both with ``connect_timeout = query_timeout = 2``; each case must fail in
about 2 s with a one-line cause, and a trivial case after them must pass.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Iterator

import pytest

from pytest_prodready.timeouts import Timeouts, TimeoutSettingError, parse_timeouts

TIMEOUT_S = 2
MARGIN_S = 1.5


def refused_port() -> int:
    """A loopback port that was free a moment ago, so a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback socket that accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for connection in accepted:
        connection.close()


def project(refused: int, silent: int) -> str:
    return f"""
[tool.prodready]
connect_timeout = {TIMEOUT_S}
query_timeout = {TIMEOUT_S}

[tool.prodready.consistency.stores.refused]
neo4j = "bolt://127.0.0.1:{refused}"
[tool.prodready.consistency.stores.silent]
neo4j = "bolt://127.0.0.1:{silent}"

[tool.prodready.consistency.rules.graph_refused]
check = "orphaned_relationships"
store = "refused"
[tool.prodready.consistency.rules.graph_silent]
check = "orphaned_relationships"
store = "silent"
"""


def cases(refused: int, silent: int) -> str:
    return f"""
import pytest

@pytest.mark.api_readiness(check="health")
@pytest.mark.parametrize("port", [{refused}, {silent}], ids=["refused", "silent"])
def test_api(api_readiness, port):
    api_readiness(f"http://127.0.0.1:{{port}}", "key", [("GET", "/sessions/x")]).assert_health()

@pytest.mark.smoke(category="after")
def test_zz_trivial_case_still_runs():
    pass
"""


def test_refused_and_silent_dependencies_fail_within_the_timeout(pytester: pytest.Pytester, silent_port: int):
    refused = refused_port()
    pytester.makepyprojecttoml(project(refused, silent_port))
    pytester.makepyfile(test_deps=cases(refused, silent_port))
    started = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", timeout=120)
    elapsed = time.monotonic() - started
    result.assert_outcomes(failed=4, passed=1)
    document = json.loads((pytester.path / "reports" / "readiness.json").read_text())
    by_name = {case["nodeid"].rsplit("::", 1)[-1]: case for case in document["cases"]}
    assert by_name["test_zz_trivial_case_still_runs"]["outcome"] == "passed"
    failed = {name: case for name, case in by_name.items() if case["outcome"] == "failed"}
    assert sorted(failed) == ["graph_refused", "graph_silent", "test_api[refused]", "test_api[silent]"]
    for name, case in failed.items():
        port = str(refused if "refused" in name else silent_port)
        assert case["duration_s"] < TIMEOUT_S + MARGIN_S, (name, case["duration_s"])
        assert "\n" not in case["message"] and f"127.0.0.1:{port}" in case["message"], (name, case["message"])
    assert f"no answer within {TIMEOUT_S} s (ReadTimeout)" in failed["test_api[silent]"]["message"]
    assert "cannot connect" in failed["test_api[refused]"]["message"]
    print({name: round(case["duration_s"], 2) for name, case in failed.items()}, f"run {elapsed:.1f} s")


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True, "5", 10**400])
def test_a_timeout_that_is_not_seconds_above_zero_is_refused(value):
    with pytest.raises(TimeoutSettingError, match=r"^where: key 'query_timeout': expected a number of seconds > 0"):
        parse_timeouts({"query_timeout": value}, "where")


def test_timeouts_default_to_10_and_30_seconds():
    assert parse_timeouts({}, "where") == Timeouts(10.0, 30.0)
