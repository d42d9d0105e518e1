"""verdict.decide_verdict: records plus requirements in, GO / NO-GO out."""

from __future__ import annotations

from pytest_prodready.records import CaseResult
from pytest_prodready.verdict import SMOKE_REQUIREMENTS, decide_verdict

SMALL = {"smoke": {"connectivity": 2, "core_operations": 1}}


def case(name: str, category: str = "connectivity", outcome: str = "passed", domain: str = "smoke", **kw) -> CaseResult:
    return CaseResult(nodeid=f"test_x.py::{name}", domain=domain, category=category, outcome=outcome, **kw)


def full_smoke(**overrides: str) -> list[CaseResult]:
    """Exactly the required count of passing smoke cases, outcomes overridable by name."""
    records = []
    for category, required in SMOKE_REQUIREMENTS.items():
        for i in range(required):
            name = f"test_{category}_{i}"
            records.append(case(name, category, overrides.get(name, "passed")))
    return records


def test_all_required_cases_pass_gives_go():
    """Every category at its required count, all passed -> GO with no reasons."""
    verdict = decide_verdict(full_smoke(), {"smoke": SMOKE_REQUIREMENTS})
    assert verdict.go and verdict.label == "GO"
    assert verdict.reasons == ()
    assert verdict.failing == ()
    assert verdict.total_passed == verdict.total_required == 35
    assert all(t.ready and t.pass_rate == 100.0 for t in verdict.categories)


def test_one_failure_is_no_go_naming_the_case():
    """A single failed case fails its category and is listed as failing."""
    verdict = decide_verdict(full_smoke(test_integration_3="failed"), {"smoke": SMOKE_REQUIREMENTS})
    assert not verdict.go and verdict.label == "NO-GO"
    assert [r.nodeid for r in verdict.failing] == ["test_x.py::test_integration_3"]
    assert verdict.reasons == ("smoke / integration: 1 failed",)
    integration = next(t for t in verdict.categories if t.category == "integration")
    assert (integration.passed, integration.failed, integration.ready) == (6, 1, False)


def test_error_counts_as_failure():
    """A setup error is not a pass."""
    verdict = decide_verdict([case("a"), case("b", outcome="error"), case("c", "core_operations")], SMALL)
    assert not verdict.go
    assert verdict.reasons == ("smoke / connectivity: 1 errors",)


def test_fewer_than_required_is_no_go_only_n_of_m():
    """Deselected cases leave a category short: 'only N of M required cases ran'."""
    records = [r for r in full_smoke() if r.nodeid != "test_x.py::test_performance_0"]
    verdict = decide_verdict(records, {"smoke": SMOKE_REQUIREMENTS})
    assert not verdict.go
    assert verdict.failing == ()
    assert verdict.reasons == ("smoke / performance: only 7 of 8 required cases ran",)


def test_skipped_counts_as_not_measured():
    """A skipped case is a check that did not run, even when the count is met."""
    records = [case("a"), case("b"), case("c", outcome="skipped"), case("d", "core_operations")]
    verdict = decide_verdict(records, SMALL)
    assert not verdict.go
    assert verdict.reasons == ("smoke / connectivity: 1 not run (skipped)",)
    connectivity = verdict.categories[0]
    assert (connectivity.passed, connectivity.skipped, connectivity.ready) == (2, 1, False)


def test_required_category_with_no_record_is_reported():
    """A required category none of whose cases was collected still shows up, at 0 of N."""
    verdict = decide_verdict([case("a"), case("b")], SMALL)
    assert not verdict.go
    core = [t for t in verdict.categories if t.category == "core_operations"]
    assert len(core) == 1 and core[0].ran == 0
    assert verdict.reasons == ("smoke / core_operations: only 0 of 1 required cases ran",)


