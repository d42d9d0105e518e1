#!/usr/bin/env python3
"""How the orphan check scales: N relationships on SQLite and on a real Neo4j.

    python3 bench/consistency_bench.py [--rows 1000000] [--orphans 10] [--repeat 3]

SQLite: the ``orphaned_relationships`` rule (an anti-join on the entities'
primary key) against a bare ``SELECT count(*)`` of the same table.  Neo4j:
the same rule in Cypher against ``MATCH ()-[r]->() RETURN count(r)``.  Both
go through the same backends the plugin uses.  Neo4j is the server named by
``PRODREADY_NEO4J_URI``, or one this script starts with tools/neo4j/launcher.py.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import neo4j

from pytest_prodready.checks.graph import (
    DIALECTS,
    GraphBackend,
    GraphNames,
    Neo4jGraph,
    SQLiteGraph,
    measure,
    render,
)
from pytest_prodready.checks.sqlite import SQLiteProbe
from pytest_prodready.datasets.loaders import clear_neo4j, write_neo4j, write_sqlite

LAUNCHER = Path(__file__).resolve().parents[1] / "tools" / "neo4j" / "launcher.py"
BARE_COUNT = {
    "sql": "SELECT count(*) AS n FROM $relationships",
    "cypher": "MATCH ()-[r:$relationships]->() RETURN count(r) AS n",
}


def graph_rows(relationships: int, orphans: int, seed: int = 7) -> dict[str, Iterator[tuple[Any, ...]]]:
    """Streamed rows: one entity per ten relationships, ``orphans`` relationships to missing entities."""
    entities = max(2, relationships // 10)
    rng = random.Random(seed)
    every = relationships // orphans if orphans else 0

    def relationship_rows() -> Iterator[tuple[Any, ...]]:
        for rid in range(1, relationships + 1):
            source = entities + rid if every and rid % every == 0 else rng.randint(1, entities)
            yield rid, source, rng.randint(1, entities), "uses", 0.5, "e", 1

    return {
        "documents": iter([(1, "document 1")]),
        "entities": ((e, f"ent:{e}", None, "concept", 1) for e in range(1, entities + 1)),
        "relationships": relationship_rows(),
    }


async def timed(run: Callable[[], Awaitable[Any]], repeat: int) -> tuple[list[float], Any]:
    """Milliseconds of each run (after one warm-up run) and the last result."""
    result = await run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = await run()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


async def compare(backend: GraphBackend, repeat: int) -> list[tuple[str, list[float], Any]]:
    """The bare count, the rule's count query alone, and the whole rule (count + bounded sample)."""
    dialect = DIALECTS[backend.dialect]
    queries = {
        "count(*)": BARE_COUNT[backend.dialect],
        "orphan count query": dialect.count.format(predicate=dialect.orphan),
    }
    measured = []
    for name, text in queries.items():
        rendered = render(text, backend.dialect, backend.names)
        times, found = await timed(lambda: backend.records(rendered), repeat)
        measured.append((name, times, next(iter(found[0].values()))))
    rule_times, finding = await timed(lambda: measure(backend, "orphaned_relationships"), repeat)
    return [*measured, ("rule with sample", rule_times, finding.value)]


async def bench_sqlite(rows: int, orphans: int, repeat: int, folder: Path) -> tuple[float, list]:
    start = time.perf_counter()
    path = write_sqlite(folder / "graph.db", graph_rows(rows, orphans))
    load_s = time.perf_counter() - start
    async with SQLiteProbe(path, timeout_s=600) as probe:
        return load_s, await compare(SQLiteGraph(probe), repeat)


async def bench_neo4j(uri: str, rows: int, orphans: int, repeat: int, shared: bool) -> tuple[float, list]:
    """Load under labels of its own; on a shared server, delete them afterwards."""
    tag = uuid.uuid4().hex[:8]
    names = GraphNames(f"BenchEntity_{tag}", f"BENCH_{tag}", f"BenchDocument_{tag}")
    async with neo4j.AsyncGraphDatabase.driver(uri, auth=None, notifications_min_severity="OFF") as driver:
        start = time.perf_counter()
        try:
            await write_neo4j(driver, graph_rows(rows, orphans), names)
            load_s = time.perf_counter() - start
            async with Neo4jGraph(uri, names=names, query_timeout_s=600) as graph:
                return load_s, await compare(graph, repeat)
        finally:
            if shared:
                await clear_neo4j(driver, names)


def table(rows: int, orphans: int, results: dict[str, tuple[float, list]]) -> str:
    lines = [
        f"orphan check on {rows:,} relationships ({rows // 10:,} entities, {orphans} orphans seeded)",
        f"{'store':<8}{'query':<26}{'best ms':>10}{'median ms':>12}{'vs count(*)':>13}{'result':>10}{'load s':>9}",
    ]
    for store, (load_s, measured) in results.items():
        base = min(measured[0][1])
        for name, times, value in measured:
            lines.append(f"{store:<8}{name:<26}{min(times):>10.1f}{statistics.median(times):>12.1f}"
                         f"{min(times) / base:>12.1f}x{value:>10}{load_s:>9.1f}")
    return "\n".join(lines)


def start_neo4j() -> Any:
    spec = importlib.util.spec_from_file_location("neo4j_launcher", LAUNCHER)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    return launcher.start(timeout=180)


async def main(args: argparse.Namespace) -> None:
    results: dict[str, tuple[float, list]] = {}
    if "sqlite" in args.stores:
        with tempfile.TemporaryDirectory(prefix="prodready-bench-") as folder:
            results["sqlite"] = await bench_sqlite(args.rows, args.orphans, args.repeat, Path(folder))
        print(table(args.rows, args.orphans, results), file=sys.stderr)
    if "neo4j" in args.stores:
        results["neo4j"] = await bench_neo4j_server(args)
    print(table(args.rows, args.orphans, results))


async def bench_neo4j_server(args: argparse.Namespace) -> tuple[float, list]:
    """On the server PRODREADY_NEO4J_URI names, or on one started for the run."""
    shared = os.environ.get("PRODREADY_NEO4J_URI")
    server = None if shared else start_neo4j()
    try:
        return await bench_neo4j(shared or server.uri, args.rows, args.orphans, args.repeat, bool(shared))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="relationships (default 1,000,000)")
    parser.add_argument("--orphans", type=int, default=10, help="relationships to a missing entity (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query, after one warm-up (default 3)")
    parser.add_argument("--stores", nargs="+", choices=("sqlite", "neo4j"), default=("sqlite", "neo4j"),
                        help="stores to measure (default both)")
    asyncio.run(main(parser.parse_args()))
