"""Key figures as JUnit ``<property>`` elements, for CI systems that read JUnit XML."""

from __future__ import annotations

from typing import Any, Iterator, Mapping


LATENCY_FIGURES = ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "ops_per_s", "timer_overhead_ns")
LOAD_FIGURES = ("requests", "failures", "rps", "error_ratio", "p95_ms", "p99_ms", "mean_ms")


def junit_properties(figures: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """``prodready.p95_ms`` and friends: percentiles, limits and the baseline change."""
    yield from _numbers("prodready.", figures.get("latency", {}), LATENCY_FIGURES)
    for key, value in figures.get("limits", {}).items():
        yield f"prodready.limit.{key}", value
    yield from _numbers("prodready.load.", figures.get("load", {}), LOAD_FIGURES)
    baseline = figures.get("baseline")
    if baseline:
        yield "prodready.baseline.change_pct", baseline["change_pct"]


def _numbers(prefix: str, data: Mapping[str, Any], keys: tuple[str, ...]) -> Iterator[tuple[str, object]]:
    """Counts stay ints; measurements are rounded to 4 decimals."""
    for key in keys:
        if key in data:
            value = data[key]
            yield f"{prefix}{key}", value if isinstance(value, int) else round(float(value), 4)
