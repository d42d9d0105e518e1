"""Shared set-up of the smoke suite: unique names, so cases never collide.

Every case creates its own sessions, keys and namespaces, so the suite can
run against a shared, long-lived database and under pytest-xdist.
"""

from __future__ import annotations

import uuid
from typing import Callable

import pytest


@pytest.fixture
def unique() -> Callable[[str], str]:
    """``unique("sess")`` -> ``"sess-3f9c..."``: a fresh identifier per call."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make
