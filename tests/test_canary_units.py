"""The live canary's pieces with plain values: the marker's spec, the ABBA sampler, the judgement.

No server and no real clock: the sampler gets a fake clock (a counter that
advances a fixed number of ns per read) and fake calls; the judgement gets
synthetic lognormal latencies from a seeded numpy generator.
"""

from __future__ import annotations

import math
import re
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_prodready.canary import interleave
from pytest_prodready.canary.exclusive import one_at_a_time
from pytest_prodready.canary.interleave import (
    BASELINE,
    CANDIDATE,
    MAX_ERROR_EXAMPLES,
    Interleaved,
    SideSamples,
)
from pytest_prodready.canary.judgement import (
    NO_BASELINE,
    NOT_GATED,
    NOT_MEASURED,
    judge,
    overall,
    undecided,
)
from pytest_prodready.canary.pair import CanaryPair, Endpoint
from pytest_prodready.canary.canary_run import CanaryRun
from pytest_prodready.canary.spec import CanarySpec, check_marker, parse_canary
from pytest_prodready.gates import comparison
from pytest_prodready.gates.comparison import (
    INCONCLUSIVE,
    MIN_BLOCKS,
    REGRESSED,
    WITHIN,
    compare_error_rate_blocks,
)
from pytest_prodready.limits import ThresholdError
from pytest_prodready.markers import MarkerError
from pytest_prodready.report.redaction import MASK, Redactor

from .clocks import ManualClock, StepClock

WHERE = "test_x.py::test_canary"
URLS = {"baseline_url": "http://127.0.0.1:8001", "candidate_url": "http://127.0.0.1:8002"}


# --- spec: marker kwargs -> CanarySpec ------------------------------------------------


def test_defaults_gate_p50_and_p95_at_ten_percent():
    """p99 is measured and reported but, by default, not gated (see the judgement tests)."""
    spec = parse_canary({}, WHERE)
    assert dict(spec.bounds_pct) == {50: 10.0, 95: 10.0}
    assert spec.error_points == 5.0
    assert (spec.rounds, spec.block_size, spec.planned_per_side) == (20, 25, 500)
    assert spec.inconclusive == "go"
    assert spec.confidence == 0.95


def test_the_runs_regression_bound_is_the_default_of_every_percentile():
    spec = parse_canary({"rounds": 4}, WHERE, default_bound_pct=15.0)
    assert dict(spec.bounds_pct) == {50: 15.0, 95: 15.0}
    assert spec.rounds == 4


def test_an_explicit_p95_bound_gates_p95_only():
    spec = parse_canary({"p95_pct": 20}, WHERE)
    assert dict(spec.bounds_pct) == {95: 20.0}


def test_plan_keys_are_read():
    spec = parse_canary(
        {"name": "search", "error_points": 2.5, "rounds": 4, "block_size": 10, "warmup": 0, "duration": "2m", "confidence": 0.9},
        WHERE,
    )
    assert (spec.error_points, spec.rounds, spec.block_size, spec.warmup, spec.duration_s, spec.confidence) == (
        2.5, 4, 10, 0, 120, 0.9,
    )


@pytest.mark.parametrize(("marker", "run", "expected"), [("no-go", "go", "no-go"), ("go", "no-go", "go")])
def test_the_markers_inconclusive_policy_wins_over_the_runs(marker, run, expected):
    assert parse_canary({"inconclusive": marker}, WHERE, inconclusive=run).inconclusive == expected


def test_without_a_marker_policy_the_runs_policy_applies():
    assert parse_canary({}, WHERE, inconclusive="no-go").inconclusive == "no-go"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("p95_pct", -1),
        ("p95_pct", "fast"),
        ("p50_pct", 0),
        ("p99_pct", True),
        ("error_points", -5),
        ("rounds", 1),
        ("rounds", 2.5),
        ("blocks", 1),
        ("block_size", 0),
        ("warmup", -1),
        ("duration", "soon"),
        ("confidence", 1.5),
        ("confidence", 1.0),
        ("confidence", 0.4),
        ("inconclusive", "maybe"),
        ("colour", "red"),
        ("severity", "loud"),
        ("name", ""),
    ],
)
def test_a_bad_value_is_a_threshold_error_naming_the_key(key, value):
    with pytest.raises(ThresholdError) as caught:
        parse_canary({key: value}, WHERE)
    message = str(caught.value)
    assert message.startswith(WHERE), message
    assert repr(key) in message or f": {key}" in message, message


not_positive = st.one_of(
    st.integers(max_value=0),
    st.floats(max_value=0.0),
    st.sampled_from([math.nan, math.inf, -math.inf, 10**400]),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=1), max_size=2),
)
BOUND_KEYS = st.sampled_from(["p50_pct", "p95_pct", "p99_pct", "error_points"])


