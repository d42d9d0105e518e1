"""Category 3, performance benchmarks (8 cases): seed 003's targets, measured.

Every gate runs on a realistic dataset (``perf_dataset``): the target is grown
through the protocol to the configured ``volume`` first when writes are
allowed, and the case reports the size it ran on.

Each latency case takes repeated samples (the counts and limits are the
active profile's named gates, see ``pytest --prodready-profile``), so one
lucky or unlucky call decides nothing.
"""

from __future__ import annotations

import asyncio

import pytest

from pytest_prodready.checks.query_plans import explain

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="performance")]


@pytest.mark.perf_gate("session_retrieval")
@pytest.mark.writes
async def test_session_retrieval_under_10ms(target, latency, unique, perf_dataset):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    for _ in latency.samples():
        with latency.measure():
            found = await target.get_session(session_id)
        assert found is not None


@pytest.mark.perf_gate("memory_retrieval")
@pytest.mark.writes
async def test_memory_retrieval_under_20ms(target, latency, unique, perf_dataset):
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "theme", {"mode": "dark"}, "semantic")
    await target.update_memory(namespace, "theme", {"mode": "light"})
    for _ in latency.samples():
        with latency.measure():
            entry = await target.get_memory(namespace, "theme")
        assert entry["version"] == 2


@pytest.mark.perf_gate("namespace_query")
@pytest.mark.writes
async def test_namespace_query_under_50ms(target, latency, unique, perf_dataset):
    user = unique("alice")
    for index in range(50):
        await target.create_memory(f"user:{user}:notes:{index % 5}", f"note-{index}", {"n": index}, "episodic")
    for _ in latency.samples():
        with latency.measure():
            found = await target.search_memories(f"user:{user}")
        assert len(found) == 50


@pytest.mark.perf_gate("concurrent_session_reads")
@pytest.mark.writes
async def test_concurrent_session_reads_under_1s(target, latency, unique, perf_dataset):
    readers = latency.gate.concurrency
    session_ids = [unique("sess") for _ in range(readers)]
    for session_id in session_ids:
        await target.create_session(session_id, app_name="abathur", user_id="alice")
    for _ in latency.samples():
        with latency.measure():
            found = await asyncio.gather(*(target.get_session(s) for s in session_ids))
        assert all(found) and len(found) == readers


@pytest.mark.perf_gate("semantic_search")
async def test_semantic_search_under_500ms(target, latency, perf_dataset):
    for _ in latency.samples():
        with latency.measure():
            hits = await target.semantic_search("memory consolidation of conflicting entries", limit=10)
        assert hits, "semantic search returned nothing: is the document index empty?"


@pytest.mark.perf_gate("hybrid_search")
async def test_hybrid_search_under_600ms(target, latency, perf_dataset):
    for _ in latency.samples():
        with latency.measure():
            hits = await target.hybrid_search("session state namespace hierarchy", limit=10)
        assert hits, "hybrid search returned nothing: is the document index empty?"


BACKGROUND_POLL_S = 0.05
BACKGROUND_WAIT_S = 10.0


@pytest.mark.perf_gate("background_sync")
@pytest.mark.writes
async def test_background_sync_processes_file(target, latency, corpus_dir, perf_dataset):
    """From writing a file to the target's own background poller having indexed it (not a foreground call)."""
    start_poller = getattr(target, "background_sync", None)
    if start_poller is None:
        raise NotImplementedError("the target offers no background_sync(directory, interval)")
    async with start_poller(corpus_dir, interval=BACKGROUND_POLL_S) as poller:
        for index in latency.samples():
            before = poller.processed
            document = corpus_dir / f"note-{index}.md"
            with latency.measure():
                document.write_text(f"# Sync note {index}\n\nBackground sync must index note {index}.\n", encoding="utf-8")
                await wait_until(lambda: poller.processed > before, BACKGROUND_WAIT_S, f"the poller never indexed {document.name}")
            await asyncio.sleep(3 * BACKGROUND_POLL_S)  # a poller that re-indexes unchanged files shows it here
            indexed = poller.processed - before
            assert indexed == 1, f"background sync re-indexed unchanged files: {indexed} files for one new file"


async def wait_until(condition, timeout_s: float, failure: str) -> None:
    """Poll ``condition`` every millisecond, for at most ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"{failure} within {timeout_s:g} s"
        await asyncio.sleep(0.001)


async def exercise_read_paths(target) -> None:
    """The read calls behind the hot paths, with names that match nothing: safe on production."""
    probe = "prodready-explain-probe"
    await target.get_session(probe)
    await target.get_memory(f"user:{probe}", "theme")
    await target.get_memory_history(f"user:{probe}", "theme")
    await target.search_memories(f"user:{probe}")
    await target.find_memory_conflicts(f"user:{probe}")
    await target.get_tasks_for_session(probe)
    await target.query_audit(namespace_prefix=f"user:{probe}")


async def test_index_usage_verified_by_explain_query_plan(target, sqlite_db, statement_log, readiness_figures):
    """The target's own read statements (captured while it serves the hot paths) must use an index."""
    with statement_log.window() as seen:
        await exercise_read_paths(target)
    statements = {f"captured #{n}": (sql, ()) for n, sql in enumerate(seen.reads().values(), start=1)}
    declared = getattr(target, "hot_queries", None)
    if callable(declared):
        statements.update({f"declared {name}": (sql, params) for name, (sql, params) in declared().items()})
    assert statements, (
        "no statement captured: the target issued no SQL through sqlite3/aiosqlite in this process, so no plan "
        "was checked; give the adapter a hot_queries() method returning {name: (sql, params)}"
    )
    plans = await explain(sqlite_db, statements)
    readiness_figures["query_plans"] = [plan.to_figures() for plan in plans]
    unindexed = [plan.describe() for plan in plans if not plan.ok]
    assert not unindexed, "statements without an index (full scan or temp B-tree sort): " + " | ".join(unindexed)
