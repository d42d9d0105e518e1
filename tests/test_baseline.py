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


@pytest.fixture
def prodready_calibration():
    """Off unless CALIBRATE is set: a fixed-step clock times the calibration at one step, like every sample."""
    return (lambda: None) if os.environ.get("CALIBRATE") else None
'''

GATED_TESTS = '''
import pytest


@pytest.mark.perf_gate(p95_ms=20, samples=30, warmup=3)
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


def run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, step_ms: float, *args: str, calibrate: bool = False
) -> pytest.RunResult:
    monkeypatch.setenv("STEP_MS", str(step_ms))
    if calibrate:
        monkeypatch.setenv("CALIBRATE", "1")
    else:
        monkeypatch.delenv("CALIBRATE", raising=False)
    return project.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_regression_gate_fails_against_a_baseline_20_percent_faster(gated, monkeypatch):
    assert run(gated, monkeypatch, 10, "--prodready-save-baseline", "release-1").ret == 0
    saved = baselines.load(gated.path / ".prodready" / "baselines", "release-1")
    assert {figures["p95_ms"] for figures in saved.cases.values()} == {10.0}

    result = run(gated, monkeypatch, 12, "--prodready-compare", "release-1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*p50 regressed +20.0 % (95 % CI +20.0 .. +20.0 %; 12.00 ms vs baseline 10.00 ms) > 10 %*", "*READINESS: NO-GO*"]
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


# --- several runs per baseline: the spread between runs, and the smallest change that matters ---


def test_saving_again_adds_a_run_and_the_candidate_must_be_worse_than_every_run(gated, monkeypatch):
    """Runs of 10, 10.5 and 11 ms: 11.5 ms is within 10 % of the slowest; 14.5 ms is 31.8 % above it,
    clearing the 10 % bound widened by the runs' spread (21 %; 13.2 ms, +20 %, would not)."""
    folder = gated.path / ".prodready" / "baselines"
    assert run(gated, monkeypatch, 10, "--prodready-save-baseline", "one").ret == 0
    assert run(gated, monkeypatch, 11.5, "--prodready-compare", "one").ret == 1  # +15 % on a single run
    for step_ms in (10, 10.5, 11):
        assert run(gated, monkeypatch, step_ms, "--prodready-save-baseline", "spread").ret == 0
    saved = baselines.load(folder, "spread")
    assert [{f["p95_ms"] for f in cases.values()} for cases in saved.runs] == [{10.0}, {10.5}, {11.0}]

    within_spread = run(gated, monkeypatch, 11.5, "--prodready-compare", "spread")
    assert within_spread.ret == 0, within_spread.stdout.str()
    figures = json.loads((gated.path / "reports" / "readiness.json").read_text())["cases"][0]["figures"]["baseline"]
    assert figures["baseline_runs"] == 3 and figures["decision"] == "inconclusive"
    assert (figures["ci_low_pct"], figures["ci_high_pct"]) == (pytest.approx(4.545, abs=0.01), pytest.approx(15.0))

    worse = run(gated, monkeypatch, 14.5, "--prodready-compare", "spread")
    assert worse.ret == 1
    worse.stdout.fnmatch_lines(
        ["*p50 regressed +38.1 % (95 % CI +31.8 .. +45.0 %; 14.50 ms vs baseline 10.50 ms over 3 runs) > 21 % "
         "(10 % widened by the spread between baseline runs)*"]
    )


def test_a_regression_smaller_than_the_difference_that_matters_passes(gated, monkeypatch):
    """+20 % of 10 ms is 2 ms: under a 5 ms minimum it is within bound, under 1 ms it fails."""
    run(gated, monkeypatch, 10, "--prodready-save-baseline", "b")
    assert run(gated, monkeypatch, 12, "--prodready-compare", "b", "--prodready-min-regression", "5ms").ret == 0
    assert run(gated, monkeypatch, 12, "--prodready-compare", "b", "--prodready-min-regression", "1ms").ret == 1
    fails = run(gated, monkeypatch, 16, "--prodready-compare", "b", "--prodready-min-regression", "25%")
    fails.stdout.fnmatch_lines(["*p50 regressed +60.0 %*> 50 % (the 5 ms that matters)*"])  # 25 % of the 20 ms limit