@given(key=BOUND_KEYS, value=not_positive)
def test_any_non_positive_or_non_number_bound_is_rejected(key, value):
    with pytest.raises(ThresholdError, match=re.escape(f"{WHERE}: {key}: ")):
        parse_canary({key: value}, WHERE)


@given(key=BOUND_KEYS, value=st.floats(min_value=1e-6, max_value=1e6) | st.integers(min_value=1, max_value=10**6))
def test_any_positive_finite_bound_is_kept(key, value):
    spec = parse_canary({key: value}, WHERE)
    kept = spec.error_points if key == "error_points" else spec.bounds_pct[int(key[1:3])]
    assert kept == float(value)


def fake_item(fixtures: tuple[str, ...], *args, **kwargs) -> SimpleNamespace:
    marker = SimpleNamespace(args=args, kwargs=kwargs)
    return SimpleNamespace(nodeid=WHERE, fixturenames=fixtures, get_closest_marker=lambda name: marker if name == "canary" else None)


def test_check_marker_accepts_a_well_used_marker_and_ignores_other_tests():
    check_marker(fake_item(("canary",), rounds=4), 10.0, "go")
    check_marker(SimpleNamespace(nodeid=WHERE, fixturenames=(), get_closest_marker=lambda name: None), 10.0, "go")


@pytest.mark.parametrize(
    ("item", "error", "needle"),
    [
        (fake_item(("canary",), 10), MarkerError, "keyword arguments only"),
        (fake_item(("latency",), rounds=4), MarkerError, "'canary' fixture"),
        (fake_item(("canary",), rounds=1), ThresholdError, "rounds"),
    ],
)
def test_check_marker_rejects_misuse_naming_the_test(item, error, needle):
    """A marker used wrongly is a MarkerError; a bad value in a well-used marker is a ThresholdError."""
    with pytest.raises(error) as caught:
        check_marker(item, 10.0, "go")
    assert str(caught.value).startswith(WHERE) and needle in str(caught.value)


# --- interleave: ABBA blocks with an injected clock -----------------------------------------


class FakeService:
    """A side's calls: records the order, takes ``extra_ns`` of clock time, answers per ``answer(i)``."""

    def __init__(self, name: str, log: list[str], clock: StepClock, extra_ns: int = 0, answer=lambda i: None) -> None:
        self.name, self.log, self.clock, self.extra_ns, self.answer = name, log, clock, extra_ns, answer
        self.count = 0

    def __call__(self, left_s: float) -> str | None:
        assert left_s >= 0
        index = self.count
        self.count += 1
        self.log.append(self.name)
        self.clock.jump(self.extra_ns)
        return self.answer(index)


def test_schedule_swaps_who_goes_first_each_round():
    assert list(interleave.schedule(3)) == [BASELINE, CANDIDATE, CANDIDATE, BASELINE, BASELINE, CANDIDATE]


def test_blocks_run_in_abba_order_after_both_sides_warm_up():
    clock, log = StepClock(), []
    calls = {BASELINE: FakeService("B", log, clock), CANDIDATE: FakeService("C", log, clock)}
    run = interleave.sample(calls, rounds=3, block_size=2, warmup=2, duration_s=120, clock=clock)
    assert "".join(log) == "BBCC" + "BBCCCCBBBBCC"
    assert run.rounds_done == 3 and run.stopped_early == ""


def test_warm_up_stays_out_of_the_samples_and_latency_is_the_clocks():
    clock, log = StepClock(step_ns=1_000_000), []
    warm_errors = lambda i: "cold cache" if i < 3 else None  # only the 3 warm-up calls fail
    calls = {
        BASELINE: FakeService("B", log, clock, answer=warm_errors),
        CANDIDATE: FakeService("C", log, clock, extra_ns=2_000_000, answer=warm_errors),
    }
    run = interleave.sample(calls, rounds=2, block_size=4, warmup=3, duration_s=120, clock=clock)
    base, cand = run.sides[BASELINE], run.sides[CANDIDATE]
    assert calls[BASELINE].count == calls[CANDIDATE].count == 3 + 8
    assert (base.requests, base.errors, cand.requests, cand.errors) == (8, 0, 8, 0)
    assert base.samples_ms == [1.0] * 8  # one step between start and end reads
    assert cand.samples_ms == [3.0] * 8  # plus the 2 ms the candidate's call took
    assert base.block_samples == [[1.0] * 4] * 2 and cand.block_samples == [[3.0] * 4] * 2
    assert base.block_counts == cand.block_counts == [(0, 4), (0, 4)]


