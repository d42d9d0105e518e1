"""Warnings on readiness cases: where a warn-level miss is noted on the test.

A warning travels with the case's figures (``figures["warnings"]``), so it
reaches the controller from an xdist worker like any other figure, and the
record of a case that passed with warnings ends as ``warned``
(:mod:`.severity`).
"""

from __future__ import annotations

from typing import Any, Iterable

import pytest

from .limits import ThresholdError, check_severity
from .markers import MarkerError
from .readiness_case import figures

# Markers whose ``severity=`` applies to the whole case; perf gates express it per limit.
_CASE_MARKERS = ("smoke", "consistency", "api_readiness", "canary")


def note(item: pytest.Item, messages: Iterable[str]) -> None:
    """Record warn-level misses on the case; it still passes."""
    figures(item).setdefault("warnings", []).extend(messages)


def declared_severity(item: pytest.Item) -> str:
    """The case's declared severity ('fail' unless a marker says 'warn'); a bad value is a usage error naming the test."""
    for name in _CASE_MARKERS:
        marker = item.get_closest_marker(name)
        if marker is not None and "severity" in marker.kwargs:
            try:
                declared = check_severity(marker.kwargs["severity"], f"{item.nodeid}: @pytest.mark.{name} severity")
            except ThresholdError as exc:
                raise MarkerError(str(exc)) from None
            return declared
    return "fail"


def escalate(report: pytest.TestReport) -> None:
    """A profile with ``escalate_warnings = true``: every warning of the case fails it.

    The one place the rule is applied, after the case ran: warn-level misses of
    gates and load limits, a canary's inconclusive under 'go' and a warn rule's
    miss are all noted on the case as warnings (:func:`note`); they become the
    failure's message.  A case of severity 'warn' becomes 'fail', so
    :func:`soften` leaves its failure a failure.
    """
    info: dict[str, Any] = report.prodready
    info["severity"] = "fail"
    warned = info["figures"].pop("warnings", []) if "figures" in info else []  # a setup or teardown has none
    if warned and report.when == "call" and report.passed:
        report.outcome = "failed"
        report.longrepr = f"warnings escalated to failures (escalate_warnings = true): {'; '.join(warned)}"


def soften(report: pytest.TestReport) -> None:
    """A failing case of severity 'warn' is reported to pytest as an expected failure.

    pytest then counts it as ``xfailed`` and exits 0, and the readiness
    record lists the failure as a warning instead of a NO-GO.
    """
    info: dict[str, Any] = report.prodready
    if info.get("severity") != "warn" or report.when != "call" or not report.failed:
        return
    message = info["message"] or "failed"
    info["figures"] = {**info["figures"], "warnings": [*info["figures"].get("warnings", []), message]}
    report.outcome = "skipped"
    report.wasxfail = f"severity warn: {message}"
