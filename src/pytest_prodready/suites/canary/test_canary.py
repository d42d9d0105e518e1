"""Seed 001's canary questions, asked of a candidate release next to the live one.

Each case sends the same read-only request to ``--prodready-baseline-url``
and ``--prodready-target-url`` in interleaved blocks and fails when the
candidate's p50 or p95 is more than 10 % worse, or its error rate more than
5 points higher, with 95 % confidence.  Without the two URLs the cases
compare two embedded reference apps built alike, an unchanged release.
The requests follow the reference service's HTTP API.
"""

from __future__ import annotations

import pytest


@pytest.mark.canary(name="hybrid search")
def test_hybrid_search_is_no_slower(canary):
    canary.get("/search", {"q": "memory consolidation", "limit": 10})


@pytest.mark.canary(name="namespace listing")
def test_namespace_listing_is_no_slower(canary):
    canary.get("/memory", {"prefix": "app:abathur", "limit": 50})


@pytest.mark.canary(name="health")
def test_health_is_no_slower(canary):
    canary.get("/health")
