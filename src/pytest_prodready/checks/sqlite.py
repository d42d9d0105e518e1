"""SQL-level checks of an SQLite database, opened read-only.

The probe never writes: it opens the file with ``mode=ro`` so pointing it at
a production database cannot change a byte of it.  Each check is one query
that SQLite executes; results come back as plain Python values.  The
consistency checks (orphans, duplicates, nulls, ranges and the rules in
``table_rules``) are set-based (an anti-join or a GROUP BY) and read the table
once for count and sample (see :meth:`SQLiteProbe.scan`); never a loop over
rows in Python.  The connection is also ``PRAGMA query_only``, so even a
rule's own SQL (``failed_rows``) cannot write.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote

import aiosqlite

from ..sqlite_connections import close_connection, open_connection
from .finding import DEFAULT_SAMPLE, Finding, sample_then_count

DEFAULT_TIMEOUT_S = 10.0
SQLITE_MAGIC = b"SQLite format 3\x00"
# The probe's own page cache: checks read whole tables and probe parents at random.
CACHE_KIB = 65536

# Pragmas stored in the database file; every other one is a setting of the
# connection that asks, so a checker's own connection cannot vouch for the app's.
FILE_PRAGMAS = frozenset(
    {"journal_mode", "page_size", "auto_vacuum", "user_version", "application_id", "encoding",
     "schema_version", "page_count", "freelist_count"}
)
_PRAGMA_WORDS = {
    "synchronous": {"off": 0, "normal": 1, "full": 2, "extra": 3},
    "auto_vacuum": {"none": 0, "full": 1, "incremental": 2},
    "temp_store": {"default": 0, "file": 1, "memory": 2},
}
_SWITCHES = {"on": 1, "off": 0, "true": 1, "false": 0, "yes": 1, "no": 0}


async def _probe_settings(conn: aiosqlite.Connection) -> None:
    await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    await conn.execute("PRAGMA query_only = 1")  # even a rule's own SQL (failed_rows) cannot write


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


def header_problem(path: Path) -> str | None:
    """Why ``path`` is no SQLite file by its first bytes, or None.

    SQLite itself opens a zero-byte file as an empty database, on which every
    check passes: that is no database to vouch for.  Raises OSError.
    """
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header == SQLITE_MAGIC:
        return None
    return "empty file, not an SQLite database" if not header else "not an SQLite database (bad header)"


def quote_name(name: str) -> str:
    """An SQL identifier, quoted, so any table or column name is safe to interpolate."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """A rule's constant as an SQL literal: SQLite plans ``x NOT IN ('a', 'b')`` better than with bound
    parameters (measured: a 1,000,000-row scan about 20 % faster), so a rule's constants are inlined, quoted."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ProbeError(f"not a number or text: {value!r}")


