"""The HTML report of real runs, rendered in headless Chromium, and the JSON beside it.

One GO run and one NO-GO run; the page must show the verdict, the figures the
JSON report holds, and no secret configured for the run.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from pytest_prodready.report.readiness_json import SCHEMA_PATH
from .sessions import SUITES

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

LOCUSTFILE = os.environ["LOCUSTFILE"]


@pytest.mark.perf_gate(p95_ms=10, p99_ms=20, samples=50, warmup=5)
def test_lookup_gate(latency):
    for _ in latency.samples():
        with latency.measure():
            pass


@pytest.mark.smoke(category="connectivity")
def test_database_answers():
    assert os.environ.get("BREAK_SMOKE") != "1", "connect to bolt://neo4j:" + os.environ["DB_PASSWORD"] + "@db:7687 refused"


@pytest.mark.load(name="short_burst", users=5, spawn_rate=5, duration="3s", min_rps=float(os.environ["MIN_RPS"]))
def test_short_burst(load_runner, reference_app):
    load_runner.run(LOCUSTFILE, host=reference_app.base_url, api_key=reference_app.api_key,
                    env={"MEMORY_API_THINK_S": "0.05,0.1"})
'''

PROJECT = """
[tool.prodready.require.smoke]
connectivity = 1

[tool.prodready.consistency.stores.app]
sqlite = "app.db"

[tool.prodready.consistency.rules.tasks_have_sessions]
check = "orphans"
store = "app"
child = "tasks.session_id"
parent = "sessions.id"
"""

LOCUSTFILE = SUITES / "load" / "locustfiles" / "memory_api.py"


def make_app_database(path: Path, orphans: int) -> None:
    """Sessions and tasks, with ``orphans`` tasks pointing at sessions that do not exist."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY)")
        conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, session_id TEXT)")
        conn.executemany("INSERT INTO sessions VALUES (?)", [(f"s{i}",) for i in range(20)])
        conn.executemany("INSERT INTO tasks (session_id) VALUES (?)", [(f"s{i % 20}",) for i in range(60)])
        conn.executemany("INSERT INTO tasks (session_id) VALUES (?)", [(f"gone-{i}",) for i in range(orphans)])
    conn.close()


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(FAKE_CLOCK)
    pytester.makepyfile(test_cases=CASES)
    pytester.makepyprojecttoml(PROJECT)
    monkeypatch.setenv("DB_PASSWORD", SECRET)
    monkeypatch.setenv("LOCUSTFILE", str(LOCUSTFILE))
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
    monkeypatch.setenv("MIN_RPS", "5")
    make_app_database(project.path / "app.db", orphans=0)
    result, dom, document = run_and_render(project, "report-go")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert 'data-decision="GO"' in dom and "READINESS: GO" in dom
    gate = next(c for c in document["cases"] if c["nodeid"].endswith("test_lookup_gate"))
    assert gate["figures"]["latency"]["p95_ms"] == 4.0
    assert "p95 <b>4.00</b> (limit 10)" in dom
    assert 'class="prodready-chart"' in dom and "<svg" in dom
    assert "Executive summary" in dom and "Environment" in dom
    assert "test_database_answers" in dom, "pytest-html's own results table did not render"
    load = next(c for c in document["cases"] if c["domain"] == "load")["figures"]["load"]
    assert load["requests"] > 0 and f"{load['requests']:,} requests" in dom
    assert max(point["rps"] for point in load["timeline"]) > 0, "the timeline has no request rate"
    assert 'id="prodready-consistency"' in dom and "tasks_have_sessions" in dom


def test_no_go_run_names_the_failures_and_hides_the_secret(project, monkeypatch):
    monkeypatch.setenv("STEP_MS", "30")
    monkeypatch.setenv("BREAK_SMOKE", "1")
    monkeypatch.setenv("MIN_RPS", "100000")
    make_app_database(project.path / "app.db", orphans=3)
    result, dom, document = run_and_render(project, "report-no-go")
    assert result.ret == 1
    assert 'data-decision="NO-GO"' in dom and "READINESS: NO-GO" in dom
    assert "p95 30.0 ms &gt; 10 ms" in dom
    assert "Issues encountered" in dom and "test_database_answers" in dom
    assert document["verdict"]["decision"] == "NO-GO"
    assert sorted(n.rsplit("::", 1)[1] for n in document["verdict"]["failing_cases"]) == [
        "tasks_have_sessions",
        "test_database_answers",
        "test_lookup_gate",
        "test_short_burst",
    ]
    assert "tasks_have_sessions: 3 &gt; 0" in dom, "the consistency rule's count is not on the page"
    assert "gone-0" in dom, "the sample of offending rows is not on the page"
    consistency_table = dom.split('id="prodready-consistency"', 1)[1].split("</table>", 1)[0]
    assert '<span class="bad">fail</span>' in consistency_table
    assert "req/s &lt; 100000" in dom or "rps" in dom
    leaked = [p.name for p in every_report_file(project) if SECRET in p.read_text(encoding="utf-8", errors="replace")]
    assert not leaked, f"the secret appears in {leaked}"
    assert SECRET not in result.stdout.str() + result.stderr.str()
    assert "bolt://neo4j:***@db:7687" in dom
