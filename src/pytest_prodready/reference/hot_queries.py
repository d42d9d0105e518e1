"""The statements behind the latency-critical service calls, for EXPLAIN QUERY PLAN checks."""

from __future__ import annotations

from typing import Any

from . import audit, documents, memory, sessions, tasks


def hot_queries() -> dict[str, tuple[str, tuple[Any, ...]]]:
    """The statements behind the latency-critical calls, with sample parameters.

    Exactly the SQL the service runs, so EXPLAIN QUERY PLAN over these proves
    (or disproves) that the hot paths are served by an index.
    """
    search_sql, search_params = memory.search_query("user:alice", None, 100)
    conflicts_sql, conflicts_params = memory.conflicts_query("user:alice")
    audit_ns_sql, audit_ns_params = audit.audit_query("user:alice", None, None, 100)
    audit_entry_sql, audit_entry_params = audit.audit_query(None, None, 1, 100)
    return {
        "get_session": (sessions.GET_SESSION_SQL, ("session-1",)),
        "append_event": (sessions.APPEND_EVENT_SQL, ("{}", "2025-01-01T00:00:00.000000+00:00", "session-1")),
        "update_session_state": (
            sessions.SWAP_STATE_SQL,
            ("{}", "2025-01-01T00:00:00.000001+00:00", "session-1", "2025-01-01T00:00:00.000000+00:00"),
        ),
        "get_memory": (memory.CURRENT_SQL, ("user:alice", "theme")),
        "memory_versions": (memory.VERSIONS_SQL, ("user:alice", "theme")),
        "get_memory_history": (memory.HISTORY_SQL, ("user:alice", "theme")),
        "search_memories": (search_sql, tuple(search_params)),
        "find_memory_conflicts": (conflicts_sql, tuple(conflicts_params)),
        "get_tasks_for_session": (tasks.TASKS_FOR_SESSION_SQL, ("session-1",)),
        "query_audit_by_namespace": (audit_ns_sql, tuple(audit_ns_params)),
        "query_audit_by_entry": (audit_entry_sql, tuple(audit_entry_params)),
        "document_by_path": (documents.KNOWN_BY_PATH_SQL, ("/corpus/a.md",)),
    }
