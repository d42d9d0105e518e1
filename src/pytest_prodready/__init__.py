"""pytest-prodready: a production-readiness gate as a pytest run, ending in GO or NO-GO."""

from .target import (
    ConcurrentUpdateError,
    DuplicateSessionError,
    InvalidJSONError,
    InvalidMemoryTypeError,
    MemoryServiceTarget,
    TargetContext,
    TargetError,
    UnknownSessionError,
)

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
