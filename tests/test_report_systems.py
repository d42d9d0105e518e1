"""Every report names what each case ran against: base URL, database path, store; the target factory only when used.

A real service (``tests/data/shop_service.py``) on loopback and an SQLite
file; the terminal, JSON, HTML and Markdown reports of one run are read back.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from pytest_prodready import systems

from .sessions import output, read_report

SERVICE = Path(__file__).resolve().parent / "data" / "shop_service.py"
KEY = "report-systems-key"

RULES = """
[tool.prodready.consistency.stores.shop]
sqlite = "shop.db"

[tool.prodready.consistency.rules.orders_have_customers]
check = "orphans"
store = "shop"
child = "orders.customer_id"
parent = "customers.id"
"""

CASES = f"""
import asyncio
from pathlib import Path

import pytest

ROUTES = [("GET", "/orders")]


@pytest.mark.api_readiness(check="health")
def test_health(api_readiness, prodready_settings):
    api_readiness(prodready_settings.target_url, {KEY!r}, ROUTES).assert_health()


@pytest.mark.consistency(rule="amounts")
def test_amounts(consistency):
    asyncio.run(consistency.assert_in_range(Path(__file__).with_name("shop.db"), "orders", "amount", min=0, max=10_000))
"""

TARGET_CASE = """
@pytest.mark.smoke(category="connectivity")
async def test_target_answers(target):
    assert await target.get_session("no-such-session") is None
"""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    database = tmp_path / "service" / "shop.db"
    database.parent.mkdir()
    subprocess.run([sys.executable, str(SERVICE), "--build", str(database)], check=True, timeout=60)
    server = subprocess.Popen([sys.executable, str(SERVICE), str(database)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "SHOP_API_KEY": KEY})
    try:
        yield server.stdout.readline().split()[1], database
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(project, shop, cases: str) -> tuple[pytest.RunResult, pytest.Pytester]:
    url, database = shop
    pytester = project(RULES)
    (pytester.path / "shop.db").write_bytes(database.read_bytes())
    pytester.makepyfile(test_cases=cases)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-target-url", url,
                                           "--prodready-summary-md", "summary.md")
    return result, pytester


def test_each_report_names_the_url_the_database_and_the_store(project, shop):
    url, _ = shop
    result, pytester = run(project, shop, CASES)
    text = output(result)
    db = pytester.path / "shop.db"
    header = next(line for line in text.splitlines() if line.startswith("profile production;"))
    assert url in header and "store shop: sqlite " in header and "shop.db" in header, header
    assert "pytest_prodready.reference" not in text  # no case used the target factory
    assert f"FAILED test_cases.py::test_amounts [ran against sqlite " in text

    document = read_report(pytester.path / "reports" / "readiness.json")
    systems = {case["nodeid"]: case["figures"]["systems"] for case in document["cases"]}
    assert systems["test_cases.py::test_health"] == [url]
    assert systems["test_cases.py::test_amounts"][0].startswith("sqlite ") and systems["test_cases.py::test_amounts"][0].endswith("/shop.db")
    assert systems["pyproject.toml::orders_have_customers"][0].startswith("store shop: sqlite ")
    assert document["environment"]["target"] is None and url in document["environment"]["systems"]

    html = (pytester.path / "reports" / "readiness.html").read_text(encoding="utf-8")
    assert f"api readiness / health ({url})" in html  # the results table, per case
    assert f"ran against {url}" in html or url in html.split("prodready-environment")[1]
    assert "no case used the target fixture" in html

    markdown = (pytester.path / "summary.md").read_text(encoding="utf-8")
    assert url in markdown.splitlines()[2] and "`test_cases.py::test_amounts` | failed |" in markdown
    assert "| sqlite " in markdown  # the failing case's row names its database
    assert str(db.name) in markdown


def test_the_target_factory_is_named_when_a_case_used_it(project, shop):
    result, pytester = run(project, shop, CASES + TARGET_CASE)
    text = output(result)
    header = next(line for line in text.splitlines() if line.startswith("profile production;"))
    assert "target pytest_prodready.reference:create_target" in header
    document = read_report(pytester.path / "reports" / "readiness.json")
    assert document["environment"]["target"] == "pytest_prodready.reference:create_target"
    used = {case["nodeid"]: case["figures"].get("systems", []) for case in document["cases"]}
    assert used["test_cases.py::test_target_answers"] == ["target pytest_prodready.reference:create_target"]
    assert not any("target " in s for s in used["test_cases.py::test_health"])


def test_a_case_that_touched_no_system_gets_no_list_and_one_that_did_lists_each_once():
    figures: dict = {}
    systems.note(figures)
    systems.note(figures, "")
    assert figures == {}
    systems.note(figures, "sqlite /a.db", "http://127.0.0.1:1", "sqlite /a.db")
    systems.note(figures, "http://127.0.0.1:1", "store s: sqlite /b.db")
    assert figures == {"systems": ["sqlite /a.db", "http://127.0.0.1:1", "store s: sqlite /b.db"]}
