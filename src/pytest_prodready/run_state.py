"""What one pytest session has gathered for the verdict, kept in ``config.stash``.

Records are built from test reports on the process that writes the reports
(the xdist controller, or the only process in a serial run), so a run under
``-n auto`` and a serial run see exactly the same records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from .records import INTERRUPTED_MESSAGE, CaseResult, phase_outcome
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
    finished: set[str] = field(default_factory=set)  # node ids whose teardown was reported
    deselected: dict[str, tuple[str, str]] = field(default_factory=dict)  # readiness nodeid -> (domain, category)
    usage_mistakes: list[str] = field(default_factory=list)  # "<nodeid>: <mistake>": the run exits 4
    baseline_suite: dict[str, Any] | None = None  # the gated operations together against --prodready-compare

    def add_phase(self, nodeid: str, when: str, outcome: str, duration_s: float, message: str,
                  info: Mapping[str, Any], figures: Mapping[str, Any]) -> None:
        """Fold one test phase, tagged with readiness info and its (masked) figures, into its record."""
        record = self.records.get(nodeid)
        if record is None:
            record = CaseResult(
                nodeid=nodeid,
                domain=info["domain"],
                category=info["category"],
                severity=info.get("severity", "fail"),
            )
            self.records[nodeid] = record
        if when == "teardown":
            self.finished.add(nodeid)
        if info.get("ran_on"):
            record.figures["ran_on"] = info["ran_on"]
        if outcome != "passed" or "warnings" in figures:  # a quiet pass (most phases) stays "passed"
            outcome = phase_outcome(when, outcome, figures.get("warnings", ()), bool(info.get("unsupported")))
        record.merge_phase(outcome, duration_s, message, figures)

    def mark_interrupted(self) -> None:
        """After an interruption, a case with no teardown report was cut short: never a pass."""
        for nodeid, record in self.records.items():
            if nodeid not in self.finished:
                record.merge_phase("interrupted", 0.0, INTERRUPTED_MESSAGE, {})

    @property
    def workers(self) -> int:
        """How many xdist workers ran readiness cases (0 in a serial run)."""
        return len(self.worker_ids)

    def release(self) -> None:
        """Let go of what only the reports needed (the records and the document); the verdict stays."""
        self.records = {}
        self.document = None

    def ordered_records(self) -> list[CaseResult]:
        """Records in node-id order, so serial and distributed runs list them alike."""
        return [self.records[key] for key in sorted(self.records)]
