"""Timestamps that double as optimistic-concurrency tokens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_TICK = timedelta(microseconds=1)


class Clock:
    """ISO-8601 UTC timestamps with microseconds, strictly increasing per instance.

    ``sessions.last_update_time`` is compared verbatim by the compare-and-swap
    update, so two writes in the same microsecond must still get different
    values; the clock therefore never repeats nor goes backwards.
    """

    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=timezone.utc)

    def now(self) -> str:
        current = datetime.now(timezone.utc)
        if current <= self._last:
            current = self._last + _TICK
        self._last = current
        return format_timestamp(current)


def format_timestamp(moment: datetime) -> str:
    """The one textual form used in every timestamp column, so they sort as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
