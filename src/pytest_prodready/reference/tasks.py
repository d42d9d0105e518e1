"""Tasks: units of work, optionally linked to the session that submitted them."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any

from pytest_prodready.target import UnknownSessionError

from .clock import Clock
from .codec import dump_json, row_to_dict
from .connections import Database, fetch_all

# audit.task_id is NOT NULL and references tasks, so memory operations that
# no task asked for are attributed to this permanent, already-completed task
# (completed, so that no worker ever dequeues it).
SYSTEM_TASK_ID = "system"

TASK_JSON_COLUMNS = ("input_data", "result_data", "dependencies")

# Without RETURNING so that executemany (seeding) can share it.
INSERT_TASK_ROW_SQL = """
INSERT INTO tasks (id, prompt, agent_type, priority, status, input_data,
                   submitted_at, last_updated_at, created_by, session_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

INSERT_TASK_SQL = INSERT_TASK_ROW_SQL + "RETURNING *"

TASKS_FOR_SESSION_SQL = """
SELECT * FROM tasks WHERE session_id = ? ORDER BY submitted_at DESC
"""


class TaskStore:
    """Create and list tasks; a dangling session_id surfaces as UnknownSessionError."""

    def __init__(self, db: Database, clock: Clock):
        self._db = db
        self._clock = clock

    async def create_task(
        self,
        prompt: str,
        session_id: str | None = None,
        input_data: Mapping[str, Any] | None = None,
        *,
        priority: int = 5,
        agent_type: str = "general",
        created_by: str | None = None,
    ) -> dict[str, Any]:
        encoded = dump_json(dict(input_data or {}), "input_data")
        now = self._clock.now()
        params = (str(uuid.uuid4()), prompt, agent_type, priority, "pending", encoded, now, now, created_by, session_id)
        try:
            async with self._db.write() as conn:
                rows = await fetch_all(conn, INSERT_TASK_SQL, params)
        except sqlite3.IntegrityError as exc:
            if session_id is not None and "FOREIGN KEY" in str(exc):
                raise UnknownSessionError(f"session {session_id!r} does not exist") from exc
            raise
        return row_to_dict(rows[0], TASK_JSON_COLUMNS)

    async def get_tasks_for_session(self, session_id: str) -> list[dict[str, Any]]:
        """Newest first, served by the partial index idx_tasks_session."""
        async with self._db.read() as conn:
            rows = await fetch_all(conn, TASKS_FOR_SESSION_SQL, (session_id,))
        return [row_to_dict(row, TASK_JSON_COLUMNS) for row in rows]
