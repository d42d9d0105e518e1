"""Start an HTTP service in a child process and wait for its ``READY <url>`` line.

Used for the reference app (``python -m pytest_prodready.reference.serve``),
and usable for any service that prints such a line once it listens.  The
service runs in its own process group and is stopped with it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from ..reference.api_keys import ApiKey, write_key_file
from . import processes

READY_PREFIX = "READY "
DEFAULT_START_TIMEOUT_S = 60.0
LOAD_KEY_RATE_PER_S = 100_000.0
LIMITED_KEY_RATE_PER_S = 5.0


class ServerStartError(RuntimeError):
    """The service exited or stayed silent instead of announcing its URL."""


@dataclass(frozen=True)
class RunningServer:
    """A started service: where it listens and the process behind it."""

    base_url: str
    process: subprocess.Popen[bytes]
    api_key: str = ""
    limited_api_key: str = ""
    workdir: Path | None = None


@contextmanager
def serve_process(
    command: Sequence[str],
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = DEFAULT_START_TIMEOUT_S,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run ``command`` until the block ends; yields the announced URL and the process."""
    stdout_path, stderr_path = log_dir / "server.out", log_dir / "server.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = processes.spawn(command, env=env, stdout=out, stderr=err)
        try:
            url = _wait_ready(process, stdout_path, stderr_path, timeout_s)
            yield url, process
        finally:
            processes.stop_group(process)


def _wait_ready(process: subprocess.Popen[bytes], stdout: Path, stderr: Path, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in stdout.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :].strip()
        if process.poll() is not None:
            raise ServerStartError(f"server exited with code {process.returncode}: {_tail(stderr)}")
        time.sleep(0.02)
    raise ServerStartError(f"server did not print {READY_PREFIX.strip()} within {timeout_s:g} s: {_tail(stderr)}")


def _tail(path: Path, lines: int = 8) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "(no output)"


@contextmanager
def reference_server(
    workdir: Path | None = None,
    *,
    volume: Mapping[str, int] | None = None,
    fault_ratio: float = 0.0,
    delay_ms: float = 0.0,
    slowdown: float = 0.0,
    timeout_s: float = DEFAULT_START_TIMEOUT_S,
) -> Iterator[RunningServer]:
    """The reference HTTP app on a free 127.0.0.1 port, with fresh keys in a 0600 file.

    Two keys: ``api_key`` with a rate limit no load test reaches, and
    ``limited_api_key`` (5 requests/s) for checking that rate limiting works.
    """
    with _workdir(workdir) as folder:
        load_key, limited_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        key_file = write_key_file(
            folder / "api-keys.json",
            [ApiKey("load", load_key, LOAD_KEY_RATE_PER_S), ApiKey("limited", limited_key, LIMITED_KEY_RATE_PER_S)],
        )
        command = [sys.executable, "-m", "pytest_prodready.reference.serve", "--workdir", str(folder / "target"),
                   "--api-key-file", str(key_file), "--fault-ratio", str(fault_ratio), "--delay-ms", str(delay_ms),
                   "--slowdown", str(slowdown)]
        if volume is not None:
            command += ["--volume", json.dumps(dict(volume))]
        with serve_process(command, log_dir=folder, timeout_s=timeout_s) as (url, process):
            yield RunningServer(url, process, api_key=load_key, limited_api_key=limited_key, workdir=folder)


@contextmanager
def _workdir(folder: Path | None) -> Iterator[Path]:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="prodready-app-") as tmp:
        yield Path(tmp)
