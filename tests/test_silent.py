"""A user's project with the plugin installed but no readiness case: the plugin leaves no trace.

Real pytest processes (pytester subprocesses): the SIGTERM disposition, the
modules loaded at start-up and the files left behind are those of the process
itself, not of this test session.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .sessions import output

# What a readiness run needs and an ordinary run must not pay for at start-up.
HEAVY = ("numpy", "aiosqlite", "httpx", "locust", "neo4j", "jsonschema", "pytest_prodready.reference",
         "pytest_prodready.net.server", "pytest_prodready.checks.sqlite")
# The judging side (records, verdict, the run's state, with their dataclasses): imported when a run becomes a readiness run.
JUDGING = {"pytest_prodready.run_state", "pytest_prodready.verdict", "pytest_prodready.records"}

USER_TESTS = """
import json
import multiprocessing
import signal
import sys
import time


def test_sigterm_is_left_alone():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_terminated_child_dies_of_sigterm():
    child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,))
    child.start()
    child.terminate()
    child.join(10)
    assert child.exitcode == -signal.SIGTERM


def test_modules_after_start_up(request):
    with open(request.config.rootpath / "modules.json", "w") as handle:
        json.dump(sorted(sys.modules), handle)
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    """An ordinary project: a pyproject with no [tool.prodready] (and no asyncio setting), three unmarked tests."""
    pytester.makepyprojecttoml('[project]\nname = "user-project"\n')
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def _files(pytester: pytest.Pytester) -> set[str]:
    """Every file and folder under the project, except what Python and pytester write (bytecode, output, basetemp)."""
    return {
        str(path.relative_to(pytester.path))
        for path in pytester.path.rglob("*")
        if "__pycache__" not in path.parts
        and path.name not in ("modules.json", "stdout", "stderr")
        and not path.relative_to(pytester.path).parts[0].startswith("runpytest-")
    }


def _loaded(pytester: pytest.Pytester, *args: str) -> set[str]:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == 0, output(result)
    return set(json.loads((pytester.path / "modules.json").read_text()))


