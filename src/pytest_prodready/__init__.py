"""pytest-prodready: a production-readiness gate as a pytest run, ending in GO or NO-GO.

The adapter contract is exported from :mod:`.target` on first access, so the
plugin loading in every pytest run does not pay for it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "ConcurrentUpdateError",
    "DuplicateSessionError",
    "InvalidJSONError",
    "InvalidMemoryTypeError",
    "MemoryServiceTarget",
    "TargetContext",
    "TargetError",
    "UnknownSessionError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import target

        return getattr(target, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
