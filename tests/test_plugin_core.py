"""The plugin inside real pytest sessions (pytester): silence, markers, gates, errors, reports, xdist."""

from __future__ import annotations

import json

# In-process runs forget every module first imported inside them: import the heavy ones
# here, once, so inner runs neither re-import them (hypothesis: ~1 s a run) nor fail to
# (numpy's C extension cannot load twice in one process).
import hypothesis  # noqa: F401
import jsonschema  # noqa: F401
import numpy  # noqa: F401
import pytest

from .clocks import PairClock, source_of
from .sessions import assert_usage_error, output, read_report

CLOCK_CONFTEST = "import pytest\n\n" + source_of(PairClock) + """

@pytest.fixture
def prodready_clock():
    return PairClock({step_ns})
"""

GATE_TEST = """
import pytest

@pytest.mark.perf_gate(p95_ms=50, samples=20, warmup=2)
def test_gate(latency):
    for _ in latency.samples():
        with latency.measure():
            pass
"""


def gate_project(pytester: pytest.Pytester, step_ms: float) -> None:
    pytester.makeconftest(CLOCK_CONFTEST.format(step_ns=int(step_ms * 1_000_000)))
    pytester.makepyfile(test_gate=GATE_TEST)


# --- silence -----------------------------------------------------------------------


def test_ordinary_run_is_silent_and_writes_nothing(project):
    """No readiness marker, no --prodready option: no verdict, no reports folder, no files."""
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert "READINESS" not in output(result)
    assert "production readiness" not in output(result)
    assert not (pytester.path / "reports").exists()
    leftovers = {p.name for p in pytester.path.iterdir()} - {"test_plain.py", "pyproject.toml", "__pycache__"}
    assert leftovers == set()


def test_prodready_alone_without_cases_is_no_go(project):
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_inprocess("--prodready")
    result.stdout.fnmatch_lines(["*reason: no readiness case ran*", "READINESS: NO-GO*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    document = read_report(pytester.path / "reports" / "readiness.json")
    assert document["verdict"]["decision"] == "NO-GO"
    assert document["verdict"]["reasons"] == ["no readiness case ran"]
    assert document["cases"] == []


# --- markers and fixtures are documented ------------------------------------------------


def test_markers_are_registered(project):
    result = project().runpytest_inprocess("--markers")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.smoke(category=...): a readiness smoke case*",
            "@pytest.mark.perf_gate(name=None, **thresholds): a performance gate*",
            "@pytest.mark.consistency(rule=...): a data-consistency check*",
            "@pytest.mark.load(...): a load test*",
        ]
    )


FIXTURE_DOCS = {
    "latency": "Records timed samples for the test's ``@pytest.mark.perf_gate``.",
    "target": "The system under test, behind the",
    "sqlite_db": "A read-only probe of the SQLite database behind the target.",
    "prodready_settings": "The resolved readiness settings: CLI options over ``[tool.prodready]``.",
    "prodready_clock": "The clock performance gates read, in nanoseconds",
    "prodready_calibration": "The fixed work timed between a gate's samples",
    "readiness_figures": "A dict whose contents are attached to this case in the verdict and reports.",
    "corpus_dir": "An empty folder for markdown documents a case syncs into the target.",
}


def test_fixtures_are_documented(project):
    """Each fixture is listed by `pytest --fixtures` with the first words of its docstring."""
    result = project().runpytest_inprocess("--fixtures")
    assert result.ret == 0
    lines = result.stdout.lines
    for fixture, doc in FIXTURE_DOCS.items():
        headers = [i for i, line in enumerate(lines) if line == fixture or line.startswith(f"{fixture} ")]
        assert headers, f"{fixture} is not listed"
        following = " ".join(line.strip() for line in lines[headers[0] + 1 : headers[0] + 4])
        assert doc in following, (fixture, following)


