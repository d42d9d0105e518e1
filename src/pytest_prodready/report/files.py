"""Where the report files go, and pytest-html's part in them.

pytest-html writes ``readiness.html`` (self-contained, so it opens with no
network).  It is opened only once the run turns out to be a readiness run,
and only when the user gave no ``--html`` of their own: an unrelated run
gets no report object, no rows built for nothing and no file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import pytest

from ..gates.baseline_options import baseline_path
from ..json_files import write_json_atomically
from .paths import check_report_paths, unwritable_reason

if TYPE_CHECKING:
    from ..settings import Settings

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"  # the CI job summary a readiness run appends its Markdown summary to
SECTIONS_PLUGIN = "prodready-html"
DROPPED_ROWS_PLUGIN = "prodready-html-dropped-rows"


def may_open_html_report(config: pytest.Config) -> bool:
    """pytest-html is active and the user named no report of theirs: a readiness run opens ours."""
    return config.pluginmanager.hasplugin("html") and not config.option.htmlpath


def add_html_sections(config: pytest.Config, *, column: bool) -> None:
    """Our summary blocks (and, when the table header is still to come, the Readiness column)."""
    if config.pluginmanager.hasplugin("html") and not config.pluginmanager.has_plugin(SECTIONS_PLUGIN):
        from .html_sections import DroppedRows, HtmlSections

        config.pluginmanager.register(HtmlSections(config, column=column), SECTIONS_PLUGIN)
        config.pluginmanager.register(DroppedRows(), DROPPED_ROWS_PLUGIN)


def open_html_report(config: pytest.Config, settings: Settings, session: pytest.Session, held: Iterable[Any]) -> None:
    """Start pytest-html's report now, as if ``--html`` had been given, and show it what it missed.

    pytest-html builds its report object in its own ``pytest_configure``;
    calling that again with the option set builds it the same way.  The
    session start, collection and any reports seen before we knew are then
    replayed to it, so its table is the same as with ``--html`` from the start.
    """
    if not config.pluginmanager.hasplugin("html"):
        return
    if config.option.htmlpath:
        add_html_sections(config, column=False)  # the user's report: its header is already built
        return
    add_html_sections(config, column=True)
    config.option.htmlpath = str(settings.html_path)
    config.option.self_contained_html = True
    before = set(config.pluginmanager.get_plugins())
    config.pluginmanager.getplugin("html").pytest_configure(config)
    for report in set(config.pluginmanager.get_plugins()) - before:
        report.pytest_sessionstart(session)
        report.pytest_collection_finish(session)
        for seen in held:
            if isinstance(seen, pytest.CollectReport):
                report.pytest_collectreport(seen)
            else:
                report.pytest_runtest_logreport(seen)


def _html_active(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("html")


def html_report_path(config: pytest.Config) -> Path | None:
    """The HTML report pytest-html will write, if any."""
    path = config.option.htmlpath if _html_active(config) else None
    return Path(path).resolve() if path else None


def write_reports(config: pytest.Config, settings: Settings, document: dict[str, Any]) -> list[Path]:
    """Write the JSON report; return every report file this run produces."""
    written = [write_json_atomically(settings.json_path, document)]
    html = html_report_path(config)
    if html is not None:
        written.append(html)
    return written


def writes_summary(summary_md: Path | None, environ: Mapping[str, str]) -> bool:
    """A Markdown summary is asked for, or the CI job has a summary file (markdown.py is imported only then)."""
    return bool(summary_md or environ.get(STEP_SUMMARY_ENV))


def check_paths(config: pytest.Config, settings: Settings) -> None:
    """Every file this run will write can be written there: else a usage error, before any case runs."""
    step_summary = os.environ.get(STEP_SUMMARY_ENV)
    own_html = not getattr(config.option, "htmlpath", None)  # checked before a readiness run opens pytest-html's report at our path
    html = (settings.html_path if own_html else Path(config.option.htmlpath)) if _html_active(config) else None
    problem = check_report_paths({
        "--prodready-json": settings.json_path,
        "--prodready-html" if own_html else "--html": html,
        "--prodready-summary-md": settings.summary_md,
        f"${STEP_SUMMARY_ENV}": Path(step_summary) if step_summary else None,
        "--prodready-save-baseline": (
            baseline_path(settings.baseline_dir, settings.save_baseline) if settings.save_baseline else None
        ),
    })
    if problem is not None:
        raise pytest.UsageError(problem)
