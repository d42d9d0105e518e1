"""The HTML report of real runs, rendered in headless Chromium, and the JSON beside it.

One GO run and one NO-GO run; the page must show the verdict, the figures the
JSON report holds, and no secret configured for the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pytest_prodready.report.readiness_json import SCHEMA_PATH

from .chromium import render

SECRET = "hunter2-correct-horse"

FAKE_CLOCK = '''
import os
import pytest


@pytest.fixture
def prodready_clock():
    """Each sample lasts exactly STEP_MS milliseconds."""
    step = int(float(os.environ.get("STEP_MS", "4")) * 1_000_000)
    now = [0]

    def clock():
        now[0] += step
        return now[0]

    return clock
'''

CASES = '''
import os
import pytest


@pytest.mark.perf_gate(p95_ms=10, p99_ms=20, samples=50, warmup=5)
def test_lookup_gate(latency):
    for _ in latency.samples():
        with latency.measure():
            pass


@pytest.mark.smoke(category="connectivity")
def test_database_answers():
    assert os.environ.get("BREAK_SMOKE") != "1", "connect to bolt://neo4j:" + os.environ["DB_PASSWORD"] + "@db:7687 refused"
'''

PROJECT = """
[tool.prodready.require.smoke]
connectivity = 1
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(FAKE_CLOCK)
    pytester.makepyfile(test_cases=CASES)
    pytester.makepyprojecttoml(PROJECT)
    monkeypatch.setenv("DB_PASSWORD", SECRET)
    return pytester


def run_and_render(project: pytest.Pytester, name: str, *args: str) -> tuple[pytest.RunResult, str, dict]:
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml", "reports/junit.xml", *args)
    reports = project.path / "reports"
    dom = render(reports / "readiness.html", project.path / f"{name}.png", project.path / f"chromium-{name}")
    assert (project.path / f"{name}.png").stat().st_size > 10_000, "the screenshot is empty"
    document = json.loads((reports / "readiness.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return result, dom, document


def every_report_file(project: pytest.Pytester) -> list[Path]:
    return [p for p in (project.path / "reports").rglob("*") if p.is_file()]


def test_go_run_renders_verdict_and_gate_figures(project, monkeypatch):
    monkeypatch.setenv("STEP_MS", "4")
    result, dom, document = run_and_render(project, "report-go")
    assert result.ret == 0
    assert 'data-decision="GO"' in dom and "READINESS: GO" in dom
    gate = next(c for c in document["cases"] if c["nodeid"].endswith("test_lookup_gate"))
    assert gate["figures"]["latency"]["p95_ms"] == 4.0
    assert "p95 <b>4.00</b> (limit 10)" in dom
    assert 'class="prodready-chart"' in dom and "<svg" in dom
    assert "Executive summary" in dom and "Environment" in dom
    assert "test_database_answers" in dom, "pytest-html's own results table did not render"


def test_no_go_run_names_the_failures_and_hides_the_secret(project, monkeypatch):
    monkeypatch.setenv("STEP_MS", "30")
    monkeypatch.setenv("BREAK_SMOKE", "1")
    result, dom, document = run_and_render(project, "report-no-go")
    assert result.ret == 1
    assert 'data-decision="NO-GO"' in dom and "READINESS: NO-GO" in dom
    assert "p95 30.0 ms &gt; 10 ms" in dom
    assert "Issues encountered" in dom and "test_database_answers" in dom
    assert document["verdict"]["decision"] == "NO-GO"
    assert sorted(n.rsplit("::", 1)[1] for n in document["verdict"]["failing_cases"]) == [
        "test_database_answers",
        "test_lookup_gate",
    ]
    leaked = [p.name for p in every_report_file(project) if SECRET in p.read_text(encoding="utf-8", errors="replace")]
    assert not leaked, f"the secret appears in {leaked}"
    assert SECRET not in result.stdout.str() + result.stderr.str()
    assert "bolt://neo4j:***@db:7687" in dom
