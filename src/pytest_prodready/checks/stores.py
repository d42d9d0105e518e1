"""Where consistency rules read: SQLite files and Neo4j servers, always read-only.

A rule file names its stores (``[tool.prodready.consistency.stores.NAME]``
with ``sqlite = PATH`` or ``neo4j = URI``); the ``consistency`` fixture takes
a store directly: a path, an open :class:`SQLiteProbe`, the application's
aiosqlite connection, a ``bolt://`` / ``neo4j://`` URI or an open graph
backend.  ``${VAR}`` in a path, URI or password is read from the environment
when the store opens, so a rule file can name a server CI starts.
"""

from __future__ import annotations

import os
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Mapping, Union

import aiosqlite

from .graph import (
    DEFAULT_CONNECTION_TIMEOUT_S,
    DEFAULT_QUERY_TIMEOUT_S,
    NEO4J_NAMES,
    GraphError,
    SQLITE_NAMES,
    GraphBackend,
    GraphNames,
    Neo4jGraph,
    SQLiteGraph,
)
from ..report.redaction import redact
from ..timeouts import DEFAULT_TIMEOUTS, Timeouts
from .sqlite import DEFAULT_TIMEOUT_S, ProbeError, SQLiteProbe

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME_KEYS = ("entities", "relationships", "documents")
SQLITE_KEYS = ("sqlite", "timeout", *NAME_KEYS)
NEO4J_KEYS = ("neo4j", "database", "user", "password", "connection_timeout", "query_timeout", *NAME_KEYS)


class StoreError(Exception):
    """A store that cannot be declared or opened as written; one-line message."""


@dataclass(frozen=True)
class SQLiteStore:
    """An SQLite file, relative paths resolved against the rule file's folder."""

    name: str
    path: str
    base: Path
    names: GraphNames = SQLITE_NAMES
    timeout_s: float = DEFAULT_TIMEOUT_S
    kind = "sqlite"

    def resolved(self) -> Path:
        path = Path(expand(self.path, f"store {self.name!r}")).expanduser()
        path = path if path.is_absolute() else self.base / path
        if not path.is_file():
            raise StoreError(f"store {self.name!r}: no SQLite file at {path}")
        return path


@dataclass(frozen=True)
class Neo4jStore:
    """A Neo4j server reached with the official driver."""

    name: str
    uri: str
    database: str | None = None
    user: str | None = None
    password: str | None = None
    names: GraphNames = NEO4J_NAMES
    connection_timeout_s: float = DEFAULT_CONNECTION_TIMEOUT_S
    query_timeout_s: float = DEFAULT_QUERY_TIMEOUT_S
    kind = "neo4j"

    def graph(self) -> Neo4jGraph:
        where = f"store {self.name!r}"
        auth = (expand(self.user, where), expand(self.password or "", where)) if self.user else None
        return Neo4jGraph(
            expand(self.uri, where),
            database=self.database,
            auth=auth,
            names=self.names,
            connection_timeout_s=self.connection_timeout_s,
            query_timeout_s=self.query_timeout_s,
        )


Store = Union[SQLiteStore, Neo4jStore]


