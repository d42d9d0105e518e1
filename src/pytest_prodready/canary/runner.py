"""What the ``canary`` fixture hands a test: ``canary.compare(lambda http: http.get(...))``.

One ``httpx.Client`` per side (keep-alive, the run's timeouts, the side's
API key as ``X-API-Key``) and the interleaved sampler.  The outcome is
recorded on the test, and the plugin judges it after the test body, as it
does perf gates and load tests.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Callable, Mapping

import httpx
import pytest

from ..gates.evaluation import GateOutcome
from ..gates.latency import Clock
from ..load.loopback import RemoteHostError, check_target
from ..timeouts import Timeouts
from .interleave import BASELINE, CANDIDATE, Call, Progress, sample
from .judgement import judge
from .pair import CanaryPair, Endpoint
from .spec import CanarySpec

API_KEY_HEADER = "X-API-Key"
Request = Callable[[httpx.Client], Any]
Record = Callable[[GateOutcome], None]


class CanaryRun:
    """Compares the pair's two services on the same requests, in interleaved blocks."""

    def __init__(
        self,
        pair: CanaryPair,
        spec: CanarySpec,
        *,
        timeouts: Timeouts,
        allow_remote: bool,
        clock: Clock,
        record: Record,
        progress: Progress,
    ) -> None:
        self.pair = pair
        self.spec = spec
        self.timeouts = timeouts
        self.allow_remote = allow_remote
        self.clock = clock
        self.record = record
        self.progress = progress

    def compare(self, request: Request) -> dict[str, Any]:
        """Send ``request(client)`` to both sides, judge, and return the canary's figures.

        A response with status >= 400 or a transport error (refused,
        timed out) counts as an error of that side; only successful
        requests count towards latency.  The test's last comparison is judged.
        """
        endpoints = {BASELINE: self.pair.baseline, CANDIDATE: self.pair.candidate}
        for endpoint in endpoints.values():
            try:
                check_target(endpoint.url, self.allow_remote)
            except RemoteHostError as exc:
                pytest.fail(f"canary: {exc}", pytrace=False)
        with ExitStack() as stack:
            calls = {name: _call(stack.enter_context(self._client(e)), request) for name, e in endpoints.items()}
            self.progress(
                f"canary: {self.spec.blocks} rounds of {self.spec.block_size} requests per side "
                f"(baseline {self.pair.baseline.url}, candidate {self.pair.candidate.url})"
            )
            run = sample(
                calls, blocks=self.spec.blocks, block_size=self.spec.block_size, warmup=self.spec.warmup,
                duration_s=self.spec.duration_s, clock=self.clock, progress=self.progress,
            )
        outcome = judge(self.spec, run, baseline_url=self.pair.baseline.url, candidate_url=self.pair.candidate.url)
        self.record(outcome)
        self.progress(f"canary: {outcome.figures['canary']['decision']}")
        return outcome.figures["canary"]

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``compare`` on one GET request."""
        return self.compare(lambda http: http.get(path, params=params))

    def _client(self, endpoint: Endpoint) -> httpx.Client:
        headers = {API_KEY_HEADER: endpoint.api_key} if endpoint.api_key else {}
        timeout = httpx.Timeout(self.timeouts.query_s, connect=self.timeouts.connect_s)
        return httpx.Client(base_url=endpoint.url, headers=headers, timeout=timeout, trust_env=False)


def _call(client: httpx.Client, request: Request) -> Call:
    """One request against one side: None on success, else what went wrong."""

    def call() -> str | None:
        try:
            response = request(client)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        status = getattr(response, "status_code", None)
        if isinstance(status, int) and status >= 400:
            return f"HTTP {status} {response.request.method} {response.request.url.path}"
        return None

    return call
