"""The rule kinds beyond the seed metrics, on a real SQLite file: pass, fail with a sample, misspelled name.

Also: a misspelling in a rule file is a usage error (exit 4) naming it with
a suggestion; ``declared_foreign_keys`` becomes one item per key; a schema
snapshot turns drift into a NO-GO that names the change; a rule's own SQL
cannot write; count and sample come from one pass over the table.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_prodready.checks.rules import make_rule
from pytest_prodready.checks.rule_runner import CheckError, run_rule
from pytest_prodready.checks.sqlite import SQLiteProbe

from .sessions import assert_usage_error, read_report

SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, status TEXT, meta TEXT, updated_at TEXT);
CREATE TABLE tasks (id INTEGER PRIMARY KEY, session_id INTEGER REFERENCES sessions(id), status TEXT,
                    retry_count INTEGER, max_retries INTEGER, code TEXT, version_key TEXT, deleted_at TEXT,
                    terminated_at TEXT);
CREATE TABLE pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b));
CREATE TABLE links (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, FOREIGN KEY (a, b) REFERENCES pairs(a, b));
CREATE INDEX idx_tasks_session ON tasks(session_id);
INSERT INTO sessions VALUES (1, 'active', '{{"user": "u1"}}', datetime({now} - 60, 'unixepoch')),
                            (2, 'closed', '{{"user": 7}}', datetime({now} - 7200, 'unixepoch')),
                            (3, 'archived', '{{not json', NULL);
INSERT INTO tasks VALUES (1, 1, 'open', 0, 3, 'TK-1', 'k1', NULL, NULL),
                         (2, 9, 'done', 5, 3, 'tk_2', 'k1', NULL, NULL),
                         (3, NULL, 'terminated', 1, 3, 'TK-3', 'k1', '2026-01-01', NULL),
                         (4, 1, 'open', 2, 3, 'TK-4', 'k2', NULL, NULL);
INSERT INTO pairs VALUES (1, 1);
INSERT INTO links VALUES (1, 1, 1), (2, 1, 2);
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA.format(now=time.time()))  # ages measured from now, however long the run
    conn.close()
    return path


async def outcome(db: Path, check: str, **params: object):
    return await run_rule(make_rule(check, params), db)


# kind -> (passing params, failing params, expected offenders, a sample row's subset, misspelled params, error)
KINDS = {
    "allowed_values": (
        dict(table="sessions", column="status", values=["active", "closed", "archived"]),
        dict(table="sessions", column="status", values=["active", "closed"]), 1, {"status": "archived"},
        dict(table="sessions", column="statsu", values=["x"]), "no column 'statsu' in table 'sessions' "
        "(did you mean 'status'?)"),
    "json_valid": (
        dict(table="sessions", column="meta", where="id < 3"),
        dict(table="sessions", column="meta"), 1, {"meta": "{not json"},
        dict(table="sesions", column="meta"), "no table 'sesions' in the database (did you mean 'sessions'?)"),
    "pattern": (
        dict(table="tasks", column="code", regex=r"^[A-Za-z]{2}[-_]\d+$"),
        dict(table="tasks", column="code", regex=r"^TK-\d+$"), 1, {"code": "tk_2"},
        dict(table="tasks", column="kode", regex="x"), "no column 'kode' in table 'tasks' (did you mean 'code'?)"),
    "row_condition": (
        dict(table="tasks", condition="retry_count <= max_retries", where="id <> 2"),
        dict(table="tasks", condition="retry_count <= max_retries"), 1, {"id": 2, "retry_count": 5},
        dict(table="tasks", condition='"retry_cnt" <= max_retries'), 'no column or table "retry_cnt" (SQLite would '
        "read it as the string 'retry_cnt') (did you mean 'retry_count'?)"),
    "failed_rows": (
        dict(query="SELECT id FROM tasks WHERE retry_count > max_retries + 10"),
        dict(query="SELECT id, status FROM tasks WHERE (status = 'terminated') <> (terminated_at IS NOT NULL)"),
        1, {"id": 3, "status": "terminated"},
        dict(query="SELECT id FROM task"), "no such table: task (did you mean 'tasks'?)"),
    "freshness": (
        dict(table="sessions", column="updated_at", max_age="1h"),
        dict(table="sessions", column="updated_at", max_age=30, where="id = 2"), None, None,
        dict(table="sessions", column="updated", max_age="1h"), "no column 'updated' in table 'sessions' "
        "(did you mean 'updated_at'?)"),
    "row_count": (
        dict(table="tasks", min=1, max=10),
        dict(table="tasks", min=5), None, None,
        dict(table="task", min=1), "no table 'task' in the database (did you mean 'tasks'?)"),
    "table_schema": (
        dict(table="pairs", columns={"a": "integer", "b": "INTEGER"}),
        dict(table="pairs", columns={"a": "TEXT", "c": "INTEGER"}), 3, {"column": "a", "change": "type"},
        None, None),
    "index_definitions": (
        dict(expect={"idx_tasks_session": "CREATE INDEX idx_tasks_session ON tasks (session_id)"}),
        dict(expect={"idx_tasks_session": "CREATE INDEX idx_tasks_session ON tasks(status)"}), 1,
        {"index": "idx_tasks_session", "change": "definition"}, None, None),
    "query_plan": (
        dict(queries={"tasks_of_session": "SELECT * FROM tasks WHERE session_id = :session"}),
        dict(queries={"tasks_of_session": "SELECT * FROM tasks WHERE session_id = ?",
                      "by_status": "SELECT * FROM tasks WHERE status = ? ORDER BY code"}), 1,
        {"query": "by_status", "steps": "SCAN tasks; USE TEMP B-TREE FOR ORDER BY"},
        dict(queries={"q": "SELECT * FROM tasks WHERE sesion_id = ?"}),
        "no such column: sesion_id (did you mean 'session_id'?)"),
    "duplicates": (
        dict(table="tasks", columns="version_key", where="deleted_at IS NULL AND status = 'open'"),
        dict(table="tasks", columns="version_key", where="deleted_at IS NULL"), 1, {"version_key": "k1", "copies": 2},
        dict(table="tasks", columns="version", where="deleted_at IS NULL"),
        "no column 'version' in table 'tasks' (did you mean 'version_key'?)"),
    "declared_foreign_keys": (
        dict(tables=["sessions"]),
        dict(), 2, {"foreign_key": "links.a,b->pairs.a,b", "a": 1, "b": 2},
        dict(tables=["taks"]), "no table 'taks' in the database (did you mean 'tasks'?)"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.asyncio
async def test_each_kind_passes_fails_with_a_sample_and_refuses_a_misspelling(kind, db):
    passing, failing, offenders, sample, misspelled, error = KINDS[kind]
    good = await outcome(db, kind, **passing)
    assert good.passed, good.message
    bad = await outcome(db, kind, **failing)
    assert not bad.passed
    if offenders is not None:
        assert bad.value == offenders, bad.message
        assert sample.items() <= bad.sample[0].items(), bad.sample
        assert bad.message.startswith(f"{kind}: {offenders} > 0 (threshold == 0;")
    if misspelled is not None:
        with pytest.raises(CheckError) as failure:
            await outcome(db, kind, **misspelled)
        assert str(failure.value).endswith(error)


@pytest.mark.asyncio
async def test_freshness_and_row_count_read_as_age_and_bounds(db):
    stale = await outcome(db, "freshness", table="sessions", column="updated_at", max_age="1h", where="id = 2")
    assert stale.value == pytest.approx(7200, abs=60)
    assert stale.message.startswith("freshness: 72") and "s > 3600 s" in stale.message
    assert (await outcome(db, "row_count", table="tasks", min=1, max=3)).message.startswith(
        "row_count: 4 > 3 (threshold between 1 and 3")


@pytest.mark.asyncio
async def test_json_against_a_schema_and_a_composite_foreign_key(db):
    typed = await outcome(db, "json_valid", table="sessions", column="meta",
                          schema={"type": "object", "properties": {"user": {"type": "string"}}})
    assert typed.value == 2 and [row["rowid"] for row in typed.sample] == [2, 3]
    declared = await outcome(db, "declared_foreign_keys")
    assert declared.note == "per key: links.a,b->pairs.a,b: 1, tasks.session_id->sessions.id: 1"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("DELETE FROM tasks", "refused: expected a single SELECT statement, got 'DELETE FROM tasks'"),
        ("SELECT 1; DELETE FROM tasks", "refused: expected a single SELECT statement, found more than one"),
        ("WITH x AS (SELECT 1) INSERT INTO pairs SELECT 5, 5 FROM x", "refused: not a read-only SELECT (it would "
         "insert rows)"),
    ],
)
@pytest.mark.asyncio
async def test_a_failed_rows_query_must_be_one_read_only_select(db, query, error):
    with pytest.raises(CheckError) as failure:
        await outcome(db, "failed_rows", query=query)
    assert str(failure.value).endswith(f"key 'query': {error}")
    assert sqlite3.connect(db).execute("SELECT count(*) FROM pairs").fetchone() == (1,)


@pytest.mark.asyncio
async def test_the_probe_connection_is_read_only_and_query_only(db):
    async with SQLiteProbe(db) as probe:
        assert await probe.pragma("query_only") == 1
        with pytest.raises(Exception, match="readonly|query_only"):
            await probe.rows("INSERT INTO pairs VALUES (9, 9)")


@pytest.mark.asyncio
async def test_count_and_sample_read_the_table_once(tmp_path):
    """More offenders than the sample: the count resumes after the sample (a rowid seek), no second scan."""
    path = tmp_path / "big.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER, status TEXT)")
    conn.executemany("INSERT INTO parents VALUES (?)", [(i,) for i in range(100)])
    conn.executemany("INSERT INTO children VALUES (?, ?, ?)",
                     [(i, i % 130, "bad" if i % 7 == 0 else "ok") for i in range(1, 2001)])
    conn.commit()
    conn.close()
    async with SQLiteProbe(path) as probe:
        statements: list[str] = []
        await probe.connection.set_trace_callback(statements.append)
        found = await run_rule(make_rule("allowed_values", {"table": "children", "column": "status",
                                                            "values": ["ok"]}, sample=3), probe)
        orphans = await run_rule(make_rule("orphans", {"child": "children.parent_id", "parent": "parents.id"}),
                                 probe)
        await probe.connection.set_trace_callback(None)
    assert found.value == 2000 // 7 and [row["rowid"] for row in found.sample] == [7, 14, 21]
    reads = [s for s in statements if "FROM \"children\"" in s and not s.startswith("EXPLAIN")]
    assert len(reads) == 2 + 2, reads  # per rule: the sample, then the count from the last sampled rowid on
    assert "AND (rowid) > (21)" in reads[1]
    assert orphans.value == sum(1 for i in range(1, 2001) if i % 130 >= 100)
    assert "NOT IN (SELECT \"id\" FROM \"parents\")" in reads[2]  # no IS NOT NULL: SQLite probes by rowid
    conn = sqlite3.connect(path)
    conn.execute("CREATE INDEX idx_children_status ON children(status)")
    conn.close()
    async with SQLiteProbe(path) as probe:
        statements.clear()
        await probe.connection.set_trace_callback(statements.append)
        indexed = await run_rule(make_rule("allowed_values", {"table": "children", "column": "status",
                                                              "values": ["ok"]}, sample=3), probe)
        await probe.connection.set_trace_callback(None)
    assert (indexed.value, indexed.sample) == (found.value, found.sample)
    reads = [s for s in statements if "FROM \"children\"" in s and not s.startswith("EXPLAIN")]
    assert len(reads) == 2 and "AND (\"status\", rowid) > ('bad', 21)" in reads[1]  # resumed in index order


@pytest.mark.parametrize("sample, statements_expected", [(500, 1), (3, 2)])
@pytest.mark.asyncio
async def test_foreign_key_check_reads_every_child_row_once(tmp_path, sample, statements_expected):
    """The pragma reads every child row: when the sample holds every violation the counts come from it
    (one statement); with more, the sample stops after ``sample + 1`` rows and one grouped pass counts."""
    path = tmp_path / "fk.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents(id))")
    conn.executemany("INSERT INTO parents VALUES (?)", [(i,) for i in range(100)])
    conn.executemany("INSERT INTO children VALUES (?, ?)", [(i, i % 130) for i in range(1, 2001)])
    conn.commit()
    conn.close()
    async with SQLiteProbe(path) as probe:
        statements: list[str] = []
        await probe.connection.set_trace_callback(statements.append)
        found = await run_rule(make_rule("foreign_key_check", {"table": "children"}, sample=sample), probe)
        await probe.connection.set_trace_callback(None)
    violations = [i for i in range(1, 2001) if i % 130 >= 100]
    assert found.value == len(violations) and [row["rowid"] for row in found.sample] == violations[:sample]
    assert found.details == {"per_table": [{"table": "children", "parent": "parents", "violations": len(violations)}]}
    pragmas = [s for s in statements if "pragma_foreign_key_check" in s]
    assert len(pragmas) == statements_expected, statements
    assert f"LIMIT {sample + 1}" in pragmas[0]


@pytest.mark.asyncio
async def test_the_validation_rate_judges_each_relationship_once(tmp_path):
    """Rate and sample: the sample is read first, the rate judges only the rows after the n-th offender."""
    from pytest_prodready.datasets.loaders import write_sqlite

    path = write_sqlite(tmp_path / "graph.db", {
        "documents": [(1, "d")],
        "entities": [(e, f"s{e}", f"e{e}", "concept", 1) for e in range(1, 11)],
        "relationships": [(r, 1 + r % 10, 1 + (r + 1) % 10, "uses", 0.5, None if r % 7 == 0 else "e", 1)
                          for r in range(1, 201)]})
    async with SQLiteProbe(path) as probe:
        statements: list[str] = []
        await probe.connection.set_trace_callback(statements.append)
        found = await run_rule(make_rule("validation_success_rate", {}, sample=3), probe)
        await probe.connection.set_trace_callback(None)
    assert found.value == pytest.approx(100 * (200 - 200 // 7) / 200)
    assert [row["id"] for row in found.sample] == [7, 14, 21]
    judged = [s for s in statements if "r.evidence IS NULL" in s]
    assert len(judged) == 2 and "r.id > 21 AND" in judged[1], judged  # the rate resumes after the sample


@pytest.mark.asyncio
async def test_the_catalog_is_read_once_per_probe_and_schema_and_not_at_all_once_checked(db):
    """Names checked at collection are not looked up again; one probe's rules share one catalog read."""
    spec = make_rule("nulls", {"table": "tasks", "columns": ["code"]})
    async with SQLiteProbe(db) as probe:
        statements: list[str] = []
        await probe.connection.set_trace_callback(statements.append)
        await run_rule(spec, probe)
        await run_rule(spec, probe)
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE later (id INTEGER PRIMARY KEY)")  # a schema change: read again
        await run_rule(spec, probe)
        catalog_reads = sum("FROM sqlite_schema" in s for s in statements)
        statements.clear()
        await run_rule(spec, probe, names_checked=True)
        await probe.connection.set_trace_callback(None)
    assert catalog_reads == 2
    assert not [s for s in statements if "sqlite_schema" in s or "schema_version" in s], statements


