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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence, runtime_checkable

MEMORY_TYPES = ("semantic", "episodic", "procedural")

# The row key whose value callers pass back as ``expected_last_update``,
# unless the target names another (``concurrency_token = "version"``).
DEFAULT_CONCURRENCY_TOKEN = "last_update_time"


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

    What the suite holds every target to (and what it leaves open):

    - Timestamps are ISO-8601 text (or epoch seconds) at any resolution; they
      never go backwards, they need not change within a second.
    - ``update_session_state`` merges ``changes`` into the state; two
      concurrent calls both survive.  ``expected_last_update`` is the value
      of the row's concurrency token as the caller read it
      (``last_update_time``, or the key a target names in an optional
      ``concurrency_token`` attribute, e.g. ``"version"``); a moved token
      raises :class:`ConcurrentUpdateError`.
    - ``update_memory`` adds version N+1, carrying ``memory_type`` and
      ``created_by`` over; ``get_memory`` and ``search_memories`` return the
      current version of each key only; ``get_memory_history`` returns every
      version, superseded ones included, sorted by ``version``, oldest first
      or newest first (either order; nothing else).
    - Invalid input (text that is not JSON, NaN, a value JSON cannot encode,
      an unknown memory type, an unknown session) is refused by raising any
      exception, and nothing of it is stored.
    - An operation the system does not have raises ``NotImplementedError``
      (or is left out of an optional ``capabilities`` set): its case is
      reported ``unsupported``, never passed.
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


def parse_timestamp(value: Any) -> datetime:
    """A target's timestamp as an aware datetime: ISO-8601 text (naive means UTC) or epoch seconds."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def concurrency_token(target: Any, row: Mapping[str, Any]) -> Any:
    """The value to pass back as ``expected_last_update`` for ``row``."""
    return row[getattr(target, "concurrency_token", DEFAULT_CONCURRENCY_TOKEN)]


TargetFactory = Callable[[TargetContext], "MemoryServiceTarget | Awaitable[MemoryServiceTarget]"]


def load_factory(spec: str) -> TargetFactory:
    """Resolve ``package.module:callable`` and check it can take a :class:`TargetContext`; errors say what is wrong."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise TargetLoadError(f"target {spec!r} is not of the form 'module:factory'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a module that fails to import, however it fails, is the user's to fix
        raise TargetLoadError(f"target {spec!r}: cannot import {module_name!r} ({type(exc).__name__}: {exc})") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise TargetLoadError(f"target {spec!r}: {module_name!r} has no callable {attr!r}")
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some builtins have none to show: calling them will tell
        return factory
    try:
        signature.bind(None)
    except TypeError as exc:
        raise TargetLoadError(f"target {spec!r}: {attr} cannot be called with one TargetContext ({exc})") from exc
    return factory


async def build_target(spec: str, context: TargetContext) -> MemoryServiceTarget:
    """Call the factory (sync or async) and check the result honours the contract."""
    made = load_factory(spec)(context)
    target = await made if inspect.isawaitable(made) else made
    missing = [name for name in protocol_methods() if not callable(getattr(target, name, None))]
    if missing:
        raise TargetLoadError(
            f"target {spec!r}: the factory returned {type(target).__name__}, not an adapter (lacks {', '.join(missing)})"
        )
    declared = getattr(target, "capabilities", None)
    if declared is not None:
        unknown = sorted(set(declared) - set(protocol_methods()) - set(OPTIONAL_OPERATIONS))
        if unknown:
            raise TargetLoadError(f"target {spec!r} declares unknown capabilities: {', '.join(unknown)}")
        return CapabilityLimited(target, frozenset(declared))  # type: ignore[return-value]
    return target


# Operations a target may offer beyond the protocol; a case that needs one it lacks is "unsupported".
OPTIONAL_OPERATIONS = ("background_sync", "hot_queries")


class CapabilityLimited:
    """A target that declared ``capabilities``: any other operation raises NotImplementedError.

    So a case needing an operation the system does not have is reported
    ``unsupported`` (its own outcome), not as a broken feature.
    """

    def __init__(self, target: Any, capabilities: frozenset[str]) -> None:
        self._target = target
        self._capabilities = capabilities

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in ("close", "capabilities") or name.startswith("_") or not callable(value):
            return value
        if name not in self._capabilities:
            if name in OPTIONAL_OPERATIONS:
                raise AttributeError(name)

            def unsupported(*args: Any, **kwargs: Any) -> Any:
                raise NotImplementedError(f"{name} is not among the target's declared capabilities")

            return unsupported
        return value


def protocol_methods() -> list[str]:
    """The contract's operations: every public coroutine of :class:`MemoryServiceTarget`."""
    return [
        name
        for name, value in vars(MemoryServiceTarget).items()
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    ]
