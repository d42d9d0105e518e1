"""The verdict as terminal lines: a short table, the failing cases, the decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .. import systems
from ..read_only import note
from ..settings import Settings
from ..verdict import Verdict, category_passed, run_passed
from .clean_reports import one_line
from .figures import milliseconds
from .redaction import Redactor

Line = tuple[str, dict[str, bool]]


def summary_lines(
    verdict: Verdict, settings: Settings, files: Sequence[Path], redactor: Redactor, touched: Sequence[str] = ()
) -> Iterator[Line]:
    """Lines with their markup, every one escaped: a table name or value cannot paint a fake ``READINESS: GO``."""
    for line, markup in _lines(verdict, settings, files, redactor, touched):
        yield one_line(line), markup


def _lines(
    verdict: Verdict, settings: Settings, files: Sequence[Path], redactor: Redactor, touched: Sequence[str]
) -> Iterator[Line]:
    """Lines with their markup (``green`` / ``yellow`` / ``red`` / ``bold``) for pytest's writer."""
    yield f"profile {settings.profile}; {redactor.text(systems.header(touched))}", {}
    width = max([len(f"{t.domain} / {t.category}") for t in verdict.categories] + [20])
    counts = [category_passed(t.passed, t.ran, t.required) for t in verdict.categories]
    count_width = max([len(count) for count in counts] + [6])
    if verdict.categories:
        yield f"  {'category':<{width}}  {'passed':<{count_width}}  result", {"bold": True}
    for tally, count in zip(verdict.categories, counts):
        label = f"{tally.domain} / {tally.category}"
        state = "NOT READY" if not tally.ready else f"ok, {tally.warned} warned" if tally.warned else "ok"
        if tally.ready and tally.waived:
            state += f", {tally.waived} unsupported (waived)"
        yield f"  {label:<{width}}  {count:<{count_width}}  {state}", {"red": not tally.ready}
    for record in verdict.failing:
        message = f" - {redactor.text(record.message)}" if record.message else ""
        shown = systems.shown(record.figures)
        where = f" [ran against {redactor.text(shown)}]" if shown else ""
        yield f"  {record.outcome.upper()} {record.nodeid}{where}{message}", {"red": True}
    for record in verdict.warnings:
        yield f"  WARNING {record.nodeid} - {redactor.text(record.message)}", {"yellow": True}
    for reason in verdict.reasons:
        yield f"  reason: {redactor.text(reason)}", {"red": True}
    for note_line in verdict.notes:
        yield f"  {redactor.text(note_line)}", {}
    for path in files:
        yield f"  report: {path}", {}
    tail = f" ({run_passed(verdict.total_passed, verdict.total_ran, verdict.total_required)})"
    if verdict.total_on_reference:
        tail = (f" ({verdict.total_passed} passed on your system, {verdict.total_required} required; "
                f"{verdict.total_on_reference} ran on the embedded reference)")
    if verdict.not_run_by_policy:
        tail = f" ({note(len(verdict.not_run_by_policy))})"
    colour = "red" if not verdict.go else "yellow" if verdict.warnings else "green"
    yield f"READINESS: {verdict.headline}{tail}", {colour: True, "bold": True}


def gate_line(figures: Mapping[str, Any]) -> str | None:
    """A passing gate's figures on one line (shown under ``-v``); None for a case without a latency gate."""
    latency = figures.get("latency")
    if not latency:
        return None
    shown = " / ".join(f"{key[:-3]} {milliseconds(latency[key])}" for key in ("p50_ms", "p95_ms", "p99_ms"))
    limits = ", ".join(f"{key.removesuffix('_ms')} {value:g}" for key, value in figures.get("limits", {}).items())
    gate = f"gate {figures['gate']}" if figures.get("gate") else "gate"
    return f"    {gate}: {shown} ms (n={latency['n']}{'; limits ' + limits if limits else ''})"
