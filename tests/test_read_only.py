"""Read-only by default: a run against a real system changes nothing in it.

The smoke suite runs against a user adapter and an existing SQLite file
without ``--prodready-allow-writes``: the writing cases are skipped by
policy, the verdict says so and stays NO-GO, and the database file (with its
-wal and -shm companions, where present) is byte-identical afterwards.  On Neo4j the
consistency checks' read transactions are refused any write by the server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from pytest_prodready.checks.graph import GraphError, Neo4jGraph
from pytest_prodready.read_only import WRITES_NOT_ALLOWED, blocks, held_back, note
from pytest_prodready.records import CaseResult
from pytest_prodready.verdict import SMOKE_REQUIREMENTS, decide_verdict

from .test_smoke_suite import SMALL_PROJECT, SUITE, build_reference_database

USER_ADAPTER = '''
import os
from pathlib import Path

from pytest_prodready.reference.factory import open_service


async def mine(context):
    """A user's adapter: the reference service over the very file the test hashes (and --prodready-sqlite probes).

    So a write by the target, not only by the SQL probe, changes the hashed bytes.  PRODREADY_TEST_WRITE_ONCE=1
    makes the adapter write one session first: the test's own proof that it would see such a write.
    """
    service = await open_service(Path(os.environ["PRODREADY_TEST_DATABASE"]))
    if os.environ.get("PRODREADY_TEST_WRITE_ONCE") == "1":
        await service.create_session("written-by-the-adapter", "readonly-test", "readonly-test")
    return service
'''
READ_ONLY_CASES = 8  # 5 connectivity, EXPLAIN, semantic and hybrid search


class Marked:
    def __init__(self, *names: str) -> None:
        self.names = names

    def get_closest_marker(self, name: str) -> object:
        return object() if name in self.names else None


@pytest.mark.parametrize(
    ("names", "uses_reference", "allow_writes", "expected"),
    [
        (("writes",), False, False, True),
        (("writes",), True, False, False),
        (("writes",), False, True, False),
        ((), False, False, False),
    ],
)
def test_only_writing_cases_against_a_real_target_without_permission_are_blocked(names, uses_reference, allow_writes, expected):
    assert blocks(Marked(*names), uses_reference, allow_writes) is expected


def test_a_read_only_run_is_no_go_and_names_the_policy():
    reason = f"Skipped: {WRITES_NOT_ALLOWED}"
    records = [CaseResult(f"t.py::read{i}", "smoke", "connectivity") for i in range(5)]
    records += [CaseResult(f"t.py::write{i}", "smoke", "core_operations", outcome="skipped", message=reason) for i in range(10)]
    verdict = decide_verdict(records, {"smoke": {"connectivity": 5, "core_operations": 10}})
    assert not verdict.go and held_back(records) == verdict.not_run_by_policy
    assert len(verdict.not_run_by_policy) == 10
    assert f"{note(10)}: {WRITES_NOT_ALLOWED}" in verdict.reasons
    assert "smoke / core_operations: 10 not run (skipped)" in verdict.reasons
    assert decide_verdict(records[:5], {"smoke": {"connectivity": 5}}).not_run_by_policy == ()


def database_hashes(path: Path) -> dict[str, str]:
    """sha256 of the database and of its -wal / -shm files, for those present."""
    found = {}
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if candidate.exists():
            found[candidate.name] = hashlib.sha256(candidate.read_bytes()).hexdigest()
    return found


def read_only_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, database: Path) -> pytest.RunResult:
    """The smoke suite against ``adapters:mine`` (the target over ``database``) with ``--prodready-sqlite database``."""
    shutil.copytree(SUITE, pytester.path / "smoke", dirs_exist_ok=True)
    pytester.makepyprojecttoml(SMALL_PROJECT)
    pytester.makepyfile(adapters=USER_ADAPTER)
    monkeypatch.setenv("PRODREADY_TEST_DATABASE", str(database))
    return pytester.runpytest_subprocess("smoke", "-p", "no:cacheprovider", "--prodready-target", "adapters:mine",
                                         "--prodready-sqlite", str(database), timeout=300)


def assert_unchanged(database: Path, before: dict[str, str]) -> None:
    after = database_hashes(database)
    assert {name: after.get(name) for name in before} == before
    # A WAL reader (mode=ro) leaves SQLite's shared-memory index behind; no page ever reached a new -wal.
    wal = database.with_name(database.name + "-wal")
    assert wal.name in before or not wal.exists() or wal.stat().st_size == 0


def test_a_read_only_smoke_run_leaves_the_database_byte_identical(pytester, monkeypatch, tmp_path: Path):
    database = build_reference_database(tmp_path / "prod")
    before = database_hashes(database)
    result = read_only_run(pytester, monkeypatch, database)
    assert_unchanged(database, before)
    skipped = sum(SMOKE_REQUIREMENTS.values()) - READ_ONLY_CASES
    result.assert_outcomes(passed=READ_ONLY_CASES, skipped=skipped)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*reason: {note(skipped)}: {WRITES_NOT_ALLOWED}*",
                                 f"READINESS: NO-GO ({note(skipped)})"])
    document = json.loads((pytester.path / "reports" / "readiness.json").read_text())
    assert document["verdict"]["decision"] == "NO-GO"
    held = [case for case in document["cases"] if case["message"].endswith(WRITES_NOT_ALLOWED)]
    assert len(held) == skipped and all(case["outcome"] == "skipped" for case in held)


def test_the_byte_comparison_sees_one_write_by_the_target(pytester, monkeypatch, tmp_path: Path):
    """The check above can fail: the same run, with an adapter that writes one session, changes the hashed file."""
    database = build_reference_database(tmp_path / "prod")
    before = database_hashes(database)
    monkeypatch.setenv("PRODREADY_TEST_WRITE_ONCE", "1")
    read_only_run(pytester, monkeypatch, database)
    with pytest.raises(AssertionError):
        assert_unchanged(database, before)


@pytest.mark.asyncio
async def test_the_graph_checks_read_session_refuses_a_write(neo4j_uri: str):
    label = f"ReadOnlyProbe_{uuid.uuid4().hex[:10]}"
    async with Neo4jGraph(neo4j_uri) as graph:
        with pytest.raises(GraphError, match="(?i)write|access mode"):
            await graph.records(f"CREATE (n:{label}) RETURN n")
        assert await graph.records(f"MATCH (n:{label}) RETURN count(n) AS n") == [{"n": 0}]


@pytest.mark.asyncio
async def test_what_a_read_only_probe_leaves_beside_a_wal_database(tmp_path: Path):
    """The README's claim: the database stays byte-identical; a 0-byte -wal and the -shm index appear.

    A WAL reader needs the shared-memory index and a -wal file to exist, even read-only (mode=ro):
    when the writer closed cleanly and removed them, SQLite creates both; nothing is ever written to the -wal.
    """
    from pytest_prodready.checks.sqlite import SQLiteProbe
    from pytest_prodready.wait import sqlite_answers

    database = tmp_path / "app.db"
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    writer.close()
    before = database.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]
    assert sqlite_answers(database)(2.0).healthy
    async with SQLiteProbe(database) as probe:
        assert await probe.rows("SELECT count(*) FROM t") == [(1,)]
    sizes = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    assert database.read_bytes() == before
    assert sizes["app.db-wal"] == 0 and sizes["app.db-shm"] > 0 and set(sizes) == {"app.db", "app.db-wal", "app.db-shm"}
