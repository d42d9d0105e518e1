"""The canary statistics: regressed only when the whole interval is above the bound.

Samples are drawn from seeded lognormal distributions (latency's usual shape),
so every figure here is reproducible and independent of this machine.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_prodready.gates.comparison import (
    INCONCLUSIVE,
    REGRESSED,
    WITHIN,
    compare_error_rate_blocks,
    compare_percentile,
    decide,
)


def latencies(seed: int, n: int, scale: float = 1.0) -> list[float]:
    """Lognormal latencies around 10 ms, multiplied by ``scale``."""
    return list(scale * np.random.default_rng(seed).lognormal(mean=np.log(10.0), sigma=0.3, size=n))


def test_a_30_percent_slowdown_is_regressed_and_the_interval_excludes_the_bound():
    result = compare_percentile(latencies(1, 400), latencies(2, 400, scale=1.3), bound_pct=10)
    assert result.decision == REGRESSED
    assert result.low > 10 and 20 < result.change < 45
    assert result.message().startswith(f"p95 +{result.change:.1f} % (95 % CI +")
    assert result.message().endswith("> 10 %: regressed")


def test_unchanged_targets_raise_no_false_alarm_over_many_comparisons():
    alarms = sum(
        compare_percentile(latencies(2 * trial, 300), latencies(2 * trial + 1, 300), seed=trial).decision == REGRESSED
        for trial in range(40)
    )
    assert alarms == 0, f"{alarms} false alarms in 40 comparisons of identical targets"


def test_a_small_difference_on_a_short_run_is_inconclusive_not_a_failure():
    result = compare_percentile(latencies(3, 30), latencies(4, 30, scale=1.12), bound_pct=10)
    assert result.decision == INCONCLUSIVE
    assert result.low <= 10 < result.high


def test_too_few_samples_are_inconclusive_whatever_the_figures():
    result = compare_percentile([10.0] * 5, [50.0] * 5, bound_pct=10)
    assert result.change == pytest.approx(400.0) and result.decision == INCONCLUSIVE


def error_blocks(errors: int, blocks: int = 20, size: int = 100) -> list[tuple[int, int]]:
    """``blocks`` blocks of ``size`` requests holding ``errors`` errors in all, spread as evenly as they go."""
    return [(errors // blocks + (i < errors % blocks), size) for i in range(blocks)]


def test_error_rate_difference_in_points():
    worse = compare_error_rate_blocks(error_blocks(10), error_blocks(240), bound_points=5)
    assert worse.decision == REGRESSED and worse.change == pytest.approx(11.5)
    same = compare_error_rate_blocks(error_blocks(10), error_blocks(12), bound_points=5)
    assert same.decision == WITHIN
    assert same.message().endswith("<= 5 points: within bound")


@pytest.mark.parametrize("bad", [((1, 0), (0, 10)), ((11, 10), (0, 10)), ((-1, 10), (0, 10))])
def test_error_rate_rejects_impossible_counts(bad):
    with pytest.raises(ValueError):
        compare_error_rate_blocks([bad[0]] * 10, [bad[1]] * 10)


@pytest.mark.parametrize(
    "low, high, expected", [(11.0, 30.0, REGRESSED), (-5.0, 10.0, WITHIN), (2.0, 14.0, INCONCLUSIVE)]
)
def test_decision_rule(low, high, expected):
    assert decide(low, high, 10.0) == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.1, 1000.0), min_size=20, max_size=120),
    st.lists(st.floats(0.1, 1000.0), min_size=20, max_size=120),
    st.integers(0, 2**16),
)
def test_interval_is_ordered_and_decision_follows_it(a, b, seed):
    result = compare_percentile(a, b, resamples=200, seed=seed)
    assert result.low <= result.high
    # The rule written out here, not recomputed with decide(): at least 20 samples make >= 10 blocks, enough to decide.
    expected = REGRESSED if result.low > result.bound else WITHIN if result.high <= result.bound else INCONCLUSIVE
    assert result.decision == expected, (result.low, result.high, result.bound)
