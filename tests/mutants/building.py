"""Building a reference service with one part changed: its DDL, its pragmas, a store or the service class.

Each mutant runs in its own pytest process, so nothing here patches shared
state: the changed part is passed in, and the rest is the reference's code.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable, Mapping

import aiosqlite

from pytest_prodready.reference import DATABASE_NAME, ReferenceService, schema_sql
from pytest_prodready.reference.connections import DEFAULT_READERS, Database
from pytest_prodready.reference.factory import CORPUS_DIRECTORY
from pytest_prodready.reference.schema import PRAGMAS
from pytest_prodready.reference.seed import DEFAULT_SEED, populate, resolve_volume, seed_initial_data
from pytest_prodready.target import TargetContext

Customise = Callable[[ReferenceService], None]


async def connect(path: Path, pragmas: Mapping[str, Any] = PRAGMAS, timeout_s: float = 5.0) -> aiosqlite.Connection:
    """A connection as the reference opens it, with the given pragmas instead of the production ones.

    ``timeout_s`` is sqlite3's own busy timeout (5 s by default), which PRAGMA busy_timeout then overrides.
    """
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=timeout_s)
    conn.row_factory = sqlite3.Row
    for name, value in pragmas.items():
        await conn.execute(f"PRAGMA {name} = {value}")
    return conn


async def open_database(
    path: Path, writer_pragmas: Mapping[str, Any] = PRAGMAS, reader_pragmas: Mapping[str, Any] | None = None,
    database_class: type[Database] = Database, timeout_s: float = 5.0,
) -> Database:
    writer = await connect(path, writer_pragmas, timeout_s)
    readers = [await connect(path, writer_pragmas if reader_pragmas is None else reader_pragmas, timeout_s)
               for _ in range(DEFAULT_READERS)]
    return database_class(path, writer, readers)


def without_pragma(name: str, **replaced: Any) -> dict[str, Any]:
    return {key: replaced.get(key, value) for key, value in PRAGMAS.items() if key != name or key in replaced}


async def build(
    context: TargetContext,
    *,
    ddl: str | None = None,
    service_class: type[ReferenceService] = ReferenceService,
    database: Callable[[Path], Any] | None = None,
    customise: Customise | None = None,
) -> ReferenceService:
    """Like ``reference.create_target``: a fresh file, schema, seed and volume, with the changed part."""
    workdir = Path(context.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / DATABASE_NAME
    for leftover in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        leftover.unlink(missing_ok=True)
    db = await (database(path) if database else open_database(path))
    service = service_class(db)
    if customise is not None:
        customise(service)
    try:
        await db.writer.executescript(ddl if ddl is not None else schema_sql())
        await seed_initial_data(service)
        volume = resolve_volume(context.options or {})
        if volume:
            await populate(service, volume, workdir / CORPUS_DIRECTORY, DEFAULT_SEED)
    except BaseException:
        await service.close()
        raise
    return service


def edited_schema(*replacements: tuple[str, str]) -> str:
    """The reference DDL with each ``(old, new)`` text replaced; a replacement that matches nothing is a bug here."""
    text = schema_sql()
    for old, new in replacements:
        if old not in text:
            raise ValueError(f"reference schema has no {old!r}")
        text = text.replace(old, new)
    return text
