"""The hashing embedder and the relevance of semantic and hybrid search."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import pytest_asyncio

from pytest_prodready.reference import DIMENSIONS, KEYWORD_WEIGHT, SEMANTIC_WEIGHT, HashingEmbedder

CORPUS = {
    "sqlite.md": "# SQLite indexing\n\nA btree index lets the query planner search instead of scan. "
    "Covering indexes answer a query from the index alone; selectivity decides whether the planner uses it.",
    "gardening.md": "# Growing tomatoes\n\nTomato seedlings need sunlight, compost and regular watering. "
    "Prune the suckers and stake the plants before the fruit sets.",
    "baking.md": "# Sourdough bread\n\nFeed the starter, mix flour and water, let the dough ferment overnight, "
    "shape the loaf and bake it in a hot dutch oven.",
    "astronomy.md": "# Observing Jupiter\n\nA small telescope shows the moons of Jupiter and its cloud bands. "
    "Planets shine steadily while stars twinkle.",
    "cycling.md": "# Bicycle maintenance\n\nClean and lubricate the chain, check tyre pressure, "
    "adjust the brakes and true the wheels.",
}

QUERIES = {
    "query planner btree index scan": "sqlite.md",
    "tomato seedlings compost watering": "gardening.md",
    "sourdough starter dough ferment": "baking.md",
    "telescope jupiter moons": "astronomy.md",
    "bicycle chain brakes tyre": "cycling.md",
}


def test_embedder_is_normalised_float32_and_deterministic():
    first, second = HashingEmbedder(), HashingEmbedder()
    vector = first.embed("Vector search with cosine similarity")
    assert vector.dtype == np.float32 and vector.shape == (DIMENSIONS,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert np.array_equal(vector, second.embed("vector SEARCH, with cosine similarity!"))
    assert not HashingEmbedder().embed("the of and").any()  # stopwords only
    assert first.embed_many([]).shape == (0, DIMENSIONS)


def test_embedder_does_not_depend_on_python_hash_seed():
    code = (
        "from pytest_prodready.reference import HashingEmbedder;"
        "print(HashingEmbedder().embed('stable hashing across runs').tobytes().hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_similar_texts_score_higher_than_unrelated():
    embedder = HashingEmbedder()
    base = embedder.embed("database index query planner")
    assert float(base @ embedder.embed("the planner picks an index for the query")) > float(
        base @ embedder.embed("tomatoes need sunlight and water")
    )


@pytest_asyncio.fixture
async def corpus_service(service, write_md, tmp_path):
    for name, text in CORPUS.items():
        write_md(name, text)
    await service.sync_pending(tmp_path / "docs")
    return service


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["semantic_search", "hybrid_search"])
@pytest.mark.parametrize(("query", "expected"), QUERIES.items())
async def test_topic_query_ranks_its_document_first(corpus_service, mode, query, expected):
    hits = await getattr(corpus_service, mode)(query, limit=5)
    assert hits and hits[0].file_path.endswith(expected)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 < h.score <= 1.0 + 1e-6 for h in hits)


@pytest.mark.asyncio
async def test_hybrid_weights_and_limits(corpus_service):
    assert (SEMANTIC_WEIGHT, KEYWORD_WEIGHT) == (0.7, 0.3)
    assert len(await corpus_service.hybrid_search("the index and the telescope", limit=1)) == 1
    assert await corpus_service.semantic_search("the of and") == []
    # Unknown words only meet the corpus through hash collisions: far below a real match.
    noise = await corpus_service.hybrid_search("zzzz qqqq")
    topical = await corpus_service.hybrid_search("telescope jupiter moons")
    assert max((h.score for h in noise), default=0.0) < topical[0].score / 2


@pytest.mark.asyncio
async def test_search_sees_documents_synced_after_the_first_query(corpus_service, write_md):
    assert not any(h.title == "Kayaking" for h in await corpus_service.semantic_search("kayak paddle river"))
    await corpus_service.sync_document(write_md("kayak.md", "# Kayaking\n\nPaddle the kayak down the river rapids."))
    hits = await corpus_service.semantic_search("kayak paddle river")
    assert hits[0].title == "Kayaking"


@pytest.mark.asyncio
async def test_search_on_empty_index(service):
    assert await service.semantic_search("anything") == []
    assert await service.hybrid_search("anything") == []