def test_rule_file_items_carry_the_names_checked_at_collection(pytester, db):
    write_project(pytester, db, '[consistency.rules.codes]\ncheck = "nulls"\ntable = "tasks"\ncolumns = ["code"]\n')
    (item,) = pytester.getitems(pytester.path / "prodready.toml")
    assert item.names_checked is True


def write_project(pytester: pytest.Pytester, db: Path, rules: str) -> None:
    (pytester.path / "app.db").write_bytes(db.read_bytes())
    pytester.makefile(".toml", prodready=f'[consistency.stores.app]\nsqlite = "app.db"\n{rules}')
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n')


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ('check = "allowed_values"\ntable = "tasks"\ncolumn = "statsu"\nvalues = ["open"]',
         "key 'column': no column 'statsu' in table 'tasks' (did you mean 'status'?)"),
        ('check = "row_condition"\ntable = "tasks"\ncondition = "\\"retry_cnt\\" <= max_retries"',
         "key 'condition': no column or table \"retry_cnt\""),
    ],
)
def test_a_misspelled_name_in_a_rule_file_is_a_usage_error(pytester, db, rule, error):
    write_project(pytester, db, f"[consistency.rules.status]\n{rule}\n")
    line = assert_usage_error(run(pytester))
    assert line.startswith(f"ERROR: prodready.toml [consistency] rule 'status': {error}")


