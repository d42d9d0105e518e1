"""Where the report files go, and the bookkeeping of pytest-html's part.

pytest-html writes ``readiness.html`` (self-contained, so it opens with no
network); we only point it at our default path when the user gave no
``--html`` of their own, and withdraw it again when the run turned out to
have nothing to judge, so an unrelated test run leaves no files behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ..gates.baseline import baseline_path
from ..json_files import write_json_atomically
from ..settings import Settings
from .markdown import STEP_SUMMARY_ENV
from .paths import check_report_paths, unwritable_reason

_CLAIM_KEY = pytest.StashKey[tuple[Path, bool]]()


def claim_html_report(config: pytest.Config, settings: Settings) -> None:
    """Default pytest-html's output to our path; must run before pytest-html configures."""
    if config.option.htmlpath:
        return
    if unwritable_reason(settings.html_path) is not None and not settings.explicit:
        return  # maybe an unrelated run: pytest-html would crash on it; a readiness run is stopped by check_paths
    folder = settings.html_path.parent
    config.stash[_CLAIM_KEY] = (folder, folder.exists())
    config.option.htmlpath = str(settings.html_path)
    config.option.self_contained_html = True


def release_html_report(config: pytest.Config) -> None:
    """Stop pytest-html writing a report we asked for but have no use for."""
    claim = config.stash.get(_CLAIM_KEY, None)
    if claim is None:
        return
    from pytest_html.basereport import BaseReport

    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, BaseReport):
            config.pluginmanager.unregister(plugin)
    folder, existed = claim
    if not existed and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


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


def check_paths(config: pytest.Config, settings: Settings) -> None:
    """Every file this run will write can be written there: else a usage error, before any case runs."""
    step_summary = os.environ.get(STEP_SUMMARY_ENV)
    own_html = config.stash.get(_CLAIM_KEY, None) is not None or not config.option.htmlpath
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
