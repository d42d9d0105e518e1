"""The HTML report of real runs, rendered in headless Chromium, and the JSON beside it.

One GO run and one NO-GO run; the page must show the verdict, the figures the
JSON report holds, and no secret configured for the run.  The checks of the
exit code, the JSON report and the secret need no browser and run without
Chromium; only the page checks need it.  ``PRODREADY_SCREENSHOT_DIR=docs/screenshots``
keeps the screenshots (``report-go.png``, ``report-no-go.png``) the README shows.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from pytest_prodready.report.readiness_json import SCHEMA_PATH
from .sessions import SUITES

from .chromium import render
from .test_baseline import FAKE_CLOCK_CONFTEST

# The runs include a locust load case: it shares one xdist worker with the other timing-sensitive
# tests (--dist loadgroup), so it never loads the CPUs under a canary comparison.
pytestmark = pytest.mark.xdist_group("timing")

SECRET = "hunter2-correct-horse"

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
    refused = os.environ.get("BREAK_SMOKE") == "1"  # a local, so the failure shows `not True`, not all of os.environ
    assert not refused, "connect to bolt://neo4j:" + os.environ["DB_PASSWORD"] + "@db:7687 refused"


@pytest.mark.load(name="short_burst", users=5, spawn_rate=5, duration="5s", min_rps=float(os.environ["MIN_RPS"]))
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


@dataclass(frozen=True)
class Run:
    """One finished pytest session of CASES: its folder, exit code, output and JSON report."""

    path: Path
    ret: int
    output: str
    document: dict

    def report_files(self) -> list[Path]:
        return [p for p in (self.path / "reports").rglob("*") if p.is_file()]


def run_session(root: Path, *, step_ms: str, min_rps: str, orphans: int, break_smoke: bool) -> Run:
    """A real pytest process on CASES in ``root``; its JSON report is checked against the schema."""
    (root / "conftest.py").write_text(FAKE_CLOCK_CONFTEST, encoding="utf-8")
    (root / "test_cases.py").write_text(CASES, encoding="utf-8")
    (root / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    make_app_database(root / "app.db", orphans=orphans)
    env = {**os.environ, "DB_PASSWORD": SECRET, "LOCUSTFILE": str(LOCUSTFILE), "STEP_MS": step_ms, "MIN_RPS": min_rps}
    env.pop("BREAK_SMOKE", None)
    if break_smoke:
        env["BREAK_SMOKE"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--basetemp={root / 'bt'}",
         "--junitxml", "reports/junit.xml"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    document = json.loads((root / "reports" / "readiness.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return Run(root, done.returncode, done.stdout + done.stderr, document)


# One GO and one NO-GO session per module: the checks that need no browser (exit code, JSON report,
# secrets) and the ones that do (the page in Chromium) are separate tests, so a missing Chromium
# skips only the latter.
@pytest.fixture(scope="module")
def go_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_session(tmp_path_factory.mktemp("go"), step_ms="4", min_rps="5", orphans=0, break_smoke=False)


@pytest.fixture(scope="module")
def no_go_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_session(tmp_path_factory.mktemp("no_go"), step_ms="30", min_rps="100000", orphans=3, break_smoke=True)


def render_report(run: Run, name: str) -> str:
    """The HTML report's DOM in headless Chromium; the screenshot ``name``.png must not be empty."""
    dom = render(run.path / "reports" / "readiness.html", run.path / f"{name}.png", run.path / f"chromium-{name}")
    assert (run.path / f"{name}.png").stat().st_size > 10_000, "the screenshot is empty"
    return dom


def test_go_run_exits_0_with_the_gate_and_load_figures_in_the_json_report(go_run):
    assert go_run.ret == 0, go_run.output[-3000:]
    gate = next(c for c in go_run.document["cases"] if c["nodeid"].endswith("test_lookup_gate"))
    assert gate["figures"]["latency"]["p95_ms"] == 4.0
    load = next(c for c in go_run.document["cases"] if c["domain"] == "load")["figures"]["load"]
    assert load["requests"] > 0
    assert max(point["rps"] for point in load["timeline"]) > 0, "the timeline has no request rate"


def test_go_run_renders_verdict_and_gate_figures(go_run):
    dom = render_report(go_run, "report-go")
    assert 'data-decision="GO"' in dom and "READINESS: GO" in dom
    assert "p95 <b>4.00</b> (limit 10)" in dom
    assert 'class="prodready-chart"' in dom and "<svg" in dom
    assert "Executive summary" in dom and "Environment" in dom
    assert "test_database_answers" in dom, "pytest-html's own results table did not render"
    load = next(c for c in go_run.document["cases"] if c["domain"] == "load")["figures"]["load"]
    assert f"{load['requests']:,} requests" in dom
    assert 'id="prodready-consistency"' in dom and "tasks_have_sessions" in dom


def test_no_go_run_names_the_failing_cases_and_no_file_or_output_holds_the_secret(no_go_run):
    assert no_go_run.ret == 1, no_go_run.output[-3000:]
    assert no_go_run.document["verdict"]["decision"] == "NO-GO"
    assert sorted(n.rsplit("::", 1)[1] for n in no_go_run.document["verdict"]["failing_cases"]) == [
        "tasks_have_sessions",
        "test_database_answers",
        "test_lookup_gate",
        "test_short_burst",
    ]
    leaked = [p.name for p in no_go_run.report_files() if SECRET in p.read_text(encoding="utf-8", errors="replace")]
    assert not leaked, f"the secret appears in {leaked}"
    assert SECRET not in no_go_run.output
    assert "bolt://neo4j:***@db:7687" in no_go_run.output


def test_no_go_run_renders_the_failures_and_hides_the_secret(no_go_run):
    dom = render_report(no_go_run, "report-no-go")
    assert 'data-decision="NO-GO"' in dom and "READINESS: NO-GO" in dom
    assert "p95 30.0 ms &gt; 10 ms" in dom
    assert "Issues encountered" in dom and "test_database_answers" in dom
    assert "tasks_have_sessions: 3 &gt; 0" in dom, "the consistency rule's count is not on the page"
    assert "gone-0" in dom, "the sample of offending rows is not on the page"
    consistency_table = dom.split('id="prodready-consistency"', 1)[1].split("</table>", 1)[0]
    assert '<span class="bad">fail</span>' in consistency_table
    assert "req/s &lt; 100000 req/s" in dom, "the load case's min_rps failure is not on the page"
    assert SECRET not in dom
    assert "bolt://neo4j:***@db:7687" in dom
