"""Graph-consistency rules: one rule, two backends (SQL on SQLite, Cypher on Neo4j).

Seed 001's data-consistency metrics, computed the same way on both stores so a
rule has one name and one report shape wherever the graph lives.

The graph model (names of tables, labels and the relationship type can be
changed per store, see :class:`GraphNames`)::

    SQLite  documents(id INTEGER PRIMARY KEY, title)
            entities(id INTEGER PRIMARY KEY, semantic_id, name, type, document_id)
            relationships(id INTEGER PRIMARY KEY, source_id, target_id, type,
                          confidence REAL, evidence TEXT, document_id)
    Neo4j   (:Document {id, title})
            (:Entity {id, semantic_id, name, type, document_id})
            (:Entity)-[:RELATES {id, type, confidence, evidence, document_id}]->(:Entity)

Definitions, identical on both stores unless said otherwise:

- **orphaned relationship**: on SQLite, a relationships row whose source_id or
  target_id is NULL or matches no entities row (an anti-join; ``entities.id``
  is the INTEGER PRIMARY KEY, never NULL, so SQLite probes it by rowid).  A Neo4j relationship
  cannot dangle, so there it is one whose start or end node is not a live
  entity: it lacks the entity label, has no ``id``, or has ``deleted = true``
  (what a migration leaves when it MERGEs an endpoint it never loaded).
- **missing evidence**: evidence is NULL, blank text, or (Neo4j) an empty list.
- **inconsistent confidence**: confidence is NULL, not a number, outside
  [0, 1], or at least 0.8 while evidence is missing (a high score must rest on
  evidence).  Such a relationship may count as missing evidence as well.
- **duplicate semantic ids**: groups of entities sharing a non-NULL
  semantic_id; the value is the number of groups.
- **validation success rate**: the percentage of relationships that pass all
  three relationship rules above (100 when there are none).

Every query is set-based and runs in the database: a sample of offenders
bounded by ``LIMIT`` and, only when there are more offenders than it shows,
one aggregate count.  The rate judges each relationship once: on Neo4j one
query counts and cuts the sample from the failing ones it collected; on
SQLite the sample is read first and the rate resumes after it.  Neo4j is
read in read transactions only, with connection and query timeouts.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass
from string import Template
from typing import Any, Mapping, Protocol

from ..report.redaction import redact
from .finding import DEFAULT_SAMPLE, Finding, sample_then_count
from .sqlite import ProbeError, SQLiteProbe, quote_name, sql_literal

COUNT_TYPES = ("documents", "entities", "relations")
DEFAULT_CONNECTION_TIMEOUT_S = 10.0
DEFAULT_QUERY_TIMEOUT_S = 120.0


class GraphError(Exception):
    """A graph store cannot be reached or a query failed; one-line message."""


@dataclass(frozen=True)
class GraphNames:
    """Table names on SQLite, labels and relationship type on Neo4j."""

    entities: str
    relationships: str
    documents: str


SQLITE_NAMES = GraphNames("entities", "relationships", "documents")
NEO4J_NAMES = GraphNames("Entity", "RELATES", "Document")


class GraphBackend(Protocol):
    """What a rule needs of a store: its dialect, its names and a way to read records."""

    dialect: str
    names: GraphNames
    label: str

    async def records(self, text: str, limit: int | None = None) -> list[dict[str, Any]]: ...


def quote_label(name: str) -> str:
    """A Cypher label or type in backticks, so any name is safe to interpolate."""
    return "`" + name.replace("`", "``") + "`"


def render(text: str, dialect: str, names: GraphNames) -> str:
    """Put a store's quoted names into a rule's query text."""
    quote = quote_name if dialect == "sql" else quote_label
    return Template(text).safe_substitute(
        entities=quote(names.entities), relationships=quote(names.relationships), documents=quote(names.documents)
    )


@dataclass(frozen=True)
class Dialect:
    """The relationship predicates of one query language, and how rules read relationships."""

    orphan: str
    no_evidence: str
    bad_confidence: str
    count: str
    sample: str
    rate: str


_SQL_NO_EVIDENCE = "(r.evidence IS NULL OR trim(r.evidence) = '')"
_CYPHER_NO_EVIDENCE = ("CASE WHEN r.evidence IS NULL THEN true WHEN r.evidence IS :: STRING THEN trim(r.evidence) = '' "
                       "WHEN r.evidence IS :: LIST<ANY> THEN size(r.evidence) = 0 ELSE false END")
_RELATIONSHIP_COLUMNS = ("id", "source_id", "target_id", "type", "confidence", "evidence")

DIALECTS = {
    "sql": Dialect(
        orphan="(r.source_id IS NULL OR r.target_id IS NULL "
        "OR r.source_id NOT IN (SELECT id FROM $entities) OR r.target_id NOT IN (SELECT id FROM $entities))",
        no_evidence=_SQL_NO_EVIDENCE,
        bad_confidence="(typeof(r.confidence) NOT IN ('integer', 'real') OR r.confidence NOT BETWEEN 0 AND 1 "
        f"OR (r.confidence >= 0.8 AND {_SQL_NO_EVIDENCE}))",
        count="SELECT count(*) AS offenders FROM $relationships r WHERE {predicate}",
        sample="SELECT " + ", ".join(f"r.{c}" for c in _RELATIONSHIP_COLUMNS)
        + " FROM $relationships r WHERE {predicate} ORDER BY r.id LIMIT ?",
        rate="SELECT count(*) AS total, coalesce(sum(CASE WHEN {predicate} THEN 1 ELSE 0 END), 0) AS failing "
        "FROM $relationships r",
    ),
    "cypher": Dialect(
        orphan="(NOT (a:$entities AND b:$entities) OR a.id IS NULL OR b.id IS NULL "
        "OR a.deleted = true OR b.deleted = true)",
        no_evidence=f"({_CYPHER_NO_EVIDENCE})",
        bad_confidence="(NOT coalesce(r.confidence IS :: INTEGER | FLOAT AND 0 <= r.confidence <= 1, false) "
        f"OR (r.confidence >= 0.8 AND {_CYPHER_NO_EVIDENCE}))",
        count="MATCH (a)-[r:$relationships]->(b) WHERE {predicate} RETURN count(r) AS offenders",
        sample="MATCH (a)-[r:$relationships]->(b) WHERE {predicate} "
        "RETURN r.id AS id, a.id AS source_id, b.id AS target_id, r.type AS type, r.confidence AS confidence, "
        "r.evidence AS evidence ORDER BY id LIMIT $$limit",
        rate="MATCH (a)-[r:$relationships]->(b) "
        "RETURN count(r) AS total, count(CASE WHEN {predicate} THEN 1 END) AS failing",
    ),
}


def _predicate(dialect: Dialect, rule: str) -> str:
    """The WHERE condition of a relationship rule; the rate's is their union."""
    parts = {
        "orphaned_relationships": dialect.orphan,
        "missing_evidence": dialect.no_evidence,
        "inconsistent_confidence": dialect.bad_confidence,
    }
    return parts.get(rule) or " OR ".join(parts.values())


