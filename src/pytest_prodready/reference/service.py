"""The reference memory-management service: one facade over the per-table stores.

It satisfies :class:`pytest_prodready.target.MemoryServiceTarget`; the stores
own the SQL and the methods, this class only wires them to one database,
clock and embedder, and hands each method call to the store that owns it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .audit import AuditLog
from .clock import Clock
from .connections import Database
from .documents import BackgroundSync, DocumentStore
from .embedder import HashingEmbedder
from .memory import MemoryStore
from .search import SearchEngine
from .sessions import SessionStore
from .tasks import TaskStore

if TYPE_CHECKING:
    from pytest_prodready.target import MemoryServiceTarget


# Each adapter method is the owning store's own, signature and all: written once, in the store (and in the
# MemoryServiceTarget protocol), not a third time here.  The forwarding methods are generated from this table.
_DELEGATED: dict[str, tuple[type, tuple[str, ...]]] = {
    "sessions": (SessionStore, ("create_session", "get_session", "append_event", "update_session_state",
                                "terminate_session")),
    "memory": (MemoryStore, ("create_memory", "update_memory", "delete_memory", "get_memory", "get_memory_history",
                             "search_memories", "find_memory_conflicts", "consolidate_memories")),
    "audit": (AuditLog, ("query_audit",)),
    "tasks": (TaskStore, ("create_task", "get_tasks_for_session")),
    "documents": (DocumentStore, ("sync_document", "sync_pending")),
    "search": (SearchEngine, ("semantic_search", "hybrid_search")),
}
_OWNERS = {method: store for store, (_, methods) in _DELEGATED.items() for method in methods}

# Type checkers see the protocol's signatures; at run time the methods are the generated ones below.
_Target = MemoryServiceTarget if TYPE_CHECKING else object


class ReferenceService(_Target):
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

    def background_sync(self, directory: Path, interval: float = 1.0, max_runs: int | None = None) -> BackgroundSync:
        """A poller over ``directory``; call ``start()`` (or use ``async with``) to run it."""
        return BackgroundSync(self, directory, interval, max_runs)

    async def close(self) -> None:
        await self.db.close()


def _forwarding(store: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``self.<store>.<method>(...)`` as a real method of the class, so a subclass's ``super().method()`` finds it."""
    name = method.__name__

    @functools.wraps(method)
    async def forward(self: ReferenceService, *args: Any, **kwargs: Any) -> Any:
        return await getattr(getattr(self, store), name)(*args, **kwargs)

    forward.__qualname__ = f"ReferenceService.{name}"
    return forward


for _store, (_owner, _methods) in _DELEGATED.items():
    for _name in _methods:
        setattr(ReferenceService, _name, _forwarding(_store, getattr(_owner, _name)))
