"""Session lifecycle, event log, state merging and optimistic concurrency."""

from __future__ import annotations

import asyncio
import time

import pytest

from pytest_prodready.reference import open_service
from pytest_prodready.target import (
    ConcurrentUpdateError,
    DuplicateSessionError,
    InvalidJSONError,
    UnknownSessionError,
)

SESSION_COLUMNS = {
    "id",
    "app_name",
    "user_id",
    "project_id",
    "status",
    "events",
    "state",
    "metadata",
    "created_at",
    "last_update_time",
    "terminated_at",
    "archived_at",
}


@pytest.mark.asyncio
async def test_create_and_get_round_trip(service):
    created = await service.create_session("s1", "abathur", "alice", "proj")
    assert set(created) == SESSION_COLUMNS
    assert created["status"] == "created"
    assert created["events"] == [] and created["state"] == {} and created["metadata"] == {}
    assert await service.get_session("s1") == created


@pytest.mark.asyncio
async def test_get_unknown_session_is_none(service):
    assert await service.get_session("nope") is None


@pytest.mark.asyncio
async def test_duplicate_session_rejected(service):
    await service.create_session("s1", "abathur", "alice")
    with pytest.raises(DuplicateSessionError):
        await service.create_session("s1", "abathur", "bob")
    assert (await service.get_session("s1"))["user_id"] == "alice"


@pytest.mark.asyncio
async def test_append_event_accepts_mapping_and_json_text_and_activates(service):
    await service.create_session("s1", "abathur", "alice")
    await service.append_event("s1", {"event_type": "message", "content": {"text": "hi"}})
    session = await service.append_event("s1", '{"event_type": "action"}')
    assert session["events"] == [{"event_type": "message", "content": {"text": "hi"}}, {"event_type": "action"}]
    assert session["status"] == "active"


@pytest.mark.asyncio
@pytest.mark.parametrize("event", ["not json", "[1, 2]", '"text"', 42, None, {"bad": float("nan")}, {"x": object()}])
async def test_append_event_rejects_non_objects(service, event):
    await service.create_session("s1", "abathur", "alice")
    with pytest.raises(InvalidJSONError):
        await service.append_event("s1", event)
    assert (await service.get_session("s1"))["events"] == []


@pytest.mark.asyncio
async def test_append_event_to_unknown_session(service):
    with pytest.raises(UnknownSessionError):
        await service.append_event("nope", {"event_type": "message"})


@pytest.mark.asyncio
async def test_update_state_merges_and_activates(service):
    await service.create_session("s1", "abathur", "alice")
    await service.update_session_state("s1", {"a": 1, "b": {"c": 2}})
    session = await service.update_session_state("s1", {"b": 3, "d": [1]})
    assert session["state"] == {"a": 1, "b": 3, "d": [1]}
    assert session["status"] == "active"


@pytest.mark.asyncio
async def test_update_state_with_current_token_succeeds_and_stale_token_fails(service):
    created = await service.create_session("s1", "abathur", "alice")
    first = await service.update_session_state("s1", {"a": 1}, expected_last_update=created["last_update_time"])
    with pytest.raises(ConcurrentUpdateError):
        await service.update_session_state("s1", {"a": 2}, expected_last_update=created["last_update_time"])
    assert (await service.get_session("s1"))["state"] == {"a": 1}
    await service.update_session_state("s1", {"a": 3}, expected_last_update=first["last_update_time"])


@pytest.mark.asyncio
async def test_concurrent_updates_with_same_token_exactly_one_wins(service):
    created = await service.create_session("s1", "abathur", "alice")
    token = created["last_update_time"]
    outcomes = await asyncio.gather(
        *(service.update_session_state("s1", {"writer": n}, expected_last_update=token) for n in range(2)),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ConcurrentUpdateError)
    assert (await service.get_session("s1"))["state"] == winners[0]["state"]


@pytest.mark.asyncio
async def test_last_update_time_strictly_increases(service):
    await service.create_session("s1", "abathur", "alice")
    stamps = [(await service.update_session_state("s1", {"n": n}))["last_update_time"] for n in range(20)]
    assert stamps == sorted(set(stamps))
    assert all(stamp.endswith("+00:00") and len(stamp.split(".")[1]) == 12 for stamp in stamps)


@pytest.mark.asyncio
async def test_update_state_errors(service):
    with pytest.raises(UnknownSessionError):
        await service.update_session_state("nope", {"a": 1})
    await service.create_session("s1", "abathur", "alice")
    with pytest.raises(InvalidJSONError):
        await service.update_session_state("s1", {"a": {1, 2}})


@pytest.mark.asyncio
async def test_terminate(service):
    await service.create_session("s1", "abathur", "alice")
    session = await service.terminate_session("s1")
    assert session["status"] == "terminated"
    assert session["terminated_at"] is not None
    with pytest.raises(UnknownSessionError):
        await service.terminate_session("nope")


@pytest.mark.asyncio
async def test_fifty_concurrent_reads_are_fast(service):
    for n in range(50):
        await service.create_session(f"s{n}", "abathur", "alice")
    started = time.perf_counter()
    sessions = await asyncio.gather(*(service.get_session(f"s{n}") for n in range(50)))
    assert time.perf_counter() - started < 1.0
    assert [s["id"] for s in sessions] == [f"s{n}" for n in range(50)]


@pytest.mark.asyncio
async def test_compare_and_swap_holds_across_two_services_on_one_file(service):
    created = await service.create_session("s1", "abathur", "alice")
    other = await open_service(service.database_path)
    try:
        outcomes = await asyncio.gather(
            service.update_session_state("s1", {"by": "first"}, expected_last_update=created["last_update_time"]),
            other.update_session_state("s1", {"by": "second"}, expected_last_update=created["last_update_time"]),
            return_exceptions=True,
        )
    finally:
        await other.close()
    assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrentUpdateError", "dict"]
