"""Optional dependencies: when one is missing, one line names the extra that installs it.

The core (gates, SQLite checks, reports, the smoke suite on the embedded
reference) needs none of these; a case that does fails with the ``pip
install`` line instead of an ImportError traceback.
"""

from __future__ import annotations

import importlib.util

EXTRAS = {
    "http": ("starlette", "uvicorn", "httpx"),
    "load": ("locust", "starlette", "uvicorn", "httpx"),
    "neo4j": ("neo4j",),
}


def _installed(module: str) -> bool:
    """Found without importing it (locust patches the standard library on import)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # a module blocked with sys.modules[name] = None
        return False


class MissingExtra(Exception):
    """A feature's optional dependency is not installed; the message says how to install it."""


def require(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` naming ``pip install 'pytest-prodready[extra]'`` if a module is absent."""
    missing = [module for module in EXTRAS[extra] if not _installed(module)]
    if missing:
        raise MissingExtra(f"{feature} needs {', '.join(missing)}: pip install 'pytest-prodready[{extra}]'")
