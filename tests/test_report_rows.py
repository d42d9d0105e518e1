"""The HTML report's table rows, as pytest-html stores them in the page (its ``data-jsonblob``).

pytest-html builds a row for every phase of a test and keeps only the call's
and those of a failed setup or teardown; the plugin skips its own work on the
rows that are dropped (``html_sections.shown_as_row``).  Every row that is
shown must still carry the Readiness cell, an escaped test id and a masked log.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from pytest_prodready.report.html_sections import shown_as_row

from .sessions import output

SECRET = "rows-Seeded-5e1d"  # API_TOKEN
INJECTION = "<b>bold-id</b>"

CASES = f'''
import os

import pytest


@pytest.fixture
def broken_setup():
    print("setting up with", os.environ["API_TOKEN"])
    raise RuntimeError("setup refused " + os.environ["API_TOKEN"])


@pytest.fixture
def broken_teardown():
    yield
    print("tearing down with", os.environ["API_TOKEN"])
    raise RuntimeError("teardown refused " + os.environ["API_TOKEN"])


@pytest.fixture
def noisy_teardown():
    yield
    print("closing with", os.environ["API_TOKEN"])


@pytest.mark.smoke(category="rows")
@pytest.mark.parametrize("case", ["x"], ids=[{INJECTION!r}])
def test_setup_fails(case, broken_setup):
    pass


@pytest.mark.smoke(category="rows")
@pytest.mark.parametrize("case", ["x"], ids=[{INJECTION!r}])
def test_teardown_fails(case, broken_teardown):
    pass


@pytest.mark.smoke(category="rows")
@pytest.mark.parametrize("case", ["x"], ids=[{INJECTION!r}])
def test_passes(case, noisy_teardown):
    pass
'''


def table_rows(page: str) -> dict[str, list[dict]]:
    """pytest-html's rows per test id, from the JSON it embeds in the page."""
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob is not None, "no data blob in the page"
    return json.loads(html.unescape(blob.group(1)))["tests"]


def test_every_shown_row_has_the_readiness_cell_an_escaped_id_and_a_masked_log(project, monkeypatch):
    pytester = project("\n[tool.prodready.require.smoke]\nrows = 3\n")
    pytester.makepyfile(test_rows=CASES)
    monkeypatch.setenv("API_TOKEN", SECRET)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 1, output(result)
    page = (pytester.path / "reports" / "readiness.html").read_text(encoding="utf-8")
    rows = table_rows(page)
    shown = {nodeid.split("::")[-1]: [row["resultsTableRow"] for row in entries] for nodeid, entries in rows.items()}
    escaped_id = html.escape(INJECTION)
    # A failed setup: one error row; a failed teardown: the call's row and an error row; a pass: the call's row.
    assert {name: len(cells) for name, cells in shown.items()} == {
        f"test_setup_fails[{INJECTION}]": 1, f"test_teardown_fails[{INJECTION}]": 2, f"test_passes[{INJECTION}]": 1,
    }, sorted(shown)
    for name, cells_of_rows in shown.items():
        for cells in cells_of_rows:
            assert cells[2] == '<td class="col-readiness">smoke / rows</td>', (name, cells)
            test_id = next(cell for cell in cells if cell.startswith('<td class="col-testId">'))
            assert escaped_id in test_id and INJECTION not in test_id, test_id
    logs = "\n".join(row["log"] for entries in rows.values() for row in entries)
    assert "setup refused ***" in logs and "teardown refused ***" in logs and "closing with ***" in logs, logs
    assert SECRET not in page


HOOK_LOG = """
import json
from pathlib import Path

SEEN = Path(__file__).with_name("hooks.jsonl")


def _note(hook, report, cells):
    with SEEN.open("a", encoding="utf-8") as out:
        out.write(json.dumps([hook, report.nodeid.split("::")[-1], report.when, len(cells)]) + "\\n")


def pytest_html_results_table_row(report, cells):
    _note("row", report, cells)


def pytest_html_results_table_html(report, data):
    _note("html", report, data)
"""


def test_a_dropped_row_is_emptied_after_every_other_row_hook(project, monkeypatch):
    """A user's row hook sees all cells of every row; pytest-html builds no log for a row it drops."""
    pytester = project("\n[tool.prodready.require.smoke]\nrows = 3\n")
    pytester.makepyfile(test_rows=CASES)
    pytester.makeconftest(HOOK_LOG)
    monkeypatch.setenv("API_TOKEN", SECRET)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 1, output(result)
    seen = [json.loads(line) for line in (pytester.path / "hooks.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [(name, when) for hook, name, when, cells in seen if hook == "row"]
    assert len(rows) == 8 and all(cells >= 4 for hook, _, _, cells in seen if hook == "row"), seen
    logs = sorted((name.split("[")[0], when) for hook, name, when, _ in seen if hook == "html")
    # Not the passed setups (and no teardown of the cases that passed it with no output of its own).
    assert logs == [("test_passes", "call"), ("test_passes", "teardown"), ("test_setup_fails", "setup"),
                    ("test_teardown_fails", "call"), ("test_teardown_fails", "teardown")], seen


class _Report:
    def __init__(self, when: str, outcome: str) -> None:
        self.when, self.outcome = when, outcome


@pytest.mark.parametrize("when", ["setup", "call", "teardown", "collect"])
@pytest.mark.parametrize("outcome", ["passed", "failed", "skipped", "rerun"])
def test_only_a_passed_setup_or_teardown_is_dropped(when, outcome):
    assert shown_as_row(_Report(when, outcome)) == (outcome != "passed" or when in ("call", "collect"))
