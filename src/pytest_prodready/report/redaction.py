"""Keep secrets out of every report and log line.

Credentials travel inside DSNs (``bolt://user:pass@host``), inside query
strings (``?password=...``), in ``Authorization`` headers and in settings or
environment variables named like secrets.  A :class:`Redactor` knows the
secret values of this run (from the environment) and masks them wherever
they appear, then masks whatever looks like a credential by its shape.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words and numbers
# A secret word, or "pass" / "pwd" / "auth" standing as a word of a name ("DB_PASS", not "passed").
SECRET_WORD = r"(?:password|passwd|passphrase|secret|token|api[_-]?key|credential|(?<![a-z])(?:pass|pwd|auth)(?![a-z]))"
SECRET_NAME = re.compile(SECRET_WORD, re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z0-9_-]*" + SECRET_WORD + r"[A-Za-z0-9_-]*)"
    r"(?P<sep>['\"]?\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.IGNORECASE,
)


_BEARER = re.compile(r"(?P<scheme>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask passwords in URLs and ``key=value`` pairs whose key names a secret."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _BEARER.sub(lambda m: f"{m['scheme']}{MASK}", text)
    return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{_mask_value(m['value'])}", text)


def _mask_value(value: str) -> str:
    """The mask, inside the value's quotes if it had any."""
    return f"{value[0]}{MASK}{value[0]}" if value[0] in "'\"" else MASK


class Redactor:
    """Masks this run's known secret values, then anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(unique, key=len, reverse=True)

    def remember(self, *secrets: str | None) -> None:
        """Also mask secrets made during the run (the embedded apps' API keys)."""
        found = {*self._secrets, *(s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH)}
        self._secrets = sorted(found, key=len, reverse=True)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "Redactor":
        """Every environment variable named like a secret holds a value to mask."""
        return cls(value for name, value in environ.items() if SECRET_NAME.search(name))

    def text(self, text: str) -> str:
        if not text:
            return text  # most reports of a run have no message: no regex for them
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return redact(text)

    def value(self, value: Any) -> Any:
        """Redact every string inside nested dicts and lists; mask secret-named keys."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                key: MASK if isinstance(key, str) and SECRET_NAME.search(key) and value[key] not in (None, "")
                else self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value