def test_errors_are_counted_with_at_most_five_examples_and_only_successes_are_latencies():
    clock, log = StepClock(), []
    every_third = lambda i: f"HTTP 500 #{i}" if i % 3 == 0 else None
    calls = {BASELINE: FakeService("B", log, clock), CANDIDATE: FakeService("C", log, clock, answer=every_third)}
    run = interleave.sample(calls, rounds=4, block_size=10, warmup=0, duration_s=120, clock=clock)
    cand = run.sides[CANDIDATE]
    assert cand.requests == 40
    assert cand.errors == 14  # 0, 3, ..., 39
    assert cand.error_examples == ["HTTP 500 #0", "HTTP 500 #3", "HTTP 500 #6", "HTTP 500 #9", "HTTP 500 #12"]
    assert len(cand.error_examples) == MAX_ERROR_EXAMPLES
    assert len(cand.samples_ms) == 40 - 14
    # per block: (errors, requests); block 1 holds requests 10..19, of which 12, 15, 18 failed
    assert cand.block_counts == [(4, 10), (3, 10), (3, 10), (4, 10)]
    assert [len(block) for block in cand.block_samples] == [6, 7, 7, 6]
    assert run.sides[BASELINE].errors == 0 and len(run.sides[BASELINE].samples_ms) == 40


def test_the_duration_deadline_stops_the_run_and_says_so():
    clock, log = StepClock(), []
    hang = lambda i: clock.jump(10 * 60 * 10**9) if i == 1 else None  # the candidate's 2nd request hangs 10 min
    calls = {BASELINE: FakeService("B", log, clock), CANDIDATE: FakeService("C", log, clock, answer=hang)}
    run = interleave.sample(calls, rounds=4, block_size=5, warmup=0, duration_s=120, clock=clock)
    assert "".join(log) == "BBBBB" + "CC"
    assert run.stopped_early == "stopped at the 120 s limit after 1 of 8 blocks"
    assert run.rounds_done == 0
    assert run.sides[BASELINE].requests == 5 and run.sides[CANDIDATE].requests == 2
    assert run.sides[CANDIDATE].block_counts == [(0, 2)]  # the cut block keeps what it measured


def test_a_side_whose_only_successes_lie_outside_the_paired_rounds_is_judged_not_crashed():
    """The deadline cuts round 1 after the candidate's block (C goes first in odd rounds), before the baseline's.

    The candidate failed all of round 0 and succeeded only in round 1, which has no baseline block to pair
    with: no percentile can be compared (this used to raise ValueError out of the canary fixture).
    """
    clock, log = StepClock(), []

    def candidate(i: int) -> str | None:
        if i == 9:
            clock.jump(10 * 60 * 10**9)  # the last request of its round-1 block hangs past the deadline
        return "HTTP 500 GET /search" if i < 5 else None

    calls = {BASELINE: FakeService("B", log, clock), CANDIDATE: FakeService("C", log, clock, answer=candidate)}
    run = interleave.sample(calls, rounds=4, block_size=5, warmup=0, duration_s=120, clock=clock)
    assert "".join(log) == "BBBBB" + "CCCCC" + "CCCCC"
    assert run.stopped_early == "stopped at the 120 s limit after 3 of 8 blocks"
    assert run.sides[CANDIDATE].block_counts == [(5, 5), (0, 5)]
    outcome = judge(CanarySpec(), run, **URLS)
    assert decisions(outcome) == {"error rate": INCONCLUSIVE}  # one paired round: too few to decide
    assert outcome.failures == []
    [warning] = outcome.warnings
    assert "stopped at the 120 s limit after 3 of 8 blocks" in warning


def test_the_deadline_bounds_the_warm_up_too():
    """Each call costs 30 s: four warm-up calls reach the 120 s limit, not 2 x 20 (which took 1,200 s)."""
    clock, log = StepClock(), []
    calls = {
        BASELINE: FakeService("B", log, clock, extra_ns=30 * 10**9),
        CANDIDATE: FakeService("C", log, clock, extra_ns=30 * 10**9),
    }
    run = interleave.sample(calls, rounds=20, block_size=25, warmup=20, duration_s=120, clock=clock)
    assert "".join(log) == "BBBB"
    assert run.stopped_early == "stopped at the 120 s limit during the warm-up"
    assert run.rounds_done == 0
    assert clock.now <= (120 + 30) * 10**9  # the duration plus, at most, the one call that crossed it
    assert all(s.requests == 0 and s.block_counts == [] for s in run.sides.values())
    outcome = judge(CanarySpec(), run, **URLS)
    assert outcome.figures["canary"]["decision"] == NOT_MEASURED
    assert ("canary: no round was measured on both sides (stopped at the 120 s limit during the warm-up); "
            "nothing to compare with") in outcome.failures


