"""Chunking, content hashing, document sync and the background poller."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from pytest_prodready.reference import DIMENSIONS, EMBEDDING_MODEL, BackgroundSync, chunk_markdown, extract_title
from pytest_prodready.reference.documents import CHUNK_CHARS


def test_chunks_pack_paragraphs_within_the_limit():
    paragraphs = [f"Paragraph {n} " + "word " * 40 for n in range(12)]
    chunks = chunk_markdown("\n\n".join(paragraphs))
    assert 1 < len(chunks) < len(paragraphs)
    assert all(len(chunk) <= CHUNK_CHARS for chunk in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(" ".join(paragraphs).split())


def test_oversized_paragraph_and_word_are_split():
    chunks = chunk_markdown("lorem " * 400 + "\n\n" + "x" * 2000)
    assert all(0 < len(chunk) <= CHUNK_CHARS for chunk in chunks)
    assert "".join(c for c in chunks if c.startswith("x")) == "x" * 2000


def test_empty_text_has_no_chunks():
    assert chunk_markdown("  \n\n \n") == []


def test_title_from_first_heading_else_stem():
    assert extract_title("intro\n## Sub\n# The Title #\ntext", "stem") == "The Title"
    assert extract_title("no heading here", "stem") == "stem"


@pytest.mark.asyncio
async def test_sync_new_unchanged_and_changed(service, raw, write_md):
    path = write_md("guide.md", "# Guide\n\nFirst paragraph.\n\nSecond paragraph.\n")
    first = await service.sync_document(path)
    assert first.changed and first.chunk_count == 1
    assert first.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    row = raw(
        "SELECT title, sync_status, embedding_model, length(embedding_blob), last_synced_at "
        "FROM document_index WHERE id = ?",
        (first.document_id,),
    )
    assert row[0][:4] == ("Guide", "synced", EMBEDDING_MODEL, DIMENSIONS * 4) and row[0][4]

    again = await service.sync_document(path)
    assert (again.changed, again.document_id, again.content_hash) == (False, first.document_id, first.content_hash)

    path.write_text("# Guide v2\n\n" + "\n\n".join("para " * 100 for _ in range(4)))
    changed = await service.sync_document(path)
    assert changed.changed and changed.document_id == first.document_id and changed.chunk_count > 1
    assert raw(
        "SELECT COUNT(*), MIN(dimensions), MAX(dimensions) FROM document_embeddings WHERE document_id = ?",
        (first.document_id,),
    ) == [(changed.chunk_count, DIMENSIONS, DIMENSIONS)]
    assert raw("SELECT COUNT(*) FROM document_embeddings_data") == [(changed.chunk_count,)]
    assert raw("SELECT title FROM document_index WHERE id = ?", (first.document_id,)) == [("Guide v2",)]


@pytest.mark.asyncio
async def test_sync_missing_file_raises(service, tmp_path):
    with pytest.raises(FileNotFoundError):
        await service.sync_document(tmp_path / "absent.md")


@pytest.mark.asyncio
async def test_sync_pending_only_touches_new_or_changed(service, write_md, tmp_path):
    paths = [write_md(f"d{n}.md", f"# Doc {n}\n\nBody {n}.") for n in range(3)]
    write_md("notes.txt", "not markdown")
    docs = tmp_path / "docs"
    assert len(await service.sync_pending(docs)) == 3
    assert await service.sync_pending(docs) == []
    paths[0].write_text("# Doc 0\n\nEdited.")
    write_md("sub/d3.md", "# Doc 3\n\nNested.")
    results = await service.sync_pending(docs)
    assert len(results) == 2 and all(r.changed for r in results)


@pytest.mark.asyncio
async def test_background_sync_processes_changes_and_stops(service, write_md, tmp_path):
    write_md("a.md", "# A\n\nalpha")
    async with service.background_sync(tmp_path / "docs", interval=0.01) as poller:
        await poller.wait_for_runs(1, timeout=5)
        assert poller.processed == 1
        write_md("b.md", "# B\n\nbeta")
        runs = poller.runs
        await poller.wait_for_runs(runs + 2, timeout=5)
        assert poller.processed == 2 and poller.failures == 0
        assert poller.running
    assert not poller.running


@pytest.mark.asyncio
async def test_background_sync_bounded_and_survives_failures():
    class Flaky:
        calls = 0

        async def sync_pending(self, directory: Path):
            self.calls += 1
            if self.calls == 1:
                raise OSError("disk hiccup")
            return []

    poller = BackgroundSync(Flaky(), Path("."), interval=0.001, max_runs=3)
    poller.start()
    await poller.wait_finished(timeout=5)  # ends by itself after max_runs, without stop()
    assert (poller.runs, poller.failures, poller.running) == (3, 1, False)
    assert isinstance(poller.last_error, OSError)
    await poller.stop()
