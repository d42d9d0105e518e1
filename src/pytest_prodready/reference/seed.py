"""Initial data every fresh database gets, and a realistic dataset for performance runs.

Bulk rows go in with executemany inside one transaction; ids are assigned
here so audit rows can point at memory entries without reading them back.
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import aiosqlite

from . import audit
from .clock import format_timestamp
from .codec import dump_json
from .connections import fetch_one
from .service import ReferenceService
from .tasks import INSERT_TASK_ROW_SQL, SYSTEM_TASK_ID

DEFAULT_VOLUME: dict[str, int] = {"sessions": 500, "memories": 5000, "documents": 300}
EXAMPLE_SESSION_ID = "example-session"
DEFAULT_SEED = 3

_HISTORY_DAYS = 30


class MemoryRow(NamedTuple):
    """One memory_entries row as the bulk writer takes it (value/metadata not yet encoded)."""

    namespace: str
    key: str
    value: Any
    memory_type: str
    version: int = 1
    is_deleted: int = 0
    metadata: Mapping[str, Any] = {}
    created_by: str | None = "system"
    created_at: str | None = None


INITIAL_MEMORIES: tuple[MemoryRow, ...] = (
    MemoryRow(
        "app:abathur:workflows",
        "task_execution",
        {"steps": ["claim task", "load session context", "execute", "record result", "release"]},
        "procedural",
    ),
    MemoryRow(
        "app:abathur:workflows",
        "memory_consolidation",
        {"trigger": "several live versions of one key", "action": "keep newest, soft-delete older"},
        "procedural",
    ),
    MemoryRow(
        "app:abathur:policies",
        "session_lifecycle",
        {"pause_after_idle_minutes": 30, "terminate_after_idle_hours": 24, "archive_after_days": 30},
        "procedural",
    ),
    MemoryRow(
        "app:abathur:policies",
        "episodic_retention",
        {"ttl_days": 90, "applies_to": "episodic"},
        "procedural",
    ),
    MemoryRow(
        "app:abathur:templates",
        "user_preferences",
        {"language": "en", "verbosity": "concise", "notifications": True, "timezone": "UTC"},
        "semantic",
    ),
)

_INSERT_MEMORY_SQL = """
INSERT INTO memory_entries (id, namespace, key, value, memory_type, version, is_deleted, metadata,
                            created_by, updated_by, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_INSERT_SESSION_SQL = """
INSERT INTO sessions (id, app_name, user_id, project_id, status, events, state, metadata,
                      created_at, last_update_time, terminated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

# Topic vocabularies for the generated corpus: distinct enough that a query in
# one topic's words has a single right answer.
_TOPICS: dict[str, tuple[str, ...]] = {
    "database-indexing": ("index", "btree", "query", "planner", "scan", "sqlite", "covering", "selectivity"),
    "kubernetes-deployment": ("kubernetes", "pod", "deployment", "helm", "cluster", "replica", "ingress", "node"),
    "memory-consolidation": ("memory", "consolidation", "namespace", "version", "conflict", "episodic", "semantic"),
    "vector-search": ("embedding", "vector", "cosine", "similarity", "chunk", "retrieval", "ranking", "dimension"),
    "incident-response": ("incident", "pager", "outage", "postmortem", "escalation", "severity", "oncall"),
    "authentication": ("oauth", "token", "login", "password", "session", "credential", "mfa", "identity"),
    "caching-strategy": ("cache", "eviction", "ttl", "redis", "invalidation", "hit", "miss", "warmup"),
    "billing-pipeline": ("invoice", "billing", "payment", "subscription", "refund", "ledger", "currency"),
    "frontend-performance": ("browser", "render", "bundle", "javascript", "paint", "lazy", "hydration"),
    "data-migration": ("migration", "schema", "backfill", "rollback", "column", "downtime", "cutover"),
    "observability": ("metrics", "tracing", "logs", "dashboard", "alert", "latency", "percentile"),
    "agent-orchestration": ("agent", "swarm", "task", "queue", "orchestrator", "spawn", "dependency"),
}
_FILLER = (
    "team",
    "system",
    "change",
    "review",
    "process",
    "design",
    "result",
    "approach",
    "plan",
    "service",
    "update",
    "work",
    "detail",
    "case",
    "step",
    "note",
)
_EVENT_TYPES = ("message", "action", "tool_call", "observation")
_TASK_STATUSES = ("completed", "completed", "running", "pending", "failed")


def resolve_volume(options: Mapping[str, Any]) -> dict[str, int] | None:
    """``volume`` absent -> defaults; None -> no dataset; a dict overrides per key."""
    if "volume" not in options:
        return dict(DEFAULT_VOLUME)
    volume = options["volume"]
    if volume is None:
        return None
    if not isinstance(volume, Mapping):
        raise TypeError(f"volume must be a mapping like {DEFAULT_VOLUME}, got {volume!r}")
    unknown = set(volume) - set(DEFAULT_VOLUME)
    if unknown:
        raise ValueError(f"unknown volume keys: {', '.join(sorted(unknown))}")
    return {name: max(0, int(volume.get(name, default))) for name, default in DEFAULT_VOLUME.items()}


async def seed_initial_data(service: ReferenceService) -> None:
    """The system task, an example session for smoke tests and the app-wide memories."""
    now = service.clock.now()
    async with service.db.write() as conn:
        await conn.execute(
            INSERT_TASK_ROW_SQL,
            (
                SYSTEM_TASK_ID,
                "System task for memory operations",
                "system",
                10,
                "completed",
                "{}",
                now,
                now,
                "system",
                None,
            ),
        )
        await conn.execute(
            _INSERT_SESSION_SQL,
            (
                EXAMPLE_SESSION_ID,
                "abathur",
                "smoke-test",
                None,
                "created",
                "[]",
                "{}",
                dump_json({"purpose": "smoke test"}),
                now,
                now,
                None,
            ),
        )
        await insert_memories(conn, [row._replace(created_at=now) for row in INITIAL_MEMORIES])


async def insert_memories(conn: aiosqlite.Connection, rows: Sequence[MemoryRow]) -> None:
    """Bulk-insert memories and their audit trail inside the caller's transaction.

    Rows of one key must be consecutive and in version order: a row with
    version > 1 is audited as an update, and a soft-deleted row carrying
    ``consolidated_into`` adds a consolidate event for its key.
    """
    top = await fetch_one(conn, "SELECT COALESCE(MAX(id), 0) AS top FROM memory_entries")
    memory_params, audit_rows = [], []
    written: dict[tuple[str, str, int], tuple[int, str | None]] = {}
    for offset, row in enumerate(rows, start=top["top"] + 1):
        written[(row.namespace, row.key, row.version)] = (offset, row.created_at)
        memory_params.append(
            (
                offset,
                row.namespace,
                row.key,
                dump_json(row.value),
                row.memory_type,
                row.version,
                row.is_deleted,
                dump_json(dict(row.metadata)),
                row.created_by,
                row.created_by,
                row.created_at,
                row.created_at,
            )
        )
        operation = "create" if row.version == 1 else "update"
        audit_rows.append(
            audit.audit_params(
                timestamp=row.created_at,
                operation=operation,
                namespace=row.namespace,
                entry_id=offset,
                data={"key": row.key, "version": row.version},
            )
        )
    for row in rows:
        kept = row.metadata.get("consolidated_into")
        if kept is not None:
            kept_id, kept_at = written[(row.namespace, row.key, kept)]
            audit_rows.append(
                audit.audit_params(
                    timestamp=kept_at,
                    operation="consolidate",
                    namespace=row.namespace,
                    entry_id=kept_id,
                    data={"key": row.key, "kept_version": kept},
                )
            )
    await conn.executemany(_INSERT_MEMORY_SQL, memory_params)
    await audit.record(conn, audit_rows)


async def populate(
    service: ReferenceService, volume: Mapping[str, int], corpus: Path, seed: int = DEFAULT_SEED
) -> None:
    """A deterministic, realistic dataset: sessions with events, tasks, memories, markdown documents."""
    rng = random.Random(seed)
    dataset = _Dataset(rng, datetime.now(timezone.utc))
    sessions = dataset.sessions(volume["sessions"])
    async with service.db.write() as conn:
        await conn.executemany(_INSERT_SESSION_SQL, sessions)
        await conn.executemany(INSERT_TASK_ROW_SQL, dataset.tasks(sessions))
        await insert_memories(conn, dataset.memories(volume["memories"], [row[0] for row in sessions]))
    if volume["documents"]:
        dataset.write_corpus(corpus, volume["documents"])
        await service.sync_pending(corpus)


class _Dataset:
    """Generators for the populated rows, sharing one RNG and one notion of 'now'."""

    def __init__(self, rng: random.Random, now: datetime):
        self._rng = rng
        self._now = now
        self._users = [f"user-{index:03d}" for index in range(50)]
        self._projects = [f"project-{index:02d}" for index in range(20)]

    def _past(self, earliest: datetime | None = None) -> datetime:
        start = earliest or self._now - timedelta(days=_HISTORY_DAYS)
        return start + (self._now - start) * self._rng.random()

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def sessions(self, count: int) -> list[tuple[Any, ...]]:
        rows = []
        for index in range(count):
            status = self._rng.choices(("created", "active", "paused", "terminated"), weights=(1, 4, 1, 4))[0]
            created = self._past()
            updated = self._past(created)
            events = [] if status == "created" else [self._event(n, created) for n in range(self._rng.randint(1, 6))]
            state = (
                {}
                if status == "created"
                else {
                    "session:current_task": self._rng.choice(tuple(_TOPICS)),
                    "user:last_interaction": format_timestamp(updated),
                    "temp:step": len(events),
                }
            )
            rows.append(
                (
                    f"session-{index:05d}",
                    "abathur",
                    self._rng.choice(self._users),
                    self._rng.choice((None, *self._projects)),
                    status,
                    dump_json(events),
                    dump_json(state),
                    dump_json({"source": "populate"}),
                    format_timestamp(created),
                    format_timestamp(updated),
                    format_timestamp(updated) if status == "terminated" else None,
                )
            )
        return rows

    def _event(self, number: int, created: datetime) -> dict[str, Any]:
        return {
            "event_id": f"evt_{number:03d}",
            "timestamp": format_timestamp(created + timedelta(seconds=30 * number)),
            "event_type": self._rng.choice(_EVENT_TYPES),
            "actor": self._rng.choice(("user", "agent:planner", "agent:implementer")),
            "content": {"message": self._sentence(self._rng.choice(tuple(_TOPICS.values())))},
        }

    def tasks(self, sessions: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        rows = []
        for session in sessions:
            if session[4] == "created":
                continue
            status = self._rng.choice(_TASK_STATUSES)
            rows.append(
                (
                    self._uuid(),
                    f"Follow up on {session[0]}",
                    "general",
                    self._rng.randint(1, 10),
                    status,
                    dump_json({"session": session[0]}),
                    session[8],
                    session[9],
                    session[2],
                    session[0],
                )
            )
        return rows

    def memories(self, count: int, session_ids: Sequence[str]) -> list[MemoryRow]:
        """``count`` rows; about one key in ten has an older, already-consolidated version."""
        rows: list[MemoryRow] = []
        while len(rows) < count:
            namespace, memory_type = self._namespace(session_ids)
            key = f"{self._rng.choice(_FILLER)}-{len(rows)}"
            created = self._past()
            creator = f"agent:{self._rng.choice(('planner', 'implementer', 'reviewer'))}"
            value = {"text": self._sentence(self._rng.choice(tuple(_TOPICS.values()))), "score": self._rng.random()}
            if len(rows) + 2 <= count and self._rng.random() < 0.1:
                rows.append(
                    MemoryRow(
                        namespace,
                        key,
                        value,
                        memory_type,
                        1,
                        1,
                        {"consolidated_into": 2},
                        creator,
                        format_timestamp(created),
                    )
                )
                rows.append(
                    MemoryRow(
                        namespace,
                        key,
                        {**value, "revised": True},
                        memory_type,
                        2,
                        0,
                        {},
                        creator,
                        format_timestamp(self._past(created)),
                    )
                )
            else:
                rows.append(MemoryRow(namespace, key, value, memory_type, 1, 0, {}, creator, format_timestamp(created)))
        return rows

    def _namespace(self, session_ids: Sequence[str]) -> tuple[str, str]:
        kind = self._rng.random()
        if kind < 0.4:
            return f"user:{self._rng.choice(self._users)}:preferences", "semantic"
        if kind < 0.65:
            return f"project:{self._rng.choice(self._projects)}:status", "semantic"
        if kind < 0.9 and session_ids:
            return f"session:{self._rng.choice(session_ids)}:events", "episodic"
        return f"app:abathur:procedures:{self._rng.choice(tuple(_TOPICS))}", "procedural"

    def write_corpus(self, corpus: Path, count: int) -> None:
        """``count`` markdown files, round-robin over the topics, replacing any older corpus."""
        shutil.rmtree(corpus, ignore_errors=True)
        topics = list(_TOPICS.items())
        for index in range(count):
            topic, words = topics[index % len(topics)]
            folder = corpus / topic
            folder.mkdir(parents=True, exist_ok=True)
            title = f"{topic.replace('-', ' ').title()} notes {index:03d}"
            paragraphs = [
                " ".join(self._sentence(words) for _ in range(self._rng.randint(3, 5)))
                for _ in range(self._rng.randint(3, 6))
            ]
            (folder / f"{topic}-{index:03d}.md").write_text(f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n")

    def _sentence(self, words: Sequence[str]) -> str:
        picked = [
            self._rng.choice(words) if self._rng.random() < 0.6 else self._rng.choice(_FILLER)
            for _ in range(self._rng.randint(6, 10))
        ]
        return " ".join(picked).capitalize() + "."
