"""The JSON files the plugin writes: the same data ``json`` would write, laid out a case per line."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from pytest_prodready.json_files import dumps, write_json_atomically

DOCUMENT = {
    "schema_version": "1.4",
    "verdict": {"decision": "GO", "reasons": ["a", "b"], "warnings": []},
    "cases": [
        {"nodeid": "t.py::test_a", "figures": {"latency": {"p95_ms": 1.5}, "systems": ["sqlite /x.db"]}},
        {"nodeid": "t.py::test_<b>\u00e9\n", "figures": {}},
    ],
    "environment": {"sqlite": Path("/data/app.db"), 3: None, True: 1.0},
    "deselected": [],
}


def test_the_data_is_what_json_writes_and_each_case_has_its_line(tmp_path):
    text = dumps(DOCUMENT)
    assert json.loads(text) == json.loads(json.dumps(DOCUMENT, default=str))
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and lines[1] == '  "schema_version": "1.4",'
    for case in DOCUMENT["cases"]:
        assert f"    {json.dumps(case, separators=(', ', ': '))}" in [line.rstrip(",") for line in lines]
    written = write_json_atomically(tmp_path / "r.json", DOCUMENT)
    assert written.read_text(encoding="utf-8") == text + "\n"


def test_sorted_keys_at_every_level():
    text = dumps({"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": 0}, sort_keys=True)
    assert text == '{\n  "a": 0,\n  "b": {\n    "a": [{"x": 2, "y": 1}],\n    "z": 1\n  }\n}'


def test_the_reported_versions_are_the_installed_distributions():
    """Versions read from loaded modules (a quicker route) are those the package metadata gives."""
    import pytest_html
    import xdist

    from pytest_prodready.report.readiness_json import _versions

    assert pytest_html and xdist  # loaded, so their __version__ is what is reported
    expected = {}
    for dist in ("pytest-prodready", "pytest", "pytest-html", "pytest-xdist", "aiosqlite"):
        try:
            expected[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    assert _versions() == expected