def test_every_call_is_given_the_seconds_left_and_a_hanging_side_cannot_overrun_the_duration():
    """The candidate hangs until its timeout, which it cuts to the seconds it is given (as the runner does).

    The clock stands still between reads, so at each call the time truly left is known exactly.
    """
    clock, seen = ManualClock(), []
    deadline_ns = 120 * 10**9

    def side_call(name: str, takes_s: float, error: str | None):
        def call(left_s: float) -> str | None:
            seen.append((name, left_s, (deadline_ns - clock.now) / 1e9))
            clock.spend_s(min(takes_s, left_s))
            return error

        return call

    calls = {BASELINE: side_call("B", 0.001, None), CANDIDATE: side_call("C", 50.0, "ReadTimeout: timed out")}
    run = interleave.sample(calls, rounds=4, block_size=5, warmup=2, duration_s=120, clock=clock)
    assert [name for name, _, _ in seen[:4]] == ["B", "B", "C", "C"]  # the warm-up calls are given it too
    for name, left_s, truly_left_s in seen:
        assert 0 < left_s <= truly_left_s, (name, left_s, truly_left_s)
        assert left_s == pytest.approx(truly_left_s)
    assert seen[3][1] == pytest.approx(120 - 50 - 0.002)  # the 2nd warm-up call of C: B's 2 ms and C's 50 s gone
    assert clock.now <= deadline_ns
    assert run.stopped_early.startswith("stopped at the 120 s limit after ")


def test_a_clock_moving_one_ns_per_read_never_leaves_an_empty_block():
    """Whatever read the deadline falls on, a block exists only with a request in it, and the run can be judged.

    A block opened after a last deadline check but before its first request used to stay empty, and an empty
    paired block made the error-rate comparison raise ValueError out of the canary fixture.
    """
    judged = set()
    for duration_ns in range(1, 30):  # the deadline on every read of the first rounds
        for block_size in (1, 2):
            for warmup in (0, 1):
                clock = StepClock(step_ns=1)
                calls = {BASELINE: FakeService("B", [], clock), CANDIDATE: FakeService("C", [], clock)}
                run = interleave.sample(calls, rounds=20, block_size=block_size, warmup=warmup,
                                        duration_s=(duration_ns + 0.5) / 1e9, clock=clock)
                where = (duration_ns, block_size, warmup)
                for measured in run.sides.values():
                    assert all(requests > 0 for _, requests in measured.block_counts), where
                    assert len(measured.block_samples) == len(measured.block_counts), where
                    assert sum(requests for _, requests in measured.block_counts) == measured.requests, where
                layout = tuple(tuple(measured.block_counts) for measured in run.sides.values())
                if layout not in judged:  # every latency is the same 1 ns: the layout is all judge() sees
                    judged.add(layout)
                    judge(CanarySpec(), run, **URLS)
    assert any(min(len(b), len(c)) >= 2 for b, c in judged), "the deadline never fell after a paired round"


def test_progress_reports_rounds():
    clock, lines = StepClock(), []
    calls = {BASELINE: FakeService("B", [], clock), CANDIDATE: FakeService("C", [], clock)}
    interleave.sample(calls, rounds=4, block_size=1, warmup=0, duration_s=120, clock=clock, progress=lines.append)
    assert lines[-1] == "canary: 4/4 rounds, baseline 4 requests / 0 errors, candidate 4 requests / 0 errors"


def test_an_extended_plan_keeps_the_abba_order_and_counts_every_round():
    clock, log = StepClock(), []
    calls = {BASELINE: FakeService("B", log, clock), CANDIDATE: FakeService("C", log, clock)}
    asked: list[int] = []

    def more(run: Interleaved) -> int:
        asked.append(run.rounds_done)
        return 2 if run.rounds_done < 5 else 0  # two more rounds while fewer than 5 were run

    run = interleave.sample(calls, rounds=3, block_size=1, warmup=0, duration_s=120, clock=clock, more=more)
    assert asked == [3, 5]
    assert "".join(log) == "BC" "CB" "BC" + "CB" "BC"  # round 4 continues the alternation
    assert run.rounds_done == run.rounds == 5 and run.stopped_early == ""


def test_an_extension_cut_by_the_duration_says_how_far_it_got():
    clock, log = StepClock(step_ns=10**9), []  # every clock read is one second
    calls = {BASELINE: FakeService("B", log, clock), CANDIDATE: FakeService("C", log, clock)}
    run = interleave.sample(calls, rounds=2, block_size=5, warmup=0, duration_s=40, clock=clock, more=lambda run: 2)
    # Two reads a request: a block of 5 takes 10 s, so 4 blocks fit in 40 s; the plan had grown to 4 rounds (8 blocks).
    assert run.stopped_early == "stopped at the 40 s limit after 4 of 8 blocks"
    assert run.rounds_done == 2


