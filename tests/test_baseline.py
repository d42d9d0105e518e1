"""The regression gate against a stored baseline, and gates under xdist.

Latency comes from an injected clock that advances a fixed step per reading,
so every figure is exact and no result depends on this machine's speed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_prodready.gates import baseline as baselines

FAKE_CLOCK_CONFTEST = '''
import os
import pytest


@pytest.fixture
def prodready_clock():
    """Each reading is STEP_MS later than the previous one: a sample lasts exactly STEP_MS."""
    step = int(float(os.environ["STEP_MS"]) * 1_000_000)
    now = [0]

    def clock():
        now[0] += step
        return now[0]

    return clock
'''

GATED_TESTS = '''
import pytest


@pytest.mark.perf_gate(p95_ms=1000, samples=30, warmup=3)
@pytest.mark.parametrize("case", range(4))
def test_lookup(latency, case):
    for _ in latency.samples():
        with latency.measure():
            pass
'''


@pytest.fixture
def gated(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(FAKE_CLOCK_CONFTEST)
    pytester.makepyfile(test_gated=GATED_TESTS)
    return pytester


def run(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, step_ms: float, *args: str) -> pytest.RunResult:
    monkeypatch.setenv("STEP_MS", str(step_ms))
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_regression_gate_fails_against_a_baseline_20_percent_faster(gated, monkeypatch):
    assert run(gated, monkeypatch, 10, "--prodready-save-baseline", "release-1").ret == 0
    saved = baselines.load(gated.path / ".prodready" / "baselines", "release-1")
    assert {figures["p95_ms"] for figures in saved.cases.values()} == {10.0}

    result = run(gated, monkeypatch, 12, "--prodready-compare", "release-1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*p95 regressed +20.0 % (95 % CI +20.0 .. +20.0 %; 12.00 ms vs baseline 10.00 ms) > 10 %*", "*READINESS: NO-GO*"]
    )


def test_regression_gate_passes_on_an_equal_run(gated, monkeypatch):
    run(gated, monkeypatch, 10, "--prodready-save-baseline", "release-1")
    result = run(gated, monkeypatch, 10, "--prodready-compare", "release-1", "--prodready-max-regression", "10%")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*READINESS: GO*"])
    case = json.loads((gated.path / "reports" / "readiness.json").read_text())["cases"][0]
    assert case["figures"]["baseline"]["change_pct"] == 0.0


def test_regression_bound_is_configurable(gated, monkeypatch):
    run(gated, monkeypatch, 10, "--prodready-save-baseline", "release-1")
    assert run(gated, monkeypatch, 12, "--prodready-compare", "release-1", "--prodready-max-regression", "25%").ret == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prodready-compare", "missing"], "baseline 'missing' not found"),
        (["--prodready-compare", "release-1", "--prodready-max-regression", "ten"], "expected a percentage"),
        (["--prodready-compare", "release-1", "--prodready-regression-metric", "p42_ms"], "p42_ms"),
        (["--prodready-save-baseline", "../escape"], "baseline name '../escape'"),
        (["--prodready-save-baseline", "nightly\n"], "baseline name 'nightly\\n'"),
        (["--prodready-compare", "release-1\n"], "baseline name 'release-1\\n'"),
    ],
)
def test_bad_baseline_options_are_one_line_usage_errors(gated, monkeypatch, args, message):
    run(gated, monkeypatch, 10, "--prodready-save-baseline", "release-1")
    result = run(gated, monkeypatch, 10, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.stderr.str()


def test_malformed_baseline_file_is_a_usage_error(gated, monkeypatch):
    folder = gated.path / ".prodready" / "baselines"
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text('{"version": 1, "cases": {"x": {"p95_ms": "slow"}}}')
    result = run(gated, monkeypatch, 10, "--prodready-compare", "broken")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: baseline */broken.json: not a pytest-prodready baseline*"])


def test_gates_under_xdist_give_the_serial_verdict_and_figures(gated, monkeypatch):
    def judged(*args: str) -> tuple[list[str], dict]:
        result = run(gated, monkeypatch, 7, *args)
        data = json.loads((gated.path / "reports" / "readiness.json").read_text())
        return result.outlines[-4:], data

    serial_lines, serial = judged()
    parallel_lines, parallel = judged("-n", "2")
    assert serial["verdict"] == parallel["verdict"]
    assert serial["categories"] == parallel["categories"]
    strip = lambda cases: [{k: v for k, v in c.items() if k != "duration_s"} for c in cases]  # noqa: E731
    assert strip(serial["cases"]) == strip(parallel["cases"])
    assert serial["cases"][0]["figures"]["latency"]["p95_ms"] == 7.0


def test_save_load_round_trip_and_compare(tmp_path: Path):
    path = baselines.save(tmp_path, "b", [("t::a", {"p50_ms": 1.0, "p95_ms": 2.0, "n": 5})])
    loaded = baselines.load(tmp_path, "b")
    assert path.name == "b.json" and loaded.cases == {"t::a": {"p50_ms": 1.0, "p95_ms": 2.0}}
    worse = baselines.compare(loaded, "t::a", {"p95_ms": 2.5}, "p95_ms", 10.0)
    assert worse is not None and worse.regressed and round(worse.change_pct, 6) == 25.0
    assert baselines.compare(loaded, "t::other", {"p95_ms": 9.0}, "p95_ms", 10.0) is None


@pytest.mark.parametrize("text, value", [("10%", 10.0), ("10", 10.0), (" 2.5 % ", 2.5), (0, 0.0)])
def test_parse_bound(text, value):
    assert baselines.parse_bound(text) == value


@pytest.mark.parametrize("text", ["-5%", "ten", "", "10%%", "1e3"])
def test_parse_bound_rejects(text):
    with pytest.raises(baselines.BaselineError, match="percentage"):
        baselines.parse_bound(text)


def test_compare_uses_the_bootstrap_interval_when_both_runs_kept_samples(tmp_path: Path):
    import numpy as np

    rng = np.random.default_rng(7)
    before = list(rng.lognormal(np.log(10.0), 0.3, 60))
    noisy_same = list(rng.lognormal(np.log(10.0), 0.3, 60))
    baselines.save(tmp_path, "b", [("t::a", {"p95_ms": float(np.percentile(before, 95)), "samples_ms": before})])
    loaded = baselines.load(tmp_path, "b")
    figures = {"p95_ms": float(np.percentile(noisy_same, 95))}
    regression = baselines.compare(loaded, "t::a", figures, "p95_ms", 10.0, noisy_same)
    assert regression is not None and regression.comparison is not None
    assert not regression.regressed, "an unchanged distribution must not fail on noise alone"
    assert regression.to_dict()["decision"] in ("within bound", "inconclusive")
    slower = [1.4 * s for s in before]
    worse = baselines.compare(loaded, "t::a", {"p95_ms": float(np.percentile(slower, 95))}, "p95_ms", 10.0, slower)
    assert worse.regressed and worse.comparison.low > 10


@pytest.mark.parametrize("name", ["nightly\n", "a\nb", "x" * 101, ".hidden", ""])
def test_baseline_names_are_refused_whole(tmp_path: Path, name):
    """``$`` matched before a final newline: 'nightly\\n' was accepted and named a file 'nightly\\n.json'."""
    with pytest.raises(baselines.BaselineError, match="baseline name"):
        baselines.baseline_path(tmp_path, name)