DUPLICATES = {
    "sql": (
        "SELECT count(*) AS offenders FROM (SELECT 1 FROM $entities WHERE semantic_id IS NOT NULL "
        "GROUP BY semantic_id HAVING count(*) > 1)",
        "SELECT g.semantic_id, g.entities, (SELECT group_concat(id) FROM (SELECT d.id FROM $entities d "
        "WHERE d.semantic_id = g.semantic_id ORDER BY d.id)) AS ids FROM (SELECT semantic_id, count(*) AS entities "
        "FROM $entities WHERE semantic_id IS NOT NULL GROUP BY semantic_id HAVING count(*) > 1) g "
        "ORDER BY g.semantic_id LIMIT ?",
    ),
    "cypher": (
        "MATCH (e:$entities) WHERE e.semantic_id IS NOT NULL WITH e.semantic_id AS semantic_id, count(*) AS n "
        "WHERE n > 1 RETURN count(*) AS offenders",
        "MATCH (e:$entities) WHERE e.semantic_id IS NOT NULL WITH e.semantic_id AS semantic_id, count(*) AS entities "
        "WHERE entities > 1 WITH semantic_id, entities ORDER BY semantic_id LIMIT $$limit "
        "RETURN semantic_id, entities, reduce(s = '', i IN COLLECT { MATCH (d:$entities {semantic_id: semantic_id}) "
        "RETURN d.id ORDER BY d.id } | s + CASE s WHEN '' THEN '' ELSE ',' END + toString(i)) AS ids",
    ),
}

COUNTS = {
    "sql": "SELECT (SELECT count(*) FROM $documents) AS documents, (SELECT count(*) FROM $entities) AS entities, "
    "(SELECT count(*) FROM $relationships) AS relations",
    "cypher": "RETURN COUNT { MATCH (:$documents) } AS documents, COUNT { MATCH (:$entities) } AS entities, "
    "COUNT { MATCH ()-[:$relationships]->() } AS relations",
}

GRAPH_RULES = (
    "orphaned_relationships",
    "inconsistent_confidence",
    "missing_evidence",
    "duplicate_semantic_ids",
    "validation_success_rate",
)


