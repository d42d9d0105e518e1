"""create_target / open_service: the entry points the suite uses."""

from __future__ import annotations

import inspect
import sqlite3
import time
from types import SimpleNamespace

import pytest

from pytest_prodready.reference import (
    CORPUS_DIRECTORY,
    DATABASE_NAME,
    EXAMPLE_SESSION_ID,
    ReferenceService,
    ServiceClosedError,
    create_target,
    open_service,
)
from pytest_prodready.reference.seed import INITIAL_MEMORIES, resolve_volume
from pytest_prodready.reference.slowdown import SLOWDOWN_ENV, slow_down, slowdown_from
from pytest_prodready.target import MemoryServiceTarget, TargetContext, TargetLoadError, build_target, protocol_methods

TINY = {"sessions": 5, "memories": 21, "documents": 3}


def counts(path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("sessions", "memory_entries", "document_index", "tasks", "audit")
        }
    finally:
        conn.close()


@pytest.mark.asyncio
async def test_create_target_with_tiny_volume(tmp_path):
    service = await create_target(TargetContext(workdir=tmp_path, options={"volume": TINY}))
    try:
        assert isinstance(service, MemoryServiceTarget)
        assert service.database_path == tmp_path / DATABASE_NAME
        found = counts(service.database_path)
        assert found["sessions"] == TINY["sessions"] + 1  # plus the example session
        assert found["memory_entries"] == TINY["memories"] + len(INITIAL_MEMORIES)
        assert found["document_index"] == TINY["documents"]
        assert len(list((tmp_path / CORPUS_DIRECTORY).rglob("*.md"))) == TINY["documents"]
        assert await service.find_memory_conflicts("") == []
        assert await service.semantic_search("kubernetes pod deployment helm")
        assert (await service.get_session(EXAMPLE_SESSION_ID))["status"] == "created"
    finally:
        await service.close()


@pytest.mark.asyncio
async def test_every_adapter_method_is_its_stores_own(tmp_path):
    """Each protocol method is a real method of the class that awaits the owning store's; unknown names are not."""
    from pytest_prodready.reference.service import _OWNERS, ReferenceService
    from pytest_prodready.target import protocol_methods

    service = await create_target(TargetContext(workdir=tmp_path, options={"volume": TINY}))
    try:
        assert set(protocol_methods()) - {"close"} <= set(_OWNERS)
        for name, store in _OWNERS.items():
            assert name in vars(ReferenceService), name
            assert getattr(ReferenceService, name).__wrapped__ is getattr(type(getattr(service, store)), name), name
            assert inspect.signature(getattr(service, name)) == inspect.signature(getattr(getattr(service, store), name))
        with pytest.raises(AttributeError, match="no attribute 'no_such_method'"):
            service.no_such_method
    finally:
        await service.close()


@pytest.mark.asyncio
async def test_a_subclass_reaches_the_stores_method_through_super(tmp_path):
    """The mutants override one method and call ``super()``: the store must still do the work."""
    from pytest_prodready.reference.service import ReferenceService

    class Counting(ReferenceService):
        calls = 0

        async def create_session(self, *args, **kwargs):
            type(self).calls += 1
            return await super().create_session(*args, **kwargs)

    plain = await create_target(TargetContext(workdir=tmp_path, options={"volume": None}))
    service = Counting(plain.db)
    try:
        session = await service.create_session("via-super", "abathur", "alice")
        assert Counting.calls == 1
        assert (await plain.get_session("via-super")) == session
    finally:
        await plain.close()


@pytest.mark.asyncio
async def test_create_target_twice_in_one_workdir_starts_fresh(tmp_path):
    context = TargetContext(workdir=tmp_path, options={"volume": None})
    first = await create_target(context)
    await first.create_session("leftover", "abathur", "alice")
    await first.close()
    second = await create_target(context)
    try:
        assert await second.get_session("leftover") is None
    finally:
        await second.close()


@pytest.mark.asyncio
async def test_build_target_accepts_the_factory_spec(tmp_path):
    context = TargetContext(workdir=tmp_path, options={"volume": None})
    service = await build_target("pytest_prodready.reference:create_target", context)
    try:
        assert isinstance(service, ReferenceService)
    finally:
        await service.close()


def test_resolve_volume():
    assert resolve_volume({}) == {"sessions": 500, "memories": 5000, "documents": 300}
    assert resolve_volume({"volume": None}) is None
    assert resolve_volume({"volume": {"sessions": 3}}) == {"sessions": 3, "memories": 5000, "documents": 300}
    with pytest.raises(ValueError):
        resolve_volume({"volume": {"users": 3}})
    with pytest.raises(TypeError):
        resolve_volume({"volume": 3})


@pytest.mark.asyncio
async def test_open_service_existing_and_missing(tmp_path):
    path = tmp_path / "db.sqlite"
    with pytest.raises(FileNotFoundError):
        await open_service(path)
    created = await open_service(path, create=True, readers=2)
    await created.create_session("kept", "abathur", "alice")
    await created.close()
    with pytest.raises(FileExistsError):
        await open_service(path, create=True)
    reopened = await open_service(path)
    try:
        assert (await reopened.get_session("kept"))["user_id"] == "alice"
    finally:
        await reopened.close()


@pytest.mark.asyncio
async def test_close_is_idempotent_and_final(tmp_path):
    service = await open_service(tmp_path / "db.sqlite", create=True)
    await service.close()
    await service.close()
    with pytest.raises(ServiceClosedError):
        await service.get_session(EXAMPLE_SESSION_ID)


# --- PRODREADY_REFERENCE_SLOWDOWN: a target known to be slower, for measuring the regression gate ---


@pytest.mark.asyncio
async def test_the_slowdown_knob_makes_every_operation_take_its_share_longer(tmp_path, monkeypatch):
    monkeypatch.setenv(SLOWDOWN_ENV, "0.5")
    service = await create_target(TargetContext(workdir=tmp_path, options={"volume": TINY}))
    try:
        wrapped = [name for name in protocol_methods() if name != "close"]
        assert all(getattr(service, name).__wrapped__ for name in wrapped)  # every operation, not a chosen few
        inner = service.get_session.__wrapped__
        own: list[float] = []

        async def timed_inner(*args):
            started = time.perf_counter()
            found = await inner(*args)
            own.append(time.perf_counter() - started)
            return found

        service.get_session = _slowed_again(timed_inner)
        started = time.perf_counter()
        assert (await service.get_session(EXAMPLE_SESSION_ID)) is not None
        total = time.perf_counter() - started
        assert total >= 1.5 * own[0]  # its own time, then half of it again
    finally:
        await service.close()


def _slowed_again(method):
    """The knob's wrapper around ``method``, as create_target applies it."""
    holder = SimpleNamespace(op=method)
    return slow_down(holder, 0.5, ("op",)).op


@pytest.mark.parametrize("text", ["fast", "-0.1", "nan", "11"])
@pytest.mark.asyncio
async def test_a_bad_slowdown_is_a_one_line_target_error(tmp_path, monkeypatch, text):
    monkeypatch.setenv(SLOWDOWN_ENV, text)
    with pytest.raises(TargetLoadError, match=f"{SLOWDOWN_ENV}: expected a share between 0 and 10"):
        await create_target(TargetContext(workdir=tmp_path, options={"volume": TINY}))


def test_unset_or_empty_slowdown_is_none():
    assert slowdown_from({}) == 0.0 and slowdown_from({SLOWDOWN_ENV: " "}) == 0.0
    assert slowdown_from({SLOWDOWN_ENV: "0.3"}) == 0.3
