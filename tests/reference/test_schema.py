"""Schema, indexes, pragmas and seed data of a fresh reference database."""

from __future__ import annotations

import sqlite3

import pytest

from pytest_prodready.reference import (
    EXAMPLE_SESSION_ID,
    EXPECTED_INDEXES,
    EXPECTED_TABLES,
    PRAGMA_READBACK,
    PRAGMAS,
    SYSTEM_TASK_ID,
    apply_schema,
)
from pytest_prodready.reference.seed import INITIAL_MEMORIES


def test_constants_describe_33_indexes_and_11_tables():
    assert len(EXPECTED_INDEXES) == len(set(EXPECTED_INDEXES)) == 33
    assert EXPECTED_INDEXES[0] == "idx_sessions_pk" and EXPECTED_INDEXES[-1] == "idx_checkpoints_task"
    assert len(EXPECTED_TABLES) == 11
    assert set(PRAGMAS) == set(PRAGMA_READBACK)


def test_every_expected_table_exists(raw):
    tables = {name for (name,) in raw("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables - {"sqlite_sequence"} == set(EXPECTED_TABLES)


def test_exactly_the_33_named_indexes_exist(raw):
    named = {
        name
        for (name,) in raw("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'")
    }
    assert named == set(EXPECTED_INDEXES)


@pytest.mark.parametrize(
    ("index", "columns", "where"),
    [
        ("idx_sessions_status_updated", [("status", 0), ("last_update_time", 1)], "status IN ('active', 'paused')"),
        ("idx_memory_namespace_key_version", [("namespace", 0), ("key", 0), ("is_deleted", 0), ("version", 1)], None),
        ("idx_memory_namespace_prefix", [("namespace", 0), ("updated_at", 1)], "is_deleted = 0"),
        ("idx_memory_episodic_ttl", [("memory_type", 0), ("updated_at", 0)], "memory_type = 'episodic'"),
        ("idx_tasks_status_priority", [("status", 0), ("priority", 1), ("submitted_at", 0)], None),
        ("idx_audit_memory_namespace", [("memory_namespace", 0), ("timestamp", 1)], "memory_namespace IS NOT NULL"),
        ("idx_checkpoints_task", [("task_id", 0), ("iteration", 1)], None),
    ],
)
def test_index_columns_order_and_partial_clause(raw, index, columns, where):
    info = raw(f"PRAGMA index_xinfo({index})")
    assert [(row[2], row[3]) for row in info if row[5]] == columns  # key columns: (name, desc)
    (sql,) = raw("SELECT sql FROM sqlite_master WHERE name = ?", (index,))[0]
    if where is None:
        assert "WHERE" not in sql
    else:
        assert where in sql


@pytest.mark.asyncio
async def test_pragmas_in_effect_on_writer_and_readers(service):
    async def readback(conn):
        values = {}
        for name in PRAGMA_READBACK:
            async with conn.execute(f"PRAGMA {name}") as cursor:
                values[name] = (await cursor.fetchone())[0]
        return values

    assert await readback(service.db.writer) == PRAGMA_READBACK
    async with service.db.read() as reader:
        assert await readback(reader) == PRAGMA_READBACK


def test_wal_mode_is_persistent_in_the_file(raw):
    assert raw("PRAGMA journal_mode") == [("wal",)]


def test_json_check_constraints_reject_invalid_json(raw, service):
    conn = sqlite3.connect(service.database_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("INSERT INTO sessions (id, app_name, user_id, events) VALUES ('x', 'a', 'u', 'not json')")
    finally:
        conn.close()


@pytest.mark.asyncio
async def test_apply_schema_is_idempotent(service, raw):
    await apply_schema(service.db.writer)
    assert len(raw("SELECT name FROM sqlite_master WHERE name LIKE 'idx_%'")) == 33


def test_seed_data_present(raw):
    assert raw("SELECT status FROM tasks WHERE id = ?", (SYSTEM_TASK_ID,)) == [("completed",)]
    assert raw("SELECT status FROM sessions WHERE id = ?", (EXAMPLE_SESSION_ID,)) == [("created",)]
    assert raw("SELECT COUNT(*) FROM memory_entries") == [(len(INITIAL_MEMORIES),)]
    procedural = "SELECT COUNT(*) FROM memory_entries WHERE memory_type = 'procedural' AND namespace LIKE 'app:%'"
    assert raw(procedural)[0][0] >= 4
    audit_sql = "SELECT COUNT(*) FROM audit WHERE memory_operation_type = 'create' AND task_id = ?"
    audited = raw(audit_sql, (SYSTEM_TASK_ID,))
    assert audited == [(len(INITIAL_MEMORIES),)]
    assert raw("PRAGMA foreign_key_check") == []
    assert raw("PRAGMA integrity_check") == [("ok",)]
