"""Fixtures shared by the reference-target tests: a fresh seeded service per test."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from pytest_prodready.reference import ReferenceService, open_service


@pytest_asyncio.fixture
async def service(tmp_path: Path) -> AsyncIterator[ReferenceService]:
    svc = await open_service(tmp_path / "abathur.db", create=True)
    try:
        yield svc
    finally:
        await svc.close()


@pytest.fixture
def raw(service: ReferenceService) -> Callable[[str, tuple], list[tuple]]:
    """Run SQL on an independent sqlite3 connection: what an outside inspector would see."""

    def run(sql: str, params: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(service.database_path)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    return run


@pytest.fixture
def write_md(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a markdown file under tmp_path/docs and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write
