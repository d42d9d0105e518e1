"""The live canary gate for real: two reference apps on loopback, one run of pytest per comparison.

The apps are started here, once per module, and the pytest sessions under
test reach them through ``--prodready-baseline-url`` / ``--prodready-target-url``
and the API keys in the environment, exactly as a release pipeline would.
The "30 % slower" candidate holds every response back by 30 % of the time the
app spent on it (``slowdown=0.3``) on top of 5 ms of simulated work, so its
client-side ratio is a little under 1.3 (client and network time are not
slowed).  Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Iterator

import pytest

from pytest_prodready.canary.pair import BASELINE_API_KEY_ENV
from pytest_prodready.load.locust_process import API_KEY_ENV
from pytest_prodready.net.server import RunningServer, reference_server

from .sessions import SUITES
from .chromium import render

# Timing-sensitive runs share one xdist worker (--dist loadgroup), so a 1000-user locust run never
# loads the CPUs under a canary comparison that is judged on a few milliseconds.
pytestmark = pytest.mark.xdist_group("timing")

VOLUME = {"sessions": 20, "memories": 100, "documents": 20}
PROJECT = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"
"""
CASE = """
import pytest

@pytest.mark.canary({kwargs})
def test_search(canary, {extra_args}):
    canary.get("/search", {{"q": "memory"}})
"""


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningServer]]:
    """baseline (5 ms work), slower: +30 % of its own time, ten_times: +900 %; fast, fast_twin: no work."""
    plans = {
        "baseline": {"delay_ms": 5.0},
        "slower": {"delay_ms": 5.0, "slowdown": 0.3},
        "ten_times": {"delay_ms": 5.0, "slowdown": 9.0},
        "fast": {},
        "fast_twin": {},
    }
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(reference_server(tmp_path_factory.mktemp(name), volume=VOLUME, **plan))
            for name, plan in plans.items()
        }


def run_canary(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, baseline: RunningServer, candidate: RunningServer, kwargs: str, *args: str,
    params: str = "",
) -> tuple[pytest.RunResult, list[dict]]:
    """One pytest session comparing ``candidate`` with ``baseline``; its result and the canary figures."""
    pytester.makepyprojecttoml(PROJECT)
    extra = "trial" if params else ""
    source = CASE.format(kwargs=kwargs, extra_args=extra).replace("def test_search(canary, )", "def test_search(canary)")
    if params:
        source = source.replace("@pytest.mark.canary", f"@pytest.mark.parametrize('trial', {params})\n@pytest.mark.canary")
    pytester.makepyfile(test_canary=source)
    monkeypatch.setenv(API_KEY_ENV, candidate.api_key)
    monkeypatch.setenv(BASELINE_API_KEY_ENV, baseline.api_key)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--prodready-baseline-url", baseline.base_url,
        "--prodready-target-url", candidate.base_url, *args,
    )
    document = json.loads((pytester.path / "reports" / "readiness.json").read_text())
    return result, [case["figures"]["canary"] for case in document["cases"] if "canary" in case["figures"]]


def by_metric(figures: dict) -> dict[str, dict]:
    return {c["metric"]: c for c in figures["comparisons"]}


def test_a_30_percent_slower_candidate_fails_naming_the_ratio_and_its_interval(pytester, monkeypatch, apps):
    result, [figures] = run_canary(pytester, monkeypatch, apps["baseline"], apps["slower"], "blocks=10, block_size=20")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*canary p50 1.*x baseline (+*%, 95 % CI +* .. +* %) > 10 %: regressed*",
                                 "READINESS: NO-GO*"])
    p50 = by_metric(figures)["p50"]
    assert figures["decision"] == "regressed"
    assert p50["decision"] == "regressed" and p50["ci_low"] > 10 and p50["ratio"] > 1.1
    print(f"\n30 % slower candidate: p50 ratio {p50['ratio']:.3f} (95 % CI {p50['ci_low']:+.1f} .. "
          f"{p50['ci_high']:+.1f} %), p95 ratio {by_metric(figures)['p95']['ratio']:.3f}", file=sys.stderr)


