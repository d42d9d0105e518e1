#!/usr/bin/env python3
"""Each consistency rule beside the bare query that answers it: SQLite at 1,000,000 rows, and Neo4j.

    python3 bench/consistency_bench.py [--rows 1000000] [--few 10] [--many 100000] [--repeat 5]
                                       [--graph-rows 100000] [--stores sqlite neo4j] [--sets few many]
                                       [--cache-dir DIR] [--build-only] [--rules NAME ...]

SQLite: every rule kind runs through ``run_rule`` on one open read-only probe
as a rule-file item runs it: its names were checked when pytest collected
the file, so that one-time cost is its own column ("checks"), not part of
the rule's time.  Its bare query (the one count, max or pragma that answers
the question, nothing else) runs on the same connection.  Two databases:
one with ``--few`` offenders per rule, one with ``--many``; building one
takes minutes, so ``--cache-dir`` keeps them for later runs (the file name
carries every build parameter).  SQLite runs inside this process (its
aiosqlite thread), so CPU time (user + system of the process) is shown
beside wall time: on a shared machine it is the steadier of the two.
Neo4j: the graph rules through one shared, connected graph (the driver
imported and connected before timing) against the same Cypher sent straight
through a connected sync driver; the server is ``PRODREADY_NEO4J_URI``, or
one this script starts with tools/neo4j/launcher.py (wall time only: the
work is the server's).  Rule and bare alternate in every repetition (which
goes first alternates too); the tables show medians and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

from pytest_prodready.checks.rule_preparation import check_names
from pytest_prodready.checks.graph import DIALECTS, DUPLICATES, GraphNames, Neo4jGraph, SQLiteGraph, render
from pytest_prodready.checks.rules import make_rule
from pytest_prodready.checks.rule_runner import run_rule
from pytest_prodready.checks.sqlite import SQLiteProbe
from pytest_prodready.checks.table_rules import JSON_MATCHES, MATCHES, _json_matches, _matches
from pytest_prodready.datasets.loaders import clear_neo4j, write_neo4j, write_sqlite

LAUNCHER = Path(__file__).resolve().parents[1] / "tools" / "neo4j" / "launcher.py"
PARENTS = 100_000
SCHEMA = """
CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents(id), status TEXT, payload TEXT,
                    code TEXT, note TEXT, retry_count INTEGER, max_retries INTEGER, version_key TEXT,
                    deleted_at TEXT, updated_at TEXT, score REAL);
CREATE INDEX idx_items_parent ON items(parent_id);
CREATE INDEX idx_items_updated ON items(updated_at);
"""
JSON_SCHEMA = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}
REGEX = r"^[A-Z]{2}-\d+$"
FAILED_ROWS = "SELECT id, retry_count, max_retries FROM items WHERE retry_count > max_retries"
HOT_QUERY = "SELECT * FROM items WHERE parent_id = ? ORDER BY id"
BUILD_VERSION = 1  # bump when item_rows or graph_rows change what they write


def item_rows(rows: int, offenders: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """Rows where every ``rows // offenders``-th one breaks every rule at once."""
    rng = random.Random(seed)
    every = rows // offenders if offenders else 0
    for i in range(1, rows + 1):
        bad = bool(every) and i % every == 0
        yield (i, PARENTS + i if bad else rng.randint(1, PARENTS), "weird" if bad else "open",
               "{bad" if bad else '{"a": 1}', "zz" if bad else f"AB-{i}", None if bad else "n",
               9 if bad else 1, 3, f"k{i - 1}" if bad else f"k{i}", None, "2026-12-01T10:00:00",
               2.0 if bad else 0.5)


def build(path: Path, rows: int, offenders: int) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    with conn:
        conn.executemany("INSERT INTO parents VALUES (?, ?)", ((i, f"p{i}") for i in range(1, PARENTS + 1)))
        conn.executemany(f"INSERT INTO items VALUES ({', '.join('?' * 12)})", item_rows(rows, offenders))
    conn.close()
    return path


