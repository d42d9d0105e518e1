"""Interrupted runs: Ctrl-C, SIGTERM and pytest-timeout leave no process behind and still report.

Each run is a real pytest process in its own session, running a passing
smoke case and then a long locust run (a master and two workers) against the
reference HTTP app.  The
children inherit a unique environment variable, so the check for leftovers
finds exactly the processes this run started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from .sessions import SUITES

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = SUITES / "load" / "locustfiles" / "memory_api.py"
MARKER_ENV = "PRODREADY_INTERRUPT_MARK"
# Load runs share one xdist worker with the other timing-sensitive tests (--dist loadgroup), so they
# never load the CPUs under a canary comparison or a latency gate judged on a few milliseconds.
pytestmark = pytest.mark.xdist_group("timing")
INNER_TOML = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready]
volume = { sessions = 20, memories = 100, documents = 10 }
"""
LONG_RUN = f"""
import pytest

@pytest.mark.smoke(category="connectivity")
def test_a_quick_case():
    pass

@pytest.mark.load(users=10, spawn_rate=10, duration="60s", processes=2)
def test_b_long_load(load_runner, reference_app):
    load_runner.run({str(LOCUSTFILE)!r}, host=reference_app.base_url, api_key=reference_app.api_key,
                    env={{"MEMORY_API_THINK_S": "0.05,0.2"}})
"""


def marked_processes(mark: str) -> list[psutil.Process]:
    """Live processes carrying this run's mark in their environment (this test's own process excluded)."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get(MARKER_ENV) == mark:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def is_locust(proc: psutil.Process) -> bool:
    try:
        return "load.agent" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def start_run(pytester: pytest.Pytester, mark: str, *extra: str) -> subprocess.Popen[str]:
    pytester.makepyprojecttoml(INNER_TOML)
    pytester.makepyfile(test_long=LONG_RUN)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--basetemp={pytester.path / 'bt'}", *extra]
    return subprocess.Popen(command, cwd=pytester.path, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, MARKER_ENV: mark})


def finish(inner: subprocess.Popen[str], timeout_s: float) -> str:
    """The run's output once it exits; a run that does not exit is killed, group and all, and fails the test."""
    try:
        output, _ = inner.communicate(timeout=timeout_s)
    finally:
        if inner.poll() is None:
            os.killpg(inner.pid, signal.SIGKILL)
    return output


def readiness_document(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "reports" / "readiness.json").read_text())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_during_a_load_run_reports_incomplete_and_leaves_no_process(pytester: pytest.Pytester, sig):
    mark = uuid.uuid4().hex
    inner = start_run(pytester, mark)
    try:
        locust_running = lambda: sum(is_locust(p) for p in marked_processes(mark)) == 3  # noqa: E731
        assert wait_for(locust_running, 90), "the locust master and its two workers never all ran"
        assert any("reference.serve" in " ".join(p.cmdline()) for p in marked_processes(mark))
        os.kill(inner.pid, sig)
        output = finish(inner, 60)
    finally:
        if inner.poll() is None:
            os.killpg(inner.pid, signal.SIGKILL)
    assert inner.returncode == pytest.ExitCode.INTERRUPTED, output
    verdict = readiness_document(pytester)["verdict"]
    assert verdict["incomplete"] is True and verdict["decision"] == "NO-GO"
    assert "READINESS: NO-GO" in output
    assert wait_for(lambda: not marked_processes(mark), 15), [p.cmdline() for p in marked_processes(mark)]


def test_pytest_timeout_fails_the_load_case_and_stops_locust_and_the_server(pytester: pytest.Pytester):
    mark = uuid.uuid4().hex
    started = time.monotonic()
    inner = start_run(pytester, mark, "--timeout=20", "--timeout-method=signal")
    output = finish(inner, 120)
    assert inner.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "Timeout (>20.0s)" in output and time.monotonic() - started < 90
    document = readiness_document(pytester)
    assert document["verdict"]["decision"] == "NO-GO" and document["verdict"]["incomplete"] is False
    assert wait_for(lambda: not marked_processes(mark), 15), [p.cmdline() for p in marked_processes(mark)]


CUT_SHORT = '''
import os
import signal

import pytest


@pytest.mark.smoke(category="checks")
def test_a_done():
    pass


@pytest.mark.smoke(category="checks")
def test_b_cut_short():
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of the body
    raise AssertionError("never reached")


@pytest.mark.smoke(category="checks")
def test_c_never_started():
    pass
'''


def test_a_case_interrupted_mid_body_is_recorded_as_interrupted_everywhere(pytester: pytest.Pytester):
    """Its setup passed and its body never finished: that is not a pass, in JSON, HTML, Markdown or terminal."""
    pytester.makepyprojecttoml(INNER_TOML + "\n[tool.prodready.require.smoke]\nchecks = 3\n")
    pytester.makepyfile(test_cut=CUT_SHORT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-summary-md", "reports/summary.md")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    document = readiness_document(pytester)
    outcomes = {case["nodeid"].rsplit("::", 1)[1]: case["outcome"] for case in document["cases"]}
    assert outcomes == {"test_a_done": "passed", "test_b_cut_short": "interrupted"}
    (category,) = document["categories"]
    assert (category["passed"], category["errors"], category["ready"]) == (1, 1, False)
    assert any(node.endswith("test_b_cut_short") for node in document["verdict"]["failing_cases"])
    html = (pytester.path / "reports" / "readiness.html").read_text(encoding="utf-8")
    issues = html.split('id="prodready-issues"', 1)[1].split("</ul>", 1)[0]
    assert "INTERRUPTED" in issues and "test_b_cut_short" in issues
    summary = (pytester.path / "reports" / "summary.md").read_text(encoding="utf-8")
    row = next(line for line in summary.splitlines() if "test_b_cut_short" in line)
    assert "| interrupted |" in row
    result.stdout.fnmatch_lines(["  INTERRUPTED test_cut.py::test_b_cut_short - *"])
