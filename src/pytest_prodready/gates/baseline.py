"""Stored baselines and the regression gate (seed 001's canary rule: < 10 %).

A baseline is a plain JSON file, one per name, holding each gated case's
percentiles.  A later run compares its own figure for the same case (p95 by
default) and fails the case when it got worse by more than the bound.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..json_files import write_json_atomically
from .comparison import REGRESSED, Comparison, compare_percentile

BASELINE_VERSION = 1
METRICS = ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")
PERCENTILES = {"p50_ms": 50, "p95_ms": 95, "p99_ms": 99}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # fullmatch: "$" would allow a final newline
_BOUND = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?)\s*%?\s*$")


class BaselineError(ValueError):
    """A baseline that cannot be named, found or read; one-line message."""


@dataclass(frozen=True)
class Baseline:
    """Percentiles per case node id, as measured when the baseline was saved."""

    name: str
    cases: Mapping[str, Mapping[str, float]]
    saved_at: str = ""


@dataclass(frozen=True)
class Regression:
    """One case's figure against its baseline."""

    metric: str
    baseline_ms: float
    measured_ms: float
    bound_pct: float
    comparison: Comparison | None = None  # the bootstrap interval, when both runs kept samples

    @property
    def change_pct(self) -> float:
        return 100.0 * (self.measured_ms - self.baseline_ms) / self.baseline_ms if self.baseline_ms else 0.0

    @property
    def regressed(self) -> bool:
        """With samples on both sides, only an interval wholly above the bound is a regression."""
        if self.comparison is not None:
            return self.comparison.decision == REGRESSED
        return self.change_pct > self.bound_pct

    def message(self) -> str:
        label = self.metric[:-3]
        interval = ""
        if self.comparison is not None:
            interval = f"{self.comparison.interval()}; "
        return (
            f"{label} regressed {self.change_pct:+.1f} % ({interval}{self.measured_ms:.2f} ms vs baseline "
            f"{self.baseline_ms:.2f} ms) > {self.bound_pct:g} %"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline_ms": self.baseline_ms,
            "measured_ms": self.measured_ms,
            "change_pct": round(self.change_pct, 3),
            "bound_pct": self.bound_pct,
            "regressed": self.regressed,
            **(
                {
                    "decision": self.comparison.decision,
                    "ci_low_pct": round(self.comparison.low, 3),
                    "ci_high_pct": round(self.comparison.high, 3),
                }
                if self.comparison is not None
                else {}
            ),
        }


def parse_bound(text: str | float) -> float:
    """'10%' or '10' -> 10.0 (percent); anything else is a usage error."""
    match = _BOUND.match(str(text))
    if not match:
        raise BaselineError(f"--prodready-max-regression: expected a percentage such as '10%', got {text!r}")
    return float(match["value"])


def baseline_path(folder: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise BaselineError(f"baseline name {name!r}: use letters, digits, '.', '_' or '-'")
    return folder / f"{name}.json"


def load(folder: Path, name: str) -> Baseline:
    """Read a saved baseline; a missing or malformed file says which and why."""
    path = baseline_path(folder, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {name!r} not found at {path} (save one with --prodready-save-baseline {name})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path}: not readable JSON ({exc})") from None
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, dict) or data.get("version") != BASELINE_VERSION or not all(
        isinstance(v, dict) and all(_is_entry(k, x) for k, x in v.items()) for v in cases.values()
    ):
        raise BaselineError(f"baseline {path}: not a pytest-prodready baseline (version {BASELINE_VERSION})")
    return Baseline(name=name, cases=cases, saved_at=str(data.get("saved_at", "")))


def _is_entry(key: str, value: Any) -> bool:
    if key == "samples_ms":
        return isinstance(value, list) and all(_is_figure(x) for x in value)
    return _is_figure(value)


def _is_figure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def save(folder: Path, name: str, cases: Iterable[tuple[str, Mapping[str, float]]]) -> Path:
    """Write the percentiles of every gated case, atomically."""
    path = baseline_path(folder, name)
    document = {
        "version": BASELINE_VERSION,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cases": {nodeid: _entry(figures) for nodeid, figures in cases},
    }
    return write_json_atomically(path, document, sort_keys=True)


def _entry(figures: Mapping[str, Any]) -> dict[str, Any]:
    """A case's percentiles, and its samples so a later run can compare distributions."""
    entry: dict[str, Any] = {m: float(figures[m]) for m in METRICS if m in figures}
    if figures.get("samples_ms"):
        entry["samples_ms"] = [round(float(s), 4) for s in figures["samples_ms"]]
    return entry


def compare(
    baseline: Baseline,
    nodeid: str,
    figures: Mapping[str, float],
    metric: str,
    bound_pct: float,
    samples_ms: Sequence[float] = (),
) -> Regression | None:
    """The case's regression against the baseline, or None if the baseline lacks it.

    Percentile metrics are compared with a bootstrap interval when both runs
    kept their samples, so noise alone does not fail an unchanged target.
    """
    case = baseline.cases.get(nodeid, {})
    before = case.get(metric)
    if before is None or metric not in figures:
        return None
    comparison = None
    if metric in PERCENTILES and case.get("samples_ms") and samples_ms:
        comparison = compare_percentile(case["samples_ms"], samples_ms, q=PERCENTILES[metric], bound_pct=bound_pct)
    return Regression(
        metric=metric, baseline_ms=float(before), measured_ms=float(figures[metric]), bound_pct=bound_pct,
        comparison=comparison,
    )
