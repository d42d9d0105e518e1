"""The verdict as terminal lines: a short table, the failing cases, the decision."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from ..read_only import note
from ..settings import Settings
from ..verdict import Verdict
from .clean_reports import one_line
from .redaction import Redactor

Line = tuple[str, dict[str, bool]]


def summary_lines(verdict: Verdict, settings: Settings, files: Sequence[Path], redactor: Redactor) -> Iterator[Line]:
    """Lines with their markup, every one escaped: a table name or value cannot paint a fake ``READINESS: GO``."""
    for line, markup in _lines(verdict, settings, files, redactor):
        yield one_line(line), markup


def _lines(verdict: Verdict, settings: Settings, files: Sequence[Path], redactor: Redactor) -> Iterator[Line]:
    """Lines with their markup (``green`` / ``yellow`` / ``red`` / ``bold``) for pytest's writer."""
    yield f"profile {settings.profile}; target {redactor.text(settings.target)}", {}
    width = max([len(f"{t.domain} / {t.category}") for t in verdict.categories] + [20])
    if verdict.categories:
        yield f"  {'category':<{width}}  passed/required  result", {"bold": True}
    for tally in verdict.categories:
        label = f"{tally.domain} / {tally.category}"
        state = "NOT READY" if not tally.ready else f"ok, {tally.warned} warned" if tally.warned else "ok"
        if tally.ready and tally.waived:
            state += f", {tally.waived} unsupported (waived)"
        yield f"  {label:<{width}}  {tally.passed:>6}/{tally.required:<8}  {state}", {"red": not tally.ready}
    for record in verdict.failing:
        message = f" - {redactor.text(record.message)}" if record.message else ""
        yield f"  {record.outcome.upper()} {record.nodeid}{message}", {"red": True}
    for record in verdict.warnings:
        yield f"  WARNING {record.nodeid} - {redactor.text(record.message)}", {"yellow": True}
    for reason in verdict.reasons:
        yield f"  reason: {redactor.text(reason)}", {"red": True}
    for path in files:
        yield f"  report: {path}", {}
    passed, required = verdict.total_passed, verdict.total_required
    tail = f" ({passed} passed, {required} required)"
    if verdict.total_on_reference:
        tail = f" ({passed} passed on your system, {required} required; {verdict.total_on_reference} ran on the embedded reference)"
    if verdict.not_run_by_policy:
        tail = f" ({note(len(verdict.not_run_by_policy))})"
    colour = "red" if not verdict.go else "yellow" if verdict.warnings else "green"
    yield f"READINESS: {verdict.headline}{tail}", {colour: True, "bold": True}
