"""Hierarchical memory namespaces ("user:alice:preferences") and prefix matching."""

from __future__ import annotations

from .errors import InvalidNamespaceError

SEPARATOR = ":"
# The character right after the separator: [prefix, prefix + _AFTER) is the
# byte range holding the prefix itself and everything below "prefix:".
_AFTER = chr(ord(SEPARATOR) + 1)


def validate_namespace(namespace: str, key: str) -> None:
    """Reject empty names and empty segments ("user::x", "user:"), which prefixes cannot address."""
    if not isinstance(namespace, str) or not isinstance(key, str) or not namespace or not key:
        raise InvalidNamespaceError("namespace and key must be non-empty strings")
    if any(not segment for segment in namespace.split(SEPARATOR)):
        raise InvalidNamespaceError(f"namespace {namespace!r} has an empty segment")


def prefix_clause(column: str, prefix: str | None) -> tuple[str, list[object]]:
    """A predicate matching ``prefix`` and its descendants, and nothing else.

    "user:alice" matches "user:alice" and "user:alice:prefs" but not
    "user:alicex".  The range bounds keep the predicate sargable on a BINARY
    index (LIKE is case-insensitive and would not be); the residual test then
    drops siblings such as "user:alice.old" that fall inside the range.
    An empty or missing prefix matches everything.
    """
    if not prefix:
        return "1 = 1", []
    base = prefix.rstrip(SEPARATOR)
    if not base:
        return "1 = 1", []
    child = base + SEPARATOR
    sql = f"({column} >= ? AND {column} < ? AND ({column} = ? OR substr({column}, 1, ?) = ?))"
    return sql, [base, base + _AFTER, base, len(child), child]
