"""Semantic and hybrid document search over the stored chunk vectors.

SQLite here cannot load a vector extension, so the chunk vectors are pulled
into one numpy matrix and scored with a single mat-vec product.  The matrix
is loaded lazily and dropped whenever a sync changes the documents.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pytest_prodready.target import SearchHit

from .connections import Database, fetch_all
from .embedder import DIMENSIONS, HashingEmbedder, from_blobs, tokenize

SEMANTIC_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.3
BM25_K1 = 1.2
BM25_B = 0.75

LOAD_SQL = """
SELECT e.document_id, d.file_path, d.title, e.content, v.vector
FROM document_embeddings AS e
JOIN document_embeddings_data AS v ON v.embedding_id = e.id
JOIN document_index AS d ON d.id = e.document_id
ORDER BY e.document_id, e.chunk_index
"""


class KeywordIndex:
    """BM25 over chunk texts; the title is part of every chunk's text."""

    def __init__(self, texts: Sequence[str]):
        self._count = len(texts)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        lengths = np.zeros(len(texts), dtype=np.float64)
        for row, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths[row] = sum(counts.values())
            for term, tf in counts.items():
                rows, tfs = postings.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(tf)
        self._postings = {
            term: (np.array(rows), np.array(tfs, dtype=np.float64)) for term, (rows, tfs) in postings.items()
        }
        average = lengths.mean() if len(texts) else 1.0
        self._length_norm = 1.0 - BM25_B + BM25_B * lengths / (average or 1.0)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per chunk; terms absent from the corpus contribute nothing."""
        total = np.zeros(self._count, dtype=np.float64)
        for term in set(tokenize(query)):
            posting = self._postings.get(term)
            if posting is None:
                continue
            rows, tfs = posting
            df = len(rows)
            idf = math.log(1.0 + (self._count - df + 0.5) / (df + 0.5))
            total[rows] += idf * tfs * (BM25_K1 + 1.0) / (tfs + BM25_K1 * self._length_norm[rows])
        return total


@dataclass
class Snapshot:
    """All chunk vectors at one point in time; chunks are grouped by document."""

    generation: int
    matrix: np.ndarray
    segment_starts: np.ndarray
    document_ids: list[int]
    paths: list[str]
    titles: list[str]
    texts: list[str]
    _keywords: KeywordIndex | None = field(default=None, repr=False)

    @classmethod
    def build(cls, generation: int, rows: Sequence[tuple]) -> Snapshot:
        starts: list[int] = []
        document_ids: list[int] = []
        paths: list[str] = []
        titles: list[str] = []
        for position, (document_id, path, title, _content, _vector) in enumerate(rows):
            if not document_ids or document_ids[-1] != document_id:
                starts.append(position)
                document_ids.append(document_id)
                paths.append(path)
                titles.append(title)
        return cls(
            generation=generation,
            matrix=from_blobs([row[4] for row in rows], DIMENSIONS),
            segment_starts=np.array(starts, dtype=np.intp),
            document_ids=document_ids,
            paths=paths,
            titles=titles,
            texts=[f"{row[2]}\n{row[3]}" for row in rows],
        )

    @property
    def keywords(self) -> KeywordIndex:
        """Built on first hybrid query: pure semantic search never pays for it."""
        if self._keywords is None:
            self._keywords = KeywordIndex(self.texts)
        return self._keywords

    def best_per_document(self, chunk_scores: np.ndarray) -> np.ndarray:
        """A document scores as its best chunk."""
        return np.maximum.reduceat(chunk_scores, self.segment_starts)

    def hits(self, document_scores: np.ndarray, limit: int) -> list[SearchHit]:
        """Top ``limit`` documents with a positive score, best first."""
        order = np.argsort(-document_scores, kind="stable")
        order = order[document_scores[order] > 0][:limit]
        return [
            SearchHit(self.document_ids[i], self.paths[i], self.titles[i], float(document_scores[i])) for i in order
        ]


class SearchEngine:
    """Answers queries from a cached :class:`Snapshot`, reloaded after :meth:`invalidate`."""

    def __init__(self, db: Database, embedder: HashingEmbedder):
        self._db = db
        self._embedder = embedder
        self._generation = 0
        self._snapshot: Snapshot | None = None
        self._load_lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Called after every sync; a load racing with it is simply discarded next time."""
        self._generation += 1

    async def semantic_search(self, query: str, limit: int = 10) -> list[SearchHit]:
        snapshot, query_vector = await self._prepare(query)
        if snapshot is None or not query_vector.any():
            return []
        return snapshot.hits(snapshot.best_per_document(snapshot.matrix @ query_vector), limit)

    async def hybrid_search(self, query: str, limit: int = 10) -> list[SearchHit]:
        """0.7 x cosine similarity + 0.3 x BM25 normalised to [0, 1] by the best document."""
        snapshot, query_vector = await self._prepare(query)
        if snapshot is None:
            return []
        semantic = np.clip(snapshot.best_per_document(snapshot.matrix @ query_vector), 0.0, 1.0)
        keyword = snapshot.best_per_document(snapshot.keywords.scores(query))
        best = keyword.max()
        if best > 0:
            keyword = keyword / best
        return snapshot.hits(SEMANTIC_WEIGHT * semantic + KEYWORD_WEIGHT * keyword, limit)

    async def _prepare(self, query: str) -> tuple[Snapshot | None, np.ndarray]:
        snapshot = await self._current()
        if not snapshot.document_ids:
            return None, np.zeros(DIMENSIONS, dtype=np.float32)
        return snapshot, self._embedder.embed(query)

    async def _current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and snapshot.generation == self._generation:
            return snapshot
        async with self._load_lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.generation == self._generation:
                return snapshot
            generation = self._generation
            async with self._db.read() as conn:
                rows = await fetch_all(conn, LOAD_SQL)
            self._snapshot = Snapshot.build(generation, [tuple(row) for row in rows])
            return self._snapshot
