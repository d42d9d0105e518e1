"""Noise-aware comparison of a candidate against a baseline (seed 001's canary questions).

"Is the candidate's p95 more than 10 % worse?" is answered with a bootstrap
confidence interval of the relative change, not with two point estimates:
the gate says *regressed* only when the whole interval lies above the bound,
*within bound* when the whole interval lies at or below it, and
*inconclusive* when the run was too short or too noisy to tell.  An unchanged
target therefore does not flap, and a short run never fails by luck.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

REGRESSED, WITHIN, INCONCLUSIVE = "regressed", "within bound", "inconclusive"
MIN_SAMPLES = 20  # below this an interval of a tail percentile means little
DEFAULT_RESAMPLES = 1000


@dataclass(frozen=True)
class Comparison:
    """A measured change, its interval and what it means against the bound."""

    metric: str
    baseline: float
    candidate: float
    change: float
    low: float
    high: float
    bound: float
    confidence: float
    decision: str
    unit: str = "%"

    def message(self) -> str:
        """E.g. ``p95 +31.2 % (95 % CI +24.0 .. +38.5 %) > 10 %: regressed``."""
        relation = {REGRESSED: ">", WITHIN: "<=", INCONCLUSIVE: "vs"}[self.decision]
        level = round(self.confidence * 100)
        return (
            f"{self.metric} {self.change:+.1f} {self.unit} ({level} % CI {self.low:+.1f} .. {self.high:+.1f} "
            f"{self.unit}) {relation} {self.bound:g} {self.unit}: {self.decision}"
        )


def decide(low: float, high: float, bound: float, enough: bool = True) -> str:
    """Regressed only when the interval is wholly above the bound."""
    if not enough:
        return INCONCLUSIVE
    if low > bound:
        return REGRESSED
    if high <= bound:
        return WITHIN
    return INCONCLUSIVE


def compare_percentile(
    baseline_ms: Sequence[float],
    candidate_ms: Sequence[float],
    *,
    q: float = 95,
    bound_pct: float = 10.0,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Relative change of the q-th percentile, candidate over baseline, with a bootstrap interval."""
    import numpy as np

    a = np.asarray(baseline_ms, dtype=float)
    b = np.asarray(candidate_ms, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("both sides need samples to compare")
    rng = np.random.default_rng(seed)
    boot_a = np.percentile(a[rng.integers(0, a.size, (resamples, a.size))], q, axis=1)
    boot_b = np.percentile(b[rng.integers(0, b.size, (resamples, b.size))], q, axis=1)
    changes = 100.0 * (boot_b / np.maximum(boot_a, 1e-12) - 1.0)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(changes, [tail, 1.0 - tail])
    point_a, point_b = float(np.percentile(a, q)), float(np.percentile(b, q))
    change = 100.0 * (point_b / max(point_a, 1e-12) - 1.0)
    enough = min(a.size, b.size) >= MIN_SAMPLES
    return Comparison(
        metric=f"p{q:g}", baseline=point_a, candidate=point_b, change=change, low=float(low), high=float(high),
        bound=bound_pct, confidence=confidence, decision=decide(float(low), float(high), bound_pct, enough),
    )


def compare_error_rate(
    baseline: tuple[int, int],
    candidate: tuple[int, int],
    *,
    bound_points: float = 5.0,
    confidence: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Difference of error rates in percentage points, (errors, requests) per side, bootstrapped."""
    import numpy as np

    (errors_a, total_a), (errors_b, total_b) = baseline, candidate
    if min(total_a, total_b) <= 0 or not (0 <= errors_a <= total_a and 0 <= errors_b <= total_b):
        raise ValueError("error counts must lie between 0 and a positive request count")
    rng = np.random.default_rng(seed)
    rate_a, rate_b = errors_a / total_a, errors_b / total_b
    boot_a = rng.binomial(total_a, rate_a, resamples) / total_a
    boot_b = rng.binomial(total_b, rate_b, resamples) / total_b
    tail = (1.0 - confidence) / 2.0
    low, high = 100.0 * np.quantile(boot_b - boot_a, [tail, 1.0 - tail])
    enough = min(total_a, total_b) >= MIN_SAMPLES
    return Comparison(
        metric="error rate", baseline=100.0 * rate_a, candidate=100.0 * rate_b, change=100.0 * (rate_b - rate_a),
        low=float(low), high=float(high), bound=bound_points, confidence=confidence,
        decision=decide(float(low), float(high), bound_points, enough), unit="points",
    )
