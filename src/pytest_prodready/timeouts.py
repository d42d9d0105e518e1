"""Connect and statement timeouts: a readiness run never hangs on a silent dependency.

A production database or API that accepts a connection and then says nothing
would otherwise stall a check forever.  ``[tool.prodready]``
``connect_timeout`` bounds reaching a dependency (TCP connect, Bolt
handshake, SQLite open) and ``query_timeout`` bounds each statement or HTTP
answer; the SQLite probe, Neo4j stores and the API readiness checks all take
them from here unless a store declares its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .limits import ThresholdError, positive_number

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_QUERY_TIMEOUT_S = 30.0


class TimeoutSettingError(ValueError):
    """A timeout that is not a finite number of seconds above zero; one-line message."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds allowed to connect, and to answer one statement or request."""

    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S
    query_s: float = DEFAULT_QUERY_TIMEOUT_S


DEFAULT_TIMEOUTS = Timeouts()


def parse_timeouts(table: Mapping[str, Any], where: str) -> Timeouts:
    """The two keys of ``[tool.prodready]``, checked: JSON schema lets NaN and infinity through."""
    connect = _seconds(table, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_S, where)
    query = _seconds(table, "query_timeout", DEFAULT_QUERY_TIMEOUT_S, where)
    return Timeouts(connect, query)


def _seconds(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    try:
        return positive_number(value, f"{where}: key {key!r}")
    except ThresholdError:
        raise TimeoutSettingError(f"{where}: key {key!r}: expected a number of seconds > 0, got {value!r}") from None
