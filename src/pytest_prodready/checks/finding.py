"""What a consistency check measured, before any threshold judges it.

Every check, on SQLite or on Neo4j, ends in a :class:`Finding`: one number
(a count of offending rows, or a rate), a bounded sample of the offenders and
optional details.  Keeping this shape independent of the backend is what lets
one rule report alike on both stores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping, Sequence

DEFAULT_SAMPLE = 10


@dataclass(frozen=True)
class Finding:
    """The measured value, a sample of offenders, details and a note for the message."""

    value: float
    sample: Sequence[Mapping[str, Any]] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


Rows = list[dict[str, Any]]


async def sample_then_count(sample: Callable[[int], Awaitable[Rows]], count: Callable[[], Awaitable[int]],
                            limit: int) -> tuple[int, Rows]:
    """Offenders and the first ``limit`` of them: the sample asks ``limit + 1`` rows, so n or fewer rows
    are every offender and the count query runs only when there are more (or no sample is wanted).

    For queries that cannot resume after the sample (a user's SELECT, Cypher);
    SQLite table scans resume instead (``SQLiteProbe.scan``).
    """
    found = await sample(limit + 1) if limit else []
    if limit and len(found) <= limit:
        return len(found), found
    return await count(), found[:limit]


def plain(value: Any) -> Any:
    """A JSON-safe copy: reports travel as JSON, database values may be bytes or NaN."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def describe_row(row: Mapping[str, Any]) -> str:
    """``id=301 source_id=9001``: one offender, short enough for a failure line."""
    return " ".join(f"{key}={_short(value)}" for key, value in row.items())


def _short(value: Any, width: int = 40) -> str:
    text = repr(value) if isinstance(value, str) else str(plain(value))
    return text if len(text) <= width else text[: width - 3] + "..."
