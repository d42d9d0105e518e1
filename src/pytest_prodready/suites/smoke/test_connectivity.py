"""Category 1, database connectivity (5 cases): the target's database answers and is sound.

The expected schema is ``[tool.prodready.schema]`` (a DDL file, tables, JSON
columns, pragmas) or the reference schema; indexes are matched by definition,
not by name.  Per-connection settings are read on the connections the target
itself opened (captured for the session), not on the checker's own.
"""

from __future__ import annotations

import pytest

from pytest_prodready.checks.schema_expectation import (
    MIN_BUSY_TIMEOUT_MS,
    index_differences,
    present_indexes,
    virtual_tables,
)
from pytest_prodready.checks.sqlite import pragma_value, quote_name

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="connectivity")]


async def test_database_connection_successful(target, sqlite_db, statement_log, expected_schema, readiness_figures):
    assert await target.get_session("prodready-connectivity-probe") is None, "the target answered a read wrongly"
    for name, want in expected_schema.pragmas.items():
        actual = await sqlite_db.pragma(name)
        assert pragma_value(name, actual) == pragma_value(name, want), f"PRAGMA {name} is {actual!r}, expected {want!r}"
    connections = statement_log.connections()
    assert connections, (
        "no connection of the target captured: it opened no sqlite3/aiosqlite connection in this process, "
        "so busy_timeout and foreign_keys of its connections cannot be read"
    )
    seen, wrong = [], []
    for conn in connections:
        busy, foreign_keys = await conn.pragma("busy_timeout"), await conn.pragma("foreign_keys")
        seen.append({"connection": conn.label, "writes": conn.wrote, "busy_timeout": busy, "foreign_keys": foreign_keys})
        if (busy or 0) < MIN_BUSY_TIMEOUT_MS:
            wrong.append(f"{conn.label}: busy_timeout {busy} (a concurrent writer fails at once with 'database is locked')")
        if conn.wrote and foreign_keys != 1:
            wrong.append(f"{conn.label} writes with foreign_keys OFF")
    readiness_figures["target_connections"] = seen
    assert not wrong, "connection settings: " + "; ".join(wrong)


async def test_all_tables_exist_and_accessible(sqlite_db, consistency, expected_schema):
    await consistency.assert_tables(sqlite_db, *expected_schema.tables)
    virtual = await virtual_tables(sqlite_db)  # existence only: their module may not load in the checker
    for table in expected_schema.tables:
        if table not in virtual:
            await sqlite_db.rows(f"SELECT 1 FROM {quote_name(table)} LIMIT 1")


async def test_all_indexes_created(sqlite_db, expected_schema, readiness_figures):
    present = await present_indexes(sqlite_db)
    readiness_figures["indexes"] = {"expected": len(expected_schema.indexes), "present": len(present)}
    problems = index_differences(expected_schema.indexes, present)
    assert not problems, f"indexes missing by definition ({expected_schema.source}): " + "; ".join(problems)


async def test_integrity_check_passes(sqlite_db, consistency, expected_schema):
    """integrity_check, then the data the schema cannot guard once a CHECK or UNIQUE is gone."""
    await consistency.assert_integrity(sqlite_db)
    for table, columns in expected_schema.json_columns.items():
        for column in columns:
            col = quote_name(column)
            bad = await sqlite_db.rows(
                f"SELECT rowid, {col} FROM {quote_name(table)} WHERE {col} IS NOT NULL AND NOT json_valid({col}) LIMIT 3"
            )
            assert not bad, f"invalid JSON stored in {table}.{column}: {bad!r}"
    for table, keys in expected_schema.unique_keys.items():
        for columns in keys:
            await consistency.assert_unique(sqlite_db, table, *columns)


async def test_foreign_key_check_passes(sqlite_db, consistency):
    await consistency.assert_foreign_keys(sqlite_db)
