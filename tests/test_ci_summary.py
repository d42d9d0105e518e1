"""The Markdown job summary holds the same verdict and figures as the JSON report, secrets masked."""

from __future__ import annotations

import json

import pytest

from pytest_prodready.report.markdown import render
from pytest_prodready.verdict import category_passed, ran_of

from .test_baseline import FAKE_CLOCK_CONFTEST, GATED_TESTS

SMOKE_CASES = '''
import os

import pytest


@pytest.mark.smoke(category="checks")
def test_login():
    assert False, f"login refused for {os.environ['SERVICE_PASSWORD']}"


@pytest.mark.smoke(category="checks", severity="warn")
def test_cache_warm():
    assert False, "cache is cold"
'''

PYPROJECT = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready.require.smoke]
checks = 2
"""

SECRET = "hunter2-very-secret"


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(FAKE_CLOCK_CONFTEST)
    pytester.makepyfile(test_gated=GATED_TESTS, test_smoke=SMOKE_CASES)
    pytester.makepyprojecttoml(PYPROJECT)
    monkeypatch.setenv("STEP_MS", "12.5")
    monkeypatch.setenv("SERVICE_PASSWORD", SECRET)
    return pytester


def test_the_job_summary_is_appended_and_matches_the_json_report(project, monkeypatch):
    summary = project.path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 1
    text = summary.read_text()
    document = json.loads((project.path / "reports" / "readiness.json").read_text())
    assert text.startswith(f"earlier step\n## READINESS: {document['verdict']['headline']}\n")
    assert document["verdict"]["headline"] == "NO-GO (1 warning)"
    for category in document["categories"]:
        passed = category_passed(category["passed"], ran_of(category), category["required"])
        counts = (f"| {category['domain']} | {category['category']} | {passed} | "
                  f"{category['warned']} | {category['failed']} | {category['errors']} | {category['skipped']} |")
        assert counts in text
    gates = [case for case in document["cases"] if "latency" in case["figures"]]
    assert len(gates) == 4
    for case in gates:
        assert f"| `{case['nodeid']}` | inline | 30 | " in text
        assert f"{case['figures']['latency']['p95_ms']:.2f}" in text
    assert "### Failed\n" in text and "`test_smoke.py::test_login` | failed | AssertionError: login refused for ***" in text
    assert "### Warnings\n" in text and "`test_smoke.py::test_cache_warm` | warned | AssertionError: cache is cold" in text
    assert SECRET not in text
    assert str(summary) in result.stdout.str()


def test_summary_md_writes_it_anywhere_and_nothing_is_appended_without_the_variable(project, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-summary-md", "out/summary.md")
    assert result.ret == 1
    text = (project.path / "out" / "summary.md").read_text()
    assert text.startswith("## READINESS: NO-GO (1 warning)\n") and "| smoke | checks | 1 of 2, needs 2 | 1 | 1 | 0 | 0 | ❌ not ready |" in text


def test_a_message_cannot_break_the_table():
    document = {
        "verdict": {"headline": "GO (1 warning)", "incomplete": False, "reasons": []},
        "environment": {"profile": "production", "target": "t"},
        "categories": [{"domain": "smoke", "category": "c", "passed": 1, "required": 1, "warned": 1, "failed": 0,
                        "errors": 0, "skipped": 0, "ready": True}],
        "cases": [{"nodeid": "t.py::x", "outcome": "warned", "message": "a | b\nc", "figures": {}}],
    }
    text = render(document)
    assert "| `t.py::x` | warned | a \\| b c | - |  |" in text  # no system named: "-"
    assert "| smoke | c | 1 of 1, needs 1 | 1 | 0 | 0 | 0 | ⚠️ ready, with warnings |" in text


def hostile_document(message: str, nodeid: str = "t.py::x") -> dict:
    return {
        "verdict": {"headline": "NO-GO", "incomplete": False, "reasons": [f"consistency / r: {message}"]},
        "environment": {"profile": "production", "target": "t"},
        "categories": [{"domain": "smoke", "category": "c", "passed": 0, "required": 1, "warned": 0, "failed": 1,
                        "errors": 0, "skipped": 0, "ready": False}],
        "cases": [{"nodeid": nodeid, "outcome": "failed", "message": message, "figures": {}}],
    }


def test_raw_html_from_a_database_value_stays_text():
    """``</td></tr></table><h1>GO</h1>`` from a row closed the table and painted a heading."""
    text = render(hostile_document("offender name='</td></tr></table><h1>GO</h1><img src=x onerror=alert(1)>'"))
    assert "<h1>" not in text and "<img" not in text and "</table>" not in text
    assert "&lt;h1>GO&lt;/h1>" in text


@pytest.mark.parametrize("nodeid", ["t.py::x[a`b]", "t.py::x[``]", "t.py::x[`<b>`]", "t.py::x[`]"])
def test_a_backtick_in_a_node_id_cannot_end_its_code_span(nodeid):
    import re

    line = next(line for line in render(hostile_document("m", nodeid)).splitlines() if line.startswith("| `"))
    cell = line[2:].split(" | ", 1)[0]
    fence = re.match(r"`+", cell).group(0)
    inner = cell[len(fence):-len(fence)]
    assert cell.endswith(fence) and fence not in inner, cell  # one code span, opened and closed by the same fence
    assert inner.strip() == nodeid
