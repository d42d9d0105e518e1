"""Expected schema: indexes matched by definition, virtual tables by existence, config errors in one line."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from pytest_prodready.checks.schema_expectation import (
    from_ddl,
    index_differences,
    present_indexes,
    reference_expectation,
    virtual_tables,
)
from pytest_prodready.checks.sqlite import SQLiteProbe

from .sessions import assert_usage_error

DDL = """
CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT, body TEXT, at TEXT, gone INTEGER,
                    CHECK (json_valid(body)), UNIQUE (owner, at));
CREATE INDEX idx_notes_owner ON notes(owner, at DESC) WHERE gone = 0;
"""


def present(tmp_path: Path, ddl: str):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(ddl)
    conn.close()

    async def read():
        async with SQLiteProbe(path) as probe:
            return await present_indexes(probe), await virtual_tables(probe), await probe.tables()

    return asyncio.run(read())


def test_the_expectation_is_read_from_the_ddl_by_sqlite():
    expected = from_ddl(DDL, "notes.sql")
    assert expected.tables == ("notes",)
    assert expected.json_columns == {"notes": ("body",)}
    assert expected.unique_keys == {"notes": (("owner", "at"),)}
    assert expected.indexes["idx_notes_owner"].describe() == "notes(owner, at DESC) WHERE gone = 0"


def test_another_name_with_the_same_definition_matches(tmp_path):
    indexes, _, _ = present(tmp_path, DDL.replace("idx_notes_owner", "ix_whatever"))
    assert index_differences(from_ddl(DDL, "x").indexes, indexes) == []


@pytest.mark.parametrize("changed, words", [
    ("notes(owner)", "columns (owner) instead of (owner, at DESC)"),
    ("notes(owner, at DESC) WHERE gone = 1", "WHERE gone = 1 instead of gone = 0"),
    ("notes(owner, at DESC);", "WHERE (none) instead of gone = 0"),
])
def test_a_different_definition_is_named_with_what_differs(tmp_path, changed, words):
    ddl = DDL.replace("notes(owner, at DESC) WHERE gone = 0;", changed if changed.endswith(";") else changed + ";")
    indexes, _, _ = present(tmp_path, ddl)
    (problem,) = index_differences(from_ddl(DDL, "x").indexes, indexes)
    assert problem.startswith("idx_notes_owner notes(owner, at DESC) WHERE gone = 0: nearest is idx_notes_owner")
    assert words in problem


def test_a_dropped_unique_constraint_is_named(tmp_path):
    indexes, _, _ = present(tmp_path, DDL.replace(", UNIQUE (owner, at)", ""))
    (problem,) = index_differences(from_ddl(DDL, "x").indexes, indexes)
    assert problem.startswith("UNIQUE(owner, at) constraint UNIQUE notes(owner, at)")


def test_a_virtual_table_of_a_module_the_checker_lacks_is_checked_for_existence_only(tmp_path):
    path = tmp_path / "vec.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE VIRTUAL TABLE embeddings USING fts5(v);")
    conn.execute("PRAGMA writable_schema = ON")  # what an extension (e.g. vec0) leaves behind for a checker without it
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE VIRTUAL TABLE embeddings USING vec0(v float[4])' "
                 "WHERE name = 'embeddings'")
    conn.commit()
    conn.close()

    async def read():
        async with SQLiteProbe(path) as probe:
            return await virtual_tables(probe), await present_indexes(probe)

    virtual, indexes = asyncio.run(read())
    assert "embeddings" in virtual  # no "no such module: vec0"
    assert all(definition.table != "embeddings" for _, definition in indexes)


def test_the_reference_expectation_includes_its_virtual_free_schema():
    expected = reference_expectation()
    assert "document_embeddings_data" in expected.tables and len(expected.indexes) >= 33


def test_an_unreadable_or_wrong_ddl_is_a_one_line_usage_error(project):
    pytester = project('[tool.prodready.schema]\nddl = "schema.sql"\n')
    pytester.path.joinpath("schema.sql").write_text("CREATE TABLE broken (;\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert_usage_error(result, "schema.sql", "SQLite refused the expected schema")
    pytester.path.joinpath("schema.sql").unlink()
    assert_usage_error(pytester.runpytest_subprocess("-p", "no:cacheprovider"), "schema.sql", "cannot read it")
