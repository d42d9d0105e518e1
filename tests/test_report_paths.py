"""Report paths: a bad one is a usage error before any case runs; the writer leaves symlinks and devices alone."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pytest_prodready.json_files import write_json_atomically

from .sessions import assert_usage_error, output

ONE_CASE = '''
import pytest


@pytest.mark.smoke(category="checks")
def test_check():
    print("the case body ran")
'''


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob(".*.tmp"))


@pytest.fixture
def one_case(project):
    pytester = project("[tool.prodready.require.smoke]\nchecks = 1\n")
    pytester.makepyfile(test_one=ONE_CASE)
    return pytester


@pytest.mark.parametrize("option", ["--prodready-json", "--prodready-html", "--prodready-summary-md"])
def test_a_report_path_that_is_a_folder_is_a_usage_error_before_any_case_runs(one_case, option):
    folder = one_case.mkdir("out")
    result = one_case.runpytest_subprocess("-p", "no:cacheprovider", "-s", option, str(folder))
    assert_usage_error(result, option, "is a folder")
    assert "the case body ran" not in output(result)
    assert leftovers(one_case.path) == []


@pytest.mark.parametrize("option", ["--prodready-json", "--prodready-html", "--prodready-summary-md"])
def test_a_report_path_below_a_file_is_a_usage_error(one_case, option):
    (one_case.path / "plain").write_text("a file\n")
    result = one_case.runpytest_subprocess("-p", "no:cacheprovider", "-s", option, "plain/sub/report.out")
    assert_usage_error(result, option, "lies below", "plain")
    assert "the case body ran" not in output(result)
    assert (one_case.path / "plain").read_text() == "a file\n" and leftovers(one_case.path) == []


def test_a_configured_report_folder_is_refused_even_without_any_option(one_case):
    """No --prodready* option: the run is judged because it collected a readiness case, so its paths are checked."""
    one_case.mkdir("out")
    one_case.makepyprojecttoml('[tool.prodready]\njson = "out"\n[tool.prodready.require.smoke]\nchecks = 1\n')
    result = one_case.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    assert_usage_error(result, "--prodready-json", "is a folder")
    assert "the case body ran" not in output(result)


def test_an_unrelated_run_ignores_a_blocked_default_path(project):
    """Silent when not asked: a file named 'reports' must not break a run with no readiness case."""
    pytester = project()
    (pytester.path / "reports").write_text("not a folder\n")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 0, output(result)


def test_a_fifo_is_refused(one_case):
    fifo = one_case.path / "pipe"
    os.mkfifo(fifo)
    result = one_case.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-json", str(fifo))
    assert_usage_error(result, "--prodready-json", "FIFO")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def null_device(path: Path) -> Path:
    """A character device like /dev/null (same major/minor), made where a test may break it."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    return path


def test_a_character_device_is_written_through_never_replaced(one_case):
    """``--prodready-json /dev/null`` as root replaced /dev/null with a file; here on a device node of our own."""
    device = null_device(one_case.path / "devnull")
    result = one_case.runpytest_subprocess("-p", "no:cacheprovider", "--prodready-json", str(device),
                                           "--prodready-summary-md", str(device))
    assert result.ret == 0, output(result)
    assert stat.S_ISCHR(device.lstat().st_mode), "the device node was replaced"
    assert leftovers(one_case.path) == []


def test_the_writer_writes_through_a_device_node(tmp_path):
    device = null_device(tmp_path / "devnull")
    assert write_json_atomically(device, {"a": 1}) == device
    assert stat.S_ISCHR(device.lstat().st_mode) and leftovers(tmp_path) == []


def test_the_writer_keeps_a_symlink_and_replaces_its_target(tmp_path):
    target = tmp_path / "real" / "report.json"
    target.parent.mkdir()
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json_atomically(link, {"verdict": "GO"})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text()) == {"verdict": "GO"}
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path):
    folder = tmp_path / "report.json"
    (folder / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        write_json_atomically(folder, {"a": 1})
    assert leftovers(tmp_path) == []


def test_a_readiness_run_with_pytest_html_disabled_writes_the_json_report(one_case):
    """``-p no:html``: no HTML report and no pytest-html option, and no INTERNALERROR for its missing ``--html``."""
    result = one_case.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:html")
    assert result.ret == 0, output(result)
    assert "INTERNALERROR" not in output(result)
    assert sorted(p.name for p in (one_case.path / "reports").iterdir()) == ["readiness.json"]
