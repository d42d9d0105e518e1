"""The target's own SQL and connections are captured; the checker's probe is not taken for the target's."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import aiosqlite
import pytest

from pytest_prodready.checks.query_plans import unindexed_steps
from pytest_prodready.checks.sqlite import SQLiteProbe
from pytest_prodready.sqlite_connections import open_connection
from pytest_prodready.statement_capture import StatementLog, is_read, normalise


def test_statements_of_one_shape_are_one():
    assert normalise("SELECT * FROM t WHERE a = 'x''y' AND b = 12 AND c IN (1, 2, 3)") == (
        "SELECT * FROM t WHERE a = ? AND b = ? AND c IN (?)"
    )
    assert is_read(" select 1") and not is_read("INSERT INTO t VALUES (1)")
    assert not is_read("SELECT name FROM sqlite_master")


def test_plans_with_a_full_scan_are_flagged_and_a_sort_after_a_search_is_not():
    assert unindexed_steps(["SEARCH t USING INDEX i (a=?)", "USE TEMP B-TREE FOR ORDER BY"]) == []
    assert unindexed_steps(["SCAN t USING INDEX i", "USE TEMP B-TREE FOR ORDER BY"]) == [
        "SCAN t USING INDEX i", "USE TEMP B-TREE FOR ORDER BY"]
    assert unindexed_steps(["SCAN json_each VIRTUAL TABLE INDEX 1:", "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)"]) == []


def test_the_targets_connections_and_statements_are_captured_and_the_probe_is_not(tmp_path):
    path = tmp_path / "app.db"
    sqlite3.connect(path).executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);").close()
    log = StatementLog()

    async def scenario():
        log.install()
        try:
            app = await aiosqlite.connect(path)
            await app.execute("PRAGMA busy_timeout = 1234")
            with log.window() as seen:
                await app.execute("INSERT INTO t (name) VALUES (?)", ("alice",))
                await (await app.execute("SELECT * FROM t WHERE id = ?", (1,))).fetchall()
            with log.ignoring():
                probe = await SQLiteProbe(path).open()
            await probe.rows("SELECT count(*) FROM t")
            connections = log.connections()
            busy = [await conn.pragma("busy_timeout") for conn in connections]
            await probe.close()
            await app.close()
            return seen, connections, busy
        finally:
            log.uninstall()

    seen, connections, busy = asyncio.run(scenario())
    assert list(seen.reads().values()) == ["SELECT * FROM t WHERE id = 1"]  # expanded, as SQLite ran it
    assert len(connections) == 1 and connections[0].wrote and busy == [1234]
    assert not any("count(*)" in sql for sql in log.total.statements.values())
    assert sqlite3.connect is not None and aiosqlite.connect.__module__ == "aiosqlite.core"  # uninstalled


def test_a_connection_the_target_left_open_is_stopped_after_its_event_loop_closed(tmp_path, monkeypatch):
    """statement_log's teardown runs after pytest-asyncio closed the session loop the target connected on.

    aiosqlite's own ``stop()`` hands its worker a future of that closed loop,
    and the worker then raises "Event loop is closed" in its thread.
    """
    thread_errors: list[BaseException | None] = []
    monkeypatch.setattr("threading.excepthook", lambda args: thread_errors.append(args.exc_value))
    log = StatementLog()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        log.install()
        try:
            leaked = loop.run_until_complete(aiosqlite.connect(tmp_path / "app.db"))  # never closed: a target's leak
        finally:
            log.uninstall()
        loop.close()
        assert log.stop_leaked() == 1
        leaked._thread.join(5)
    finally:
        asyncio.set_event_loop(None)
    assert not leaked._thread.is_alive() and leaked._connection is None
    assert thread_errors == []


def test_a_connect_that_failed_leaves_no_worker_thread_behind(tmp_path, monkeypatch):
    """aiosqlite asks a failed connect's worker to stop and does not wait: a loop closed before the worker
    answered (a short test's) made the worker raise "Event loop is closed" in its thread."""
    thread_errors: list[BaseException | None] = []
    monkeypatch.setattr("threading.excepthook", lambda args: thread_errors.append(args.exc_value))
    before = set(threading.enumerate())

    async def failed_connects() -> list[threading.Thread]:
        for _ in range(20):
            with pytest.raises(sqlite3.OperationalError):
                await open_connection(f"file:{tmp_path / 'absent.db'}?mode=ro", uri=True)
        return [thread for thread in threading.enumerate() if thread not in before and thread.is_alive()]

    left = asyncio.run(failed_connects())  # asyncio.run closes its loop as soon as the coroutine returns
    for thread in left:
        thread.join(5)
    assert left == [] and thread_errors == []
