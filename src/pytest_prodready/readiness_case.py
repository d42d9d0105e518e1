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
CASES_PLUGIN = "prodready-cases"  # the per-test hooks, registered in a process that collected readiness cases


def figures(item: pytest.Item) -> dict[str, Any]:
    """The case's figures, created empty on first use."""
    return item.stash.setdefault(FIGURES_KEY, {})


def is_readiness_case(item: pytest.Item, marked_nodes: dict[int, bool] | None = None) -> bool:
    """A readiness marker on the test (or its class or module), or the canary fixture.

    The markers ``item.iter_markers()`` would walk; with ``marked_nodes`` (one
    dict per collection) each parent's are looked at once, so an ordinary test
    in a dormant run costs a few lookups.
    """
    return (
        "canary" in getattr(item, "fixturenames", ())
        or _marks_case(item)
        or _chain_marks_case(item.parent, {} if marked_nodes is None else marked_nodes)
    )


def _chain_marks_case(node: pytest.Collector | None, marked_nodes: dict[int, bool]) -> bool:
    if node is None:
        return False
    found = marked_nodes.get(id(node))
    if found is None:
        found = marked_nodes[id(node)] = _marks_case(node) or _chain_marks_case(node.parent, marked_nodes)
    return found


def _marks_case(node: pytest.Item | pytest.Collector) -> bool:
    return any(mark.name in CASE_MARKERS for mark in node.own_markers)
