"""Canary figures in every report: the JSON schema, the HTML section, the Markdown job summary and JUnit.

The unit tests judge synthetic samples with the real judgement (so the
figures have the shape a run writes) and render a document built around
them; one pytester run of two small canary cases against the embedded
reference apps, on a fake clock, checks the files a real run writes.
"""

from __future__ import annotations

import itertools
import json
import random
import xml.etree.ElementTree as ET
from typing import Any, Iterator

import jsonschema
import pytest

from pytest_prodready.canary.interleave import BASELINE, CANDIDATE, Call, sample
from pytest_prodready.canary.judgement import judge
from pytest_prodready.canary.spec import CanarySpec
from pytest_prodready.report.canary_text import canary_plan
from pytest_prodready.report.html import summary_blocks
from pytest_prodready.report.junit import junit_properties
from pytest_prodready.report.markdown import render
from pytest_prodready.report.readiness_json import SCHEMA_PATH, SCHEMA_VERSION

from .clocks import ManualClock, source_of

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
HOSTILE = "<script>alert(1)</script>"
BLOCKS, BLOCK_SIZE, WARMUP = 10, 6, 5


def service(clock: ManualClock, latencies_ms: Iterator[float], error_every: int = 0) -> Call:
    """A fake side: each request takes the next latency; every ``error_every``-th one fails."""
    count = [0]

    def call(left_s: float) -> str | None:
        count[0] += 1
        clock.spend_ms(next(latencies_ms))
        if error_every and count[0] % error_every == 0:
            return f"HTTP 503 GET /search?q={HOSTILE}"
        return None

    return call


def canary_figures(
    base_ms: Iterator[float], cand_ms: Iterator[float], *, base_errors_every: int = 0, cand_errors_every: int = 0,
    candidate_url: str = "http://127.0.0.1:8002", **spec_args: Any,
) -> dict[str, Any]:
    """The figures the real sampler and judgement make of two fake services (``spec_args`` override the spec)."""
    spec = CanarySpec(**{"rounds": BLOCKS, "block_size": BLOCK_SIZE, "warmup": WARMUP, **spec_args})
    clock = ManualClock()
    calls = {
        BASELINE: service(clock, base_ms, base_errors_every),
        CANDIDATE: service(clock, cand_ms, cand_errors_every),
    }
    run = sample(calls, rounds=spec.rounds, block_size=spec.block_size, warmup=spec.warmup,
                 duration_s=spec.duration_s, clock=clock)
    return judge(spec, run, baseline_url="http://127.0.0.1:8001", candidate_url=candidate_url).figures


def jittered(factor: float = 1.0, seed: int = 1) -> Iterator[float]:
    rng = random.Random(seed)
    while True:
        yield (4.0 + rng.random()) * factor


def steady(factor: float = 1.0) -> Iterator[float]:
    return ((4.0 + 0.01 * (i % 10)) * factor for i in itertools.count())


def case(nodeid: str, outcome: str, figures: dict[str, Any], message: str = "") -> dict[str, Any]:
    return {"nodeid": nodeid, "domain": "canary", "category": "canary comparisons", "outcome": outcome,
            "duration_s": 0.5, "message": message, "severity": "fail", "figures": figures}


def document(cases: list[dict[str, Any]]) -> dict[str, Any]:
    failing = [c["nodeid"] for c in cases if c["outcome"] in ("failed", "error")]
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": {
            "decision": "NO-GO" if failing else "GO", "headline": "NO-GO" if failing else "GO", "go": not failing,
            "incomplete": False, "blocked": False, "reasons": [f"{n} failed" for n in failing],
            "failing_cases": failing,
            "warnings": [{"nodeid": c["nodeid"], "message": c["message"]} for c in cases if c["outcome"] == "warned"],
        },
        "categories": [{"domain": "canary", "category": "canary comparisons", "required": 0,
                        "passed": sum(c["outcome"] in ("passed", "warned") for c in cases),
                        "warned": sum(c["outcome"] == "warned" for c in cases), "failed": len(failing), "errors": 0,
                        "skipped": 0, "pass_rate": 50.0, "ready": not failing}],
        "cases": cases,
        "environment": {"profile": "production", "target": "t", "python": "3.11", "started_at": "2025-01-01T00:00:00Z",
                        "finished_at": "2025-01-01T00:00:10Z", "duration_s": 10.0},
    }


