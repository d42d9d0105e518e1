"""readiness_case.is_readiness_case: the one definition of a readiness case, on real collected items."""

from __future__ import annotations

import pytest

from pytest_prodready.plugin import _ClosestMarkers
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


LAYERED = """
import pytest

pytestmark = [pytest.mark.smoke(category="module"), pytest.mark.load(name="module load")]

@pytest.mark.smoke(category="class")
class TestLayered:
    @pytest.mark.smoke(category="first")
    @pytest.mark.smoke(category="second")
    def test_own_twice(self):
        pass

    def test_from_the_class(self):
        pass

    @pytest.mark.parametrize("n", [1, 2])
    def test_parametrized(self, n):
        pass

def test_from_the_module():
    pass
"""


def test_the_collection_checks_see_each_items_closest_markers_as_iter_markers_does(pytester: pytest.Pytester):
    """The plugin gathers a parent's markers once per collection; each name's closest marker stays pytest's."""
    items = pytester.getitems(LAYERED)
    parents: dict = {}
    for item in items:
        marked = _ClosestMarkers(item, parents)
        expected: dict = {}
        for mark in item.iter_markers():
            expected.setdefault(mark.name, mark)
        for name in {*expected, "perf_gate", "canary"}:
            assert marked.get_closest_marker(name) is expected.get(name), (item.nodeid, name)
    smoke = {item.name: _ClosestMarkers(item, parents).get_closest_marker("smoke").kwargs["category"] for item in items}
    assert smoke == {"test_own_twice": "second",  # the decorator nearest the function is applied first
                     "test_from_the_class": "class", "test_parametrized[1]": "class",
                     "test_parametrized[2]": "class", "test_from_the_module": "module"}