def expand(text: str, where: str) -> str:
    """``${VAR}`` replaced from the environment; an unset variable is an error, not an empty string."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise StoreError(f"{where}: environment variable {name} is not set")
        return os.environ[name]

    return _VARIABLE.sub(value, text)


def is_neo4j_uri(value: Any) -> bool:
    return isinstance(value, str) and value.split("://", 1)[0] in NEO4J_SCHEMES and "://" in value


def parse_store(name: str, table: Any, where: str, base: Path, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> Store:
    """Validate one store's table: exactly one of ``sqlite`` / ``neo4j`` and known keys only.

    A store without timeouts of its own takes the run's (``connect_timeout`` / ``query_timeout``).
    """
    here = f"{where} store {name!r}"
    if not isinstance(table, Mapping) or ("sqlite" in table) == ("neo4j" in table):
        raise StoreError(f"{here}: expected a table with exactly one of the keys 'sqlite' (a path) or 'neo4j' (a URI)")
    allowed = SQLITE_KEYS if "sqlite" in table else NEO4J_KEYS
    for key, value in table.items():
        if key not in allowed:
            raise StoreError(f"{here}: unknown key {key!r} (expected one of: {', '.join(allowed)})")
        if key.endswith("timeout"):
            valid, wanted = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0, "seconds > 0"
        else:
            valid, wanted = isinstance(value, str) and value != "", "a non-empty string"
        if not valid:
            raise StoreError(f"{here}: key {key!r}: expected {wanted}, got {redact(repr(value))}")
    if "sqlite" in table:
        return SQLiteStore(name, table["sqlite"], base, _names(table, SQLITE_NAMES),
                           float(table.get("timeout", timeouts.query_s)))
    if not is_neo4j_uri(table["neo4j"]) and not _VARIABLE.fullmatch(table["neo4j"]):
        raise StoreError(  # the URI may hold a password: masked
            f"{here}: key 'neo4j': expected a {'/'.join(NEO4J_SCHEMES)}:// URI, got {redact(repr(table['neo4j']))}"
        )
    return Neo4jStore(
        name, table["neo4j"], table.get("database"), table.get("user"), table.get("password"),
        _names(table, NEO4J_NAMES),
        float(table.get("connection_timeout", timeouts.connect_s)),
        float(table.get("query_timeout", timeouts.query_s)),
    )


def _names(table: Mapping[str, Any], default: GraphNames) -> GraphNames:
    return GraphNames(*(table.get(key, getattr(default, key)) for key in NAME_KEYS))


class OpenGraphs:
    """One connected Neo4j driver per store for a whole run, shared by every rule that reads it.

    Connecting costs a handshake and ``import neo4j``; paid once per store,
    at collection (where the names rules use are checked), not per rule.
    A store that cannot be reached is retried by the next rule, which then
    fails naming the cause.  :meth:`close` ends every driver (a pytest cleanup).
    """

    def __init__(self) -> None:
        self._graphs: dict[Neo4jStore, Neo4jGraph] = {}

    async def graph(self, store: Neo4jStore) -> Neo4jGraph:
        graph = self._graphs.get(store)
        if graph is None or not graph.is_open:
            try:
                graph = await store.graph().open()
            except GraphError as exc:
                raise StoreError(str(exc)) from exc
            self._graphs[store] = graph
        return graph

    def close(self) -> None:
        graphs, self._graphs = list(self._graphs.values()), {}
        for graph in graphs:
            graph.close_now()


@asynccontextmanager
async def sqlite_probe(source: Any) -> AsyncIterator[SQLiteProbe]:
    """An open read-only probe for a path, an SQLite store, an aiosqlite connection or a probe."""
    if isinstance(source, SQLiteProbe):
        yield await source.open()
        return
    if isinstance(source, aiosqlite.Connection):
        yield SQLiteProbe.over(source)
        return
    if isinstance(source, Neo4jStore) or isinstance(source, Neo4jGraph) or is_neo4j_uri(source):
        raise StoreError(f"{_label(source)}: this check reads an SQLite database, not Neo4j")
    if isinstance(source, SQLiteStore):
        probe = SQLiteProbe(source.resolved(), source.timeout_s)
    elif isinstance(source, (str, os.PathLike)):
        probe = SQLiteProbe(Path(source))
    else:
        raise StoreError(f"cannot read {source!r} as SQLite: pass a path, a probe or an aiosqlite connection")
    try:
        await probe.open()
    except ProbeError as exc:
        raise StoreError(str(exc)) from exc
    try:
        yield probe
    finally:
        await probe.close()


@asynccontextmanager
async def graph_backend(source: Any, names: GraphNames | None = None) -> AsyncIterator[GraphBackend]:
    """An open graph backend for any store: Neo4j through the driver, SQLite through a probe."""
    if isinstance(source, Neo4jStore) or is_neo4j_uri(source):
        graph = source.graph() if isinstance(source, Neo4jStore) else Neo4jGraph(source, names=names or NEO4J_NAMES)
        async with graph:
            yield graph
        return
    if isinstance(source, Neo4jGraph) and not source.is_open:
        async with source:
            yield source
        return
    if isinstance(source, (Neo4jGraph, SQLiteGraph)):
        yield source
        return
    async with sqlite_probe(source) as probe:
        default = source.names if isinstance(source, SQLiteStore) else SQLITE_NAMES
        yield SQLiteGraph(probe, names or default)


def _label(source: Any) -> str:
    if isinstance(source, (SQLiteStore, Neo4jStore)):
        return f"store {source.name!r}"
    return getattr(source, "label", None) or str(source)
