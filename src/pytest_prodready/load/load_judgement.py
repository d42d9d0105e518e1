"""Judging one load run against its limits, apart from the pytest hook that calls it."""

from __future__ import annotations

from ..case_outcome import CaseOutcome
from . import load_spec
from .results import LoadResult
from .load_spec import LoadSpec


def evaluate(spec: LoadSpec, result: LoadResult) -> CaseOutcome:
    """Figures for the reports and, when a limit was missed, a one-line reason with context.

    ``error ratio 10.2 % > 1 %; p95 231 ms > 200 ms (1,950 req, 97.5 req/s)``.
    Warn-level misses are warnings (a profile that escalates them fails the case: ``case_warnings.escalate``).
    """
    figures = {"load": {**result.to_dict(), "plan": spec.plan()}, "limits": spec.limits(),
               "warn_limits": dict(spec.warn_limits)}
    misses = load_spec.check(spec, result)
    warned = [] if misses else load_spec.missed(spec.warn_limits, result)
    failures = [f"{'; '.join(misses)} ({result.context()})"] if misses else []
    warnings = [f"{'; '.join(warned)} (warning level; {result.context()})"] if warned else []
    return CaseOutcome(figures=figures, failures=failures, warnings=warnings)
