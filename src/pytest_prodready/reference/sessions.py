"""Sessions: conversation threads with an append-only event log and mutable state."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from pytest_prodready.target import ConcurrentUpdateError, DuplicateSessionError, UnknownSessionError

from .clock import Clock
from .codec import dump_json, json_object, row_to_dict
from .connections import Database, fetch_all, fetch_one

SESSION_JSON_COLUMNS = ("events", "state", "metadata")

# A session becomes active the first time anything happens in it.
_ACTIVATE = "status = CASE status WHEN 'created' THEN 'active' ELSE status END"

INSERT_SESSION_SQL = """
INSERT INTO sessions (id, app_name, user_id, project_id, status, events, state, metadata,
                      created_at, last_update_time)
VALUES (?, ?, ?, ?, 'created', '[]', '{}', '{}', ?, ?)
RETURNING *
"""

GET_SESSION_SQL = "SELECT * FROM sessions WHERE id = ?"

APPEND_EVENT_SQL = f"""
UPDATE sessions
SET events = json_insert(events, '$[#]', json(?)), {_ACTIVATE}, last_update_time = ?
WHERE id = ?
RETURNING *
"""

READ_STATE_SQL = "SELECT state, last_update_time FROM sessions WHERE id = ?"

# Compare-and-swap: the WHERE clause re-checks the token the caller saw.
SWAP_STATE_SQL = f"""
UPDATE sessions
SET state = ?, {_ACTIVATE}, last_update_time = ?
WHERE id = ? AND last_update_time = ?
RETURNING *
"""

TERMINATE_SQL = """
UPDATE sessions
SET status = 'terminated', terminated_at = ?, last_update_time = ?
WHERE id = ?
RETURNING *
"""


class SessionStore:
    """Session lifecycle; ``last_update_time`` is the optimistic-concurrency token."""

    def __init__(self, db: Database, clock: Clock):
        self._db = db
        self._clock = clock

    async def create_session(
        self, session_id: str, app_name: str, user_id: str, project_id: str | None = None
    ) -> dict[str, Any]:
        now = self._clock.now()
        try:
            async with self._db.write() as conn:
                rows = await fetch_all(conn, INSERT_SESSION_SQL, (session_id, app_name, user_id, project_id, now, now))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise DuplicateSessionError(f"session {session_id!r} already exists") from exc
            raise
        return _session(rows[0])

    async def get_session(self, session_id: str) -> dict[str, Any] | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, GET_SESSION_SQL, (session_id,))
        return row_to_dict(row, SESSION_JSON_COLUMNS)

    async def append_event(self, session_id: str, event: Mapping[str, Any] | str) -> dict[str, Any]:
        """Append in SQL (json_insert) so the whole event log never round-trips through Python."""
        encoded = dump_json(json_object(event, "event"), "event")
        return await self._update(APPEND_EVENT_SQL, (encoded, self._clock.now(), session_id), session_id)

    async def update_session_state(
        self, session_id: str, changes: Mapping[str, Any], expected_last_update: str | None = None
    ) -> dict[str, Any]:
        """Merge ``changes`` into the state; fail if the row moved past ``expected_last_update``."""
        changes = json_object(changes, "state changes")
        async with self._db.write() as conn:
            current = await fetch_one(conn, READ_STATE_SQL, (session_id,))
            if current is None:
                raise UnknownSessionError(f"session {session_id!r} does not exist")
            seen = current["last_update_time"]
            if expected_last_update is not None and expected_last_update != seen:
                raise ConcurrentUpdateError(
                    f"session {session_id!r} changed at {seen}, caller expected {expected_last_update}"
                )
            merged = {**row_to_dict(current, ("state",))["state"], **changes}
            params = (dump_json(merged, "session state"), self._clock.now(), session_id, seen)
            rows = await fetch_all(conn, SWAP_STATE_SQL, params)
        if not rows:
            raise ConcurrentUpdateError(f"session {session_id!r} changed during the update")
        return _session(rows[0])

    async def terminate_session(self, session_id: str) -> dict[str, Any]:
        now = self._clock.now()
        return await self._update(TERMINATE_SQL, (now, now, session_id), session_id)

    async def _update(self, sql: str, params: tuple[Any, ...], session_id: str) -> dict[str, Any]:
        async with self._db.write() as conn:
            rows = await fetch_all(conn, sql, params)
        if not rows:
            raise UnknownSessionError(f"session {session_id!r} does not exist")
        return _session(rows[0])


def _session(row: sqlite3.Row) -> dict[str, Any]:
    return row_to_dict(row, SESSION_JSON_COLUMNS)
