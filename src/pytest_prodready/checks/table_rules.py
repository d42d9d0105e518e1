"""Row-level rules on one SQLite table: allowed values, JSON, patterns, conditions, freshness, counts.

Each is one set-based query on the read-only probe, read once for count and
sample (:meth:`~.sqlite.SQLiteProbe.scan`).  NULL passes every value rule
(``nulls`` is the rule for missing values), as a CHECK constraint lets NULL
through.  The regular expression and the JSON Schema run as Python functions
registered on the probe's connection (``create_function``), inside SQLite's
scan, so no row travels to Python to be judged.
"""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Mapping, Sequence

from .finding import DEFAULT_SAMPLE, Finding
from .sqlite import ProbeError, SQLiteProbe, quote_name, sql_literal

MATCHES = "prodready_matches"
JSON_MATCHES = "prodready_json_matches"
_MILLISECONDS_FROM = 1e11  # an epoch value this large counts milliseconds (year 5138 in seconds)


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(pattern: str, value: Any) -> int:
    """SQL ``prodready_matches(pattern, value)``: 1 when ``re.search`` finds the pattern in the value."""
    if value is None:
        return 1
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return int(_regex(pattern).search(text) is not None)


@lru_cache(maxsize=16)
def _validator(schema_text: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(schema_text))


def _json_matches(value: Any, schema_text: str) -> int:
    """SQL ``prodready_json_matches(value, schema)``: 1 when the text parses and the document fits the schema."""
    try:
        return int(_validator(schema_text).is_valid(json.loads(value)))
    except (TypeError, ValueError):
        return 0


async def _register(probe: SQLiteProbe, name: str, arity: int, function: Any) -> None:
    await probe.connection.create_function(name, arity, function, deterministic=True)


async def allowed_values(probe: SQLiteProbe, table: str, column: str, values: Sequence[Any],
                         limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
    """Rows whose value is not one of ``values`` (``NOT IN`` a literal list: faster than bound parameters)."""
    col = quote_name(column)
    listed = ", ".join(sql_literal(value) for value in values)
    return await probe.scan(table, f"{col} NOT IN ({listed})", [col], (), limit, where, key=col)


async def json_invalid(probe: SQLiteProbe, table: str, column: str, schema: Mapping[str, Any] | None = None,
                       limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
    """Rows whose text SQLite's ``json_valid`` refuses, or (with ``schema``) whose document misses the schema."""
    col = quote_name(column)
    if schema is None:
        # json_valid(NULL) is 0 on SQLite before 3.45: NULL is excluded after the test, which stops most rows
        return await probe.scan(table, f"NOT json_valid({col}) AND {col} IS NOT NULL", [col], (), limit, where, key=col)
    await _register(probe, JSON_MATCHES, 2, _json_matches)
    predicate = f"{col} IS NOT NULL AND NOT {JSON_MATCHES}({col}, ?)"
    return await probe.scan(table, predicate, [col], [json.dumps(schema, sort_keys=True)], limit, where, key=col)


async def pattern_misses(probe: SQLiteProbe, table: str, column: str, regex: str,
                         limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
    """Rows whose value the regular expression does not match (``re.search``: anchor it with ^ and $)."""
    await _register(probe, MATCHES, 2, _matches)
    col = quote_name(column)
    return await probe.scan(table, f"{col} IS NOT NULL AND NOT {MATCHES}(?, {col})", [col], [regex], limit, where,
                            key=col)


async def condition_fails(probe: SQLiteProbe, table: str, condition: str,
                          limit: int = DEFAULT_SAMPLE, where: str | None = None) -> Finding:
    """Rows where ``condition`` is false; NULL passes, as in a CHECK constraint (wrap it in coalesce to refuse)."""
    return await probe.scan(table, f"NOT ({condition})", ["*"], (), limit, where)


async def failed_rows(probe: SQLiteProbe, query: str, limit: int = DEFAULT_SAMPLE) -> Finding:
    """The rows a user's read-only SELECT returns (checked by ``catalog.check_select`` before it runs)."""
    body = query.strip().rstrip(";")
    return await probe.offenders(f"SELECT count(*) FROM ({body})", f"SELECT * FROM ({body})", limit=limit)


async def row_count(probe: SQLiteProbe, table: str, where: str | None = None) -> Finding:
    (count,), = await probe.rows(f"SELECT count(*) FROM {quote_name(table)}" + (f" WHERE {where}" if where else ""))
    return Finding(count, (), {"rows": count})


async def freshness(probe: SQLiteProbe, table: str, column: str, where: str | None = None,
                    now: float | None = None) -> Finding:
    """Age in seconds of the newest value: ISO-8601 text (naive is UTC, as SQLite's CURRENT_TIMESTAMP) or epoch."""
    col = quote_name(column)
    (newest,), = await probe.rows(f"SELECT max({col}) FROM {quote_name(table)}" + (f" WHERE {where}" if where else ""))
    if newest is None:
        return Finding(math.inf, (), {"newest": None}, f"no row of {table} has a {column}")
    age = (time.time() if now is None else now) - epoch_seconds(newest, f"{table}.{column}")
    return Finding(round(age, 3), (), {"newest": newest}, f"newest {column}: {newest}")


def epoch_seconds(value: Any, where: str) -> float:
    """A timestamp as SQLite stores it, in seconds since 1970."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000 if value >= _MILLISECONDS_FROM else float(value)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProbeError(f"{where}: newest value {str(value)[:40]!r} is neither ISO-8601 text nor epoch seconds") \
            from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
