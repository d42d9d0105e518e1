"""Gate thresholds: strict parsing that names the key, exact miss wording, profiles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_prodready.gates.latency import LatencySummary
from pytest_prodready.gates.gate_spec import (
    GATE_KEYS,
    LATENCY_KEYS,
    GateSpec,
    check,
    describe,
    parse_gate,
)
from pytest_prodready.gates.profiles import SHIPPED_PROFILES, merged_profiles
from pytest_prodready.limits import ThresholdError
from pytest_prodready.settings import Settings

NUMBER_KEYS = LATENCY_KEYS + ("min_ops_per_s",)
COUNT_MINIMUM = {"samples": 1, "warmup": 0, "concurrency": 1}


def summary(**figures) -> LatencySummary:
    base = {"n": 200, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "min_ms": 0.5, "max_ms": 4.0, "mean_ms": 1.2, "total_s": 0.24}
    return LatencySummary(**{**base, **figures})


def test_parse_gate_valid():
    spec = parse_gate({"p95_ms": 50, "p99_ms": 80.5, "samples": 20, "warmup": 0, "min_ops_per_s": 10}, "here")
    assert spec == GateSpec(p95_ms=50.0, p99_ms=80.5, samples=20, warmup=0, min_ops_per_s=10.0)
    assert isinstance(spec.p95_ms, float)
    assert spec.limits() == {"p95_ms": 50.0, "p99_ms": 80.5, "min_ops_per_s": 10.0}


def test_parse_gate_defaults():
    spec = parse_gate({}, "here")
    assert (spec.samples, spec.warmup, spec.concurrency, spec.limits()) == (100, 10, 1, {})


bad_numbers = st.one_of(
    st.floats(max_value=0.0),  # zero, negatives, -inf
    st.integers(max_value=0),
    st.just(math.nan),
    st.just(math.inf),
    st.booleans(),
    st.text(max_size=8),
    st.none(),
    st.lists(st.integers(min_value=1), max_size=2),
)


@given(st.sampled_from(NUMBER_KEYS), bad_numbers)
def test_malformed_number_threshold_names_the_key(key, value):
    with pytest.raises(ThresholdError) as excinfo:
        parse_gate({"p50_ms": 1, key: value}, "test_x.py::test_gate")
    message = str(excinfo.value)
    assert message.startswith(f"test_x.py::test_gate: {key}: expected a positive number")
    assert "\n" not in message


def bad_counts(minimum: int):
    return st.one_of(
        st.integers(max_value=minimum - 1),
        st.floats(allow_nan=True),  # 20.0 is not a whole number of samples either
        st.booleans(),
        st.text(max_size=8),
        st.none(),
    )


@given(st.sampled_from(sorted(COUNT_MINIMUM)).flatmap(lambda k: st.tuples(st.just(k), bad_counts(COUNT_MINIMUM[k]))))
def test_malformed_count_names_the_key(key_value):
    key, value = key_value
    with pytest.raises(ThresholdError) as excinfo:
        parse_gate({key: value}, "where")
    assert str(excinfo.value).startswith(f"where: {key}: expected a whole number >= {COUNT_MINIMUM[key]}")


@given(st.text(min_size=1, max_size=20).filter(lambda k: k not in GATE_KEYS), st.integers(min_value=1))
def test_unknown_key_is_named(key, value):
    with pytest.raises(ThresholdError) as excinfo:
        parse_gate({key: value}, "where")
    assert f"unknown threshold key {key!r}" in str(excinfo.value)


@pytest.mark.parametrize(
    ("raw", "key"),
    [({"p99_ms": -1}, "p99_ms"), ({"p95_ms": "fast"}, "p95_ms"), ({"foo_ms": 1}, "foo_ms"), ({"samples": 2.5}, "samples")],
)
def test_the_documented_examples(raw, key):
    with pytest.raises(ThresholdError, match=key):
        parse_gate(raw, "where")


@given(
    st.dictionaries(
        st.sampled_from(NUMBER_KEYS),
        st.one_of(st.integers(min_value=1, max_value=10**9), st.floats(min_value=1e-9, max_value=1e9)),
    ),
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
)
def test_any_positive_thresholds_parse(numbers, samples, warmup):
    spec = parse_gate({**numbers, "samples": samples, "warmup": warmup}, "where")
    assert spec.limits() == {k: float(v) for k, v in numbers.items()}
    assert (spec.samples, spec.warmup) == (samples, warmup)


def test_check_wording_exact():
    spec = GateSpec(p99_ms=50)
    assert check(spec, summary(p99_ms=63.1)) == ["p99 63.1 ms > 50 ms"]


def test_check_lists_every_miss_in_key_order():
    spec = GateSpec(p50_ms=1, p95_ms=2.5, p99_ms=50, max_ms=100, mean_ms=1)
    misses = check(spec, summary(p50_ms=1.04, p95_ms=2.56, p99_ms=50.0, max_ms=150.25, mean_ms=1.2))
    # p50 1.04 > 1 fails but prints as 1.0; p99 exactly at its limit passes.
    assert misses == ["p50 1.0 ms > 1 ms", "p95 2.6 ms > 2.5 ms", "max 150.2 ms > 100 ms", "mean 1.2 ms > 1 ms"]


def test_check_passes_at_and_below_limits():
    spec = GateSpec(p50_ms=1, p95_ms=2, p99_ms=3, max_ms=4, mean_ms=1.2, min_ops_per_s=100)
    assert check(spec, summary()) == []


def test_min_ops_per_s():
    """Throughput is n / total measured time; below the floor is a miss."""
    spec = GateSpec(min_ops_per_s=500)
    slow = summary(n=100, total_s=0.25)  # 400 ops/s
    assert check(spec, slow) == ["throughput 400.0 ops/s < 500 ops/s"]
    assert check(spec, summary(n=100, total_s=0.2)) == []  # exactly 500
    assert check(spec, summary(n=100, total_s=0.0)) == []  # unmeasurably fast


def test_describe():
    assert describe(summary(n=20, p50_ms=80, p95_ms=80, p99_ms=80, max_ms=80)) == (
        "n=20; p50 80.0, p95 80.0, p99 80.0, max 80.0"
    )


@pytest.mark.parametrize(("profile", "factor"), [("staging", 1.5), ("development", 3.0)])
def test_relaxed_profiles(profile, factor):
    """Same gates, latency limits multiplied, throughput floors divided, counts unchanged."""
    production, relaxed = SHIPPED_PROFILES["production"], SHIPPED_PROFILES[profile]
    assert relaxed.keys() == production.keys()
    for gate, spec in production.items():
        assert relaxed[gate].keys() == spec.keys()
        for key, value in spec.items():
            if key in LATENCY_KEYS:
                assert relaxed[gate][key] == pytest.approx(value * factor)
            elif key == "min_ops_per_s":
                assert relaxed[gate][key] == pytest.approx(value / factor)
            else:
                assert relaxed[gate][key] == value
        parse_gate(relaxed[gate], f"{profile}.{gate}")
    assert SHIPPED_PROFILES["staging"]["session_retrieval"]["p99_ms"] == 30


def test_every_shipped_gate_parses():
    for profile, table in SHIPPED_PROFILES.items():
        for gate, spec in table.items():
            parse_gate(spec, f"{profile}.{gate}")


def test_merged_profiles_overlays_gate_by_gate_without_mutating_shipped():
    merged = merged_profiles(
        {"production": {"session_retrieval": {"p99_ms": 5}, "mine": {"max_ms": 9}}, "ci": {"x": {"p50_ms": 1}}}
    )
    assert merged["production"]["session_retrieval"] == {"p95_ms": 10, "p99_ms": 5, "samples": 200, "warmup": 20}
    assert merged["production"]["mine"] == {"max_ms": 9}
    assert merged["ci"] == {"x": {"p50_ms": 1}}
    assert SHIPPED_PROFILES["production"]["session_retrieval"]["p99_ms"] == 20
    assert "mine" not in SHIPPED_PROFILES["production"]


def test_settings_gate_merges_profile_with_inline_overrides():
    settings = Settings(profile="staging", gates=SHIPPED_PROFILES["staging"])
    spec = settings.gate("session_retrieval", {"p99_ms": 25, "samples": 10}, "t.py::t")
    assert spec == GateSpec(name="session_retrieval", p95_ms=15.0, p99_ms=25.0, samples=10, warmup=20)


def test_settings_gate_inline_only():
    spec = Settings().gate(None, {"p95_ms": 50, "samples": 20, "warmup": 2}, "t.py::t")
    assert spec == GateSpec(name="", p95_ms=50.0, samples=20, warmup=2)


def test_settings_gate_inline_override_is_validated():
    settings = Settings(gates=SHIPPED_PROFILES["production"])
    with pytest.raises(ThresholdError, match=r"t\.py::t: p95_ms: expected a positive number, got 'fast'"):
        settings.gate("session_retrieval", {"p95_ms": "fast"}, "t.py::t")


def test_unknown_gate_name():
    settings = Settings(profile="production", gates=SHIPPED_PROFILES["production"])
    with pytest.raises(ThresholdError) as excinfo:
        settings.gate("sesion_retrieval", {}, "t.py::t")
    message = str(excinfo.value)
    assert message.startswith("t.py::t: gate 'sesion_retrieval' is not in profile 'production'")
    assert "session_retrieval" in message.split("known:")[1]


def test_int_too_large_for_a_float_is_a_threshold_error():
    """Not an OverflowError escaping as a traceback."""
    with pytest.raises(ThresholdError, match="p99_ms: expected a positive number"):
        parse_gate({"p99_ms": 10**400}, "where")


@pytest.mark.parametrize("key", ["samples", "warmup"])
def test_sample_counts_have_an_upper_bound(key):
    assert parse_gate({key: 1_000_000}, "here") is not None
    with pytest.raises(ThresholdError, match=f"here: {key}: at most 1,000,000, got 1,000,001"):
        parse_gate({key: 1_000_001}, "here")
