"""Warn and fail severities: a warn-level miss passes with a warning, a fail-level miss is NO-GO.

Latency comes from an injected clock that advances STEP_MS per reading, so
every sample lasts exactly STEP_MS and each case lands where it is meant to:
below the warn level, between the levels, or above the fail level.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import jsonschema
import pytest

from pytest_prodready.gates.gate_spec import parse_gate
from pytest_prodready.limits import ThresholdError
from pytest_prodready.report.readiness_json import SCHEMA_PATH
from pytest_prodready.severity import Levels, split

from .test_baseline import FAKE_CLOCK_CONFTEST

TWO_LEVEL_GATE = '''
import pytest


@pytest.mark.perf_gate(p95_ms={"warn": 5, "fail": 20}, samples=20, warmup=2)
def test_lookup(latency):
    for _ in latency.samples():
        with latency.measure():
            pass
'''

PROFILE_GATE = '''
import pytest


@pytest.mark.perf_gate("lookup")
def test_lookup(latency):
    for _ in latency.samples():
        with latency.measure():
            pass
'''

SMOKE_CASES = '''
import pytest


@pytest.mark.smoke(category="checks", severity="warn")
def test_cache_warm():
    assert 1 + 1 == 3, "cache is cold"


@pytest.mark.smoke(category="checks")
def test_ping():
    pass
'''

PYPROJECT = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready.require.smoke]
checks = 2
"""

