"""What a canary case requires: the bounds of seed 001's canary questions and the sampling plan.

``@pytest.mark.canary(p95_pct=10, error_points=5, rounds=20, block_size=25)``;
every value is checked once, and a bad one is a usage error naming the key.

A plan that ends undecided extends itself: while a gated metric is
inconclusive, ``rounds`` more rounds are run, up to ``max_rounds`` rounds
(default 4 x ``rounds``) and within ``duration``.  A round is one block of
``block_size`` requests per side; ``blocks`` / ``max_blocks``, the old names
of ``rounds`` / ``max_rounds``, are still accepted, with a deprecation warning.  On a shared machine the
20-round plan left a third of identical-app comparisons undecided; more
rounds narrow the interval until it lands on one side of the bound.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import pytest

from ..limits import ThresholdError, check_severity, parse_duration, positive_number, whole_number
from ..markers import MarkerError
from .options import INCONCLUSIVE_POLICIES

PERCENTILE_KEYS = {"p50_pct": 50, "p95_pct": 95, "p99_pct": 99}
DEFAULT_BOUND_PCT = 10.0  # seed 001: the candidate's latency no more than 10 % worse
DEFAULT_GATED = (50, 95)  # p99 is reported; a few hundred samples rarely pin it within 10 %
DEFAULT_ERROR_POINTS = 5.0  # seed 001: its error rate no more than 5 points higher
_COUNTS = {"rounds": 2, "max_rounds": 2, "block_size": 1, "warmup": 0}  # the smallest value of each
DEPRECATED_KEYS = {"blocks": "rounds", "max_blocks": "max_rounds"}  # old name -> new name
MAX_COUNT = 1000
EXTENSION_FACTOR = 4  # an undecided plan may grow to this many times its rounds
CANARY_KEYS = ("name", *PERCENTILE_KEYS, "error_points", *_COUNTS, "duration", "confidence", "inconclusive", "severity")


@dataclass(frozen=True)
class CanarySpec:
    """Bounds per percentile (in %) and on the error rate (in points), and how to sample."""

    bounds_pct: Mapping[int, float] = field(default_factory=lambda: {q: DEFAULT_BOUND_PCT for q in DEFAULT_GATED})
    error_points: float = DEFAULT_ERROR_POINTS
    rounds: int = 20
    max_rounds: int | None = None  # None: EXTENSION_FACTOR x rounds
    block_size: int = 25
    warmup: int = 20
    duration_s: int = 120
    confidence: float = 0.95
    inconclusive: str = "go"

    @property
    def planned_per_side(self) -> int:
        return self.rounds * self.block_size

    @property
    def most_rounds(self) -> int:
        """The rounds an undecided plan may extend to."""
        if self.max_rounds is not None:
            return self.max_rounds
        return max(self.rounds, min(MAX_COUNT, EXTENSION_FACTOR * self.rounds))


def parse_canary(
    raw: Mapping[str, Any], where: str, *, default_bound_pct: float = DEFAULT_BOUND_PCT, inconclusive: str = "go"
) -> CanarySpec:
    """Marker kwargs to a spec; without any ``p*_pct``, p50 and p95 get the default bound.

    p99 is always measured and reported, and gated only when ``p99_pct`` is given.

    ``inconclusive`` is the run's policy (``canary_inconclusive``); the
    marker's own ``inconclusive=`` wins over it.
    """
    values: dict[str, Any] = {}
    bounds: dict[int, float] = {}
    _refuse_both_names(raw, where)
    for given, value in raw.items():
        key = DEPRECATED_KEYS.get(given, given)
        if key in PERCENTILE_KEYS:
            bounds[PERCENTILE_KEYS[key]] = positive_number(value, f"{where}: {key}")
        elif key == "error_points":
            values[key] = positive_number(value, f"{where}: {key}")
        elif key in _COUNTS:
            values[key] = _count(value, key, f"{where}: {given}")
        elif key == "duration":
            values["duration_s"] = parse_duration(value, f"{where}: {key}")
        elif key == "confidence":
            values[key] = _confidence(value, f"{where}: {key}")
        elif key == "inconclusive":
            inconclusive = parse_policy(value, f"{where}: {key}")
        elif key == "severity":
            check_severity(value, f"{where}: severity")
        elif key == "name":
            if not isinstance(value, str) or not value:
                raise ThresholdError(f"{where}: name: expected a non-empty string, got {value!r}")
        else:
            raise ThresholdError(f"{where}: unknown canary key {key!r} (expected one of: {', '.join(CANARY_KEYS)})")
    spec = CanarySpec(
        bounds_pct=bounds or {q: default_bound_pct for q in DEFAULT_GATED},
        inconclusive=inconclusive,
        **values,
    )
    if spec.most_rounds < spec.rounds:
        raise ThresholdError(f"{where}: max_rounds: at least rounds ({spec.rounds}), got {spec.max_rounds!r}")
    return spec


def _refuse_both_names(raw: Mapping[str, Any], where: str) -> None:
    """``blocks`` / ``max_blocks`` are read as ``rounds`` / ``max_rounds``; giving both names is a usage error."""
    for old, new in DEPRECATED_KEYS.items():
        if old in raw and new in raw:
            raise ThresholdError(f"{where}: {old} is the old name of {new}; give {new} only")


def parse_policy(value: Any, where: str) -> str:
    """'go' or 'no-go': what an inconclusive comparison makes of the verdict."""
    if value not in INCONCLUSIVE_POLICIES:
        raise ThresholdError(f"{where}: expected 'go' or 'no-go', got {value!r}")
    return value


def _count(value: Any, key: str, where: str) -> int:
    """A whole number in the key's range: a plan is sent to real services, so it has a ceiling too."""
    number = whole_number(value, _COUNTS[key], where)
    if number > MAX_COUNT:
        raise ThresholdError(f"{where}: at most {MAX_COUNT:,}, got {value!r}")
    return number


def _confidence(value: Any, where: str) -> float:
    number = positive_number(value, where)
    if not 0.5 <= number < 1.0:
        raise ThresholdError(f"{where}: expected a confidence level between 0.5 and 1 (e.g. 0.95), got {value!r}")
    return number


def check_marker(item: Any, default_bound_pct: float, inconclusive: str) -> None:
    """Reject a misused ``@pytest.mark.canary`` at collection, before anything runs."""
    marker = item.get_closest_marker("canary")
    if marker is None:
        return
    if marker.args:
        raise MarkerError(f"{item.nodeid}: @pytest.mark.canary takes keyword arguments only, got {marker.args!r}")
    parse_canary(marker.kwargs, item.nodeid, default_bound_pct=default_bound_pct, inconclusive=inconclusive)
    for old in sorted(set(marker.kwargs) & set(DEPRECATED_KEYS)):
        warnings.warn(pytest.PytestDeprecationWarning(
            f"{item.nodeid}: @pytest.mark.canary({old}=...) is deprecated, use {DEPRECATED_KEYS[old]}=... (the same rounds)"
        ), stacklevel=2)
    if "canary" not in getattr(item, "fixturenames", ()):
        raise MarkerError(f"{item.nodeid}: @pytest.mark.canary needs the 'canary' fixture to measure it")


def implied_info(item: Any) -> dict[str, str] | None:
    """A test that uses the ``canary`` fixture without the marker is still a canary case of the verdict."""
    if "canary" in getattr(item, "fixturenames", ()):
        return {"domain": "canary", "category": "canary comparisons"}
    return None
