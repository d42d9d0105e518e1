"""Holding two interleaved samples against the canary bounds.

Each percentile and the error rate get a bootstrap interval
(:mod:`..gates.comparison`).  A percentile's change is the trimmed mean of
the per-round ratios (round i's candidate block over its baseline block),
so the few rounds a neighbour disturbed do not decide it.  The case fails only on an interval wholly above
its bound; an interval that straddles the bound is *inconclusive*, which the
spec's policy turns into a warning (``go``) or a failure (``no-go``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..gates.comparison import (
    INCONCLUSIVE,
    MIN_BLOCKS,
    MIN_SAMPLES,
    REGRESSED,
    WITHIN,
    Comparison,
    compare_error_rate_blocks,
    compare_round_ratios,
)
from ..case_outcome import CaseOutcome
from ..gates.latency import summarize
from .interleave import BASELINE, CANDIDATE, Interleaved, SideSamples
from .spec import DEFAULT_BOUND_PCT, CanarySpec

MAX_REPORTED_SAMPLES = 2000
REPORTED_PERCENTILES = (50, 95, 99)
NOT_GATED = "not gated"  # measured and reported, but no bound was set for it
NO_BASELINE = "no baseline"  # the baseline answered nothing successfully: nothing to compare with
NOT_MEASURED = "not measured"  # no round finished on both sides (the duration ran out first)


def judge(spec: CanarySpec, run: Interleaved, *, baseline_url: str, candidate_url: str) -> CaseOutcome:
    """The canary's figures, and why it failed or warned."""
    comparisons = _comparisons(spec, run)
    settled = _decided_without_statistics(run)
    decision = settled[0] if settled else overall(comparisons)
    figures = {"canary": _figures(spec, run, comparisons, decision, baseline_url, candidate_url)}
    failures = [f"canary {regression_message(c)}" for c in comparisons if c.decision == REGRESSED]
    if settled:
        failures.append(settled[1])
    undecided = [c for c in comparisons if c.decision == INCONCLUSIVE]
    doubts = [_inconclusive_message(spec, run, undecided)] if undecided and not failures else []
    if spec.inconclusive == "no-go":
        return CaseOutcome(figures=figures, failures=failures + doubts)
    return CaseOutcome(figures=figures, failures=failures, warnings=doubts)


def undecided(spec: CanarySpec, run: Interleaved) -> bool:
    """True when more rounds could settle the comparison: no metric regressed and one is inconclusive."""
    return _decided_without_statistics(run) is None and overall(_comparisons(spec, run)) == INCONCLUSIVE


def _decided_without_statistics(run: Interleaved) -> tuple[str, str] | None:
    """The decision and the reason when a side answered nothing or no round was measured; None otherwise."""
    base, cand = run.sides[BASELINE], run.sides[CANDIDATE]
    if not base.samples_ms and base.requests:
        return NO_BASELINE, (
            f"canary: the baseline answered none of its {base.requests} requests ({_examples(base)}); "
            "nothing to compare with"
        )
    if run.rounds == 0:
        return NOT_MEASURED, (
            f"canary: no round was measured on both sides ({run.stopped_early or 'no blocks planned'}); "
            "nothing to compare with"
        )
    if not cand.samples_ms:
        return REGRESSED, (
            f"canary: the candidate answered none of its {cand.requests} requests ({_examples(cand)}) "
            f"while the baseline answered {base.requests - base.errors} of {base.requests}"
        )
    return None


def overall(comparisons: list[Comparison]) -> str:
    """Regressed if any metric regressed, else inconclusive if any could not be decided."""
    decisions = {c.decision for c in comparisons}
    for decision in (REGRESSED, INCONCLUSIVE):
        if decision in decisions:
            return decision
    return WITHIN


def _comparisons(spec: CanarySpec, run: Interleaved) -> list[Comparison]:
    """Each percentile (trimmed mean of per-round ratios) and the error rate, over the rounds both sides measured."""
    base, cand, rounds = run.sides[BASELINE], run.sides[CANDIDATE], run.rounds
    found = []
    if any(base.block_samples[:rounds]) and any(cand.block_samples[:rounds]):
        for q in REPORTED_PERCENTILES:
            compared = compare_round_ratios(
                base.block_samples[:rounds], cand.block_samples[:rounds],
                q=q, bound_pct=spec.bounds_pct.get(q, DEFAULT_BOUND_PCT), confidence=spec.confidence,
            )
            found.append(compared if q in spec.bounds_pct else replace(compared, decision=NOT_GATED))
    if rounds:
        found.append(
            compare_error_rate_blocks(
                base.block_counts[:rounds], cand.block_counts[:rounds],
                bound_points=spec.error_points, confidence=spec.confidence,
            )
        )
    return found


