"""Building the reference target: a fresh seeded database, or an existing file."""

from __future__ import annotations

import os
from pathlib import Path

from pytest_prodready.target import TargetContext, TargetLoadError, protocol_methods

from .connections import DEFAULT_READERS, Database
from .schema import apply_schema
from .seed import DEFAULT_SEED, populate, resolve_volume, seed_initial_data
from .service import ReferenceService
from .slowdown import slow_down, slowdown_from

DATABASE_NAME = "abathur.db"
CORPUS_DIRECTORY = "corpus"


async def open_service(path: Path, *, create: bool = False, readers: int = DEFAULT_READERS) -> ReferenceService:
    """Open ``path``; with ``create`` the file must not exist and gets the schema and seed data.

    Without ``create`` the file is used as it is: no DDL, no seed rows, so
    pointing this at someone's real database never modifies its schema.
    """
    path = Path(path)
    if create and path.exists():
        raise FileExistsError(f"{path} already exists")
    if not create and not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    service = ReferenceService(await Database.open(path, readers))
    if create:
        try:
            await apply_schema(service.db.writer)
            await seed_initial_data(service)
        except BaseException:
            await service.close()
            raise
    return service


async def create_target(context: TargetContext) -> ReferenceService:
    """The suite's factory: ``workdir/abathur.db`` from scratch, populated to ``options['volume']``.

    Options: ``volume`` (see :func:`~.seed.resolve_volume`), ``readers``
    (reader pool size, default 4) and ``seed`` (dataset RNG seed).
    ``PRODREADY_REFERENCE_SLOWDOWN=0.3`` makes every operation 30 % slower
    (a known regression, for measuring the regression gate; :mod:`.slowdown`).
    """
    try:
        slowdown = slowdown_from(os.environ)
    except ValueError as exc:
        raise TargetLoadError(str(exc)) from None
    workdir = Path(context.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / DATABASE_NAME
    for leftover in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        leftover.unlink(missing_ok=True)
    options = context.options or {}
    volume = resolve_volume(options)
    service = await open_service(path, create=True, readers=int(options.get("readers", DEFAULT_READERS)))
    try:
        if volume:
            await populate(service, volume, workdir / CORPUS_DIRECTORY, int(options.get("seed", DEFAULT_SEED)))
    except BaseException:
        await service.close()
        raise
    return slow_down(service, slowdown, tuple(protocol_methods()))
