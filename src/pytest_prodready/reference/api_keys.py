"""API keys of the reference HTTP app, each with its own rate limit.

Keys travel in a JSON file readable by its owner only, never on a command
line (``ps`` shows command lines to every user of the machine).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping

DEFAULT_RATE_PER_S = 1000.0


class KeyFileError(ValueError):
    """The key file is missing, malformed or readable by others."""


@dataclass(frozen=True)
class ApiKey:
    """A client credential and the request rate it may sustain (burst defaults to one second's worth)."""

    name: str
    secret: str
    rate_per_s: float = DEFAULT_RATE_PER_S
    burst: float | None = None

    @property
    def capacity(self) -> float:
        return self.burst if self.burst is not None else max(1.0, self.rate_per_s)


def digest(secret: str) -> bytes:
    """What the app keeps and compares: a fixed-length digest, so lookups do not leak key prefixes."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def key_table(keys: Iterable[ApiKey]) -> dict[bytes, ApiKey]:
    return {digest(key.secret): key for key in keys}


def write_key_file(path: Path, keys: Iterable[ApiKey]) -> Path:
    """Create ``path`` with mode 0600 before anything is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump([asdict(key) for key in keys], handle)
    return path


def read_key_file(path: Path) -> list[ApiKey]:
    """Keys from a 0600 file; a file others can read is refused rather than trusted."""
    try:
        mode = path.stat().st_mode
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: cannot read the API key file ({exc})") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: API key file is readable by others (chmod 600 it)")
    if not isinstance(raw, list) or not raw or not all(isinstance(item, Mapping) for item in raw):
        raise KeyFileError(f"{path}: expected a non-empty JSON list of keys")
    try:
        return [ApiKey(**item) for item in raw]
    except TypeError as exc:
        raise KeyFileError(f"{path}: bad key entry ({exc})") from exc
