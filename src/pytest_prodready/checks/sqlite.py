"""SQL-level checks of an SQLite database, opened read-only.

The probe never writes: it opens the file with ``mode=ro`` so pointing it at
a production database cannot change a byte of it.  Each check is one query
that SQLite executes; results come back as plain Python values.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import quote

import aiosqlite

DEFAULT_TIMEOUT_S = 10.0


class ProbeError(Exception):
    """The database cannot be opened or a check cannot run; one-line message."""


@dataclass(frozen=True)
class ForeignKeyViolation:
    table: str
    rowid: int | None
    parent: str
    fkid: int


def read_only_uri(path: Path) -> str:
    """An SQLite URI that opens ``path`` without permission to write."""
    return f"file:{quote(str(path.resolve()))}?mode=ro"


class SQLiteProbe:
    """A read-only connection with the checks the connectivity cases need."""

    def __init__(self, path: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._conn: aiosqlite.Connection | None = None

    async def open(self) -> "SQLiteProbe":
        try:
            self._conn = await asyncio.wait_for(
                aiosqlite.connect(read_only_uri(self.path), uri=True, timeout=self.timeout_s),
                self.timeout_s,
            )
        except (sqlite3.Error, asyncio.TimeoutError) as exc:
            raise ProbeError(f"cannot open {self.path} read-only: {exc or 'timed out'}") from exc
        return self

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> "SQLiteProbe":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read query within the probe's timeout."""
        if self._conn is None:
            raise ProbeError("probe is not open")
        try:
            async with self._conn.execute(sql, params) as cursor:
                return list(await asyncio.wait_for(cursor.fetchall(), self.timeout_s))
        except asyncio.TimeoutError as exc:
            raise ProbeError(f"query timed out after {self.timeout_s:g} s: {sql.split()[0]} ...") from exc
        except sqlite3.DatabaseError as exc:
            raise ProbeError(f"{self.path.name}: {exc}") from exc

    async def ping(self) -> int:
        """``SELECT 1`` through the connection: proves it answers."""
        (value,), = await self.rows("SELECT 1")
        return value

    async def tables(self) -> set[str]:
        found = await self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in found}

    async def indexes(self) -> set[str]:
        """Named indexes only: SQLite's automatic ones are not part of a schema."""
        found = await self.rows(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'"
        )
        return {name for (name,) in found}

    async def integrity_check(self, quick: bool = False) -> list[str]:
        """SQLite's own messages; ``['ok']`` when the file is sound."""
        pragma = "quick_check" if quick else "integrity_check"
        return [message for (message,) in await self.rows(f"PRAGMA {pragma}")]

    async def foreign_key_check(self) -> list[ForeignKeyViolation]:
        return [ForeignKeyViolation(*row) for row in await self.rows("PRAGMA foreign_key_check")]

    async def pragma(self, name: str) -> Any:
        if not name.isidentifier():
            raise ProbeError(f"not a pragma name: {name!r}")
        found = await self.rows(f"PRAGMA {name}")
        return found[0][0] if found else None

    async def query_plan(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        """The ``detail`` column of EXPLAIN QUERY PLAN, one line per step."""
        return [row[-1] for row in await self.rows(f"EXPLAIN QUERY PLAN {sql}", params)]


def full_scans(plan: Sequence[str]) -> list[str]:
    """Plan steps that walk a whole table or index instead of searching it.

    ``SCAN t USING INDEX i`` still visits every row (in index order), so a
    lookup that needs an index must show ``SEARCH`` steps only.
    """
    return [step for step in plan if step.startswith("SCAN ") and step != "SCAN CONSTANT ROW"]