def test_strict_markers_accepts_the_plugins_markers(project):
    pytester = project()
    pytester.makeconftest(CLOCK_CONFTEST.format(step_ns=1_000_000))
    pytester.makepyfile(
        test_all="""
        import pytest

        @pytest.mark.smoke(category="connectivity")
        def test_smoke():
            pass

        @pytest.mark.perf_gate(p99_ms=10, samples=3, warmup=0)
        def test_gate(latency):
            for _ in latency.samples():
                with latency.measure():
                    pass

        @pytest.mark.consistency(rule="foreign_keys")
        def test_rule():
            pass

        @pytest.mark.load(name="spike")
        def test_load():
            pass
        """
    )
    result = pytester.runpytest_inprocess("--strict-markers", "-p", "no:cacheprovider")
    assert "not found in `markers`" not in output(result)
    result.assert_outcomes(passed=4)
    categories = {(c["domain"], c["category"]) for c in read_report(pytester.path / "reports/readiness.json")["categories"]}
    assert {("performance gates", "inline gates"), ("consistency", "foreign_keys"), ("load", "spike")} <= categories
    assert ("smoke", "connectivity") in categories


# --- performance gates with an injected clock --------------------------------------------


def test_slow_gate_fails_with_the_percentile_that_missed(project):
    pytester = project()
    gate_project(pytester, step_ms=80)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*p95 80.0 ms > 50 ms (n=20; p50 80.0, p95 80.0, p99 80.0, max 80.0)*",
            "*FAILED test_gate.py::test_gate - *p95 80.0 ms > 50 ms (n=20; *",
            "READINESS: NO-GO*",
        ]
    )
    assert result.ret == 1
    case = read_report(pytester.path / "reports/readiness.json")["cases"][0]
    assert case["outcome"] == "failed"
    assert case["message"].startswith("Failed: p95 80.0 ms > 50 ms (n=20;") or case["message"].startswith("p95 80.0 ms")
    assert case["figures"]["latency"]["n"] == 20
    assert case["figures"]["samples_ms"] == [80.0] * 20


def test_fast_gate_passes_and_says_go(project):
    pytester = project()
    gate_project(pytester, step_ms=1)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["READINESS: GO*"])
    assert "NO-GO" not in result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize(
    ("marker", "key"),
    [("p99_ms=-1", "p99_ms"), ('p95_ms="fast"', "p95_ms"), ("foo_ms=1", "foo_ms"), ("samples=0", "samples")],
)
def test_malformed_marker_threshold_is_a_usage_error(project, marker, key):
    pytester = project()
    pytester.makepyfile(
        test_bad=f"""
        import pytest

        @pytest.mark.perf_gate({marker})
        def test_gate(latency):
            pass
        """
    )
    result = pytester.runpytest_inprocess()
    assert_usage_error(result, "test_bad.py::test_gate", key)


def test_unknown_gate_name_is_a_usage_error(project):
    pytester = project()
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.perf_gate("sesion_retrieval")
        def test_gate(latency):
            pass
        """
    )
    assert_usage_error(pytester.runpytest_inprocess(), "'sesion_retrieval'", "profile 'production'")


def test_perf_gate_without_latency_fixture_is_a_usage_error(project):
    pytester = project()
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.perf_gate(p95_ms=50)
        def test_gate():
            pass
        """
    )
    assert_usage_error(pytester.runpytest_inprocess(), "test_bad.py::test_gate", "'latency' fixture")


