"""The wheel, installed in a fresh venv, runs the shipped smoke suite from an empty folder: GO 35/35.

Slow on purpose (a wheel build, a fresh venv and the core dependencies from
PyPI, pip's download cache reused): 11 min 44 s measured on this 2-core machine
at load average 24 (other jobs running); expect a few minutes on a quiet one.
The smoke suite's latency gates are timing-sensitive, so it shares the
'timing' xdist group.  It runs with the README's test command, so CI
runs it on every build; it needs PyPI to be reachable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_IN_CORE = ("hypothesis", "locust", "psutil", "pytest-xdist", "pytest-timeout", "neo4j", "httpx")


def _run(command: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """A child that sees only the venv: no PYTHONPATH pointing at a checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)


def wheel_metadata(wheel: Path) -> str:
    """The wheel's METADATA file (what PyPI shows: license, Project-URLs)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode("utf-8")


@pytest.mark.xdist_group("timing")  # the smoke suite's latency gates: not next to a locust run
def test_wheel_in_a_fresh_venv_says_go_from_an_empty_folder(tmp_path: Path):
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)], ROOT, 600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("pytest_prodready-*.whl")
    metadata = wheel_metadata(wheel)
    assert "License-Expression: MIT" in metadata and "Project-URL: Source, https://" in metadata, metadata

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path, 300)
    assert made.returncode == 0, made.stderr[-3000:]
    python = venv / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)], tmp_path, 900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    frozen = _run([str(python), "-m", "pip", "freeze"], tmp_path, 120).stdout.lower()
    assert [name for name in NOT_IN_CORE if f"{name}==" in frozen] == []  # the core stays lean

    empty = tmp_path / "empty"
    empty.mkdir()
    run = _run([str(python), "-m", "pytest", "--pyargs", "pytest_prodready.suites.smoke", "-p", "no:cacheprovider"], empty, 900)
    text = run.stdout + run.stderr
    assert run.returncode == 0, text[-5000:]
    assert "READINESS: GO (35 of 35 readiness cases passed, at least 35 required)" in text
    assert "DeprecationWarning" not in text  # pytest-asyncio's unset loop scope, among others, is not shown
    assert sorted(p.name for p in (empty / "reports").iterdir()) == ["readiness.html", "readiness.json"]