def test_saving_onto_a_file_that_is_not_a_baseline_is_a_usage_error_and_leaves_it(gated, monkeypatch):
    folder = gated.path / ".prodready" / "baselines"
    folder.mkdir(parents=True)
    (folder / "b.json").write_text('{"something": "else"}')
    result = run(gated, monkeypatch, 10, "--prodready-save-baseline", "b")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: baseline */b.json: not a pytest-prodready baseline*"])
    assert (folder / "b.json").read_text() == '{"something": "else"}'


def test_a_baseline_keeps_its_newest_runs(tmp_path: Path):
    for index in range(baselines.MAX_RUNS + 2):
        baselines.save(tmp_path, "b", [("t::a", {"p95_ms": float(index)})])
    loaded = baselines.load(tmp_path, "b")
    assert [cases["t::a"]["p95_ms"] for cases in loaded.runs] == [float(i) for i in range(2, baselines.MAX_RUNS + 2)]


def test_a_version_1_file_reads_as_one_run(tmp_path: Path):
    (tmp_path / "old.json").write_text(json.dumps({"version": 1, "saved_at": "x", "cases": {"t::a": {"p95_ms": 2.0}}}))
    loaded = baselines.load(tmp_path, "old")
    assert loaded.runs == [{"t::a": {"p95_ms": 2.0}}] and loaded.saved_at == ["x"]
    baselines.save(tmp_path, "old", [("t::a", {"p95_ms": 3.0})])
    assert len(baselines.load(tmp_path, "old").runs) == 2


def test_each_run_keeps_how_it_was_timed(tmp_path: Path):
    """one_cpu is kept per run through later saves; a run saved before it was recorded counts as every CPU."""
    (tmp_path / "b.json").write_text(json.dumps({"version": 2, "runs": [{"saved_at": "x", "cases": {"t::a": {"p50_ms": 1.0}}}]}))
    baselines.save(tmp_path, "b", [("t::a", {"p50_ms": 2.0})], one_cpu=True)
    baselines.save(tmp_path, "b", [("t::a", {"p50_ms": 3.0})], one_cpu=False)
    baselines.save(tmp_path, "b", [("t::a", {"p50_ms": 4.0})], one_cpu=True)
    assert baselines.load(tmp_path, "b").one_cpu == [False, True, False, True]


def test_without_samples_the_change_is_against_the_slowest_run(tmp_path: Path):
    for value in (2.0, 2.4):
        baselines.save(tmp_path, "b", [("t::a", {"mean_ms": value})])
    loaded = baselines.load(tmp_path, "b")
    assert not baselines.compare(loaded, "t::a", {"mean_ms": 2.6}, "mean_ms", 10.0).regressed  # +8 % on 2.4
    worse = baselines.compare(loaded, "t::a", {"mean_ms": 2.7}, "mean_ms", 10.0)
    assert worse.regressed and worse.runs == 2 and round(worse.change_pct, 3) == 12.5
    assert not baselines.compare(loaded, "t::a", {"mean_ms": 2.7}, "mean_ms", 10.0, min_change_ms=0.5).regressed


@pytest.mark.parametrize("text, value, unit", [("5%", 5.0, "%"), ("0.5ms", 0.5, "ms"), (" 2 ms ", 2.0, "ms")])
def test_parse_min_change(text, value, unit):
    assert baselines.parse_min_change(text) == baselines.MinChange(value, unit)


@pytest.mark.parametrize("text", ["5", "-1ms", "fast", "1s", ""])
def test_parse_min_change_rejects(text):
    with pytest.raises(baselines.BaselineError, match="--prodready-min-regression"):
        baselines.parse_min_change(text)