@pytest.fixture(scope="module")
def canary_document() -> dict[str, Any]:
    """A baseline case, then canary cases: regressed, inconclusive (go and no-go), within bound, no baseline."""
    baseline_case = case("t.py::test_gate", "passed", {"baseline": {
        "name": "main", "metric": "p95_ms", "baseline_ms": 4.0, "measured_ms": 4.1, "change_pct": 2.5,
        "bound_pct": 10.0, "regressed": False}})
    return document([
        baseline_case,
        case("t.py::test_slower", "failed",
             canary_figures(steady(), steady(1.24), cand_errors_every=4,
                            candidate_url=f"http://127.0.0.1:8002/{HOSTILE}")),
        case("t.py::test_noisy", "warned", canary_figures(jittered(), jittered(1.1, seed=2))),
        case("t.py::test_noisy_strict", "failed",
             canary_figures(jittered(), jittered(1.1, seed=2), inconclusive="no-go")),
        case("t.py::test_same", "passed", without_bound(canary_figures(steady(), steady()), "p99")),
        case("t.py::test_dead_baseline", "failed", canary_figures(steady(), steady(), base_errors_every=1)),
    ])


def without_bound(figures: dict[str, Any], metric: str) -> dict[str, Any]:
    """The metric as a canary reports one it measured without a bound."""
    for comparison in figures["canary"]["comparisons"]:
        if comparison["metric"] == metric:
            comparison.update(bound=None, decision="not gated")
    return figures


def figures_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["cases"] if c["nodeid"].endswith(name))["figures"]["canary"]


def rows_by_metric(fig: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["metric"]: c for c in fig["comparisons"]}


def canary_html(doc: dict[str, Any]) -> str:
    page = "".join(summary_blocks(doc))
    return page.split('<h3 id="prodready-canary">', 1)[1].split('<h3 id="prodready-issues">', 1)[0]


def case_html(section: str, name: str) -> str:
    return section.split(f'data-case="t.py::{name}"', 1)[1].split('<div class="prodready-canary-case"', 1)[0]


def test_the_synthetic_figures_cover_every_decision(canary_document):
    decisions = {c["nodeid"].split("::")[1]: c["figures"]["canary"]["decision"]
                 for c in canary_document["cases"] if "canary" in c["figures"]}
    assert decisions == {"test_slower": "regressed", "test_noisy": "inconclusive", "test_noisy_strict": "inconclusive",
                         "test_same": "within bound", "test_dead_baseline": "no baseline"}
    slower = rows_by_metric(figures_of(canary_document, "test_slower"))
    assert slower["p95"]["decision"] == "regressed" and slower["error rate"]["decision"] == "regressed"


def test_a_document_with_canary_figures_validates_against_the_schema(canary_document):
    assert SCHEMA["properties"]["schema_version"]["const"] == SCHEMA_VERSION == "1.4"
    jsonschema.validate(canary_document, SCHEMA)


@pytest.mark.parametrize(("path", "bad"), [
    (("decision",), "slower"),
    (("comparisons", 0, "decision"), "worse"),
    (("comparisons", 0, "ratio"), "1.2"),
    (("plan", "order"), "AABB"),
    (("sides", "candidate", "samples_ms"), ["1"]),
    (("stopped_early",), 3),
])
def test_the_schema_rejects_malformed_canary_figures(canary_document, path, bad):
    broken = json.loads(json.dumps(canary_document))
    target = figures_of(broken, "test_slower")
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_the_schema_requires_the_canary_keys(canary_document):
    broken = json.loads(json.dumps(canary_document))
    del figures_of(broken, "test_same")["comparisons"]
    with pytest.raises(jsonschema.ValidationError, match="comparisons"):
        jsonschema.validate(broken, SCHEMA)


def test_the_html_section_follows_the_baseline_section(canary_document):
    page = "".join(summary_blocks(canary_document))
    assert page.index('id="prodready-baseline"') < page.index('id="prodready-canary"') < page.index(
        'id="prodready-issues"')
    assert ">Canary comparisons</h3>" in page
    assert page.count('class="prodready-canary-case"') == 5


