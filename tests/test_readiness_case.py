"""readiness_case.is_readiness_case: the one definition of a readiness case, on real collected items."""

from __future__ import annotations

import pytest

from pytest_prodready.readiness_case import is_readiness_case

pytest_plugins = ["pytester"]

SOURCE = """
import pytest

@pytest.mark.smoke(category="connectivity")
def test_marked():
    pass

@pytest.mark.perf_gate(p95_ms=10)
class TestGated:
    def test_in_a_marked_class(self):
        pass

def test_with_the_canary_fixture(canary):
    pass

@pytest.mark.writes
def test_writes_only():
    pass

def test_plain(tmp_path):
    pass
"""

MODULE_MARKED = """
import pytest

pytestmark = pytest.mark.consistency(rule="orphans")

def test_in_a_marked_module():
    pass
"""


def test_a_readiness_marker_anywhere_or_the_canary_fixture_makes_a_case(pytester: pytest.Pytester):
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef canary():\n    return None\n")
    items = pytester.getitems(SOURCE)
    cases = {item.name: is_readiness_case(item) for item in items}
    assert cases == {
        "test_marked": True,
        "test_in_a_marked_class": True,
        "test_with_the_canary_fixture": True,
        "test_writes_only": False,
        "test_plain": False,
    }


def test_a_module_level_marker_makes_a_case(pytester: pytest.Pytester):
    [item] = pytester.getitems(MODULE_MARKED)
    assert is_readiness_case(item)
