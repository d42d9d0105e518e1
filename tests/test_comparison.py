"""The canary statistics: regressed only when the whole interval is above the bound.

Samples are drawn from seeded lognormal distributions (latency's usual shape),
so every figure here is reproducible and independent of this machine.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_prodready.gates import comparison
from pytest_prodready.gates.comparison import (
    INCONCLUSIVE,
    REGRESSED,
    WITHIN,
    compare_error_rate_blocks,
    compare_percentile,
    interval_decision,
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
    assert interval_decision(low, high, 10.0) == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.1, 1000.0), min_size=20, max_size=120),
    st.lists(st.floats(0.1, 1000.0), min_size=20, max_size=120),
    st.integers(0, 2**16),
)
def test_interval_is_ordered_and_decision_follows_it(a, b, seed):
    result = compare_percentile(a, b, resamples=200, seed=seed)
    assert result.low <= result.high
    # The rule written out here, not recomputed with interval_decision(): at least 20 samples make >= 10 blocks, enough to decide.
    expected = REGRESSED if result.low > result.bound else WITHIN if result.high <= result.bound else INCONCLUSIVE
    assert result.decision == expected, (result.low, result.high, result.bound)


# --- a baseline of several runs ------------------------------------------------------------


def _run(rng, scale: float, n: int = 200) -> list[float]:
    return list(scale * rng.lognormal(np.log(1.0), 0.3, n))


def test_a_candidate_inside_the_spread_of_the_baseline_runs_is_not_regressed():
    """Run-to-run spread: one baseline run at 1.0, another at 1.4; a candidate at 1.4 matches the second."""
    rng = np.random.default_rng(11)
    runs = [_run(rng, 1.0), _run(rng, 1.4)]
    candidate = _run(rng, 1.4)
    single = comparison.compare_percentile_runs(runs[:1], candidate)
    assert single.decision == comparison.REGRESSED  # against the lucky run alone it looks +40 %
    spread = comparison.compare_percentile_runs(runs, candidate)
    assert spread.decision != comparison.REGRESSED
    assert spread.low < 0 < 20 < spread.high  # the interval spans both runs


def test_a_candidate_worse_than_every_baseline_run_is_regressed():
    rng = np.random.default_rng(12)
    runs = [_run(rng, 1.0), _run(rng, 1.1), _run(rng, 0.95)]
    worse = comparison.compare_percentile_runs(runs, _run(rng, 1.8))  # the runs' spread widens the bound to ~30 %
    assert worse.decision == comparison.REGRESSED and worse.low > 10
    assert worse.baseline == pytest.approx(np.median([np.percentile(r, 95) for r in runs]))


def test_the_smallest_change_that_matters_raises_the_bound_for_a_fast_baseline():
    rng = np.random.default_rng(13)
    runs = [_run(rng, 0.2)]
    slower = _run(rng, 0.3)  # +50 %, but 0.1 ms at p95 ~ 0.33 ms
    assert comparison.compare_percentile_runs(runs, slower).decision == comparison.REGRESSED
    judged = comparison.compare_percentile_runs(runs, slower, min_change=0.5)
    assert judged.bound > 100 and judged.decision == comparison.WITHIN


def test_one_run_is_the_two_sample_comparison():
    rng = np.random.default_rng(14)
    base, cand = _run(rng, 1.0), _run(rng, 1.3)
    assert comparison.compare_percentile(base, cand) == comparison.compare_percentile_runs([base], cand)


@pytest.mark.parametrize("chunk_values", [1, 1000])
def test_chunked_resampling_gives_the_same_interval_as_one_pass(monkeypatch, chunk_values):
    """Resamples taken a chunk at a time (bounded memory) give the very interval of one pass; 301 and
    287 samples in 20 blocks leave a short last block, so the NaN-padded path runs too."""
    rng = np.random.default_rng(15)
    base, cand = list(rng.lognormal(np.log(10), 0.3, 301)), list(rng.lognormal(np.log(11), 0.3, 287))
    chunks = []
    whole_chunk = comparison._chunk_percentiles

    def counted(drawn, q):
        chunks.append(len(drawn))
        return whole_chunk(drawn, q)

    monkeypatch.setattr(comparison, "_chunk_percentiles", counted)
    args = {"q": 95, "bound_pct": 10.0, "resamples": 301, "seed": 7}
    one_pass = comparison.compare_percentile_runs([base], cand, **args)
    assert chunks == [301, 301]  # the default takes all resamples of each side at once
    chunks.clear()
    monkeypatch.setattr(comparison, "CHUNK_VALUES", chunk_values)
    chunked = comparison.compare_percentile_runs([base], cand, **args)
    assert len(chunks) > 2 and sum(chunks) == 2 * 301 and max(chunks) < 301
    assert chunked == one_pass


# --- the live canary's statistic: per-round ratios, trimmed --------------------------------------


def _rounds(rng, scale: float, rounds: int = 20, size: int = 25) -> list[list[float]]:
    return [list(scale * rng.lognormal(np.log(2.0), 0.25, size)) for _ in range(rounds)]


def _disturbed(blocks: list[list[float]], rounds: tuple[int, ...], factor: float) -> list[list[float]]:
    """A neighbour stalled the candidate's side in these rounds: every sample ``factor`` times slower."""
    return [[factor * s for s in block] if i in rounds else block for i, block in enumerate(blocks)]


