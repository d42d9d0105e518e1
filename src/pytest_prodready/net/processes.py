"""Child processes in their own process group, stopped group and all.

Load generators and servers fork helpers of their own (``locust
--processes``, uvicorn workers).  Each is started as the leader of a new
session, so stopping it means signalling the whole group: SIGTERM first,
SIGKILL for whatever is still there after a grace period.  A terminal's
Ctrl-C reaches only pytest's group, never these, so cleanup is ours.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import IO, Mapping, Sequence

from ..cpu_pinning import free_child

TERM_GRACE_S = 5.0


def spawn(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: IO[bytes] | int | None = None,
    stderr: IO[bytes] | int | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new session (and so of a new process group)."""
    process = subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )
    free_child(process.pid)  # a run timed on one CPU still gives its servers and load generators every CPU
    return process


def stop_group(process: subprocess.Popen[bytes], grace_s: float = TERM_GRACE_S) -> int | None:
    """SIGTERM the group, give the leader ``grace_s`` to exit, then SIGKILL whatever is left of the group.

    The final SIGKILL goes to the group even when the leader exited in time:
    a helper it forked may have outlived it.
    """
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process.pid, signal.SIGKILL)
    try:
        return process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that survives SIGKILL
        return None


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
