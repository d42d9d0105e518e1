"""What the HTML report and the CI job summary both show, as plain values: one definition, two markups.

Each renderer only decides how a value looks (an HTML badge, a Markdown
mark); which columns a category or gate row has, and what a category's
state is called, live here so the two reports cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..verdict import category_passed, ran_of

CATEGORY_HEAD = ("domain", "category", "passed", "warned", "failed", "errors", "skipped", "result")
GATE_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "max_ms")
READY, READY_WARNED, NOT_READY = "ready", "ready, with warnings", "not ready"


def category_cells(category: Mapping[str, Any]) -> tuple[Any, ...]:
    """A category's row up to its result: domain, category, passed (``3 of 4, needs 5``), warned, failed, errors, skipped."""
    c = category
    return (c["domain"], c["category"], category_passed(c["passed"], ran_of(c), c["required"]), c["warned"], c["failed"], c["errors"],
            c["skipped"])


def category_state(category: Mapping[str, Any]) -> str:
    """``ready``, ``ready, with warnings`` or ``not ready``."""
    if not category["ready"]:
        return NOT_READY
    return READY_WARNED if category["warned"] else READY
