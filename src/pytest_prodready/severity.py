"""Warn and fail: how a missed limit, a rule or a smoke case is judged.

Every limit has a level.  A missed ``fail`` level fails the case and makes
the verdict NO-GO; a missed ``warn`` level lets the case pass (pytest exits
0) and is recorded as a warning, listed with the GO.  One limit may carry both
levels (``p95_ms = {warn = 200, fail = 500}``).  A gate's or case's
``severity`` ("warn" or "fail") moves every level to that severity, and a
profile's ``escalate_warnings = true`` makes every warning of that profile a
failure (seed 004: stricter towards production), whatever a gate, rule or
case declares; that is applied in one place, to the case's warnings after it
ran (``case_warnings.escalate``).  Pure functions: no pytest here.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

SEVERITIES = ("fail", "warn")


class Levels(NamedTuple):
    """One limit's warn and fail levels; either may be absent."""

    warn: float | None = None
    fail: float | None = None


def split(levels: Mapping[str, Levels], severity: str | None) -> tuple[dict[str, float], dict[str, float]]:
    """Fail-level and warn-level limits, after ``severity`` moved them.

    ``severity='fail'`` fails at the strictest level given; ``'warn'`` warns
    at it and never fails; ``None`` keeps each level where it was declared.
    """
    fail: dict[str, float] = {}
    warn: dict[str, float] = {}
    for key, level in levels.items():
        strictest = level.warn if level.warn is not None else level.fail
        if severity == "fail":
            fail[key] = strictest
        elif severity == "warn":
            warn[key] = strictest
        else:
            if level.fail is not None:
                fail[key] = level.fail
            if level.warn is not None:
                warn[key] = level.warn
    return fail, warn
