"""Consistency rules on SQLite: the seeded-fault dataset's exact counts, the SQL-level checks, corruption."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from pytest_prodready.checks.assertions import Consistency
from pytest_prodready.checks.graph import DIALECTS, GRAPH_RULES, SQLITE_NAMES, render
from pytest_prodready.checks.rules import make_rule
from pytest_prodready.checks.rule_runner import CheckError, run_rule
from pytest_prodready.checks.sqlite import ProbeError, SQLiteProbe, full_scans

APP_SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, status TEXT, score REAL);
CREATE TABLE tasks (id INTEGER PRIMARY KEY, session_id TEXT REFERENCES sessions(id), prompt TEXT);
CREATE TABLE memory_entries (id INTEGER PRIMARY KEY, namespace TEXT, key TEXT, value TEXT);
CREATE INDEX idx_tasks_session ON tasks(session_id);
INSERT INTO sessions VALUES ('s1', 'active', 0.5), ('s2', 'active', 1.7), ('s3', NULL, -2), ('s4', '  ', NULL);
INSERT INTO tasks VALUES (1, 's1', 'a'), (2, 'gone', 'b'), (3, NULL, 'c'), (4, 'lost', 'd'), (5, 's2', 'e');
INSERT INTO memory_entries VALUES (1, 'user:a', 'k', 'v'), (2, 'user:a', 'k', 'w'), (3, 'user:b', 'k', 'v'),
                                  (4, 'user:a', 'k', 'x'), (5, NULL, 'k', 'y'), (6, NULL, 'k', 'z');
"""

pytestmark = pytest.mark.asyncio


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    """A small WAL database with known faults: 2 orphaned tasks, 1 duplicate key group, 2 nulls, 2 out of range."""
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(APP_SCHEMA)
    conn.close()
    return path


async def measure(check: str, source: object, **params: object):
    return await run_rule(make_rule(check, params), source)


@pytest.mark.parametrize("rule", GRAPH_RULES)
async def test_seeded_faults_are_counted_exactly(rule, graph_db, faults_graph_data):
    outcome = await measure(rule, graph_db(faults_graph_data))
    assert outcome.value == pytest.approx(faults_graph_data.expected[rule])


async def test_the_seeded_counts_are_the_documented_ones(faults_graph_data):
    assert faults_graph_data.expected == {
        "orphaned_relationships": 3,
        "duplicate_semantic_ids": 4,
        "missing_evidence": 7,
        "inconsistent_confidence": 2,
        "validation_success_rate": pytest.approx(100 * 292 / 303),
    }


@pytest.mark.parametrize("rule", GRAPH_RULES)
async def test_clean_graph_passes_the_shipped_thresholds(rule, graph_db, clean_graph_data):
    outcome = await measure(rule, graph_db(clean_graph_data))
    assert outcome.passed, outcome.message
    assert outcome.value == clean_graph_data.expected[rule]
    assert outcome.sample == ()


async def test_orphans_fail_with_the_offending_rows_in_the_message(graph_db, faults_graph_data):
    outcome = await measure("orphaned_relationships", graph_db(faults_graph_data))
    assert not outcome.passed
    assert outcome.message.startswith("orphaned_relationships: 3 > 0 (threshold == 0; sample: id=301 source_id=1120")
    assert [row["id"] for row in outcome.sample] == [301, 302, 303]


async def test_duplicate_groups_list_their_entities(graph_db, faults_graph_data):
    outcome = await measure("duplicate_semantic_ids", graph_db(faults_graph_data), threshold="== 0")
    assert sorted(row["entities"] for row in outcome.sample) == [2, 2, 2, 3]
    assert all(len(row["ids"].split(",")) == row["entities"] for row in outcome.sample)


async def test_rate_names_the_failing_relationships(graph_db, faults_graph_data):
    outcome = await measure("validation_success_rate", graph_db(faults_graph_data), threshold="> 99")
    assert outcome.details == {"total": 303, "failing": 11}
    assert outcome.message.startswith("validation_success_rate: 96.37% <= 99% (threshold > 99; "
                                      "11 of 303 relationships fail a relationship rule; sample: id=")


