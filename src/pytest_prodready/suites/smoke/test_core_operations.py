"""Category 2, core operations (10 cases): sessions, memory entries, audit, tasks."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="core_operations"), pytest.mark.writes]


async def test_create_session(target, unique):
    session_id = unique("sess")
    created = await target.create_session(session_id, app_name="abathur", user_id="alice")
    assert created["id"] == session_id
    assert created["status"] == "created"
    assert created["events"] == [] and created["state"] == {}
    assert await target.get_session(session_id) == created


async def test_append_event_to_session(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    event = {"event_id": "evt_001", "event_type": "message", "actor": "user", "content": {"message": "hello"}}
    updated = await target.append_event(session_id, event)
    assert updated["events"][-1]["event_id"] == "evt_001"
    assert len((await target.get_session(session_id))["events"]) == 1


async def test_update_session_state(target, unique):
    session_id = unique("sess")
    created = await target.create_session(session_id, app_name="abathur", user_id="alice")
    updated = await target.update_session_state(session_id, {"session:current_task": "schema_redesign"})
    assert updated["state"]["session:current_task"] == "schema_redesign"
    assert updated["last_update_time"] != created["last_update_time"]


async def test_terminate_session(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    terminated = await target.terminate_session(session_id)
    assert terminated["status"] == "terminated"
    assert terminated["terminated_at"]


async def test_create_memory_entry_semantic(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    entry = await target.create_memory(namespace, "theme", {"mode": "dark"}, "semantic")
    assert (entry["version"], entry["memory_type"], entry["value"]) == (1, "semantic", {"mode": "dark"})


async def test_update_memory_entry_creates_version_2(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "theme", {"mode": "dark"}, "semantic")
    updated = await target.update_memory(namespace, "theme", {"mode": "light"})
    assert updated["version"] == 2
    assert updated["value"] == {"mode": "light"}


async def test_retrieve_memory_current_version(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "language", "en", "semantic")
    await target.update_memory(namespace, "language", "fr")
    current = await target.get_memory(namespace, "language")
    assert (current["version"], current["value"]) == (2, "fr")


async def test_search_memories_by_namespace(target, unique):
    user = unique("alice")
    for key in ("theme", "language", "timezone"):
        await target.create_memory(f"user:{user}:preferences", key, key.upper(), "semantic")
    await target.create_memory(f"user:{unique('bob')}:preferences", "theme", "dark", "semantic")
    found = await target.search_memories(f"user:{user}:preferences")
    assert sorted(entry["key"] for entry in found) == ["language", "theme", "timezone"]


async def test_query_audit_log_for_memory_operations(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    entry = await target.create_memory(namespace, "theme", "dark", "semantic")
    await target.update_memory(namespace, "theme", "light")
    audit = await target.query_audit(namespace_prefix=namespace)
    operations = sorted(row["memory_operation_type"] for row in audit)
    assert operations == ["create", "update"]
    assert any(row["memory_entry_id"] == entry["id"] for row in audit)


async def test_create_task_with_session_linkage(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    task = await target.create_task("Design the memory schema", session_id=session_id, input_data={"step": 1})
    assert task["session_id"] == session_id
    assert [t["id"] for t in await target.get_tasks_for_session(session_id)] == [task["id"]]
