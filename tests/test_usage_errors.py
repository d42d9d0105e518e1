"""Every usage error exits 4 with one ``ERROR:`` line, whatever its source: options, pyproject keys, the target, markers.

(Rule files: ``test_consistency_rules.py``; malformed values in general:
``test_bad_config.py``.)  An empty value is never "not given": an unset
``$DB`` in CI must not turn into a GO against the embedded reference.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from pytest_prodready import plugin

from .sessions import assert_usage_error, output

NO_ADAPTER = '''
def returns_text(context):
    return "not an adapter"


async def service_down(context):
    raise ConnectionRefusedError("127.0.0.1:9 refused the connection")
'''


class OptionRecorder:
    """Stands in for pytest's parser in a unit test of ``pytest_addoption``: records each option."""

    def __init__(self) -> None:
        self.options: list[tuple[str, dict[str, Any]]] = []

    def getgroup(self, *args: Any, **kwargs: Any) -> "OptionRecorder":
        return self

    def addoption(self, name: str, **kwargs: Any) -> None:
        self.options.append((name, kwargs))


def value_options() -> list[str]:
    """Every ``--prodready-*`` option that takes a value (not a switch)."""
    recorder = OptionRecorder()
    plugin.pytest_addoption(recorder)
    return [name for name, kwargs in recorder.options if kwargs.get("action") != "store_true"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def test_the_option_list_is_every_value_option():
    assert len(value_options()) == 18 and "--prodready-sqlite" in value_options()


@pytest.mark.parametrize("option", value_options())
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_option_value_is_a_usage_error(project, option, value):
    session = project()
    session.makepyfile("def test_nothing():\n    pass\n")
    assert_usage_error(run(session, f"{option}={value}"), f"{option}: empty value")


@pytest.mark.parametrize("key", ["target", "sqlite", "profile", "compare", "save_baseline", "html", "json",
                                 "target_url", "baseline_url", "summary_md", "baseline_dir"])
def test_an_empty_pyproject_value_is_a_usage_error(project, key):
    session = project(f'[tool.prodready]\n{key} = ""\n')
    session.makepyfile("def test_nothing():\n    pass\n")
    assert_usage_error(run(session), key)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("os", "target 'os' is not of the form 'module:factory'"),
        ("nosuch:x", "cannot import 'nosuch' (ModuleNotFoundError: No module named 'nosuch')"),
        ("os:nosuch", "'os' has no callable 'nosuch'"),
        ("os:sep", "'os' has no callable 'sep'"),
        ("os:getcwd", "getcwd cannot be called with one TargetContext"),
        ("fails_to_import:factory", "cannot import 'fails_to_import' (RuntimeError: broken at import)"),
        ("adapters:returns_text", "the factory returned str, not an adapter"),
    ],
)
def test_a_malformed_target_is_a_usage_error_naming_what_is_wrong(project, target, words):
    session = project()
    session.makepyfile(adapters=NO_ADAPTER, fails_to_import='raise RuntimeError("broken at import")\n')
    session.makepyfile("def test_nothing():\n    pass\n")
    session.syspathinsert()
    assert_usage_error(run(session, f"--prodready-target={target}"), f"--prodready-target: target {target!r}", words)


def test_a_target_whose_factory_fails_blocks_the_run_with_one_reason(project):
    """Not a usage error: the factory is right, its service is down."""
    session = project()
    session.makepyfile(adapters=NO_ADAPTER)
    session.makepyfile("def test_nothing():\n    pass\n")
    session.syspathinsert()
    result = run(session, "--prodready-target=adapters:service_down")
    text = output(result)
    assert result.ret == 1 and "Traceback" not in text, text
    reasons = [line.strip() for line in result.stdout.lines if line.strip().startswith("reason: ")]
    assert reasons == ["reason: --prodready-target adapters:service_down: the factory raised "
                       "ConnectionRefusedError: 127.0.0.1:9 refused the connection"], text
    assert "1 passed" not in text  # blocked: no case ran


@pytest.mark.parametrize(
    ("marker", "fixture", "words"),
    [
        ("perf_gate(p95_ms=-1)", "latency", "p95_ms"),
        ("perf_gate(p95_ms=50)", "", "needs the 'latency' fixture"),
        ('load(duration="forever")', "load_runner", "duration"),
        ("load(p95_ms=50)", "", "needs the 'load_runner' fixture"),
        ("canary(rounds=-3)", "canary", "rounds"),
        ('consistency(rule="db", severity="sometimes")', "", "severity"),
        ("smoke", "", "needs category="),
    ],
)
def test_a_misused_marker_is_a_usage_error(project, marker, fixture, words):
    session = project()
    session.makepyfile(f"import pytest\n\n@pytest.mark.{marker}\ndef test_case({fixture}):\n    pass\n")
    assert_usage_error(run(session), words)


def test_a_rule_file_mistake_is_a_usage_error_under_xdist(project):
    """The xdist controller collects nothing: the pyproject's rules are checked with the options."""
    session = project('[tool.prodready.consistency.stores.app]\nsqlite = "app.db"\n'
                      '[tool.prodready.consistency.rules.tasks]\ncheck = "orphan"\n')
    result = session.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", timeout=300)
    assert_usage_error(result, "rule 'tasks': key 'check': unknown check type 'orphan'")


@pytest.mark.parametrize("mistake", ["marker", "rule file below the rootdir"])
@pytest.mark.parametrize("workers", [None, "2"])
def test_a_collection_mistake_exits_4_serially_and_under_xdist(project, mistake, workers):
    """An xdist worker's usage error reaches the controller (worker_usage.py): exit 4, one line, nothing run."""
    session = project()
    session.makepyfile(test_fine="def test_fine():\n    pass\n")
    if mistake == "marker":
        session.makepyfile(test_case="import pytest\n\n@pytest.mark.perf_gate(p95_ms=-1)\n"
                                     "def test_case(latency):\n    pass\n")
        words = "test_case.py::test_case: p95_ms"
    else:
        sub = session.mkdir("sub")
        (sub / "prodready.toml").write_text('[consistency.stores.app]\nsqlite = "app.db"\n'
                                            '[consistency.rules.st]\ncheck = "nulls"\ntable = "tasks"\n'
                                            'columns = ["statsu"]\n')
        with sqlite3.connect(sub / "app.db") as conn:
            conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT)")
        words = "sub/prodready.toml [consistency] rule 'st': key 'columns': no column 'statsu' in table 'tasks'"
    args = ("-n", workers) if workers else ()
    result = session.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=300)
    assert_usage_error(result, words)
    assert "passed" not in output(result)  # as serially: no test runs
