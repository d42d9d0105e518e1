"""The live canary inside real pytest sessions (pytester): options, marker checks, and whole comparisons.

The comparisons run against two tiny HTTP servers this test starts on
127.0.0.1 (``http.server`` in a thread); the inner session's ``canary_pair``
is overridden to point at them and its ``prodready_clock`` is a stepping
fake, so every request "takes" exactly 1 ms whatever the machine's speed.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

# In-process runs forget every module first imported inside them: import the heavy ones
# here, once (numpy's C extension cannot load twice in one process).
import httpx
import hypothesis
import jsonschema  # noqa: F401
import numpy
import pytest

from .clocks import StepClock, source_of
from .sessions import assert_usage_error, output, read_report

SMALL_CANARY_TEST = """
import pytest

@pytest.mark.canary({marker})
def test_canary(canary):
    figures = canary.get("/search", {{"q": "memory"}})
    assert figures["plan"]["order"] == "ABBA"
"""

PAIR_CONFTEST = """
import pytest

from pytest_prodready.canary.pair import CanaryPair, Endpoint


""" + source_of(StepClock) + """

@pytest.fixture(scope="session")
def canary_pair():
    return CanaryPair(Endpoint("{baseline}"), Endpoint("{candidate}"))


@pytest.fixture
def prodready_clock():
    return StepClock()  # 1 ms on every read: each request spans exactly 1 ms
"""

# Records (in connects.log) and refuses every connection the inner session tries to a non-loopback host.
NO_REMOTE_CONFTEST = """
import socket

import pytest

_connect = socket.socket.connect


def _guarded(self, address):
    if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        with open("connects.log", "a", encoding="utf-8") as log:
            log.write(repr(address) + "\\n")
        raise OSError("test guard: no connection to " + repr(address))
    return _connect(self, address)


@pytest.fixture(autouse=True)
def no_remote_connections(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded)
"""


class TinyServer:
    """An HTTP/1.1 server on a free 127.0.0.1 port answering every GET with ``status``; counts requests."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall each

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                body = b'{"ok": true}' if owner.status < 400 else b'{"title": "boom"}'
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"tiny-{status}", daemon=True
        )

    def __enter__(self) -> TinyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def healthy() -> Iterator[TinyServer]:
    with TinyServer(200) as server:
        yield server


@pytest.fixture
def healthy_too() -> Iterator[TinyServer]:
    with TinyServer(200) as server:
        yield server


@pytest.fixture
def broken() -> Iterator[TinyServer]:
    with TinyServer(500) as server:
        yield server


def canary_project(pytester: pytest.Pytester, baseline: str, candidate: str, marker: str) -> None:
    pytester.makeconftest(PAIR_CONFTEST.format(baseline=baseline, candidate=candidate))
    pytester.makepyfile(test_canary=SMALL_CANARY_TEST.format(marker=marker))


# --- options and configuration ------------------------------------------------------------


def test_a_baseline_url_without_a_target_url_is_a_usage_error(project):
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("--prodready-baseline-url", "http://127.0.0.1:1")
    assert_usage_error(result, "--prodready-baseline-url needs --prodready-target-url")


def test_an_unknown_inconclusive_policy_option_is_a_usage_error(project):
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("--prodready-canary-inconclusive", "maybe")
    assert_usage_error(result, "--prodready-canary-inconclusive", "'maybe'")


def test_an_unknown_inconclusive_policy_key_is_a_usage_error(project):
    pytester = project('[tool.prodready]\ncanary_inconclusive = "maybe"\n')
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    assert_usage_error(pytester.runpytest_inprocess(), "canary_inconclusive", "pyproject.toml")


@pytest.mark.parametrize(
    ("marker", "key"),
    [('p95_pct="fast"', "p95_pct"), ("blocks=1", "blocks"), ('inconclusive="maybe"', "inconclusive"),
     ("colour=1", "colour"), ('severity="loud"', "severity"), ("10", "keyword arguments only")],
)
def test_a_malformed_canary_marker_is_a_usage_error_at_collection(project, marker, key):
    pytester = project()
    pytester.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.canary({marker})
        def test_canary(canary):
            raise AssertionError("collection should have stopped the run")
        """
    )
    assert_usage_error(pytester.runpytest_inprocess(), "test_bad.py::test_canary", key)


def test_a_canary_marker_without_the_canary_fixture_is_a_usage_error(project):
    pytester = project()
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.canary(rounds=4)
        def test_canary():
            pass
        """
    )
    assert_usage_error(pytester.runpytest_inprocess(), "test_bad.py::test_canary", "'canary' fixture")


