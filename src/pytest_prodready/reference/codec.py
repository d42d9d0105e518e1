"""JSON at the boundary between Python values and the JSON text columns."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_prodready.target import InvalidJSONError


def dump_json(value: Any, what: str = "value") -> str:
    """Encode strictly: NaN/Infinity are not JSON and SQLite's json_valid rejects them."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidJSONError(f"{what} is not JSON-serialisable: {exc}") from exc


def json_object(value: Mapping[str, Any] | str, what: str) -> dict[str, Any]:
    """Accept a mapping or JSON text, but only if it is (or parses to) an object."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, Mapping):
        raise InvalidJSONError(f"{what} must be a JSON object, got {type(value).__name__}")
    return dict(value)


def row_to_dict(row: sqlite3.Row | None, json_columns: Iterable[str] = ()) -> dict[str, Any] | None:
    """A row as a plain dict keyed by column name, with JSON columns decoded."""
    if row is None:
        return None
    decoded = set(json_columns)
    return {
        name: json.loads(value) if name in decoded and isinstance(value, str) else value
        for name, value in zip(row.keys(), row, strict=True)
    }
