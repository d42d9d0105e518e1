"""The reference schema and the production pragmas, as data the checks can import.

``EXPECTED_TABLES`` / ``EXPECTED_INDEXES`` / ``PRAGMAS`` are the default
expectation of the readiness checks, so they are kept next to the DDL they
describe rather than inside the checks.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import aiosqlite

EXPECTED_TABLES: tuple[str, ...] = (
    "sessions",
    "memory_entries",
    "document_index",
    "tasks",
    "agents",
    "state",
    "audit",
    "metrics",
    "checkpoints",
    "document_embeddings",
    "document_embeddings_data",
)

EXPECTED_INDEXES: tuple[str, ...] = (
    "idx_sessions_pk",
    "idx_sessions_status_updated",
    "idx_sessions_user_created",
    "idx_sessions_project",
    "idx_memory_entries_pk",
    "idx_memory_namespace_key_version",
    "idx_memory_type_updated",
    "idx_memory_namespace_prefix",
    "idx_memory_conflict_detection",
    "idx_memory_episodic_ttl",
    "idx_memory_created_by",
    "idx_document_index_pk",
    "idx_document_file_path",
    "idx_document_type_created",
    "idx_document_sync_status",
    "idx_document_content_hash",
    "idx_tasks_status_priority",
    "idx_tasks_submitted_at",
    "idx_tasks_parent",
    "idx_tasks_running_timeout",
    "idx_tasks_session",
    "idx_agents_task",
    "idx_agents_state",
    "idx_agents_session",
    "idx_audit_task",
    "idx_audit_agent",
    "idx_audit_timestamp",
    "idx_audit_memory_operations",
    "idx_audit_memory_namespace",
    "idx_audit_memory_entry",
    "idx_state_task_key",
    "idx_metrics_name_timestamp",
    "idx_checkpoints_task",
)

# What each connection sets, in this order: busy_timeout first so that the
# switch to WAL waits for a concurrent opener instead of failing.
PRAGMAS: dict[str, Any] = {
    "busy_timeout": 5000,
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
    "wal_autocheckpoint": 1000,
    "cache_size": -64000,
    "temp_store": "MEMORY",
    "mmap_size": 268435456,
}

# What ``PRAGMA <name>`` reads back once PRAGMAS are applied (SQLite reports
# enumerations as integers, journal_mode in lower case).
PRAGMA_READBACK: dict[str, Any] = {
    "busy_timeout": 5000,
    "journal_mode": "wal",
    "synchronous": 1,
    "foreign_keys": 1,
    "wal_autocheckpoint": 1000,
    "cache_size": -64000,
    "temp_store": 2,
    "mmap_size": 268435456,
}


@cache
def schema_sql() -> str:
    """The DDL text, shipped as package data so it stays reviewable as SQL."""
    return files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")


async def apply_pragmas(conn: aiosqlite.Connection) -> None:
    """Apply :data:`PRAGMAS`; most are per-connection, so every connection needs this."""
    for name, value in PRAGMAS.items():
        await conn.execute(f"PRAGMA {name} = {value}")


async def apply_schema(conn: aiosqlite.Connection) -> None:
    """Create every table and index; idempotent thanks to IF NOT EXISTS."""
    await conn.executescript(schema_sql())
