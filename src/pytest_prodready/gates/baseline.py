"""Stored baselines and the regression gate (seed 001's canary rule: < 10 %).

A baseline is a plain JSON file, one per name, holding each gated case's
percentiles and samples for one or more *runs*: saving again under the same
name adds a run (the newest ``MAX_RUNS`` are kept).  A later run compares its
own figure for the same case (p95 by default) and fails the case only when
it got worse than every one of the baseline's runs by more than the bound,
and by at least the smallest difference that matters.

Why runs: the same build measured in separate processes on a shared machine
varies by more than one run's samples show (a baseline saved once failed 14
of 20 later runs of the unchanged target), so one lucky baseline run must not
decide.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..json_files import write_json_atomically
from .comparison import REGRESSED, WITHIN, Comparison, compare_percentile_runs
from .baseline_options import (  # noqa: F401  (re-exported: the names a baseline's users know it by)
    DEFAULT_METRIC, DEFAULT_MIN_CHANGE, DEFAULT_MIN_REGRESSION, METRICS, BaselineError, MinChange, baseline_path, parse_bound,
    parse_min_change,
)

BASELINE_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1: one run, its cases at the top level
MAX_RUNS = 10  # runs kept per baseline, newest last
PERCENTILES = {"p50_ms": 50, "p95_ms": 95, "p99_ms": 99}
CALIBRATION = "calibration_ms"  # median time of the fixed calibration work in that run (gates/calibration.py)

Cases = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Baseline:
    """Percentiles (and samples) per case node id, for each saved run, oldest first."""

    name: str
    runs: Sequence[Cases]
    saved_at: Sequence[str] = ()
    one_cpu: Sequence[bool] = ()  # per run: its threads ran on one CPU (cpu_pinning.py); False when not recorded

    @property
    def cases(self) -> Cases:
        """The newest run's cases."""
        return self.runs[-1] if self.runs else {}

    def entries(self, nodeid: str, metric: str) -> list[Mapping[str, Any]]:
        """The case's figures in every run that measured ``metric`` for it."""
        return [run[nodeid] for run in self.runs if metric in run.get(nodeid, {})]


@dataclass(frozen=True)
class Regression:
    """One case's figure against its baseline."""

    metric: str
    baseline_ms: float
    measured_ms: float
    bound_pct: float
    comparison: Comparison | None = None  # the bootstrap interval, when both sides kept samples
    runs: int = 1  # baseline runs compared with
    min_change_ms: float = 0.0
    calibrated: bool = False  # the baseline runs were scaled to this run's machine speed

    @property
    def change_pct(self) -> float:
        if self.comparison is not None:
            return self.comparison.change
        return 100.0 * (self.measured_ms - self.baseline_ms) / self.baseline_ms if self.baseline_ms else 0.0

    @property
    def effective_bound_pct(self) -> float:
        """The bound, raised where the smallest difference that matters is a larger share of the baseline."""
        if self.comparison is not None:
            return self.comparison.bound
        return max(self.bound_pct, 100.0 * self.min_change_ms / self.baseline_ms if self.baseline_ms else 0.0)

    @property
    def decision(self) -> str:
        if self.comparison is not None:
            return self.comparison.decision
        return REGRESSED if self.change_pct > self.effective_bound_pct else WITHIN

    @property
    def regressed(self) -> bool:
        """With samples on both sides, only an interval wholly above the (effective) bound is a regression."""
        return self.decision == REGRESSED

    def message(self) -> str:
        label = self.metric[:-3]
        interval = f"{self.comparison.interval()}; " if self.comparison is not None else ""
        runs = f" over {self.runs} runs" if self.runs > 1 else ""
        speed = " at this run's machine speed" if self.calibrated else ""
        return (
            f"{label} regressed {self.change_pct:+.1f} % ({interval}{self.measured_ms:.2f} ms vs baseline "
            f"{self.baseline_ms:.2f} ms{runs}{speed}) > {self._bound_text()}"
        )

    def _bound_text(self) -> str:
        """``10 %``, or the raised bound and why: the difference that matters, the spread between runs."""
        if self.effective_bound_pct <= self.bound_pct:
            return f"{self.bound_pct:g} %"
        reasons = []
        share = 100.0 * self.min_change_ms / self.baseline_ms if self.baseline_ms else 0.0
        if share > self.bound_pct:
            reasons.append(f"the {self.min_change_ms:g} ms that matters")
        if self.effective_bound_pct > max(self.bound_pct, share) + 1e-9:
            reasons.append(f"{self.bound_pct:g} % widened by the spread between baseline runs")
        return f"{self.effective_bound_pct:.3g} % ({'; '.join(reasons)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "baseline_ms": self.baseline_ms,
            "measured_ms": self.measured_ms,
            "change_pct": round(self.change_pct, 3),
            "bound_pct": self.bound_pct,
            "effective_bound_pct": round(self.effective_bound_pct, 3),
            "min_change_ms": self.min_change_ms,
            "baseline_runs": self.runs,
            "calibrated": self.calibrated,
            "regressed": self.regressed,
            "decision": self.decision,
            **(
                {
                    "ci_low_pct": round(self.comparison.low, 3),
                    "ci_high_pct": round(self.comparison.high, 3),
                }
                if self.comparison is not None
                else {}
            ),
        }


def load(folder: Path, name: str) -> Baseline:
    """Read a saved baseline; a missing or malformed file says which and why."""
    path = baseline_path(folder, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline {name!r} not found at {path} (save one with --prodready-save-baseline {name})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path}: not readable JSON ({exc})") from None
    runs = _runs(data)
    if runs is None or not runs or not all(_is_cases(run.get("cases")) for run in runs):
        raise BaselineError(f"baseline {path}: not a pytest-prodready baseline (version {BASELINE_VERSION})")
    return Baseline(
        name=name,
        runs=[run["cases"] for run in runs],
        saved_at=[str(run.get("saved_at", "")) for run in runs],
        one_cpu=[run.get("one_cpu") is True for run in runs],  # a run saved before pin_cpu existed used every CPU
    )


