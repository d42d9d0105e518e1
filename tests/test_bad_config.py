"""Malformed configuration stops a real pytest run with a usage error, never a traceback.

Hypothesis writes broken ``[tool.prodready]`` tables and perf-gate marker
thresholds into a project and runs pytest on it in a subprocess: every run
must end with exit code 4 and an ``ERROR:`` line naming the offending key.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pytest_prodready.settings import CONFIG_SCHEMA

KNOWN_KEYS = set(CONFIG_SCHEMA["properties"])
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

negative = st.integers(max_value=-1)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz -%", min_size=1, max_size=12)
# key -> values that can never be valid for it
BAD_VALUES = {
    "profile": st.one_of(st.integers(), st.booleans()),
    "target": st.one_of(st.integers(), st.booleans(), st.sampled_from(["", "ab"])),
    "allow_writes": st.one_of(st.integers(), words),
    "connect_timeout": st.one_of(st.integers(max_value=0), words, st.booleans()),
    "query_timeout": st.one_of(st.integers(max_value=0), words, st.booleans()),
    "volume": st.one_of(st.integers(), words),
    "regression_metric": st.one_of(st.integers(), words.filter(lambda w: not w.endswith("_ms"))),
    "html": st.one_of(st.integers(), st.booleans()),
}
unknown_keys = st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda key: key not in KNOWN_KEYS)
thresholds = st.sampled_from(["p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"])
bad_thresholds = st.one_of(negative, words, st.booleans())


def toml_value(value: object) -> str:
    """JSON's spelling of a string, integer or boolean is also TOML's."""
    return json.dumps(value)


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)


def assert_usage_error_naming(result: pytest.RunResult, naming: str) -> None:
    """Exit 4 and one ERROR: line holding ``naming``: the key as the message quotes it, not just its letters.

    A bare ``key in line`` would also be satisfied by the pytester path (it holds the test's name) or by
    the list of allowed keys, whatever the message said about the key.
    """
    output = result.stdout.str() + result.stderr.str()
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert len(errors) == 1 and naming in errors[0], output
    assert "Traceback" not in output


@SETTINGS
@given(data=st.data())
def test_a_malformed_prodready_table_is_a_usage_error_naming_the_key(pytester: pytest.Pytester, data):
    key = data.draw(st.one_of(st.sampled_from(sorted(BAD_VALUES)), unknown_keys), label="key")
    value = data.draw(BAD_VALUES.get(key, st.integers()), label="value")
    pytester.makepyprojecttoml(f"[tool.prodready]\n{key} = {toml_value(value)}\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    naming = f"[tool.prodready]: key {key!r}: " if key in BAD_VALUES else f"[tool.prodready]: unknown key {key!r} ("
    assert_usage_error_naming(run(pytester), naming)


@SETTINGS
@given(key=thresholds, value=bad_thresholds, in_marker=st.booleans())
def test_a_malformed_threshold_is_a_usage_error_naming_it(pytester: pytest.Pytester, key, value, in_marker):
    if in_marker:
        pytester.makepyprojecttoml("[tool.prodready]\n")
        marker = f"@pytest.mark.perf_gate({key}={value!r})"
        where = "::test_gate"
    else:
        pytester.makepyprojecttoml(f"[tool.prodready.profiles.production.session_retrieval]\n{key} = {toml_value(value)}\n")
        marker = '@pytest.mark.perf_gate("session_retrieval")'
        where = "profiles.production.session_retrieval"
    pytester.makepyfile(f"import pytest\n\n{marker}\ndef test_gate(latency):\n    pass\n")
    assert_usage_error_naming(run(pytester), f"{where}: {key}: expected a positive number, got {value!r}")