async def test_the_orphan_rule_reads_each_table_once_not_once_per_row(graph_db, faults_graph_data):
    sql = render(DIALECTS["sql"].count.format(predicate=DIALECTS["sql"].orphan), "sql", SQLITE_NAMES)
    async with SQLiteProbe(graph_db(faults_graph_data)) as probe:
        plan = await probe.query_plan(sql)
    assert [step.split()[1] for step in full_scans(plan)] == ["r"], plan  # entities probed by rowid, not listed
    assert sum(step == "USING ROWID SEARCH ON TABLE entities FOR IN-OPERATOR" for step in plan) == 2, plan
    assert not any("CORRELATED" in step for step in plan), plan


async def test_orphans_are_found_by_an_anti_join_and_nulls_are_not_orphans(app_db):
    outcome = await measure("orphans", app_db, child="tasks.session_id", parent="sessions.id")
    assert outcome.value == 2
    assert outcome.sample == ({"rowid": 2, "session_id": "gone"}, {"rowid": 4, "session_id": "lost"})


async def test_duplicates_count_groups_and_ignore_null_keys(app_db):
    outcome = await measure("duplicates", app_db, table="memory_entries", columns=["namespace", "key"])
    assert outcome.value == 1
    assert outcome.sample == ({"namespace": "user:a", "key": "k", "copies": 3},)


async def test_nulls_and_blank_values(app_db):
    assert (await measure("nulls", app_db, table="sessions", columns="status")).value == 1
    assert (await measure("nulls", app_db, table="sessions", columns=["status"], blank=True)).value == 2


async def test_values_out_of_range(app_db):
    outcome = await measure("range", app_db, table="sessions", column="score", min=0, max=1)
    assert outcome.value == 2
    assert [row["score"] for row in outcome.sample] == [1.7, -2]


async def test_foreign_key_violations_are_listed_per_table(app_db):
    outcome = await measure("foreign_key_check", app_db)
    assert outcome.value == 2
    assert "per table: tasks -> sessions: 2" in outcome.message
    assert outcome.details == {"per_table": [{"table": "tasks", "parent": "sessions", "violations": 2}]}


async def test_missing_tables_and_indexes(app_db):
    tables = await measure("tables", app_db, expect=["sessions", "tasks", "agents"])
    indexes = await measure("indexes", app_db, expect=["idx_tasks_session", "idx_agents_name"])
    assert (tables.value, tables.sample) == (1, ({"table": "agents"},))
    assert (indexes.value, indexes.sample) == (1, ({"index": "idx_agents_name"},))


async def test_file_pragmas_read_from_a_path(app_db):
    assert (await measure("pragmas", app_db, expect={"journal_mode": "WAL"})).passed
    wrong = await measure("pragmas", app_db, expect={"journal_mode": "delete", "user_version": 3})
    assert wrong.sample == ({"pragma": "journal_mode", "expected": "delete", "actual": "wal"},
                            {"pragma": "user_version", "expected": 3, "actual": 0})


async def test_connection_pragmas_need_the_applications_connection(app_db):
    with pytest.raises(CheckError, match="foreign_keys: set per connection"):
        await measure("pragmas", app_db, expect={"foreign_keys": True})
    async with aiosqlite.connect(app_db) as conn:
        await conn.execute("PRAGMA foreign_keys = ON")
        outcome = await measure("pragmas", conn, expect={"journal_mode": "wal", "foreign_keys": "ON"})
    assert outcome.passed, outcome.message


async def test_a_sound_file_passes_integrity_and_quick_check(app_db):
    assert (await measure("integrity_check", app_db)).passed
    assert (await measure("quick_check", app_db)).passed


def corrupt_table_page(path: Path, table: str) -> None:
    """Overwrite 256 bytes in the middle of the table's root page with garbage."""
    conn = sqlite3.connect(path)
    (page_size,), = conn.execute("PRAGMA page_size").fetchall()
    (root,), = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchall()
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size + page_size // 2)
        handle.write(b"\xde\xad\xbe\xef" * 64)


