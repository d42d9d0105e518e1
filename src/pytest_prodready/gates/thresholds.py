"""Gate thresholds: parsed once, validated strictly, checked against a summary.

A malformed threshold is a usage error that names the key, never a silent
pass: ``p99_ms=-1`` or ``p95_ms="fast"`` must stop the run before it starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

from .latency import LatencySummary

LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")


class ThresholdError(ValueError):
    """A threshold value or key is not acceptable; the message names it."""


@dataclass(frozen=True)
class GateSpec:
    """What a performance gate requires; ``None`` means 'not gated'."""

    name: str = ""
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None
    min_ops_per_s: float | None = None
    samples: int = 100
    warmup: int = 10
    concurrency: int = 1

    def limits(self) -> dict[str, float]:
        """The thresholds that are set, for reports."""
        return {
            key: getattr(self, key)
            for key in LATENCY_KEYS + ("min_ops_per_s",)
            if getattr(self, key) is not None
        }


_NUMBER_KEYS = LATENCY_KEYS + ("min_ops_per_s",)
_COUNT_KEYS = {"samples": 1, "warmup": 0, "concurrency": 1}
GATE_KEYS = tuple(f.name for f in fields(GateSpec))


def parse_gate(raw: Mapping[str, Any], where: str) -> GateSpec:
    """Build a GateSpec from marker kwargs or a config table; ``where`` prefixes errors."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _NUMBER_KEYS:
            values[key] = positive_number(value, f"{where}: {key}")
        elif key in _COUNT_KEYS:
            values[key] = whole_number(value, _COUNT_KEYS[key], f"{where}: {key}")
        elif key == "name":
            values[key] = str(value)
        else:
            allowed = ", ".join(k for k in GATE_KEYS if k != "name")
            raise ThresholdError(f"{where}: unknown threshold key {key!r} (expected one of: {allowed})")
    return GateSpec(**values)


def positive_number(value: Any, where: str) -> float:
    """A finite number > 0; ``where`` names the key in the error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ThresholdError(f"{where}: expected a positive number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or number <= 0:
        raise ThresholdError(f"{where}: expected a positive number, got {value!r}")
    return number


def fraction(value: Any, where: str) -> float:
    """A share from 0 to 1 inclusive (0 is a real limit: 'no errors at all')."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ThresholdError(f"{where}: expected a fraction from 0 to 1, got {value!r}")
    return float(value)


def whole_number(value: Any, minimum: int, where: str) -> int:
    """An int >= ``minimum``; bools are refused although Python counts them as ints."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ThresholdError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return value


def check(spec: GateSpec, summary: LatencySummary) -> list[str]:
    """Every threshold the summary misses, worded as 'p99 63.1 ms > 50 ms'."""
    misses = []
    for key in LATENCY_KEYS:
        limit = getattr(spec, key)
        measured = getattr(summary, key)
        if limit is not None and measured > limit:
            misses.append(f"{key[:-3]} {measured:.1f} ms > {limit:g} ms")
    if spec.min_ops_per_s is not None and summary.ops_per_s < spec.min_ops_per_s:
        misses.append(f"throughput {summary.ops_per_s:.1f} ops/s < {spec.min_ops_per_s:g} ops/s")
    return misses


def describe(summary: LatencySummary) -> str:
    """The figures that put a miss in context."""
    return (
        f"n={summary.n}; p50 {summary.p50_ms:.1f}, p95 {summary.p95_ms:.1f}, "
        f"p99 {summary.p99_ms:.1f}, max {summary.max_ms:.1f}"
    )
