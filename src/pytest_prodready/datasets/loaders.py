"""Load a graph into SQLite (executemany, one transaction) or Neo4j (UNWIND batches).

Rows come as tuples in :data:`~.graph.COLUMNS` order, from a
:class:`~.graph.GraphData` or from a generator, so a million relationships
load without a million dicts in memory.

A relationship whose endpoint entity does not exist cannot be written to
Neo4j as such; the loader MERGEs a stub node for that id that lacks the
entity label (``<entities>Stub``), as a migration that MERGEs endpoints it
never loaded would.  The orphaned-relationships rule finds those.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..checks.graph import NEO4J_NAMES, SQLITE_NAMES, GraphNames, quote_label
from ..checks.sqlite import quote_name
from .knowledge_graph import COLUMNS

DEFAULT_BATCH = 10_000
Rows = Iterable[Sequence[Any]]


def write_sqlite(path: Path, tables: Mapping[str, Rows], names: GraphNames = SQLITE_NAMES) -> Path:
    """Create the graph tables (if absent) and insert every row in one transaction."""
    documents, entities, relationships = (quote_name(getattr(names, t)) for t in COLUMNS)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(
            f"CREATE TABLE IF NOT EXISTS {documents} (id INTEGER PRIMARY KEY, title TEXT);"
            f"CREATE TABLE IF NOT EXISTS {entities} (id INTEGER PRIMARY KEY, semantic_id TEXT, name TEXT, "
            "type TEXT, document_id INTEGER);"
            f"CREATE INDEX IF NOT EXISTS {quote_name(names.entities + '_semantic_id')} ON {entities} (semantic_id);"
            f"CREATE TABLE IF NOT EXISTS {relationships} (id INTEGER PRIMARY KEY, source_id INTEGER NOT NULL, "
            "target_id INTEGER NOT NULL, type TEXT, confidence REAL, evidence TEXT, document_id INTEGER);"
        )
        with conn:
            for table, quoted in zip(COLUMNS, (documents, entities, relationships)):
                marks = ", ".join("?" * len(COLUMNS[table]))
                conn.executemany(f"INSERT INTO {quoted} VALUES ({marks})", tables.get(table, ()))
    finally:
        conn.close()
    return path


def batches(rows: Rows, size: int) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def stub_label(names: GraphNames) -> str:
    return f"{names.entities}Stub"


def _index_name(names: GraphNames) -> str:
    return quote_label(f"prodready_{names.entities}_id")


async def write_neo4j(driver: Any, tables: Mapping[str, Rows], names: GraphNames = NEO4J_NAMES,
                      batch: int = DEFAULT_BATCH, database: str | None = None) -> None:
    """Write documents, entities and relationships with UNWIND, ``batch`` rows a transaction."""

    async def write(text: str, **params: Any) -> None:
        await driver.execute_query(text, params, database_=database)

    entity = quote_label(names.entities)
    await write(f"CREATE INDEX {_index_name(names)} IF NOT EXISTS FOR (n:{entity}) ON (n.id)")
    await write("CALL db.awaitIndexes(120)")
    known: set[Any] = set()
    for table, label in (("documents", names.documents), ("entities", names.entities)):
        for rows in batches(tables.get(table, ()), batch):
            await write(f"UNWIND $rows AS row CREATE (n:{quote_label(label)}) SET n = row",
                        rows=[dict(zip(COLUMNS[table], row)) for row in rows])
            if table == "entities":
                known.update(row[0] for row in rows)
    for rows in batches(tables.get("relationships", ()), batch):
        await _write_relationships(write, rows, known, names)


async def _write_relationships(write: Any, rows: Sequence[Sequence[Any]], known: set[Any],
                               names: GraphNames) -> None:
    """Endpoints are matched by id; ids that are no entity get a stub node first."""
    labels = {True: quote_label(names.entities), False: quote_label(stub_label(names))}
    groups: dict[tuple[bool, bool], list[dict[str, Any]]] = {}
    missing: set[Any] = set()
    for row in rows:
        props = dict(zip(COLUMNS["relationships"], row))
        source, target = props.pop("source_id"), props.pop("target_id")
        missing.update(end for end in (source, target) if end not in known)
        group = groups.setdefault((source in known, target in known), [])
        group.append({"source_id": source, "target_id": target, "props": props})
    if missing:
        await write(f"UNWIND $ids AS id MERGE (:{labels[False]} {{id: id}})", ids=sorted(missing))
    for (source_known, target_known), group in groups.items():
        await write(
            f"UNWIND $rows AS row MATCH (a:{labels[source_known]} {{id: row.source_id}}) "
            f"MATCH (b:{labels[target_known]} {{id: row.target_id}}) "
            f"CREATE (a)-[r:{quote_label(names.relationships)}]->(b) SET r = row.props",
            rows=group,
        )


async def clear_neo4j(driver: Any, names: GraphNames = NEO4J_NAMES, database: str | None = None) -> None:
    """Delete a graph's relationships, then its nodes, 10,000 a transaction, and its id index.

    Relationships go first so no transaction holds a node's whole neighbourhood;
    ``IN TRANSACTIONS`` needs an auto-commit transaction, hence ``session.run``.
    """
    deletions = [f"MATCH ()-[r:{quote_label(names.relationships)}]->() CALL (r) {{ DELETE r }}"]
    for label in (names.entities, stub_label(names), names.documents):
        deletions.append(f"MATCH (n:{quote_label(label)}) CALL (n) {{ DETACH DELETE n }}")
    async with driver.session(database=database) as session:
        for text in deletions:
            await (await session.run(f"{text} IN TRANSACTIONS OF 10000 ROWS")).consume()
        await (await session.run(f"DROP INDEX {_index_name(names)} IF EXISTS")).consume()
