"""Judging one gated case: thresholds first, then the stored baseline.

Kept apart from the pytest hook that calls it so the whole decision can be
tested with plain values.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..case_outcome import CaseOutcome
from . import baseline as baselines
from . import gate_spec
from .latency import LatencySummary

MAX_REPORTED_SAMPLES = 5000


def evaluate(
    spec: gate_spec.GateSpec,
    summary: LatencySummary,
    samples_ms: Sequence[float],
    *,
    nodeid: str,
    baseline: baselines.Baseline | None = None,
    metric: str = baselines.DEFAULT_METRIC,
    bound_pct: float = 10.0,
    min_change: baselines.MinChange = baselines.parse_min_change(baselines.DEFAULT_MIN_CHANGE),
    calibration_ms: Sequence[float] = (),
) -> CaseOutcome:
    """Check the summary against the gate's limits and, if given, the baseline.

    ``calibration_ms``: timings of fixed work taken between the samples; their
    median is this run's machine speed, which a baseline comparison allows for.
    """
    figures: dict[str, Any] = {
        "gate": spec.name or None,
        "limits": spec.limits(),
        "warn_limits": dict(spec.warn_limits),
        "latency": summary.to_dict(),
        "samples_ms": [round(s, 4) for s in samples_ms[:MAX_REPORTED_SAMPLES]],
    }
    speed = baselines.calibration_level(calibration_ms)
    if speed:
        figures["calibration_ms"] = round(speed, 5)
    failures = []
    misses = gate_spec.check(spec, summary)
    if misses:
        failures.append(f"{'; '.join(misses)} ({gate_spec.describe(summary)})")
    if baseline is not None:
        regression = baselines.compare(
            baseline, nodeid, {**summary.to_dict(), **({"calibration_ms": speed} if speed else {})}, metric, bound_pct,
            samples_ms, min_change.ms(limit_of(spec, metric)),
        )
        if regression is not None:
            figures["baseline"] = {"name": baseline.name, **regression.to_dict()}
            if regression.regressed:
                failures.append(regression.message())
    return CaseOutcome(figures=figures, failures=failures, warnings=_warnings(spec, summary, failures))


def limit_of(spec: gate_spec.GateSpec, metric: str) -> float | None:
    """The gate's limit on ``metric``, else its tightest latency limit: what a change is measured against."""
    own = getattr(spec, metric, None)
    if own is not None:
        return float(own)
    limits = [getattr(spec, key) for key in gate_spec.LATENCY_KEYS if getattr(spec, key) is not None]
    return float(min(limits)) if limits else None


def _warnings(spec: gate_spec.GateSpec, summary: LatencySummary, failures: list[str]) -> list[str]:
    """Warn-level misses matter only when the gate passed: a failure already says more."""
    misses = gate_spec.missed(spec.warn_limits, summary)
    if failures or not misses:
        return []
    return [f"{'; '.join(misses)} (warning level; {gate_spec.describe(summary)})"]
