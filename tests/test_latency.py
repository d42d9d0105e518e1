"""Latency figures: exact percentiles, warm-up discarded, an injectable clock."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_prodready.gates.latency import (
    LatencyRecorder,
    measure_timer_overhead,
    percentile,
    summarize,
)

from .clocks import ScriptedClock

# Realistic-to-extreme latencies in ms; bounded so the reference's weighted sum cannot overflow.
latencies = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)
samples_lists = st.lists(latencies, min_size=1, max_size=300)


def close(a: float, b: float, data) -> bool:
    """Equal up to rounding of an interpolation between the data's order statistics."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * max(data) + 1e-300)


def reference_percentiles(data: list[float]) -> list[float]:
    """p1..p99 by the standard library (it needs two points; one point is its own percentile)."""
    if len(data) == 1:
        return [data[0]] * 99
    return statistics.quantiles(data, n=100, method="inclusive")


def reference_percentile(data: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, written out by hand."""
    ordered = sorted(data)
    h = (len(ordered) - 1) * q / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


@given(st.lists(latencies, min_size=2, max_size=300))
def test_stdlib_inclusive_quantiles_match_numpy_linear(data):
    """The claim the reference rests on: statistics 'inclusive' == numpy 'linear' for p1..p99."""
    expected = np.percentile(np.asarray(data), list(range(1, 100)), method="linear")
    for got, want in zip(statistics.quantiles(data, n=100, method="inclusive"), expected):
        assert close(got, float(want), data)


@given(samples_lists)
def test_percentile_matches_stdlib_for_every_integer_percent(data):
    reference = reference_percentiles(data)
    for q in range(1, 100):
        assert close(percentile(data, q), reference[q - 1], data), q


@given(samples_lists, st.floats(min_value=0, max_value=100))
def test_percentile_matches_hand_interpolation_for_any_q(data, q):
    assert close(percentile(data, q), reference_percentile(data, q), data)


@given(samples_lists)
def test_percentile_ends_are_min_and_max(data):
    assert percentile(data, 0) == min(data)
    assert percentile(data, 100) == max(data)


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        summarize([])


@given(samples_lists, st.floats(min_value=0, max_value=1e6))
def test_summarize_matches_reference(data, overhead):
    summary = summarize(data, timer_overhead_ns=overhead)
    reference = reference_percentiles(data)
    assert summary.n == len(data)
    assert close(summary.p50_ms, reference[49], data)
    assert close(summary.p95_ms, reference[94], data)
    assert close(summary.p99_ms, reference[98], data)
    assert summary.min_ms == min(data)
    assert summary.max_ms == max(data)
    assert close(summary.mean_ms, math.fsum(data) / len(data), data)
    assert math.isclose(summary.total_s, math.fsum(data) / 1000.0, rel_tol=1e-9, abs_tol=1e-300)
    assert summary.min_ms <= summary.p50_ms <= summary.p95_ms <= summary.p99_ms <= summary.max_ms
    assert summary.timer_overhead_ns == overhead
    if summary.total_s > 0:
        assert math.isclose(summary.ops_per_s, len(data) / summary.total_s)
    else:
        assert summary.ops_per_s == math.inf
    as_dict = summary.to_dict()
    assert as_dict["ops_per_s"] == summary.ops_per_s and as_dict["n"] == len(data)


def test_summarize_known_values():
    """1..100 ms: p50 50.5, p95 95.05, p99 99.01; 100 ops in 5.05 s."""
    summary = summarize([float(i) for i in range(1, 101)])
    assert summary.p50_ms == pytest.approx(50.5)
    assert summary.p95_ms == pytest.approx(95.05)
    assert summary.p99_ms == pytest.approx(99.01)
    assert summary.total_s == pytest.approx(5.05)
    assert summary.ops_per_s == pytest.approx(100 / 5.05)


def clock_for(durations_ns: list[int], start: int = 1_000_000_000, gap: int = 17) -> ScriptedClock:
    """Readings so that successive start/stop pairs span exactly ``durations_ns``."""
    readings, now = [], start
    for duration in durations_ns:
        readings += [now, now + duration]
        now += duration + gap
    return ScriptedClock(readings)


def test_recorder_discards_warmup_and_keeps_exact_durations():
    durations = [900_000_000, 800_000_000, 5_000_000, 7_000_000, 1_500_000]
    clock = clock_for(durations)
    recorder = LatencyRecorder(clock=clock, samples=3, warmup=2)
    for _ in recorder.samples():
        with recorder.measure():
            pass
    assert recorder.samples_ms == [5.0, 7.0, 1.5]
    assert clock.reads == 10
    summary = recorder.summary()
    assert (summary.n, summary.max_ms, summary.p50_ms) == (3, 7.0, 5.0)


@given(
    st.lists(st.integers(min_value=0, max_value=10**12), min_size=0, max_size=40),
    st.integers(min_value=0, max_value=10),
)
def test_recorder_keeps_exactly_the_post_warmup_samples(durations, warmup):
    clock = clock_for(durations)
    recorder = LatencyRecorder(clock=clock, samples=max(len(durations) - warmup, 0), warmup=warmup)
    for iteration in recorder.samples():
        if iteration == len(durations):  # more warm-up than durations: stop when the clock runs out
            break
        with recorder.measure():
            pass
    assert recorder.samples_ms == [d / 1e6 for d in durations[warmup:]]


def test_samples_iterator_counts_warmup_plus_samples_and_overrides():
    recorder = LatencyRecorder(clock=lambda: 0, samples=5, warmup=3)
    assert list(recorder.samples()) == list(range(8))
    assert list(recorder.samples(n=2, warmup=0)) == [0, 1]


def test_second_samples_loop_starts_a_fresh_warmup():
    """Each samples() loop drops its own warm-up iterations."""
    clock = clock_for([1_000_000, 2_000_000, 3_000_000, 4_000_000])
    recorder = LatencyRecorder(clock=clock, samples=1, warmup=1)
    for _ in range(2):
        for _ in recorder.samples():
            with recorder.measure():
                pass
    assert recorder.samples_ms == [2.0, 4.0]


def test_timer_overhead_is_the_median_pair_cost():
    clock = clock_for([5, 100, 1, 3, 4], gap=1000)
    assert measure_timer_overhead(clock, rounds=5) == 4.0
    assert clock.reads == 10


def test_timer_overhead_with_constant_step_clock():
    ticks = iter(range(0, 10**6, 7))
    assert measure_timer_overhead(lambda: next(ticks), rounds=50) == 7.0