def test_only_an_undecided_comparison_asks_for_more_rounds_and_never_past_max_rounds():
    rng = np.random.default_rng(3)
    noisy = lambda factor: side(CANDIDATE, scaled(lognormal(rng, 10, 5, sigma=0.6), factor))  # noqa: E731
    undecided_run = run_of(side(BASELINE, lognormal(rng, 10, 5, sigma=0.6)), noisy(1.1))
    clear_run = run_of(side(BASELINE, lognormal(rng, 20, 50, sigma=0.1)), side(CANDIDATE, lognormal(rng, 20, 50, sigma=0.1)))
    spec = CanarySpec(rounds=10, block_size=5)
    assert undecided(spec, undecided_run) and not undecided(spec, clear_run)
    runner = SimpleNamespace(spec=spec)
    assert CanaryRun._more(runner, undecided_run) == 10  # rounds more
    assert CanaryRun._more(runner, clear_run) == 0
    assert CanaryRun._more(SimpleNamespace(spec=CanarySpec(rounds=10, max_rounds=14)), undecided_run) == 4
    assert CanaryRun._more(SimpleNamespace(spec=CanarySpec(rounds=10, max_rounds=10)), undecided_run) == 0


@pytest.mark.parametrize("raw, rounds", [({}, 80), ({"rounds": 10}, 40), ({"rounds": 10, "max_rounds": 10}, 10),
                                         ({"rounds": 400}, 1000)])
def test_an_undecided_plan_extends_to_four_times_its_rounds_by_default(raw, rounds):
    assert parse_canary(raw, WHERE).most_rounds == rounds


def test_max_rounds_below_rounds_is_a_usage_error():
    with pytest.raises(ThresholdError, match="max_rounds: at least rounds"):
        parse_canary({"rounds": 20, "max_rounds": 10}, WHERE)


def test_the_old_key_names_blocks_and_max_blocks_still_read_as_rounds_with_a_deprecation_warning():
    assert parse_canary({"blocks": 12, "max_blocks": 30}, WHERE) == parse_canary({"rounds": 12, "max_rounds": 30}, WHERE)
    with pytest.warns(pytest.PytestDeprecationWarning, match=r"canary\(blocks=\.\.\.\) is deprecated, use rounds="):
        check_marker(fake_item(("canary",), blocks=12), 10.0, "go")
    with pytest.raises(ThresholdError, match="blocks is the old name of rounds"):
        parse_canary({"blocks": 12, "rounds": 12}, WHERE)


def test_side_samples_add():
    side = SideSamples("candidate")
    side.add(2.0, None)
    side.add(9.0, "timeout")
    assert (side.requests, side.errors, side.samples_ms, side.error_examples) == (2, 1, [2.0], ["timeout"])


# --- judgement: block bootstrap comparison on synthetic samples --------------------------------------


def lognormal(rng: np.random.Generator, rounds: int, size: int, median_ms: float = 10.0, sigma: float = 0.25) -> list[list[float]]:
    return rng.lognormal(math.log(median_ms), sigma, (rounds, size)).tolist()


def side(name: str, blocks: list[list[float]], errors: list[int] | None = None, error: str = "HTTP 500 GET /search") -> SideSamples:
    """A side measured block by block, through SideSamples' own bookkeeping."""
    measured = SideSamples(name)
    for index, block in enumerate(blocks):
        answers = [(elapsed_ms, None) for elapsed_ms in block] + [(0.0, error)] * (errors[index] if errors else 0)
        for position, (elapsed_ms, outcome) in enumerate(answers):
            measured.add(elapsed_ms, outcome, new_block=position == 0)
    return measured


def run_of(base: SideSamples, cand: SideSamples, stopped_early: str = "") -> Interleaved:
    return Interleaved({BASELINE: base, CANDIDATE: cand}, rounds_done=len(base.block_counts), stopped_early=stopped_early)


def decisions(outcome) -> dict[str, str]:
    return {c["metric"]: c["decision"] for c in outcome.figures["canary"]["comparisons"]}


def scaled(blocks: list[list[float]], factor: float) -> list[list[float]]:
    return [[factor * s for s in block] for block in blocks]