def test_domain_requirements_apply_only_when_that_domain_is_present():
    """A run of perf gates alone is not failed for lacking smoke cases."""
    gates = [case("g1", "inline gates", domain="performance gates"), case("g2", "api_response", domain="performance gates")]
    verdict = decide_verdict(gates, {"smoke": SMOKE_REQUIREMENTS})
    assert verdict.go, verdict.reasons
    assert {t.domain for t in verdict.categories} == {"performance gates"}
    # One smoke record brings in every smoke requirement.
    verdict = decide_verdict(gates + [case("s", "connectivity")], {"smoke": SMOKE_REQUIREMENTS})
    assert not verdict.go
    assert {t.category for t in verdict.categories if t.domain == "smoke"} == set(SMOKE_REQUIREMENTS)


def test_no_records_is_no_go():
    verdict = decide_verdict([], {"smoke": SMOKE_REQUIREMENTS})
    assert not verdict.go
    assert verdict.reasons == ("no readiness case ran",)
    assert verdict.categories == ()


def test_incomplete_run_is_no_go_even_if_all_passed():
    verdict = decide_verdict(full_smoke(), {"smoke": SMOKE_REQUIREMENTS}, incomplete=True)
    assert not verdict.go and verdict.incomplete
    assert len(verdict.reasons) == 1 and "incomplete" in verdict.reasons[0]


def test_warn_severity_failure_is_not_listed_as_failing_but_still_counts():
    """severity='warn' keeps a case off the failing list; its category still is not ready."""
    records = [case("a"), case("b", outcome="failed", severity="warn"), case("c", "core_operations")]
    verdict = decide_verdict(records, SMALL)
    assert verdict.failing == ()
    assert not verdict.go


def test_category_order_is_stable_and_documented():
    """Domains in DOMAIN_ORDER, categories as the requirement lists them, extras by name;
    independent of the order records arrive in."""
    records = [
        case("l", "spike", domain="load"),
        case("z", "zeta", domain="consistency"),
        case("a", "alpha", domain="consistency"),
        case("e", "error_handling"),
        case("g", "inline gates", domain="performance gates"),
        case("c", "connectivity"),
        case("x", "extra_category"),
        case("u", "thing", domain="user domain"),
    ]
    requirements = {"smoke": SMOKE_REQUIREMENTS}
    expected = [
        ("smoke", "connectivity"),
        ("smoke", "core_operations"),
        ("smoke", "performance"),
        ("smoke", "integration"),
        ("smoke", "error_handling"),
        ("smoke", "extra_category"),
        ("performance gates", "inline gates"),
        ("consistency", "alpha"),
        ("consistency", "zeta"),
        ("load", "spike"),
        ("user domain", "thing"),
    ]
    for ordering in (records, list(reversed(records)), sorted(records, key=lambda r: r.category)):
        verdict = decide_verdict(ordering, requirements)
        assert [(t.domain, t.category) for t in verdict.categories] == expected


def test_user_requirement_for_other_domain():
    """Requirements of a non-smoke domain are enforced once it is present."""
    requirements = {"smoke": SMOKE_REQUIREMENTS, "consistency": {"foreign_keys": 3}}
    verdict = decide_verdict([case("a", "foreign_keys", domain="consistency")], requirements)
    assert verdict.reasons == ("consistency / foreign_keys: only 1 of 3 required cases ran",)


def test_a_phase_folds_into_its_record_as_phase_outcome_says():
    """RunState.add_phase skips phase_outcome for a quiet pass: every phase still ends as phase_outcome maps it."""
    from itertools import product
    from types import MappingProxyType

    from pytest_prodready.records import phase_outcome
    from pytest_prodready.run_state import RunState

    phases = product(("setup", "call", "teardown"), ("passed", "failed", "skipped"),
                     ({}, MappingProxyType({}), {"warnings": []}, {"warnings": ["p95 above the warn level"]}), (False, True))
    for when, outcome, figures, unsupported in phases:
        state = RunState()
        info = {"domain": "smoke", "category": "c", "message": "", **({"unsupported": True} if unsupported else {})}
        state.add_phase("t.py::test_a", when, outcome, 0.1, "", info, figures)
        expected = phase_outcome(when, outcome, figures.get("warnings", ()), unsupported)
        assert state.records["t.py::test_a"].outcome == expected, (when, outcome, figures, unsupported)
