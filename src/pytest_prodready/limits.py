"""Limits and the numbers in them: validated strictly, each error naming its key.

Shared by performance gates, load runs, the canary, timeouts and the wait
options, so a bad value reads the same everywhere: ``p99_ms=-1``,
``users=0`` or ``duration="soon"`` stops the run before it starts.  The one
warn / fail limits model (:func:`parse_limits`) lives here too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from . import severity as severities

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ThresholdError(ValueError):
    """A threshold value or key is not acceptable; the message names it."""


@dataclass(frozen=True)
class LimitKind:
    """How one limit is read: the check of its numbers, and which way a measurement is worse."""

    number: Callable[[Any, str], float] | None = None  # default: a positive number
    higher_is_worse: bool = True


@dataclass(frozen=True)
class Limits:
    """The limits given, each at its fail and / or warn level once ``severity`` moved them."""

    given: tuple[str, ...]
    fail: dict[str, float]
    warn: dict[str, float]

    def fail_values(self) -> dict[str, float | None]:
        """Every given limit's fail level; None for one left with a warn level only."""
        return {key: self.fail.get(key) for key in self.given}


def parse_limits(raw: Mapping[str, Any], kinds: Mapping[str, LimitKind], where: str) -> Limits:
    """The warn / fail limits among ``raw``'s keys: the one limits model of performance gates and load runs.

    Each key of ``kinds`` found in ``raw`` is a number (its fail level) or
    ``{warn = .., fail = ..}``; ``raw["severity"]``, when given, moves the
    levels (:func:`..severity.split`).  Other keys are the caller's to read.
    """
    levels = {
        key: parse_levels(value, f"{where}: {key}", higher_is_worse=kinds[key].higher_is_worse, number=kinds[key].number)
        for key, value in raw.items()
        if key in kinds
    }
    severity = check_severity(raw["severity"], f"{where}: severity") if "severity" in raw else None
    fail, warn = severities.split(levels, severity)
    return Limits(tuple(levels), fail, warn)


def parse_levels(
    value: Any,
    where: str,
    *,
    higher_is_worse: bool = True,
    number: Callable[[Any, str], float] | None = None,
) -> severities.Levels:
    """A number (the fail level) or ``{"warn": .., "fail": ..}`` whose warn level is the stricter.

    ``number`` checks each level (default: a positive number).
    """
    number = number or positive_number
    if not isinstance(value, Mapping):
        return severities.Levels(fail=number(value, where))
    unknown = set(value) - set(severities.SEVERITIES)
    if unknown or not value:
        raise ThresholdError(f"{where}: expected a number or {{warn = .., fail = ..}}, got {dict(value)!r}")
    levels = severities.Levels(
        **{level: number(given, f"{where}.{level}") for level, given in value.items()}
    )
    if levels.warn is not None and levels.fail is not None:
        stricter = levels.warn < levels.fail if higher_is_worse else levels.warn > levels.fail
        if not stricter:
            raise ThresholdError(f"{where}: the warn level {levels.warn:g} must be stricter than the fail level {levels.fail:g}")
    return levels


def check_severity(value: Any, where: str) -> str:
    """'fail' or 'warn'; anything else is a usage error."""
    if value not in severities.SEVERITIES:
        raise ThresholdError(f"{where}: expected one of {', '.join(severities.SEVERITIES)}, got {value!r}")
    return value


def positive_number(value: Any, where: str) -> float:
    """A finite number > 0; ``where`` names the key in the error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ThresholdError(f"{where}: expected a positive number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or number <= 0:
        raise ThresholdError(f"{where}: expected a positive number, got {value!r}")
    return number


def fraction(value: Any, where: str) -> float:
    """A share from 0 to 1 inclusive (0 is a real limit: 'no errors at all')."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ThresholdError(f"{where}: expected a fraction from 0 to 1, got {value!r}")
    return float(value)


def whole_number(value: Any, minimum: int, where: str, maximum: int | None = None) -> int:
    """An int >= ``minimum`` (and <= ``maximum``); bools are refused although Python counts them as ints."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ThresholdError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ThresholdError(f"{where}: at most {maximum:,}, got {value:,}")
    return value


def parse_duration(value: Any, where: str) -> int:
    """Whole seconds from ``20``, ``"20s"``, ``"1m30s"`` or ``"1h"`` (locust's --run-time takes seconds)."""
    if isinstance(value, str) and value.strip().isdecimal():
        value = int(value.strip())  # plain seconds, as the message below suggests
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            hours, minutes, seconds = (int(part or 0) for part in match.groups())
            value = hours * 3600 + minutes * 60 + seconds
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ThresholdError(f"{where}: expected a duration like 20, '20s' or '1m30s' (at least 1 s), got {value!r}")
    return value
