"""Versioned long-term memory: every write is a new row, reads take the newest live one.

An update inserts version N+1 and leaves older versions live, exactly as the
milestone specifies; several live versions of one key are what the runbook
calls a conflict, and consolidation resolves them by soft-deleting all but
the newest.  Every change writes an audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

import aiosqlite

from pytest_prodready.target import MEMORY_TYPES, ConsolidationResult, InvalidMemoryTypeError

from . import audit
from .clock import Clock
from .codec import dump_json, row_to_dict
from .connections import Database, fetch_all, fetch_one
from .errors import DuplicateMemoryError, UnknownMemoryError
from .namespaces import prefix_clause, validate_namespace

MEMORY_JSON_COLUMNS = ("value", "metadata")

CURRENT_SQL = """
SELECT * FROM memory_entries
WHERE namespace = ? AND key = ? AND is_deleted = 0
ORDER BY version DESC LIMIT 1
"""

VERSIONS_SQL = """
SELECT COALESCE(MAX(version), 0) AS top, COUNT(*) FILTER (WHERE is_deleted = 0) AS live
FROM memory_entries WHERE namespace = ? AND key = ?
"""

HISTORY_SQL = "SELECT * FROM memory_entries WHERE namespace = ? AND key = ? ORDER BY version ASC"

INSERT_SQL = """
INSERT INTO memory_entries (namespace, key, value, memory_type, version, is_deleted, metadata,
                            created_by, updated_by, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
RETURNING *
"""

DELETE_SQL = """
UPDATE memory_entries SET is_deleted = 1, updated_by = ?, updated_at = ?
WHERE namespace = ? AND key = ? AND is_deleted = 0
RETURNING id, version
"""


def search_query(namespace_prefix: str, memory_type: str | None, limit: int) -> tuple[str, list[Any]]:
    """Current version per key under a prefix: range scan on namespace, then a per-key MAX probe."""
    clause, params = prefix_clause("m.namespace", namespace_prefix)
    type_clause = ""
    if memory_type is not None:
        type_clause = "AND m.memory_type = ?"
        params.append(memory_type)
    sql = f"""
SELECT m.* FROM memory_entries AS m
WHERE {clause} AND m.is_deleted = 0 {type_clause}
  AND m.version = (SELECT MAX(x.version) FROM memory_entries AS x
                   WHERE x.namespace = m.namespace AND x.key = m.key AND x.is_deleted = 0)
ORDER BY m.namespace, m.key
LIMIT ?
"""
    return sql, [*params, limit]


def conflicts_query(namespace_prefix: str) -> tuple[str, list[Any]]:
    """Keys with more than one live version, with the id and version of the newest one.

    ``id`` is a bare column next to MAX(version): SQLite takes it from the row
    holding the maximum, which is the version consolidation keeps.
    """
    clause, params = prefix_clause("namespace", namespace_prefix)
    sql = f"""
SELECT namespace, key, id, MAX(version) AS top, COUNT(*) AS live
FROM memory_entries
WHERE {clause} AND is_deleted = 0
GROUP BY namespace, key
HAVING COUNT(*) > 1
ORDER BY namespace, key
"""
    return sql, params


def _consolidate_sql(namespace_prefix: str) -> tuple[str, list[Any]]:
    """Soft-delete every live version older than its key's newest, in one statement."""
    clause, params = prefix_clause("namespace", namespace_prefix)
    sql = f"""
UPDATE memory_entries AS m
SET is_deleted = 1,
    updated_at = ?,
    metadata = json_set(COALESCE(m.metadata, '{{}}'), '$.consolidated_into', w.top)
FROM (SELECT namespace, key, MAX(version) AS top FROM memory_entries
      WHERE {clause} AND is_deleted = 0
      GROUP BY namespace, key HAVING COUNT(*) > 1) AS w
WHERE m.namespace = w.namespace AND m.key = w.key AND m.is_deleted = 0 AND m.version < w.top
"""
    return sql, params


def check_memory_type(memory_type: Any) -> None:
    """Validated in Python so callers get the shared error, not a CHECK-constraint failure."""
    if memory_type not in MEMORY_TYPES:
        raise InvalidMemoryTypeError(f"memory_type {memory_type!r} is not one of {', '.join(MEMORY_TYPES)}")


class MemoryStore:
    """Create, version, search, delete and consolidate memory entries."""

    def __init__(self, db: Database, clock: Clock):
        self._db = db
        self._clock = clock

    async def create_memory(
        self,
        namespace: str,
        key: str,
        value: Any,
        memory_type: str,
        created_by: str | None = None,
        *,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        check_memory_type(memory_type)
        validate_namespace(namespace, key)
        encoded = dump_json(value)
        async with self._db.write() as conn:
            versions = await fetch_one(conn, VERSIONS_SQL, (namespace, key))
            if versions["live"]:
                raise DuplicateMemoryError(f"memory {namespace}/{key} already exists; update it instead")
            entry = await self._insert(
                conn, namespace, key, encoded, memory_type, versions["top"] + 1, "{}", created_by, created_by
            )
            await self._audit(conn, "create", entry, task_id)
        return entry

    async def update_memory(
        self,
        namespace: str,
        key: str,
        value: Any,
        updated_by: str | None = None,
        *,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Insert version N+1 carrying over type, creator and metadata of the current one."""
        validate_namespace(namespace, key)
        encoded = dump_json(value)
        async with self._db.write() as conn:
            current = await fetch_one(conn, CURRENT_SQL, (namespace, key))
            if current is None:
                raise UnknownMemoryError(f"memory {namespace}/{key} does not exist")
            versions = await fetch_one(conn, VERSIONS_SQL, (namespace, key))
            entry = await self._insert(
                conn,
                namespace,
                key,
                encoded,
                current["memory_type"],
                versions["top"] + 1,
                current["metadata"] or "{}",
                current["created_by"],
                updated_by,
            )
            await self._audit(conn, "update", entry, task_id)
        return entry

    async def delete_memory(
        self, namespace: str, key: str, deleted_by: str | None = None, *, task_id: str | None = None
    ) -> int:
        """Soft-delete every live version (deleting only the newest would resurrect an older one)."""
        validate_namespace(namespace, key)
        async with self._db.write() as conn:
            rows = await fetch_all(conn, DELETE_SQL, (deleted_by, self._clock.now(), namespace, key))
            if not rows:
                raise UnknownMemoryError(f"memory {namespace}/{key} does not exist")
            newest = max(rows, key=lambda row: row["version"])
            entry = {"id": newest["id"], "namespace": namespace, "key": key, "version": newest["version"]}
            await self._audit(conn, "delete", entry, task_id, deleted_versions=len(rows))
        return len(rows)

    async def get_memory(self, namespace: str, key: str) -> dict[str, Any] | None:
        async with self._db.read() as conn:
            row = await fetch_one(conn, CURRENT_SQL, (namespace, key))
        return row_to_dict(row, MEMORY_JSON_COLUMNS)

    async def get_memory_history(self, namespace: str, key: str) -> list[dict[str, Any]]:
        """Every version, oldest first, soft-deleted ones included."""
        async with self._db.read() as conn:
            rows = await fetch_all(conn, HISTORY_SQL, (namespace, key))
        return [row_to_dict(row, MEMORY_JSON_COLUMNS) for row in rows]

    async def search_memories(
        self, namespace_prefix: str, memory_type: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        if memory_type is not None:
            check_memory_type(memory_type)
        sql, params = search_query(namespace_prefix, memory_type, limit)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, params)
        return [row_to_dict(row, MEMORY_JSON_COLUMNS) for row in rows]

    async def find_memory_conflicts(self, namespace_prefix: str) -> list[tuple[str, str]]:
        sql, params = conflicts_query(namespace_prefix)
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, params)
        return [(row["namespace"], row["key"]) for row in rows]

    async def consolidate_memories(self, namespace_prefix: str, *, task_id: str | None = None) -> ConsolidationResult:
        """Keep the newest live version of each conflicting key; history keeps every version."""
        now = self._clock.now()
        find_sql, find_params = conflicts_query(namespace_prefix)
        update_sql, update_params = _consolidate_sql(namespace_prefix)
        async with self._db.write() as conn:
            winners = await fetch_all(conn, find_sql, find_params)
            if not winners:
                return ConsolidationResult(conflicts_found=0, entries_resolved=0, keys=())
            cursor = await conn.execute(update_sql, (now, *update_params))
            resolved = cursor.rowcount
            await cursor.close()
            await audit.record(
                conn,
                [
                    audit.audit_params(
                        timestamp=now,
                        operation="consolidate",
                        namespace=row["namespace"],
                        entry_id=row["id"],
                        data={"key": row["key"], "kept_version": row["top"], "superseded": row["live"] - 1},
                        task_id=task_id,
                    )
                    for row in winners
                ],
            )
        keys = tuple((row["namespace"], row["key"]) for row in winners)
        return ConsolidationResult(conflicts_found=len(winners), entries_resolved=resolved, keys=keys)

    async def _insert(self, conn: aiosqlite.Connection, *values: Any) -> dict[str, Any]:
        now = self._clock.now()
        rows = await fetch_all(conn, INSERT_SQL, (*values, now, now))
        return row_to_dict(rows[0], MEMORY_JSON_COLUMNS)

    async def _audit(
        self, conn: aiosqlite.Connection, operation: str, entry: dict[str, Any], task_id: str | None, **extra: Any
    ) -> None:
        row = audit.audit_params(
            timestamp=self._clock.now(),
            operation=operation,
            namespace=entry["namespace"],
            entry_id=entry["id"],
            data={"key": entry["key"], "version": entry["version"], **extra},
            task_id=task_id,
        )
        await audit.record(conn, [row])
