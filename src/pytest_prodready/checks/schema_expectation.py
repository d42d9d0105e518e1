"""What schema the target must have, and how its SQLite file differs from it.

The expectation is a DDL text (the reference schema by default, or the file
``[tool.prodready.schema] ddl`` names), executed once in an in-memory
database so that SQLite itself says what each index covers.  Indexes are
then matched by *definition* (table, key columns with their order, unique,
partial WHERE), never by name: a system that calls an index ``ix_memory_ns``
is as good as one calling it ``idx_memory_namespace_prefix``.  Virtual tables
are checked for existence only (their module, e.g. an extension, may not be
loadable by the checker).  JSON columns are those the DDL guards with
``json_valid(column)``; unique business keys are its UNIQUE indexes and
constraints.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .sqlite import SQLiteProbe, quote_name

_JSON_VALID = re.compile(r"json_valid\(\s*\"?(\w+)\"?\s*\)", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b(.*)$", re.IGNORECASE | re.DOTALL)
DEFAULT_PRAGMAS: dict[str, Any] = {"journal_mode": "wal"}
MIN_BUSY_TIMEOUT_MS = 1


class SchemaConfigError(Exception):
    """``[tool.prodready.schema]`` cannot be used; one line."""


@dataclass(frozen=True)
class IndexDefinition:
    """What an index is, whatever its name."""

    table: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str = ""

    def describe(self) -> str:
        text = f"{'UNIQUE ' if self.unique else ''}{self.table}({', '.join(self.columns)})"
        return f"{text} WHERE {self.where}" if self.where else text

    def satisfied_by(self, other: IndexDefinition) -> bool:
        """Same table, columns and WHERE; a unique index also serves a non-unique expectation."""
        return (self.table, self.columns, self.where) == (other.table, other.columns, other.where) and (
            other.unique or not self.unique
        )


@dataclass(frozen=True)
class SchemaExpectation:
    tables: tuple[str, ...]
    indexes: Mapping[str, IndexDefinition]  # expected name (for messages only) -> definition
    json_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unique_keys: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    pragmas: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_PRAGMAS))
    source: str = "the reference schema"


def normalise_where(text: str) -> str:
    return " ".join(text.replace("(", " ( ").replace(")", " ) ").split()).lower()


def _where_of(sql: str | None) -> str:
    match = _WHERE.search(sql or "")
    return normalise_where(match.group(1)) if match else ""


def _index_rows(execute: Any, table: str) -> list[tuple[str, IndexDefinition, str]]:
    """(name, definition, origin) of every index on ``table``, automatic ones included."""
    found = []
    for _, name, unique, origin, *_ in execute(f"PRAGMA index_list({quote_name(table)})"):
        columns = []
        for row in execute(f"PRAGMA index_xinfo({quote_name(name)})"):
            if row[5]:  # key column (not the rowid tail)
                columns.append(f"{row[2] or '<expr>'}{' DESC' if row[3] else ''}")
        sql = execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,))
        where = _where_of(sql[0][0] if sql else None)
        found.append((name, IndexDefinition(table, tuple(columns), bool(unique), where), origin))
    return found


def from_ddl(ddl: str, source: str) -> SchemaExpectation:
    """Run the DDL in memory and read the expectation back from SQLite."""
    conn = sqlite3.connect(":memory:")
    try:
        try:
            conn.executescript(ddl)
        except sqlite3.Error as exc:
            raise SchemaConfigError(f"{source}: SQLite refused the expected schema ({exc})") from exc

        def execute(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            return conn.execute(sql, tuple(params)).fetchall()

        rows = execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        shadow = _shadow_tables(rows)
        tables = tuple(name for name, _ in rows if name not in shadow)
        indexes: dict[str, IndexDefinition] = {}
        unique_keys: dict[str, list[tuple[str, ...]]] = {}
        json_columns: dict[str, tuple[str, ...]] = {}
        for name, sql in rows:
            if name in shadow or (sql or "").upper().startswith("CREATE VIRTUAL"):
                continue
            found = _JSON_VALID.findall(sql or "")
            if found:
                json_columns[name] = tuple(dict.fromkeys(found))
            for index_name, definition, origin in _index_rows(execute, name):
                if origin == "c":
                    indexes[index_name] = definition
                elif origin == "u":
                    indexes[f"UNIQUE({', '.join(definition.columns)}) constraint"] = definition
                if definition.unique and origin != "pk":
                    unique_keys.setdefault(name, []).append(tuple(c.split()[0] for c in definition.columns))
        return SchemaExpectation(tables, indexes, json_columns,
                                 {t: tuple(dict.fromkeys(keys)) for t, keys in unique_keys.items()}, source=source)
    finally:
        conn.close()


def _shadow_tables(rows: Sequence[tuple[str, str | None]]) -> set[str]:
    """FTS5/FTS4/R*Tree shadow tables (``t_data``, ``t_idx`` ...) come with their virtual table."""
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    suffixes = ("_data", "_idx", "_content", "_docsize", "_config", "_node", "_parent", "_rowid", "_segments",
                "_segdir", "_stat")
    return {name for name, _ in rows for v in virtual if name.startswith(v + "_") and name[len(v):] in suffixes}


def reference_expectation() -> SchemaExpectation:
    from ..reference.schema import schema_sql  # the reference is the default only; imported on demand

    return from_ddl(schema_sql(), "the reference schema")


def from_config(table: Mapping[str, Any], base: Path) -> SchemaExpectation:
    """``[tool.prodready.schema]``: ``ddl`` (a file), then ``tables``, ``json_columns``, ``pragmas`` overrides."""
    if "ddl" in table:
        path = base / str(table["ddl"])
        try:
            ddl = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SchemaConfigError(f"[tool.prodready.schema] ddl {path}: cannot read it ({exc.strerror})") from exc
        expectation = from_ddl(ddl, str(path))
    else:
        expectation = reference_expectation()
    return SchemaExpectation(
        tables=tuple(table.get("tables", expectation.tables)),
        indexes=expectation.indexes,
        json_columns={k: tuple(v) for k, v in table.get("json_columns", expectation.json_columns).items()},
        unique_keys=expectation.unique_keys,
        pragmas={**DEFAULT_PRAGMAS, **table.get("pragmas", {})},
        source=expectation.source,
    )


async def virtual_tables(probe: SQLiteProbe) -> set[str]:
    rows = await probe.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'")
    return {name for (name,) in rows}


async def present_indexes(probe: SQLiteProbe) -> list[tuple[str, IndexDefinition]]:
    """Every index of every ordinary table of the target, by definition."""
    virtual = await virtual_tables(probe)
    tables = sorted(await probe.tables() - virtual)
    found = []
    for table in tables:
        if table.startswith("sqlite_"):
            continue
        for name, definition, _ in await _probe_index_rows(probe, table):
            found.append((name, definition))
    return found


async def _probe_index_rows(probe: SQLiteProbe, table: str) -> list[tuple[str, IndexDefinition, str]]:
    cache: dict[tuple[str, tuple[Any, ...]], list[tuple[Any, ...]]] = {}

    async def fill(sql: str, params: Sequence[Any] = ()) -> None:
        cache[(sql, tuple(params))] = await probe.rows(sql, params)

    # _index_rows is synchronous: feed it the rows it will ask for, in two passes.
    await fill(f"PRAGMA index_list({quote_name(table)})")
    for _, name, *_ in cache[(f"PRAGMA index_list({quote_name(table)})", ())]:
        await fill(f"PRAGMA index_xinfo({quote_name(name)})")
        await fill("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,))
    return _index_rows(lambda sql, params=(): cache[(sql, tuple(params))], table)


def index_differences(expected: Mapping[str, IndexDefinition],
                      present: Sequence[tuple[str, IndexDefinition]]) -> list[str]:
    """One line per expected index no present index matches, naming the nearest one and what differs."""
    problems = []
    for name, want in expected.items():
        if any(want.satisfied_by(have) for _, have in present):
            continue
        problems.append(f"{name} {want.describe()}: {_nearest(want, name, present)}")
    return problems


def _nearest(want: IndexDefinition, name: str, present: Sequence[tuple[str, IndexDefinition]]) -> str:
    same_table = [(n, d) for n, d in present if d.table == want.table]
    named = [(n, d) for n, d in same_table if n == name]
    leading = [(n, d) for n, d in same_table if d.columns[:1] == want.columns[:1]]
    candidates = named or leading
    if not candidates:
        return f"no index on {want.table} starts with {want.columns[0] if want.columns else '?'}"
    have_name, have = candidates[0]
    diffs = []
    if have.columns != want.columns:
        diffs.append(f"columns ({', '.join(have.columns)}) instead of ({', '.join(want.columns)})")
    if have.where != want.where:
        diffs.append(f"WHERE {have.where or '(none)'} instead of {want.where or '(none)'}")
    if want.unique and not have.unique:
        diffs.append("not UNIQUE")
    return f"nearest is {have_name} {have.describe()}; differs in " + ", ".join(diffs)
