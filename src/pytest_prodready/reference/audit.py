"""The audit trail of memory operations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiosqlite

from .codec import dump_json, row_to_dict
from .connections import Database, fetch_all
from .namespaces import prefix_clause
from .tasks import SYSTEM_TASK_ID

INSERT_AUDIT_SQL = """
INSERT INTO audit (timestamp, agent_id, task_id, action_type, action_data, result,
                   memory_operation_type, memory_namespace, memory_entry_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

DEFAULT_AUDIT_LIMIT = 1000


def action_type(operation: str) -> str:
    """Memory actions are named after their operation: 'memory_create', ..."""
    return f"memory_{operation}"


def audit_params(
    *,
    timestamp: str,
    operation: str,
    namespace: str,
    entry_id: int | None,
    data: Mapping[str, Any],
    task_id: str | None = None,
    agent_id: str | None = None,
) -> tuple[Any, ...]:
    """One row for :data:`INSERT_AUDIT_SQL`, so single and batched writers agree."""
    return (
        timestamp,
        agent_id,
        task_id or SYSTEM_TASK_ID,
        action_type(operation),
        dump_json(dict(data), "audit data"),
        "success",
        operation,
        namespace,
        entry_id,
    )


async def record(conn: aiosqlite.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Write audit rows inside the caller's transaction, so they commit with the change."""
    await conn.executemany(INSERT_AUDIT_SQL, rows)


def audit_query(
    namespace_prefix: str | None, operation: str | None, memory_entry_id: int | None, limit: int
) -> tuple[str, list[Any]]:
    """Newest first; each filter maps onto one of the partial audit indexes."""
    clause, params = prefix_clause("memory_namespace", namespace_prefix)
    conditions = [clause]
    if operation is not None:
        conditions.append("memory_operation_type = ?")
        params.append(operation)
    if memory_entry_id is not None:
        conditions.append("memory_entry_id = ?")
        params.append(memory_entry_id)
    sql = f"SELECT * FROM audit WHERE {' AND '.join(conditions)} ORDER BY timestamp DESC, id DESC LIMIT ?"
    return sql, [*params, limit]


class AuditLog:
    """Read side of the audit trail."""

    def __init__(self, db: Database):
        self._db = db

    async def query_audit(
        self,
        namespace_prefix: str | None = None,
        operation: str | None = None,
        memory_entry_id: int | None = None,
        *,
        limit: int = DEFAULT_AUDIT_LIMIT,
    ) -> list[dict[str, Any]]:
        sql, params = audit_query(namespace_prefix, operation, memory_entry_id, limit)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, params)
        return [row_to_dict(row, ("action_data",)) for row in rows]
