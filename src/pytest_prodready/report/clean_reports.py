"""A readiness case's report, cleaned once where it is made: secrets masked, control characters escaped.

The same report feeds the terminal (including ``-rP``), JUnit XML (including
``junit_logging=all``) and the HTML log, so cleaning it here cleans them all.
The report's structure is kept: replacing ``longrepr`` with a plain string
lost pytest's short-summary line (it reads ``longrepr.reprcrash.message``)
and would reach an xdist controller without it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import pytest

from .redaction import Redactor

_KEEP = "\n\t"


def printable(text: str) -> str:
    """Control characters shown as escapes (``\\x1b``): a value cannot move the cursor or paint a fake verdict."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in _KEEP else repr(c)[1:-1] for c in text)


def one_line(text: str) -> str:
    """Like :func:`printable`, with newlines and tabs escaped too: for lines of the verdict."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def clean_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """Mask and escape every text of the report, in place."""
    clean: Callable[[str], str] = lambda text: printable(redactor.text(text))
    if report.longrepr is not None:
        report.longrepr = _walk(report.longrepr, clean)
    if report.sections:
        report.sections = [(title, clean(body)) for title, body in report.sections]


def _walk(value: Any, clean: Callable[[str], str], depth: int = 0) -> Any:
    """Strings cleaned inside pytest's repr objects (dataclasses), lists and tuples."""
    if depth > 12 or value is None:
        return value
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_walk(item, clean, depth + 1) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            object.__setattr__(value, field.name, _walk(getattr(value, field.name), clean, depth + 1))
    return value
