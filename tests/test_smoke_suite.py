"""The shipped smoke suite run end to end in real pytest sessions.

Each test copies the shipped smoke suite (``pytest_prodready/suites/smoke``) into a pytester folder and runs it in a
subprocess (the suite owns an event loop per session, as a user's run does),
against the reference target, a target with one broken operation, a slow
target and a database missing an index.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from pytest_prodready.reference import create_target
from pytest_prodready.target import TargetContext

from .sessions import SUITES

SUITE = SUITES / "smoke"

SMALL_PROJECT = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready.volume]
sessions = 40
memories = 200
documents = 30
"""

# Few samples keep a deliberately slow target's run short.
FEW_SEARCH_SAMPLES = """
[tool.prodready.profiles.production.semantic_search]
samples = 3
warmup = 0
"""

BROKEN_ADAPTERS = '''
from pytest_prodready.reference import create_target


async def terminate_forgets(context):
    """The reference service whose terminate does nothing."""
    service = await create_target(context)

    async def terminate_session(session_id):
        return await service.get_session(session_id)

    service.terminate_session = terminate_session
    return service


async def slow_search(context):
    """The reference service with 600 ms added to every semantic search."""
    import asyncio

    service = await create_target(context)
    original = service.semantic_search

    async def semantic_search(query, limit=10):
        await asyncio.sleep(0.6)
        return await original(query, limit)

    service.semantic_search = semantic_search
    return service
'''


@pytest.fixture
def suite_project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(SUITE, pytester.path / "smoke")
    pytester.makepyprojecttoml(SMALL_PROJECT)
    pytester.makepyfile(adapters=BROKEN_ADAPTERS)
    return pytester


def run_suite(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("smoke", "-p", "no:cacheprovider", *args, timeout=300)


def report(project: pytest.Pytester) -> dict:
    return json.loads((project.path / "reports" / "readiness.json").read_text())


def failing(project: pytest.Pytester) -> list[str]:
    return sorted(n.rsplit("::", 1)[-1] for n in report(project)["verdict"]["failing_cases"])


def test_reference_target_is_go_with_35_cases_and_both_reports(suite_project):
    result = run_suite(suite_project)
    result.assert_outcomes(passed=35)
    result.stdout.fnmatch_lines(["*READINESS: GO*"])
    assert result.ret == 0
    data = report(suite_project)
    assert data["verdict"]["decision"] == "GO"
    assert {c["category"]: (c["passed"], c["required"]) for c in data["categories"]} == {
        "connectivity": (5, 5),
        "core_operations": (10, 10),
        "performance": (8, 8),
        "integration": (7, 7),
        "error_handling": (5, 5),
    }
    assert "READINESS: GO" in (suite_project.path / "reports" / "readiness.html").read_text()


def test_one_broken_operation_is_no_go_naming_the_cases(suite_project):
    result = run_suite(suite_project, "--prodready-target", "adapters:terminate_forgets", "--prodready-allow-writes")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*FAILED*test_terminate_session*", "*READINESS: NO-GO*"])
    assert failing(suite_project) == ["test_complete_session_task_memory_workflow", "test_terminate_session"]


def test_deselected_cases_make_too_few_for_go(suite_project):
    result = run_suite(suite_project, "-k", "not test_terminate_session")
    result.assert_outcomes(passed=34, deselected=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*core_operations: only 9 of 10 required cases ran*", "*READINESS: NO-GO*"])


def test_slow_search_fails_the_semantic_search_gate(suite_project):
    suite_project.path.joinpath("pyproject.toml").write_text(SMALL_PROJECT + FEW_SEARCH_SAMPLES)
    result = run_suite(suite_project, "--prodready-target", "adapters:slow_search", "--prodready-allow-writes")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*test_semantic_search_under_500ms*p95 6??.* ms > 500 ms*"])
    assert failing(suite_project) == ["test_semantic_search_under_500ms"]


def test_database_missing_an_index_fails_the_index_cases(suite_project, tmp_path):
    broken = build_reference_database(tmp_path)
    with sqlite3.connect(broken) as conn:
        conn.execute("DROP INDEX idx_tasks_session")
    result = run_suite(suite_project, "--prodready-sqlite", str(broken))
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*indexes missing by definition*idx_tasks_session tasks(session_id, submitted_at DESC) WHERE session_id is not null*",
        "*test_index_usage_verified_by_explain_query_plan*SELECT * FROM tasks WHERE session_id = *SCAN tasks*",
        "READINESS: NO-GO (* passed on your system, 35 required; 31 ran on the embedded reference)",
    ])
    assert failing(suite_project) == ["test_all_indexes_created", "test_index_usage_verified_by_explain_query_plan"]


@pytest.mark.parametrize("content", [None, b"this is not a database at all, just text\n"])
def test_bad_sqlite_path_is_a_one_line_usage_error(suite_project, tmp_path, content):
    path = tmp_path / "prod.db"
    if content is not None:
        path.write_bytes(content)
    result = run_suite(suite_project, "--prodready-sqlite", str(path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1 and str(path) in errors[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def build_reference_database(folder: Path) -> Path:
    """A real reference database file, built the way the default target builds it."""

    async def build() -> Path:
        service = await create_target(TargetContext(workdir=folder, options={"volume": {"sessions": 5, "memories": 20, "documents": 3}}))
        path = service.database_path
        await service.close()
        return path

    return asyncio.run(build())
