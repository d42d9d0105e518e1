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


async def close_connection(conn: aiosqlite.Connection, wait_s: float = 5.0) -> None:
    """Close ``conn`` and wait, without blocking the loop, until its worker thread has ended.

    aiosqlite stops the thread even when SQLite's close fails.  A connect
    that failed or was cancelled asks the thread to stop but does not wait
    for it: if the loop closed first (a short test's), the thread raised
    "Event loop is closed" when it answered.  ``wait_s`` bounds the wait.
    """
    try:
        await conn.close()
    finally:
        await _worker_ended(conn, wait_s)


async def _worker_ended(conn: aiosqlite.Connection, wait_s: float) -> None:
    worker = getattr(conn, "_thread", None)  # aiosqlite has no public handle on it
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while worker is not None and worker.is_alive() and loop.time() < deadline:
        await asyncio.sleep(0.001)


def stop_worker(conn: aiosqlite.Connection, timeout_s: float = 5.0) -> None:
    """End the worker thread of a connection someone else left open, from synchronous code.

    aiosqlite's ``stop()`` gives the worker a future of whatever loop
    ``asyncio.get_event_loop()`` returns: at a session's end that is the
    closed session loop, and the worker raises "Event loop is closed" in
    its thread.  Here that loop is a short-lived one that stays open until
    the thread has ended (as :func:`close_connection` waits), or
    ``timeout_s`` passed: a worker stuck in a query does not hold up the
    run's end.  Inside a running loop, the running loop's future is left to it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        conn.stop()
        return

    async def stopped() -> None:
        conn.stop()
        await _worker_ended(conn, timeout_s)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(stopped())
    finally:
        loop.close()
