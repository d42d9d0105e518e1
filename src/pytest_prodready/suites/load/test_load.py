"""Load cases against the reference service's HTTP API (seed 003: 100+ concurrent sessions; seed 002: 1000+ users).

A locust "user" is one simulated client: its own session in the service,
its own keep-alive connection, and a think time between requests.  Users
are concurrent in that sense; the request rate follows from their pacing.
The server shares this machine (2 cores) with the load generator, so the
figures are those of a loopback run, not of a production deployment.
"""

from __future__ import annotations

import pytest

LOCUSTFILE = "locustfiles/memory_api.py"


@pytest.mark.load(
    name="concurrent_sessions", users=100, spawn_rate=25, duration="15s",
    max_error_ratio=0.01, p95_ms=500, min_rps=50,
)
def test_100_concurrent_sessions(load_runner, reference_app):
    """100 sessions at once, each calling every 0.5-1.5 s (about 100 req/s): no errors to speak of, p95 < 500 ms."""
    load_runner.run(LOCUSTFILE, host=reference_app.base_url, api_key=reference_app.api_key,
                    env={"MEMORY_API_THINK_S": "0.5,1.5"})


@pytest.mark.load(
    name="concurrent_users", users=1000, spawn_rate=200, duration="15s", steady_state=True,
    max_error_ratio=0.01, mean_ms=200, p95_ms=1500, min_rps=100,
)
def test_1000_concurrent_users(load_runner, reference_app):
    """1000 users at once, each calling every 2-6 s: average response < 200 ms, as seed 002 asks.

    Judged on the 10 s after all 1000 users are running (``steady_state``):
    the 5 s ramp, 1000 connections opened at 200 a second, is set-up, not use.
    """
    load_runner.run(LOCUSTFILE, host=reference_app.base_url, api_key=reference_app.api_key,
                    env={"MEMORY_API_THINK_S": "2,6"})