def test_the_html_section_shows_urls_plan_and_styled_rows(canary_document):
    section = canary_html(canary_document)
    slower = case_html(section, "test_slower")
    assert 'data-decision="regressed"' in slower and '<span class="bad">regressed</span>' in slower
    assert "<code>http://127.0.0.1:8001</code>" in slower
    assert ("plan: 10 rounds of 6 requests per side (ABBA order), 5 warm-up requests per side; "
            "10 of 10 rounds done") in slower
    assert "baseline 60 requests / 0 errors, candidate 60 requests / 15 errors (HTTP 503 GET" in slower
    assert ("<thead><tr><th>metric</th><th>baseline</th><th>candidate</th><th>ratio</th><th>change</th>"
            "<th>bound</th><th>decision</th></tr></thead>") in slower
    rows = rows_by_metric(figures_of(canary_document, "test_slower"))
    p95, errors = rows["p95"], rows["error rate"]
    assert (f'<tr class="bad"><td>p95</td><td>{p95["baseline"]:.2f} ms</td><td>{p95["candidate"]:.2f} ms</td>'
            f'<td>{p95["ratio"]:.2f}x</td><td>{p95["change"]:+.1f} % (95 % CI {p95["ci_low"]:+.1f} .. '
            f'{p95["ci_high"]:+.1f} %)</td><td>10 %</td><td><span class="bad">regressed</span></td></tr>') in slower
    p50 = rows["p50"]  # change and ratio: the trimmed mean of per-round ratios; baseline and candidate: pooled
    assert (f"<td>p50</td><td>4.04 ms</td><td>5.01 ms</td><td>{p50['ratio']:.2f}x</td>"
            f"<td>{p50['change']:+.1f} % (95 % CI {p50['ci_low']:+.1f} .. {p50['ci_high']:+.1f} %)</td>") in slower
    assert (f'<tr class="bad"><td>error rate</td><td>0.00 %</td><td>25.00 %</td><td>-</td>'
            f'<td>+25.00 points (95 % CI {errors["ci_low"]:+.2f} .. {errors["ci_high"]:+.2f} points)</td>'
            f'<td>5 points</td><td><span class="bad">regressed</span></td></tr>') in slower
    noisy = case_html(section, "test_noisy")
    assert '<span class="warn">inconclusive (inconclusive = go)</span>' in noisy
    undecided = [c for c in figures_of(canary_document, "test_noisy")["comparisons"] if c["decision"] == "inconclusive"]
    assert undecided and noisy.count('<tr class="warn">') == len(undecided)
    for c in undecided:
        assert f"{c['change']:+.1f} % (95 % CI {c['ci_low']:+.1f} .. {c['ci_high']:+.1f} %)" in noisy
    strict = case_html(section, "test_noisy_strict")
    assert '<span class="bad">inconclusive (inconclusive = no-go)</span>' in strict
    same = case_html(section, "test_same")
    assert '<span class="ok">within bound</span>' in same and "<tr class=" not in same
    assert "<tr><td>p99</td><td>4.09 ms</td><td>4.09 ms</td><td>1.00x</td><td>+0.0 % (95 % CI +0.0 .. +0.0 %)</td>" \
           "<td>-</td><td>not gated</td></tr>" in same
    dead = case_html(section, "test_dead_baseline")
    assert '<span class="bad">no baseline</span>' in dead and "<td>error rate</td>" in dead


def test_the_html_section_escapes_what_the_run_reported(canary_document):
    page = "".join(summary_blocks(canary_document))
    assert HOSTILE not in page
    assert "http://127.0.0.1:8002/&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "HTTP 503 GET /search?q=&lt;script&gt;" in page


