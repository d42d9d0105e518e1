"""What a readiness case is, and what the plugin keeps on its item: domain, category, severity, figures.

:func:`is_readiness_case` is the one definition (collection tags these items,
the async marking and the verdict count them).  The info is set at
collection; figures are added while the case runs (gates, load, canary,
consistency outcomes, warnings) and travel with the test report.
"""

from __future__ import annotations

from typing import Any

import pytest

from .markers import MARKERS

# Every readiness marker counts a test as a case; ``writes`` only says how a case treats the target.
CASE_MARKERS = frozenset(MARKERS) - {"writes"}
INFO_KEY = pytest.StashKey[dict[str, Any]]()
FIGURES_KEY = pytest.StashKey[dict[str, Any]]()


def figures(item: pytest.Item) -> dict[str, Any]:
    """The case's figures, created empty on first use."""
    return item.stash.setdefault(FIGURES_KEY, {})


def is_readiness_case(item: pytest.Item) -> bool:
    """A readiness marker on the test (or its class or module), or the canary fixture."""
    return any(mark.name in CASE_MARKERS for mark in item.iter_markers()) or "canary" in getattr(item, "fixturenames", ())
