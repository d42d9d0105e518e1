"""Markdown documents on disk, indexed in SQLite: hashing, chunking, syncing, background polling.

The files are the source of truth; the database holds a content hash per
file so that re-syncing an unchanged file costs one read and one lookup.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import numpy as np

from pytest_prodready.target import SyncResult

from .clock import Clock
from .codec import dump_json
from .connections import Database, fetch_all, fetch_one
from .embedder import HashingEmbedder, to_blob

CHUNK_CHARS = 800

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_HEADING = re.compile(r"^# +(.+?)\s*#*\s*$", re.MULTILINE)

KNOWN_BY_PATH_SQL = """
SELECT id, file_path, content_hash, chunk_count, sync_status FROM document_index WHERE file_path = ?
"""

KNOWN_UNDER_SQL = """
SELECT id, file_path, content_hash, chunk_count, sync_status FROM document_index
WHERE file_path >= ? AND file_path < ?
"""

UPSERT_DOCUMENT_SQL = """
INSERT INTO document_index (file_path, title, content_hash, chunk_count, embedding_model, embedding_blob,
                            metadata, last_synced_at, sync_status, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'synced', ?, ?)
ON CONFLICT (file_path) DO UPDATE SET
    title = excluded.title,
    content_hash = excluded.content_hash,
    chunk_count = excluded.chunk_count,
    embedding_model = excluded.embedding_model,
    embedding_blob = excluded.embedding_blob,
    metadata = excluded.metadata,
    last_synced_at = excluded.last_synced_at,
    sync_status = 'synced',
    updated_at = excluded.updated_at
