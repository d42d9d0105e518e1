"""Key figures as JUnit ``<property>`` elements, for CI systems that read JUnit XML."""

from __future__ import annotations

from typing import Any, Iterator, Mapping


LATENCY_FIGURES = ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms", "ops_per_s", "timer_overhead_ns")
LOAD_FIGURES = ("requests", "failures", "rps", "error_ratio", "p95_ms", "p99_ms", "mean_ms")
CANARY_FIGURES = ("ratio", "change", "ci_low", "ci_high")


def junit_properties(figures: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """``prodready.p95_ms`` and friends: percentiles, limits, the baseline change and the canary comparisons."""
    yield from _numbers("prodready.", figures.get("latency", {}), LATENCY_FIGURES)
    for key, value in figures.get("limits", {}).items():
        yield f"prodready.limit.{key}", value
    yield from _numbers("prodready.load.", figures.get("load", {}), LOAD_FIGURES)
    baseline = figures.get("baseline")
    if baseline:
        yield "prodready.baseline.change_pct", baseline["change_pct"]
    canary = figures.get("canary")
    if canary:
        yield from _canary(canary)


def _canary(canary: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """``prodready.canary.decision``, then per metric e.g. ``prodready.canary.error_rate.change`` and its decision.

    The error rate has no ratio (it is compared in points), so it gets no ``.ratio`` property.
    """
    yield "prodready.canary.decision", canary["decision"]
    for comparison in canary["comparisons"]:
        prefix = f"prodready.canary.{comparison['metric'].replace(' ', '_')}."
        yield from _numbers(prefix, comparison, CANARY_FIGURES)
        yield f"{prefix}decision", comparison["decision"]


def _numbers(prefix: str, data: Mapping[str, Any], keys: tuple[str, ...]) -> Iterator[tuple[str, object]]:
    """Counts stay ints; measurements are rounded to 4 decimals; a missing or null figure is left out."""
    for key in keys:
        if data.get(key) is not None:
            value = data[key]
            yield f"{prefix}{key}", value if isinstance(value, int) else round(float(value), 4)