def test_ordinary_run_keeps_sigterm_and_children_and_loads_nothing_heavy(user_project):
    """SIGTERM untouched (a child killed by it exits -15), and no heavy module the plugin brought in."""
    with_plugin = _loaded(user_project)
    without = _loaded(user_project, "-p", "no:prodready")
    brought = with_plugin - without
    heavy = sorted(m for m in brought if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == [], heavy
    assert brought & JUDGING == set(), sorted(brought & JUDGING)
    assert "pytest_prodready.plugin" in with_plugin  # the plugin did load: this run measured it


def test_a_valid_prodready_table_is_checked_without_jsonschema(user_project):
    """A project with a valid [tool.prodready] table: checked at start-up by the quick check (schema_check.py)."""
    user_project.makepyprojecttoml('[tool.prodready.require.smoke]\nconnectivity = 1\n')
    assert "jsonschema" not in _loaded(user_project, "-k", "modules")
    user_project.makepyprojecttoml('[tool.prodready]\nprofile = ""\n')  # a mistake: jsonschema words it
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "key 'profile'" in output(result), output(result)


# What a plain smoke run (no gate, load, canary or baseline; no Markdown summary) does not need.
UNUSED_BY_A_SMOKE_RUN = {
    "pytest_prodready.target", "pytest_prodready.load.load_spec", "pytest_prodready.canary.spec",
    "pytest_prodready.gates.baseline", "pytest_prodready.gates.comparison", "pytest_prodready.report.markdown",
    "pytest_prodready.report.charts", "pytest_prodready.report.canary_text",
}


def test_a_readiness_run_imports_no_module_it_does_not_use(user_project, monkeypatch):
    """Smoke cases on the reference, none with a target fixture, a load or canary marker, no baseline, no summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    user_project.makepyprojecttoml('[tool.prodready.require.smoke]\nstartup = 1\n')
    user_project.makepyfile(test_case="import pytest\n\n@pytest.mark.smoke(category='startup')\ndef test_case():\n    pass\n")
    user_project.makeconftest(MODULES_AT_THE_END)  # after the verdict and both reports were written
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "case")
    assert result.ret == 0 and "READINESS: GO" in output(result), output(result)
    loaded = set(json.loads((user_project.path / "modules_at_end.json").read_text()))
    assert "pytest_prodready.report.redaction" in loaded and (user_project.path / "reports" / "readiness.html").exists()
    assert UNUSED_BY_A_SMOKE_RUN.isdisjoint(loaded), sorted(UNUSED_BY_A_SMOKE_RUN & loaded)


MODULES_AT_THE_END = """
import json
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    with open(config.rootpath / "modules_at_end.json", "w") as handle:
        json.dump(sorted(sys.modules), handle)
"""


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="plain"),
        pytest.param(("--fixtures",), id="fixtures"),
        pytest.param(("--fixtures-per-test",), id="fixtures-per-test"),
        pytest.param(("test_mistyped.py",), id="mistyped-path"),
        pytest.param(("-n", "2"), id="xdist"),
    ],
)
def test_ordinary_run_writes_no_file(user_project, args):
    before = _files(user_project)
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret in (0, pytest.ExitCode.USAGE_ERROR), output(result)
    assert "READINESS" not in output(result)
    assert "PytestDeprecationWarning" not in output(result)  # pytest-asyncio's unset loop scope is not shown
    assert _files(user_project) == before


def test_users_own_asyncio_loop_scope_is_kept(pytester: pytest.Pytester):
    """Silencing pytest-asyncio's "unset" warning changes no setting: a value the user set is the one in force."""
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "module"\n')
    pytester.makepyfile(test_user="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 0, output(result)
    assert "asyncio_default_fixture_loop_scope=module" in output(result)


def test_users_own_html_report_gets_no_readiness_column(user_project):
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", "--html=own.html", "-k", "sigterm")
    assert result.ret == 0, output(result)
    page = (user_project.path / "own.html").read_text(encoding="utf-8")
    assert "readiness" not in page.lower()
    assert not (user_project.path / "reports").exists()


def test_kill_term_ends_an_ordinary_run_with_the_default_action(pytester: pytest.Pytester):
    """``kill -TERM`` on pytest: the process dies of the signal (shell status 143), as without the plugin."""
    started = pytester.path / "started"
    pytester.makepyfile(
        test_wait=f"""
import pathlib, time

def test_wait():
    pathlib.Path({str(started)!r}).write_text("x")
    time.sleep(60)
"""
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"],
        cwd=pytester.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert started.exists(), "the test never started"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == -signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_a_readiness_run_does_take_sigterm(pytester: pytest.Pytester):
    """The other side: with a readiness case the plugin turns SIGTERM into an interruption (exit 2)."""
    pytester.makepyfile(
        test_case="""
import signal
import pytest

@pytest.mark.smoke(category="connectivity")
def test_case():
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


PER_TEST_HOOKS = """
import json

HOOKS = ("pytest_runtest_protocol", "pytest_runtest_setup", "pytest_runtest_call", "pytest_runtest_teardown",
         "pytest_runtest_makereport", "pytest_runtest_logreport", "pytest_report_teststatus")


def test_hooks_run_per_test(request):
    manager = request.config.pluginmanager
    found = {hook: sorted(manager.get_name(impl.plugin) or "" for impl in getattr(manager.hook, hook).get_hookimpls())
             for hook in HOOKS}
    (request.config.rootpath / "hooks.json").write_text(json.dumps(found))
"""


def test_ordinary_serial_run_has_no_prodready_hook_per_test(user_project):
    """Once collection found no readiness case, nothing of the plugin runs per test (the controller steps out)."""
    user_project.makepyfile(test_hooks=PER_TEST_HOOKS)
    result = user_project.runpytest_subprocess("-p", "no:cacheprovider", "test_hooks.py")
    assert result.ret == 0, output(result)
    found = json.loads((user_project.path / "hooks.json").read_text())
    ours = {hook: [name for name in names if "prodready" in name] for hook, names in found.items()}
    assert ours == {hook: [] for hook in found}
    assert "terminalreporter" in found["pytest_runtest_logreport"]  # the listing did see the registered plugins


ASYNC_CASES_IN_CLASSES = """
import pytest

@pytest.mark.smoke(category="connectivity")
class TestMarkedClass:
    async def test_method(self):
        pass

class TestPlain:
    @pytest.mark.smoke(category="connectivity")
    async def test_marked_method(self):
        pass

    @staticmethod
    @pytest.mark.smoke(category="connectivity")
    async def test_static():
        pass

@pytest.mark.smoke(category="connectivity")
@pytest.mark.parametrize("n", [1, 2])
async def test_parametrized(n):
    pass

def test_ordinary():
    pass
"""


def test_async_cases_in_classes_still_get_the_asyncio_marker(pytester: pytest.Pytester):
    """The other side of the collection shortcut (a plain ``def`` is not looked at): every ``async def``
    readiness case, in a class, a staticmethod or parametrized, runs under pytest-asyncio's strict default."""
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_async=ASYNC_CASES_IN_CLASSES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning")
    assert "not natively supported" not in output(result)
    result.assert_outcomes(passed=6)


def test_missing_extra_is_one_line_naming_it(pytester: pytest.Pytester):
    """Without the HTTP extra, a case using reference_app fails with the pip line, no ImportError traceback."""
    pytester.makeconftest("import sys\nsys.modules['starlette'] = None  # as if the http extra were not installed\n")
    pytester.makepyfile(test_app="def test_app(reference_app):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    text = output(result)
    result.assert_outcomes(errors=1)
    assert "reference_app (the reference service over HTTP) needs starlette: pip install 'pytest-prodready[http]'" in text
    assert "ImportError" not in text and "Traceback" not in text


def test_datasets_cli_help_writes_nothing(tmp_path):
    """``--help`` prints usage and creates no folder; a folder argument gets both datasets."""
    command = [sys.executable, "-m", "pytest_prodready.datasets"]
    shown = subprocess.run([*command, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "usage:" in shown.stdout
    assert list(tmp_path.iterdir()) == []
    bad = subprocess.run([*command, "--rows"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr and "Traceback" not in bad.stderr
    assert list(tmp_path.iterdir()) == []
    subprocess.run([*command, "out"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["graph_clean.json", "graph_faults.json"]