"""

_IN_JSON = "IN (SELECT value FROM json_each(?))"


@dataclass(frozen=True)
class SourceFile:
    """A file's bytes and their SHA-256, read once per sync."""

    path: Path
    data: bytes
    digest: str

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        data = path.read_bytes()
        return cls(path, data, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class PreparedDocument:
    """Everything to write for one file, computed before taking the write lock."""

    source: SourceFile
    title: str
    chunks: list[str]
    vectors: np.ndarray

    @property
    def file_path(self) -> str:
        return str(self.source.path)

    def document_vector(self) -> bytes | None:
        """Mean of the chunk vectors, re-normalised; None for a document without text."""
        if not self.chunks:
            return None
        mean = self.vectors.mean(axis=0)
        norm = np.linalg.norm(mean)
        return to_blob(mean / norm if norm > 0 else mean)


def extract_title(text: str, fallback: str) -> str:
    """The first level-one heading, else the file stem."""
    match = _HEADING.search(text)
    return match.group(1).strip() if match else fallback


def chunk_markdown(text: str, max_chars: int = CHUNK_CHARS) -> list[str]:
    """Pack whole paragraphs into chunks of at most ``max_chars``; split only oversized paragraphs."""
    chunks: list[str] = []
    current = ""
    for paragraph in _PARAGRAPH_BREAK.split(text):
        for piece in _split_long(paragraph.strip(), max_chars):
            if current and len(current) + 2 + len(piece) > max_chars:
                chunks.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def _split_long(paragraph: str, max_chars: int) -> Iterator[str]:
    """Break a paragraph at word boundaries; a single over-long word is cut hard."""
    if len(paragraph) <= max_chars:
        if paragraph:
            yield paragraph
        return
    current = ""
    for word in paragraph.split():
        while len(word) > max_chars:
            if current:
                yield current
                current = ""
            yield word[:max_chars]
            word = word[max_chars:]
        if current and len(current) + 1 + len(word) > max_chars:
            yield current
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        yield current


def prepare(source: SourceFile, embedder: HashingEmbedder) -> PreparedDocument:
    """Title, chunks and chunk vectors of one file (CPU work, run off the event loop)."""
    text = source.data.decode("utf-8", errors="replace")
    chunks = chunk_markdown(text)
    return PreparedDocument(source, extract_title(text, source.path.stem), chunks, embedder.embed_many(chunks))


def markdown_files(directory: Path) -> list[Path]:
    """Every *.md below ``directory``, in a stable order."""
    return sorted(path.resolve() for path in directory.rglob("*.md") if path.is_file())


class DocumentStore:
    """Keeps document_index and the chunk embeddings in step with the files."""

    def __init__(self, db: Database, clock: Clock, embedder: HashingEmbedder, on_change: Callable[[], None]):
        self._db = db
        self._clock = clock
        self._embedder = embedder
        self._on_change = on_change

    async def sync_document(self, path: Path) -> SyncResult:
        """Re-index one file unless its hash matches the indexed one."""
        source = await asyncio.to_thread(SourceFile.read, Path(path).resolve())
        async with self._db.read() as conn:
            row = await fetch_one(conn, KNOWN_BY_PATH_SQL, (str(source.path),))
        if _is_current(row, source):
            return _unchanged(row)
        return (await self._sync([source]))[0]

    async def sync_pending(self, directory: Path) -> list[SyncResult]:
        """Index every new or changed *.md under ``directory`` in one transaction.

        Returns results for the files it (re)indexed only; an up-to-date tree
        gives an empty list.
        """
        root = Path(directory).resolve()
        sources = await asyncio.to_thread(lambda: [SourceFile.read(path) for path in markdown_files(root)])
        base = str(root).rstrip(os.sep)
        bounds = (base + os.sep, base + chr(ord(os.sep) + 1))
        async with self._db.read() as conn:
            rows = await fetch_all(conn, KNOWN_UNDER_SQL, bounds)
        known = {row["file_path"]: row for row in rows}
        pending = [source for source in sources if not _is_current(known.get(str(source.path)), source)]
        return await self._sync(pending)

    async def _sync(self, sources: Sequence[SourceFile]) -> list[SyncResult]:
        if not sources:
            return []
        embedder = self._embedder
        prepared = await asyncio.to_thread(lambda: [prepare(source, embedder) for source in sources])
        async with self._db.write() as conn:
            results = await self._write(conn, prepared)
        self._on_change()
        return results

    async def _write(self, conn: aiosqlite.Connection, prepared: list[PreparedDocument]) -> list[SyncResult]:
        """Upsert the documents and replace their chunks with a constant number of statements."""
        now = self._clock.now()
        await conn.executemany(UPSERT_DOCUMENT_SQL, [self._document_params(doc, now) for doc in prepared])
        paths = dump_json([doc.file_path for doc in prepared])
        rows = await fetch_all(conn, f"SELECT id, file_path FROM document_index WHERE file_path {_IN_JSON}", (paths,))
        ids = {row["file_path"]: row["id"] for row in rows}
        document_ids = [ids[doc.file_path] for doc in prepared]
        await conn.execute(f"DELETE FROM document_embeddings WHERE document_id {_IN_JSON}", (dump_json(document_ids),))
        # Chunk ids are assigned here (safe under the write lock) so chunks and
        # their vectors go in with two executemany calls and no read-back.
        top = await fetch_one(conn, "SELECT COALESCE(MAX(id), 0) AS top FROM document_embeddings")
        chunk_rows, vector_rows = [], []
        next_id = top["top"] + 1
        model, dimensions = self._embedder.name, self._embedder.dimensions
        for document_id, doc in zip(document_ids, prepared, strict=True):
            for index, (content, vector) in enumerate(zip(doc.chunks, doc.vectors, strict=True)):
                chunk_rows.append((next_id, document_id, index, content, model, dimensions))
                vector_rows.append((next_id, to_blob(vector)))
                next_id += 1
        await conn.executemany(
            "INSERT INTO document_embeddings (id, document_id, chunk_index, content, embedding_model, dimensions) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            chunk_rows,
        )
        await conn.executemany("INSERT INTO document_embeddings_data (embedding_id, vector) VALUES (?, ?)", vector_rows)
        return [
            SyncResult(document_id=doc_id, changed=True, content_hash=doc.source.digest, chunk_count=len(doc.chunks))
            for doc_id, doc in zip(document_ids, prepared, strict=True)
        ]

    def _document_params(self, doc: PreparedDocument, now: str) -> tuple[Any, ...]:
        metadata = dump_json({"word_count": len(doc.source.data.split()), "bytes": len(doc.source.data)})
        return (
            doc.file_path,
            doc.title,
            doc.source.digest,
            len(doc.chunks),
            self._embedder.name,
            doc.document_vector(),
            metadata,
            now,
            now,
            now,
        )


def _is_current(row: Any, source: SourceFile) -> bool:
    return row is not None and row["content_hash"] == source.digest and row["sync_status"] == "synced"


def _unchanged(row: Any) -> SyncResult:
    return SyncResult(
        document_id=row["id"], changed=False, content_hash=row["content_hash"], chunk_count=row["chunk_count"]
    )


class PendingSyncer(Protocol):
    """Anything with ``sync_pending`` — the service or the document store."""

    def sync_pending(self, directory: Path) -> Awaitable[list[SyncResult]]: ...


class BackgroundSync:
    """Polls a directory and syncs what changed, until stopped or ``max_runs`` polls.

    A failing poll is counted and remembered, not fatal: the next poll retries,
    which is what a long-running sync worker must do with a flaky file.
    """

    def __init__(self, syncer: PendingSyncer, directory: Path, interval: float = 1.0, max_runs: int | None = None):
        self.directory = Path(directory)
        self.interval = interval
        self.max_runs = max_runs
        self.runs = 0
        self.processed = 0
        self.failures = 0
        self.last_error: Exception | None = None
        self._syncer = syncer
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._task = asyncio.create_task(self._loop(), name=f"background-sync:{self.directory}")

    async def stop(self) -> None:
        """Cancel the poller and wait for it; a poll in flight is rolled back, not half-written."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])

    async def run_once(self) -> list[SyncResult]:
        """One poll; errors are recorded in ``failures``/``last_error``."""
        results: list[SyncResult] = []
        try:
            results = await self._syncer.sync_pending(self.directory)
        except Exception as exc:
            self.failures += 1
            self.last_error = exc
        self.processed += len(results)
        self.runs += 1
        async with self._progress:
            self._progress.notify_all()
        return results

    async def wait_for_runs(self, count: int, timeout: float | None = None) -> None:
        """Block until at least ``count`` polls have completed (for tests and health probes)."""
        await asyncio.wait_for(self._wait_runs(count), timeout)

    async def wait_finished(self, timeout: float | None = None) -> None:
        """Block until the poller has ended by itself (``max_runs`` polls done); a poller never started is finished."""
        if self._task is not None:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def _wait_runs(self, count: int) -> None:
        async with self._progress:
            await self._progress.wait_for(lambda: self.runs >= count)

    async def __aenter__(self) -> BackgroundSync:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _loop(self) -> None:
        while self.max_runs is None or self.runs < self.max_runs:
            await self.run_once()
            if self.max_runs is not None and self.runs >= self.max_runs:
                break
            await asyncio.sleep(self.interval)