def test_a_candidate_thirty_percent_slower_regresses_the_gated_percentiles():
    rng = np.random.default_rng(1)
    base, cand = lognormal(rng, 20, 100), scaled(lognormal(rng, 20, 100), 1.3)
    outcome = judge(CanarySpec(), run_of(side(BASELINE, base), side(CANDIDATE, cand)), **URLS)
    assert decisions(outcome) == {"p50": REGRESSED, "p95": REGRESSED, "p99": NOT_GATED, "error rate": WITHIN}
    assert len(outcome.failures) == 2
    for metric, failure in zip(("p50", "p95"), outcome.failures):
        match = re.match(rf"canary {metric} (\d\.\d\d)x baseline \(\+\d+\.\d %, 95 % CI \+[\d.]+ \.\. \+[\d.]+ %\) > 10 %: "
                         r"regressed \(\d+\.\d\d vs \d+\.\d\d ms\)$", failure)
        assert match, failure
        assert 1.2 < float(match.group(1)) < 1.4, failure
    assert outcome.figures["canary"]["decision"] == REGRESSED
    assert outcome.warnings == []


def test_an_explicit_p99_bound_gates_p99_too():
    rng = np.random.default_rng(1)
    base, cand = lognormal(rng, 20, 100), scaled(lognormal(rng, 20, 100), 1.3)
    spec = parse_canary({"p99_pct": 10}, WHERE)
    outcome = judge(spec, run_of(side(BASELINE, base), side(CANDIDATE, cand)), **URLS)
    assert decisions(outcome) == {"p50": NOT_GATED, "p95": NOT_GATED, "p99": REGRESSED, "error rate": WITHIN}
    [failure] = outcome.failures
    assert failure.startswith("canary p99 ")


def test_an_exactly_scaled_candidate_reports_its_ratio():
    base = lognormal(np.random.default_rng(3), 20, 50)
    outcome = judge(CanarySpec(bounds_pct={95: 10.0}), run_of(side(BASELINE, base), side(CANDIDATE, scaled(base, 1.3))), **URLS)
    [failure] = outcome.failures
    # the rounds are drawn in pairs, so an exact 1.3x candidate has a zero-width interval
    assert failure.startswith("canary p95 1.30x baseline (+30.0 %, 95 % CI +30.0 .. +30.0 %) > 10 %: regressed"), failure
    p95 = next(c for c in outcome.figures["canary"]["comparisons"] if c["metric"] == "p95")
    assert p95["ratio"] == pytest.approx(1.3)


def test_identical_distributions_are_within_bound():
    rng = np.random.default_rng(4)
    outcome = judge(CanarySpec(), run_of(side(BASELINE, lognormal(rng, 20, 150)), side(CANDIDATE, lognormal(rng, 20, 150))), **URLS)
    assert outcome.failures == [] and outcome.warnings == []
    assert decisions(outcome) == {"p50": WITHIN, "p95": WITHIN, "p99": NOT_GATED, "error rate": WITHIN}
    assert outcome.figures["canary"]["decision"] == WITHIN


def small_difference() -> Interleaved:
    """10 rounds of 10, the candidate 8 % slower: the p95 interval (trimmed per-round ratios, about -7 .. +27 %) straddles the 10 % bound."""
    rng = np.random.default_rng(20)
    base, cand = lognormal(rng, 10, 10, sigma=0.3), scaled(lognormal(rng, 10, 10, sigma=0.3), 1.08)
    return run_of(side(BASELINE, base), side(CANDIDATE, cand))


def test_a_small_difference_on_few_samples_is_inconclusive_a_warning_under_go():
    outcome = judge(CanarySpec(bounds_pct={95: 10.0}, inconclusive="go"), small_difference(), **URLS)
    assert decisions(outcome)["p95"] == INCONCLUSIVE
    assert outcome.failures == []
    [warning] = outcome.warnings
    assert warning.startswith("canary inconclusive: p95 +6.5 % (95 % CI "), warning
    assert "100 samples per side" in warning and "inconclusive = go" in warning
    assert outcome.figures["canary"]["decision"] == INCONCLUSIVE


def test_a_small_difference_on_few_samples_fails_under_no_go():
    outcome = judge(CanarySpec(bounds_pct={95: 10.0}, inconclusive="no-go"), small_difference(), **URLS)
    assert outcome.warnings == []
    [failure] = outcome.failures
    assert failure.startswith("canary inconclusive: p95 ") and "inconclusive = no-go" in failure


def test_fewer_rounds_than_the_minimum_never_regress_by_luck():
    rng = np.random.default_rng(5)
    base, cand = lognormal(rng, MIN_BLOCKS - 1, 50), scaled(lognormal(rng, MIN_BLOCKS - 1, 50), 1.5)
    outcome = judge(CanarySpec(), run_of(side(BASELINE, base), side(CANDIDATE, cand)), **URLS)
    assert decisions(outcome)["p50"] == decisions(outcome)["p95"] == INCONCLUSIVE
    assert outcome.failures == [] and len(outcome.warnings) == 1


