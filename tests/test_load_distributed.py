"""Locust master and workers on loopback: two workers' requests add up to one result.

``processes=2`` runs a locust master with two workers, the local form of
the master / worker split README's scale-out section describes across hosts.
A counting HTTP server on 127.0.0.1 sees which worker sent each request (the
locustfile names its process id in a header); the runner's single result
must hold every request both workers made, and all the users.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from pytest_prodready.load.locust_process import LoadPlan, run_load
from pytest_prodready.load.load_spec import parse_load

# Timing-sensitive runs share one xdist worker (--dist loadgroup), so a 1000-user locust run never
# loads the CPUs under a canary comparison that is judged on a few milliseconds.
pytestmark = pytest.mark.xdist_group("timing")

LOCUSTFILE = '''
import os

from locust import FastHttpUser, constant, task


class Counted(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def ping(self):
        self.client.get("/ping", headers={"X-Worker-Pid": str(os.getpid())})
'''


class CountingServer(ThreadingHTTPServer):
    """Counts requests per worker process id."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CountingHandler)
        self.by_worker: Counter[str] = Counter()
        self.lock = threading.Lock()


class CountingHandler(BaseHTTPRequestHandler):
    server: CountingServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.by_worker[self.headers.get("X-Worker-Pid", "?")] += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        """Quiet: thousands of requests would flood the captured output."""


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_master_and_two_workers_report_one_aggregated_result(counting_server: CountingServer, tmp_path: Path):
    locustfile = tmp_path / "counted.py"
    locustfile.write_text(LOCUSTFILE)
    spec = parse_load({"users": 10, "spawn_rate": 10, "duration": "4s", "processes": 2}, "t")
    host = f"http://127.0.0.1:{counting_server.server_address[1]}"
    result = run_load(LoadPlan(locustfile, host, spec, tmp_path / "run"))
    seen = dict(counting_server.by_worker)
    assert len(seen) == 2, f"requests should come from two worker processes, got {seen}"
    assert min(seen.values()) > 0.25 * sum(seen.values())
    # requests still in flight when the run stops reach the server but not locust's statistics
    assert sum(seen.values()) - spec.users <= result.requests <= sum(seen.values())
    assert result.users == 10 and result.failures == 0
