"""Versioned memories, namespace hierarchy, conflicts, consolidation and the audit trail."""

from __future__ import annotations

import asyncio

import pytest

from pytest_prodready.reference import SYSTEM_TASK_ID, DuplicateMemoryError, InvalidNamespaceError, UnknownMemoryError
from pytest_prodready.target import InvalidJSONError, InvalidMemoryTypeError, TargetError

NS = "user:alice:preferences"


@pytest.mark.asyncio
async def test_create_and_get(service):
    entry = await service.create_memory(NS, "theme", {"mode": "dark"}, "semantic", created_by="session:1")
    assert entry["version"] == 1 and entry["is_deleted"] == 0
    assert entry["value"] == {"mode": "dark"} and entry["metadata"] == {}
    assert await service.get_memory(NS, "theme") == entry
    assert await service.get_memory(NS, "missing") is None


@pytest.mark.asyncio
@pytest.mark.parametrize("memory_type", ["factual", "", None, "Semantic"])
async def test_invalid_memory_type_rejected_before_sql(service, raw, memory_type):
    with pytest.raises(InvalidMemoryTypeError):
        await service.create_memory(NS, "theme", 1, memory_type)
    assert raw("SELECT COUNT(*) FROM memory_entries WHERE namespace = ?", (NS,)) == [(0,)]


@pytest.mark.asyncio
async def test_other_creation_errors(service):
    await service.create_memory(NS, "theme", "dark", "semantic")
    with pytest.raises(DuplicateMemoryError) as caught:
        await service.create_memory(NS, "theme", "light", "semantic")
    assert isinstance(caught.value, TargetError)
    with pytest.raises(InvalidJSONError):
        await service.create_memory(NS, "other", {"x": object()}, "semantic")
    for namespace in ("", "user::alice", "user:alice:"):
        with pytest.raises(InvalidNamespaceError):
            await service.create_memory(namespace, "k", 1, "semantic")


@pytest.mark.asyncio
async def test_update_keeps_history(service):
    await service.create_memory(NS, "theme", "dark", "semantic", created_by="a")
    second = await service.update_memory(NS, "theme", "light", updated_by="b")
    assert (second["version"], second["value"], second["created_by"], second["updated_by"]) == (2, "light", "a", "b")
    assert (await service.get_memory(NS, "theme"))["value"] == "light"
    history = await service.get_memory_history(NS, "theme")
    assert [(h["version"], h["value"]) for h in history] == [(1, "dark"), (2, "light")]
    with pytest.raises(UnknownMemoryError):
        await service.update_memory(NS, "missing", 1)


@pytest.mark.asyncio
async def test_delete_is_soft_and_recreate_continues_versions(service):
    await service.create_memory(NS, "theme", "dark", "semantic")
    await service.update_memory(NS, "theme", "light")
    assert await service.delete_memory(NS, "theme") == 2
    assert await service.get_memory(NS, "theme") is None
    assert [h["is_deleted"] for h in await service.get_memory_history(NS, "theme")] == [1, 1]
    recreated = await service.create_memory(NS, "theme", "blue", "semantic")
    assert recreated["version"] == 3
    with pytest.raises(UnknownMemoryError):
        await service.delete_memory(NS, "missing")


@pytest.mark.asyncio
async def test_namespace_prefix_is_hierarchical(service):
    for namespace in (
        "user:alice",
        "user:alice:prefs",
        "user:alice:prefs:ui",
        "user:alicex",
        "user:alice.old",
        "user:alice0",
        "user:bob",
        "users:alice",
    ):
        await service.create_memory(namespace, "k", namespace, "semantic")
    found = lambda rows: sorted(row["namespace"] for row in rows)  # noqa: E731
    expected = ["user:alice", "user:alice:prefs", "user:alice:prefs:ui"]
    assert found(await service.search_memories("user:alice")) == expected
    assert found(await service.search_memories("user:alice:")) == expected
    assert found(await service.search_memories("user:alice:prefs")) == expected[1:]
    assert len(await service.search_memories("user")) == 7
    assert len(await service.search_memories("")) == 8 + 5  # plus the seeded app memories