def test_two_disturbed_rounds_do_not_decide_the_round_ratio_statistic():
    """Identical services, two of 20 rounds stalled 4x on the candidate side: the pooled p95 is driven, the trimmed ratio is not."""
    rng = np.random.default_rng(21)
    base, cand = _rounds(rng, 1.0), _disturbed(_rounds(rng, 1.0), (3, 11), 4.0)
    pooled = np.percentile(np.concatenate(cand), 95) / np.percentile(np.concatenate(base), 95) - 1.0
    assert pooled > 0.40  # the pooled p95 of the candidate's samples is driven by the two stalled rounds
    for q in (50, 95):
        robust = comparison.compare_round_ratios(base, cand, q=q)
        assert robust.decision != REGRESSED and abs(robust.change) < 8 and robust.high < 35, robust.message()


def test_a_30_percent_slowdown_in_every_round_is_regressed_by_the_round_ratio_statistic():
    rng = np.random.default_rng(22)
    base, cand = _rounds(rng, 1.0), _rounds(rng, 1.3)
    for q in (50, 95):
        found = comparison.compare_round_ratios(base, cand, q=q)
        assert found.decision == REGRESSED and found.low > 10 and 20 < found.change < 40, found.message()


def test_the_round_ratio_statistic_needs_ten_rounds_and_paired_blocks():
    rng = np.random.default_rng(23)
    assert comparison.compare_round_ratios(_rounds(rng, 1.0, 9), _rounds(rng, 2.0, 9)).decision == INCONCLUSIVE
    with pytest.raises(ValueError, match="paired blocks"):
        comparison.compare_round_ratios(_rounds(rng, 1.0, 10), _rounds(rng, 1.0, 11))


def test_trimmed_means_drop_the_share_at_each_end_and_keep_one_value():
    rows = np.array([[1.0, 2.0, 3.0, 4.0, 100.0], [5.0, 5.0, 5.0, 5.0, 5.0]])
    assert list(comparison.trimmed_means(rows, 0.2)) == [3.0, 5.0]
    assert list(comparison.trimmed_means(np.array([[1.0, 9.0]]), 0.5)) == [5.0]


def test_a_change_above_the_bound_but_within_the_spread_between_runs_is_inconclusive():
    """Runs at 0.85, 1.0 and 1.3: a candidate 30 % above the slowest could be the next run of the same build."""
    rng = np.random.default_rng(24)
    spread_runs = [_run(rng, 0.85), _run(rng, 1.0), _run(rng, 1.3)]
    candidate = _run(rng, 1.3 * 1.3)
    found = comparison.compare_percentile_runs(spread_runs, candidate, q=50)
    assert found.low > 10 and found.decision == INCONCLUSIVE, found.message()
    steady_runs = [_run(rng, 0.99), _run(rng, 1.0), _run(rng, 1.02)]
    steady = comparison.compare_percentile_runs(steady_runs, _run(rng, 1.5), q=50)
    assert steady.decision == REGRESSED and steady.bound < 25, steady.message()  # sampling noise alone: ~20 %


def test_the_spread_bound_grows_with_the_spread_between_runs():
    assert comparison.spread_bound(10.0, [2.0]) == pytest.approx(10.0)
    assert comparison.spread_bound(10.0, [2.0, 2.0]) == pytest.approx(10.0)
    sd = float(np.std(np.log([1.0, 1.2]), ddof=1))
    assert comparison.spread_bound(10.0, [1.0, 1.2]) == pytest.approx(100 * (1.1 * np.exp(comparison.SPREAD_Z * sd) - 1))