def test_the_canary_marker_is_registered_for_strict_markers(project):
    pytester = project()
    pytester.makepyfile(test_plain="import pytest\n\n@pytest.mark.canary(rounds=4)\ndef test_one():\n    pass\n")
    # collection stops on the missing fixture, not on an unknown marker
    assert_usage_error(pytester.runpytest_inprocess("--strict-markers"), "'canary' fixture")


# --- the pair the options name ------------------------------------------------------------------


def test_a_target_url_without_a_baseline_fails_the_case_asking_for_one(project):
    pytester = project()
    pytester.makepyfile(
        test_canary="""
        import pytest

        @pytest.mark.canary(rounds=4, block_size=10, warmup=2)
        def test_canary(canary):
            raise AssertionError("the canary fixture should have refused to build")
        """
    )
    result = pytester.runpytest_inprocess("--prodready-target-url", "http://127.0.0.1:1")
    text = output(result)
    result.assert_outcomes(errors=1)
    assert "the canary needs a live baseline to compare with: pass --prodready-baseline-url URL" in text
    assert "should have refused" not in text
    assert "READINESS: NO-GO" in text
    assert result.ret == 1


@pytest.mark.parametrize("remote_side", ["baseline", "candidate"])
def test_a_non_loopback_side_is_refused_before_anything_is_sent(project, healthy, remote_side):
    """TEST-NET-1 (192.0.2.1) is never on this machine; the loopback side must not get a request either."""
    pytester = project()
    remote = "http://192.0.2.1:80"
    urls = {"baseline": healthy.url, "candidate": healthy.url, remote_side: remote}
    pytester.makeconftest(NO_REMOTE_CONFTEST)
    pytester.makepyfile(test_canary=SMALL_CANARY_TEST.format(marker="blocks=4, block_size=10, warmup=2"))
    result = pytester.runpytest_inprocess(
        "--prodready-target-url", urls["candidate"], "--prodready-baseline-url", urls["baseline"]
    )
    text = output(result)
    result.assert_outcomes(failed=1)
    assert "refusing to connect to '192.0.2.1' (192.0.2.1)" in text
    assert "--prodready-allow-remote-load" in text
    assert "READINESS: NO-GO" in text
    assert not (pytester.path / "connects.log").exists(), (pytester.path / "connects.log").read_text()
    assert healthy.requests == []


# --- whole comparisons against two local servers -------------------------------------------------

SMALL_PLAN = "blocks=10, block_size=4, warmup=2"  # 10 rounds: the fewest the comparison decides on


def test_a_candidate_answering_500_fails_on_the_error_rate(project, healthy, broken):
    pytester = project()
    canary_project(pytester, baseline=healthy.url, candidate=broken.url, marker=SMALL_PLAN)
    result = pytester.runpytest_inprocess()
    text = output(result)
    result.assert_outcomes(failed=1)
    assert "canary error rate 100.00 % vs baseline 0.00 % (+100.00 points, 95 % CI +100.00 .. +100.00 points) " \
           "> 5 points: regressed" in text
    assert "READINESS: NO-GO" in text
    assert result.ret == 1
    assert len(healthy.requests) == len(broken.requests) == 2 + 5 * 8
    assert set(healthy.requests) == {"/search?q=memory"}
    [case] = read_report(pytester.path / "reports/readiness.json")["cases"]
    figures = case["figures"]["canary"]
    assert figures["decision"] == "regressed"
    assert figures["sides"]["candidate"]["errors"] == 40
    assert figures["sides"]["candidate"]["error_examples"][0] == "HTTP 500 GET /search"
    assert figures["sides"]["baseline"]["samples_ms"] == [1.0] * 40


def test_a_broken_baseline_fails_with_nothing_to_compare_with(project, broken, healthy):
    pytester = project()
    canary_project(pytester, baseline=broken.url, candidate=healthy.url, marker=SMALL_PLAN)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    assert "the baseline answered none of its 40 requests (HTTP 500 GET /search" in output(result)
    [case] = read_report(pytester.path / "reports/readiness.json")["cases"]
    assert case["figures"]["canary"]["decision"] == "no baseline"


