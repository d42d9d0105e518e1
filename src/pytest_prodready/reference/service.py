"""The reference memory-management service: one facade over the per-table stores.

It satisfies :class:`pytest_prodready.target.MemoryServiceTarget`; the stores
own the SQL, this class only wires them to one database, clock and embedder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_prodready.target import ConsolidationResult, SearchHit, SyncResult

from .audit import DEFAULT_AUDIT_LIMIT, AuditLog
from .clock import Clock
from .connections import Database
from .documents import BackgroundSync, DocumentStore
from .embedder import HashingEmbedder
from .memory import MemoryStore
from .search import SearchEngine
from .sessions import SessionStore
from .tasks import TaskStore


class ReferenceService:
    """Sessions, versioned memories, tasks, audit and document search on one SQLite file."""

    def __init__(self, db: Database):
        self.db = db
        self.database_path: Path | None = db.path
        self.clock = Clock()
        self.embedder = HashingEmbedder()
        self.search = SearchEngine(db, self.embedder)
        self.sessions = SessionStore(db, self.clock)
        self.memory = MemoryStore(db, self.clock)
        self.tasks = TaskStore(db, self.clock)
        self.audit = AuditLog(db)
        self.documents = DocumentStore(db, self.clock, self.embedder, on_change=self.search.invalidate)

    # sessions
    async def create_session(
        self, session_id: str, app_name: str, user_id: str, project_id: str | None = None
    ) -> dict[str, Any]:
        return await self.sessions.create_session(session_id, app_name, user_id, project_id)

    async def get_session(self, session_id: str) -> dict[str, Any] | None:
        return await self.sessions.get_session(session_id)

    async def append_event(self, session_id: str, event: Mapping[str, Any] | str) -> dict[str, Any]:
        return await self.sessions.append_event(session_id, event)

    async def update_session_state(
        self, session_id: str, changes: Mapping[str, Any], expected_last_update: str | None = None
    ) -> dict[str, Any]:
        return await self.sessions.update_session_state(session_id, changes, expected_last_update)

    async def terminate_session(self, session_id: str) -> dict[str, Any]:
        return await self.sessions.terminate_session(session_id)

    # memory
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
        return await self.memory.create_memory(namespace, key, value, memory_type, created_by, task_id=task_id)

    async def update_memory(
        self, namespace: str, key: str, value: Any, updated_by: str | None = None, *, task_id: str | None = None
    ) -> dict[str, Any]:
        return await self.memory.update_memory(namespace, key, value, updated_by, task_id=task_id)

    async def delete_memory(
        self, namespace: str, key: str, deleted_by: str | None = None, *, task_id: str | None = None
    ) -> int:
        return await self.memory.delete_memory(namespace, key, deleted_by, task_id=task_id)

    async def get_memory(self, namespace: str, key: str) -> dict[str, Any] | None:
        return await self.memory.get_memory(namespace, key)

    async def get_memory_history(self, namespace: str, key: str) -> list[dict[str, Any]]:
        return await self.memory.get_memory_history(namespace, key)

    async def search_memories(
        self, namespace_prefix: str, memory_type: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        return await self.memory.search_memories(namespace_prefix, memory_type, limit)

    async def find_memory_conflicts(self, namespace_prefix: str) -> list[tuple[str, str]]:
        return await self.memory.find_memory_conflicts(namespace_prefix)

    async def consolidate_memories(self, namespace_prefix: str, *, task_id: str | None = None) -> ConsolidationResult:
        return await self.memory.consolidate_memories(namespace_prefix, task_id=task_id)

    # audit and tasks
    async def query_audit(
        self,
        namespace_prefix: str | None = None,
        operation: str | None = None,
        memory_entry_id: int | None = None,
        *,
        limit: int = DEFAULT_AUDIT_LIMIT,
    ) -> list[dict[str, Any]]:
        return await self.audit.query_audit(namespace_prefix, operation, memory_entry_id, limit=limit)

    async def create_task(
        self, prompt: str, session_id: str | None = None, input_data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.tasks.create_task(prompt, session_id, input_data)

    async def get_tasks_for_session(self, session_id: str) -> list[dict[str, Any]]:
        return await self.tasks.get_tasks_for_session(session_id)

    # documents and search
    async def sync_document(self, path: Path) -> SyncResult:
        return await self.documents.sync_document(path)

    async def sync_pending(self, directory: Path) -> list[SyncResult]:
        return await self.documents.sync_pending(directory)

    def background_sync(self, directory: Path, interval: float = 1.0, max_runs: int | None = None) -> BackgroundSync:
        """A poller over ``directory``; call ``start()`` (or use ``async with``) to run it."""
        return BackgroundSync(self, directory, interval, max_runs)

    async def semantic_search(self, query: str, limit: int = 10) -> list[SearchHit]:
        return await self.search.semantic_search(query, limit)

    async def hybrid_search(self, query: str, limit: int = 10) -> list[SearchHit]:
        return await self.search.hybrid_search(query, limit)

    async def close(self) -> None:
        await self.db.close()