async def measure(backend: GraphBackend, rule: str, limit: int = DEFAULT_SAMPLE) -> Finding:
    """Run one graph rule on a backend: one aggregate query, then a bounded sample if needed."""
    if rule not in GRAPH_RULES:
        raise GraphError(f"unknown graph rule {rule!r} (known: {', '.join(GRAPH_RULES)})")
    if rule == "duplicate_semantic_ids":
        count, sample = DUPLICATES[backend.dialect]
        return await _offenders(backend, count, sample, limit, "groups")
    dialect = DIALECTS[backend.dialect]
    predicate = _predicate(dialect, rule)
    sample = dialect.sample.format(predicate=predicate)
    if rule != "validation_success_rate":
        return await _offenders(backend, dialect.count.format(predicate=predicate), sample, limit, "relationships")
    if not limit:
        (row,) = await backend.records(render(dialect.rate.format(predicate=predicate), backend.dialect, backend.names))
        total, failing, found = int(row["total"]), int(row["failing"]), []
    elif backend.dialect == "cypher":
        total, failing, found = await _cypher_rate(backend, predicate, limit)
    else:
        total, failing, found = await _sql_rate(backend, predicate, sample, limit)
    rate = 100.0 * (total - failing) / total if total else 100.0
    note = f"{failing} of {total} relationships fail a relationship rule"
    return Finding(rate, found, {"total": total, "failing": failing}, note if failing else "")


async def _cypher_rate(backend: GraphBackend, predicate: str, limit: int) -> tuple[int, int, list[dict[str, Any]]]:
    """Total, failing and the first ``limit`` failing by id, from one pass over the relationships.

    The failing relationships are collected as references (not rows) and
    the sample is cut from them inside the same query, so the relationships
    are matched and judged once, as the bare rate query judges them.
    """
    text = render(CYPHER_RATE_WITH_SAMPLE.format(predicate=predicate), backend.dialect, backend.names)
    (row,) = await backend.records(text, limit)
    found = [{column: shown.get(column) for column in _RELATIONSHIP_COLUMNS} for shown in row["sample"]]
    return int(row["total"]), int(row["failing"]), found  # a map's keys come back unordered: the sample's order


async def _sql_rate(backend: GraphBackend, predicate: str, sample: str,
                    limit: int) -> tuple[int, int, list[dict[str, Any]]]:
    """Total, failing and the first ``limit`` failing by id, reading each relationship's predicate once.

    The sample (``LIMIT n + 1`` in id order, which the INTEGER PRIMARY KEY
    streams) judges the rows up to the (n+1)-th offender; the rate then
    judges only the rows after the n-th (``r.id > ? AND ...`` stops at the
    cheap comparison) and counts the rest, so no row is judged twice.
    """
    found = await _sample(backend, sample, limit + 1)
    if len(found) <= limit:
        (row,) = await backend.records(render(SQL_TOTAL, backend.dialect, backend.names))
        return int(row["total"]), len(found), found
    resumed = SQL_RATE_AFTER.format(predicate=predicate, after=sql_literal(found[limit - 1]["id"]))
    (row,) = await backend.records(render(resumed, backend.dialect, backend.names))
    return int(row["total"]), limit + int(row["failing"]), found[:limit]


SQL_TOTAL = "SELECT count(*) AS total FROM $relationships"
SQL_RATE_AFTER = ("SELECT count(*) AS total, coalesce(sum(CASE WHEN r.id > {after} AND ({predicate}) THEN 1 ELSE 0 END), "
                  "0) AS failing FROM $relationships r")
CYPHER_RATE_WITH_SAMPLE = (
    "MATCH (a)-[r:$relationships]->(b) WITH count(r) AS total, collect(CASE WHEN {predicate} THEN r END) AS bad "
    "RETURN total, size(bad) AS failing, COLLECT {{ UNWIND bad AS f WITH f ORDER BY f.id LIMIT $$limit "
    "RETURN f {{.id, source_id: startNode(f).id, target_id: endNode(f).id, .type, .confidence, .evidence}} }} "
    "AS sample"
)


async def counts(backend: GraphBackend) -> dict[str, int]:
    """Documents, entities and relations in a store, as its own count query returns them."""
    (row,) = await backend.records(render(COUNTS[backend.dialect], backend.dialect, backend.names))
    return {kind: int(row[kind]) for kind in COUNT_TYPES}


async def _offenders(backend: GraphBackend, count: str, sample: str, limit: int, unit: str) -> Finding:
    """The sample first, asking n + 1 rows; the count query runs only when there are more than n."""
    async def counted() -> int:
        (row,) = await backend.records(render(count, backend.dialect, backend.names))
        return int(row["offenders"])

    offenders, found = await sample_then_count(lambda n: _sample(backend, sample, n), counted, limit)
    return Finding(offenders, found, {"offending": offenders, "unit": unit})


