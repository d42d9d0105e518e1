"""Keep secrets out of every report and log line.

Credentials travel inside DSNs (``bolt://user:pass@host``), inside query
strings (``?password=...``) and in settings named like secrets.  Anything the
reports print about the environment passes through :func:`redact` first.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

MASK = "***"
SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|credential|auth)", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"(?P<key>[A-Za-z0-9_.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key)[A-Za-z0-9_.-]*)(?P<sep>['\"]?\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Mask passwords in URLs and ``key=value`` pairs whose key names a secret."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m['key']}{m['sep']}{_mask_value(m['value'])}", text)


def _mask_value(value: str) -> str:
    """The mask, inside the value's quotes if it had any."""
    return f"{value[0]}{MASK}{value[0]}" if value[0] in "'\"" else MASK


def redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with secret-named values masked and every string value redacted."""
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if SECRET_NAME.search(key) and value not in (None, ""):
            clean[key] = MASK
        elif isinstance(value, str):
            clean[key] = redact(value)
        elif isinstance(value, Mapping):
            clean[key] = redact_mapping(value)
        else:
            clean[key] = value
    return clean
