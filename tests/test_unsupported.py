"""An operation the target lacks is reported ``unsupported``: its own outcome, not a broken feature, not a pass."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pytest_prodready.target import CapabilityLimited, TargetContext, TargetLoadError, build_target

from .sessions import read_report

CASES = '''
import pytest

pytestmark = pytest.mark.smoke(category="integration")


def test_works():
    pass


def test_lacking():
    raise NotImplementedError("no background sync in this system")
'''

REQUIRE_TWO = """
[tool.prodready.require.smoke]
integration = 2
"""


def run(project, extra: str = "") -> tuple[pytest.RunResult, dict]:
    pytester = project(REQUIRE_TWO + extra)
    pytester.makepyfile(test_cases=CASES)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--prodready-json", "r.json",
                                          "--prodready-summary-md", "s.md", "--prodready-html", "r.html")
    return result, read_report(pytester.path / "r.json")


def test_not_implemented_is_unsupported_everywhere_and_not_ready(project):
    result, document = run(project)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = {case["nodeid"].rsplit("::", 1)[-1]: case["outcome"] for case in document["cases"]}
    assert outcomes == {"test_works": "passed", "test_lacking": "unsupported"}
    (category,) = document["categories"]
    assert (category["unsupported"], category["ready"]) == (1, False)
    assert document["verdict"]["decision"] == "NO-GO"
    result.stdout.fnmatch_lines([
        "*UNSUPPORTED test_cases.py::test_lacking - unsupported by the target: no background sync in this system*",
        "*reason: smoke / integration: 1 unsupported by the target*",
    ])
    path = Path(result.stdout.str().split("report: ")[1].split()[0]).parent
    assert "## Unsupported by the target" in (path / "s.md").read_text()
    assert '<span class="warn">UNSUPPORTED</span>' in (path / "r.html").read_text()


def test_a_profile_can_waive_an_unsupported_case(project):
    result, document = run(project, '[tool.prodready.profiles.production]\nwaive_unsupported = ["test_lacking"]\n')
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (category,) = document["categories"]
    assert (category["waived"], category["unsupported"], category["ready"]) == (1, 0, True)
    assert document["verdict"]["decision"] == "GO"


class Declares:
    """A target declaring what it supports; everything else must read as unsupported."""

    capabilities = frozenset({"create_session", "close"})

    def __getattr__(self, name):
        async def operation(*args, **kwargs):
            return name

        if name.startswith("_"):
            raise AttributeError(name)
        return operation


def test_declared_capabilities_make_other_operations_unsupported(tmp_path):
    module = tmp_path / "declaring_adapter.py"
    module.write_text("from tests.test_unsupported import Declares\n\ndef make(context):\n    return Declares()\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        target = asyncio.run(build_target("declaring_adapter:make", TargetContext(workdir=tmp_path)))
    finally:
        sys.path.remove(str(tmp_path))
    assert isinstance(target, CapabilityLimited)
    assert asyncio.run(target.create_session("s", "a", "u")) == "create_session"
    with pytest.raises(NotImplementedError, match="terminate_session is not among the target's declared capabilities"):
        asyncio.run(target.terminate_session("s"))
    assert getattr(target, "background_sync", None) is None  # optional operation left out: absent


def test_an_unknown_capability_is_a_load_error(tmp_path):
    class Typo(Declares):
        capabilities = frozenset({"create_sesion"})

    with pytest.raises(TargetLoadError, match="declares unknown capabilities: create_sesion"):
        asyncio.run(_build(Typo(), tmp_path))


async def _build(instance, tmp_path):
    import types
    import sys

    module = types.ModuleType("typo_adapter")
    module.make = lambda context: instance
    sys.modules["typo_adapter"] = module
    try:
        return await build_target("typo_adapter:make", TargetContext(workdir=tmp_path))
    finally:
        del sys.modules["typo_adapter"]