def test_the_markdown_summary_has_a_canary_table(canary_document):
    text = render(canary_document)
    section = text.split("### Canary comparisons\n", 1)[1]
    assert section.startswith("\n| case | metric | baseline | candidate | ratio | change | bound | decision |\n")
    p50 = rows_by_metric(figures_of(canary_document, "test_slower"))["p50"]
    assert (f"| `t.py::test_slower` | p50 | 4.04 ms | 5.01 ms | {p50['ratio']:.2f}x | {p50['change']:+.1f} % "
            f"(95 % CI {p50['ci_low']:+.1f} .. {p50['ci_high']:+.1f} %) | 10 % | ❌ regressed |") in section
    p95 = rows_by_metric(figures_of(canary_document, "test_slower"))["p95"]
    assert (f"| `t.py::test_slower` | p95 | {p95['baseline']:.2f} ms | {p95['candidate']:.2f} ms | "
            f"{p95['ratio']:.2f}x | "
            f"{p95['change']:+.1f} % (95 % CI {p95['ci_low']:+.1f} .. {p95['ci_high']:+.1f} %) | 10 % | ❌ regressed |"
            ) in section
    assert "| `t.py::test_same` | p50 | 4.04 ms | 4.04 ms | 1.00x | +0.0 % (95 % CI +0.0 .. +0.0 %) | 10 % | " \
           "✅ within bound |" in section
    assert "| `t.py::test_same` | p99 | 4.09 ms | 4.09 ms | 1.00x | +0.0 % (95 % CI +0.0 .. +0.0 %) | - | " \
           "not gated |" in section
    assert "| `t.py::test_same` | error rate | 0.00 % | 0.00 % | - | +0.00 points (95 % CI +0.00 .. +0.00 points) | " \
           "5 points | ✅ within bound |" in section
    assert "| `t.py::test_noisy` | p95 |" in section and "⚠️ inconclusive |" in section
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) == sum(len(c["figures"]["canary"]["comparisons"])
                            for c in canary_document["cases"] if "canary" in c["figures"])
    assert all(line.count(" | ") == 7 for line in rows), "a cell broke the table"
    assert ("- `t.py::test_noisy_strict`: ⚠️ inconclusive (inconclusive = no-go); "
            "baseline `http://127.0.0.1:8001`, "
            "candidate `http://127.0.0.1:8002`; plan: 10 rounds of 6 requests per side (ABBA order)") in section
    assert "- `t.py::test_dead_baseline`: ❌ no baseline;" in section


def test_the_plan_counts_rounds_and_quotes_where_the_run_stopped():
    """Rounds done count complete rounds; the sampler's own words count single blocks."""
    fig = canary_figures(steady(), steady(), rounds=20, block_size=25, warmup=20, duration_s=0.9)["canary"]
    assert (fig["plan"]["blocks"], fig["blocks_done"]) == (20, 3)
    assert canary_plan(fig) == ("plan: 20 rounds of 25 requests per side (ABBA order), 20 warm-up requests per side; "
                                "3 of 20 rounds done (stopped at the 0.9 s limit after 7 of 40 blocks)")


def test_junit_properties_carry_the_canary_decision_and_each_comparison(canary_document):
    figures = next(c for c in canary_document["cases"] if c["nodeid"].endswith("test_slower"))["figures"]
    properties = list(junit_properties(figures))
    named = dict(properties)
    assert len(named) == len(properties), "a property name repeats"
    assert named["prodready.canary.decision"] == "regressed"
    rows = rows_by_metric(figures["canary"])
    assert [m for m in rows] == ["p50", "p95", "p99", "error rate"]
    for metric, row in rows.items():
        prefix = f"prodready.canary.{metric.replace(' ', '_')}."
        for key in ("change", "ci_low", "ci_high", "decision"):
            assert named[prefix + key] == row[key], prefix + key
    assert named["prodready.canary.p95.ratio"] == rows["p95"]["ratio"]
    assert named["prodready.canary.error_rate.decision"] == "regressed"
    assert "prodready.canary.error_rate.ratio" not in named, "the error rate has no ratio"
    assert all(name.startswith("prodready.canary.") for name in named)
    assert len(named) == 1 + 5 * 3 + 4


def test_junit_properties_of_an_unmeasured_canary_are_its_decision():
    figures = canary_figures(steady(), steady(), duration_s=0.01)
    assert figures["canary"]["decision"] == "not measured" and not figures["canary"]["comparisons"]
    assert list(junit_properties(figures)) == [("prodready.canary.decision", "not measured")]


def test_no_canary_cases_no_canary_sections():
    doc = document([case("t.py::test_x", "passed", {})])
    assert "Canary" not in render(doc) and "prodready-canary" not in "".join(summary_blocks(doc))


FAKE_CLOCK = "import pytest\n\n\n" + source_of(ManualClock) + '''

@pytest.fixture
def prodready_clock():
    return ManualClock()
'''

