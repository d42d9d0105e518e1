"""A deterministic local text embedder: signed feature hashing of words and word pairs.

No model download, identical vectors on every machine and Python run
(blake2b, not the salted built-in ``hash``), and good enough topical
similarity for the reference target to have real, testable relevance.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np

EMBEDDING_MODEL = "hashing-embedder-v1"
DIMENSIONS = 384

_WORD = re.compile(r"[a-z0-9]+")

# Function words carry no topic and would otherwise dominate raw term counts.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers him his how i if in into is it its itself just me more most my no nor not now
    of off on once only or other our ours out over own same she should so some such than that the their
    theirs them then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours
    """.split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric words minus stopwords; shared with keyword scoring."""
    return [word for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


@lru_cache(maxsize=1 << 16)
def _bucket(feature: str) -> tuple[int, float]:
    """Dimension and sign of a feature; the sign halves the bias of hash collisions."""
    number = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
    return number % DIMENSIONS, (1.0 if number >> 63 else -1.0)


class HashingEmbedder:
    """Unigrams + bigrams hashed into 384 dims, sublinear tf, L2-normalised float32."""

    name = EMBEDDING_MODEL
    dimensions = DIMENSIONS

    def embed(self, text: str) -> np.ndarray:
        vector = np.zeros(DIMENSIONS, dtype=np.float64)
        tokens = tokenize(text)
        features = Counter(tokens)
        features.update(f"{first} {second}" for first, second in pairwise(tokens))
        for feature, count in features.items():
            index, sign = _bucket(feature)
            vector[index] += sign * (1.0 + math.log(count))
        norm = np.linalg.norm(vector)
        if norm > 0:
            vector /= norm
        return vector.astype(np.float32)

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), 384) matrix; an empty input gives a (0, 384) one."""
        matrix = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self.embed(text)
        return matrix


def to_blob(vector: np.ndarray) -> bytes:
    """float32 little-endian, the storage format of document_embeddings_data.vector."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blobs(blobs: Sequence[bytes], dimensions: int = DIMENSIONS) -> np.ndarray:
    """Stack stored vectors into one (n, dimensions) float32 matrix in a single copy."""
    if not blobs:
        return np.zeros((0, dimensions), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), dimensions).astype(np.float32)
