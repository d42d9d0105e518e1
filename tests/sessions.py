"""Helpers for tests that run the plugin in real pytest sessions (pytester): one copy for every such file.

The ``project`` fixture that builds such a session's folder is in ``conftest.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import pytest_prodready.suites
from pytest_prodready.report.readiness_json import SCHEMA_PATH

USAGE_ERROR = pytest.ExitCode.USAGE_ERROR
SUITES = Path(pytest_prodready.suites.__file__).resolve().parent  # the shipped suites, wherever the package is

BASE_TOML = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"
"""


def output(result: pytest.RunResult) -> str:
    return result.stdout.str() + "\n" + result.stderr.str()


def read_report(path) -> dict:
    """The JSON report, checked against its schema."""
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    return document


def assert_usage_error(result: pytest.RunResult, *needles: str) -> str:
    """Exit 4, one 'ERROR:' line naming what is wrong, no traceback anywhere."""
    text = output(result)
    assert result.ret == USAGE_ERROR, text
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, text
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]