def test_two_identical_healthy_services_pass_and_say_go(project, healthy, healthy_too):
    pytester = project()
    canary_project(pytester, baseline=healthy.url, candidate=healthy_too.url, marker=SMALL_PLAN)
    result = pytester.runpytest_inprocess()
    text = output(result)
    result.assert_outcomes(passed=1)
    assert "READINESS: GO" in text and "NO-GO" not in text
    assert result.ret == 0
    assert len(healthy.requests) == len(healthy_too.requests) == 2 + 10 * 4
    document = read_report(pytester.path / "reports/readiness.json")
    assert document["verdict"]["decision"] == "GO"
    [case] = document["cases"]
    assert (case["domain"], case["category"], case["outcome"]) == ("canary", "canary comparisons", "passed")
    figures = case["figures"]["canary"]
    assert figures["decision"] == "within bound"
    assert figures["blocks_done"] == 10
    assert {c["metric"]: c["decision"] for c in figures["comparisons"]} == {
        "p50": "within bound", "p95": "within bound", "p99": "not gated", "error rate": "within bound",
    }


ESCALATING_PROFILE = "[tool.prodready.profiles.production]\nescalate_warnings = true\n"


@pytest.mark.parametrize(
    ("options", "toml", "marker", "outcome"),
    [
        ((), "", "", "passed"),
        (("--prodready-canary-inconclusive", "no-go"), "", "", "failed"),
        ((), 'canary_inconclusive = "no-go"\n', "", "failed"),
        (("--prodready-canary-inconclusive", "no-go"), "", ', inconclusive="go"', "passed"),
        # A profile that escalates warnings fails an inconclusive canary too, whatever the policy says.
        ((), ESCALATING_PROFILE, "", "failed"),
        ((), ESCALATING_PROFILE, ', inconclusive="go"', "failed"),
    ],
)
def test_a_run_too_short_to_decide_follows_the_inconclusive_policy(project, healthy, healthy_too, options, toml, marker, outcome):
    """5 samples a side is below the comparison's minimum: every interval is undecided."""
    pytester = project(f"[tool.prodready]\n{toml}" if toml else "")
    canary_project(pytester, baseline=healthy.url, candidate=healthy_too.url, marker=f"blocks=2, block_size=5, warmup=0{marker}")
    result = pytester.runpytest_inprocess(*options)
    text = output(result)
    result.assert_outcomes(**{outcome: 1})
    assert "canary inconclusive: p50 +0.0 % (95 % CI +0.0 .. +0.0)" in text or outcome == "passed"
    [case] = read_report(pytester.path / "reports/readiness.json")["cases"]
    assert case["figures"]["canary"]["decision"] == "inconclusive"
    if outcome == "passed":
        assert case["outcome"] == "warned"
        assert case["figures"]["warnings"][0].startswith("canary inconclusive: p50 +0.0 %")
        assert "READINESS: GO (1 warning)" in text
    else:
        assert "READINESS: NO-GO" in text


# --- misuse of the canary fixture, and what a canary case counts for ------------------------------------


def canary_case(pytester: pytest.Pytester, baseline: str, candidate: str, body: str, conftest_extra: str = "") -> None:
    """The overridden pair and clock, and one test module with ``body``."""
    pytester.makeconftest(PAIR_CONFTEST.format(baseline=baseline, candidate=candidate) + conftest_extra)
    pytester.makepyfile(test_canary=body)


def only_failure(result: pytest.RunResult) -> str:
    """The one failed report's text, exactly as the terminal shows it under the test's header."""
    [report] = [r for r in result.reprec.getfailures() if r.when == "call"]
    return report.longreprtext


def test_a_request_function_not_returning_a_response_fails_with_one_line(project, healthy, healthy_too):
    pytester = project()
    canary_case(pytester, healthy.url, healthy_too.url, f"""
import pytest

@pytest.mark.canary({SMALL_PLAN})
def test_canary(canary):
    canary.compare(lambda http: {{"x": 1}})
""")
    result = pytester.runpytest_inprocess()
    text = output(result)
    result.assert_outcomes(failed=1)
    assert only_failure(result) == (
        "canary: the request function must return the httpx.Response (e.g. lambda http: http.get(...)), got dict"
    )
    assert "Traceback" not in text and "RequestShapeError" not in text and "def test_canary" not in text
    assert "READINESS: NO-GO" in text


