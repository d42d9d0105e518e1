"""Noise-aware comparison of a candidate against a baseline (seed 001's canary questions).

"Is the candidate's p95 more than 10 % worse?" is answered with a bootstrap
confidence interval of the relative change, not with two point estimates:
the gate says *regressed* only when the whole interval lies above the bound,
*within bound* when the whole interval lies at or below it, and
*inconclusive* when the run was too short or too noisy to tell.  An unchanged
target therefore does not flap, and a short run never fails by luck.

Latencies measured one after another are not independent: a noisy
neighbour slows a whole stretch of them.  Resampling single samples then
gives intervals far too narrow: identical services can come out "regressed"
with an interval that excludes zero.  So the bootstrap resamples *blocks* of consecutive samples,
and for a live canary whole *rounds* (one baseline block and the candidate
block measured next to it, together), which keeps what the machine did to
both sides paired.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

REGRESSED, WITHIN, INCONCLUSIVE = "regressed", "within bound", "inconclusive"
MIN_SAMPLES = 20  # below this an interval of a tail percentile means little
MIN_BLOCKS = 10  # with fewer, a block bootstrap understates the spread and a short run could fail by luck
CHUNK_VALUES = 2_000_000  # values drawn at a time (16 MB), whatever the plan
DEFAULT_BLOCKS = 20  # a stored run's samples are cut into this many consecutive blocks
DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
SPREAD_Z = 2.0  # run-to-run standard deviations a candidate must exceed the bound by before it counts as regressed
ROUND_TRIM = 0.2  # share of rounds dropped at each end before averaging per-round ratios


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

    def interval(self, digits: int = 1) -> str:
        """E.g. ``95 % CI +24.0 .. +38.5 %``."""
        return interval_text(self.low, self.high, self.confidence, self.unit, digits)

    def message(self) -> str:
        """E.g. ``p95 +31.2 % (95 % CI +24.0 .. +38.5 %) > 10 %: regressed``."""
        relation = {REGRESSED: ">", WITHIN: "<="}.get(self.decision, "vs")
        return (
            f"{self.metric} {self.change:+.1f} {self.unit} ({self.interval()}) {relation} {self.bound:g} {self.unit}: "
            f"{self.decision}"
        )


def interval_text(
    low: float, high: float, confidence: float = DEFAULT_CONFIDENCE, unit: str = "%", digits: int = 1
) -> str:
    """``95 % CI +24.0 .. +38.5 %``: the one wording of an interval, in failure messages and reports alike."""
    return f"{round(confidence * 100)} % CI {low:+.{digits}f} .. {high:+.{digits}f} {unit}"


def interval_decision(low: float, high: float, bound: float, enough: bool = True) -> str:
    """Regressed only when the interval is wholly above the bound."""
    if not enough:
        return INCONCLUSIVE
    if low > bound:
        return REGRESSED
    if high <= bound:
        return WITHIN
    return INCONCLUSIVE


def blocks_of(samples: Sequence[float], count: int = DEFAULT_BLOCKS) -> list[list[float]]:
    """Consecutive samples cut into ``count`` blocks (fewer when there are fewer samples)."""
    size = max(1, -(-len(samples) // count))
    return [list(samples[i : i + size]) for i in range(0, len(samples), size)]


def compare_percentile(
    baseline_ms: Sequence[float],
    candidate_ms: Sequence[float],
    *,
    q: float = 95,
    bound_pct: float = 10.0,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    blocks: int = DEFAULT_BLOCKS,
) -> Comparison:
    """Relative change of the q-th percentile of two runs, each cut into ``blocks`` consecutive blocks."""
    return compare_percentile_runs(
        [baseline_ms], candidate_ms, q=q, bound_pct=bound_pct, confidence=confidence, resamples=resamples, seed=seed,
        blocks=blocks,
    )


def compare_percentile_runs(
    baseline_runs: Sequence[Sequence[float]],
    candidate_ms: Sequence[float],
    *,
    q: float = 95,
    bound_pct: float = 10.0,
    min_change: float = 0.0,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    blocks: int = DEFAULT_BLOCKS,
) -> Comparison:
    """Relative change of the q-th percentile of one run against a baseline of one or more stored runs.

    The bound a regression must clear grows with the spread between the
    runs: ``(1 + bound) * exp(SPREAD_Z * sd)`` - 1, sd being the standard
    deviation of the runs' log percentiles.  A gate whose runs agree keeps
    its bound; one whose runs differ by 30 % says *inconclusive* rather
    than fail the next run on the same noise.

    One run of a process varies from the next by more than its own samples
    show (start-up, caches, neighbours): 0.17 and 0.22 ms p95 for the same
    build, back to back.  So the candidate is compared with *each* baseline
    run (a block bootstrap of both), and the interval runs from the lowest
    of those intervals to the highest: *regressed* means worse than every
    baseline run, the slowest included, by more than the bound; *within
    bound* means within it of every run, the fastest included.  The point
    change is against the median of the runs' percentiles.  ``min_change``
    (in the samples' unit) is the smallest difference that matters: the bound
    is raised to it where the baseline is so fast that the bound is less.
    """
    import numpy as np

    runs = [run for run in baseline_runs if len(run)]
    if not runs or not len(candidate_ms):
        raise ValueError("both sides need samples to compare")
    rng = np.random.default_rng(seed)
    cand = _padded(blocks_of(candidate_ms, blocks))
    boot_b = _percentiles(cand, rng.integers(0, len(cand), (resamples, len(cand))), q)
    lows, highs, base_blocks = [], [], []
    for run in runs:
        base = _padded(blocks_of(run, blocks))
        boot_a = _percentiles(base, rng.integers(0, len(base), (resamples, len(base))), q)
        low, high = _interval(100.0 * (boot_b / np.maximum(boot_a, 1e-12) - 1.0), confidence)
        lows.append(low)
        highs.append(high)
        base_blocks.append(len(base))
    levels = [float(np.percentile(run, q)) for run in runs]
    level, point = float(np.median(levels)), float(np.percentile(candidate_ms, q))
    bound = max(bound_pct, 100.0 * min_change / max(level, 1e-12))
    margin = spread_bound(bound, levels)
    enough = min(min(map(len, runs)), len(candidate_ms)) >= MIN_SAMPLES and min(len(cand), *base_blocks) >= MIN_BLOCKS
    low, high = min(lows), max(highs)
    decision = interval_decision(low, high, bound, enough)
    if decision == REGRESSED and low <= margin:
        decision = INCONCLUSIVE  # above the bound, but not above the runs' own spread
    return Comparison(
        metric=f"p{q:g}", baseline=level, candidate=point, change=100.0 * (point / max(level, 1e-12) - 1.0),
        low=low, high=high, bound=margin if low > bound else bound, confidence=confidence,
        decision=decision,
    )


def spread_bound(bound_pct: float, levels: Sequence[float]) -> float:
    """The bound (in %) widened by the spread between baseline runs' levels; one run has no spread."""
    import numpy as np

    logs = np.log(np.maximum(np.asarray(levels, dtype=float), 1e-12))
    spread = float(np.std(logs, ddof=1)) if logs.size > 1 else 0.0
    return 100.0 * ((1.0 + bound_pct / 100.0) * float(np.exp(SPREAD_Z * spread)) - 1.0)


def compare_round_ratios(
    baseline_blocks: Sequence[Sequence[float]],
    candidate_blocks: Sequence[Sequence[float]],
    *,
    q: float = 95,
    bound_pct: float = 10.0,
    trim: float = ROUND_TRIM,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """Change of the q-th percentile as the trimmed mean of per-round ratios, bootstrapped over rounds.

    Round i's two blocks were measured side by side, so their ratio cancels
    what the machine did during that round.  A pooled percentile lets two
    rounds a neighbour disturbed drive the whole figure; the trimmed mean
    of the rounds' log ratios drops the ``trim`` share at each end, so a few
    disturbed rounds move it little.  The bootstrap draws whole rounds.
    """
    import numpy as np

    a, b = _padded(baseline_blocks), _padded(candidate_blocks)
    if len(a) != len(b):
        raise ValueError(f"paired blocks need the same count on both sides, got {len(a)} and {len(b)}")
    flat_a, flat_b = a[~np.isnan(a)], b[~np.isnan(b)]
    if flat_a.size == 0 or flat_b.size == 0:
        raise ValueError("both sides need samples to compare")
    with _quiet():
        per_a, per_b = np.nanpercentile(a, q, axis=1), np.nanpercentile(b, q, axis=1)
    paired = np.isfinite(per_a) & np.isfinite(per_b) & (per_a > 0) & (per_b > 0)
    logs = np.log(per_b[paired] / per_a[paired])
    if logs.size == 0:
        raise ValueError("no round has samples on both sides")
    rng = np.random.default_rng(seed)
    boot = trimmed_means(logs[rng.integers(0, logs.size, (resamples, logs.size))], trim)
    low, high = _interval(100.0 * np.expm1(boot), confidence)
    change = 100.0 * float(np.expm1(trimmed_means(logs[None, :], trim)[0]))
    enough = min(flat_a.size, flat_b.size) >= MIN_SAMPLES and logs.size >= MIN_BLOCKS
    return Comparison(
        metric=f"p{q:g}", baseline=float(np.percentile(flat_a, q)), candidate=float(np.percentile(flat_b, q)),
        change=change, low=low, high=high, bound=bound_pct, confidence=confidence,
        decision=interval_decision(low, high, bound_pct, enough),
    )


def trimmed_means(rows: Any, trim: float) -> Any:
    """Mean of each row without its ``trim`` share of lowest and of highest values (at least one value kept)."""
    import numpy as np

    ordered = np.sort(rows, axis=1)
    cut = min(int(trim * ordered.shape[1]), (ordered.shape[1] - 1) // 2)
    return ordered[:, cut : ordered.shape[1] - cut].mean(axis=1)


def compare_error_rate_blocks(
    baseline_blocks: Sequence[tuple[int, int]],
    candidate_blocks: Sequence[tuple[int, int]],
    *,
    bound_points: float = 5.0,
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    paired: bool = True,
) -> Comparison:
    """Difference of error rates in points, (errors, requests) per block; errors come in bursts, so blocks are drawn."""
    import numpy as np

    _check_counts(list(baseline_blocks) + list(candidate_blocks))
    a, b = np.asarray(baseline_blocks, dtype=float), np.asarray(candidate_blocks, dtype=float)
    rng = np.random.default_rng(seed)
    pick_a, pick_b = _draws(rng, len(a), len(b), resamples, paired)
    boot_a = a[pick_a, 0].sum(axis=1) / a[pick_a, 1].sum(axis=1)
    boot_b = b[pick_b, 0].sum(axis=1) / b[pick_b, 1].sum(axis=1)
    rate_a, rate_b = float(a[:, 0].sum() / a[:, 1].sum()), float(b[:, 0].sum() / b[:, 1].sum())
    enough = min(a[:, 1].sum(), b[:, 1].sum()) >= MIN_SAMPLES and min(len(a), len(b)) >= MIN_BLOCKS
    return _rate_comparison(rate_a, rate_b, boot_a, boot_b, bool(enough), bound_points, confidence)


def _check_counts(pairs: Sequence[tuple[int, int]]) -> None:
    if not pairs or any(total <= 0 or not 0 <= errors <= total for errors, total in pairs):
        raise ValueError("error counts must lie between 0 and a positive request count")


def _rate_comparison(
    rate_a: float, rate_b: float, boot_a: Any, boot_b: Any, enough: bool, bound: float, confidence: float
) -> Comparison:
    low, high = (100.0 * x for x in _interval(boot_b - boot_a, confidence))
    return Comparison(
        metric="error rate", baseline=100.0 * rate_a, candidate=100.0 * rate_b, change=100.0 * (rate_b - rate_a),
        low=low, high=high, bound=bound, confidence=confidence, decision=interval_decision(low, high, bound, enough), unit="points",
    )


def _padded(blocks: Sequence[Sequence[float]]) -> Any:
    """Blocks as rows of one float array, short rows padded with NaN."""
    import numpy as np

    width = max((len(block) for block in blocks), default=0)
    rows = np.full((len(blocks), max(width, 1)), np.nan)
    for index, block in enumerate(blocks):
        rows[index, : len(block)] = block
    return rows


def _draws(rng: Any, count_a: int, count_b: int, resamples: int, paired: bool) -> tuple[Any, Any]:
    """Block indices per resample; the same ones for both sides when the blocks are paired."""
    if paired and count_a != count_b:
        raise ValueError(f"paired blocks need the same count on both sides, got {count_a} and {count_b}")
    pick_a = rng.integers(0, count_a, (resamples, count_a))
    return pick_a, pick_a if paired else rng.integers(0, count_b, (resamples, count_b))


def _percentiles(blocks: Any, picks: Any, q: float) -> Any:
    """The q-th percentile of each resample (one row of ``picks``: the blocks it drew); NaN padding is ignored.

    Resamples are taken a chunk at a time: all at once, a long plan would
    need gigabytes (1,000 resamples x every sample).
    """
    import numpy as np

    chunk = max(1, CHUNK_VALUES // max(1, blocks.size))
    found = [_chunk_percentiles(blocks[picks[start : start + chunk]], q) for start in range(0, len(picks), chunk)]
    return np.concatenate(found)


def _chunk_percentiles(drawn: Any, q: float) -> Any:
    import numpy as np

    flat = drawn.reshape(drawn.shape[0], -1)
    if not np.isnan(flat).any():
        return np.percentile(flat, q, axis=1)
    with _quiet():
        return np.nanpercentile(flat, q, axis=1)


def _interval(values: Any, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` share of the resampled changes."""
    import numpy as np

    tail = (1.0 - confidence) / 2.0
    with _quiet():
        low, high = np.nanquantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


@contextmanager
def _quiet() -> Iterator[None]:
    """numpy warns on an all-NaN resample (every drawn block empty); such a draw is simply skipped."""
    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
