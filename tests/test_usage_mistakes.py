"""A readiness fixture or marker used wrongly is a usage error (one ERROR: line, exit 4), never a product NO-GO.

And an ``async def`` readiness case runs in a fresh project (pytest-asyncio
in strict mode), rather than failing as "not natively supported".
"""

from __future__ import annotations

import sqlite3

import pytest

from .sessions import assert_usage_error, output

HEADER = """
import pytest

@pytest.mark.api_readiness(check="health")
def test_fine():
    pass
"""

MISTAKES = {
    "bare route strings": (
        """
@pytest.mark.api_readiness(check="authentication")
def test_auth(api_readiness):
    api_readiness("http://127.0.0.1:9", "key", ["/orders", "/customers"]).assert_auth()
""",
        "each route must be a (method, path) pair",
    ),
    "no base URL": (
        """
@pytest.mark.api_readiness(check="health")
def test_health(api_readiness, request):
    api_readiness(request.config.getoption("--prodready-target-url"), "key", [("GET", "/o")]).assert_health()
""",
        "base_url must be an http:// or https:// URL, got None (--prodready-target-url not given?)",
    ),
    "unknown consistency check": (
        """
@pytest.mark.consistency(rule="orders")
async def test_rule(consistency, tmp_path):
    await consistency.assert_rule(str(tmp_path / "x.db"), "orphan", child="a.b", parent="c.d")
""",
        "unknown check type 'orphan'",
    ),
    "missing locustfile": (
        """
@pytest.mark.load(users=1, duration="1s")
def test_load(load_runner):
    load_runner.run("no_such_locustfile.py", host="http://127.0.0.1:9")
""",
        "locustfile no_such_locustfile.py not found",
    ),
    "positional marker argument": (
        """
@pytest.mark.api_readiness("authentication")
def test_auth():
    pass
""",
        "@pytest.mark.api_readiness takes check='...'",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_is_a_usage_error_not_a_no_go(project, mistake):
    body, needle = MISTAKES[mistake]
    pytester = project()
    pytester.makepyfile(test_cases=HEADER + body)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert_usage_error(result, needle)
    assert "READINESS:" not in output(result)
    assert "ValueError" not in output(result)


def test_a_mistake_under_xdist_is_one_usage_error(project):
    body, needle = MISTAKES["bare route strings"]
    pytester = project()
    pytester.makepyfile(test_cases=HEADER + body + body.replace("test_auth", "test_auth_again"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    line = assert_usage_error(result, needle)
    assert line.endswith("(and 1 more usage error(s))")  # two tests, two node ids, one line


ASYNC_CASES = """
import pytest

@pytest.mark.consistency(rule="orders")
async def test_orders_have_customers(consistency):
    await consistency.assert_no_orphans({db!r}, child="orders.customer_id", parent="customers.id")

async def test_target_answers(target):
    assert await target.get_session("no-such-session") is None
"""


def test_async_readiness_cases_run_in_a_fresh_strict_mode_project(pytester, tmp_path):
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as connection:
        connection.executescript(
            "CREATE TABLE customers(id INTEGER PRIMARY KEY);"
            "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER);"
            "INSERT INTO customers VALUES (1); INSERT INTO orders VALUES (1, 1);"
        )
    pytester.makeini("[pytest]\n")  # nothing about asyncio: pytest-asyncio's strict default
    pytester.makepyfile(test_cases=ASYNC_CASES.format(db=str(db)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning")
    text = output(result)
    assert "not natively supported" not in text
    result.assert_outcomes(passed=2)
    assert "READINESS: GO" in text
