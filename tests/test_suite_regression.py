"""The gated operations together against a stored baseline (gates/suite_regression.py).

Unit tests build baselines by hand; the end-to-end tests run real pytest
sessions with a fake clock whose calibration step is set apart from the
samples' step, so a slower build (samples only) and a slower machine
(samples and calibration) can both be made exactly.
"""

from __future__ import annotations

import json
import math

import pytest

from pytest_prodready.gates.baseline import Baseline
from pytest_prodready.gates.suite_regression import MIN_RUNS, SUITE_Z, compare_suite, run_spread, student_t
from pytest_prodready.verdict import decide_verdict

GATES = [f"test_x.py::test_gate[{i}]" for i in range(6)]


def _run(levels: list[float], calibration: float = 0.1) -> dict[str, dict[str, float]]:
    """One run: gate i's p50 is levels[i] ms, each with the same calibration."""
    return {nodeid: {"p50_ms": level, "calibration_ms": calibration} for nodeid, level in zip(GATES, levels)}


def _baseline(runs: list[list[float]]) -> Baseline:
    return Baseline(name="rel", runs=[_run(levels) for levels in runs])


# Five runs: each gate moves by its own few per cent from run to run (a process's own luck).
NOISY = [
    [1.00, 2.00, 3.00, 4.00, 5.00, 6.00],
    [1.06, 1.90, 3.10, 4.20, 4.80, 6.10],
    [0.95, 2.10, 2.90, 3.90, 5.20, 5.90],
    [1.03, 1.95, 3.05, 4.10, 4.90, 6.20],
    [0.97, 2.05, 2.95, 3.80, 5.10, 5.80],
]
TYPICAL = [sum(run[i] for run in NOISY) / len(NOISY) for i in range(len(GATES))]


def test_every_operation_30_percent_slower_is_regressed():
    found = compare_suite(_baseline(NOISY), _run([x * 1.3 for x in TYPICAL]), "p50_ms", 10.0)
    assert found is not None and found.decision == "regressed" and found.regressed
    assert found.change_pct == pytest.approx(30.0, abs=0.3)
    assert found.gates == 6 and found.runs == 5
    assert 10.0 < found.threshold_pct < 30.0
    assert "the 6 gated operations together, p50 +30.1 % at this run's machine speed > " in found.message()


def test_an_unchanged_run_is_within_bound():
    found = compare_suite(_baseline(NOISY), _run(NOISY[1]), "p50_ms", 10.0)
    assert found is not None and found.decision == "within bound" and not found.regressed


def test_a_slower_machine_is_allowed_for_by_its_calibration():
    """Every operation and the calibration 1.5x slower: the same build on a slower machine."""
    slower = {nodeid: {"p50_ms": f["p50_ms"] * 1.5, "calibration_ms": 0.15} for nodeid, f in _run(TYPICAL).items()}
    found = compare_suite(_baseline(NOISY), slower, "p50_ms", 10.0)
    assert found is not None and found.change_pct == pytest.approx(0.0, abs=0.5) and found.decision == "within bound"


def test_one_operation_regressing_alone_is_left_to_its_own_gate():
    """+60 % on one of six gates is +8 % on average: within the bound (the per-gate comparison judges it)."""
    alone = list(TYPICAL)
    alone[0] *= 1.6
    found = compare_suite(_baseline(NOISY), _run(alone), "p50_ms", 10.0)
    assert found is not None and found.decision == "within bound"
    assert found.changes[GATES[0]] == pytest.approx(60.0, abs=1.0)


def test_one_wild_gate_in_an_unchanged_run_does_not_fail_it():
    """One gate's p50 tripled by a disturbance: the trimmed average drops it (a plain mean would be +20 %)."""
    wild = list(TYPICAL)
    wild[2] *= 3.0
    found = compare_suite(_baseline(NOISY), _run(wild), "p50_ms", 10.0)
    assert found is not None and found.decision == "within bound", found.message()


def test_the_spread_between_baseline_runs_widens_the_threshold():
    """The same +20 % is regressed against agreeing runs and inconclusive against runs 20 % apart."""
    agreeing = _baseline([TYPICAL, [x * 1.01 for x in TYPICAL], [x * 0.99 for x in TYPICAL]])
    apart = _baseline([TYPICAL, [x * 1.2 for x in TYPICAL], [x * 0.85 for x in TYPICAL]])
    assert compare_suite(agreeing, _run([x * 1.2 for x in TYPICAL]), "p50_ms", 10.0).decision == "regressed"
    wide = compare_suite(apart, _run([x * 1.2 * 1.013 for x in TYPICAL]), "p50_ms", 10.0)
    assert wide.decision == "inconclusive" and wide.threshold_pct > 30.0
    assert "(saving the baseline again, up to 10 runs, narrows it)" in wide.message()
    kept = Baseline("rel", runs=(apart.runs * 4)[:10])  # as many runs as a baseline keeps: nothing to advise
    full = compare_suite(kept, _run([x * 1.2 * 1.013 for x in TYPICAL]), "p50_ms", 10.0)
    assert full.decision == "inconclusive" and "narrows it" not in full.message()


