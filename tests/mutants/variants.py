"""Correct targets that differ from the reference: the smoke suite must give each of them GO.

Each one is a choice a careful implementer could make: coarser timestamps
with a version column as the concurrency token, the other history order,
their own index names, refusing bad input before encoding it, a virtual
table for the vectors, a connection per write.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator

import aiosqlite

from pytest_prodready.reference import ReferenceService, schema_sql
from pytest_prodready.reference.clock import Clock
from pytest_prodready.reference.codec import dump_json, row_to_dict
from pytest_prodready.reference.connections import Database, fetch_all, fetch_one
from pytest_prodready.reference.documents import DocumentStore, PreparedDocument
from pytest_prodready.reference.memory import MemoryStore
from pytest_prodready.reference.sessions import SESSION_JSON_COLUMNS
from pytest_prodready.target import ConcurrentUpdateError, TargetContext, UnknownSessionError

from .building import build, connect, edited_schema, open_database

SESSION_VERSION = (
    "    last_update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n",
    "    last_update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    version INTEGER NOT NULL DEFAULT 1,\n",
)
RENAMED_INDEXES_DDL = "renamed_indexes.sql"


class SecondClock(Clock):
    """SQLite's own CURRENT_TIMESTAMP form: whole seconds, repeats within a second."""

    def now(self) -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class VersionedSessions(ReferenceService):
    """Optimistic concurrency on ``sessions.version``: the token is the version, not a timestamp."""

    concurrency_token = "version"

    async def update_session_state(self, session_id, changes, expected_last_update=None):
        changes = dict(changes)
        async with self.db.write() as conn:
            current = await fetch_one(conn, "SELECT state, version FROM sessions WHERE id = ?", (session_id,))
            if current is None:
                raise UnknownSessionError(session_id)
            if expected_last_update is not None and expected_last_update != current["version"]:
                raise ConcurrentUpdateError(f"session {session_id} is at version {current['version']}")
            merged = {**row_to_dict(current, ("state",))["state"], **changes}
            rows = await fetch_all(
                conn,
                "UPDATE sessions SET state = ?, version = version + 1, last_update_time = ?, "
                "status = CASE status WHEN 'created' THEN 'active' ELSE status END "
                "WHERE id = ? AND version = ? RETURNING *",
                (dump_json(merged, "session state"), self.clock.now(), session_id, current["version"]),
            )
        if not rows:
            raise ConcurrentUpdateError(f"session {session_id} changed during the update")
        return row_to_dict(rows[0], SESSION_JSON_COLUMNS)


def _second_clock(service: ReferenceService) -> None:
    clock = SecondClock()
    service.clock = clock
    for store in (service.sessions, service.memory, service.tasks, service.documents):
        store._clock = clock


async def second_resolution_timestamps(context: TargetContext) -> ReferenceService:
    return await build(context, ddl=edited_schema(SESSION_VERSION), service_class=VersionedSessions,
                       customise=_second_clock)


async def version_column_concurrency(context: TargetContext) -> ReferenceService:
    return await build(context, ddl=edited_schema(SESSION_VERSION), service_class=VersionedSessions)


class NewestFirstHistory(MemoryStore):
    async def get_memory_history(self, namespace, key):
        return list(reversed(await super().get_memory_history(namespace, key)))


async def history_newest_first(context: TargetContext) -> ReferenceService:
    def customise(service: ReferenceService) -> None:
        service.memory = NewestFirstHistory(service.db, service.clock)

    return await build(context, customise=customise)


def renamed_indexes_ddl() -> str:
    """The reference schema with every index under another name (``ix_`` instead of ``idx_``)."""
    return schema_sql().replace(" idx_", " ix_")


async def renamed_indexes(context: TargetContext) -> ReferenceService:
    return await build(context, ddl=renamed_indexes_ddl())


class ObjectOnlyEvents(ReferenceService):
    """Takes events as objects only and refuses at encode time; JSON text is not accepted at all."""

    async def append_event(self, session_id, event):
        if not isinstance(event, dict):
            raise TypeError(f"event must be a dict, got {type(event).__name__}")
        dump_json(event, "event")  # NaN, sets ... raise InvalidJSONError before anything is written
        return await super().append_event(session_id, event)


async def refuse_at_encode_time(context: TargetContext) -> ReferenceService:
    return await build(context, service_class=ObjectOnlyEvents)


VECTORS_TABLE = (
    "CREATE TABLE IF NOT EXISTS document_embeddings_data (\n"
    "    embedding_id INTEGER PRIMARY KEY REFERENCES document_embeddings(id) ON DELETE CASCADE,\n"
    "    vector BLOB NOT NULL\n);",
    "CREATE VIRTUAL TABLE IF NOT EXISTS document_embeddings_data USING fts5(embedding_id UNINDEXED, vector UNINDEXED);",
)


class VirtualVectorDocuments(DocumentStore):
    """Vectors in an FTS5 virtual table: no foreign key there, so stale vectors are deleted by hand."""

    async def _write(self, conn: aiosqlite.Connection, prepared: list[PreparedDocument]):
        paths = dump_json([doc.file_path for doc in prepared])
        await conn.execute(
            "DELETE FROM document_embeddings_data WHERE embedding_id IN (SELECT e.id FROM document_embeddings AS e "
            "JOIN document_index AS d ON d.id = e.document_id WHERE d.file_path IN (SELECT value FROM json_each(?)))",
            (paths,),
        )
        return await super()._write(conn, prepared)


async def virtual_table_for_vectors(context: TargetContext) -> ReferenceService:
    def customise(service: ReferenceService) -> None:
        service.documents = VirtualVectorDocuments(service.db, service.clock, service.embedder,
                                                   on_change=service.search.invalidate)

    return await build(context, ddl=edited_schema(VECTORS_TABLE), customise=customise)


class ConnectionPerWrite(Database):
    """Every write on a connection of its own, opened with the production pragmas and closed after."""

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        self._ensure_open()
        conn = await connect(self.path)
        try:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                await conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise
        finally:
            await conn.close()


async def connection_per_write(context: TargetContext) -> ReferenceService:
    return await build(context, database=lambda path: open_database(path, database_class=ConnectionPerWrite))


def write_renamed_ddl(folder: Path) -> Path:
    """The expected-schema file the renamed-indexes variant's project points ``[tool.prodready.schema]`` at."""
    path = folder / RENAMED_INDEXES_DDL
    path.write_text(renamed_indexes_ddl(), encoding="utf-8")
    return path

