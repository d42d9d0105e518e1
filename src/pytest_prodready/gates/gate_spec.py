"""Gate thresholds: parsed once, validated strictly, checked against a summary.

A malformed threshold is a usage error that names the key, never a silent
pass: ``p99_ms=-1`` or ``p95_ms="fast"`` must stop the run before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from ..limits import LimitKind, ThresholdError, parse_limits, whole_number
from .latency import LatencySummary

LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")


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
    warn_limits: Mapping[str, float] = field(default_factory=dict)

    def limits(self) -> dict[str, float]:
        """The fail-level thresholds that are set, for reports."""
        return {
            key: getattr(self, key)
            for key in LATENCY_KEYS + ("min_ops_per_s",)
            if getattr(self, key) is not None
        }


_COUNT_KEYS = {"samples": 1, "warmup": 0, "concurrency": 1}
# A gate keeps every sample (percentiles, the report's histogram, the baseline file): a typo like
# samples = 10**9 would fill the memory and never end, so it is a usage error instead.
MAX_SAMPLES = 1_000_000
_COUNT_MAXIMUM = {"samples": MAX_SAMPLES, "warmup": MAX_SAMPLES}
GATE_KEYS = tuple(f.name for f in fields(GateSpec) if f.name != "warn_limits") + ("severity",)


def parse_gate(raw: Mapping[str, Any], where: str) -> GateSpec:
    """Build a GateSpec from marker kwargs or a config table; ``where`` prefixes errors.

    A limit is a number (fail level) or ``{warn = .., fail = ..}``; ``severity``
    moves levels between warn and fail, as :mod:`.severity` explains (a
    profile's ``escalate_warnings`` is applied to the case's warnings, in
    :func:`..case_warnings.escalate`).
    """
    values: dict[str, Any] = {}
    limits = parse_limits(raw, _GATE_LIMITS, where)
    for key, value in raw.items():
        if key in _GATE_LIMITS or key == "severity":
            continue
        if key in _COUNT_KEYS:
            values[key] = whole_number(value, _COUNT_KEYS[key], f"{where}: {key}", _COUNT_MAXIMUM.get(key))
        elif key == "name":
            values[key] = str(value)
        else:
            allowed = ", ".join(k for k in GATE_KEYS if k != "name")
            raise ThresholdError(f"{where}: unknown threshold key {key!r} (expected one of: {allowed})")
    return GateSpec(**values, **limits.fail_values(), warn_limits=limits.warn)


_GATE_LIMITS = {key: LimitKind() for key in LATENCY_KEYS} | {"min_ops_per_s": LimitKind(higher_is_worse=False)}


def check(spec: GateSpec, summary: LatencySummary) -> list[str]:
    """Every fail-level threshold the summary misses, worded as 'p99 63.1 ms > 50 ms'."""
    return missed(spec.limits(), summary)


def missed(limits: Mapping[str, float], summary: LatencySummary) -> list[str]:
    """Every limit of ``limits`` (fail or warn level) the summary misses."""
    misses = []
    for key in LATENCY_KEYS:
        limit = limits.get(key)
        measured = getattr(summary, key)
        if limit is not None and measured > limit:
            misses.append(f"{key[:-3]} {measured:.1f} ms > {limit:g} ms")
    floor = limits.get("min_ops_per_s")
    if floor is not None and summary.ops_per_s < floor:
        misses.append(f"throughput {summary.ops_per_s:.1f} ops/s < {floor:g} ops/s")
    return misses


def describe(summary: LatencySummary) -> str:
    """The figures that put a miss in context."""
    return (
        f"n={summary.n}; p50 {summary.p50_ms:.1f}, p95 {summary.p95_ms:.1f}, "
        f"p99 {summary.p99_ms:.1f}, max {summary.max_ms:.1f}"
    )
