"""Damaged and busy SQLite files: every run ends, with exit 1, one NO-GO reason in SQLite's words, no traceback.

Each case builds a real file SQLite refuses (truncated, a damaged schema
page, a hot journal left by a killed writer, an exclusive lock held past
``query_timeout``, a WAL database in a folder the run cannot write) and runs
pytest on it in a subprocess under a hard timeout, three ways: as
``--prodready-sqlite``, as a consistency-rule store, and as the database of
a target.  Before the fix the first ways hung for ever after the verdict
printed (aiosqlite's worker thread of a connection nobody closed).

The hard timeout catches a hang (which lasts for ever); it allows for
interpreter start-up on a loaded two-core machine (15-20 s seen at a load
average of 19), so what the plugin itself spends on a refused file is held to
``query_timeout`` + 10 s separately, in process, on the same check the run
makes before any case.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Callable, Iterator

import pytest

from pytest_prodready.preflight import database_refusal

from .sessions import BASE_TOML, SUITES

QUERY_TIMEOUT_S = 1
BUDGET_S = QUERY_TIMEOUT_S + 10
HARD_TIMEOUT_S = 120
TIMEOUT_TOML = f"[tool.prodready]\nquery_timeout = {QUERY_TIMEOUT_S}\n"
CONNECTIVITY = SUITES / "smoke" / "test_connectivity.py"

KILLED_WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")  # a one-page cache spills the change into the file before COMMIT
conn.execute("BEGIN")
conn.execute("UPDATE notes SET body = upper(body) || 'changed'")
print("written", flush=True)
time.sleep(60)
"""

ADAPTER = '''
import asyncio
import os
from pathlib import Path

from pytest_prodready.reference import create_target


async def damaged(context):
    """The reference service, naming a damaged file as its database."""
    target = await create_target(context)
    target.database_path = Path(os.environ["DAMAGED_DB"])
    return target
'''


def build_database(path: Path, wal: bool = False) -> Path:
    """A sound file of a few hundred pages: one table, one index."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [("x" * 200,) for _ in range(2000)])
    conn.execute("CREATE INDEX idx_notes_body ON notes (body)")
    conn.commit()
    conn.close()
    return path


def truncated(folder: Path) -> Path:
    path = build_database(folder / "truncated.db")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def damaged_schema_page(folder: Path) -> Path:
    """Page 1 past the 100-byte file header holds sqlite_master: overwrite it."""
    path = build_database(folder / "schema.db")
    data = bytearray(path.read_bytes())
    data[100:4096] = bytes(range(256)) * 15 + bytes(range(156))
    path.write_bytes(bytes(data))
    return path


def hot_journal(folder: Path) -> Path:
    """A writer killed mid-transaction leaves a journal that only a writer may roll back."""
    path = build_database(folder / "hot.db")
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "written"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert path.with_name("hot.db-journal").stat().st_size > 0
    return path


def locked(folder: Path) -> Path:
    return build_database(folder / "locked.db")


def wal_in_read_only_folder(folder: Path) -> Path:
    """A WAL database without its -shm, in a folder the run is not allowed to write."""
    (folder / "ro").mkdir()
    return build_database(folder / "ro" / "wal.db", wal=True)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Another connection holds EXCLUSIVE for the whole run: longer than query_timeout."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def read_only_folder_command(folder: Path, command: list[str]) -> list[str]:
    """Run ``command`` where ``folder`` cannot be written.

    As root, permissions do not stop a write: the folder is bind-mounted
    read-only in a mount namespace of the run's own (it ends with the run).
    Otherwise the folder's mode is enough.
    """
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    quoted = " ".join(_shell_quote(part) for part in command)
    where = _shell_quote(str(folder))
    script = f"mount --bind {where} {where} && mount -o remount,bind,ro {where} && exec {quoted}"
    return ["unshare", "--mount", "sh", "-c", script]


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# name -> (builder, what SQLite says)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated": (truncated, "database disk image is malformed"),
    "damaged schema page": (damaged_schema_page, "database disk image is malformed"),
    "hot journal": (hot_journal, "attempt to write a readonly database"),
    "locked past query_timeout": (locked, "database is locked"),
    "WAL in a read-only folder": (wal_in_read_only_folder, "unable to open database file"),
}


def run(pytester: pytest.Pytester, name: str, path: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest in a subprocess, under the hard timeout, with the case's lock or read-only folder."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    if name == "WAL in a read-only folder":
        command = read_only_folder_command(path.parent, command)
    env = {**os.environ, "DAMAGED_DB": str(path)}
    lock = exclusive_lock(path) if name == "locked past query_timeout" else nullcontext()
    with lock:
        try:
            return subprocess.run(command, cwd=pytester.path, env=env, capture_output=True, text=True,
                                  timeout=HARD_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            shown = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
            pytest.fail(f"{name}: the run did not end within {HARD_TIMEOUT_S} s (hang)\n{shown}", pytrace=False)
        finally:
            if os.geteuid() != 0 and name == "WAL in a read-only folder":
                path.parent.chmod(0o755)


def assert_one_reason(result: subprocess.CompletedProcess, words: str) -> str:
    """Exit 1, no traceback, one NO-GO reason; returns it."""
    text = result.stdout + "\n" + result.stderr
    assert result.returncode == 1, text
    assert "Traceback" not in text, text
    reasons = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("reason: ")]
    assert len(reasons) == 1, text
    assert "READINESS: NO-GO" in result.stdout
    return reasons[0]


def store_rule(path: Path) -> str:
    """A consistency-rule store on ``path`` and one rule on it."""
    return f"""
