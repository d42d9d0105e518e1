"""Keep secrets out of every report and log line.

Credentials travel inside DSNs (``bolt://user:pass@host``), inside query
strings (``?password=...``), in ``Authorization`` headers and in settings or
environment variables named like secrets.  A :class:`Redactor` knows the
secret values of this run (from the environment) and masks them wherever
they appear, then masks whatever looks like a credential by its shape.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable, Mapping


class LazyPattern:
    """A regular expression compiled on its first use.

    Compiling these costs 0.4-1.7 ms each, in every run that imports the
    module, and most runs never need them: a test id or an empty log holds no
    '@' and no secret word (:func:`redact`).  Once compiled, the pattern's
    methods sit on the instance, so a call costs what it cost on the pattern.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags

    def __getattr__(self, name: str) -> Any:  # only until compiled: then the methods are found on the instance
        compiled = re.compile(self.pattern, self.flags)
        for method in ("search", "sub", "match", "fullmatch", "finditer"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    @property
    def compiled(self) -> bool:
        return "search" in vars(self)


MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words and numbers
# A secret word, or "pass" / "pwd" / "auth" standing as a word of a name ("DB_PASS", not "passed").
SECRET_WORD = r"(?:password|passwd|passphrase|secret|token|api[_-]?key|credential|(?<![a-z])(?:pass|pwd|auth)(?![a-z]))"
SECRET_NAME = re.compile(SECRET_WORD, re.IGNORECASE)
# A password may hold a '/' (it ends at the last '@' before a space); the host after the '@' must look like one.
_URL_CREDENTIALS = LazyPattern(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]+)@(?=[a-z0-9\[])", re.IGNORECASE
)
# The same without a scheme (``neo4j:pw@db:7687``, a netloc on its own): user:password@host[:port].
_NETLOC_CREDENTIALS = LazyPattern(
    r"(?<![\w/.:@-])(?P<user>[a-z0-9._%+-]+):(?P<pw>[^@\s/:]+)@(?=[a-z0-9][a-z0-9.-]*(?::\d+)?(?![\w@]))",
    re.IGNORECASE,
)
# Environment variables whose names hold a secret word but whose values are not secrets.
NOT_SECRETS = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK"})
_ELLIPSIS = "..."

_KEY_VALUE = LazyPattern(
    r"(?<![A-Za-z0-9_.-])(?P<key>[A-Za-z0-9_-]*" + SECRET_WORD + r"[A-Za-z0-9_-]*)"
    r"(?P<sep>['\"]?\s*[=:]\s*)(?P<value>\"[^\"]*\"|'[^']*'|[^\s&;,'\"]+)",
    re.IGNORECASE,
)


_BEARER = LazyPattern(r"(?P<scheme>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


# What a Bearer header or a secret-named key needs somewhere in the text: one search rules both out.
_SHAPE_WORD = LazyPattern(r"bearer|basic|" + SECRET_WORD, re.IGNORECASE)
# Every match of _SHAPE_WORD contains one of these (case aside): an ASCII text holding none cannot match.
_SHAPE_PARTS = ("pass", "pwd", "auth", "secret", "token", "api", "credential", "bearer", "basic")


def may_hold_shape(text: str) -> bool:
    """Whether ``_SHAPE_WORD`` finds something in ``text``: the same answer, 5-15x sooner for most texts.

    The regex (with its lookarounds, case-insensitive) costs about 4 µs on a
    test id and 70 µs on a 300-character log; most texts are ASCII and hold
    none of its words, which a lowercase substring test shows.  (Only for
    ASCII: the regex also matches e.g. the long s 'ſ' as 's', which
    ``str.lower`` keeps.)
    """
    if text.isascii():
        lowered = text.lower()
        for part in _SHAPE_PARTS:  # a plain loop: any() over a generator costs twice as much (two texts per case)
            if part in lowered:
                break
        else:
            return False
    return _SHAPE_WORD.search(text) is not None


def redact(text: str) -> str:
    """Mask passwords in URLs and ``key=value`` pairs whose key names a secret.

    Most texts (test ids, log lines) hold no '@' and no secret word: each
    pattern is tried only when what it needs is there.
    """
    if "@" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
        text = _NETLOC_CREDENTIALS.sub(lambda m: f"{m['user']}:{MASK}@", text)
    if not may_hold_shape(text):
        return text
    text = _BEARER.sub(lambda m: f"{m['scheme']}{MASK}", text)
    return _KEY_VALUE.sub(_masked_pair, text)


def _masked_pair(match: re.Match[str]) -> str:
    """``password=x`` -> ``password=***``; but a count in a sentence (``auth: 1 failed``) is no secret."""
    value = match["value"]
    if value.isdigit() and ":" in match["sep"] and re.match(r"\s+[a-z(]", match.string[match.end():]):
        return match.group(0)
    return f"{match['key']}{match['sep']}{_mask_value(value)}"


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
        """Every environment variable named like a secret holds a value to mask (``$PWD`` is a folder, not one)."""
        return cls(value for name, value in environ.items() if SECRET_NAME.search(name) and name not in NOT_SECRETS)

    def text(self, text: str) -> str:
        if not text:
            return text  # most reports of a run have no message: no regex for them
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        if _ELLIPSIS in text:
            text = self._fragments(text)
        return redact(text)

    def _fragments(self, text: str) -> str:
        """pytest shortens long reprs to ``'sk-li...-1111'``: mask what is left of a secret beside the ``...``."""
        for secret in self._secrets:
            for size in range(len(secret) - 1, MIN_SECRET_LENGTH - 1, -1):
                text = text.replace(_ELLIPSIS + secret[-size:], _ELLIPSIS + MASK)
                text = text.replace(secret[:size] + _ELLIPSIS, MASK + _ELLIPSIS)
        return text

    def value(self, value: Any) -> Any:
        """Redact every string inside nested dicts and lists; mask secret-named keys."""
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value  # the common figures, before the slower Mapping check
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        if isinstance(value, (dict, Mapping)):
            return {
                key: MASK if _names_secret(key) and value[key] not in (None, "") else self.value(item)
                for key, item in value.items()
            }
        return value


@functools.lru_cache(maxsize=1024)
def _names_secret(key: object) -> bool:
    """Figures repeat a few keys in every case: each is looked at once."""
    return isinstance(key, str) and SECRET_NAME.search(key) is not None
