"""Category 1, database connectivity (5 cases): the database answers and is sound.

The table, index and PRAGMA cases are the consistency rules of the plugin, so a
failure names what is missing or broken in SQLite's own words, and the
figures reach the report.
"""

from __future__ import annotations

import pytest

from pytest_prodready.reference.schema import EXPECTED_INDEXES, EXPECTED_TABLES

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="connectivity")]


async def test_database_connection_successful(sqlite_db):
    assert await sqlite_db.ping() == 1
    assert await sqlite_db.pragma("schema_version") > 0, "the database has no schema"


async def test_all_tables_exist_and_accessible(sqlite_db, consistency):
    await consistency.assert_tables(sqlite_db, *EXPECTED_TABLES)
    for table in EXPECTED_TABLES:
        (count,), = await sqlite_db.rows(f'SELECT count(*) FROM "{table}"')
        assert count >= 0


async def test_all_indexes_created(sqlite_db, consistency):
    await consistency.assert_indexes(sqlite_db, *EXPECTED_INDEXES)


async def test_integrity_check_passes(sqlite_db, consistency):
    await consistency.assert_integrity(sqlite_db)


async def test_foreign_key_check_passes(sqlite_db, consistency):
    await consistency.assert_foreign_keys(sqlite_db)
