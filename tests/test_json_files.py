"""The JSON files the plugin writes: the same data ``json`` would write, laid out a case per line."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest

from pytest_prodready import json_files
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


def _public(encode: object) -> bool:
    """The encoder is ``JSONEncoder.encode`` itself (bound to its encoder), not the shared C encoder."""
    return isinstance(getattr(encode, "__self__", None), json.JSONEncoder)


def test_the_shared_c_encoder_writes_what_encode_writes(monkeypatch):
    """One C encoder made per document (json.encoder.c_make_encoder, not public API), or ``encode`` without it."""
    document = {**DOCUMENT, "more": [{"f": [0.1, -0.0, 1e300, float("nan")], "s": "\u2603\x00\"<>", "n": None}]}
    document["environment"] = {"sqlite": Path("/data/app.db"), "3": None, "true": 1.0}
    public = json.JSONEncoder(separators=(", ", ": "), default=str).encode
    assert not _public(json_files.one_line_encoder(False))  # this CPython: the shared C encoder is used
    for value in (document, *document["cases"], "text", 1.5, [], {}):
        assert json_files.one_line_encoder(False)(value) == public(value)
    shared = {sort: dumps(document, sort_keys=sort) for sort in (False, True)}
    monkeypatch.setattr(json_files, "_C_MAKE_ENCODER", None)  # as json.encoder has it without the _json module
    assert _public(json_files.one_line_encoder(False)) and _public(json_files.one_line_encoder(True))
    assert {sort: dumps(document, sort_keys=sort) for sort in (False, True)} == shared


@pytest.mark.parametrize("make", [
    pytest.param(lambda *args: (lambda value, level: ["wrong"]), id="writes-otherwise"),
    pytest.param(lambda *args: 1 / 0, id="fails"),
])
def test_a_c_encoder_that_writes_otherwise_or_fails_is_not_used(monkeypatch, make):
    monkeypatch.setattr(json_files, "_C_MAKE_ENCODER", make)
    assert _public(json_files.one_line_encoder(False))
    assert json.loads(dumps(DOCUMENT)) == json.loads(json.dumps(DOCUMENT, default=str))


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
