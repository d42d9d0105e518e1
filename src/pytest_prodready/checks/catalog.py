"""What a store holds, so that a rule naming something absent is refused before it runs.

SQLite reads an unknown double-quoted name as a string literal, so
``"statsu" = 'open'`` compares two strings and a misspelled column passes
silently; Cypher matches nothing for an unknown label and every graph rule
passes.  Each rule's tables, columns, labels, relationship types and
property keys are looked up here first, and its SQL (``where``,
``condition``, ``query``, ``queries``) is compiled on the read-only
connection: a name that is not there is a :class:`~.rules.RuleError` naming
it, with the closest existing name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from .rules import RuleError, RuleSpec, suggest
from .sqlite import ProbeError, SQLiteProbe

# Compile-time actions a read-only SELECT may ask for (sqlite3 authorizer codes).
_READ_ACTIONS = frozenset({20, 21, 31, 33})  # READ, SELECT, FUNCTION, RECURSIVE
_ACTION_NAMES = {
    1: "create an index", 2: "create a table", 9: "delete rows", 10: "drop an index", 11: "drop a table",
    18: "insert rows", 19: "run a PRAGMA", 22: "open a transaction", 23: "update rows", 24: "attach a database",
    26: "alter a table",
}
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"((?:[^\"]|\"\")*)\"")
_BINDINGS = re.compile(r"uses (\d+), and there are")
_STATEMENT = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(select|with|values)\b", re.IGNORECASE | re.DOTALL)
EXPRESSION_KEYS = ("where", "condition")
QUERY_KEYS = ("query", "queries")


@dataclass(frozen=True)
class SQLiteCatalog:
    """Tables and views of an SQLite schema, each with its column names."""

    columns: Mapping[str, tuple[str, ...]]

    def check_table(self, table: str, here: str, key: str) -> None:
        if table not in self.columns:
            raise RuleError(f"{here}: key {key!r}: no table {table!r} in the database{suggest(table, self.columns)}")

    def check_column(self, table: str, column: str, here: str, key: str) -> None:
        self.check_table(table, here, key)
        if column not in self.columns[table]:
            raise RuleError(f"{here}: key {key!r}: no column {column!r} in table {table!r}"
                            f"{suggest(column, self.columns[table])}")

    def all_names(self) -> set[str]:
        return {*self.columns, *(c for columns in self.columns.values() for c in columns)}


async def sqlite_catalog(probe: SQLiteProbe) -> SQLiteCatalog:
    """Every table's and view's columns, hidden ones included, read once per open probe and schema.

    Kept on the probe with the schema's version (``PRAGMA schema_version``,
    which any schema change bumps), so the rules of one probe share one read
    and a table created meanwhile is still seen.
    """
    (version,), = await probe.rows("PRAGMA schema_version")
    if probe.catalog is not None and probe.catalog[0] == version:
        return probe.catalog[1]
    catalog = await _read_catalog(probe)
    probe.catalog = (version, catalog)
    return catalog


async def _read_catalog(probe: SQLiteProbe) -> SQLiteCatalog:
    found: dict[str, list[str]] = {}
    rows = await probe.rows("SELECT m.name, p.name FROM sqlite_schema AS m JOIN pragma_table_xinfo(m.name) AS p "
                            "WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid")
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return SQLiteCatalog({table: tuple(columns) for table, columns in found.items()})


def _listed(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def sqlite_columns(spec: RuleSpec) -> Iterator[tuple[str, str, str | None]]:
    """``(key, table, column or None)`` for every table and column a SQLite rule names."""
    params = spec.params
    if spec.check == "orphans":
        for key in ("child", "parent"):
            table, _, column = params[key].rpartition(".")
            yield key, table, column
        return
    if spec.check in ("tables", "indexes", "table_schema", "index_definitions", "pragmas"):
        return  # their names are the expectations being checked, not preconditions
    for table in _listed(params.get("tables", [])):
        yield "tables", table, None
    if "table" in params:
        yield "table", params["table"], None
        for key in ("column", "columns"):
            for column in _listed(params.get(key, [])):
                yield key, params["table"], column


def needs_catalog(spec: RuleSpec) -> bool:
    """Whether a SQLite rule names anything to look up (a schema rule's names are what it checks)."""
    return any(True for _ in sqlite_columns(spec)) or any(key in spec.params for key in (*EXPRESSION_KEYS, *QUERY_KEYS))


async def check_sqlite_rule(spec: RuleSpec, probe: SQLiteProbe, catalog: SQLiteCatalog, here: str) -> None:
    """Refuse a SQLite rule whose tables, columns or SQL name anything the database lacks."""
    for key, table, column in sqlite_columns(spec):
        if column is None:
            catalog.check_table(table, here, key)
        else:
            catalog.check_column(table, column, here, key)
    table = spec.params.get("table")
    for key in EXPRESSION_KEYS:
        if key in spec.params:
            expression = spec.params[key]
            await _compile(probe, f"SELECT 1 FROM {_quoted(table)} WHERE ({expression})", here, key,
                           catalog.columns.get(table, ()))
            _check_quoted(expression, catalog.columns.get(table, ()), catalog, here, key)
    if "query" in spec.params:
        await check_select(probe, spec.params["query"], catalog, here, "query")
    for name, query in spec.params.get("queries", {}).items():
        await check_select(probe, query, catalog, here, f"queries.{name}")


async def check_select(probe: SQLiteProbe, query: str, catalog: SQLiteCatalog, here: str, key: str) -> None:
    """One read-only SELECT, compiled, every double-quoted name an existing table or column."""
    if not _STATEMENT.match(query):
        raise RuleError(f"{here}: key {key!r}: refused: expected a single SELECT statement, got {_head(query)!r}")
    if not probe.owns_connection:
        raise RuleError(f"{here}: key {key!r}: a rule's own SQL runs only on a connection this checker opened "
                        "read-only (a path or store), not on the application's connection")
    refused: list[str] = []

    def authorize(action: int, *_: Any) -> int:
        if action in _READ_ACTIONS:
            return 0  # SQLITE_OK
        refused.append(_ACTION_NAMES.get(action, f"perform action {action}"))
        return 1  # SQLITE_DENY

    conn = probe.connection
    await conn.set_authorizer(authorize)
    try:
        await _compile(probe, query, here, key, sorted(catalog.all_names()), bind=True)
    except RuleError:
        if refused:
            raise RuleError(f"{here}: key {key!r}: refused: not a read-only SELECT (it would {refused[0]})") from None
        raise
    finally:
        await conn.set_authorizer(None)
    _check_quoted(query, (), catalog, here, key)


async def bindings(probe: SQLiteProbe, sql: str) -> Any:
    """NULL for each parameter of ``sql``, named (``:x``) or positional (``?``): enough to plan it."""
    try:
        await probe.rows(f"EXPLAIN {sql}", NullParameters())
        return NullParameters()
    except ProbeError as exc:
        if "has no name" not in str(exc):
            raise
    try:
        await probe.rows(f"EXPLAIN {sql}")
        return ()
    except ProbeError as exc:
        count = _BINDINGS.search(str(exc))
        if count is None:
            raise
        return (None,) * int(count.group(1))


class NullParameters(dict):
    """A named-parameter mapping that binds NULL to any name."""

    def __missing__(self, key: str) -> None:
        return None


async def _compile(probe: SQLiteProbe, sql: str, here: str, key: str, known: Sequence[str],
                   bind: bool = False) -> None:
    """Let SQLite compile ``sql`` (EXPLAIN runs nothing); its complaint, with a suggestion, is the error."""
    try:
        await probe.rows(f"EXPLAIN {sql}", await bindings(probe, sql) if bind else ())
    except ProbeError as exc:
        message = str(exc).split(": ", 1)[-1]
        if "one statement at a time" in message:
            message = "refused: expected a single SELECT statement, found more than one"
        missing = re.search(r"no such (?:column|table): (\S+)", message)
        hint = suggest(missing.group(1).split(".")[-1], known) if missing else ""
        raise RuleError(f"{here}: key {key!r}: {message}{hint}") from None


def _check_quoted(sql: str, columns: Sequence[str], catalog: SQLiteCatalog, here: str, key: str) -> None:
    """A double-quoted name SQLite does not know would silently become a string: refuse it."""
    known = catalog.all_names()
    for match in _QUOTED.finditer(sql):
        name = match.group(1)
        if name is None:
            continue
        name = name.replace('""', '"')
        if name not in known and name not in catalog.columns:
            raise RuleError(f'{here}: key {key!r}: no column or table "{name}" (SQLite would read it as the '
                            f"string '{name}'){suggest(name, list(columns) or sorted(known))}")


def _quoted(name: str | None) -> str:
    return '"' + (name or "").replace('"', '""') + '"'


def _head(text: str) -> str:
    words = text.split()
    return " ".join(words[:3]) + (" ..." if len(words) > 3 else "")


@dataclass(frozen=True)
class GraphCatalog:
    """Labels, relationship types and property keys a Neo4j database knows."""

    labels: frozenset[str]
    types: frozenset[str]
    properties: frozenset[str]

    def check(self, kind: str, name: str, here: str, key: str) -> None:
        known = {"label": self.labels, "relationship type": self.types, "property": self.properties}[kind]
        if name not in known:
            raise RuleError(f"{here}: key {key!r}: no {kind} {name!r} in the graph{suggest(name, sorted(known))}")


GRAPH_CATALOG_QUERY = (
    "CALL db.labels() YIELD label WITH collect(label) AS labels "
    "CALL db.relationshipTypes() YIELD relationshipType WITH labels, collect(relationshipType) AS types "
    "CALL db.propertyKeys() YIELD propertyKey RETURN labels, types, collect(propertyKey) AS properties"
)