def pragma_value(name: str, value: Any) -> Any:
    """Comparable form of a pragma value: ``'WAL'`` == ``'wal'``, ``'ON'`` == ``True`` == ``1``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _PRAGMA_WORDS.get(name, {}):
            return _PRAGMA_WORDS[name][word]
        if word in _SWITCHES and name not in ("journal_mode", "locking_mode"):
            return _SWITCHES[word]
        return int(word) if word.lstrip("-").isdigit() else word
    return value


class SQLiteProbe:
    """A read-only connection with the checks the connectivity cases need."""

    def __init__(
        self, path: Path, timeout_s: float = DEFAULT_TIMEOUT_S, connection: aiosqlite.Connection | None = None
    ) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._conn: aiosqlite.Connection | None = connection
        self.owns_connection = connection is None
        self.catalog: tuple[int, Any] | None = None  # (schema_version, catalog.SQLiteCatalog), see catalog.py

    @classmethod
    def over(cls, connection: aiosqlite.Connection, label: str = "connection") -> "SQLiteProbe":
        """A probe on a connection the application opened, to see its own settings; close() leaves it open."""
        return cls(Path(label), connection=connection)

    @property
    def connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise ProbeError("probe is not open")
        return self._conn

    @property
    def label(self) -> str:
        """How reports name this database: ``sqlite app.db``."""
        return f"sqlite {self.path.name}"

    async def open(self) -> "SQLiteProbe":
        """Connect read-only; a file SQLite refuses is a :class:`ProbeError` in SQLite's words, nothing left open."""
        if self._conn is not None:
            return self
        try:
            problem = header_problem(self.path) if self.path.is_file() else None
        except OSError as exc:
            problem = exc.strerror
        if problem:
            raise ProbeError(f"cannot open {self.path} read-only: {problem}")
        try:
            self._conn = await open_connection(
                read_only_uri(self.path), uri=True, timeout_s=self.timeout_s, setup=_probe_settings
            )
        except (sqlite3.Error, asyncio.TimeoutError) as exc:
            raise ProbeError(f"cannot open {self.path} read-only: {exc or 'timed out'}") from exc
        return self

    async def close(self) -> None:
        if self._conn is not None and self.owns_connection:
            await close_connection(self._conn)
        self._conn = None

    async def __aenter__(self) -> "SQLiteProbe":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read query within the probe's timeout."""
        return (await self._execute(sql, params))[1]

    async def records(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Like :meth:`rows`, each row a dict keyed by column name."""
        columns, found = await self._execute(sql, params)
        return [dict(zip(columns, row)) for row in found]

    async def _execute(self, sql: str, params: Sequence[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The timeout covers the whole query; on expiry SQLite is interrupted, not left running."""
        if self._conn is None:
            raise ProbeError("probe is not open")
        conn = self._conn

        async def run() -> tuple[list[str], list[tuple[Any, ...]]]:
            async with conn.execute(sql, params) as cursor:
                found = list(await cursor.fetchall())
                return [column[0] for column in cursor.description or ()], found

        try:
            return await asyncio.wait_for(run(), self.timeout_s)
        except asyncio.TimeoutError as exc:
            await conn.interrupt()
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

    async def offenders(self, count_sql: str, sample_sql: str, params: Sequence[Any] = (),
                        limit: int = DEFAULT_SAMPLE) -> Finding:
        """The sample first, asking ``LIMIT n + 1`` rows: n or fewer are every offender.

        For queries :meth:`scan` cannot resume (a user's SELECT): the count
        query runs only when there are more offenders than the sample shows.
        """
        async def count() -> int:
            return (await self.rows(count_sql, params))[0][0]

        found, sample = await sample_then_count(
            lambda n: self.records(f"{sample_sql} LIMIT ?", (*params, n)), count, limit)
        return Finding(found, sample)

    async def scan(self, table: str, predicate: str, shown: Sequence[str], params: Sequence[Any] = (),
                   limit: int = DEFAULT_SAMPLE, where: str | None = None, key: str | None = None) -> Finding:
        """Rows of ``table`` where ``predicate`` holds: count and sample in one pass.

        The sample is read in a fixed order with ``LIMIT n + 1``: ``(key,
        rowid)`` when an index on ``key`` (a column the predicate keeps
        non-NULL) streams it in that order, as it streams the bare count,
        else rowid order.  When there are more offenders, the count resumes
        after the n-th sampled row (``(key, rowid) > (?, ?)`` is a seek), so
        the rows are read once, not twice.  When neither order comes without
        a sort (or the table has no rowid), it falls back to sample-then-count.
        """
        body = f"FROM {quote_name(table)} WHERE ({predicate})" + (f" AND ({where})" if where else "")
        order = await self._streamed_order(body, params, key) if limit else None
        columns = ", ".join(["rowid AS rowid", *shown])
        if order is None:
            return await self.offenders(f"SELECT count(*) {body}", f"SELECT {columns} {body}", params, limit)
        positions = [f"{column} AS prodready_at_{i}" for i, column in enumerate(order)]
        sample = await self.records(f"SELECT {columns}, {', '.join(positions)} {body} ORDER BY {', '.join(order)} "
                                    "LIMIT ?", (*params, limit + 1))
        at = [[row.pop(f"prodready_at_{i}") for i in range(len(order))] for row in sample]
        if len(sample) <= limit:
            return Finding(len(sample), sample)
        after = f"({', '.join(order)}) > ({', '.join('?' for _ in order)})"
        (rest,), = await self.rows(f"SELECT count(*) {body} AND {after}", (*params, *at[limit - 1]))
        return Finding(limit + rest, sample[:limit])

    async def _streamed_order(self, body: str, params: Sequence[Any], key: str | None) -> list[str] | None:
        """The first of ``(key, rowid)``, ``(rowid)`` SQLite can stream without sorting, or None."""
        for order in ([key, "rowid"], ["rowid"]) if key else (["rowid"],):
            try:
                plan = await self.query_plan(f"SELECT rowid {body} ORDER BY {', '.join(order)} LIMIT 1", params)
            except ProbeError as exc:
                if "rowid" in str(exc):  # WITHOUT ROWID table or a view
                    return None
                raise
            if not any("TEMP B-TREE" in step for step in plan):
                return order
        return None

    async def parent_may_be_null(self, table: str, column: str) -> bool:
        """False for a rowid alias (INTEGER PRIMARY KEY) or a NOT NULL column: no NULL to filter out."""
        found = await self.rows("SELECT type, \"notnull\", pk FROM pragma_table_info(?) WHERE name = ?", (table, column))
        if not found:
            return True
        declared, notnull, pk = found[0]
        keys = await self.rows("SELECT count(*) FROM pragma_table_info(?) WHERE pk > 0", (table,))
        rowid_alias = pk == 1 and keys[0][0] == 1 and str(declared).upper() == "INTEGER"
        return not (notnull or rowid_alias)

    async def integrity(self, quick: bool = False, limit: int = DEFAULT_SAMPLE) -> Finding:
        """integrity_check (or quick_check) as a finding, with SQLite's own words in the note.

        A badly damaged file may make SQLite refuse the pragma itself
        ("database disk image is malformed"): that refusal is the finding.  A
        lock or a timeout says nothing about the file, so it stays an error.
        """
        try:
            messages = [" / ".join(m.splitlines()) for m in await self.integrity_check(quick) if m != "ok"]
        except ProbeError as exc:
            if not _is_damage(exc):
                raise
            messages = [str(exc)]
        shown = "; ".join(messages[:limit])
        return Finding(len(messages), (), {"messages": messages[:limit]}, f"SQLite: {shown}" if messages else "")

    async def foreign_key_violations(self, table: str | None = None, limit: int = DEFAULT_SAMPLE) -> Finding:
        """PRAGMA foreign_key_check counted per (table, parent), with a bounded sample.

        The sample asks ``limit + 1`` rows first: that many or fewer are every
        violation, so the counts come from them and the pragma (which reads
        every child row) runs once.  With more, the sample stopped early, and
        one grouped pass counts them all (no copy of the violations is kept).
        """
        source, params = ("pragma_foreign_key_check(?)", (table,)) if table else ("pragma_foreign_key_check()", ())
        rows = await self.rows(f'SELECT "table", rowid, parent, fkid FROM {source} LIMIT ?', (*params, limit + 1))
        sample = [{"table": child, "rowid": rowid, "parent": parent, "fkid": fkid}
                  for child, rowid, parent, fkid in rows[:limit]]
        if len(rows) <= limit:
            counted = Counter((child, parent) for child, _, parent, _ in rows)
            per_table = sorted((child, parent, count) for (child, parent), count in counted.items())
        else:
            per_table = await self._violations_per_key(source, params, table)
        total = sum(count for *_, count in per_table)
        listed = ", ".join(f"{child} -> {parent}: {count}" for child, parent, count in per_table)
        details = {"per_table": [{"table": c, "parent": p, "violations": n} for c, p, n in per_table]}
        return Finding(total, sample, details, f"per table: {listed}" if total else "")

    async def _violations_per_key(self, source: str, params: tuple[Any, ...], table: str | None) -> list[tuple]:
        """Violations per (child, parent) in one pass of the pragma.

        The pairs come from the declared keys, so each is a filtered count and
        SQLite builds no temporary B-tree to group 100,000s of rows; a total
        that the pairs do not add up to falls back to grouping.
        """
        pairs = await self.rows(
            'SELECT DISTINCT m.name, k."table" FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS k '
            "WHERE m.type = 'table'" + (" AND m.name = ?" if table else "") + " ORDER BY 1, 2", (table,) if table else ())
        filters = "".join(', count(*) FILTER (WHERE "table" = ? AND parent = ?)' for _ in pairs)
        counts = await self.rows(f"SELECT count(*){filters} FROM {source}",
                                 (*[name for pair in pairs for name in pair], *params))
        total, *each = counts[0]
        if sum(each) == total:
            return [(child, parent, count) for (child, parent), count in zip(pairs, each) if count]
        grouped = await self.rows(f'SELECT "table", parent, count(*) FROM {source} GROUP BY 1, 2', params)
        return sorted((child, parent, count) for child, parent, count in grouped)

    async def missing(self, kind: str, names: Sequence[str]) -> Finding:
        """Expected tables (``kind='table'``) or indexes absent from the schema."""
        present = await (self.tables() if kind == "table" else self.indexes())
        absent = [name for name in names if name not in present]
        return Finding(len(absent), [{kind: name} for name in absent])

    async def pragma_mismatches(self, expected: Mapping[str, Any]) -> Finding:
        """Pragmas whose value differs; per-connection ones only on a connection the app opened."""
        if self.owns_connection:
            settings = sorted(set(expected) - FILE_PRAGMAS)
            if settings:
                raise ProbeError(
                    f"{', '.join(settings)}: set per connection, so this probe's own connection cannot show the "
                    "application's value; pass the application's connection instead of a path"
                )
        wrong = []
        for name, want in expected.items():
            actual = await self.pragma(name)
            if pragma_value(name, actual) != pragma_value(name, want):
                wrong.append({"pragma": name, "expected": want, "actual": actual})
        return Finding(len(wrong), wrong)

    async def orphans(self, child: str, column: str, parent: str, parent_column: str,
                      limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
        """Child rows whose non-NULL reference matches no parent row: an anti-join.

        ``NOT IN`` the parent column: on a rowid alias or an indexed column
        SQLite probes the parent table itself; NULL parents (which would make
        NOT IN never true) are filtered out only where the schema allows them,
        since the filter makes SQLite build a list of every parent key first.
        """
        col, key = quote_name(column), quote_name(parent_column)
        parents = f"SELECT {key} FROM {quote_name(parent)}"
        if await self.parent_may_be_null(parent, parent_column):
            parents += f" WHERE {key} IS NOT NULL"
        predicate = f"{quote_name(child)}.{col} IS NOT NULL AND {quote_name(child)}.{col} NOT IN ({parents})"
        return await self.scan(child, predicate, [col], limit=limit, where=where, key=col)

    async def duplicates(self, table: str, columns: Sequence[str], limit: int = DEFAULT_SAMPLE,
                         where: str | None = None) -> Finding:
        """Groups of rows sharing a key (rows with a NULL in the key are distinct, as UNIQUE has it).

        ``where`` narrows the rows first: one live version per key is
        ``where = "deleted_at IS NULL"``.  Count and sample come from one
        grouping pass: ``count(*) OVER ()`` counts the groups the LIMIT cuts.
        """
        key = ", ".join(quote_name(c) for c in columns)
        present = " AND ".join(f"{quote_name(c)} IS NOT NULL" for c in columns)
        if where:
            present += f" AND ({where})"
        found = await self.records(
            f"SELECT {key}, count(*) AS copies, count(*) OVER () AS prodready_groups FROM {quote_name(table)} "
            f"WHERE {present} GROUP BY {key} HAVING count(*) > 1 ORDER BY {key} LIMIT ?", (max(limit, 1),))
        groups = found[0]["prodready_groups"] if found else 0
        return Finding(groups, [{k: v for k, v in row.items() if k != "prodready_groups"} for row in found[:limit]])

    async def nulls(self, table: str, columns: Sequence[str], blank: bool = False,
                    limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
        """Rows with a NULL in any of the columns; with ``blank``, empty or all-space text too."""
        tests = [f"{quote_name(c)} IS NULL" + (f" OR trim({quote_name(c)}) = ''" if blank else "") for c in columns]
        return await self.scan(table, " OR ".join(tests), [quote_name(c) for c in columns], limit=limit, where=where)

    async def out_of_range(self, table: str, column: str, low: float | None = None, high: float | None = None,
                           limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
        """Rows whose non-NULL value is below ``low`` or above ``high`` (text sorts above any number)."""
        col = quote_name(column)
        tests = [f"{col} {op} {sql_literal(bound)}" for op, bound in (("<", low), (">", high)) if bound is not None]
        # NULL < x is NULL, so NULL passes without an IS NOT NULL test on every row (which costs ~10 %)
        return await self.scan(table, " OR ".join(tests), [col], (), limit, where, key=col)


def _is_damage(exc: ProbeError) -> bool:
    """SQLite reported the file itself as damaged (SQLITE_CORRUPT, SQLITE_NOTADB), not busy or read-only."""
    cause = exc.__cause__
    return isinstance(cause, sqlite3.DatabaseError) and not isinstance(cause, sqlite3.OperationalError)


def full_scans(plan: Sequence[str]) -> list[str]:
    """Plan steps that walk a whole table or index instead of searching it.

    ``SCAN t USING INDEX i`` still visits every row (in index order), so a
    lookup that needs an index must show ``SEARCH`` steps only.
    """
    return [step for step in plan if step.startswith("SCAN ") and step != "SCAN CONSTANT ROW"]
