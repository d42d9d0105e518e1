"""Defective targets: each factory is the reference with one realistic implementation defect.

The catalogue in ``catalogue.py`` says which smoke case must catch each one,
and with which words.  Every defect here has been seen in real code (the
first five in an independently written implementation of the same schema).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from pytest_prodready.reference import ReferenceService
from pytest_prodready.reference import memory as memory_module
from pytest_prodready.reference.codec import dump_json, json_object, row_to_dict
from pytest_prodready.reference.connections import Database, fetch_all, fetch_one
from pytest_prodready.reference.documents import (
    KNOWN_BY_PATH_SQL, DocumentStore, SourceFile, _is_current, _unchanged, markdown_files,
)
from pytest_prodready.reference.memory import MEMORY_JSON_COLUMNS, MemoryStore
from pytest_prodready.reference.namespaces import prefix_clause
from pytest_prodready.reference.sessions import SESSION_JSON_COLUMNS
from pytest_prodready.target import ConcurrentUpdateError, ConsolidationResult, SyncResult, TargetError, TargetContext, UnknownSessionError

from .building import build, connect, edited_schema, open_database, without_pragma

UPDATE_STATE_SQL = "UPDATE sessions SET state = ?, last_update_time = ? WHERE id = ? RETURNING *"


# 1. Session state: read outside the write transaction, merge in Python, write back blindly.
class LostStateUpdate(ReferenceService):
    async def update_session_state(self, session_id, changes, expected_last_update=None):
        if expected_last_update is not None:
            return await super().update_session_state(session_id, changes, expected_last_update)
        current = await self.get_session(session_id)
        if current is None:
            raise UnknownSessionError(session_id)
        await asyncio.sleep(0.001)  # any await between the read and the write (validation, a hook ...)
        merged = {**current["state"], **json_object(changes, "changes")}
        async with self.db.write() as conn:
            rows = await fetch_all(conn, UPDATE_STATE_SQL, (dump_json(merged), self.clock.now(), session_id))
        return row_to_dict(rows[0], SESSION_JSON_COLUMNS)


async def lost_state_update(context: TargetContext) -> ReferenceService:
    return await build(context, service_class=LostStateUpdate)


# 2. Search lists every live version: an update never supersedes the old one.
class AllVersionsSearch(MemoryStore):
    async def search_memories(self, namespace_prefix, memory_type=None, limit=100):
        clause, params = prefix_clause("namespace", namespace_prefix)
        sql = f"SELECT * FROM memory_entries WHERE {clause} AND is_deleted = 0 ORDER BY namespace, key LIMIT ?"
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, (*params, limit))
        return [row_to_dict(row, MEMORY_JSON_COLUMNS) for row in rows]


def _memory(store_class: type[MemoryStore]):
    def customise(service: ReferenceService) -> None:
        service.memory = store_class(service.db, service.clock)

    return customise


async def search_returns_superseded(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(AllVersionsSearch))


# 3. Namespace query correct in its results, but as a full scan sorted in a temp B-tree.
class ScanningSearch(MemoryStore):
    async def search_memories(self, namespace_prefix, memory_type=None, limit=100):
        base = namespace_prefix.rstrip(":")
        sql = """
SELECT m.* FROM memory_entries AS m
WHERE (m.namespace = ? OR substr(m.namespace, 1, ?) = ?) AND m.is_deleted = 0
  AND m.version = (SELECT MAX(x.version) FROM memory_entries AS x
                   WHERE x.namespace = m.namespace AND x.key = m.key AND x.is_deleted = 0)
