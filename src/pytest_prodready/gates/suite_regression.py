"""The gated operations together against a stored baseline: one figure for the whole run.

Measured as separate pytest processes on a shared 2-core machine, one
gate's calibrated p50 moves 6-30 % from one process to the next (its own
luck: the state the machine was in while that case ran), so a single gate
cannot tell a 30 % regression from an unlucky process without also failing
unchanged builds.  That luck differs from gate to gate, while a build that got
slower makes every operation slower; so the run's changes, each at its own
machine speed, are averaged over the gates, and the average is judged
against the spread the baseline's own runs show for the same average.  The
average drops the highest and lowest fifth of the gates first (``TRIM``): in
one of 20 unchanged runs a single gate's p50 tripled and a plain mean made
the whole run +32 %.

    change    = trimmed mean over gates of log(figure / calibration) - the baseline runs' mean of it
    threshold = log(1 + bound) + t(SUITE_Z, runs - 1) * spread * sqrt(1 + 1/runs)

``spread`` is the standard deviation of the same average over the
baseline's own runs, so a baseline saved on a noisy machine widens its own
threshold.  ``spread * sqrt(1 + 1/runs)`` is the standard error of predicting
one new run from the baseline's mean; ``t`` turns ``SUITE_Z`` standard
deviations into Student's t with ``runs - 1`` degrees of freedom, since a
spread estimated from 3 runs can be half the true one by chance (a plain z
would then let more unchanged runs through).  Fewer than ``MIN_RUNS`` baseline runs
cannot show a spread: above the bound is then *inconclusive*, never a
failure.  A single operation that regressed alone is the per-gate
comparison's job (``gates/comparison.py``), which needs a larger change.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .baseline import CALIBRATION, MAX_RUNS, Baseline
from .comparison import INCONCLUSIVE, REGRESSED, WITHIN, trimmed_means

MIN_GATES = 3  # with fewer, an average over gates cancels little
MIN_RUNS = 3  # baseline runs needed to measure the spread between runs
SUITE_Z = 1.0  # run-to-run standard deviations the change must clear above the bound
TRIM = 0.2  # share of gates dropped at each end of the average (none with fewer than 5 gates)


@dataclass(frozen=True)
class SuiteRegression:
    """The run's gated operations together, against one stored baseline."""

    baseline: str
    metric: str
    gates: int
    runs: int
    change_pct: float
    bound_pct: float
    threshold_pct: float
    spread_pct: float | None
    decision: str
    changes: Mapping[str, float]  # node id -> that gate's change in %, at this run's machine speed
    one_cpu: bool | None = None  # this run's threads ran on one CPU (None: not known)
    timed_otherwise: int = 0  # baseline runs timed the other way (every CPU vs one): a mixed comparison

    @property
    def regressed(self) -> bool:
        return self.decision == REGRESSED

    def message(self) -> str:
        """E.g. ``baseline release-41: the 7 gated operations together p50 +31.2 % ... > 17.4 % (...): regressed``."""
        relation = {REGRESSED: ">", WITHIN: "<="}.get(self.decision, "vs")
        if self.spread_pct is None:
            why = f"{self.bound_pct:g} %; {self.runs} baseline run{'s' if self.runs != 1 else ''} cannot show the " \
                  f"spread between runs, save it at least {MIN_RUNS} times"
        else:
            why = f"{self.threshold_pct:.1f} %: {self.bound_pct:g} % widened by the spread between the {self.runs} " \
                  f"baseline runs, {self.spread_pct:.1f} %"
            if self.decision == INCONCLUSIVE and self.runs < MAX_RUNS:
                why += f" (saving the baseline again, up to {MAX_RUNS} runs, narrows it)"
        return (
            f"baseline {self.baseline}: the {self.gates} gated operations together, {self.metric[:-3]} "
            f"{self.change_pct:+.1f} % at this run's machine speed {relation} {why}: {self.decision}{self._mixed()}"
        )

    def _mixed(self) -> str:
        """Runs timed on one CPU and on every CPU do not compare (a hand-off across CPUs can be 2-3x slower)."""
        if not self.timed_otherwise:
            return ""
        theirs, ours = ("every CPU", "one") if self.one_cpu else ("one CPU", "every CPU")
        return (f" ({self.timed_otherwise} of the {self.runs} baseline runs were timed on {theirs}, this run on {ours}: "
                "save the baseline again with the same pin_cpu)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "metric": self.metric,
            "gates": self.gates,
            "baseline_runs": self.runs,
            "change_pct": round(self.change_pct, 3),
            "bound_pct": self.bound_pct,
            "threshold_pct": round(self.threshold_pct, 3),
            "spread_pct": None if self.spread_pct is None else round(self.spread_pct, 3),
            "decision": self.decision,
            "regressed": self.regressed,
            "changes_pct": {nodeid: round(change, 3) for nodeid, change in self.changes.items()},
            "message": self.message(),
        }


