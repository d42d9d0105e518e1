"""Consistency rules as assertions in a test's own code: what the ``consistency`` fixture returns.

Each ``assert_*`` runs one rule (the same rules a rule file declares), adds
its figures to the case's report, and raises ``AssertionError`` with the
rule's message when the rule misses its threshold::

    await consistency.assert_no_orphans(db, child="tasks.session_id", parent="sessions.id")
    await consistency.assert_graph(neo4j_uri)                      # seed 001's five metrics
    await consistency.assert_counts_match(old_store, new_store, tolerance=0.05)
    await consistency.assert_rule(db, "allowed_values", table="tasks", column="status", values=["open", "done"])

Every kind a rule file declares runs through :meth:`Consistency.assert_rule`
with the same keys.

A store is a path, an open probe (``sqlite_db``), the application's aiosqlite
connection, a ``bolt://`` URI, or a graph backend
(:class:`~.graph.Neo4jGraph`, :class:`~.graph.SQLiteGraph`) built with other
table or label names.
"""

from __future__ import annotations

from typing import Any, Mapping, MutableMapping, Sequence

from .finding import DEFAULT_SAMPLE
from ..timeouts import DEFAULT_TIMEOUTS, Timeouts
from .graph import COUNT_TYPES, GRAPH_RULES, Neo4jGraph
from .parity import DEFAULT_TOLERANCE
from .. import systems
from ..usage import UsageMistake
from .rules import Outcome, RuleError, make_rule
from .rule_runner import run_rule
from .stores import Neo4jStore, OpenGraphs, is_neo4j_uri


class Consistency:
    """Rule assertions whose outcomes land in ``figures['consistency']`` of the current case."""

    def __init__(
        self, figures: MutableMapping[str, Any], sample: int = DEFAULT_SAMPLE, timeouts: Timeouts = DEFAULT_TIMEOUTS,
        graphs: OpenGraphs | None = None,
    ) -> None:
        self.figures = figures
        self.sample = sample
        self.timeouts = timeouts
        self.graphs = graphs

    async def bounded(self, source: Any) -> Any:
        """A bare Neo4j URI becomes a graph held to the run's connect and query timeouts (shared for the run)."""
        if not is_neo4j_uri(source):
            return source
        if self.graphs is not None:
            store = Neo4jStore(source, source, connection_timeout_s=self.timeouts.connect_s,
                               query_timeout_s=self.timeouts.query_s)
            return await self.graphs.graph(store)
        return Neo4jGraph(source, connection_timeout_s=self.timeouts.connect_s, query_timeout_s=self.timeouts.query_s)

    async def check(self, source: Any, check: str, *, name: str | None = None, threshold: str | None = None,
                    compare_to: Any = None, **params: Any) -> Outcome:
        """Run one rule and record it, without asserting: for tests that judge the figures themselves."""
        if compare_to is not None:
            params = {**params, "compare_to": str(getattr(compare_to, "label", compare_to))}
        try:
            spec = make_rule(check, params, name=name, threshold=threshold, sample=self.sample)
        except RuleError as exc:  # the test's own call is wrong, not the data
            raise UsageMistake(f"consistency: {exc}") from None
        systems.note(self.figures, *(systems.describe_store(s) for s in (source, compare_to) if s is not None))
        outcome = await run_rule(spec, await self.bounded(source), await self.bounded(compare_to))
        self.figures.setdefault("consistency", []).append(outcome.to_figures())
        return outcome

    async def assert_rule(self, source: Any, check: str, **options: Any) -> Outcome:
        """Run one rule and fail the test with its message when it misses its threshold."""
        outcome = await self.check(source, check, **options)
        if not outcome.passed:
            raise AssertionError(outcome.message)
        return outcome

    async def assert_integrity(self, db: Any, *, quick: bool = False) -> Outcome:
        """PRAGMA integrity_check (or quick_check) reports nothing but 'ok'."""
        return await self.assert_rule(db, "quick_check" if quick else "integrity_check")

    async def assert_foreign_keys(self, db: Any, *, table: str | None = None) -> Outcome:
        """PRAGMA foreign_key_check finds no violation (the message lists them per table)."""
        return await self.assert_rule(db, "foreign_key_check", **({"table": table} if table else {}))

    async def assert_tables(self, db: Any, *tables: str) -> Outcome:
        return await self.assert_rule(db, "tables", expect=list(tables))

    async def assert_indexes(self, db: Any, *indexes: str) -> Outcome:
        return await self.assert_rule(db, "indexes", expect=list(indexes))

    async def assert_pragmas(self, db: Any, **expected: Any) -> Outcome:
        """Pragmas as configured, e.g. ``journal_mode='wal', foreign_keys=True``.

        Per-connection pragmas (foreign_keys, synchronous ...) need the
        application's own connection as ``db``; a path shows only file pragmas.
        """
        return await self.assert_rule(db, "pragmas", expect=expected)

    async def assert_no_orphans(self, db: Any, *, child: str, parent: str, threshold: str | None = None) -> Outcome:
        """No ``child='table.column'`` value lacks its ``parent='table.column'`` row."""
        return await self.assert_rule(db, "orphans", child=child, parent=parent, threshold=threshold)

    async def assert_unique(self, db: Any, table: str, *columns: str, threshold: str | None = None) -> Outcome:
        """No two rows share the key made of ``columns``."""
        return await self.assert_rule(db, "duplicates", table=table, columns=list(columns), threshold=threshold)

    async def assert_not_null(self, db: Any, table: str, *columns: str, blank: bool = False,
                              threshold: str | None = None) -> Outcome:
        """No NULL in ``columns``; with ``blank=True``, no empty text either."""
        return await self.assert_rule(db, "nulls", table=table, columns=list(columns), blank=blank,
                                      threshold=threshold)

    async def assert_in_range(self, db: Any, table: str, column: str, *, min: float | None = None,
                              max: float | None = None, threshold: str | None = None) -> Outcome:
        """Every non-NULL value of ``column`` lies within [min, max]."""
        bounds = {key: value for key, value in (("min", min), ("max", max)) if value is not None}
        return await self.assert_rule(db, "range", table=table, column=column, threshold=threshold, **bounds)

    async def assert_graph(self, graph: Any, *rules: str, thresholds: Mapping[str, str] | None = None
                           ) -> list[Outcome]:
        """Seed 001's graph metrics (all five unless named); one failure lists every rule missed."""
        thresholds = thresholds or {}
        outcomes = [await self.check(graph, rule, threshold=thresholds.get(rule)) for rule in rules or GRAPH_RULES]
        missed = [outcome.message for outcome in outcomes if not outcome.passed]
        if missed:
            raise AssertionError("; ".join(missed))
        return outcomes

    async def assert_counts_match(self, source: Any, target: Any, *, tolerance: float = DEFAULT_TOLERANCE,
                                  types: Sequence[str] = COUNT_TYPES, threshold: str | None = None) -> Outcome:
        """Documents, entities and relations in ``target`` within ``tolerance`` of ``source``."""
        return await self.assert_rule(source, "migration_completeness", compare_to=target, threshold=threshold,
                                      tolerance=tolerance, types=list(types))