def test_the_no_go_report_of_a_30_percent_slower_candidate_renders_in_chromium(pytester, monkeypatch, apps):
    """The page a person reads; ``PRODREADY_SCREENSHOT_DIR=docs/screenshots`` keeps it as report-canary-no-go.png."""
    # Under "no-go" an overloaded machine's inconclusive run is a NO-GO page too; the page, not the decision, is tested here.
    result, [figures] = run_canary(pytester, monkeypatch, apps["baseline"], apps["slower"], "blocks=10, block_size=20",
                                   "--prodready-canary-inconclusive", "no-go")
    assert figures["decision"] in ("regressed", "inconclusive"), figures["comparisons"]
    page, shot = pytester.path / "reports" / "readiness.html", pytester.path / "report-canary-no-go.png"
    dom = render(page, shot, pytester.path / "chromium-canary")
    assert shot.stat().st_size > 10_000, "the screenshot is empty"
    assert 'data-decision="NO-GO"' in dom and f'data-decision="{figures["decision"]}"' in dom
    p50 = by_metric(figures)["p50"]
    assert f"{p50['ratio']:.2f}x" in dom and f"95 % CI {p50['ci_low']:+.1f} .. {p50['ci_high']:+.1f} %" in dom


def test_identical_apps_compared_again_and_again_never_give_a_no_go(pytester, monkeypatch, apps):
    trials = 12
    result, runs = run_canary(
        pytester, monkeypatch, apps["fast"], apps["fast_twin"], "blocks=20, block_size=10", params=f"range({trials})"
    )
    decisions = [figures["decision"] for figures in runs]
    false_alarms = decisions.count("regressed")
    print(f"\n{trials} comparisons of identical apps: {false_alarms} false alarms, "
          f"{decisions.count('inconclusive')} inconclusive, {decisions.count('within bound')} within bound",
          file=sys.stderr)
    assert len(runs) == trials
    assert false_alarms == 0
    assert result.ret == 0
    result.stdout.fnmatch_lines(["READINESS: GO*"])


SHORT_RUN = "blocks=6, max_rounds=6, block_size=5, warmup=5"  # 6 rounds, not extended: fewer than the 10 a decision needs


def test_a_run_shorter_than_10_rounds_is_inconclusive_even_for_a_10x_slower_candidate(pytester, monkeypatch, apps):
    # The data alone would say "regressed" (p50 several times the baseline's); only the 10-round minimum holds it back.
    result, [figures] = run_canary(pytester, monkeypatch, apps["baseline"], apps["ten_times"], SHORT_RUN)
    assert figures["decision"] == "inconclusive", figures["comparisons"]
    assert by_metric(figures)["p50"]["ci_low"] > 100, figures["comparisons"]
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*WARNING*canary inconclusive: p50 +* % (95 % CI * .. *) vs bound 10 %*too short to decide: 6 rounds*"
        "inconclusive = go*",
        "READINESS: GO (1 warning)*",
    ])


def test_the_same_candidate_over_10_rounds_is_regressed(pytester, monkeypatch, apps):
    """The counterpart of the test above: with the minimum met, the 10x slower candidate fails."""
    result, [figures] = run_canary(pytester, monkeypatch, apps["baseline"], apps["ten_times"], "blocks=10, block_size=5, warmup=5")
    assert figures["decision"] == "regressed", figures["comparisons"]
    assert result.ret == 1


def test_inconclusive_is_a_no_go_when_the_run_says_so(pytester, monkeypatch, apps):
    result, [figures] = run_canary(
        pytester, monkeypatch, apps["baseline"], apps["ten_times"], SHORT_RUN,
        "--prodready-canary-inconclusive", "no-go",
    )
    assert figures["decision"] == "inconclusive", figures["comparisons"]
    assert figures["inconclusive_policy"] == "no-go"
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*canary inconclusive: *too short to decide*inconclusive = no-go*", "READINESS: NO-GO*"])


def test_api_keys_stay_out_of_every_report(pytester, monkeypatch, apps):
    result, _ = run_canary(pytester, monkeypatch, apps["baseline"], apps["slower"], "blocks=10, block_size=10")
    texts = [result.stdout.str(), result.stderr.str()]
    texts += [p.read_text(errors="replace") for p in (pytester.path / "reports").iterdir()]
    for key in (apps["baseline"].api_key, apps["slower"].api_key):
        assert all(key not in text for text in texts)


def test_the_shipped_canary_suite_passes_on_two_embedded_apps(pytester):
    suite = SUITES / "canary" / "test_canary.py"
    pytester.makepyprojecttoml(PROJECT + "\n[tool.prodready]\nvolume = { sessions = 20, memories = 100, documents = 20 }\n")
    pytester.makepyfile(test_canary=suite.read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*canary / hybrid search*", "READINESS: GO*"])
