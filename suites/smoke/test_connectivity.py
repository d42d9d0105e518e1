"""Category 1, database connectivity (5 cases): the database answers and is sound."""

from __future__ import annotations

import pytest

from pytest_prodready.reference.schema import EXPECTED_INDEXES, EXPECTED_TABLES

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="connectivity")]


async def test_database_connection_successful(sqlite_db):
    assert await sqlite_db.ping() == 1
    assert await sqlite_db.pragma("schema_version") > 0, "the database has no schema"


async def test_all_tables_exist_and_accessible(sqlite_db):
    missing = sorted(set(EXPECTED_TABLES) - await sqlite_db.tables())
    assert not missing, f"missing tables: {', '.join(missing)}"
    for table in EXPECTED_TABLES:
        (count,), = await sqlite_db.rows(f'SELECT count(*) FROM "{table}"')
        assert count >= 0


async def test_all_indexes_created(sqlite_db):
    missing = sorted(set(EXPECTED_INDEXES) - await sqlite_db.indexes())
    assert not missing, f"{len(missing)} of {len(EXPECTED_INDEXES)} indexes missing: {', '.join(missing)}"


async def test_integrity_check_passes(sqlite_db):
    messages = await sqlite_db.integrity_check()
    assert messages == ["ok"], "PRAGMA integrity_check: " + "; ".join(messages[:10])


async def test_foreign_key_check_passes(sqlite_db):
    violations = await sqlite_db.foreign_key_check()
    shown = "; ".join(f"{v.table} rowid {v.rowid} -> {v.parent}" for v in violations[:10])
    assert not violations, f"PRAGMA foreign_key_check: {len(violations)} violations: {shown}"