def test_declared_foreign_keys_become_one_item_per_key(pytester, db):
    write_project(pytester, db, "[consistency.rules.declared_foreign_keys]\n")
    result = run(pytester, "-q", "--prodready")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*declared_foreign_keys[[]links.a,b->pairs.a,b[]]: 1 > 0 (threshold == 0; sample: rowid=2 a=1 b=2)",
        "*declared_foreign_keys[[]tasks.session_id->sessions.id[]]: 1 > 0 (threshold == 0; sample: rowid=2 "
        "session_id=9)",
    ])
    cases = read_report(pytester.path / "reports" / "readiness.json")["cases"]
    assert sorted(case["category"] for case in cases) == [
        "declared_foreign_keys[links.a,b->pairs.a,b]", "declared_foreign_keys[tasks.session_id->sessions.id]"]


def test_a_schema_snapshot_turns_drift_into_a_no_go_naming_the_change(pytester, db):
    (pytester.path / "app.db").write_bytes(db.read_bytes())
    snapshot = subprocess.run([sys.executable, "-m", "pytest_prodready.checks.snapshot", "app.db"],
                              cwd=pytester.path, capture_output=True, text=True, timeout=60, check=True).stdout
    (pytester.path / "prodready.toml").write_text(snapshot)
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n')
    result = run(pytester, "-q", "-k", "schema")
    result.assert_outcomes(passed=7)
    conn = sqlite3.connect(pytester.path / "app.db")
    conn.executescript("DROP INDEX idx_tasks_session; CREATE INDEX idx_tasks_session ON tasks(status);"
                       "ALTER TABLE sessions ADD COLUMN note TEXT; CREATE TABLE extra (x);")
    conn.close()
    result = run(pytester, "-q", "-k", "schema")
    result.assert_outcomes(passed=4, failed=3)
    result.stdout.fnmatch_lines_random([
        "*schema_tables: 1 > 0 (threshold == 0; sample: table='extra' change='unexpected')",
        "*schema_table_sessions: 1 > 0 (threshold == 0; sample: column='note' change='unexpected' actual='TEXT')",
        "*schema_indexes: 1 > 0 (threshold == 0; sample: index='idx_tasks_session' change='definition' "
        "expected='ON tasks(session_id)' actual='ON tasks(status)')",
    ])
    assert "READINESS: NO-GO" in result.stdout.str()


@pytest.mark.asyncio
async def test_foreign_key_check_counts_each_declared_key_past_the_sample(tmp_path):
    """More violations than the sample, in two child tables and two parents: each (child, parent) counted."""
    path = tmp_path / "fk2.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE b (id INTEGER PRIMARY KEY);"
        "CREATE TABLE x (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), b_id INTEGER REFERENCES b(id));"
        "CREATE TABLE y (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));"
        "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1);"
    )
    conn.executemany("INSERT INTO x VALUES (?, ?, ?)", [(i, 1 if i % 2 else 9, 1 if i % 3 else 9) for i in range(1, 31)])
    conn.executemany("INSERT INTO y VALUES (?, ?)", [(i, 9) for i in range(1, 6)])
    conn.commit()
    conn.close()
    async with SQLiteProbe(path) as probe:
        found = await run_rule(make_rule("foreign_key_check", {}, sample=2), probe)
    assert found.details == {"per_table": [{"table": "x", "parent": "a", "violations": 15},
                                           {"table": "x", "parent": "b", "violations": 10},
                                           {"table": "y", "parent": "a", "violations": 5}]}
    assert found.value == 30 and len(found.sample) == 2