def test_too_few_baseline_runs_cannot_fail_the_run():
    two = _baseline(NOISY[:MIN_RUNS - 1])
    found = compare_suite(two, _run([x * 1.5 for x in TYPICAL]), "p50_ms", 10.0)
    assert found.decision == "inconclusive" and found.spread_pct is None
    assert f"save it at least {MIN_RUNS} times" in found.message()
    assert compare_suite(two, _run(TYPICAL), "p50_ms", 10.0).decision == "within bound"


def test_uncalibrated_or_too_few_gates_give_no_suite_comparison():
    uncalibrated = {nodeid: {"p50_ms": f["p50_ms"]} for nodeid, f in _run(TYPICAL).items()}
    assert compare_suite(_baseline(NOISY), uncalibrated, "p50_ms", 10.0) is None
    two_gates = dict(list(_run(TYPICAL).items())[:2])
    assert compare_suite(_baseline(NOISY), two_gates, "p50_ms", 10.0) is None


def _exact_t_quantile(z: float, df: int) -> float:
    """Student's t at the normal quantile z, by bisection on Simpson's integral of the t density."""
    scale = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))

    def cdf(x: float, steps: int = 2000) -> float:
        density = [scale * (1 + (x * i / steps) ** 2 / df) ** (-(df + 1) / 2) for i in range(steps + 1)]
        weights = [1] + [4 if i % 2 else 2 for i in range(1, steps)] + [1]
        return 0.5 + sum(w * d for w, d in zip(weights, density)) * x / steps / 3

    target, low, high = 0.5 * (1 + math.erf(z / math.sqrt(2))), 0.0, 20.0
    for _ in range(50):
        low, high = ((low + high) / 2, high) if cdf((low + high) / 2) < target else (low, (low + high) / 2)
    return (low + high) / 2


@pytest.mark.parametrize("df", [2, 3, 4, 9, 30])
@pytest.mark.parametrize("z", [0.5, SUITE_Z])
def test_the_threshold_uses_students_t_for_the_baseline_runs(z, df):
    """A spread from few runs is uncertain itself: 1 sd becomes 1.32 with 3 runs, 1.06 with 10."""
    assert student_t(z, df) == pytest.approx(_exact_t_quantile(z, df), rel=0.01)
    assert student_t(z, df) > z


def test_the_spread_is_one_runs_standard_deviation():
    """Runs at levels 0, 0.1, 0.2 on every gate: a run's own standard deviation is 0.1."""
    assert run_spread([[0.0, 0.1, 0.2]] * 4) == pytest.approx(0.1)


def test_the_spread_is_trimmed_like_the_change():
    """One gate's wild runs (its 3x p50 in one run) do not widen the spread of the trimmed average."""
    calm = [[0.0, 0.05, -0.05]] * 4
    wild = calm + [[0.0, math.log(3.0), -0.05]]
    assert run_spread(wild) == pytest.approx(run_spread(calm))


def test_a_regressed_suite_is_a_reason_and_otherwise_a_note():
    from pytest_prodready.records import CaseResult

    records = [CaseResult(nodeid="t.py::test_a", domain="performance gates", category="gates", outcome="passed")]
    worse = compare_suite(_baseline(NOISY), _run([x * 1.3 for x in TYPICAL]), "p50_ms", 10.0)
    same = compare_suite(_baseline(NOISY), _run(TYPICAL), "p50_ms", 10.0)
    failed = decide_verdict(records, {}, regression=worse)
    assert not failed.go and failed.reasons == (worse.message(),) and failed.notes == ()
    passed = decide_verdict(records, {}, regression=same)
    assert passed.go and passed.notes == (same.message(),) and passed.reasons == ()


# --- end to end: real pytest sessions ---

