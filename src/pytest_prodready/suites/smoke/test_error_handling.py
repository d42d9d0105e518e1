"""Category 5, error handling (5 cases): bad input is refused and loses nothing.

"Refused" means the call raised, whatever the exception: a service that
takes objects and refuses what it cannot encode is as correct as one that
parses JSON text and rejects it.  Either way nothing of it may be stored.
"""

from __future__ import annotations

import asyncio

import pytest

from pytest_prodready.target import ConcurrentUpdateError, concurrency_token

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="error_handling"), pytest.mark.writes]

NOT_JSON = {
    "truncated JSON text": '{"event_id": "evt_1", "content": ',
    "NaN": {"event_id": "evt_2", "score": float("nan")},
    "a set": {"event_id": "evt_3", "tags": {"a", "b"}},
}
LOST_UPDATE_ROUNDS = 10


async def test_invalid_json_in_session_events_rejected(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    accepted = []
    for what, event in NOT_JSON.items():
        try:
            await target.append_event(session_id, event)
        except Exception:  # refused, however the service refuses it
            continue
        accepted.append(what)
    stored = (await target.get_session(session_id))["events"]
    assert not accepted, f"not JSON, yet accepted and stored: {', '.join(accepted)} (events now {stored!r})"
    assert stored == [], f"a refused event was stored anyway: {stored!r}"


async def test_duplicate_session_id_raises_error(target, unique):
    session_id = unique("sess")
    await target.create_session(session_id, app_name="abathur", user_id="alice")
    try:
        await target.create_session(session_id, app_name="abathur", user_id="mallory")
    except Exception:
        pass
    else:
        pytest.fail(f"duplicate session id {session_id!r} accepted: the second create did not raise")
    assert (await target.get_session(session_id))["user_id"] == "alice", "the duplicate create overwrote the session"
    namespace = f"user:{unique('alice')}:preferences"
    await target.create_memory(namespace, "theme", "dark", "semantic")
    try:
        await target.create_memory(namespace, "theme", "light", "semantic")
    except Exception:
        pass
    versions = [entry["version"] for entry in await target.get_memory_history(namespace, "theme")]
    assert len(versions) == len(set(versions)), (
        f"duplicate business key (namespace, key, version): versions {versions} of one key"
    )


async def test_invalid_memory_type_raises_error(target, unique):
    namespace = f"user:{unique('alice')}:preferences"
    try:
        await target.create_memory(namespace, "theme", "dark", "hallucinated")
    except Exception:
        pass
    else:
        pytest.fail("invalid memory type 'hallucinated' accepted")
    assert await target.get_memory(namespace, "theme") is None, "a refused memory type was stored anyway"


async def test_foreign_key_violation_for_unknown_session_handled(target, unique):
    missing = unique("no-such-session")
    try:
        task = await target.create_task("orphan task", session_id=missing)
    except Exception:
        assert await target.get_tasks_for_session(missing) == [], "the refused task was stored anyway"
        return
    pytest.fail(
        f"foreign keys not enforced: orphan task {task.get('id')!r} was stored with session_id {missing!r}, "
        "which no session has; it stays in the database, where foreign_key_check will report it on every later run"
    )


async def test_concurrent_session_update_conflict_resolved(target, unique):
    session_id = unique("sess")
    created = await target.create_session(session_id, app_name="abathur", user_id="alice")
    token = concurrency_token(target, created)
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
        session_id, loser_change, expected_last_update=concurrency_token(target, winners[0])
    )
    assert {"writer:a": 1, "writer:b": 2}.items() <= retried["state"].items()
    lost = 0
    for round_number in range(LOST_UPDATE_ROUNDS):  # without a token both concurrent changes must survive
        changes = ({f"a:{round_number}": round_number}, {f"b:{round_number}": round_number})
        await asyncio.gather(*(target.update_session_state(session_id, change) for change in changes))
        state = (await target.get_session(session_id))["state"]
        lost += sum(1 for change in changes if not change.items() <= state.items())
    assert not lost, f"lost update: {lost} of {2 * LOST_UPDATE_ROUNDS} concurrent state changes vanished"
