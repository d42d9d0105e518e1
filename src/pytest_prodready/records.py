"""CaseResult: the one record every readiness domain ends in.

Smoke cases, performance gates, consistency rules and load tests all reduce
to a :class:`CaseResult`, so one verdict and one report serve them all.  The
record travels as plain data (``to_dict``) because pytest-xdist
ships report attributes from workers to the controller as JSON-like values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

# "warned": the case passed but missed a warn level (or failed at severity warn).
# "unsupported": the target lacks the operation (NotImplementedError, or not in its declared capabilities).
# "interrupted": Ctrl-C or SIGTERM cut the case short; pytest reports no phase after its setup.
OUTCOMES = ("passed", "warned", "failed", "error", "skipped", "unsupported", "interrupted")
INTERRUPTED_MESSAGE = "interrupted before the case finished"

# The worst phase outcome wins when a case's setup, call and teardown disagree.
_RANK = {"passed": 0, "warned": 1, "skipped": 2, "unsupported": 3, "failed": 4, "error": 5, "interrupted": 6}


@dataclass
class CaseResult:
    """What one readiness case measured and how it ended."""

    nodeid: str
    domain: str
    category: str
    outcome: str = "passed"
    duration_s: float = 0.0
    message: str = ""
    severity: str = "fail"
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The test's own name, without its file path."""
        return self.nodeid.rsplit("::", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merge_phase(self, outcome: str, duration_s: float, message: str, figures: Mapping[str, Any]) -> None:
        """Fold one phase (setup / call / teardown) into the case's result."""
        self.duration_s += duration_s
        if figures:  # most phases add none
            self.figures.update(figures)
        if outcome != "passed" and _RANK[outcome] > _RANK[self.outcome]:  # "passed" outranks nothing
            self.outcome = outcome
            self.message = message or "; ".join(figures.get("warnings", ())) or self.message


def phase_outcome(when: str, outcome: str, warnings: Sequence[str] = (), unsupported: bool = False) -> str:
    """Map a pytest phase outcome to ours: a failing setup or teardown is an error.

    A call that passed with warnings, or whose warn-severity failure pytest
    counts as an expected failure, is ``warned``.
    """
    if unsupported and outcome in ("failed", "skipped"):
        return "unsupported"
    if outcome == "failed" and when != "call":
        return "error"
    if warnings and outcome in ("passed", "skipped"):
        return "warned"
    return outcome


def failure_message(report: Any) -> str:
    """The last line of a failure, or the reason of a skip: what a reader needs first."""
    if report.passed:
        return ""  # most reports of a run
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    if report.failed and crash is not None:
        return crash.message.strip().splitlines()[0].removeprefix("Failed: ")
    if report.failed and report.longreprtext:
        return report.longreprtext.strip().splitlines()[-1]
    return ""