@pytest.mark.asyncio
async def test_search_returns_current_version_and_filters(service):
    await service.create_memory(NS, "theme", "dark", "semantic")
    await service.update_memory(NS, "theme", "light")
    await service.create_memory(NS, "visits", ["monday"], "episodic")
    rows = await service.search_memories("user:alice")
    assert [(r["key"], r["version"], r["value"]) for r in rows] == [("theme", 2, "light"), ("visits", 1, ["monday"])]
    assert [r["key"] for r in await service.search_memories("user:alice", memory_type="episodic")] == ["visits"]
    assert len(await service.search_memories("user:alice", limit=1)) == 1
    with pytest.raises(InvalidMemoryTypeError):
        await service.search_memories("user:alice", memory_type="bogus")


@pytest.mark.asyncio
async def test_conflicts_and_consolidation(service, raw):
    await service.create_memory(NS, "theme", "v1", "semantic")
    await service.update_memory(NS, "theme", "v2")
    await service.update_memory(NS, "theme", "v3")
    await service.create_memory(NS, "single", 1, "semantic")
    await service.create_memory("user:bob", "theme", "b1", "semantic")
    await service.update_memory("user:bob", "theme", "b2")

    assert await service.find_memory_conflicts("user:alice") == [(NS, "theme")]
    result = await service.consolidate_memories("user:alice")
    assert (result.conflicts_found, result.entries_resolved, tuple(result.keys)) == (1, 2, ((NS, "theme"),))

    assert await service.find_memory_conflicts("user:alice") == []
    assert await service.find_memory_conflicts("user") == [("user:bob", "theme")]
    assert (await service.get_memory(NS, "theme"))["value"] == "v3"
    history = await service.get_memory_history(NS, "theme")
    assert [(h["version"], h["is_deleted"], h["metadata"]) for h in history] == [
        (1, 1, {"consolidated_into": 3}),
        (2, 1, {"consolidated_into": 3}),
        (3, 0, {}),
    ]
    consolidations = await service.query_audit(operation="consolidate")
    assert [(a["memory_namespace"], a["memory_entry_id"]) for a in consolidations] == [(NS, history[-1]["id"])]
    again = await service.consolidate_memories("user:alice")
    assert (again.conflicts_found, again.entries_resolved) == (0, 0)


@pytest.mark.asyncio
async def test_every_memory_write_is_audited(service):
    created = await service.create_memory(NS, "theme", "dark", "semantic")
    updated = await service.update_memory(NS, "theme", "light")
    await service.delete_memory(NS, "theme")
    trail = await service.query_audit(namespace_prefix="user:alice")
    assert [a["memory_operation_type"] for a in trail] == ["delete", "update", "create"]  # newest first
    assert [a["action_type"] for a in trail] == ["memory_delete", "memory_update", "memory_create"]
    assert {a["task_id"] for a in trail} == {SYSTEM_TASK_ID}
    assert trail[-1]["memory_entry_id"] == created["id"]
    assert trail[-1]["action_data"] == {"key": "theme", "version": 1}
    by_entry = await service.query_audit(memory_entry_id=updated["id"])
    assert [a["memory_operation_type"] for a in by_entry] == ["delete", "update"]
    assert await service.query_audit(namespace_prefix="user:alicex") == []
    assert len(await service.query_audit(operation="create")) == 1 + 5  # plus the seeded app memories


@pytest.mark.asyncio
async def test_audit_uses_given_task(service):
    task = await service.create_task("tidy memories")
    await service.create_memory(NS, "theme", "dark", "semantic", task_id=task["id"])
    assert [a["task_id"] for a in await service.query_audit(namespace_prefix=NS)] == [task["id"]]


@pytest.mark.asyncio
async def test_concurrent_updates_get_distinct_versions(service):
    await service.create_memory(NS, "counter", 0, "semantic")
    await asyncio.gather(*(service.update_memory(NS, "counter", n) for n in range(1, 21)))
    history = await service.get_memory_history(NS, "counter")
    assert [h["version"] for h in history] == list(range(1, 22))
    assert (await service.get_memory(NS, "counter"))["version"] == 21
