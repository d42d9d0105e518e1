"""Errors specific to the reference service, beyond the shared contract ones."""

from __future__ import annotations

from pytest_prodready.target import TargetError


class DuplicateMemoryError(TargetError):
    """``create_memory`` on a (namespace, key) that already has a live version."""


class UnknownMemoryError(TargetError, LookupError):
    """Update or delete of a (namespace, key) with no live version."""


class InvalidNamespaceError(TargetError, ValueError):
    """An empty namespace, key or namespace segment, which would break prefix matching."""


class ServiceClosedError(TargetError, RuntimeError):
    """The service was used after ``close()``."""
