"""Every aiosqlite connection the plugin opens is opened and closed here, on every path.

aiosqlite runs each connection on a worker thread that is not a daemon: a
connection nobody closes keeps the interpreter alive after the verdict
prints, and CI never gets an exit code.  So nothing else calls
``aiosqlite.connect``: :func:`open_connection` hands back a connection that
is connected *and* set up, or closes it before re-raising, and
:func:`close_connection` is how its owner lets it go.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiosqlite

Setup = Callable[[aiosqlite.Connection], Awaitable[None]]


async def open_connection(
    database: str | Path, *, timeout_s: float | None = None, setup: Setup | None = None, **options: Any
) -> aiosqlite.Connection:
    """Connect and run ``setup``; on any failure the connection is closed, its thread ended, and the error raised.

    ``timeout_s`` is SQLite's busy timeout and also bounds the connect; the
    other ``options`` go to :func:`sqlite3.connect`.
    """
    if timeout_s is not None:
        options["timeout"] = timeout_s
    conn = aiosqlite.connect(database, **options)
    try:
        await (asyncio.wait_for(_connected(conn), timeout_s) if timeout_s is not None else conn)
        if setup is not None:
            await setup(conn)
    except BaseException:
        with suppress(Exception):  # the error that stopped the setup is the one to report
            await close_connection(conn)
        raise
    return conn


async def _connected(conn: aiosqlite.Connection) -> aiosqlite.Connection:
    return await conn


async def close_connection(conn: aiosqlite.Connection) -> None:
    """Close ``conn``; aiosqlite stops its worker thread even when SQLite's close fails.

    A connect that failed or was cancelled has already stopped the thread,
    and closing it again does nothing.
    """
    await conn.close()