def _runs(data: Any) -> list[dict[str, Any]] | None:
    """The runs of a version 2 file, or the one run of a version 1 file; None when it is neither."""
    if not isinstance(data, dict) or data.get("version") not in READABLE_VERSIONS:
        return None
    if data["version"] == 1:
        return [{"saved_at": data.get("saved_at", ""), "cases": data.get("cases")}]
    runs = data.get("runs")
    return runs if isinstance(runs, list) and all(isinstance(run, dict) for run in runs) else None


def _is_cases(cases: Any) -> bool:
    return isinstance(cases, dict) and all(
        isinstance(v, dict) and all(_is_entry(k, x) for k, x in v.items()) for v in cases.values()
    )


def _is_entry(key: str, value: Any) -> bool:
    if key == "samples_ms":
        return isinstance(value, list) and all(_is_figure(x) for x in value)
    return _is_figure(value)


def _is_figure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def save(folder: Path, name: str, cases: Iterable[tuple[str, Mapping[str, float]]], *, one_cpu: bool = False) -> Path:
    """Add this run's percentiles and samples of every gated case to the baseline, atomically.

    An existing baseline of that name keeps its runs (the newest
    ``MAX_RUNS``); a file that is not a baseline is never overwritten.
    ``one_cpu``: the run's threads ran on one CPU, recorded so a comparison
    can say when it mixes runs timed one way and the other.
    """
    path = baseline_path(folder, name)
    earlier = _stored_runs(path, name)
    run = {
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "one_cpu": one_cpu,
        "cases": {nodeid: _entry(figures) for nodeid, figures in cases},
    }
    document = {"version": BASELINE_VERSION, "runs": (earlier + [run])[-MAX_RUNS:]}
    return write_json_atomically(path, document, sort_keys=True)


def _stored_runs(path: Path, name: str) -> list[dict[str, Any]]:
    """The runs already saved under ``name`` (none when there is no file yet)."""
    if not path.exists():
        return []
    baseline = load(path.parent, name)
    return [
        {"saved_at": at, "one_cpu": one_cpu, "cases": dict(cases)}
        for at, one_cpu, cases in zip(baseline.saved_at, baseline.one_cpu, baseline.runs)
    ]


def _entry(figures: Mapping[str, Any]) -> dict[str, Any]:
    """A case's percentiles, and its samples so a later run can compare distributions."""
    entry: dict[str, Any] = {m: float(figures[m]) for m in (*METRICS, CALIBRATION) if m in figures}
    if figures.get("samples_ms"):
        entry["samples_ms"] = [round(float(s), 4) for s in figures["samples_ms"]]
    return entry


def calibration_level(calibration_ms: Sequence[float]) -> float:
    """The median calibration time of a run (0.0 when it took none)."""
    return float(statistics.median(calibration_ms)) if calibration_ms else 0.0


def calibration_of(figures: Mapping[str, Any]) -> dict[str, float]:
    """The case's calibration figure, for saving beside its percentiles (none if it took none)."""
    return {CALIBRATION: figures[CALIBRATION]} if figures.get(CALIBRATION) else {}


def at_candidate_speed(entries: Sequence[Mapping[str, Any]], candidate_calibration: float) -> list[list[float]]:
    """Each baseline run's samples scaled to the candidate's machine speed (their calibrations' ratio).

    A run whose calibration took 1.5x longer ran on a machine 1.5x slower;
    without calibrations on both sides the samples are left as they are.
    """
    runs = [list(entry["samples_ms"]) for entry in entries]
    if not candidate_calibration or not all(entry.get(CALIBRATION) for entry in entries):
        return runs
    return [[s * candidate_calibration / float(entry[CALIBRATION]) for s in run] for entry, run in zip(entries, runs)]


def compare(
    baseline: Baseline,
    nodeid: str,
    figures: Mapping[str, float],
    metric: str,
    bound_pct: float,
    samples_ms: Sequence[float] = (),
    min_change_ms: float = 0.0,
) -> Regression | None:
    """The case's regression against the baseline's runs, or None if no run measured it.

    Percentile metrics are compared with a bootstrap interval spanning the
    spread between the baseline's runs when they kept samples; other figures
    (or runs without samples) must exceed the slowest baseline run by more
    than the bound.  Either way the change must reach ``min_change_ms``.
    When the candidate and every run timed the calibration work, the runs'
    samples are first scaled to the candidate's machine speed.
    """
    entries = baseline.entries(nodeid, metric)
    if not entries or metric not in figures:
        return None
    measured = float(figures[metric])
    calibrated = bool(figures.get(CALIBRATION)) and all(entry.get(CALIBRATION) for entry in entries)
    if metric in PERCENTILES and samples_ms and all(entry.get("samples_ms") for entry in entries):
        runs = at_candidate_speed(entries, float(figures.get(CALIBRATION) or 0.0))
        comparison = compare_percentile_runs(
            runs, samples_ms, q=PERCENTILES[metric], bound_pct=bound_pct, min_change=min_change_ms
        )
        before = comparison.baseline
    else:
        comparison, before = None, max(float(entry[metric]) for entry in entries)
    return Regression(
        metric=metric, baseline_ms=before, measured_ms=measured, bound_pct=bound_pct, comparison=comparison,
        runs=len(entries), min_change_ms=min_change_ms, calibrated=calibrated and comparison is not None,
    )