ESCALATE = """
[tool.prodready.profiles.production]
escalate_warnings = true
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, step_ms: float, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("STEP_MS", str(step_ms))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def report(pytester: pytest.Pytester) -> dict:
    document = json.loads((pytester.path / "reports" / "readiness.json").read_text())
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return document


@pytest.fixture
def gated(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FAKE_CLOCK_CONFTEST)
    pytester.makepyfile(test_gate=TWO_LEVEL_GATE)
    pytester.makepyprojecttoml(PYPROJECT)
    return pytester


def test_a_p95_between_the_levels_is_go_with_one_warning_and_exit_0(gated, monkeypatch):
    result = run(gated, monkeypatch, 10)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*WARNING test_gate.py::test_lookup - p95 10.0 ms > 5 ms (warning level; n=20;*",
        "READINESS: GO (1 warning)*",
    ])
    document = report(gated)
    assert document["schema_version"] == "1.4"
    assert document["verdict"]["headline"] == "GO (1 warning)"
    assert [w["nodeid"] for w in document["verdict"]["warnings"]] == ["test_gate.py::test_lookup"]
    case = document["cases"][0]
    assert (case["outcome"], case["figures"]["limits"], case["figures"]["warn_limits"]) == (
        "warned", {"p95_ms": 20.0}, {"p95_ms": 5.0})
    assert document["categories"][0]["warned"] == 1 and document["categories"][0]["ready"]


def test_below_the_warn_level_is_a_plain_go(gated, monkeypatch):
    result = run(gated, monkeypatch, 2)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["READINESS: GO (1 of 1 readiness cases passed)"])


def test_above_the_fail_level_is_no_go(gated, monkeypatch):
    result = run(gated, monkeypatch, 30)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*p95 30.0 ms > 20 ms*", "READINESS: NO-GO*"])
    assert report(gated)["verdict"]["warnings"] == []


def test_the_html_report_shows_warnings_in_their_own_style(gated, monkeypatch):
    assert run(gated, monkeypatch, 10).ret == 0
    html = (gated.path / "reports" / "readiness.html").read_text()
    assert "READINESS: GO (1 warning)" in html
    assert '<ul id="prodready-warnings"><li><span class="warn">warning</span> <code>test_gate.py::test_lookup</code>' in html


def test_levels_in_a_profile_table_and_a_profile_that_escalates_warnings(pytester, monkeypatch):
    pytester.makeconftest(FAKE_CLOCK_CONFTEST)
    pytester.makepyfile(test_gate=PROFILE_GATE)
    gate = '[tool.prodready.profiles.production.lookup]\np95_ms = {warn = 5, fail = 20}\nsamples = 20\nwarmup = 2\n'
    pytester.makepyprojecttoml(PYPROJECT + gate)
    result = run(pytester, monkeypatch, 10)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["READINESS: GO (1 warning)*"])

    pytester.makepyprojecttoml(PYPROJECT + ESCALATE + gate)
    result = run(pytester, monkeypatch, 10)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*p95 10.0 ms > 5 ms*", "READINESS: NO-GO*"])


def test_a_failing_smoke_case_of_severity_warn_is_a_warning_not_a_failure(pytester, monkeypatch):
    pytester.makepyfile(test_smoke=SMOKE_CASES)
    pytester.makepyprojecttoml(PYPROJECT)
    result = run(pytester, monkeypatch, 1)
    assert result.ret == 0
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines([
        "  smoke / checks * 2 of 2, needs 2 * ok, 1 warned",
        "*WARNING test_smoke.py::test_cache_warm - AssertionError: cache is cold*",
        "READINESS: GO (1 warning) (2 of 2 readiness cases passed, at least 2 required)",
    ])
    cases = {case["nodeid"]: case for case in report(pytester)["cases"]}
    assert (cases["test_smoke.py::test_cache_warm"]["outcome"], cases["test_smoke.py::test_cache_warm"]["severity"]) == (
        "warned", "warn")


def test_an_escalating_profile_fails_a_warn_smoke_case(pytester, monkeypatch):
    pytester.makepyfile(test_smoke=SMOKE_CASES)
    pytester.makepyprojecttoml(PYPROJECT + ESCALATE)
    result = run(pytester, monkeypatch, 1)
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["READINESS: NO-GO*"])


def test_an_escalating_profile_fails_a_warn_consistency_rule(pytester, monkeypatch, graph_db, faults_graph_data):
    shutil.copy(graph_db(faults_graph_data), pytester.path / "graph.db")
    pytester.makepyprojecttoml(PYPROJECT + textwrap.dedent("""
        [tool.prodready.consistency.stores.graph]
        sqlite = "graph.db"
        [tool.prodready.consistency.rules.duplicate_semantic_ids]
        threshold = "== 0"
        severity = "warn"
    """))
    result = run(pytester, monkeypatch, 1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["READINESS: GO (1 warning)*"])
    pytester.makepyprojecttoml(pytester.path.joinpath("pyproject.toml").read_text() + ESCALATE)
    result = run(pytester, monkeypatch, 1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["READINESS: NO-GO*"])


def test_a_bad_severity_is_a_usage_error_naming_the_test(pytester, monkeypatch):
    pytester.makepyfile(test_smoke='import pytest\n\n@pytest.mark.smoke(category="c", severity="fatal")\ndef test_x():\n    pass\n')
    result = run(pytester, monkeypatch, 1)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_smoke.py::test_x: @pytest.mark.smoke severity: expected one of fail, warn, got 'fatal'*"])


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"p95_ms": {"warn": 500, "fail": 200}}, "p95_ms: the warn level 500 must be stricter than the fail level 200"),
        ({"min_ops_per_s": {"warn": 50, "fail": 100}}, "min_ops_per_s: the warn level 50 must be stricter"),
        ({"p95_ms": {"warning": 5}}, "p95_ms: expected a number or {warn = .., fail = ..}"),
        ({"p95_ms": {"warn": -1}}, "p95_ms.warn: expected a positive number, got -1"),
        ({"p95_ms": 5, "severity": "fatal"}, "severity: expected one of fail, warn, got 'fatal'"),
    ],
)
def test_bad_levels_are_threshold_errors_naming_the_key(raw, error):
    with pytest.raises(ThresholdError) as caught:
        parse_gate(raw, "gate")
    assert error in str(caught.value)


def test_severity_moves_levels_between_warn_and_fail():
    levels = {"p95_ms": Levels(warn=200, fail=500), "p99_ms": Levels(fail=800)}
    assert split(levels, None) == ({"p95_ms": 500, "p99_ms": 800}, {"p95_ms": 200})
    assert split(levels, "fail") == ({"p95_ms": 200, "p99_ms": 800}, {})
    assert split(levels, "warn") == ({}, {"p95_ms": 200, "p99_ms": 800})


def test_a_load_run_between_seed_000s_error_rate_levels_warns_and_above_them_fails():
    from pytest_prodready.load.load_judgement import evaluate
    from pytest_prodready.load.load_spec import parse_load

    from .test_load_units import result

    spec = parse_load({"max_error_ratio": {"warn": 0.05, "fail": 0.10}, "mean_ms": {"warn": 2000, "fail": 5000}}, "t")
    assert (spec.limits(), dict(spec.warn_limits)) == (
        {"max_error_ratio": 0.10, "mean_ms": 5000.0}, {"max_error_ratio": 0.05, "mean_ms": 2000.0})
    warned = evaluate(spec, result(failures=117, mean_ms=2500.0))
    assert not warned.failures
    assert warned.warnings == ["error ratio 6.0 % > 5 %; mean 2500 ms > 2000 ms (warning level; 1,950 req, 97.5 req/s)"]
    failed = evaluate(spec, result(failures=234))
    assert (failed.warnings, failed.message) == ([], "error ratio 12.0 % > 10 % (1,950 req, 97.5 req/s)")
    assert parse_load({"max_error_ratio": {"warn": 0.05}}, "t").max_error_ratio is None
