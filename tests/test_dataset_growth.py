"""Performance gates run on a realistic dataset: grown through the protocol, or a near-empty target is named."""

from __future__ import annotations

import pytest

from .sessions import read_report

ADAPTER = '''
from pytest_prodready.reference import create_target
from pytest_prodready.target import TargetContext


async def empty(context):
    """The reference service with no dataset: what a user's fresh system looks like to the suite."""
    return await create_target(TargetContext(context.workdir, {"volume": None}))
'''

CASE = '''
import pytest

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.smoke(category="performance")]


async def test_gate(perf_dataset, target):
    found = await target.search_memories("volume", limit=1000)
    print("VISIBLE", len(found))
'''

VOLUME = """
[tool.prodready.require.smoke]
performance = 1

[tool.prodready.volume]
sessions = 12
memories = 30
documents = 4
"""


def run(project, *args: str) -> dict:
    pytester = project(VOLUME)
    pytester.makepyfile(adapters=ADAPTER, test_gate=CASE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--prodready-target", "adapters:empty",
                                           "--prodready-json", "r.json", *args, timeout=300)
    return result, read_report(pytester.path / "r.json")["cases"][0]


def test_writes_allowed_grows_the_target_to_the_volume_through_the_protocol(project):
    result, case = run(project, "--prodready-allow-writes")
    dataset = case["figures"]["dataset"]
    assert case["outcome"] == "passed", case
    assert dataset["volume"] == {"sessions": 12, "memories": 30, "documents": 4}
    assert all(dataset["size"][kind] >= dataset["volume"][kind] for kind in dataset["volume"]), dataset
    assert dataset["added"]["memories"] > 0 and dataset["added"]["documents"] == 4 and not dataset["near_empty"]
    result.stdout.fnmatch_lines(["*VISIBLE *"])
    assert int(result.stdout.str().split("VISIBLE ")[1].split()[0]) >= dataset["added"]["memories"]


def test_a_read_only_run_says_it_measured_a_near_empty_target(project):
    result, case = run(project)
    assert case["outcome"] == "warned"
    assert "measured a near-empty target" in case["message"]
    assert case["figures"]["dataset"]["added"] == {}
