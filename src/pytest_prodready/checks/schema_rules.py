"""Rules on an SQLite schema: declared column types, index definitions, query plans, declared foreign keys.

These read ``sqlite_schema`` and pragmas, never a table's rows, so they
cost milliseconds whatever the data.  An index recreated under its old name
on other columns keeps its name but not its definition: ``index_definitions``
compares the definition SQLite stores (whitespace aside).
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from .finding import Finding
from .sqlite import SQLiteProbe, quote_name

# File pragmas a schema snapshot records (the others are counters that change with every write).
SNAPSHOT_PRAGMAS = ("journal_mode", "page_size", "auto_vacuum", "encoding", "user_version", "application_id")
_SPACE_AROUND = re.compile(r"\s*([(),])\s*")
_BARE_SCAN = re.compile(r"^SCAN (?!CONSTANT ROW$)(.+?)$")
_INDEX_HEAD = re.compile(r"^CREATE (UNIQUE )?INDEX .+? (ON .*)$", re.IGNORECASE | re.DOTALL)


def normalized_sql(sql: str) -> str:
    """Definition text compared without its layout: runs of spaces as one, none around ( ) ,."""
    return _SPACE_AROUND.sub(r"\1", " ".join(sql.split()))


def shown_definition(sql: str) -> str:
    """``ON tasks(session_id)`` (``UNIQUE ON ...``): what a reader compares, short enough for a failure line."""
    text = normalized_sql(sql)
    head = _INDEX_HEAD.match(text)
    return (head.group(1) or "") + head.group(2) if head else text


def normalized_type(declared: str) -> str:
    return " ".join(declared.upper().split())


async def column_types(probe: SQLiteProbe, table: str) -> dict[str, str]:
    """Each visible column's declared type, in table order."""
    rows = await probe.rows("SELECT name, type FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid", (table,))
    return {name: declared for name, declared in rows}


async def table_schema(probe: SQLiteProbe, table: str, expected: Mapping[str, str], exact: bool = True) -> Finding:
    """Columns missing, declared with another type, or (``exact``) present but not expected."""
    actual = await column_types(probe, table)
    if not actual:
        return Finding(1, [{"table": table, "change": "missing table"}], note=f"no table {table!r}")
    changes = []
    for column, want in expected.items():
        if column not in actual:
            changes.append({"column": column, "change": "missing", "expected": want})
        elif normalized_type(actual[column]) != normalized_type(want):
            changes.append({"column": column, "change": "type", "expected": want, "actual": actual[column]})
    if exact:
        changes += [{"column": c, "change": "unexpected", "actual": t} for c, t in actual.items() if c not in expected]
    return Finding(len(changes), changes)


async def index_sql(probe: SQLiteProbe) -> dict[str, str]:
    """Named indexes and the CREATE INDEX text SQLite keeps (automatic ones have none and are left out)."""
    rows = await probe.rows("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    return dict(rows)


async def index_definitions(probe: SQLiteProbe, expected: Mapping[str, str], exact: bool = False) -> Finding:
    """Indexes missing, defined otherwise than ``expected``, or (``exact``) not expected at all."""
    actual = await index_sql(probe)
    changes = []
    for name, want in expected.items():
        if name not in actual:
            changes.append({"index": name, "change": "missing", "expected": shown_definition(want)})
        elif normalized_sql(actual[name]) != normalized_sql(want):
            changes.append({"index": name, "change": "definition", "expected": shown_definition(want),
                            "actual": shown_definition(actual[name])})
    if exact:
        changes += [{"index": n, "change": "unexpected", "actual": shown_definition(sql)}
                    for n, sql in actual.items() if n not in expected]
    return Finding(len(changes), changes)


async def table_names(probe: SQLiteProbe) -> list[str]:
    """User tables (SQLite's own ``sqlite_*`` left out), sorted."""
    rows = await probe.rows("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                            "ESCAPE '\\' ORDER BY name")
    return [name for (name,) in rows]


async def unexpected_tables(probe: SQLiteProbe, expected: Sequence[str]) -> list[dict[str, str]]:
    return [{"table": name, "change": "unexpected"} for name in await table_names(probe) if name not in expected]


def plan_problems(plan: Sequence[str]) -> list[str]:
    """Steps that read a whole table without an index, or build a temporary B-tree or automatic index."""
    problems = []
    for step in plan:
        bare = _BARE_SCAN.match(step)
        if bare and " USING " not in step:
            problems.append(step)
        elif "TEMP B-TREE" in step or "AUTOMATIC" in step:
            problems.append(step)
    return problems


async def query_plans(probe: SQLiteProbe, queries: Mapping[str, str]) -> Finding:
    """Named queries whose plan scans a table or builds a temporary structure, with the offending steps."""
    from .catalog import bindings

    offenders = []
    plans = {}
    for name, query in queries.items():
        plan = await probe.query_plan(query, await bindings(probe, query))
        plans[name] = plan
        problems = plan_problems(plan)
        if problems:
            offenders.append({"query": name, "steps": "; ".join(problems)})
    return Finding(len(offenders), offenders, {"plans": plans})


async def declared_foreign_keys(probe: SQLiteProbe, tables: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every foreign key the schema declares: child table and columns, parent table and columns.

    A reference that omits the parent columns means the parent's primary key.
    """
    keys = []
    for child in tables or await table_names(probe):
        rows = await probe.rows('SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq',
                                (child,))
        grouped: dict[int, dict[str, Any]] = {}
        for fk_id, _, parent, column, parent_column in rows:
            entry = grouped.setdefault(fk_id, {"child": child, "columns": [], "parent": parent, "parent_columns": []})
            entry["columns"].append(column)
            entry["parent_columns"].append(parent_column)
        for entry in grouped.values():
            if any(column is None for column in entry["parent_columns"]):
                entry["parent_columns"] = await primary_key(probe, entry["parent"])
            keys.append(entry)
    return keys


async def primary_key(probe: SQLiteProbe, table: str) -> list[str]:
    rows = await probe.rows("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (table,))
    return [name for (name,) in rows] or ["rowid"]


def foreign_key_label(key: Mapping[str, Any]) -> str:
    """``tasks.session_id->sessions.id``: how an expanded rule and its offenders name a foreign key."""
    return (f"{key['child']}.{','.join(key['columns'])}->{key['parent']}.{','.join(key['parent_columns'])}")


def composite_orphans_query(key: Mapping[str, Any]) -> str:
    """Child rows whose non-NULL multi-column reference has no parent row (a ``failed_rows`` query)."""
    child, parent = quote_name(key["child"]), quote_name(key["parent"])
    present = " AND ".join(f"c.{quote_name(col)} IS NOT NULL" for col in key["columns"])
    match = " AND ".join(f"p.{quote_name(pc)} = c.{quote_name(col)}"
                         for col, pc in zip(key["columns"], key["parent_columns"]))
    shown = ", ".join(f"c.{quote_name(col)}" for col in key["columns"])
    return (f"SELECT c.rowid AS rowid, {shown} FROM {child} AS c WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {match})")
