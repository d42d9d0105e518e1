"""The SQL an in-process target really issues, and the connections it issues it on.

Hand-written SQL in a test proves nothing about the target's own queries, so
while a readiness session runs, ``sqlite3.connect`` and ``aiosqlite.connect``
are wrapped: every connection opened (aiosqlite opens its sqlite3 connection
through ``sqlite3.connect`` in its worker thread) gets a trace callback that
records each statement SQLite runs, with its parameters expanded.  The
smoke suite then explains the target's own read statements and reads the
target's own per-connection pragmas.

Limits: a target that binds ``connect`` before the session (``from sqlite3
import connect``), runs in another process, or installs its own trace
callback is not seen; the suite then says nothing was captured, which never
counts as a pass.  The read-only probe of the checks opens its connection
inside :meth:`StatementLog.ignoring`, so it is never taken for the target's.
"""

from __future__ import annotations

import contextvars
import re
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import aiosqlite

from .sqlite_connections import stop_worker

MAX_DISTINCT = 5000  # distinct statements kept; a runaway generator of SQL text cannot exhaust memory

_IGNORING: contextvars.ContextVar[bool] = contextvars.ContextVar("prodready_capture_ignoring", default=False)
_THREAD = threading.local()

_STRING = re.compile(r"'(?:[^']|'')*'")
_BLOB = re.compile(r"\b[xX]\?")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACE = re.compile(r"\s+")
_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def normalise(sql: str) -> str:
    """One text per statement shape: literals become ``?``, lists of them one ``(?)``, blanks one space."""
    text = _STRING.sub("?", sql)
    text = _BLOB.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _LIST.sub("(?)", text)
    return _SPACE.sub(" ", text).strip()


def is_read(sql: str) -> bool:
    """A query over the target's tables: SELECT or WITH, not a look at SQLite's own catalogue."""
    head = sql.lstrip().split(None, 1)
    if not head or head[0].upper() not in ("SELECT", "WITH"):
        return False
    lowered = sql.lower()
    return "sqlite_master" not in lowered and "sqlite_schema" not in lowered and "pragma_" not in lowered


@dataclass
class CapturedConnection:
    """One connection the target opened: the raw sqlite3 object, its aiosqlite proxy if any."""

    raw: sqlite3.Connection
    label: str
    main_thread: bool
    proxy: Any = None
    wrote: bool = False

    async def pragma(self, name: str) -> Any:
        """The connection's own value (per-connection pragmas differ between connections)."""
        if self.proxy is not None:
            async with self.proxy.execute(f"PRAGMA {name}") as cursor:
                row = await cursor.fetchone()
        elif self.main_thread:
            row = self.raw.execute(f"PRAGMA {name}").fetchone()
        else:
            raise LookupError(f"{self.label} belongs to a thread the suite cannot use")
        return row[0] if row else None


@dataclass
class Window:
    """Statements recorded between two points, in first-seen order."""

    statements: dict[str, str] = field(default_factory=dict)

    def reads(self) -> dict[str, str]:
        """Distinct read statements: shape -> one expanded example."""
        return {shape: sql for shape, sql in self.statements.items() if is_read(sql)}


class StatementLog:
    """Installs the connect wrappers and keeps what they saw; thread-safe (traces fire in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[CapturedConnection] = []
        self._windows: list[Window] = []
        self.total = Window()
        self._saved: tuple[Any, Any] | None = None

    # installation -------------------------------------------------------
    def install(self) -> None:
        if self._saved is not None:
            return
        self._saved = (sqlite3.connect, aiosqlite.connect)
        sqlite_connect, aiosqlite_connect = self._saved
        log = self

        def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = sqlite_connect(*args, **kwargs)
            if not getattr(_THREAD, "ignoring", False):
                log._adopt(conn, str(args[0] if args else kwargs.get("database", "?")))
            return conn

        def aconnect(*args: Any, **kwargs: Any) -> Any:
            proxy = aiosqlite_connect(*args, **kwargs)
            if _IGNORING.get():
                _ignore_in_worker(proxy)
            else:
                log._proxies.append(proxy)
            return proxy

        self._proxies: list[Any] = []
        sqlite3.connect = connect
        aiosqlite.connect = aconnect

    def uninstall(self) -> None:
        if self._saved is None:
            return
        sqlite3.connect, aiosqlite.connect = self._saved
        self._saved = None

    def stop_leaked(self) -> int:
        """Stop the worker thread of each aiosqlite connection the target left open; how many there were.

        aiosqlite's worker is not a daemon thread: a target whose factory (or
        ``close``) raised after connecting would keep the interpreter from
        exiting once the verdict is printed.  The worker closes the connection
        and ends (:func:`~.sqlite_connections.stop_worker`: the loop it ran on may be closed by now).
        """
        leaked = [proxy for proxy in getattr(self, "_proxies", ())
                  if getattr(proxy, "_running", False) and getattr(getattr(proxy, "_thread", None), "is_alive", bool)()]
        for proxy in leaked:
            stop_worker(proxy)
        return len(leaked)

    @contextmanager
    def ignoring(self) -> Iterator[None]:
        """Connections opened in here are the checker's own, not the target's."""
        token = _IGNORING.set(True)
        try:
            yield
        finally:
            _IGNORING.reset(token)

    # recording -----------------------------------------------------------
    def _adopt(self, conn: sqlite3.Connection, database: str) -> None:
        with self._lock:
            captured = CapturedConnection(
                conn, f"connection #{len(self._connections) + 1} ({database})",
                threading.current_thread() is threading.main_thread(),
            )
            self._connections.append(captured)

        def trace(sql: str) -> None:
            self._record(captured, sql)

        conn.set_trace_callback(trace)

    def _record(self, captured: CapturedConnection, sql: str) -> None:
        if sql.lstrip().upper().startswith(_WRITE_WORDS):
            captured.wrote = True
        shape = normalise(sql)
        with self._lock:
            for window in (self.total, *self._windows):
                if shape not in window.statements and len(window.statements) < MAX_DISTINCT:
                    window.statements[shape] = sql

    @contextmanager
    def window(self) -> Iterator[Window]:
        """Collect what is issued inside the block (e.g. by one case's calls)."""
        window = Window()
        with self._lock:
            self._windows.append(window)
        try:
            yield window
        finally:
            with self._lock:
                self._windows.remove(window)

    def connections(self) -> list[CapturedConnection]:
        """Every connection still open, each matched with its aiosqlite proxy when it has one."""
        with self._lock:
            found = list(self._connections)
        proxies = {id(getattr(p, "_connection", None)): p for p in getattr(self, "_proxies", ())}
        live = []
        for captured in found:
            captured.proxy = proxies.get(id(captured.raw))
            if captured.proxy is not None or _is_open(captured.raw):
                live.append(captured)
        return live


def _ignore_in_worker(proxy: Any) -> None:
    """aiosqlite connects in its worker thread: mark that thread while it calls ``sqlite3.connect``."""
    connector = getattr(proxy, "_connector", None)
    if connector is None:
        return

    def ignored_connector() -> sqlite3.Connection:
        _THREAD.ignoring = True
        try:
            return connector()
        finally:
            _THREAD.ignoring = False

    proxy._connector = ignored_connector


def _is_open(conn: sqlite3.Connection) -> bool:
    try:
        conn.total_changes  # noqa: B018 - raises ProgrammingError once closed
    except sqlite3.ProgrammingError:
        return False
    return True
