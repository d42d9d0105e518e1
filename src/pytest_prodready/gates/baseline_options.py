"""What the baseline options accept: a baseline's name, the compared metric, the bound, the smallest change.

Every configured run resolves these (settings.py), most of them with no
baseline to save or compare: they are parsed here, without importing the
stored-baseline and comparison machinery of :mod:`.baseline` (which
re-exports every name below).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MIN_CHANGE = "0%"  # of the gate's limit; the spread between baseline runs sets the margin instead
METRICS = ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")
DEFAULT_METRIC = "p50_ms"  # a run's p95 of a sub-millisecond call is its scheduler stalls; the p50 is the call
# Compiled on first use (re's own cache): most runs give no baseline option.
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"  # fullmatch: "$" would allow a final newline
_BOUND = r"^\s*(?P<value>\d+(?:\.\d+)?)\s*%?\s*$"
_MIN_CHANGE = r"^\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>%|ms)\s*$"


class BaselineError(ValueError):
    """A baseline that cannot be named, found or read; one-line message."""


@dataclass(frozen=True)
class MinChange:
    """The smallest difference that matters: in ms, or in % of the gate's limit on the compared figure."""

    value: float
    unit: str  # "ms" or "%"

    def ms(self, limit_ms: float | None) -> float:
        """In ms for a gate with this limit (a share of no limit is no minimum)."""
        if self.unit == "ms":
            return self.value
        return self.value * limit_ms / 100.0 if limit_ms else 0.0


DEFAULT_MIN_REGRESSION = MinChange(0.0, "%")  # parse_min_change(DEFAULT_MIN_CHANGE), checked by a test


def parse_bound(text: str | float) -> float:
    """'10%' or '10' -> 10.0 (percent); anything else is a usage error."""
    match = re.match(_BOUND, str(text))
    if not match:
        raise BaselineError(f"--prodready-max-regression: expected a percentage such as '10%', got {text!r}")
    return float(match["value"])


def parse_min_change(text: str | float) -> MinChange:
    """'1%' (of the gate's limit) or '0.5ms'; anything else is a usage error."""
    match = re.match(_MIN_CHANGE, str(text))
    if not match:
        raise BaselineError(
            f"--prodready-min-regression: expected a share of the gate's limit such as '1%' or a time such as "
            f"'0.5ms', got {text!r}"
        )
    return MinChange(float(match["value"]), match["unit"])


def baseline_path(folder: Path, name: str) -> Path:
    if not re.fullmatch(_NAME, name):
        raise BaselineError(f"baseline name {name!r}: use letters, digits, '.', '_' or '-'")
    return folder / f"{name}.json"
