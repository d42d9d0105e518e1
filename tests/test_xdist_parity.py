"""The shipped smoke suite judged the same serially and under ``pytest -n 2``.

The controller builds its records from the reports xdist replays, so the
verdict, the per-category counts and every case's outcome must not depend
on how many processes ran the cases.
"""

from __future__ import annotations

import json
import shutil

import pytest

from .test_smoke_suite import SMALL_PROJECT, SUITE


def judged(pytester: pytest.Pytester, name: str, *args: str) -> dict:
    """Run the suite and return what its JSON report says, minus timings and the process count."""
    report = pytester.path / f"{name}.json"
    result = pytester.runpytest_subprocess("smoke", "-p", "no:cacheprovider", "--prodready-json", str(report),
                                           "--prodready-html", str(pytester.path / f"{name}.html"), *args, timeout=300)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    document = json.loads(report.read_text())
    return {
        "verdict": document["verdict"],
        "categories": document["categories"],
        "cases": {case["nodeid"]: (case["domain"], case["category"], case["outcome"]) for case in document["cases"]},
        "workers": document["environment"]["workers"],
    }


def test_serial_and_two_workers_give_the_same_verdict_counts_and_cases(pytester: pytest.Pytester):
    shutil.copytree(SUITE, pytester.path / "smoke")
    pytester.makepyprojecttoml(SMALL_PROJECT)
    serial = judged(pytester, "serial")
    distributed = judged(pytester, "xdist", "-n", "2")
    assert (serial.pop("workers"), distributed.pop("workers")) == (0, 2)
    assert serial == distributed
    assert serial["verdict"]["decision"] == "GO" and len(serial["cases"]) == 35
