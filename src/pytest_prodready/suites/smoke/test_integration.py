"""Category 4, integration workflows (7 cases): features working together."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="integration"), pytest.mark.writes]

TOPICS = {
    "sourdough.md": "# Sourdough baking\n\nA sourdough starter ferments flour and water; hydration and "
    "fermentation time shape the crumb of the bread loaf.",
    "tides.md": "# Ocean tides\n\nThe moon's gravity pulls the oceans; spring tides and neap tides follow "
    "the lunar cycle along the coastline.",
    "chess.md": "# Chess openings\n\nThe Sicilian defence and the queen's gambit are chess openings; "
    "control of the centre decides the middlegame.",
    "volcanoes.md": "# Volcanoes\n\nMagma rises through the crust; eruptions release lava, ash and "
    "volcanic gases from the caldera.",
    "beekeeping.md": "# Beekeeping\n\nHoney bees build wax comb in the hive; the beekeeper inspects the "
    "brood and the queen each spring.",
}


async def test_complete_session_task_memory_workflow(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice", project_id="schema_redesign")
    await target.append_event(session_id, {"event_id": "evt_1", "event_type": "message", "content": {"m": "go"}})
    task = await target.create_task("Summarise the design", session_id=session_id)
    namespace = f"session:{session_id}:draft"
    entry = await target.create_memory(namespace, "summary", {"text": "draft"}, "episodic", created_by=session_id)
    finished = await target.terminate_session(session_id)
    assert finished["status"] == "terminated"
    assert [t["id"] for t in await target.get_tasks_for_session(session_id)] == [task["id"]]
    assert (await target.get_memory(namespace, "summary"))["created_by"] == session_id
    assert [row["memory_entry_id"] for row in await target.query_audit(namespace_prefix=namespace)] == [entry["id"]]


async def test_memory_versioning_create_update_history(target, unique):
    namespace = f"project:{unique('proj')}:status"
    await target.create_memory(namespace, "phase", "design", "procedural")
    await target.update_memory(namespace, "phase", "build")
    await target.update_memory(namespace, "phase", "ship")
    history = versions(await target.get_memory_history(namespace, "phase"))
    assert history == [(1, "design"), (2, "build"), (3, "ship")], f"history: {history}"
    assert (await target.get_memory(namespace, "phase"))["value"] == "ship"


def versions(history: list[dict]) -> list[tuple[int, object]]:
    """(version, value) oldest first; the protocol lets history come oldest or newest first, sorted."""
    pairs = [(entry["version"], entry["value"]) for entry in history]
    numbers = [version for version, _ in pairs]
    assert numbers in (sorted(numbers), sorted(numbers, reverse=True)), f"history not sorted by version: {numbers}"
    return sorted(pairs, key=lambda pair: pair[0])


async def test_namespace_hierarchy_access(target, unique):
    user = unique("alice")
    await target.create_memory(f"user:{user}", "profile", {"name": "Alice"}, "semantic")
    await target.create_memory(f"user:{user}:preferences", "theme", "dark", "semantic")
    await target.create_memory(f"user:{user}:projects:memory", "role", "lead", "semantic")
    await target.create_memory(f"user:{user}x:preferences", "theme", "light", "semantic")
    found = await target.search_memories(f"user:{user}")
    assert sorted(e["namespace"] for e in found) == sorted(
        [f"user:{user}", f"user:{user}:preferences", f"user:{user}:projects:memory"]
    ), "a sibling namespace sharing the prefix leaked in, or a child was missed"
    wildcards = await target.search_memories(f"user:{user[:-1]}_") + await target.search_memories(f"user:{user[:4]}%")
    assert not wildcards, f"'_' or '%' in a prefix acted as a wildcard: {sorted(e['namespace'] for e in wildcards)}"


async def test_semantic_search_returns_relevant_results(target, corpus_dir):
    for name, text in TOPICS.items():
        (corpus_dir / name).write_text(text, encoding="utf-8")
        await target.sync_document(corpus_dir / name)
    hits = await target.semantic_search("how long should a sourdough starter ferment before baking bread", limit=5)
    assert hits and hits[0].file_path == str(corpus_dir / "sourdough.md"), [h.file_path for h in hits]
    hits = await target.semantic_search("lava and ash from an eruption", limit=5)
    assert hits[0].file_path == str(corpus_dir / "volcanoes.md"), [h.file_path for h in hits]


async def test_document_sync_detects_file_changes(target, corpus_dir):
    document = corpus_dir / "runbook.md"
    document.write_bytes(b"# Runbook\n\nLegacy export \xff\xfe with bytes that are not UTF-8.\n")
    try:  # indexing or refusing it are both fine; what follows must work either way
        await target.sync_document(document)
    except Exception:
        pass
    document.write_text("# Runbook\n\nCheckpoint the WAL file when it grows.\n", encoding="utf-8")
    try:
        first = await target.sync_document(document)
    except Exception as exc:
        pytest.fail(f"a failed sync left the document stuck: re-syncing the fixed file raised {exc!r}", pytrace=False)
    unchanged = await target.sync_document(document)
    document.write_text("# Runbook\n\nRestore the database from the nightly backup.\n", encoding="utf-8")
    changed = await target.sync_document(document)
    assert first.changed, "a failed sync left the document stuck: the fixed file was not re-indexed"
    assert not unchanged.changed and changed.changed
    assert changed.content_hash != first.content_hash and changed.document_id == first.document_id
    hits = await target.hybrid_search("restore database nightly backup runbook", limit=3)
    assert hits and hits[0].file_path == str(document)


async def test_memory_consolidation_resolves_conflicts(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "editor", "vim", "semantic", created_by="agent:a")
    await target.update_memory(namespace, "editor", "emacs", updated_by="agent:b")
    assert (namespace, "editor") in await target.find_memory_conflicts(namespace)
    result = await target.consolidate_memories(namespace)
    assert result.conflicts_found == 1 and result.entries_resolved >= 1
    left = await target.find_memory_conflicts(namespace)
    assert left == [], f"consolidation left both versions live: conflicts remain for {left}"
    assert (await target.get_memory(namespace, "editor"))["value"] == "emacs"
    history = versions(await target.get_memory_history(namespace, "editor"))
    assert history == [(1, "vim"), (2, "emacs")], f"history must keep every version after consolidation: {history}"
    try:
        again = await target.update_memory(namespace, "editor", "helix")
    except Exception as exc:
        pytest.fail(f"wrong version after consolidation: the next update failed with {exc!r}", pytrace=False)
    assert again["version"] == 3, f"wrong version after consolidation: an update gave version {again['version']}, not 3"


async def test_audit_trail_captures_all_operations(target, unique):
    """Every memory write leaves exactly one audit row naming its operation and the entry it wrote."""
    namespace = f"user:{unique('alice')}:preferences"
    expected = []
    for key in ("theme", "editor"):
        entry = await target.create_memory(namespace, key, "v1", "semantic")
        expected.append(("create", entry["id"]))
        for value in ("v2", "v3"):
            entry = await target.update_memory(namespace, key, value)
            expected.append(("update", entry["id"]))
    result = await target.consolidate_memories(namespace)
    audit = await target.query_audit(namespace_prefix=namespace)
    found = sorted((row["memory_operation_type"], row["memory_entry_id"]) for row in audit if row["memory_operation_type"] != "consolidate")
    consolidations = [row for row in audit if row["memory_operation_type"] == "consolidate"]
    missing = sorted(set(expected) - set(found))
    assert not missing, f"audit row missing for: {missing} ({len(found)} of {len(expected)} writes audited)"
    assert found == sorted(expected), f"audit rows differ from the writes: {found} vs {sorted(expected)}"
    assert len(consolidations) == result.conflicts_found == 2, (
        f"consolidation of 2 keys audited {len(consolidations)} times (reported {result.conflicts_found} conflicts)"
    )
    assert all(row["timestamp"] for row in audit), "an audit row has no timestamp"