def database(folder: Path, rows: int, offenders: int) -> tuple[Path, bool]:
    """The bench database for these parameters, built unless ``folder`` holds it already.

    The file name carries every build parameter and a digest of the schema, so a
    changed schema or size never reuses a stale file; it is built under a
    temporary name and renamed, so an interrupted build is never reused.
    """
    digest = hashlib.sha256(f"{SCHEMA}{PARENTS}{BUILD_VERSION}".encode()).hexdigest()[:10]
    path = folder / f"items-{rows}-{offenders}-{digest}.db"
    if path.exists():
        return path, True
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    build(partial, rows, offenders)
    write_sqlite(partial, graph_rows(rows, offenders))
    partial.rename(path)
    return path, False


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, printed beside every table (shared machine)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} CPUs"


def sqlite_cases() -> list[tuple[str, dict[str, Any], str, tuple[Any, ...]]]:
    """(check, params, bare query, its parameters) for every SQLite rule kind."""
    t = {"table": "items"}
    return [
        ("orphans", {"child": "items.parent_id", "parent": "parents.id"},
         "SELECT count(*) FROM items WHERE parent_id NOT IN (SELECT id FROM parents)", ()),
        ("declared_foreign_keys", {"tables": ["items"]},
         "SELECT count(*) FROM items WHERE parent_id NOT IN (SELECT id FROM parents)", ()),
        ("foreign_key_check", {"table": "items"}, "SELECT count(*) FROM pragma_foreign_key_check('items')", ()),
        ("duplicates", {**t, "columns": ["version_key"], "where": "deleted_at IS NULL"},
         "SELECT count(*) FROM (SELECT 1 FROM items WHERE version_key IS NOT NULL AND deleted_at IS NULL "
         "GROUP BY version_key HAVING count(*) > 1)", ()),
        ("nulls", {**t, "columns": ["note"]}, "SELECT count(*) FROM items WHERE note IS NULL", ()),
        ("range", {**t, "column": "score", "min": 0, "max": 1},
         "SELECT count(*) FROM items WHERE score < 0 OR score > 1", ()),
        ("allowed_values", {**t, "column": "status", "values": ["open", "done"]},
         "SELECT count(*) FROM items WHERE status NOT IN ('open', 'done')", ()),
        ("json_valid", {**t, "column": "payload"}, "SELECT count(*) FROM items WHERE NOT json_valid(payload)", ()),
        ("json_valid+schema", {**t, "column": "payload", "schema": JSON_SCHEMA},
         f"SELECT count(*) FROM items WHERE NOT {JSON_MATCHES}(payload, ?)", (json.dumps(JSON_SCHEMA, sort_keys=True),)),
        ("pattern", {**t, "column": "code", "regex": REGEX},
         f"SELECT count(*) FROM items WHERE NOT {MATCHES}(?, code)", (REGEX,)),
        ("row_condition", {**t, "condition": "retry_count <= max_retries"},
         "SELECT count(*) FROM items WHERE NOT (retry_count <= max_retries)", ()),
        ("failed_rows", {"query": FAILED_ROWS}, f"SELECT count(*) FROM ({FAILED_ROWS})", ()),
        ("freshness", {**t, "column": "updated_at", "max_age": "9999h"}, "SELECT max(updated_at) FROM items", ()),
        ("row_count", {**t, "min": 1}, "SELECT count(*) FROM items", ()),
        ("table_schema", {**t, "columns": {"id": "INTEGER"}, "exact": False},
         "SELECT name, type FROM pragma_table_xinfo('items')", ()),
        ("index_definitions", {"expect": {"idx_items_parent": "CREATE INDEX idx_items_parent ON items(parent_id)"}},
         "SELECT name, sql FROM sqlite_schema WHERE type = 'index'", ()),
        ("query_plan", {"queries": {"items_of_parent": HOT_QUERY}}, f"EXPLAIN QUERY PLAN {HOT_QUERY}", (1,)),
        ("tables", {"expect": ["items", "parents"]}, "SELECT name FROM sqlite_schema WHERE type = 'table'", ()),
        ("indexes", {"expect": ["idx_items_parent"]}, "SELECT name FROM sqlite_schema WHERE type = 'index'", ()),
        ("pragmas", {"expect": {"journal_mode": "delete"}}, "PRAGMA journal_mode", ()),
        ("quick_check", {}, "PRAGMA quick_check", ()),
    ]