def calibrated_level(figures: Mapping[str, Any], metric: str) -> float | None:
    """log(figure / calibration): the figure in units of this run's machine speed (None without both)."""
    value, calibration = figures.get(metric), figures.get(CALIBRATION)
    if not value or not calibration or value <= 0 or calibration <= 0:
        return None
    return math.log(float(value) / float(calibration))


def compare_suite(
    baseline: Baseline, measured: Mapping[str, Mapping[str, Any]], metric: str, bound_pct: float,
    one_cpu: bool | None = None,
) -> SuiteRegression | None:
    """The gated cases of this run (node id -> figures with ``metric`` and the calibration) against the baseline.

    Only gates calibrated in this run and in every baseline run count; None
    when fewer than ``MIN_GATES`` do.  ``one_cpu``: how this run was timed,
    so the message can say when the baseline's runs were timed otherwise.
    """
    levels: dict[str, tuple[float, list[float]]] = {}
    for nodeid, figures in measured.items():
        now = calibrated_level(figures, metric)
        before = [calibrated_level(run.get(nodeid, {}), metric) for run in baseline.runs]
        if now is not None and before and all(level is not None for level in before):
            levels[nodeid] = (now, [float(level) for level in before])  # type: ignore[arg-type]
    if len(levels) < MIN_GATES:
        return None
    runs = len(baseline.runs)
    changes = {nodeid: now - statistics.fmean(before) for nodeid, (now, before) in levels.items()}
    change = trimmed_mean(list(changes.values()))
    bound = math.log1p(bound_pct / 100.0)
    spread = run_spread([before for _, before in levels.values()]) if runs >= MIN_RUNS else None
    threshold = bound if spread is None else bound + student_t(SUITE_Z, runs - 1) * spread * math.sqrt(1.0 + 1.0 / runs)
    return SuiteRegression(
        baseline=baseline.name, metric=metric, gates=len(levels), runs=runs, change_pct=_pct(change),
        bound_pct=bound_pct, threshold_pct=_pct(threshold), spread_pct=None if spread is None else _pct(spread),
        decision=suite_decision(change, bound, threshold, spread is not None),
        changes={nodeid: _pct(value) for nodeid, value in sorted(changes.items())},
        one_cpu=one_cpu,
        timed_otherwise=0 if one_cpu is None else sum(flag != one_cpu for flag in baseline.one_cpu),
    )


def run_spread(levels_per_gate: Sequence[Sequence[float]]) -> float:
    """Standard deviation (log) of one run's average change over the gates, from the baseline runs themselves.

    Each baseline run's trimmed average of its gates' deviations from the
    runs' mean: how far one process lands from the build's typical level.
    """
    runs = len(levels_per_gate[0])
    means = [statistics.fmean(levels) for levels in levels_per_gate]
    deviations = [
        trimmed_mean([levels[run] - mean for levels, mean in zip(levels_per_gate, means)]) for run in range(runs)
    ]
    return statistics.stdev(deviations)


def student_t(z: float, df: int) -> float:
    """Student's t quantile with ``df`` degrees of freedom at the normal quantile ``z`` (Cornish-Fisher, two terms).

    Within 1 % of the exact quantile for z <= 1 and df >= 2 (checked by a test), which is
    all this module asks of it; no SciPy needed.
    """
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def trimmed_mean(values: Sequence[float], trim: float = TRIM) -> float:
    """Mean without the ``trim`` share of lowest and of highest values (the canary's trimmed mean, one row)."""
    return float(trimmed_means([list(values)], trim)[0])


def suite_decision(change: float, bound: float, threshold: float, spread_known: bool) -> str:
    """Regressed above the widened threshold; inconclusive between it and the bound, or with no spread known."""
    if change <= bound:
        return WITHIN
    if spread_known and change > threshold:
        return REGRESSED
    return INCONCLUSIVE


def _pct(log_change: float) -> float:
    return 100.0 * math.expm1(log_change)