def test_the_default_smallest_change_is_the_parsed_default():
    """Settings use the parsed value without parsing it in every run."""
    assert baselines.parse_min_change(baselines.DEFAULT_MIN_CHANGE) == baselines.DEFAULT_MIN_REGRESSION


def test_a_share_of_the_limit_is_in_ms_of_that_gate():
    assert baselines.MinChange(5, "%").ms(10.0) == 0.5
    assert baselines.MinChange(5, "%").ms(None) == 0.0
    assert baselines.MinChange(0.2, "ms").ms(None) == 0.2


# --- machine speed: calibration work timed between the samples ---------------------------------


def _speed_run(rng, scale: float, n: int = 200) -> list[float]:
    return list(scale * rng.lognormal(0.0, 0.2, n))


def test_a_run_on_a_slower_machine_is_compared_at_its_own_speed(tmp_path: Path):
    """Samples and calibration 1.5x slower: the machine, not the build. The same samples with a steady calibration regressed."""
    import numpy as np

    rng = np.random.default_rng(31)
    before = _speed_run(rng, 1.0)
    entry = {"p50_ms": float(np.median(before)), "calibration_ms": 0.05, "samples_ms": before}
    baselines.save(tmp_path, "b", [("t::a", entry)])
    loaded = baselines.load(tmp_path, "b")
    assert loaded.runs[0]["t::a"]["calibration_ms"] == 0.05
    slow_machine = _speed_run(rng, 1.5)
    figures = {"p50_ms": float(np.median(slow_machine))}
    allowed = baselines.compare(loaded, "t::a", {**figures, "calibration_ms": 0.075}, "p50_ms", 10.0, slow_machine)
    assert allowed.decision == "within bound" and abs(allowed.change_pct) < 5, allowed.to_dict()
    assert allowed.baseline_ms == pytest.approx(1.5 * float(np.median(before)), rel=0.01)  # the baseline at this speed
    same_speed = baselines.compare(loaded, "t::a", {**figures, "calibration_ms": 0.05}, "p50_ms", 10.0, slow_machine)
    assert same_speed.regressed and same_speed.comparison.low > 40
    uncalibrated = baselines.compare(loaded, "t::a", figures, "p50_ms", 10.0, slow_machine)
    assert uncalibrated.regressed  # without a calibration on both sides nothing is scaled


def test_the_recorder_times_the_calibration_between_kept_samples_only():
    from pytest_prodready.gates.calibration import CALIBRATION_SAMPLES, per_sample
    from pytest_prodready.gates.latency import LatencyRecorder

    now = [0]

    def clock() -> int:
        now[0] += 1_000_000  # every reading 1 ms later
        return now[0]

    def work() -> None:
        now[0] += 4_000_000  # the calibration work "takes" 4 ms more

    recorder = LatencyRecorder(clock=clock, samples=30, warmup=3)
    recorder.calibration = work
    for _ in recorder.samples():
        with recorder.measure():
            pass
    assert recorder.samples_ms == [1.0] * 30
    assert recorder.calibration_ms == [5.0] * (30 * per_sample(30)) and len(recorder.calibration_ms) >= CALIBRATION_SAMPLES
    plain = LatencyRecorder(clock=clock, samples=30, warmup=3)
    for _ in plain.samples():
        with plain.measure():
            pass
    assert plain.calibration_ms == [] and plain.samples_ms == [1.0] * 30


def test_a_slower_machine_passes_with_calibration_and_a_slower_build_fails(gated, monkeypatch):
    """The fake clock slows samples and calibration alike (a slower machine): allowed for only with calibration."""
    assert run(gated, monkeypatch, 10, "--prodready-save-baseline", "cal", calibrate=True).ret == 0
    saved = baselines.load(gated.path / ".prodready" / "baselines", "cal")
    assert {cases["calibration_ms"] for cases in saved.runs[0].values()} == {10.0}
    machine = run(gated, monkeypatch, 13, "--prodready-compare", "cal", calibrate=True)
    assert machine.ret == 0, machine.stdout.str()
    assert run(gated, monkeypatch, 13, "--prodready-compare", "cal").ret == 1
