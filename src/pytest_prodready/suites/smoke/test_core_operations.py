"""Category 2, core operations (10 cases): sessions, memory entries, audit, tasks."""

from __future__ import annotations

import pytest

from pytest_prodready.target import parse_timestamp

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
    first = {"event_id": "evt_001", "event_type": "message", "actor": "user", "content": {"message": "hello"}}
    second = {"event_id": "evt_002", "event_type": "message", "actor": "agent", "content": {"message": "hi"}}
    await target.append_event(session_id, first)
    updated = await target.append_event(session_id, second)
    assert updated["events"][-1]["event_id"] == "evt_002"
    stored = [event["event_id"] for event in (await target.get_session(session_id))["events"]]
    assert stored == ["evt_001", "evt_002"], f"events lost or reordered by append: stored {stored}"


async def test_update_session_state(target, unique):
    session_id = unique("sess")
    created = await target.create_session(session_id, app_name="abathur", user_id="alice")
    await target.update_session_state(session_id, {"session:current_task": "schema_redesign"})
    updated = await target.update_session_state(session_id, {"session:step": 2})
    assert updated["state"] == {"session:current_task": "schema_redesign", "session:step": 2}, (
        f"state changes not merged: {updated['state']!r}"
    )
    assert (await target.get_session(session_id))["state"] == updated["state"]
    before, after = parse_timestamp(created["last_update_time"]), parse_timestamp(updated["last_update_time"])
    assert after >= before, f"last_update_time went backwards: {created['last_update_time']} -> {updated['last_update_time']}"


async def test_terminate_session(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    terminated = await target.terminate_session(session_id)
    assert terminated["status"] == "terminated"
    assert terminated["terminated_at"]
    stored = await target.get_session(session_id)
    assert (stored["status"], bool(stored["terminated_at"])) == ("terminated", True), (
        f"termination not persisted: a re-read says status {stored['status']!r}"
    )


async def test_create_memory_entry_semantic(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    entry = await target.create_memory(namespace, "theme", {"mode": "dark"}, "semantic")
    assert (entry["version"], entry["memory_type"], entry["value"]) == (1, "semantic", {"mode": "dark"})
    assert (await target.get_memory(namespace, "theme"))["value"] == {"mode": "dark"}


async def test_update_memory_entry_creates_version_2(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "theme", {"mode": "dark"}, "semantic", created_by="agent:a")
    updated = await target.update_memory(namespace, "theme", {"mode": "light"}, updated_by="agent:b")
    assert updated["version"] == 2, f"wrong version increment: update gave version {updated['version']}"
    assert updated["value"] == {"mode": "light"}
    carried = {name: updated.get(name) for name in ("memory_type", "created_by")}
    assert carried == {"memory_type": "semantic", "created_by": "agent:a"}, f"new version dropped fields: {carried}"


async def test_retrieve_memory_current_version(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "language", "en", "semantic")
    await target.update_memory(namespace, "language", "fr")
    current = await target.get_memory(namespace, "language")
    assert (current["version"], current["value"]) == (2, "fr"), (
        f"get_memory returned version {current['version']} ({current['value']!r}), not the current version 2"
    )


async def test_search_memories_by_namespace(target, unique):
    user = unique("alice")
    namespace = f"user:{user}:preferences"
    for key in ("theme", "language", "timezone"):
        await target.create_memory(namespace, key, key.upper(), "semantic")
    await target.update_memory(namespace, "theme", "THEME-2")
    await target.create_memory(f"user:{unique('bob')}:preferences", "theme", "dark", "semantic")
    found = await target.search_memories(namespace)
    listed = sorted((entry["key"], entry["version"]) for entry in found)
    assert listed == [("language", 1), ("theme", 2), ("timezone", 1)], (
        f"search must return the current version of each key only (a superseded version came back?): {listed}"
    )
    limited = await target.search_memories(namespace, limit=2)
    assert len(limited) == 2, f"search ignored its limit: limit=2 returned {len(limited)} entries"


async def test_query_audit_log_for_memory_operations(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    entry = await target.create_memory(namespace, "theme", "dark", "semantic")
    await target.update_memory(namespace, "theme", "light")
    audit = await target.query_audit(namespace_prefix=namespace)
    operations = sorted(row["memory_operation_type"] for row in audit)
    missing = sorted({"create", "update"} - set(operations))
    assert not missing, f"audit row missing for: {', '.join(missing)} (found {operations})"
    assert operations == ["create", "update"], f"unexpected audit rows: {operations}"
    assert any(row["memory_entry_id"] == entry["id"] for row in audit)


async def test_create_task_with_session_linkage(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    task = await target.create_task("Design the memory schema", session_id=session_id, input_data={"step": 1})
    assert task["session_id"] == session_id
    assert [t["id"] for t in await target.get_tasks_for_session(session_id)] == [task["id"]]
