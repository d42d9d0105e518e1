"""Key figures as JUnit ``<property>`` elements, for CI systems that read JUnit XML."""

from __future__ import annotations

from typing import Any, Iterator, Mapping


def junit_properties(figures: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """``prodready.p95_ms`` and friends: percentiles, limits and the baseline change."""
    latency = figures.get("latency", {})
    for key in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "ops_per_s", "timer_overhead_ns"):
        if key in latency:
            value = latency[key]
            yield f"prodready.{key}", value if isinstance(value, int) else round(float(value), 4)
    for key, value in figures.get("limits", {}).items():
        yield f"prodready.limit.{key}", value
    baseline = figures.get("baseline")
    if baseline:
        yield "prodready.baseline.change_pct", baseline["change_pct"]