CLOCK_CONFTEST = '''
import os
import pytest

_NEXT = {}


@pytest.fixture
def prodready_clock():
    """Each reading is STEP_MS after the previous one, or CAL_STEP_MS when it ends a calibration."""
    step, now = float(os.environ["STEP_MS"]) * 1e6, [0]

    def clock():
        now[0] += int(_NEXT.pop("step", step))
        return now[0]

    return clock


@pytest.fixture
def prodready_calibration():
    def work():
        _NEXT["step"] = float(os.environ["CAL_STEP_MS"]) * 1e6

    return work
'''

GATED = '''
import pytest


@pytest.mark.perf_gate(p95_ms=100, samples=30, warmup=2)
@pytest.mark.parametrize("operation", range(4))
def test_operation(latency, operation):
    for _ in latency.samples():
        with latency.measure():
            pass
'''


@pytest.fixture
def suite_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    pytester.makeconftest(CLOCK_CONFTEST)
    pytester.makepyfile(test_ops=GATED)

    def run(step_ms: float, *args: str, cal_step_ms: float = 10.0) -> pytest.RunResult:
        monkeypatch.setenv("STEP_MS", str(step_ms))
        monkeypatch.setenv("CAL_STEP_MS", str(cal_step_ms))
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)

    return pytester, run


def _suite_figures(project: pytest.Pytester) -> dict:
    return json.loads((project.path / "reports" / "readiness.json").read_text())["baseline_suite"]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_slower_build_fails_the_run_through_the_gates_together(suite_project, workers):
    """Runs at 10, 10.5 and 11 ms: at 12.5 ms each gate alone is inconclusive (above 10 %, inside its
    widened bound), the four together are +19.1 %, above the 18.2 % threshold: NO-GO."""
    project, run = suite_project
    for step_ms in (10, 10.5, 11):
        assert run(step_ms, "--prodready-save-baseline", "rel").ret == 0
    slower = run(12.5, "--prodready-compare", "rel", *workers)
    assert slower.ret == 1, slower.stdout.str()
    figures = _suite_figures(project)
    assert figures["decision"] == "regressed" and figures["gates"] == 4 and figures["baseline_runs"] == 3
    assert figures["change_pct"] == pytest.approx(100 * (1.25 / math.exp(sum(map(math.log, (1, 1.05, 1.1))) / 3) - 1), abs=0.01)
    assert figures["threshold_pct"] == pytest.approx(18.2, abs=0.1)
    cases = json.loads((project.path / "reports" / "readiness.json").read_text())["cases"]
    assert {case["figures"]["baseline"]["decision"] for case in cases} == {"inconclusive"}
    slower.stdout.fnmatch_lines(["*reason: baseline rel: the 4 gated operations together, p50 +19.1 % at this run's "
                                 "machine speed > 18.2 %: 10 % widened by the spread between the 3 baseline runs*"])


def test_the_same_build_on_a_slower_machine_and_an_equal_run_pass(suite_project):
    project, run = suite_project
    for step_ms in (10, 10.5, 11):
        assert run(step_ms, "--prodready-save-baseline", "rel").ret == 0
    equal = run(10.5, "--prodready-compare", "rel")
    assert equal.ret == 0 and _suite_figures(project)["decision"] == "within bound"
    equal.stdout.fnmatch_lines(["*baseline rel: the 4 gated operations together, p50 +0.1 %*within bound"])
    html = (project.path / "reports" / "readiness.html").read_text()
    assert '<p id="prodready-baseline-suite">baseline rel: the 4 gated operations together, p50 +0.1 %' in html
    machine = run(13.65, "--prodready-compare", "rel", cal_step_ms=13.0)  # 1.3x the samples and the calibration
    assert machine.ret == 0, machine.stdout.str()
    assert _suite_figures(project)["change_pct"] == pytest.approx(0.08, abs=0.01)


@pytest.mark.parametrize(("flags", "one_cpu", "said"), [
    ([True] * 5, True, None),
    ([False, False, True, True, True], True, "(2 of the 5 baseline runs were timed on every CPU, this run on one: "),
    ([True] * 5, False, "(5 of the 5 baseline runs were timed on one CPU, this run on every CPU: "),
    ([False] * 5, None, None),  # how this run was timed is not known: nothing to say
])
def test_a_comparison_that_mixes_one_cpu_and_every_cpu_says_so(flags, one_cpu, said):
    baseline = Baseline(name="rel", runs=[_run(levels) for levels in NOISY], one_cpu=flags)
    found = compare_suite(baseline, _run(NOISY[1]), "p50_ms", 10.0, one_cpu=one_cpu)
    assert found is not None and found.decision == "within bound"  # the note changes no decision
    if said is None:
        assert "baseline runs were timed" not in found.message()
    else:
        assert said in found.message() and found.message().endswith("save the baseline again with the same pin_cpu)")
