"""Report wording: counts as "N of M passed", deselection warned, API section in the HTML, figures with digits.

Real pytest sessions (pytester); the API cases go to a real loopback
service that sends no security header at all.
"""

from __future__ import annotations

import re

import pytest

from .sessions import output, read_report
from .test_api_safety import recording_service  # noqa: F401  (a fixture)

FAST_GATE = """
import pytest

@pytest.mark.perf_gate(p95_ms=1000, samples=30, warmup=0)
def test_fast(latency):
    for _ in latency.samples():
        with latency.measure():
            pass
"""


def test_a_passing_gate_prints_its_figures_under_verbose_and_the_html_keeps_their_digits(project):
    pytester = project()
    pytester.makepyfile(test_gate=FAST_GATE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    assert result.ret == 0
    result.stdout.re_match_lines([r"    gate: p50 [\d.e-]+ / p95 [\d.e-]+ / p99 [\d.e-]+ ms \(n=30; limits p95 1000\)"])
    result.stdout.fnmatch_lines(["READINESS: GO (1 of 1 readiness cases passed)"])
    document = read_report(pytester.path / "reports" / "readiness.json")
    p50 = document["cases"][0]["figures"]["latency"]["p50_ms"]
    assert 0 < p50 < 0.01  # an empty block: microseconds
    html = (pytester.path / "reports" / "readiness.html").read_text(encoding="utf-8")
    gate = html[html.index('class="prodready-gate"'):]
    assert "<b>0.00</b>" not in gate and re.search(r"p50 <b>\d\.\d+e-0\d|p50 <b>0\.00\d", gate), gate[:400]


def test_without_verbose_a_passing_gate_prints_no_figures(project):
    pytester = project()
    pytester.makepyfile(test_gate=FAST_GATE)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert "    gate: p50" not in output(result)


DESELECTED = """
import pytest

@pytest.mark.api_readiness(check="authentication")
def test_auth_kept():
    pass

@pytest.mark.api_readiness(check="authentication")
def test_auth_dropped():
    assert False, "a failing case the user filtered out"

@pytest.mark.smoke(category="connectivity")
def test_smoke_dropped():
    pass
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")])
def test_deselecting_cases_of_a_category_without_a_minimum_is_warned(project, workers):
    pytester = project('\n[tool.prodready.require.smoke]\nconnectivity = 0\n')
    pytester.makepyfile(test_cases=DESELECTED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "kept", *workers)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "READINESS: GO (1 of 1 readiness cases passed)",
        "  warning: 1 readiness case(s) of api readiness / authentication were deselected and not measured; "
        "that category has no minimum (require.api readiness.authentication), so it does not make the verdict NO-GO",
    ])
    document = read_report(pytester.path / "reports" / "readiness.json")
    assert document["deselected"] == [
        {"domain": "api readiness", "category": "authentication", "cases": 1},
        {"domain": "smoke", "category": "connectivity", "cases": 1},
    ]


API_CASE = """
import pytest

@pytest.mark.api_readiness(check="security_headers")
def test_headers(api_readiness, prodready_settings):
    routes = [("GET", "/a"), ("GET", "/b"), ("GET", "/c"), ("GET", "/d"), ("GET", "/e")]
    api_readiness(prodready_settings.target_url, "key", routes).assert_security_headers()
"""


def test_the_html_has_an_api_section_and_the_json_keeps_every_problem(project, recording_service):  # noqa: F811
    url, _ = recording_service
    pytester = project()
    pytester.makepyfile(test_api=API_CASE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--prodready-target-url", url)
    assert result.ret == 1
    document = read_report(pytester.path / "reports" / "readiness.json")
    record = document["cases"][0]["figures"]["api_readiness"]["security_headers"]
    # health, 5 GET routes and one unknown path (the keyless GET /a reads like the keyed one): 7 x 5 headers
    assert record["problems_total"] == len(record["problems"]) == 35
    html = (pytester.path / "reports" / "readiness.html").read_text(encoding="utf-8")
    section = html[html.index('<h3>API readiness</h3>'):]
    assert "API readiness" in section and "security_headers" in section and url in section
    assert ">35<" in section
