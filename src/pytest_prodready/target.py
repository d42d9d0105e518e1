"""The contract between the readiness suite and the system under test.

The smoke suite never imports a concrete service: it talks to an object that
satisfies :class:`MemoryServiceTarget`, built by a *factory* named
``module:callable``.  The embedded reference target implements it, and so
does any adapter a user writes for their own system.  The exceptions below
are the vocabulary both sides share, so the suite can assert "invalid input
is rejected" without knowing how a given system reports it.

This module imports nothing from pytest.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence, runtime_checkable

MEMORY_TYPES = ("semantic", "episodic", "procedural")


class TargetError(Exception):
    """Base of every error an adapter raises on purpose."""


class InvalidJSONError(TargetError, ValueError):
    """A value that must be JSON (an event, a state, a memory value) is not."""


class DuplicateSessionError(TargetError):
    """A session with this id already exists."""


class InvalidMemoryTypeError(TargetError, ValueError):
    """``memory_type`` is not one of :data:`MEMORY_TYPES`."""


class UnknownSessionError(TargetError, LookupError):
    """A referenced session does not exist (a foreign-key violation)."""


class ConcurrentUpdateError(TargetError):
    """An optimistic-concurrency check failed: someone else updated first."""


class TargetLoadError(Exception):
    """The ``module:factory`` spec cannot be imported or called."""


@dataclass(frozen=True)
class SearchHit:
    """One document found by semantic or hybrid search, best first."""

    document_id: int
    file_path: str
    title: str
    score: float


@dataclass(frozen=True)
class SyncResult:
    """What syncing one file did: ``changed`` is False when its hash matched."""

    document_id: int
    changed: bool
    content_hash: str
    chunk_count: int


@dataclass(frozen=True)
class ConsolidationResult:
    """Outcome of resolving conflicting memory entries."""

    conflicts_found: int
    entries_resolved: int
    keys: Sequence[tuple[str, str]] = field(default_factory=tuple)


@dataclass(frozen=True)
class TargetContext:
    """What a factory gets: a scratch folder it may use, and the user's options."""

    workdir: Path
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class MemoryServiceTarget(Protocol):
    """The memory-management service as the smoke suite sees it.

    Sessions and memory entries are plain ``dict`` rows whose keys are the
    column names of the seed schema (``id``, ``status``, ``events``,
    ``state``, ``namespace``, ``key``, ``value``, ``version`` ...), with JSON
    columns already decoded.  ``database_path`` names the SQLite file behind
    the service when there is one, so SQL-level checks can inspect it.
    """

    database_path: Path | None

    async def create_session(
        self, session_id: str, app_name: str, user_id: str, project_id: str | None = None
    ) -> dict[str, Any]: ...

    async def get_session(self, session_id: str) -> dict[str, Any] | None: ...

    async def append_event(self, session_id: str, event: Mapping[str, Any] | str) -> dict[str, Any]: ...

    async def update_session_state(
        self, session_id: str, changes: Mapping[str, Any], expected_last_update: str | None = None
    ) -> dict[str, Any]: ...

    async def terminate_session(self, session_id: str) -> dict[str, Any]: ...

    async def create_memory(
        self, namespace: str, key: str, value: Any, memory_type: str, created_by: str | None = None
    ) -> dict[str, Any]: ...

    async def update_memory(
        self, namespace: str, key: str, value: Any, updated_by: str | None = None
    ) -> dict[str, Any]: ...

    async def get_memory(self, namespace: str, key: str) -> dict[str, Any] | None: ...

    async def get_memory_history(self, namespace: str, key: str) -> list[dict[str, Any]]: ...

    async def search_memories(
        self, namespace_prefix: str, memory_type: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]: ...

    async def find_memory_conflicts(self, namespace_prefix: str) -> list[tuple[str, str]]: ...

    async def consolidate_memories(self, namespace_prefix: str) -> ConsolidationResult: ...

    async def query_audit(
        self,
        namespace_prefix: str | None = None,
        operation: str | None = None,
        memory_entry_id: int | None = None,
    ) -> list[dict[str, Any]]: ...

    async def create_task(
        self, prompt: str, session_id: str | None = None, input_data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]: ...

    async def get_tasks_for_session(self, session_id: str) -> list[dict[str, Any]]: ...

    async def sync_document(self, path: Path) -> SyncResult: ...

    async def sync_pending(self, directory: Path) -> list[SyncResult]: ...

    async def semantic_search(self, query: str, limit: int = 10) -> list[SearchHit]: ...

    async def hybrid_search(self, query: str, limit: int = 10) -> list[SearchHit]: ...

    async def close(self) -> None: ...


TargetFactory = Callable[[TargetContext], "MemoryServiceTarget | Awaitable[MemoryServiceTarget]"]


def load_factory(spec: str) -> TargetFactory:
    """Resolve ``package.module:callable``; errors say which half was wrong."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TargetLoadError(f"target {spec!r} is not of the form 'module:factory'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TargetLoadError(f"target {spec!r}: cannot import {module_name!r} ({exc})") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise TargetLoadError(f"target {spec!r}: {module_name!r} has no callable {attr!r}")
    return factory


async def build_target(spec: str, context: TargetContext) -> MemoryServiceTarget:
    """Call the factory (sync or async) and check the result honours the contract."""
    made = load_factory(spec)(context)
    target = await made if inspect.isawaitable(made) else made
    missing = [name for name in protocol_methods() if not callable(getattr(target, name, None))]
    if missing:
        raise TargetLoadError(f"target {spec!r} lacks {', '.join(missing)}")
    return target


def protocol_methods() -> list[str]:
    """The contract's operations: every public coroutine of :class:`MemoryServiceTarget`."""
    return [
        name
        for name, value in vars(MemoryServiceTarget).items()
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    ]
