"""What judging one measured case ends in: a perf gate, a load run or a canary comparison alike.

Each domain's judge returns a CaseOutcome; the plugin turns its failures
into the test's failure and its warnings into the case's warnings, the same
way for all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CaseOutcome:
    """The figures to report and, when the case failed or warned, why."""

    figures: dict[str, Any]
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        return "; ".join(self.failures)
