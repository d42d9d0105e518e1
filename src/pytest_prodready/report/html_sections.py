"""pytest-html hooks: the readiness sections on top of the report, a Readiness column, masked logs.

Registered only in a readiness run where pytest-html is active (see
:mod:`.files`), so a user's own ``--html`` report of an ordinary run is
left exactly as pytest-html makes it.
"""

from __future__ import annotations

from html import escape

import pytest

from .. import systems
from ..session import redactor_of
from .html import TEST_ID_CELL, escaped_test_id_cell  # every row uses them: imported once, not per row


class HtmlSections:
    """The column is added only when the table header is still to be built (``column=True``)."""

    def __init__(self, config: pytest.Config, *, column: bool) -> None:
        self.config = config
        self.column = column
        _mask_metadata(config)  # before pytest-html's session start (or its replay) renders it

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
        controller = self.config.pluginmanager.get_plugin("prodready-controller")
        document = controller.state.document if controller is not None else None
        if document is not None:
            from . import html

            prefix.extend(html.summary_blocks(document))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        if self.column:
            cells.insert(2, '<th class="sortable" data-column-type="readiness">Readiness</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        """pytest-html puts the test id in its cell unescaped (and inserts it with innerHTML): escape it here."""
        if not shown_as_row(report):
            return
        redactor = redactor_of(self.config)
        for index, cell in enumerate(cells):
            if cell.startswith(TEST_ID_CELL):
                cells[index] = escaped_test_id_cell(cell, redactor)
                break
        if self.column:
            info = getattr(report, "prodready", None)
            label = f"{info['domain']} / {info['category']}" if info else ""
            shown = systems.shown(info.get("figures", {})) if info else ""
            label += f" ({redactor.text(shown)})" if shown else ""
            cells.insert(2, f'<td class="col-readiness">{escape(label)}</td>')

    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """Failure logs are shown verbatim; secrets in them are masked first."""
        if not shown_as_row(report):
            return
        redactor = redactor_of(self.config)
        data[:] = [redactor.text(entry) for entry in data]


class DroppedRows:
    """Empties the cells of a row pytest-html would drop, so it builds nothing more for it.

    pytest-html stops at a row with no cells (``_process_report``): it then
    reads no cell for sorting (two regexes per sortable cell), builds no log
    and calls no ``pytest_html_results_table_html`` for a row it would not
    keep.  Two of a passed case's three rows are such rows.  A passed
    teardown whose log pytest-html appends to the call's row keeps its cells.
    ``trylast``: every other row hook (a user's own) sees the cells first.
    """

    @pytest.hookimpl(trylast=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        if not shown_as_row(report) and not _adds_teardown_log(report):
            cells.clear()


def _adds_teardown_log(report: pytest.TestReport) -> bool:
    """pytest-html appends a teardown's sections whose header says "teardown" to the call's row, passed or not."""
    return report.when == "teardown" and any("teardown" in header for header, _ in report.sections)


def shown_as_row(report: pytest.TestReport) -> bool:
    """pytest-html 4 builds a row for every phase but keeps none of a passed setup or teardown.

    (``ReportData.add_test``; of a passed teardown it keeps only the log,
    taken from the report's own sections, which ``clean_reports`` masked.)
    Two of a readiness case's three rows are dropped: they need no Readiness
    cell, no escaped id and no masked log.
    """
    return report.when not in _DROPPED_PHASES or report.outcome != "passed"


_DROPPED_PHASES = ("setup", "teardown")


def _mask_metadata(config: pytest.Config) -> None:
    """pytest-html shows metadata (CI variables such as GIT_URL) with innerHTML: mask and escape it first."""
    from pytest_metadata.plugin import metadata_key

    metadata = config.stash.get(metadata_key, None)
    if metadata:
        from . import html

        metadata.update(html.safe_metadata(metadata, redactor_of(config)))
