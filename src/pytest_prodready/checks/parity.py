"""Migration completeness (seed 000): one graph's counts in two stores, within a tolerance.

Each store answers one count query for documents, entities and relations
(:data:`~.graph.COUNTS`); the stores may be Neo4j and Neo4j, or SQLite and
Neo4j.  A type is off when ``|target - source| / source`` exceeds the
tolerance (5 % by default: deduplication may legitimately shrink a store a
little).  A type the source lacks is off as soon as the target has any.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Sequence

from .finding import Finding
from .graph import COUNT_TYPES, GraphBackend, counts
from .rules import number

DEFAULT_TOLERANCE = 0.05


def compare(
    source: Mapping[str, int],
    target: Mapping[str, int],
    tolerance: float = DEFAULT_TOLERANCE,
    types: Sequence[str] = COUNT_TYPES,
) -> Finding:
    """The number of types off, and for each type the two counts and their relative difference."""
    rows = [_gap(kind, source.get(kind, 0), target.get(kind, 0), tolerance) for kind in types]
    off = [row for row in rows if row["off"]]
    listed = ", ".join(f"{r['type']} {r['source']} -> {r['target']} ({_percent(r['difference'])})" for r in off)
    note = f"tolerance {number(tolerance * 100)}%: {listed}" if off else ""
    return Finding(len(off), (), {"tolerance": tolerance, "types": rows}, note)


async def completeness(
    source: GraphBackend,
    target: GraphBackend,
    tolerance: float = DEFAULT_TOLERANCE,
    types: Sequence[str] = COUNT_TYPES,
) -> Finding:
    """Count both stores concurrently and compare them."""
    source_counts, target_counts = await asyncio.gather(counts(source), counts(target))
    found = compare(source_counts, target_counts, tolerance, types)
    details = {**found.details, "source": source.label, "target": target.label}
    return Finding(found.value, found.sample, details, found.note)


def _gap(kind: str, source: int, target: int, tolerance: float) -> dict[str, Any]:
    difference = (target - source) / source if source else (0.0 if target == 0 else None)
    return {
        "type": kind,
        "source": source,
        "target": target,
        "difference": difference,
        "off": difference is None or abs(difference) > tolerance,
    }


def _percent(fraction: float | None) -> str:
    return "new in target" if fraction is None else f"{fraction * 100:+.1f}%"
