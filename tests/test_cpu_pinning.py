"""A run that saves or compares a stored baseline is timed on one CPU (cpu_pinning.py), and only such a run.

Real pytest sessions: in-process (so the caller's threads must get their
CPUs back) and under ``-n 2`` (each worker on its own CPU).  On a machine
that allows this process a single CPU nothing can be pinned, and the tests
check that nothing was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pytest_prodready import cpu_pinning
from pytest_prodready.net.processes import spawn, stop_group

from .sessions import BASE_TOML, assert_usage_error

ALLOWED = frozenset(os.sched_getaffinity(0))
CAN_PIN = len(ALLOWED) >= 2

# Writes, from inside a test, the CPUs of this thread and of a thread the test starts.
PROBE = """
import json, os, threading
import pytest

@pytest.mark.smoke(category="probe")
def test_probe(request):
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(thread=sorted(os.sched_getaffinity(0))))
    thread.start()
    thread.join()
    seen["main"] = sorted(os.sched_getaffinity(0))
    name = getattr(request.config, "workerinput", {}).get("workerid", "serial")  # not the env: an outer xdist run sets it
    with open(f"cpus-{name}.json", "w") as out:
        json.dump(seen, out)
"""
PROBE_TOML = "\n[tool.prodready.require.smoke]\nprobe = 1\n"


@pytest.fixture
def probe_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(BASE_TOML + PROBE_TOML)
    pytester.makepyfile(test_probe=PROBE)
    pytester.makepyfile(test_probe_two=PROBE.replace("def test_probe", "def test_probe_two"))
    return pytester


def _cpus(pytester: pytest.Pytester, name: str = "serial") -> dict[str, list[int]]:
    return json.loads((pytester.path / f"cpus-{name}.json").read_text())


def _thread_cpus() -> set[frozenset[int]]:
    return {frozenset(os.sched_getaffinity(int(t.name))) for t in Path("/proc/self/task").iterdir()}


def test_a_run_that_saves_a_baseline_runs_every_thread_on_one_cpu_and_gives_them_back(probe_project):
    before = _thread_cpus()
    result = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist",
                                               "--prodready-save-baseline", "b1", "-k", "test_probe and not two")
    assert result.ret == 0, result.stdout.str()
    seen = _cpus(probe_project)
    if CAN_PIN:
        assert len(seen["main"]) == 1 and seen["thread"] == seen["main"], seen
        result.stdout.fnmatch_lines([f"prodready: this run timed on CPU {seen['main'][0]} of {len(ALLOWED)} *"])
    else:
        assert seen["main"] == sorted(ALLOWED) == seen["thread"]
    assert _thread_cpus() == before  # the caller's threads (pytester runs in this process) have their CPUs back


def test_a_run_that_compares_a_baseline_is_pinned_too(probe_project):
    saved = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", "--prodready-save-baseline", "b1")
    assert saved.ret == 0, saved.stdout.str()
    compared = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", "--prodready-compare", "b1")
    assert compared.ret == 0, compared.stdout.str()
    assert len(_cpus(probe_project)["main"]) == (1 if CAN_PIN else len(ALLOWED))


@pytest.mark.parametrize("args", [
    pytest.param(["--prodready-save-baseline", "b1", "--prodready-pin-cpu", "off"], id="pin_cpu off"),
    pytest.param(["--prodready"], id="no stored baseline"),
])
def test_other_runs_keep_every_cpu(probe_project, args):
    result = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", *args)
    assert result.ret == 0, result.stdout.str()
    assert _cpus(probe_project) == {"main": sorted(ALLOWED), "thread": sorted(ALLOWED)}
    assert "timed on" not in result.stdout.str()


def test_the_saved_baseline_says_how_its_run_was_timed(probe_project):
    for policy in ("auto", "off"):
        result = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist",
                                                   "--prodready-save-baseline", "b1", "--prodready-pin-cpu", policy)
        assert result.ret == 0, result.stdout.str()
    saved = json.loads((probe_project.path / ".prodready" / "baselines" / "b1.json").read_text())
    assert [run["one_cpu"] for run in saved["runs"]] == [True, not CAN_PIN]


def test_pin_cpu_off_in_the_config_file(probe_project):
    probe_project.makepyprojecttoml(BASE_TOML + '\n[tool.prodready]\npin_cpu = "off"\n' + PROBE_TOML)
    result = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", "--prodready-save-baseline", "b1")
    assert result.ret == 0, result.stdout.str()
    assert _cpus(probe_project)["main"] == sorted(ALLOWED)


def test_each_xdist_worker_gets_its_own_cpu(probe_project):
    result = probe_project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--prodready-save-baseline", "b1")
    assert result.ret == 0, result.stdout.str()
    workers = {name: _cpus(probe_project, name) for name in ("gw0", "gw1")
               if (probe_project.path / f"cpus-{name}.json").exists()}
    assert workers, result.stdout.str()  # with two tests and two workers, usually both ran one
    if CAN_PIN:
        for seen in workers.values():
            assert len(seen["main"]) == 1 and seen["thread"] == seen["main"], workers
        if len(workers) == 2:
            assert workers["gw0"]["main"] != workers["gw1"]["main"], workers
        result.stdout.fnmatch_lines(["prodready: each xdist worker is timed on its own CPU *"])


@pytest.mark.parametrize("where", ["option", "config"])
def test_a_bad_pin_cpu_value_is_a_usage_error(pytester, where):
    if where == "option":
        pytester.makepyprojecttoml(BASE_TOML)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-pin-cpu", "sometimes")
        assert_usage_error(result, "--prodready-pin-cpu", "'sometimes'")
    else:
        pytester.makepyprojecttoml(BASE_TOML + '\n[tool.prodready]\npin_cpu = "always"\n')
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
        assert_usage_error(result, "pin_cpu")


@pytest.mark.skipif(not CAN_PIN, reason="one CPU allowed: nothing to pin or give back")
def test_a_child_started_while_pinned_gets_every_cpu_back():
    waiting = threading.Event()
    earlier = threading.Thread(target=waiting.wait, args=(30,))
    earlier.start()  # a thread that already exists is moved too, not only the calling one
    pinning = cpu_pinning.pin()
    assert pinning is not None
    try:
        assert os.sched_getaffinity(earlier.native_id) == {pinning.cpu}
        assert _thread_cpus() == {frozenset({pinning.cpu})}
        waiting.set()
        earlier.join()
        child = spawn([sys.executable, "-c", "import time; time.sleep(30)"], stdout=subprocess.DEVNULL)
        try:
            assert os.sched_getaffinity(child.pid) == ALLOWED
        finally:
            stop_group(child)
        started = []
        thread = threading.Thread(target=lambda: started.append(os.sched_getaffinity(0)))
        thread.start()
        thread.join()
        assert started == [{pinning.cpu}]  # a thread follows the one that starts it
    finally:
        cpu_pinning.release()
    assert cpu_pinning.held() is None and _thread_cpus() == {ALLOWED}


@pytest.mark.parametrize(("allowed", "index", "cpu"), [
    ({0, 1}, 0, 0), ({0, 1}, 1, 1), ({0, 1}, 2, 0), ({2, 5, 7}, 1, 5), ({3}, 4, 3),
])
def test_choose_cpu_is_round_robin_over_the_allowed(allowed, index, cpu):
    assert cpu_pinning.choose_cpu(allowed, index) == cpu


@pytest.mark.parametrize(("worker", "index"), [(None, 0), ("gw0", 0), ("gw3", 3), ("gw12", 12)])
def test_worker_index(worker, index):
    assert cpu_pinning.worker_index(worker) == index


@pytest.mark.skipif(not CAN_PIN, reason="one CPU allowed: nothing to pin or give back")
def test_a_pinned_run_inside_a_pinned_run_leaves_the_outer_pin_alone(probe_project):
    outer = cpu_pinning.pin(1)
    assert outer is not None
    try:
        result = probe_project.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist", "--prodready-save-baseline", "b1")
        assert result.ret == 0, result.stdout.str()
        assert _cpus(probe_project)["main"] == [outer.cpu]
        assert cpu_pinning.held() == outer and _thread_cpus() == {frozenset({outer.cpu})}  # still pinned
    finally:
        cpu_pinning.release()
