"""The contract between the runner (in pytest) and the agent (in the locust process): environment variables.

Kept apart from ``agent`` because that module imports locust, which the
pytest process must never do; forked ``--processes`` workers inherit the
variables.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

ENV_CAP = "PRODREADY_LOAD_MAX_REQUESTS"
ENV_PROCESSES = "PRODREADY_LOAD_PROCESSES"
ENV_OUT = "PRODREADY_LOAD_OUT"
ENV_DEADLINE = "PRODREADY_LOAD_DEADLINE_S"
ENV_ALLOW_REMOTE = "PRODREADY_LOAD_ALLOW_REMOTE"


@dataclass(frozen=True)
class AgentOptions:
    """What the plugin asks of one locust run beyond locust's own options."""

    cap: int = 0
    processes: int = 1
    out_prefix: Path | None = None
    deadline_s: float | None = None
    allow_remote: bool = False

    def to_env(self) -> dict[str, str]:
        env = {
            ENV_CAP: str(self.cap),
            ENV_PROCESSES: str(self.processes),
            ENV_ALLOW_REMOTE: "1" if self.allow_remote else "0",
        }
        if self.out_prefix is not None:
            env[ENV_OUT] = str(self.out_prefix)
        if self.deadline_s is not None:
            env[ENV_DEADLINE] = f"{self.deadline_s:g}"
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AgentOptions:
        deadline = env.get(ENV_DEADLINE)
        return cls(
            cap=int(env.get(ENV_CAP, "0")),
            processes=max(1, int(env.get(ENV_PROCESSES, "1"))),
            out_prefix=Path(env[ENV_OUT]) if env.get(ENV_OUT) else None,
            deadline_s=float(deadline) if deadline else None,
            allow_remote=env.get(ENV_ALLOW_REMOTE) == "1",
        )

    def share(self, worker: bool) -> int:
        """A worker stops at its part of the cap; the first one there ends the run for all."""
        return math.ceil(self.cap / self.processes) if worker else self.cap

    def deadline_at(self, now: float | None = None) -> float | None:
        """The monotonic time past which the agent kills its own process group."""
        if self.deadline_s is None:
            return None
        return (time.monotonic() if now is None else now) + self.deadline_s