def notes_db(path: Path) -> Path:
    """One table filling most of one page, so the middle of its page holds rows."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i} " + "x" * 60,) for i in range(45)])
    conn.commit()
    conn.close()
    return path


def sqlite_says(path: Path) -> str:
    """The first line SQLite's own integrity_check gives for a file."""
    conn = sqlite3.connect(path)
    try:
        first = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return next(line for line in first.splitlines() if not line.startswith("***"))


async def test_a_corrupted_page_fails_integrity_check_with_sqlites_message(tmp_path):
    path = notes_db(tmp_path / "notes.db")
    corrupt_table_page(path, "notes")
    outcome = await measure("integrity_check", path)
    assert not outcome.passed
    assert sqlite_says(path) in outcome.message
    assert outcome.message.startswith("integrity_check: ")
    assert "\n" not in outcome.message


async def test_the_fixture_api_raises_with_the_rule_message_and_records_figures(app_db, graph_db, faults_graph_data):
    figures: dict = {}
    consistency = Consistency(figures)
    with pytest.raises(AssertionError, match=r"^orphans: 2 > 0 \(threshold == 0; sample: rowid=2 session_id='gone'"):
        await consistency.assert_no_orphans(app_db, child="tasks.session_id", parent="sessions.id")
    await consistency.assert_unique(app_db, "sessions", "id")
    outcomes = await consistency.assert_graph(graph_db(faults_graph_data), thresholds={"orphaned_relationships": "< 4"})
    assert [o.value for o in outcomes[:4]] == [3, 2, 7, 4]
    assert [f["rule"] for f in figures["consistency"]] == ["orphans", "duplicates", *GRAPH_RULES]
    assert figures["consistency"][0]["sample"] == [{"rowid": 2, "session_id": "gone"}, {"rowid": 4, "session_id": "lost"}]


async def test_assert_graph_lists_every_rule_missed(graph_db, faults_graph_data):
    with pytest.raises(AssertionError) as failure:
        await Consistency({}).assert_graph(graph_db(faults_graph_data), thresholds={"missing_evidence": "< 7"})
    assert str(failure.value).startswith("orphaned_relationships: 3 > 0 (")
    assert "; missing_evidence: 7 >= 7 (threshold < 7; sample: id=" in str(failure.value)


async def test_counts_match_names_each_type_off_and_by_how_much(graph_db, clean_graph_data, faults_graph_data):
    source, target = graph_db(clean_graph_data, "a.db"), graph_db(faults_graph_data, "b.db")
    await Consistency({}).assert_counts_match(source, target)
    with pytest.raises(AssertionError, match=r"tolerance 0\.5%: entities 120 -> 125 \(\+4\.2%\), "
                                             r"relations 300 -> 303 \(\+1\.0%\)\)$"):
        await Consistency({}).assert_counts_match(source, target, tolerance=0.005)


async def test_a_missing_file_or_table_is_a_check_error_not_a_crash(tmp_path, app_db):
    with pytest.raises(CheckError, match="key .table.: no table .nowhere. in the database"):
        await measure("nulls", app_db, table="nowhere", columns="x")
    with pytest.raises(CheckError, match="cannot open"):
        await measure("integrity_check", tmp_path / "absent.db")


async def test_a_query_past_its_timeout_is_interrupted_and_the_probe_still_answers(app_db):
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    async with SQLiteProbe(app_db, timeout_s=0.3) as probe:
        with pytest.raises(ProbeError, match="timed out after 0.3 s"):
            await probe.rows(endless)
        assert await probe.ping() == 1


async def test_an_open_probe_such_as_sqlite_db_is_used_and_left_open(app_db):
    async with SQLiteProbe(app_db) as probe:
        outcome = await Consistency({}).assert_integrity(probe)
        assert outcome.backend == "sqlite app.db"
        assert await probe.ping() == 1
