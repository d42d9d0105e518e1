"""Wait-for-ready: poll the target until it answers, before any case runs.

A deploy pipeline starts the service and the readiness run together; the
first seconds of a cold start would otherwise show as dozens of unrelated
failures.  Polling with backoff until a deadline turns "not up yet" into one
clear NO-GO: ``target never became ready (last status ...)``.  The clock and
the sleep are injected so the unit tests never wait.
"""

from __future__ import annotations

import os
import sqlite3
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .checks.sqlite import read_only_uri
from .net.loopback import check_target, without_userinfo

NEO4J_USER_ENV, NEO4J_PASSWORD_ENV = "PRODREADY_NEO4J_USER", "PRODREADY_NEO4J_PASSWORD"
PROBE_TIMEOUT_S = 2.0  # the most one probe is given
MIN_PROBE_S = 0.05  # what a probe is given once the deadline has passed: one quick last look


@dataclass(frozen=True)
class Status:
    """One probe's answer: healthy or not, and what it said."""

    healthy: bool
    detail: str


Probe = Callable[[float], Status]  # takes the seconds left; answers within them


@dataclass(frozen=True)
class WaitResult:
    """How the wait ended."""

    ready: bool
    waited_s: float
    attempts: int
    last_status: str

    def reason(self) -> str:
        return f"target never became ready within {self.waited_s:.1f} s (last status: {self.last_status})"


def wait_until_ready(
    probes: Sequence[tuple[str, Probe]],
    deadline_s: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] = lambda line: None,
    first_delay_s: float = 0.25,
    max_delay_s: float = 2.0,
) -> WaitResult:
    """Poll the probes, one after another, until all are healthy in the same round, or the deadline passes.

    The delay between rounds doubles up to ``max_delay_s`` and never sleeps
    past the deadline.  Each probe is given at most ``PROBE_TIMEOUT_S`` and
    never more than the time left when it starts (``MIN_PROBE_S`` once that
    is gone), so a round started just before the deadline cannot overrun it
    by a full timeout per probe: a run that gives up does so on time.
    """
    start = clock()
    delay, attempts = first_delay_s, 0
    while True:
        attempts += 1
        statuses = [(name, probe(_budget(deadline_s - (clock() - start)))) for name, probe in probes]
        summary = "; ".join(f"{name}: {status.detail}" for name, status in statuses)
        elapsed = clock() - start
        if all(status.healthy for _, status in statuses):
            return WaitResult(True, elapsed, attempts, summary)
        progress(f"waiting for the target: {summary} ({elapsed:.1f} s of {deadline_s:g} s)")
        if elapsed + delay > deadline_s:
            sleep(max(deadline_s - elapsed, 0.0))
            return WaitResult(False, clock() - start, attempts, summary)
        sleep(delay)
        delay = min(delay * 2, max_delay_s)


def _budget(left_s: float) -> float:
    """Seconds one probe may take: the time left, within [MIN_PROBE_S, PROBE_TIMEOUT_S]."""
    return max(min(left_s, PROBE_TIMEOUT_S), MIN_PROBE_S)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a place to go: following one could leave loopback."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


# No proxy either: a proxy would take the request to another host than the one checked.
_OPENER = urllib.request.build_opener(_RefuseRedirects, urllib.request.ProxyHandler({}))


def health_url(base_url: str) -> str:
    """What the HTTP probe polls, as it may be shown: ``<base_url>/health`` without the URL's userinfo."""
    return without_userinfo(base_url).rstrip("/") + "/health"


def http_health(base_url: str, *, allow_remote: bool = False) -> Probe:
    """``GET <base_url>/health`` answers 200; the URL must be loopback unless remote is allowed.

    Userinfo is dropped from the URL: urllib would pass ``user:pw@host`` to
    name resolution as the host name.  Redirects are reported, never followed.
    """
    check_target(base_url, allow_remote)
    url = health_url(base_url)

    def probe(timeout_s: float) -> Status:
        try:
            with _OPENER.open(url, timeout=timeout_s) as response:
                return Status(response.status == 200, f"HTTP {response.status}")
        except urllib.error.HTTPError as exc:
            moved = " (redirect not followed)" if 300 <= exc.code < 400 else ""
            return Status(False, f"HTTP {exc.code}{moved}")
        except (urllib.error.URLError, OSError) as exc:
            return Status(False, f"unreachable ({getattr(exc, 'reason', exc)})")

    return probe


def sqlite_answers(path: Path) -> Probe:
    """The SQLite file opens read-only and answers a query."""

    def probe(timeout_s: float) -> Status:
        try:
            with sqlite3.connect(read_only_uri(path), uri=True, timeout=timeout_s) as connection:
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return Status(True, "answers")
        except sqlite3.Error as exc:
            return Status(False, str(exc))  # the loop prefixes the probe name

    return probe


def neo4j_connects(uri: str) -> Probe:
    """The Neo4j driver's ``verify_connectivity`` succeeds (auth from PRODREADY_NEO4J_USER / _PASSWORD)."""
    user = os.environ.get(NEO4J_USER_ENV)
    auth = (user, os.environ.get(NEO4J_PASSWORD_ENV, "")) if user else None

    def probe(timeout_s: float) -> Status:
        import neo4j  # only runs that poll Neo4j pay for the import

        try:
            # connection_timeout bounds only the TCP connect; the Bolt handshake and HELLO fall under
            # the acquisition timeout (60 s by default), so a port that accepts but never answers hung.
            with neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=timeout_s,
                                            connection_acquisition_timeout=timeout_s) as driver:
                driver.verify_connectivity()
            return Status(True, "connected")
        except Exception as exc:  # noqa: BLE001  (the driver raises many types; each means "not ready")
            return Status(False, type(exc).__name__)  # the loop prefixes the probe name

    return probe