def regression_message(c: Comparison) -> str:
    """E.g. ``p95 1.31x baseline (+31.2 %, 95 % CI +24.0 .. +38.5 %) > 10 %: regressed (2.61 vs 1.99 ms)``."""
    if c.unit == "points":
        return (
            f"error rate {c.candidate:.2f} % vs baseline {c.baseline:.2f} % ({c.change:+.2f} points, "
            f"{c.interval(2)}) > {c.bound:g} points: {c.decision}"
        )
    return (
        f"{c.metric} {ratio(c):.2f}x baseline ({c.change:+.1f} %, {c.interval()}) "
        f"> {c.bound:g} %: {c.decision} ({c.candidate:.2f} vs {c.baseline:.2f} ms)"
    )


def ratio(c: Comparison) -> float:
    """Candidate over baseline, for percentiles (1.31 is 31 % slower)."""
    return 1.0 + c.change / 100.0


def _inconclusive_message(spec: CanarySpec, run: Interleaved, undecided: list[Comparison]) -> str:
    level = round(spec.confidence * 100)
    parts = [
        f"{c.metric} {c.change:+.1f} {c.unit} ({level} % CI {c.low:+.1f} .. {c.high:+.1f}) vs bound {c.bound:g} {c.unit}"
        for c in undecided
    ]
    rounds, samples = run.rounds, min(len(side.samples_ms) for side in run.sides.values())
    if rounds < MIN_BLOCKS or samples < MIN_SAMPLES:
        why = (f"too short to decide: {rounds} rounds and {samples} samples per side, at least {MIN_BLOCKS} rounds "
               f"and {MIN_SAMPLES} samples are needed")
    else:
        why = f"{rounds} rounds, {samples} samples per side; the interval straddles the bound"
        why += ", more rounds would decide" if rounds < spec.most_rounds else f" at the plan's most, {spec.most_rounds} rounds"
    if run.stopped_early:
        why = f"{run.stopped_early}; {why}"
    return f"canary inconclusive: {'; '.join(parts)} ({why}; inconclusive = {spec.inconclusive})"


def _examples(side: SideSamples) -> str:
    return "; ".join(side.error_examples) or "no answer"


def _figures(
    spec: CanarySpec, run: Interleaved, comparisons: list[Comparison], decision: str, baseline_url: str, candidate_url: str
) -> dict[str, Any]:
    return {
        "baseline_url": baseline_url,
        "candidate_url": candidate_url,
        "decision": decision,
        "inconclusive_policy": spec.inconclusive,
        "plan": {
            "blocks": spec.rounds, "max_blocks": spec.most_rounds, "block_size": spec.block_size,
            "warmup": spec.warmup, "order": "ABBA",
        },
        "blocks_done": run.rounds_done,
        "stopped_early": run.stopped_early or None,
        "comparisons": [_comparison(c) for c in comparisons],
        "sides": {name: _side(side) for name, side in run.sides.items()},
    }


def _comparison(c: Comparison) -> dict[str, Any]:
    return {
        "metric": c.metric,
        "unit": c.unit,
        "baseline": round(c.baseline, 4),
        "candidate": round(c.candidate, 4),
        "ratio": round(ratio(c), 4) if c.unit == "%" else None,
        "change": round(c.change, 3),
        "ci_low": round(c.low, 3),
        "ci_high": round(c.high, 3),
        "bound": None if c.decision == NOT_GATED else c.bound,
        "confidence": c.confidence,
        "decision": c.decision,
    }


def _side(side: SideSamples) -> dict[str, Any]:
    latency = summarize(side.samples_ms).to_dict() if side.samples_ms else None
    return {
        "requests": side.requests,
        "errors": side.errors,
        "error_examples": list(side.error_examples),
        "latency": latency,
        "samples_ms": [round(s, 4) for s in side.samples_ms[:MAX_REPORTED_SAMPLES]],
    }