def test_an_inconclusive_run_cut_short_says_why():
    run = small_difference()
    run.stopped_early = "stopped at the 120 s limit after 3 of 40 blocks"
    [warning] = judge(CanarySpec(bounds_pct={95: 10.0}), run, **URLS).warnings
    assert "stopped at the 120 s limit after 3 of 40 blocks" in warning


def test_a_baseline_without_one_success_fails_with_nothing_to_compare_with():
    rng = np.random.default_rng(8)
    base = side(BASELINE, [[] for _ in range(10)], errors=[4] * 10, error="HTTP 503 GET /search")
    outcome = judge(CanarySpec(), run_of(base, side(CANDIDATE, lognormal(rng, 10, 4))), **URLS)
    assert (
        "canary: the baseline answered none of its 40 requests (HTTP 503 GET /search; HTTP 503 GET /search; "
        "HTTP 503 GET /search; HTTP 503 GET /search; HTTP 503 GET /search); nothing to compare with"
    ) in outcome.failures, outcome.failures
    assert outcome.figures["canary"]["decision"] == NO_BASELINE == "no baseline"
    assert outcome.figures["canary"]["sides"]["baseline"]["latency"] is None


@pytest.mark.parametrize("rounds", [1, 3, MIN_BLOCKS])
def test_a_candidate_that_answered_nothing_regresses_however_few_rounds_there_were(rounds):
    """Every candidate request timed out while the baseline answered: a regression, not an undecided GO.

    With fewer than MIN_BLOCKS rounds (a candidate that times out gets few rounds into the duration) the
    error-rate interval alone is inconclusive, which used to make this a GO with a warning.
    """
    rng = np.random.default_rng(14)
    base = side(BASELINE, lognormal(rng, rounds, 2))
    cand = side(CANDIDATE, [[] for _ in range(rounds)], errors=[2] * rounds, error="ReadTimeout: timed out")
    outcome = judge(CanarySpec(inconclusive="go"), run_of(base, cand), **URLS)
    examples = "; ".join(["ReadTimeout: timed out"] * min(2 * rounds, MAX_ERROR_EXAMPLES))
    assert (
        f"canary: the candidate answered none of its {2 * rounds} requests ({examples}) "
        f"while the baseline answered {2 * rounds} of {2 * rounds}"
    ) in outcome.failures, outcome.failures
    assert outcome.figures["canary"]["decision"] == REGRESSED
    assert outcome.warnings == []
    assert outcome.figures["canary"]["sides"]["candidate"]["latency"] is None


def test_a_candidate_error_rate_twenty_points_higher_fails_in_points():
    rng = np.random.default_rng(9)
    base = side(BASELINE, lognormal(rng, 20, 25))
    cand = side(CANDIDATE, lognormal(rng, 20, 20), errors=[5] * 20)
    outcome = judge(CanarySpec(), run_of(base, cand), **URLS)
    assert decisions(outcome)["error rate"] == REGRESSED
    [failure] = outcome.failures
    assert failure == "canary error rate 20.00 % vs baseline 0.00 % (+20.00 points, 95 % CI +20.00 .. +20.00 points) " \
                      "> 5 points: regressed"
    error_rate = outcome.figures["canary"]["comparisons"][-1]
    assert (error_rate["metric"], error_rate["unit"]) == ("error rate", "points")


def test_bursty_candidate_errors_twenty_points_higher_still_fail():
    rng = np.random.default_rng(10)
    base = side(BASELINE, lognormal(rng, 20, 25))
    bursts = [25 if i % 5 == 0 else 1 for i in range(20)]  # 4 blocks of outage, else 1 error in 25
    cand = side(CANDIDATE, [lognormal(rng, 1, 25 - e)[0] for e in bursts], errors=bursts)
    outcome = judge(CanarySpec(), run_of(base, cand), **URLS)
    assert cand.errors == 4 * 25 + 16 and cand.requests == 500
    assert decisions(outcome)["error rate"] == REGRESSED
    [failure] = outcome.failures
    assert failure.startswith("canary error rate 23.20 % vs baseline 0.00 % (+23.20 points, 95 % CI +")


def test_figures_describe_the_plan_and_both_sides():
    rng = np.random.default_rng(11)
    base, cand = lognormal(rng, 4, 10), lognormal(rng, 4, 10)
    figures = judge(CanarySpec(rounds=4, block_size=10, warmup=2), run_of(side(BASELINE, base), side(CANDIDATE, cand)),
                    **URLS).figures["canary"]
    assert figures["plan"] == {"blocks": 4, "max_blocks": 16, "block_size": 10, "warmup": 2, "order": "ABBA"}
    assert (figures["baseline_url"], figures["candidate_url"]) == (URLS["baseline_url"], URLS["candidate_url"])
    assert figures["sides"]["candidate"]["requests"] == 40
    assert figures["sides"]["candidate"]["samples_ms"] == [round(s, 4) for block in cand for s in block]
    assert figures["stopped_early"] is None
    assert [c["metric"] for c in figures["comparisons"]] == ["p50", "p95", "p99", "error rate"]


