"""Usage mistakes found while a case runs: a readiness fixture called wrongly is the user's setup, not the product.

Settings and markers are checked before anything runs (``pytest.UsageError``,
exit 4).  A fixture's arguments are only seen inside the test body, so a
fixture raises :class:`UsageMistake` instead; the plugin cuts the case's
failure to that one line, keeps the case out of the verdict, and ends the run
with exit 4 and one ``ERROR:`` line, whatever the other cases did.  Pure: no
pytest import.
"""

from __future__ import annotations

from typing import Sequence

USAGE_ERROR_EXIT = 4
REPORT_ATTRIBUTE = "prodready_usage_error"  # a plain attribute of the test report: survives xdist


class UsageMistake(Exception):
    """A readiness fixture, marker or argument used wrongly; the message names the mistake and the fix."""


def error_line(mistakes: Sequence[str]) -> str:
    """The one ``ERROR:`` line for every mistake of the run: the first, and how many more."""
    distinct = list(dict.fromkeys(mistakes))
    more = f" (and {len(distinct) - 1} more usage error(s))" if len(distinct) > 1 else ""
    return f"ERROR: {distinct[0]}{more}"
