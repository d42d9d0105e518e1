"""Readiness cases that ``-k`` / ``-m`` (or another plugin) deselected, where nothing else would say so.

A category with a minimum (``require.<domain>.<category>``) already turns
NO-GO when a deselected case leaves it short.  A category without one would
say GO over cases that never ran: each such category gets a warning line in
the terminal and an entry in the JSON report.  Under xdist each worker
deselects the same cases and sends their ids back in ``workeroutput``.
Pure: no pytest import.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

WORKER_OUTPUT = "prodready_deselected"  # workeroutput key: {nodeid: [domain, category]}


def unrequired(deselected: Mapping[str, Iterable[str]], requirements: Mapping[str, Mapping[str, int]]
               ) -> list[dict[str, Any]]:
    """Per category with no minimum: how many of its readiness cases were deselected."""
    counts = Counter(tuple(pair) for pair in deselected.values())
    return [
        {"domain": domain, "category": category, "cases": count}
        for (domain, category), count in sorted(counts.items())
        if not requirements.get(domain, {}).get(category, 0)
    ]


def warning_line(entry: Mapping[str, Any]) -> str:
    """The terminal's words for one such category."""
    domain, category, count = entry["domain"], entry["category"], entry["cases"]
    return (f"warning: {count} readiness case(s) of {domain} / {category} were deselected and not measured; "
            f"that category has no minimum (require.{domain}.{category}), so it does not make the verdict NO-GO")