def test_smoke_without_category_is_a_usage_error(project):
    pytester = project()
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.smoke
        def test_case():
            pass
        """
    )
    assert_usage_error(pytester.runpytest_inprocess(), "test_bad.py::test_case", "category")


# --- configuration errors -------------------------------------------------------------


def test_unknown_pyproject_key_is_a_usage_error(project):
    pytester = project('[tool.prodready]\ncolour = "red"\n')
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    line = assert_usage_error(pytester.runpytest_inprocess(), "unknown key 'colour'", "pyproject.toml")
    assert line.startswith("ERROR: ")


def test_nested_unknown_pyproject_key(project):
    pytester = project("[tool.prodready.volume]\nsesions = 10\n")
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    assert_usage_error(pytester.runpytest_inprocess(), "unknown key 'volume.sesions'")


def test_unknown_profile_option(project):
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    assert_usage_error(pytester.runpytest_inprocess("--prodready-profile", "prod"), "unknown profile 'prod'")


def test_sqlite_option_missing_file(project):
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    result = pytester.runpytest_subprocess("--prodready-sqlite", "missing.db")
    assert_usage_error(result, "--prodready-sqlite", "missing.db", "no such file")


def test_sqlite_option_text_file(project):
    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    pytester.path.joinpath("notes.txt").write_text("not a database\n")
    result = pytester.runpytest_inprocess("--prodready-sqlite", "notes.txt")
    assert_usage_error(result, "notes.txt", "not an SQLite database")


# --- reports -----------------------------------------------------------------------


def test_json_report_validates_and_holds_the_gate_figures(project):
    pytester = project()
    gate_project(pytester, step_ms=1)
    result = pytester.runpytest_inprocess()
    assert result.ret == 0
    document = read_report(pytester.path / "reports" / "readiness.json")
    assert document["verdict"] == {"decision": "GO", "headline": "GO", "go": True, "incomplete": False, "blocked": False,
                                   "reasons": [], "failing_cases": [], "warnings": []}
    assert document["categories"] == [
        {"domain": "performance gates", "category": "inline gates", "required": 0, "passed": 1, "warned": 0,
         "failed": 0, "errors": 0, "skipped": 0, "unsupported": 0, "waived": 0, "on_reference": 0, "pass_rate": 100.0, "ready": True}
    ]
    (case,) = document["cases"]
    assert case["nodeid"] == "test_gate.py::test_gate"
    figures = case["figures"]
    assert figures["gate"] is None
    assert figures["limits"] == {"p95_ms": 50.0}
    assert {k: figures["latency"][k] for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms")} == {
        "n": 20, "p50_ms": 1.0, "p95_ms": 1.0, "p99_ms": 1.0, "max_ms": 1.0,
    }
    assert figures["latency"]["total_s"] == pytest.approx(0.02)
    assert document["environment"]["profile"] == "production"
    # The default HTML report goes beside it.
    assert (pytester.path / "reports" / "readiness.html").is_file()


def test_custom_report_paths_are_honoured(project):
    pytester = project()
    gate_project(pytester, step_ms=1)
    result = pytester.runpytest_inprocess("--prodready-json", "custom/path.json", "--prodready-html", "out/ready.html")
    assert result.ret == 0
    document = read_report(pytester.path / "custom" / "path.json")
    assert document["verdict"]["decision"] == "GO"
    html = (pytester.path / "out" / "ready.html").read_text(encoding="utf-8")
    assert "READINESS: GO" in html
    assert 'id="prodready-verdict"' in html
    assert not (pytester.path / "reports").exists()
    result.stdout.fnmatch_lines(["*report: *custom?path.json", "*report: *out?ready.html"])


def test_html_report_of_a_no_go_names_the_failing_case(project):
    pytester = project()
    gate_project(pytester, step_ms=80)
    pytester.runpytest_inprocess("--prodready-html", "r.html")
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert 'data-decision="NO-GO"' in html
    assert "test_gate.py::test_gate" in html


def test_users_own_html_option_wins(project):
    pytester = project()
    gate_project(pytester, step_ms=1)
    result = pytester.runpytest_inprocess("--html", "mine.html")
    assert result.ret == 0
    assert 'id="prodready-verdict"' in (pytester.path / "mine.html").read_text(encoding="utf-8")
    assert not (pytester.path / "reports" / "readiness.html").exists()
    assert (pytester.path / "reports" / "readiness.json").is_file()


# --- serial and distributed runs judge alike -----------------------------------------------

XDIST_REQUIRE = """
[tool.prodready.require.smoke]
connectivity = 3
core_operations = 3
performance = 2
integration = 2
error_handling = 2
"""

XDIST_TESTS = """
import pytest

