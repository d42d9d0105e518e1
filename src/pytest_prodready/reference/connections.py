"""One serialised writer plus a pool of readers over a WAL database.

SQLite admits a single writer at a time, so writes queue on an asyncio lock
instead of spinning on SQLITE_BUSY; under WAL readers never block the writer
nor each other, so reads get their own connections and run in parallel.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from ..sqlite_connections import close_connection, open_connection
from .errors import ServiceClosedError
from .schema import apply_pragmas

DEFAULT_READERS = 4


class Database:
    """Connections to one SQLite file; every connection carries the production pragmas."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, readers: Sequence[aiosqlite.Connection]):
        self.path = path
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._all_readers = tuple(readers)
        self._idle_readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for reader in readers:
            self._idle_readers.put_nowait(reader)
        self._closed = False

    @classmethod
    async def open(cls, path: Path, readers: int = DEFAULT_READERS) -> Database:
        """Open the writer first: it is the one that switches the file to WAL."""
        writer = await _connect(path)
        pool: list[aiosqlite.Connection] = []
        try:
            for _ in range(max(1, readers)):
                pool.append(await _connect(path))
        except BaseException:
            for conn in (writer, *pool):
                await close_connection(conn)
            raise
        return cls(path, writer, pool)

    @property
    def writer(self) -> aiosqlite.Connection:
        """The raw writer, for schema setup outside the transaction helper."""
        self._ensure_open()
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """An IMMEDIATE transaction on the writer: committed on success, rolled back on error.

        IMMEDIATE takes SQLite's write lock up front, so a read-then-write
        inside the block cannot be invalidated by another process's commit.
        """
        self._ensure_open()
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Borrow an idle reader; waits when all of them are busy."""
        self._ensure_open()
        conn = await self._idle_readers.get()
        try:
            yield conn
        finally:
            self._idle_readers.put_nowait(conn)

    async def close(self) -> None:
        """Close every connection; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for conn in (*self._all_readers, self._writer):
            await close_connection(conn)

    def _ensure_open(self) -> None:
        if self._closed:
            raise ServiceClosedError(f"database {self.path} is closed")


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
    """Run a statement to completion: a half-read cursor would pin a WAL snapshot."""
    async with conn.execute(sql, tuple(params)) as cursor:
        return list(await cursor.fetchall())


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
    """The first row of :func:`fetch_all`, or None."""
    rows = await fetch_all(conn, sql, params)
    return rows[0] if rows else None


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE), never implicit.
    return await open_connection(path, isolation_level=None, setup=_production_settings)


async def _production_settings(conn: aiosqlite.Connection) -> None:
    conn.row_factory = sqlite3.Row
    await apply_pragmas(conn)
