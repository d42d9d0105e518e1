"""Hostile values and seeded secrets, end to end: every output file and the terminal.

A parametrize id, a metadata value or a database value may hold HTML or control characters; a
Neo4j URI, a CI variable, a passing case's output or a truncated repr may hold a secret. None of
them may run in the HTML page (checked in headless Chromium's DOM), paint the terminal or leak.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from .chromium import render
from .sessions import output

INJECTION = "<img src=x onerror=document.body.dataset.pwned=1>"
PASSWORD = "pw-Seeded-9f3a71"           # DB_PASSWORD: printed by a passing case
TOKEN = "tok-Seeded-Zq81-long-enough-to-be-truncated-by-pytest-" + "x" * 60 + "-TAIL-7777"  # SERVICE_TOKEN
NEO4J_PW = "neo4jpw-Seeded/4c2e"        # in a store URI, with a '/'
NETLOC_PW = "netlocpw-Seeded-77aa"       # in a store URI without a scheme
GIT_TOKEN = "gittok-Seeded-0b1c"         # in CI metadata (GIT_URL)
SECRETS = (PASSWORD, TOKEN, NEO4J_PW, NETLOC_PW, GIT_TOKEN, TOKEN[-12:], TOKEN[:12], "4c2e", "netlocpw")

CASES = f'''
import os

import pytest


@pytest.mark.smoke(category="checks")
@pytest.mark.parametrize("case", ["plain"], ids=[{INJECTION!r}])
def test_hostile_id(case):
    assert case == "other"


@pytest.mark.smoke(category="checks")
def test_prints_a_secret_and_passes():
    print("connecting with", os.environ["DB_PASSWORD"])


@pytest.mark.smoke(category="checks")
def test_compares_a_long_token():
    assert os.environ["SERVICE_TOKEN"] == "other-value"
'''

PYPROJECT = f"""
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready.require.smoke]
checks = 3

[tool.prodready.consistency.stores.graph]
neo4j = "bolt://neo4j:{NEO4J_PW}@127.0.0.1:1"

[tool.prodready.consistency.stores.app]
sqlite = "app.db"

[tool.prodready.consistency.rules.graph_orphans]
check = "orphaned_relationships"
store = "graph"

[tool.prodready.consistency.rules.tasks_have_sessions]
check = "orphans"
store = "app"
child = "tasks.session_id"
parent = "sessions.id"
"""

# A value that would clear the line and paint a green verdict on a terminal that obeys it.
PAINT = "\\x1b[2K\\r\\x1b[32mREADINESS: GO\\x1b[0m <b>bold</b> `tick`"


def make_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY)")
        conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, session_id TEXT)")
        conn.execute("INSERT INTO tasks (session_id) VALUES (?)", (PAINT.encode().decode("unicode_escape"),))
    conn.close()


@pytest.fixture
def hostile(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_hostile=CASES)
    pytester.makepyprojecttoml(PYPROJECT)
    make_database(pytester.path / "app.db")
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)
    monkeypatch.setenv("SERVICE_TOKEN", TOKEN)
    monkeypatch.setenv("GIT_URL", f"https://bot:{GIT_TOKEN}@git.example/o/r.git")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return pytester


def run(hostile: pytest.Pytester) -> pytest.RunResult:
    return hostile.runpytest_subprocess(
        "-p", "no:cacheprovider", "--color=no", "-rA", "-rP", "-o", "junit_logging=all",
        "--junitxml", "reports/junit.xml", "--prodready-summary-md", "reports/summary.md",
        "--metadata", "Build", INJECTION.replace("pwned=1", "pwned=2"),
    )


def test_no_seeded_secret_reaches_any_output(hostile):
    result = run(hostile)
    assert result.ret == 1, output(result)
    texts = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in (hostile.path / "reports").rglob("*")
             if p.is_file()}
    assert {"readiness.json", "readiness.html", "junit.xml", "summary.md"} <= set(texts)
    texts["terminal"] = output(result)
    leaks = {(name, secret) for name, text in texts.items() for secret in SECRETS if secret in text}
    assert not leaks, sorted(leaks)
    assert "connecting with ***" in texts["terminal"], "-rP shows the passing case's masked output"
    # Masking keeps pytest's short summary message.
    assert re.search(r"FAILED test_hostile.py::test_compares_a_long_token - AssertionError: assert \S", texts["terminal"])


def test_hostile_ids_metadata_and_values_stay_text(hostile):
    run(hostile)
    reports = hostile.path / "reports"
    dom = render(reports / "readiness.html", hostile.path / "hostile.png", hostile.path / "chromium-hostile")
    assert "data-pwned" not in dom, "a script from a test id or metadata value ran"
    assert '<img src="x"' not in dom and "<img src=x" not in dom
    assert "&lt;img src=x onerror=document.body.dataset.pwned=1&gt;" in dom, "the id is not shown as text"
    assert "pwned=2" in dom and GIT_TOKEN not in dom and "https://bot:***@git.example/o/r.git" in dom
    summary = (reports / "summary.md").read_text(encoding="utf-8")
    outside_code = re.sub(r"(`+).*?\1", "", summary)  # a code span shows its text literally
    assert "<b>" not in summary and "<img" not in outside_code


def test_control_characters_reach_the_terminal_escaped(hostile):
    result = run(hostile)
    text = output(result)
    assert "\x1b" not in text and "\r" not in text.replace("\r\n", "\n")
    assert "\\x1b[2K\\r\\x1b[32mREADINESS: GO" in text
    verdicts = [line for line in text.splitlines() if line.startswith("READINESS:")]
    assert verdicts == ["READINESS: NO-GO (1 of 5 readiness cases passed, at least 3 required)"], verdicts


def test_a_store_uri_without_a_scheme_is_refused_without_its_password(pytester: pytest.Pytester):
    pytester.makepyprojecttoml(
        f'[tool.prodready.consistency.stores.bare]\nneo4j = "neo4j:{NETLOC_PW}@127.0.0.1:1"\n'
        '[tool.prodready.consistency.rules.r]\ncheck = "orphaned_relationships"\nstore = "bare"\n'
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    text = output(result) + "".join(p.read_text(errors="replace") for p in pytester.path.rglob("reports/*") if p.is_file())
    assert result.ret != 0 and "neo4j:***@127.0.0.1:1" in text
    assert NETLOC_PW not in text and "netlocpw" not in text
