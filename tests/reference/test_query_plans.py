"""The service's hot statements are served by indexes, never by full table scans."""

from __future__ import annotations

import re
import sqlite3

import pytest
import pytest_asyncio

from pytest_prodready.reference import create_target, hot_queries
from pytest_prodready.target import TargetContext

TINY = {"sessions": 5, "memories": 20, "documents": 3}


@pytest_asyncio.fixture
async def populated_db(tmp_path):
    service = await create_target(TargetContext(workdir=tmp_path, options={"volume": TINY}))
    await service.close()
    conn = sqlite3.connect(service.database_path)
    yield conn
    conn.close()


@pytest.mark.parametrize("name", sorted(hot_queries()))
def test_hot_query_uses_an_index(populated_db, name):
    sql, params = hot_queries()[name]
    plan = [row[3] for row in populated_db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert not [step for step in plan if re.match(r"SCAN \w+$", step)], plan
    assert any("USING INDEX" in step or "USING COVERING INDEX" in step for step in plan), plan


def test_namespace_prefix_search_is_a_range_seek(populated_db):
    sql, params = hot_queries()["search_memories"]
    plan = " | ".join(row[3] for row in populated_db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "namespace>? AND namespace<?" in plan