CATEGORIES = ["connectivity"] * 3 + ["core_operations"] * 3 + ["performance"] * 2 + ["integration"] * 2 + ["error_handling"] * 2

@pytest.mark.parametrize("category", [pytest.param(c, marks=pytest.mark.smoke(category=c)) for c in CATEGORIES])
def test_case(category):
    assert category

@pytest.mark.smoke(category="integration")
def test_broken():
    assert 1 == 2, "integration is broken"

@pytest.mark.smoke(category="error_handling")
def test_skipped():
    pytest.skip("not measured here")
"""


def summarize_report(document: dict) -> dict:
    return {
        "verdict": document["verdict"],
        "categories": document["categories"],
        "cases": sorted((c["nodeid"], c["category"], c["outcome"], c["message"]) for c in document["cases"]),
    }


def test_xdist_and_serial_runs_agree(project):
    pytester = project(XDIST_REQUIRE)
    pytester.makepyfile(test_smoke=XDIST_TESTS)

    serial = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-json", "serial.json")
    distributed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--prodready-json", "xdist.json")

    assert "created: 2/2 workers" in distributed.stdout.str()
    serial_line = [line for line in serial.stdout.lines if line.startswith("READINESS:")]
    xdist_line = [line for line in distributed.stdout.lines if line.startswith("READINESS:")]
    assert serial_line == xdist_line
    assert serial_line[0].startswith("READINESS: NO-GO (12 of ")
    assert serial_line[0].endswith(" readiness cases passed, at least 12 required)")
    assert serial.ret == distributed.ret == 1

    serial_doc = summarize_report(read_report(pytester.path / "serial.json"))
    xdist_doc = summarize_report(read_report(pytester.path / "xdist.json"))
    assert serial_doc == xdist_doc
    assert len(serial_doc["cases"]) == 14
    # A skipped case is not measured: it blocks GO and is listed with the failures.
    assert serial_doc["verdict"]["failing_cases"] == ["test_smoke.py::test_broken", "test_smoke.py::test_skipped"]
    assert serial_doc["verdict"]["reasons"] == [
        "smoke / integration: 1 failed",
        "smoke / error_handling: 1 not run (skipped)",
    ]
    messages = {nodeid: message for nodeid, _, _, message in serial_doc["cases"]}
    assert "integration is broken" in messages["test_smoke.py::test_broken"]
    assert messages["test_smoke.py::test_skipped"] == "Skipped: not measured here"


def test_secrets_in_failure_messages_stay_out_of_the_json_report(project):
    pytester = project()
    pytester.makepyfile(
        test_secret="""
        import pytest

        @pytest.mark.smoke(category="connectivity")
        def test_connect():
            raise ConnectionError("cannot reach bolt://neo4j:s3cret@graph:7687 with api_key=abc123 rejected")
        """
    )
    result = pytester.runpytest_inprocess("--prodready-json", "r.json")
    assert result.ret == 1
    text = (pytester.path / "r.json").read_text(encoding="utf-8")
    assert "s3cret" not in text and "abc123" not in text
    (case,) = json.loads(text)["cases"]
    assert case["message"] == "ConnectionError: cannot reach bolt://neo4j:***@graph:7687 with api_key=*** rejected"
    verdict_section = result.stdout.str().split("production readiness", 1)[1]
    assert "s3cret" not in verdict_section and "bolt://neo4j:***@graph:7687" in verdict_section


def test_real_sqlite_file_is_accepted(project):
    import sqlite3

    pytester = project()
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    sqlite3.connect(pytester.path / "app.db").execute("create table t (x)").connection.close()
    result = pytester.runpytest_inprocess("--prodready-sqlite", "app.db", "--prodready-json", "r.json")
    assert result.ret == 1  # explicit run, no readiness case: NO-GO
    environment = read_report(pytester.path / "r.json")["environment"]
    assert environment["sqlite"] == str((pytester.path / "app.db").resolve())
