"""Gate thresholds: parsed once, validated strictly, checked against a summary.

A malformed threshold is a usage error that names the key, never a silent
pass: ``p99_ms=-1`` or ``p95_ms="fast"`` must stop the run before it starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from .. import severity as severities
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


@dataclass(frozen=True)
class LimitKind:
    """How one limit is read: the check of its numbers, and which way a measurement is worse."""

    number: Callable[[Any, str], float] | None = None  # default: a positive number
    higher_is_worse: bool = True


@dataclass(frozen=True)
class Limits:
    """The limits given, each at its fail and / or warn level once ``severity`` moved them."""

    given: tuple[str, ...]
    fail: dict[str, float]
    warn: dict[str, float]

    def fail_values(self) -> dict[str, float | None]:
        """Every given limit's fail level; None for one left with a warn level only."""
        return {key: self.fail.get(key) for key in self.given}


def parse_limits(raw: Mapping[str, Any], kinds: Mapping[str, LimitKind], where: str) -> Limits:
    """The warn / fail limits among ``raw``'s keys: the one limits model of performance gates and load runs.

    Each key of ``kinds`` found in ``raw`` is a number (its fail level) or
    ``{warn = .., fail = ..}``; ``raw["severity"]``, when given, moves the
    levels (:func:`..severity.split`).  Other keys are the caller's to read.
    """
    levels = {
        key: parse_levels(value, f"{where}: {key}", higher_is_worse=kinds[key].higher_is_worse, number=kinds[key].number)
        for key, value in raw.items()
        if key in kinds
    }
    severity = check_severity(raw["severity"], f"{where}: severity") if "severity" in raw else None
    fail, warn = severities.split(levels, severity)
    return Limits(tuple(levels), fail, warn)


_GATE_LIMITS = {key: LimitKind() for key in LATENCY_KEYS} | {"min_ops_per_s": LimitKind(higher_is_worse=False)}


def parse_levels(
    value: Any,
    where: str,
    *,
    higher_is_worse: bool = True,
    number: Callable[[Any, str], float] | None = None,
) -> severities.Levels:
    """A number (the fail level) or ``{"warn": .., "fail": ..}`` whose warn level is the stricter.

    ``number`` checks each level (default: a positive number).
    """
    number = number or positive_number
    if not isinstance(value, Mapping):
        return severities.Levels(fail=number(value, where))
    unknown = set(value) - set(severities.SEVERITIES)
    if unknown or not value:
        raise ThresholdError(f"{where}: expected a number or {{warn = .., fail = ..}}, got {dict(value)!r}")
    levels = severities.Levels(
        **{level: number(given, f"{where}.{level}") for level, given in value.items()}
    )
    if levels.warn is not None and levels.fail is not None:
        stricter = levels.warn < levels.fail if higher_is_worse else levels.warn > levels.fail
        if not stricter:
            raise ThresholdError(f"{where}: the warn level {levels.warn:g} must be stricter than the fail level {levels.fail:g}")
    return levels


def check_severity(value: Any, where: str) -> str:
    """'fail' or 'warn'; anything else is a usage error."""
    if value not in severities.SEVERITIES:
        raise ThresholdError(f"{where}: expected one of {', '.join(severities.SEVERITIES)}, got {value!r}")
    return value


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


def whole_number(value: Any, minimum: int, where: str, maximum: int | None = None) -> int:
    """An int >= ``minimum`` (and <= ``maximum``); bools are refused although Python counts them as ints."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ThresholdError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ThresholdError(f"{where}: at most {maximum:,}, got {value:,}")
    return value


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
