"""A quick "certainly valid" for the JSON Schema subset the ``[tool.prodready]`` table is checked with.

Nearly every table a run reads is valid, and importing jsonschema costs a
run that configures the plugin about 50-75 ms of CPU.  :func:`surely_valid`
answers True only when the value satisfies the schema for certain; on any
doubt (a keyword it does not know, a float where an integer is asked, a
value jsonschema might accept) it answers False and the caller asks
jsonschema, which also words the error.  So the answer on what is valid
never changes, only who gives it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_KEYWORDS = frozenset({"type", "enum", "minLength", "minimum", "maximum", "properties", "additionalProperties", "items"})


def surely_valid(value: Any, schema: Mapping[str, Any]) -> bool:
    """True: ``value`` satisfies ``schema``.  False: it may not (ask jsonschema)."""
    if not _KEYWORDS.issuperset(schema):
        return False
    return (
        _type_ok(value, schema.get("type"))
        and _enum_ok(value, schema.get("enum"))
        and _bounds_ok(value, schema)
        and _members_ok(value, schema)
    )


def _type_ok(value: Any, declared: str | list[str] | None) -> bool:
    if declared is None:
        return True
    names = [declared] if isinstance(declared, str) else declared
    return any(name in _TYPES and _TYPES[name](value) for name in names)


def _enum_ok(value: Any, allowed: list[Any] | None) -> bool:
    """Only enums of strings are decided here (jsonschema's equality tells 1 from True and 1.0)."""
    if allowed is None:
        return True
    return isinstance(value, str) and all(isinstance(a, str) for a in allowed) and value in allowed


def _bounds_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    """minLength applies to strings only, minimum and maximum to numbers only (as in JSON Schema)."""
    if isinstance(value, str):
        return len(value) >= schema.get("minLength", 0)
    if _TYPES["number"](value):
        return schema.get("minimum", value) <= value <= schema.get("maximum", value)
    return True


def _members_ok(value: Any, schema: Mapping[str, Any]) -> bool:
    """properties / additionalProperties of an object, items of an array."""
    if isinstance(value, dict):
        known = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, member in value.items():
            sub = known.get(key, extra)
            if sub is False or (sub is not True and not surely_valid(member, sub)):
                return False
        return True
    if isinstance(value, list) and "items" in schema:
        return all(surely_valid(item, schema["items"]) for item in value)
    return True
