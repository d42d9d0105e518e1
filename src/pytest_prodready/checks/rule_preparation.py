"""Before a rule runs: every name it uses exists, and ``declared_foreign_keys`` becomes one rule per key.

A rule file is prepared when pytest collects it, so a misspelled table,
column, label, relationship type or property is a usage error naming it
(with the closest existing name) before any rule runs; the fixture's rules
are checked the same way just before they run.  A store that cannot be
opened at collection is left to its rules, which then fail naming the cause.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any, Sequence

from .catalog import check_sqlite_rule, needs_catalog, sqlite_catalog
from .graph import GraphBackend, GraphError, Neo4jGraph, SQLiteGraph
from .neo4j_rules import graph_names
from .rulebook import RuleBook
from .rules import RuleSpec
from .schema_rules import composite_orphans_query, declared_foreign_keys, foreign_key_label
from .sqlite import ProbeError, SQLiteProbe
from .stores import OpenGraphs, SQLiteStore, Store, StoreError, sqlite_probe

_GRAPH_NAMES = {"graph": ("entities", "relationships"), "parity": ("entities", "relationships", "documents")}


async def check_names(spec: RuleSpec, opened: Any, here: str) -> None:
    """Raise :class:`RuleError` when ``spec`` names a table, column, label, type or property ``opened`` lacks."""
    if spec.kind in _GRAPH_NAMES:
        await check_graph_names(opened, _GRAPH_NAMES[spec.kind], here)
    elif isinstance(opened, SQLiteProbe):
        if needs_catalog(spec):
            await check_sqlite_rule(spec, opened, await sqlite_catalog(opened), here)
    elif isinstance(opened, Neo4jGraph):
        catalog = await opened.catalog()
        for kind, name, key in graph_names(spec.params):
            catalog.check(kind, name, here, key)


async def check_graph_names(graph: GraphBackend, which: Sequence[str], here: str) -> None:
    """The tables (SQLite) or labels and relationship type (Neo4j) a graph rule reads."""
    for role in which:
        name = getattr(graph.names, role)
        if isinstance(graph, SQLiteGraph):
            (await sqlite_catalog(graph.probe)).check_table(name, here, f"names.{role}")
        elif isinstance(graph, Neo4jGraph):
            kind = "relationship type" if role == "relationships" else "label"
            (await graph.catalog()).check(kind, name, here, f"names.{role}")


async def expand_foreign_keys(spec: RuleSpec, probe: SQLiteProbe) -> list[RuleSpec]:
    """One rule per declared foreign key, named ``rule[child.col->parent.col]``: an orphans check each."""
    expanded = []
    for key in await declared_foreign_keys(probe, spec.params.get("tables")):
        if len(key["columns"]) == 1:
            check = "orphans"
            params = {"child": f"{key['child']}.{key['columns'][0]}",
                      "parent": f"{key['parent']}.{key['parent_columns'][0]}"}
        else:
            check, params = "failed_rows", {"query": composite_orphans_query(key)}
        expanded.append(RuleSpec(f"{spec.name}[{foreign_key_label(key)}]", check, params, spec.threshold,
                                 spec.severity, spec.store, spec.sample, spec.description))
    return expanded


async def prepare(book: RuleBook, graphs: OpenGraphs) -> list[tuple[RuleSpec, str | None, bool]]:
    """A rule file's rules with their names checked on their stores, declared foreign keys expanded.

    Each triple is a rule, for a generated one the file rule it came from,
    and whether its names were checked (not when a store did not answer:
    then the rule checks them when it runs).  Every SQLite store is opened
    once (read-only) and closed again; Neo4j stores stay open in ``graphs``
    for the run.
    """
    prepared: list[tuple[RuleSpec, str | None, bool]] = []
    async with AsyncExitStack() as stack:
        opened: dict[str, Any] = {}

        async def open_store(store: Store) -> Any:
            if store.name not in opened:
                try:
                    if isinstance(store, SQLiteStore):
                        opened[store.name] = await stack.enter_async_context(sqlite_probe(store))
                    else:
                        opened[store.name] = await graphs.graph(store)
                except (StoreError, ProbeError, GraphError):
                    opened[store.name] = None  # its rules will fail naming the cause
            return opened[store.name]

        for spec in book.rules:
            here = f"{book.where} rule {spec.name!r}"
            stores = [store for store in book.sources(spec) if store is not None]
            sources = [await open_store(store) for store in stores]
            if any(source is None for source in sources):
                prepared.append((spec, None, False))
                continue
            try:
                for store, source in zip(stores, sources):
                    await check_names(spec, _backend(spec, store, source), here)
                if spec.check == "declared_foreign_keys":
                    prepared += [(rule, spec.name, True) for rule in await expand_foreign_keys(spec, sources[0])]
                    continue
            except (ProbeError, GraphError):
                prepared.append((spec, None, False))  # the store answered the catalog but not this: the rule says why
                continue
            prepared.append((spec, None, True))
    return prepared


def _backend(spec: RuleSpec, store: Store, source: Any) -> Any:
    """What a rule reads: a graph rule on SQLite reads a graph over the probe."""
    if spec.kind in _GRAPH_NAMES and isinstance(source, SQLiteProbe):
        return SQLiteGraph(source, store.names)
    return source