@dataclass
class Timing:
    """Medians of one rule and its bare query: CPU ms of this process (SQLite runs in its thread) and wall ms."""

    name: str
    rule_cpu: float
    bare_cpu: float
    rule_wall: float
    bare_wall: float
    value: Any
    checks_ms: float | None = None  # the name checks, once, at collection (not part of the rule's run)


async def paired(name: str, rule: Callable[[], Awaitable[Any]], bare: Callable[[], Awaitable[Any]],
                 repeat: int) -> Timing:
    """Medians of each, alternating which runs first; one warm-up of both."""
    outcome = await rule()
    await bare()
    spent: dict[str, list[tuple[float, float]]] = {"rule": [], "bare": []}
    for turn in range(repeat):
        for which in (("rule", "bare") if turn % 2 == 0 else ("bare", "rule")):
            cpu, wall = time.process_time(), time.perf_counter()
            value = await (rule if which == "rule" else bare)()
            spent[which].append(((time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000))
            if which == "rule":
                outcome = value
    (rule_cpu, rule_wall), (bare_cpu, bare_wall) = (
        (statistics.median(c for c, _ in spent[k]), statistics.median(w for _, w in spent[k])) for k in ("rule", "bare"))
    return Timing(name, rule_cpu, bare_cpu, rule_wall, bare_wall, outcome.value)


async def checks_ms(spec: Any, opened: Any) -> float:
    """What checking the rule's names costs (done once, when pytest collects a rule file): median of 3, ms."""
    spent = []
    for _ in range(3):
        if isinstance(opened, SQLiteProbe):
            opened.catalog = None  # as at collection: a fresh probe reads the catalog
        elif isinstance(opened, SQLiteGraph):
            opened.probe.catalog = None
        elif isinstance(opened, Neo4jGraph):
            opened._catalog = None  # read once per open graph, so once per store per run
        start = time.perf_counter()
        await check_names(spec, opened, "bench")
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


async def bench_sqlite(path: Path, repeat: int, only: set[str] | None = None) -> list[Timing]:
    """Each rule as a rule-file item runs it (names checked at collection), beside its bare query."""
    measured = []
    async with SQLiteProbe(path, timeout_s=600) as probe:
        await probe.connection.create_function(MATCHES, 2, _matches, deterministic=True)
        await probe.connection.create_function(JSON_MATCHES, 2, _json_matches, deterministic=True)
        for name, params, bare, bound in sqlite_cases():
            if only and name not in only:
                continue
            spec = make_rule(name.split("+")[0], params, name=name)
            timing = await paired(name, lambda: run_rule(spec, probe, names_checked=True),
                                  lambda: probe.rows(bare, bound), repeat)
            timing.checks_ms = await checks_ms(spec, probe)
            measured.append(timing)
        graph = SQLiteGraph(probe)
        for rule, bare in graph_cases("sql"):
            if only and rule not in only:
                continue
            spec = make_rule(rule, {})
            rendered = render(bare, "sql", graph.names)
            timing = await paired(rule, lambda: run_rule(spec, graph, names_checked=True),
                                  lambda: probe.rows(rendered), repeat)
            timing.checks_ms = await checks_ms(spec, graph)
            measured.append(timing)
    return measured


def graph_cases(dialect: str) -> list[tuple[str, str]]:
    """The five seed graph rules and the count (or rate) query that answers each."""
    d = DIALECTS[dialect]
    return [
        ("orphaned_relationships", d.count.format(predicate=d.orphan)),
        ("inconsistent_confidence", d.count.format(predicate=d.bad_confidence)),
        ("missing_evidence", d.count.format(predicate=d.no_evidence)),
        ("duplicate_semantic_ids", DUPLICATES[dialect][0]),
        ("validation_success_rate", d.rate.format(predicate=" OR ".join((d.orphan, d.no_evidence, d.bad_confidence)))),
    ]


def graph_rows(relationships: int, orphans: int, seed: int = 7) -> dict[str, Iterator[tuple[Any, ...]]]:
    """One entity per ten relationships, ``orphans`` relationships to entities that do not exist."""
    entities = max(2, relationships // 10)
    rng = random.Random(seed)
    every = relationships // orphans if orphans else 0

    def relationship_rows() -> Iterator[tuple[Any, ...]]:
        for rid in range(1, relationships + 1):
            source = entities + rid if every and rid % every == 0 else rng.randint(1, entities)
            yield rid, source, rng.randint(1, entities), rng.choice(("uses", "owns")), 0.5, "e", 1

    return {
        "documents": iter([(1, "document 1")]),
        "entities": ((e, f"ent:{e}", f"entity {e}", "concept", 1) for e in range(1, entities + 1)),
        "relationships": relationship_rows(),
    }


def neo4j_cases(names: GraphNames) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """(check, params, bare Cypher, its parameters): the seed rules and the Neo4j kinds."""
    label, kind = f"`{names.entities}`", f"`{names.relationships}`"
    cases = [(rule, {}, render(bare, "cypher", names), {}) for rule, bare in graph_cases("cypher")]
    return cases + [
        ("graph_labels", {"labels": [names.entities], "types": [names.relationships]},
         f"RETURN EXISTS {{ MATCH (:{label}) }} AS a, EXISTS {{ MATCH ()-[:{kind}]->() }} AS b", {}),
        ("graph_property_exists", {"label": names.entities, "properties": ["name"]},
         f"MATCH (n:{label}) WHERE n.name IS NULL RETURN count(*) AS n", {}),
        ("graph_unique", {"label": names.entities, "properties": ["semantic_id"]},
         f"MATCH (n:{label}) WHERE n.semantic_id IS NOT NULL WITH n.semantic_id AS s, count(*) AS c WHERE c > 1 "
         "RETURN count(*) AS n", {}),
        ("graph_allowed_values", {"type": names.relationships, "property": "type", "values": ["uses", "owns"]},
         f"MATCH ()-[n:{kind}]->() WHERE n.type IS NOT NULL AND NOT n.type IN $values RETURN count(*) AS n",
         {"values": ["uses", "owns"]}),
    ]


async def bench_neo4j(uri: str, rows: int, orphans: int, repeat: int, shared: bool) -> list[Timing]:
    """Load under labels of its own; on a shared server, delete them afterwards."""
    import neo4j

    tag = uuid.uuid4().hex[:8]
    names = GraphNames(f"BenchEntity_{tag}", f"BENCH_{tag}", f"BenchDocument_{tag}")
    async with neo4j.AsyncGraphDatabase.driver(uri, auth=None, notifications_min_severity="OFF") as loader:
        try:
            await write_neo4j(loader, graph_rows(rows, orphans), names)
            measured = []
            with neo4j.GraphDatabase.driver(uri, auth=None, notifications_min_severity="OFF") as driver:
                driver.verify_connectivity()
                async with Neo4jGraph(uri, names=names, query_timeout_s=600) as graph:
                    for rule, params, bare, bound in neo4j_cases(names):
                        spec = make_rule(rule, params)

                        async def straight(text: str = bare, values: dict = bound) -> Any:
                            return driver.execute_query(text, values, routing_=neo4j.RoutingControl.READ)

                        timing = await paired(rule, lambda: run_rule(spec, graph, names_checked=True), straight,
                                              repeat)
                        timing.checks_ms = await checks_ms(spec, graph)
                        measured.append(timing)
            return measured
        finally:
            if shared:
                await clear_neo4j(loader, names)


def table(title: str, measured: list[Timing], cpu: bool = True) -> str:
    """Rule beside bare: CPU ms (SQLite runs in this process) and wall ms, ratios, the name checks' one-time ms.

    Wall time on a shared machine includes waiting for a CPU; a ratio of
    sub-millisecond times is noise, so the absolute figures are shown too.
    """
    head = f"{'rule':<26}"
    if cpu:
        head += f"{'rule cpu':>10}{'bare cpu':>10}{'ratio':>8}"
    head += f"{'rule wall':>11}{'bare wall':>11}{'ratio':>8}{'checks':>8}{'value':>12}"
    lines = [title, head + "   (ms)"]
    for t in [*measured, _total(measured)]:
        line = f"{t.name:<26}"
        if cpu:
            line += f"{t.rule_cpu:>10.1f}{t.bare_cpu:>10.1f}{_ratio(t.rule_cpu, t.bare_cpu):>8}"
        line += f"{t.rule_wall:>11.1f}{t.bare_wall:>11.1f}{_ratio(t.rule_wall, t.bare_wall):>8}"
        line += f"{'' if t.checks_ms is None else f'{t.checks_ms:.1f}':>8}{_shown(t.value):>12}"
        lines.append(line)
    return "\n".join(lines)


def _total(measured: list[Timing]) -> Timing:
    return Timing("all together", *(sum(getattr(t, f) for t in measured)
                                     for f in ("rule_cpu", "bare_cpu", "rule_wall", "bare_wall")), "")


def _ratio(rule: float, bare: float) -> str:
    return f"{rule / bare:.2f}x" if bare > 0 else "-"


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}" if not value.is_integer() else f"{value:g}"
    return str(value)


def start_neo4j() -> Any:
    spec = importlib.util.spec_from_file_location("neo4j_launcher", LAUNCHER)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    return launcher.start(timeout=180)


async def main(args: argparse.Namespace) -> None:
    if "sqlite" in args.stores:
        for label, offenders in (("few", args.few), ("many", args.many)):
            if label not in args.sets:
                continue
            with tempfile.TemporaryDirectory(prefix="prodready-bench-") as folder:
                start = time.perf_counter()
                path, reused = database(Path(args.cache_dir or folder), args.rows, offenders)
                built = "reused from the cache" if reused else f"built in {time.perf_counter() - start:.0f} s"
                if args.build_only:
                    print(f"{path}: {built}", flush=True)
                    continue
                measured = await bench_sqlite(path, args.repeat, set(args.rules or ()))
            print(table(f"SQLite, {args.rows:,} rows, {offenders:,} offenders ({label}); median of {args.repeat}, "
                        f"database {built}; {load_average()}", measured), flush=True)
            print(flush=True)
    if "neo4j" in args.stores:
        shared = os.environ.get("PRODREADY_NEO4J_URI")
        server = None if shared else start_neo4j()
        try:
            measured = await bench_neo4j(shared or server.uri, args.graph_rows, args.few, args.repeat, bool(shared))
        finally:
            if server is not None:
                server.stop()
        print(table(f"Neo4j, {args.graph_rows:,} relationships, {args.few} orphans; median of {args.repeat}; "
                    f"{load_average()} (the server's CPU is not this process's: wall time only)", measured,
                    cpu=False), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="SQLite rows per table (default 1,000,000)")
    parser.add_argument("--few", type=int, default=10, help="offenders in the 'few' database (default 10)")
    parser.add_argument("--many", type=int, default=100_000, help="offenders in the 'many' database (default 100,000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of rule and bare, after a warm-up (default 5)")
    parser.add_argument("--sets", nargs="+", choices=("few", "many"), default=("few", "many"),
                        help="SQLite databases to measure (default both)")
    parser.add_argument("--cache-dir", help="keep the built SQLite databases here and reuse them on later runs "
                        "(keyed by rows, offenders and schema); default: a temporary folder, removed after")
    parser.add_argument("--rules", nargs="+", help="SQLite rules to measure (default every kind)")
    parser.add_argument("--build-only", action="store_true", help="build (or find) the SQLite databases and stop")
    parser.add_argument("--graph-rows", type=int, default=100_000, help="Neo4j relationships (default 100,000)")
    parser.add_argument("--stores", nargs="+", choices=("sqlite", "neo4j"), default=("sqlite", "neo4j"),
                        help="stores to measure (default both)")
    asyncio.run(main(parser.parse_args()))
