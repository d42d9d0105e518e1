"""What the plugin keeps on a readiness case's item: its domain, category and severity, and its figures.

The info is set at collection; figures are added while the case runs (gates,
load, canary, consistency outcomes, warnings) and travel with the test report.
"""

from __future__ import annotations

from typing import Any

import pytest

INFO_KEY = pytest.StashKey[dict[str, Any]]()
FIGURES_KEY = pytest.StashKey[dict[str, Any]]()
CASES_PLUGIN = "prodready-cases"  # the per-test hooks, registered in a process that collected readiness cases


def figures(item: pytest.Item) -> dict[str, Any]:
    """The case's figures, created empty on first use."""
    return item.stash.setdefault(FIGURES_KEY, {})