[tool.prodready.consistency.stores.app]
sqlite = {str(path)!r}
[tool.prodready.consistency.rules.app_is_sound]
check = "integrity_check"
store = "app"
"""


@pytest.fixture
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path, str]:
    name = request.param
    build, words = CASES[name]
    return name, build(tmp_path), words


cases = pytest.mark.parametrize("damaged", list(CASES), indirect=True)


@pytest.mark.parametrize("damaged", [name for name in CASES if name != "WAL in a read-only folder"], indirect=True)
def test_the_check_before_the_run_ends_within_query_timeout(damaged):
    """The same check the run makes; the read-only folder needs a mount namespace, so it is timed by the run only."""
    name, path, words = damaged
    with exclusive_lock(path) if name == "locked past query_timeout" else nullcontext():
        started = time.monotonic()
        reason = asyncio.run(database_refusal(path, QUERY_TIMEOUT_S))
        took = time.monotonic() - started
    assert reason == f"--prodready-sqlite {path}: SQLite cannot read it: {words}"
    assert took <= BUDGET_S


@cases
def test_a_prodready_sqlite_file_sqlite_refuses_is_one_no_go_reason(pytester: pytest.Pytester, damaged):
    name, path, words = damaged
    pytester.makepyprojecttoml(BASE_TOML + TIMEOUT_TOML)
    (pytester.path / "test_connectivity.py").write_text(CONNECTIVITY.read_text())
    result = run(pytester, name, path, f"--prodready-sqlite={path}")
    assert assert_one_reason(result, words) == f"reason: --prodready-sqlite {path}: SQLite cannot read it: {words}"


@cases
def test_a_consistency_store_sqlite_refuses_fails_its_rule_in_one_line(pytester: pytest.Pytester, damaged):
    name, path, words = damaged
    pytester.makepyprojecttoml(BASE_TOML + TIMEOUT_TOML + store_rule(path))
    result = run(pytester, name, path)
    assert assert_one_reason(result, words) == "reason: consistency / app_is_sound: 1 failed"
    failed = [line for line in result.stdout.splitlines() if line.startswith("  FAILED ")]  # the verdict's, untruncated
    assert len(failed) == 1 and words in failed[0], result.stdout


@pytest.mark.parametrize("damaged", ["truncated"], indirect=True)
def test_a_target_database_sqlite_refuses_fails_the_cases_that_read_it(pytester: pytest.Pytester, damaged):
    """No --prodready-sqlite: the sqlite_db fixture opens the target's own file, and must let it go."""
    name, path, words = damaged
    pytester.makepyprojecttoml(BASE_TOML + TIMEOUT_TOML + """
[tool.prodready.volume]
sessions = 2
memories = 5
documents = 1
[tool.prodready.require.smoke]
connectivity = 5
""")
    pytester.makepyfile(adapters=ADAPTER)
    (pytester.path / "test_connectivity.py").write_text(CONNECTIVITY.read_text())
    result = run(pytester, name, path, "--prodready-target=adapters:damaged")
    assert assert_one_reason(result, words) == "reason: smoke / connectivity: 5 errors"
    assert words in result.stdout


@pytest.mark.parametrize(
    ("content", "words"), [(b"", "empty file, not an SQLite database"), (b"not a database\n" * 10, "not an SQLite database")]
)
def test_a_store_that_is_not_an_sqlite_file_fails_its_rule(pytester: pytest.Pytester, tmp_path: Path, content, words):
    """A zero-byte file would read as an empty database: every integrity check passes on nothing."""
    path = tmp_path / "store.db"
    path.write_bytes(content)
    pytester.makepyprojecttoml(BASE_TOML + TIMEOUT_TOML + store_rule(path))
    result = run(pytester, "not sqlite", path)
    assert assert_one_reason(result, words) == "reason: consistency / app_is_sound: 1 failed"
    assert words in result.stdout
