"""What a readiness run keeps alive to its end, beside what pytest and pytest-html keep anyway.

Every object still tracked when the run ends is walked by each full garbage
collection: pytest's clean-up runs one and Python's exit another, and in a
2,000-case run the collector's walks were a visible share of the plugin's
cost.  The plugin's share per case is what grows with the run; here it is
measured as the slope between a small and a larger run.
"""

from __future__ import annotations

import pytest

from .sessions import output

CASE = "@pytest.mark.smoke(category='kept')\ndef test_{i}():\n    assert {i} >= 0\n\n"

COUNTER = """
import gc
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    gc.collect()
    sys.stderr.write(f"TRACKED {len(gc.get_objects())}\\n")
"""


def _tracked(pytester: pytest.Pytester, cases: int, *args: str) -> int:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n'
                               f"[tool.prodready.require.smoke]\nkept = {cases}\n")
    pytester.makepyfile(test_cases="import pytest\n\n" + "".join(CASE.format(i=i) for i in range(cases)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)
    assert result.ret == 0, output(result)
    return int(next(line for line in result.stderr.lines if line.startswith("TRACKED ")).split()[1])


def test_a_passed_case_keeps_about_two_objects_to_the_end_of_the_run(pytester: pytest.Pytester):
    """Per quiet passed case (no figure, nothing to say), against pytest alone: pytest-html's row of the
    readiness report (about two objects), and neither its record, its entry in the JSON document, an empty
    ``systems`` list nor a copy of its readiness info (each of these, kept, made it 3-5)."""
    pytester.makeconftest(COUNTER)
    small, large = 100, 500
    extra_small = _tracked(pytester, small) - _tracked(pytester, small, "-p", "no:prodready")
    extra_large = _tracked(pytester, large) - _tracked(pytester, large, "-p", "no:prodready")
    per_case = (extra_large - extra_small) / (large - small)
    assert per_case < 2.5, f"{per_case:.2f} more objects per case ({extra_small} at {small} cases, {extra_large} at {large})"