CANARY_CASES = '''
import httpx
import pytest


def timed(canary, clock, candidate_ms):
    """GET /search on both sides; the fake clock makes the baseline 4 ms and the candidate candidate_ms."""
    candidate_port = httpx.URL(canary.pair.candidate.url).port

    def request(http):
        clock.spend_ms(candidate_ms if http.base_url.port == candidate_port else 4.0)
        return http.get("/search", params={"q": "memory"})

    return request


@pytest.mark.canary(rounds=10, block_size=6, warmup=2)
def test_slower_candidate(canary, prodready_clock):
    canary.compare(timed(canary, prodready_clock, 5.0))


@pytest.mark.canary(rounds=10, block_size=6, warmup=2)
def test_unchanged_candidate(canary, prodready_clock):
    canary.compare(timed(canary, prodready_clock, 4.0))
'''


def test_a_real_canary_run_writes_the_figures_to_every_report(pytester: pytest.Pytester):
    pytester.makeconftest(FAKE_CLOCK)
    pytester.makepyfile(test_canary=CANARY_CASES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-summary-md", "reports/summary.md",
                                           "--junitxml", "reports/junit.xml")
    output = result.stdout.str()
    assert result.ret == 1, output[-3000:]
    reports = pytester.path / "reports"
    doc = json.loads((reports / "readiness.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema_version"] == "1.4"
    slower = next(c for c in doc["cases"] if c["nodeid"].endswith("test_slower_candidate"))
    fig = slower["figures"]["canary"]
    assert (slower["outcome"], fig["decision"]) == ("failed", "regressed"), output[-3000:]
    assert fig["plan"] == {"blocks": 10, "max_blocks": 40, "block_size": 6, "warmup": 2, "order": "ABBA"} and fig["blocks_done"] == 10
    assert fig["sides"]["candidate"]["requests"] == 60 and fig["sides"]["candidate"]["errors"] == 0
    p95 = rows_by_metric(fig)["p95"]
    assert (p95["baseline"], p95["candidate"], p95["ratio"], p95["change"]) == (4.0, 5.0, 1.25, 25.0)
    unchanged = next(c for c in doc["cases"] if c["nodeid"].endswith("test_unchanged_candidate"))
    assert unchanged["figures"]["canary"]["decision"] == "within bound"

    page = (reports / "readiness.html").read_text(encoding="utf-8")
    assert '<h3 id="prodready-canary">Canary comparisons</h3>' in page
    assert page.index('id="prodready-canary"') < page.index('id="prodready-issues"')
    assert ('<tr class="bad"><td>p95</td><td>4.00 ms</td><td>5.00 ms</td><td>1.25x</td>'
            '<td>+25.0 % (95 % CI +25.0 .. +25.0 %)</td><td>10 %</td><td><span class="bad">regressed</span></td></tr>'
            ) in page
    assert f"candidate <code>{fig['candidate_url']}</code>" in page
    assert "plan: 10 rounds of 6 requests per side (ABBA order), 2 warm-up requests per side; 10 of 10 rounds done" in page

    summary = (reports / "summary.md").read_text(encoding="utf-8")
    assert "### Canary comparisons\n" in summary
    assert ("| `test_canary.py::test_slower_candidate` | p95 | 4.00 ms | 5.00 ms | 1.25x | "
            "+25.0 % (95 % CI +25.0 .. +25.0 %) | 10 % | ❌ regressed |") in summary
    assert ("| `test_canary.py::test_unchanged_candidate` | p95 | 4.00 ms | 4.00 ms | 1.00x | "
            "+0.0 % (95 % CI +0.0 .. +0.0 %) | 10 % | ✅ within bound |") in summary

    junit = ET.parse(reports / "junit.xml").getroot()
    slower_case = next(t for t in junit.iter("testcase") if t.get("name") == "test_slower_candidate")
    properties = {p.get("name"): p.get("value") for p in slower_case.iter("property")}
    assert properties["prodready.canary.decision"] == "regressed"
    assert (properties["prodready.canary.p95.ratio"], properties["prodready.canary.p95.decision"]) == ("1.25", "regressed")
    assert properties["prodready.canary.error_rate.change"] == "0.0"
