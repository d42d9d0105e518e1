"""The load generator's entry point: locust with the plugin's guards around it.

Run as ``python -m pytest_prodready.load.agent <locust options>`` in a child
process and never imported by pytest: importing locust monkey-patches the
standard library with gevent, which breaks asyncio and threads in the test
process.  Before handing over to locust's own ``main`` it installs

* a connect guard: every socket the load opens must reach a loopback
  address, unless the run explicitly allowed remote hosts;
* a request cap: the run quits after N requests even if time remains;
* a timeline: one JSON row a second with users, req/s, failures/s, p95;
* a watchdog: the process group is killed when the deadline passes or
  the process that started the run is gone (no orphans, whatever happens
  to pytest).

Settings come from ``PRODREADY_LOAD_*`` environment variables, which
forked ``--processes`` workers inherit.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any, Callable, Mapping

import gevent
from locust import events
from locust.env import Environment
from locust.main import main as locust_main
from locust.runners import MasterRunner, WorkerRunner

from pytest_prodready.load.agent_options import AgentOptions
from pytest_prodready.net.loopback import refuse_remote
from pytest_prodready.load.results import errors_file, timeline_file

CAP_MESSAGE = "prodready_request_cap"
CAP_EVENT = "request cap"
TIMELINE_INTERVAL_S = 1.0
WATCH_INTERVAL_S = 0.5


def guard_connections() -> None:
    """Refuse, at connect time, any socket to a non-loopback address (absolute URLs included)."""
    import socket

    cls = socket.socket
    connect, connect_ex = cls.connect, cls.connect_ex
    checked: set[str] = set()

    def guarded_connect(self: Any, address: Any) -> Any:
        refuse_remote(address, checked)
        return connect(self, address)

    def guarded_connect_ex(self: Any, address: Any) -> Any:
        refuse_remote(address, checked)
        return connect_ex(self, address)

    cls.connect, cls.connect_ex = guarded_connect, guarded_connect_ex


class RunControl:
    """Listeners on locust's events: cap, timeline, errors file and watchdog, per process role."""

    def __init__(self, options: AgentOptions):
        self.options = options
        self.deadline_at = options.deadline_at()
        self.environment: Environment | None = None
        self.requests = 0
        self.capped = False
        self.started = 0.0

    def on_init(self, environment: Environment, **_: Any) -> None:
        self.environment = environment
        runner = environment.runner
        gevent.spawn(watchdog, os.getppid(), self.deadline_at)
        if isinstance(runner, MasterRunner):
            runner.register_message(CAP_MESSAGE, lambda **_: self.stop_for_cap())
        if self.options.cap:
            share = self.options.share(isinstance(runner, WorkerRunner))
            environment.events.request.add_listener(self._counter(share))

    def _counter(self, share: int) -> Callable[..., None]:
        def count(**_: Any) -> None:
            self.requests += 1
            if self.requests == share:
                self.reached_cap()

        return count

    def reached_cap(self) -> None:
        runner = self.environment.runner if self.environment else None
        if isinstance(runner, WorkerRunner):
            runner.send_message(CAP_MESSAGE, {"requests": self.requests})
        else:
            self.stop_for_cap()

    def stop_for_cap(self) -> None:
        """Quit once, from a fresh greenlet: the caller may be a user greenlet quit() is about to kill."""
        if self.capped or self.environment is None or self.environment.runner is None:
            return
        self.capped = True
        self._append({"event": CAP_EVENT, "t_s": self._elapsed()})
        gevent.spawn(self.environment.runner.quit)

    def on_test_start(self, environment: Environment, **_: Any) -> None:
        if not isinstance(environment.runner, WorkerRunner) and self.options.out_prefix:
            self.started = time.monotonic()
            gevent.spawn(self._sample_forever, environment)

    def _sample_forever(self, environment: Environment) -> None:
        while True:
            gevent.sleep(TIMELINE_INTERVAL_S)
            self._append(sample(environment, self._elapsed()))

    def on_quit(self, **_: Any) -> None:
        """Write the distinct errors once the final stats are in (master or local process only)."""
        environment = self.environment
        if environment is None or environment.runner is None or isinstance(environment.runner, WorkerRunner):
            return
        if self.options.out_prefix:
            rows = list(environment.runner.stats.serialize_errors().values())
            errors_file(self.options.out_prefix).write_text(json.dumps(rows), encoding="utf-8")

    def _elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2) if self.started else 0.0

    def _append(self, row: Mapping[str, Any]) -> None:
        if self.options.out_prefix:
            with timeline_file(self.options.out_prefix).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


def sample(environment: Environment, elapsed_s: float) -> dict[str, Any]:
    """One timeline row from the aggregated stats (the last seconds' rate and p95)."""
    total = environment.runner.stats.total
    try:
        p95 = total.get_current_response_time_percentile(0.95)
    except ValueError:  # no response-time cache on this stats object
        p95 = total.get_response_time_percentile(0.95)
    return {
        "t_s": elapsed_s,
        "users": environment.runner.user_count,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rps": round(total.current_rps, 2),
        "failures_per_s": round(total.current_fail_per_sec, 2),
        "p95_ms": p95 or 0,
    }


def watchdog(parent: int, deadline_at: float | None) -> None:
    """Kill the whole group when the starter is gone or time is up: never outlive the test run."""
    while os.getppid() == parent and (deadline_at is None or time.monotonic() < deadline_at):
        gevent.sleep(WATCH_INTERVAL_S)
    os.killpg(os.getpgrp(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    options = AgentOptions.from_env(os.environ)
    if not options.allow_remote:
        guard_connections()
    control = RunControl(options)
    events.init.add_listener(control.on_init)
    events.test_start.add_listener(control.on_test_start)
    events.quit.add_listener(control.on_quit)
    sys.argv = ["locust", *argv]
    locust_main()


if __name__ == "__main__":
    main(sys.argv[1:])
