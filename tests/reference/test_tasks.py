"""Tasks linked to sessions."""

from __future__ import annotations

import uuid

import pytest

from pytest_prodready.target import UnknownSessionError


@pytest.mark.asyncio
async def test_create_task_linked_to_session(service):
    await service.create_session("s1", "abathur", "alice")
    task = await service.create_task("summarise", "s1", {"depth": 2})
    assert uuid.UUID(task["id"]).version == 4
    assert (task["status"], task["session_id"], task["input_data"]) == ("pending", "s1", {"depth": 2})
    assert task["submitted_at"] and task["last_updated_at"]


@pytest.mark.asyncio
async def test_create_task_without_session(service):
    task = await service.create_task("standalone")
    assert task["session_id"] is None and task["input_data"] == {}


@pytest.mark.asyncio
async def test_unknown_session_is_a_foreign_key_error(service, raw):
    with pytest.raises(UnknownSessionError):
        await service.create_task("orphan", "nope")
    assert raw("SELECT COUNT(*) FROM tasks WHERE prompt = 'orphan'") == [(0,)]


@pytest.mark.asyncio
async def test_tasks_for_session_newest_first(service):
    await service.create_session("s1", "abathur", "alice")
    await service.create_session("s2", "abathur", "bob")
    first = await service.create_task("one", "s1")
    second = await service.create_task("two", "s1")
    await service.create_task("other", "s2")
    assert [t["id"] for t in await service.get_tasks_for_session("s1")] == [second["id"], first["id"]]
    assert await service.get_tasks_for_session("nope") == []
