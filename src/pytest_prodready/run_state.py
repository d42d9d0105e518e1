"""What one pytest session has gathered for the verdict, kept in ``config.stash``.

Records are built from test reports on the process that writes the reports
(the xdist controller, or the only process in a serial run), so a run under
``-n auto`` and a serial run see exactly the same records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .records import CaseResult, phase_outcome
from .verdict import Verdict


@dataclass
class RunState:
    """Mutable per-session state; the pure logic lives elsewhere."""

    started_at: float = field(default_factory=time.time)
    records: dict[str, CaseResult] = field(default_factory=dict)
    verdict: Verdict | None = None
    document: dict[str, Any] | None = None
    report_files: list[str] = field(default_factory=list)
    worker_ids: set[str] = field(default_factory=set)
    blocked: str | None = None  # why no case ran: the target never became ready
    deselected: dict[str, tuple[str, str]] = field(default_factory=dict)  # readiness nodeid -> (domain, category)
    usage_mistakes: list[str] = field(default_factory=list)  # "<nodeid>: <mistake>": the run exits 4

    def add_phase(self, nodeid: str, when: str, outcome: str, duration_s: float, message: str, info: Mapping[str, Any]) -> None:
        """Fold one test phase, tagged with readiness info, into its record."""
        record = self.records.get(nodeid)
        if record is None:
            record = CaseResult(
                nodeid=nodeid,
                domain=info["domain"],
                category=info["category"],
                severity=info.get("severity", "fail"),
            )
            self.records[nodeid] = record
        figures = info.get("figures", {})
        outcome = phase_outcome(when, outcome, figures.get("warnings", ()))
        record.merge_phase(outcome, duration_s, message, figures)

    @property
    def workers(self) -> int:
        """How many xdist workers ran readiness cases (0 in a serial run)."""
        return len(self.worker_ids)

    @property
    def active(self) -> bool:
        return bool(self.records)

    def ordered_records(self) -> list[CaseResult]:
        """Records in node-id order, so serial and distributed runs list them alike."""
        return [self.records[key] for key in sorted(self.records)]