def test_overall_prefers_regressed_then_inconclusive():
    def c(decision):
        return SimpleNamespace(decision=decision)

    assert overall([c(WITHIN), c(INCONCLUSIVE), c(REGRESSED)]) == REGRESSED
    assert overall([c(WITHIN), c(INCONCLUSIVE)]) == INCONCLUSIVE
    assert overall([c(WITHIN), c(NOT_GATED)]) == WITHIN


def test_a_candidate_that_was_never_measured_is_not_a_pass():
    run = run_of(side(BASELINE, lognormal(np.random.default_rng(13), 1, 5)), side(CANDIDATE, []),
                 stopped_early="stopped at the 120 s limit after 0 of 40 blocks")
    outcome = judge(CanarySpec(), run, **URLS)
    assert any("no round was measured on both sides" in f for f in outcome.failures)
    assert outcome.figures["canary"]["decision"] == "not measured"


# --- comparison: the block bootstrap's minimum and its chunked resampling --------------------------


@pytest.mark.parametrize(("blocks", "decision"), [(2, INCONCLUSIVE), (MIN_BLOCKS - 1, INCONCLUSIVE), (MIN_BLOCKS, REGRESSED)])
def test_the_block_error_rate_needs_min_blocks_rounds_to_decide(blocks, decision):
    """0 % vs 35 % in every block: the interval is +35 .. +35 points, yet too few rounds cannot decide it."""
    compared = compare_error_rate_blocks([(0, 100)] * blocks, [(35, 100)] * blocks, bound_points=5.0)
    assert (compared.low, compared.high) == (pytest.approx(35.0), pytest.approx(35.0))
    assert compared.decision == decision


# --- pair: an endpoint's key stays out of its repr -------------------------------------------------


def test_an_endpoints_repr_never_shows_its_api_key():
    endpoint = Endpoint("http://127.0.0.1:8001", api_key="s3cr3t-key")
    pair = CanaryPair(endpoint, Endpoint("http://127.0.0.1:8002", api_key="other-s3cr3t"))
    assert repr(endpoint) == "Endpoint(url='http://127.0.0.1:8001')"
    assert "s3cr3t" not in repr(pair) and "s3cr3t" not in str(pair)
    assert "http://127.0.0.1:8002" in repr(pair)
    assert endpoint.api_key == "s3cr3t-key"


# --- redaction: secrets made during the run ----------------------------------------------------------


def test_a_remembered_secret_is_masked_and_short_values_are_ignored():
    redactor = Redactor(["known-secret"])
    assert redactor.text("key k3y-made-now") == "key k3y-made-now"
    redactor.remember("k3y-made-now", None, "abc", "", "k3y-made-now-too")
    assert redactor.text("keys k3y-made-now and k3y-made-now-too, known-secret") == f"keys {MASK} and {MASK}, {MASK}"
    assert redactor.text("abc is 123 abc") == "abc is 123 abc"  # 3 characters: too short to be anyone's secret
    assert redactor.value({"detail": ["k3y-made-now"]}) == {"detail": [MASK]}


# --- exclusive: one canary measurement at a time -----------------------------------------------------


def test_a_held_turn_excludes_another_open_of_the_same_lock_file_even_in_this_process(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    lock_file = tmp_path / "canary.lock"

    def try_lock() -> bool:
        with lock_file.open("a") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other, fcntl.LOCK_UN)
            return True

    with one_at_a_time(lock_file):
        assert not try_lock()
    assert try_lock()


def test_two_holders_never_overlap(tmp_path):
    """The second holder asks while the first holds on; it gets its turn only after the first let go.

    The first holder keeps its turn until the second has started asking and then gives it a bounded chance
    to barge in (a wait on an event, never a sleep): a lock that let both in records "second in" before
    "first out".  The log's order is the assertion.
    """
    pytest.importorskip("fcntl")
    lock_file = tmp_path / "canary.lock"
    log: list[str] = []
    first_in, second_asking, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with one_at_a_time(lock_file):
            log.append("first in")
            first_in.set()
            second_asking.wait(timeout=10)
            second_in.wait(timeout=0.5)
            log.append("first out")

    def second() -> None:
        first_in.wait(timeout=10)
        second_asking.set()
        with one_at_a_time(lock_file):
            log.append("second in")
            second_in.set()
            log.append("second out")

    threads = [threading.Thread(target=holder, daemon=True) for holder in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), log
    assert log == ["first in", "first out", "second in", "second out"]