ORDER BY m.updated_at DESC LIMIT ?"""
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, (base, len(base) + 1, base + ":", limit))
        return [row_to_dict(row, MEMORY_JSON_COLUMNS) for row in rows]


async def namespace_full_scan(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(ScanningSearch))


# 4. Document row committed before its embedding; a failed embedding leaves it pending, a retry collides.
class RowFirstDocuments(DocumentStore):
    async def sync_document(self, path: Path) -> SyncResult:
        source = SourceFile.read(Path(path).resolve())
        async with self._db.read() as conn:
            row = await fetch_one(conn, KNOWN_BY_PATH_SQL, (str(source.path),))
        if _is_current(row, source):
            return _unchanged(row)
        if row is None or row["sync_status"] == "pending":
            now = self._clock.now()
            try:
                async with self._db.write() as conn:
                    await conn.execute(
                        "INSERT INTO document_index (file_path, title, content_hash, sync_status, created_at, updated_at)"
                        " VALUES (?, ?, ?, 'pending', ?, ?)", (str(source.path), source.path.stem, source.digest, now, now))
            except sqlite3.IntegrityError as exc:
                raise TargetError(f"document {source.path} already exists") from exc
        source.data.decode("utf-8")  # the embedding model's tokenizer: strict UTF-8, fails after the commit
        return await super().sync_document(path)


def _documents(store_class: type[DocumentStore]):
    def customise(service: ReferenceService) -> None:
        service.documents = store_class(service.db, service.clock, service.embedder, on_change=service.search.invalidate)

    return customise


async def sync_commits_before_embedding(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_documents(RowFirstDocuments))


class VersionWriter(MemoryStore):
    """update_memory as the reference writes it; a defect overrides the version number or what is carried over."""

    def _next_version(self, versions) -> int:
        return versions["top"] + 1

    def _carried(self, current) -> tuple[str, str | None]:
        return current["metadata"] or "{}", current["created_by"]

    async def update_memory(self, namespace, key, value, updated_by=None, *, task_id=None):
        encoded = dump_json(value)
        async with self._db.write() as conn:
            current = await fetch_one(conn, memory_module.CURRENT_SQL, (namespace, key))
            if current is None:
                raise TargetError(f"memory {namespace}/{key} does not exist")
            versions = await fetch_one(conn, memory_module.VERSIONS_SQL, (namespace, key))
            metadata, creator = self._carried(current)
            entry = await self._insert(conn, namespace, key, encoded, current["memory_type"],
                                       self._next_version(versions), metadata, creator, updated_by)
            await self._audit(conn, "update", entry, task_id)
        return entry


# 5. A new version is written from the caller's arguments only: created_by and metadata are lost.
class ForgetfulUpdate(VersionWriter):
    def _carried(self, current) -> tuple[str, str | None]:
        return "{}", None


async def version_drops_created_by(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(ForgetfulUpdate))


# 6. PRAGMA foreign_keys = ON only on the first connection opened; the writer comes later.
async def foreign_keys_first_connection_only(context: TargetContext) -> ReferenceService:
    async def database(path: Path) -> Database:
        first = await connect(path)  # all pragmas; it ends up as one of the readers
        later = without_pragma("foreign_keys")
        writer = await connect(path, later)
        return Database(path, writer, [first, *[await connect(path, later) for _ in range(3)]])

    return await build(context, database=database)


# 7. Prefix search by LIKE: a sibling namespace leaks in, '_' and '%' are wildcards.
class LikeSearch(MemoryStore):
    async def search_memories(self, namespace_prefix, memory_type=None, limit=100):
        sql = memory_module.search_query("x", memory_type, limit)[0]
        sql = sql.replace(prefix_clause("m.namespace", "x")[0], "m.namespace LIKE ? || '%'")
        params = [namespace_prefix, *([memory_type] if memory_type else []), limit]
        async with self._db.read() as conn:
            rows = await fetch_all(conn, sql, params)
        return [row_to_dict(row, MEMORY_JSON_COLUMNS) for row in rows]


async def prefix_search_by_like(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(LikeSearch))


# 8. The next version is "live versions + 1": right until consolidation retires versions.
class LiveCountVersions(VersionWriter):
    def _next_version(self, versions) -> int:
        return versions["live"] + 1


async def wrong_version_increment(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(LiveCountVersions))


# 9. Updates write no audit row.
class UnauditedUpdate(MemoryStore):
    async def _audit(self, conn, operation, entry, task_id, **extra):
        if operation != "update":
            await super()._audit(conn, operation, entry, task_id, **extra)


async def audit_missing_for_update(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(UnauditedUpdate))


# 10. terminate answers "terminated" but never writes it.
class VolatileTerminate(ReferenceService):
    async def terminate_session(self, session_id):
        session = await self.get_session(session_id)
        if session is None:
            raise UnknownSessionError(session_id)
        return {**session, "status": "terminated", "terminated_at": self.clock.now()}


async def terminate_not_persisted(context: TargetContext) -> ReferenceService:
    return await build(context, service_class=VolatileTerminate)


# 11. search_memories drops its limit.
class UnlimitedSearch(MemoryStore):
    async def search_memories(self, namespace_prefix, memory_type=None, limit=100):
        return await super().search_memories(namespace_prefix, memory_type, 1_000_000)


async def search_ignores_limit(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(UnlimitedSearch))


# 12. Consolidation counts the conflicts and retires nothing (an off-by-one in its WHERE).
class IdleConsolidation(MemoryStore):
    async def consolidate_memories(self, namespace_prefix, *, task_id=None):
        found = await self.find_memory_conflicts(namespace_prefix)
        return ConsolidationResult(conflicts_found=len(found), entries_resolved=len(found), keys=tuple(found))


async def consolidation_keeps_both(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(IdleConsolidation))


# 13. No busy timeout on any connection ("fail fast"): a second writer fails at once with "database is locked".
async def no_busy_timeout(context: TargetContext) -> ReferenceService:
    return await build(context, database=lambda path: open_database(path, without_pragma("busy_timeout"), timeout_s=0))


# 14. Rollback journal instead of WAL.
async def journal_mode_delete(context: TargetContext) -> ReferenceService:
    pragmas = without_pragma("journal_mode", journal_mode="DELETE")
    return await build(context, database=lambda path: open_database(path, pragmas))


# 15. JSON columns without CHECK (json_valid(...)), events encoded with json.dumps' defaults (NaN allowed).
class LaxEvents(ReferenceService):
    async def append_event(self, session_id, event):
        event = json.loads(event) if isinstance(event, str) else dict(event)
        async with self.db.write() as conn:
            row = await fetch_one(conn, "SELECT events FROM sessions WHERE id = ?", (session_id,))
            events = [*json.loads(row["events"]), event]
            rows = await fetch_all(conn, "UPDATE sessions SET events = ?, last_update_time = ? WHERE id = ? RETURNING *",
                                   (json.dumps(events), self.clock.now(), session_id))
        return row_to_dict(rows[0], SESSION_JSON_COLUMNS)


_NO_JSON_CHECKS = (
    ("    CHECK (json_valid(events)),\n    CHECK (json_valid(state)),\n    CHECK (json_valid(metadata))\n",
     "    CHECK (1)\n"),
)


async def invalid_json_stored(context: TargetContext) -> ReferenceService:
    return await build(context, ddl=edited_schema(*_NO_JSON_CHECKS), service_class=LaxEvents)


# 16. A migration dropped UNIQUE (namespace, key, version); create relied on it.
class UncheckedCreate(MemoryStore):
    """Inserts version 1 without looking for a live one (the dropped constraint was the only guard)."""

    def _check_type(self, memory_type) -> None:
        memory_module.check_memory_type(memory_type)

    async def create_memory(self, namespace, key, value, memory_type, created_by=None, *, task_id=None):
        self._check_type(memory_type)
        async with self._db.write() as conn:
            entry = await self._insert(conn, namespace, key, dump_json(value), memory_type, 1, "{}", created_by,
                                       created_by)
            await self._audit(conn, "create", entry, task_id)
        return entry


async def unique_key_dropped(context: TargetContext) -> ReferenceService:
    ddl = edited_schema(("    CHECK (version > 0),\n    UNIQUE (namespace, key, version)\n", "    CHECK (version > 0)\n"))
    return await build(context, ddl=ddl, customise=_memory(UncheckedCreate))


# 17. The versioned-lookup indexes were created on (namespace, key) only.
async def index_wrong_columns(context: TargetContext) -> ReferenceService:
    ddl = edited_schema(
        ("idx_memory_namespace_key_version\n    ON memory_entries(namespace, key, is_deleted, version DESC)",
         "idx_memory_namespace_key_version\n    ON memory_entries(namespace, key)"),
        ("idx_memory_conflict_detection\n    ON memory_entries(namespace, key, is_deleted, version DESC)",
         "idx_memory_conflict_detection\n    ON memory_entries(namespace, key)"),
    )
    return await build(context, ddl=ddl)


# 18. History filters out superseded versions.
class LiveHistory(MemoryStore):
    async def get_memory_history(self, namespace, key):
        return [entry for entry in await super().get_memory_history(namespace, key) if not entry["is_deleted"]]


async def history_hides_superseded(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(LiveHistory))


# 19. get_memory sorts the wrong way and returns the first version.
class OldestFirstGet(MemoryStore):
    async def get_memory(self, namespace, key):
        async with self._db.read() as conn:
            row = await fetch_one(conn, memory_module.CURRENT_SQL.replace("DESC", "ASC"), (namespace, key))
        return row_to_dict(row, MEMORY_JSON_COLUMNS)


async def get_memory_returns_oldest(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_memory(OldestFirstGet))


# 20. append_event replaces the event log with the new event.
class OverwritingAppend(ReferenceService):
    async def append_event(self, session_id, event):
        encoded = dump_json(json_object(event, "event"), "event")
        async with self.db.write() as conn:
            rows = await fetch_all(conn, "UPDATE sessions SET events = json_array(json(?)), last_update_time = ? "
                                   "WHERE id = ? RETURNING *", (encoded, self.clock.now(), session_id))
        return row_to_dict(rows[0], SESSION_JSON_COLUMNS)


async def append_overwrites_events(context: TargetContext) -> ReferenceService:
    return await build(context, service_class=OverwritingAppend)


# 21. create_session as INSERT OR REPLACE: a duplicate id silently replaces the session.
class ReplacingCreate(ReferenceService):
    async def create_session(self, session_id, app_name, user_id, project_id=None):
        now = self.clock.now()
        async with self.db.write() as conn:
            rows = await fetch_all(conn, "INSERT OR REPLACE INTO sessions (id, app_name, user_id, project_id, status, "
                                   "events, state, metadata, created_at, last_update_time) VALUES (?, ?, ?, ?, 'created', "
                                   "'[]', '{}', '{}', ?, ?) RETURNING *", (session_id, app_name, user_id, project_id, now, now))
        return row_to_dict(rows[0], SESSION_JSON_COLUMNS)


async def duplicate_session_replaces(context: TargetContext) -> ReferenceService:
    return await build(context, service_class=ReplacingCreate)


# 22. memory_type neither validated nor constrained.
class AnyTypeCreate(UncheckedCreate):
    def _check_type(self, memory_type) -> None:
        return None


async def memory_type_unchecked(context: TargetContext) -> ReferenceService:
    ddl = edited_schema(("    CHECK (memory_type IN ('semantic', 'episodic', 'procedural')),\n", ""))
    return await build(context, ddl=ddl, customise=_memory(AnyTypeCreate))


# 23. State changes replace the state instead of merging into it.
class ReplacingState(ReferenceService):
    async def update_session_state(self, session_id, changes, expected_last_update=None):
        async with self.db.write() as conn:
            current = await fetch_one(conn, "SELECT last_update_time FROM sessions WHERE id = ?", (session_id,))
            if current is None:
                raise UnknownSessionError(session_id)
            if expected_last_update is not None and expected_last_update != current["last_update_time"]:
                raise ConcurrentUpdateError(session_id)
            rows = await fetch_all(conn, UPDATE_STATE_SQL, (dump_json(dict(changes)), self.clock.now(), session_id))
        return row_to_dict(rows[0], SESSION_JSON_COLUMNS)


async def state_replaced_not_merged(context: TargetContext) -> ReferenceService:
    return await build(context, service_class=ReplacingState)


# 24. The poller re-indexes every file on every poll (the hash comparison was lost).
class HashBlindDocuments(DocumentStore):
    async def sync_pending(self, directory: Path) -> list[SyncResult]:
        sources = [SourceFile.read(path) for path in markdown_files(Path(directory).resolve())]
        return await self._sync(sources)


async def background_sync_reindexes_all(context: TargetContext) -> ReferenceService:
    return await build(context, customise=_documents(HashBlindDocuments))


