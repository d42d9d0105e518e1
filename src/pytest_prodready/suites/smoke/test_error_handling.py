"""Category 5, error handling (5 cases): bad input is refused and loses nothing."""

from __future__ import annotations

import asyncio

import pytest

from pytest_prodready.target import (
    ConcurrentUpdateError,
    DuplicateSessionError,
    InvalidJSONError,
    InvalidMemoryTypeError,
    UnknownSessionError,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="error_handling"), pytest.mark.writes]


async def test_invalid_json_in_session_events_rejected(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    with pytest.raises(InvalidJSONError):
        await target.append_event(session_id, '{"event_id": "evt_1", "content": ')
    assert (await target.get_session(session_id))["events"] == []


async def test_duplicate_session_id_raises_error(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    with pytest.raises(DuplicateSessionError):
        await target.create_session(session_id, app_name="abathur", user_id="mallory")
    assert (await target.get_session(session_id))["user_id"] == "alice"


async def test_invalid_memory_type_raises_error(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    with pytest.raises(InvalidMemoryTypeError):
        await target.create_memory(namespace, "theme", "dark", "hallucinated")
    assert await target.get_memory(namespace, "theme") is None


async def test_foreign_key_violation_for_unknown_session_handled(target, unique):
    missing = unique("no-such-session")
    with pytest.raises(UnknownSessionError):
        await target.create_task("orphan task", session_id=missing)
    assert await target.get_tasks_for_session(missing) == []


async def test_concurrent_session_update_conflict_resolved(target, unique):
    session_id = unique("sess")
    created = await target.create_session(session_id, app_name="abathur", user_id="alice")
    token = created["last_update_time"]
    outcomes = await asyncio.gather(
        target.update_session_state(session_id, {"writer:a": 1}, expected_last_update=token),
        target.update_session_state(session_id, {"writer:b": 2}, expected_last_update=token),
        return_exceptions=True,
    )
    conflicts = [o for o in outcomes if isinstance(o, ConcurrentUpdateError)]
    winners = [o for o in outcomes if isinstance(o, dict)]
    assert (len(conflicts), len(winners)) == (1, 1), f"expected one winner and one conflict, got {outcomes!r}"
    loser_change = {"writer:b": 2} if "writer:a" in winners[0]["state"] else {"writer:a": 1}
    retried = await target.update_session_state(
        session_id, loser_change, expected_last_update=winners[0]["last_update_time"]
    )
    assert {"writer:a": 1, "writer:b": 2}.items() <= retried["state"].items()
