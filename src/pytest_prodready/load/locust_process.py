"""Running locust in a child process, bounded in time and requests, never leaving it behind.

The pytest process only builds a command line, watches the clock and reads
files: locust itself (and gevent with it) lives in a separate session led by
``python -m pytest_prodready.load.agent``.  The run ends by itself at
``--run-time`` or at the request cap; past ``run time + grace`` it is killed.
Any exception while waiting, KeyboardInterrupt and a pytest-timeout
failure included, stops the whole process group before it propagates.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from ..net import processes
from .agent_options import AgentOptions
from ..net.loopback import check_target
from .results import LoadResult, latest_row, read_result, timeline_file
from .load_spec import LoadSpec

AGENT_MODULE = "pytest_prodready.load.agent"
API_KEY_ENV = "PRODREADY_API_KEY"
START_GRACE_S = 30.0
AGENT_EXTRA_S = 5.0
PROGRESS_EVERY_S = 5.0
POLL_S = 0.1

Progress = Callable[[str], None]


class LoadRunError(RuntimeError):
    """Locust could not run, crashed, or overran its time budget."""


@dataclass(frozen=True)
class LoadPlan:
    """One load run: which locustfile against which host, how hard, and where its files go."""

    locustfile: Path
    host: str
    spec: LoadSpec
    workdir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    allow_remote: bool = False

    @property
    def prefix(self) -> Path:
        return self.workdir / "locust"

    @property
    def budget_s(self) -> float:
        """Wall-clock limit of the whole child process: start-up, the run, and stopping."""
        return self.spec.duration_s + self.spec.stop_timeout_s + START_GRACE_S


def locust_args(plan: LoadPlan) -> list[str]:
    """Locust's own options for this plan: headless, bounded, final stats as JSON."""
    spec = plan.spec
    args = [
        "-f", str(plan.locustfile), "--headless", "--host", plan.host,
        "-u", str(spec.users), "-r", f"{spec.spawn_rate:g}", "--run-time", f"{spec.duration_s}s",
        "--stop-timeout", str(spec.stop_timeout_s), "--json-file", str(plan.prefix),
        "--only-summary", "--exit-code-on-error", "0",
    ]
    if spec.processes > 1:
        # Locust's master and its workers talk on 5557 by default: two runs at once (another test, a user's
        # own locust) collide there, so each run gets a free loopback port of its own.
        port = str(_free_loopback_port())
        args += ["--processes", str(spec.processes), "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
                 "--master-port", port]
    if spec.steady_state:
        args.append("--reset-stats")
    return args


def _free_loopback_port() -> int:
    """A TCP port nothing listens on now (the OS picks it), for the master's socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def agent_env(plan: LoadPlan) -> dict[str, str]:
    """The child's environment: ours, the test's additions, and the agent's settings."""
    options = AgentOptions(
        cap=plan.spec.request_cap,
        processes=plan.spec.processes,
        out_prefix=plan.prefix,
        deadline_s=plan.budget_s + AGENT_EXTRA_S,
        allow_remote=plan.allow_remote,
    )
    return {**os.environ, **plan.env, **options.to_env()}


def run_load(plan: LoadPlan, progress: Progress | None = None, bare: bool = False) -> LoadResult:
    """Run the plan to completion and return what locust measured.

    ``bare`` runs plain ``python -m locust`` with the same options (for
    comparisons); the host check still applies.
    """
    check_target(plan.host, plan.allow_remote)
    if not plan.locustfile.is_file():
        raise LoadRunError(f"locustfile {plan.locustfile} does not exist")
    plan.workdir.mkdir(parents=True, exist_ok=True)
    module = "locust" if bare else AGENT_MODULE
    command = [sys.executable, "-m", module, *locust_args(plan)]
    stdout, stderr = plan.workdir / "locust.out", plan.workdir / "locust.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = processes.spawn(command, env=agent_env(plan), cwd=plan.workdir, stdout=out, stderr=err)
        try:
            _wait(process, plan, progress)
        finally:
            processes.stop_group(process)
    if process.returncode != 0:
        raise LoadRunError(f"locust exited with code {process.returncode}: {_tail(stderr)}")
    return read_result(plan.prefix)


def _wait(process: subprocess.Popen[bytes], plan: LoadPlan, progress: Progress | None) -> None:
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    while process.poll() is None:
        now = time.monotonic()
        if now - started > plan.budget_s:
            raise LoadRunError(
                f"locust did not finish within {plan.budget_s:g} s ({plan.spec.duration_s} s run + grace); stopped it"
            )
        if progress is not None and now >= next_report:
            next_report = now + PROGRESS_EVERY_S
            progress(progress_line(plan, now - started))
        time.sleep(POLL_S)


def progress_line(plan: LoadPlan, elapsed_s: float) -> str:
    """``load 10s/15s  users 100  312.4 req/s  0.0 fail/s  p95 41 ms`` from the newest timeline row."""
    row = latest_row(timeline_file(plan.prefix))
    if row is None:
        return f"load {elapsed_s:.0f}s: starting locust"
    return (
        f"load {row['t_s']:.0f}s/{plan.spec.duration_s}s  users {row['users']}  {row['rps']:.1f} req/s  "
        f"{row['failures_per_s']:.1f} fail/s  p95 {row['p95_ms']:.0f} ms"
    )


def _tail(path: Path, lines: int = 12) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n".join(text[-lines:]) or "(no output)"
