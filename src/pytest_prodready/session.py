"""The run's settings and secret redactor, kept on ``config.stash`` by the plugin's ``pytest_configure``.

Hooks, fixtures and report writers read them from here; the annotations are
strings so that defining the keys imports nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .report.redaction import Redactor
    from .settings import Settings

SETTINGS_KEY = pytest.StashKey["Settings"]()
REDACTOR_KEY = pytest.StashKey["Redactor"]()
