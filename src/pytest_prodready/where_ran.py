"""Where a case ran: on the user's system, or on the embedded reference service.

With ``--prodready-sqlite PATH`` and no ``--prodready-target``, the SQL-level
cases examine the user's file, but every case that calls the service (the
``target`` fixture) calls the embedded reference on a temporary database.
Those cases say nothing about the user's system, so they never count
towards a GO for it, and the verdict says how many there were.  Pure: no
pytest import, so the verdict can use it.
"""

from __future__ import annotations

from typing import Sequence

EMBEDDED_REFERENCE = "embedded reference"
SERVICE_FIXTURE = "target"


def on_reference(sqlite_given: bool, uses_reference: bool, fixtures: Sequence[str]) -> bool:
    """A case that calls the service while the service is the reference and the database is the user's."""
    return sqlite_given and uses_reference and SERVICE_FIXTURE in fixtures


def on_reference_note(count: int) -> str:
    return (f"{count} cases called the embedded reference service, not your system: --prodready-sqlite checks "
            "your database file only; pass --prodready-target module:factory to run them on your service")