async def _sample(backend: GraphBackend, text: str, limit: int) -> list[dict[str, Any]]:
    return await backend.records(render(text, backend.dialect, backend.names), limit) if limit else []


class SQLiteGraph:
    """The graph rules on an SQLite file (or connection) through a read-only probe."""

    dialect = "sql"

    def __init__(self, probe: SQLiteProbe, names: GraphNames = SQLITE_NAMES) -> None:
        self.probe = probe
        self.names = names
        self.label = probe.label

    async def records(self, text: str, limit: int | None = None) -> list[dict[str, Any]]:
        try:
            return await self.probe.records(text, () if limit is None else (limit,))
        except ProbeError as exc:
            raise GraphError(str(exc)) from exc


class Neo4jGraph:
    """The graph rules on a Neo4j server through the official driver, in read transactions only.

    The driver is imported here, when a Neo4j store is used, not when the
    plugin loads.  It is the synchronous driver, run in a worker thread: it
    belongs to no event loop, so one open graph serves every rule of a run
    (each rule item runs on its own loop), and its sockets get TCP_NODELAY,
    which the async driver's lack (neo4j 6.4: each small query then waits on
    Nagle's algorithm).  ``connection_timeout_s`` bounds connecting and
    acquiring a connection (and retries); ``query_timeout_s`` is each
    transaction's timeout, enforced by the server.
    """

    dialect = "cypher"

    def __init__(
        self,
        uri: str,
        *,
        database: str | None = None,
        auth: tuple[str, str] | None = None,
        names: GraphNames = NEO4J_NAMES,
        connection_timeout_s: float = DEFAULT_CONNECTION_TIMEOUT_S,
        query_timeout_s: float = DEFAULT_QUERY_TIMEOUT_S,
    ) -> None:
        self.uri = uri
        self.database = database
        self.auth = auth
        self.names = names
        self.connection_timeout_s = connection_timeout_s
        self.query_timeout_s = query_timeout_s
        self.label = f"neo4j {redact(uri)}"
        self._driver: Any = None
        self._catalog: Any = None

    async def open(self) -> "Neo4jGraph":
        """Connect and prove the server answers, within the connection timeout."""
        from ..extras import MissingExtra, require

        try:
            require("neo4j", "a Neo4j store")
        except MissingExtra as exc:
            raise GraphError(str(exc)) from None
        import neo4j

        try:  # the driver is built inside the try: a malformed URI (with its password) is a one-line error too
            with warnings.catch_warnings():  # the driver's warnings quote the whole URI, password included
                warnings.simplefilter("ignore")
                self._driver = neo4j.GraphDatabase.driver(
                    self.uri,
                    auth=self.auth,
                    connection_timeout=self.connection_timeout_s,
                    connection_acquisition_timeout=self.connection_timeout_s,
                    max_transaction_retry_time=self.connection_timeout_s,
                    notifications_min_severity="OFF",
                )
            await asyncio.wait_for(asyncio.to_thread(self._driver.verify_connectivity), self.connection_timeout_s * 2)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError, ValueError,
                asyncio.TimeoutError) as exc:
            self.close_now()
            detail = redact(f"{self.uri}: {_one_line(exc) or 'timed out'}")
            raise GraphError(f"cannot connect to Neo4j at {detail}") from None
        return self

    @property
    def is_open(self) -> bool:
        return self._driver is not None

    async def close(self) -> None:
        if self._driver is not None:
            await asyncio.to_thread(self.close_now)

    def close_now(self) -> None:
        """Close from synchronous code (a pytest cleanup): the sync driver needs no event loop."""
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.close()

    async def __aenter__(self) -> "Neo4jGraph":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def records(self, text: str, limit: int | None = None,
                      params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        if self._driver is None:
            raise GraphError("Neo4j graph is not open")
        bound = dict(params or {})
        if limit is not None:
            bound["limit"] = limit
        return await asyncio.to_thread(self._read, text, bound)

    def _read(self, text: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        import neo4j

        @neo4j.unit_of_work(timeout=self.query_timeout_s)
        def read(tx: Any) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(text, params)]

        try:
            with self._driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                return session.execute_read(read)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError) as exc:
            raise GraphError(f"Neo4j at {self.uri}: {_one_line(exc)}") from exc

    async def catalog(self) -> Any:
        """Labels, relationship types and property keys, read once per open graph."""
        from .catalog import GRAPH_CATALOG_QUERY, GraphCatalog

        if self._catalog is None:
            (row,) = await self.records(GRAPH_CATALOG_QUERY)
            self._catalog = GraphCatalog(frozenset(row["labels"]), frozenset(row["types"]),
                                         frozenset(row["properties"]))
        return self._catalog


def _one_line(exc: BaseException) -> str:
    """Neo4j errors carry GQL status blocks; the first message line is what a reader needs."""
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())
