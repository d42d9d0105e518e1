"""Read-only by default: against a system that is not the embedded reference, nothing writes.

A readiness run is often pointed at production.  Smoke cases that create
sessions, memory entries or tasks are marked ``@pytest.mark.writes``; unless
the run passes ``--prodready-allow-writes`` (``allow_writes = true``), they
are skipped with :data:`WRITES_NOT_ALLOWED` against any ``--prodready-target``.
A skipped case was not measured, so its category stays not ready and the
verdict says, in its reasons and on the READINESS line, how many cases the
policy held back.  Pure: no pytest import, so the verdict can use it.
"""

from __future__ import annotations

from typing import Iterable, Protocol

from .records import CaseResult

WRITES_MARKER = "writes"
WRITES_NOT_ALLOWED = "writes not allowed (pass --prodready-allow-writes)"


class MarkedItem(Protocol):
    """What we need of a pytest item: its closest marker by name."""

    def get_closest_marker(self, name: str) -> object: ...


def blocks(item: MarkedItem, uses_reference: bool, allow_writes: bool) -> bool:
    """Whether this case must not run: it writes, the target is a real system, and writes were not allowed."""
    return not uses_reference and not allow_writes and item.get_closest_marker(WRITES_MARKER) is not None


def held_back(records: Iterable[CaseResult]) -> tuple[str, ...]:
    """Node ids of the cases the policy skipped (pytest reports them as ``Skipped: <reason>``)."""
    return tuple(r.nodeid for r in records if r.outcome == "skipped" and r.message.endswith(WRITES_NOT_ALLOWED))


def note(count: int) -> str:
    """The words the READINESS line and the reasons use for a read-only run."""
    return f"read-only run: {count} cases not run by policy"