def test_a_second_comparison_in_one_test_fails(project, healthy, healthy_too):
    """The first comparison runs in full; the second sends nothing and fails the case."""
    pytester = project()
    canary_case(pytester, healthy.url, healthy_too.url, f"""
import pytest

@pytest.mark.canary({SMALL_PLAN})
def test_canary(canary):
    canary.get("/search")
    canary.get("/other")
""")
    result = pytester.runpytest_inprocess()
    text = output(result)
    result.assert_outcomes(failed=1)
    assert only_failure(result) == "canary: one comparison per test (parametrize the test to compare several requests)"
    assert "Traceback" not in text
    assert healthy.requests == healthy_too.requests == ["/search"] * (2 + 10 * 4)
    assert "READINESS: NO-GO" in text


def test_an_absolute_url_to_a_remote_host_in_the_request_function_is_refused(project, healthy, healthy_too):
    """Both sides are on loopback, but the request function names TEST-NET-1: nothing may be sent anywhere."""
    pytester = project()
    canary_case(pytester, healthy.url, healthy_too.url, f"""
import pytest

@pytest.mark.canary({SMALL_PLAN})
def test_canary(canary):
    canary.compare(lambda http: http.get("http://192.0.2.1/x"))
""", conftest_extra=NO_REMOTE_CONFTEST)
    result = pytester.runpytest_inprocess()
    text = output(result)
    result.assert_outcomes(failed=1)
    assert only_failure(result).startswith("canary: refusing to connect to '192.0.2.1' (192.0.2.1): "), text
    assert "--prodready-allow-remote-load" in text
    assert "Traceback" not in text
    assert not (pytester.path / "connects.log").exists(), (pytester.path / "connects.log").read_text()
    assert healthy.requests == healthy_too.requests == []


def test_the_canary_fixture_without_the_marker_is_a_counted_canary_case(project, healthy, healthy_too):
    """No marker: the default plan (20 rounds of 25, 20 warm-up) still makes a canary case of the verdict."""
    pytester = project()
    canary_case(pytester, healthy.url, healthy_too.url, """
def test_unmarked(canary):
    canary.get("/search")
""")
    result = pytester.runpytest_inprocess()
    text = output(result)
    result.assert_outcomes(passed=1)
    [row] = [line for line in text.splitlines() if line.strip().startswith("canary / canary comparisons")]
    assert row.split()[-4:] == ["1", "of", "1", "ok"], row
    assert "READINESS: GO" in text
    assert len(healthy.requests) == len(healthy_too.requests) == 20 + 20 * 25
    [case] = read_report(pytester.path / "reports/readiness.json")["cases"]
    assert (case["nodeid"], case["domain"], case["category"]) == (
        "test_canary.py::test_unmarked", "canary", "canary comparisons",
    )
    figures = case["figures"]["canary"]
    assert figures["plan"] == {"blocks": 20, "max_blocks": 80, "block_size": 25, "warmup": 20, "order": "ABBA"}
    assert figures["decision"] == "within bound" and figures["blocks_done"] == 20


def test_the_embedded_pairs_api_keys_never_reach_the_terminal_even_with_showlocals(project):
    """The shipped pair (no URLs: two embedded reference apps with random keys) and a failing case under ``-l``.

    The inner test writes the two keys to a file, so this test knows what must not be shown, and keeps them
    in reach of ``-l`` two ways: ``pair`` (shown through its repr, which must leave the key out) and ``key``
    (a plain string, which only the run's redactor can mask: the fixture remembers the keys it made).  The
    ``Endpoint(url='http://127.0.0.1:...')`` check shows the pair really was printed.
    """
    pytester = project()
    pytester.makepyfile(test_canary="""
from pathlib import Path

import pytest

@pytest.mark.canary(rounds=2, block_size=2, warmup=0)
def test_canary(canary):
    Path("keys.txt").write_text(canary.pair.baseline.api_key + "\\n" + canary.pair.candidate.api_key)
    pair, key = canary.pair, canary.pair.candidate.api_key
    canary.get("/health")
    assert False, pair
""")
    result = pytester.runpytest_inprocess("-l")
    text = output(result)
    result.assert_outcomes(failed=1)
    keys = (pytester.path / "keys.txt").read_text().split()
    assert len(keys) == 2 and all(len(k) >= 16 for k in keys)
    for key in keys:
        assert key not in text
    assert "AssertionError: CanaryPair(baseline=Endpoint(url='http://127.0.0.1:" in text
    assert re.search(r"^pair +=", text, re.MULTILINE), text  # -l showed the locals
    assert "api_key=" not in text
    assert re.search(r"^key +=", text, re.MULTILINE) and "'***'" in text, text
