"""What the ``canary`` fixture hands a test: ``canary.compare(lambda http: http.get(...))``.

One ``httpx.Client`` per side (keep-alive, the run's timeouts cut to the
time left, the side's API key as ``X-API-Key``, every request's host
checked against the loopback rule) and the interleaved sampler.  The
outcome is recorded on the test, and the plugin judges it after the test
body, as it does perf gates and load tests.
"""

from __future__ import annotations

from contextlib import ExitStack, nullcontext
from typing import Any, Callable, ContextManager, Mapping

import httpx
import pytest

from ..case_outcome import CaseOutcome
from ..gates.latency import Clock
from ..net.loopback import RemoteHostError, check_target
from ..timeouts import Timeouts
from .interleave import BASELINE, CANDIDATE, Call, Interleaved, Progress, sample
from .judgement import judge, undecided
from .pair import CanaryPair, Endpoint
from .spec import CanarySpec

API_KEY_HEADER = "X-API-Key"
Request = Callable[[httpx.Client], Any]
Record = Callable[[CaseOutcome], None]


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
        exclusive: Callable[[], ContextManager[None]] = nullcontext,
    ) -> None:
        self.pair = pair
        self.spec = spec
        self.timeouts = timeouts
        self.allow_remote = allow_remote
        self.clock = clock
        self.record = record
        self.progress = progress
        self.exclusive = exclusive
        self.compared = False

    def compare(self, request: Request) -> dict[str, Any]:
        """Send ``request(client)`` to both sides, judge, and return the canary's figures.

        ``request`` returns the ``httpx.Response``.  A status >= 400 or a
        transport error (refused, timed out) counts as an error of that
        side; only successful requests count towards latency.  One
        comparison per test: parametrize the test to compare several requests.
        """
        if self.compared:
            pytest.fail("canary: one comparison per test (parametrize the test to compare several requests)", pytrace=False)
        self.compared = True
        endpoints = {BASELINE: self.pair.baseline, CANDIDATE: self.pair.candidate}
        try:
            for endpoint in endpoints.values():
                check_target(endpoint.url, self.allow_remote)
            with ExitStack() as stack:
                stack.enter_context(self.exclusive())
                calls = {name: self._call(stack.enter_context(self._client(e)), request) for name, e in endpoints.items()}
                self.progress(
                    f"canary: {self.spec.rounds} rounds of {self.spec.block_size} requests per side "
                    f"(baseline {self.pair.baseline.url}, candidate {self.pair.candidate.url})"
                )
                run = sample(
                    calls, rounds=self.spec.rounds, block_size=self.spec.block_size, warmup=self.spec.warmup,
                    duration_s=self.spec.duration_s, clock=self.clock, progress=self.progress, more=self._more,
                )
        except (RemoteHostError, RequestShapeError) as exc:
            raise pytest.fail.Exception(f"canary: {exc}", pytrace=False) from None
        outcome = judge(self.spec, run, baseline_url=self.pair.baseline.url, candidate_url=self.pair.candidate.url)
        self.record(outcome)
        self.progress(f"canary: {outcome.figures['canary']['decision']}")
        return outcome.figures["canary"]

    def _more(self, run: Interleaved) -> int:
        """``rounds`` more rounds while the comparison is undecided and the plan may still grow; else 0."""
        left = self.spec.most_rounds - run.rounds_done
        return min(self.spec.rounds, left) if left > 0 and undecided(self.spec, run) else 0

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``compare`` on one GET request."""
        return self.compare(lambda http: http.get(path, params=params))

    def _client(self, endpoint: Endpoint) -> httpx.Client:
        headers = {API_KEY_HEADER: endpoint.api_key} if endpoint.api_key else {}
        own_host = httpx.URL(endpoint.url).host

        def guard(outgoing: httpx.Request) -> None:
            """An absolute URL in the request function must obey the loopback rule too."""
            if outgoing.url.host != own_host:
                check_target(str(outgoing.url), self.allow_remote)

        return httpx.Client(
            base_url=endpoint.url, headers=headers, timeout=self._timeout(self.timeouts.query_s),
            trust_env=False, event_hooks={"request": [guard]},
        )

    def _timeout(self, left_s: float) -> httpx.Timeout:
        """The run's timeouts, cut to the time left so one slow request cannot overrun the duration."""
        return httpx.Timeout(min(self.timeouts.query_s, left_s), connect=min(self.timeouts.connect_s, left_s))

    def _call(self, client: httpx.Client, request: Request) -> Call:
        """One request against one side: None on success, else what went wrong."""

        def call(left_s: float) -> str | None:
            client.timeout = self._timeout(max(left_s, 0.001))
            try:
                response = request(client)
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
            if not isinstance(response, httpx.Response):
                raise RequestShapeError(
                    f"the request function must return the httpx.Response (e.g. lambda http: http.get(...)), "
                    f"got {type(response).__name__}"
                )
            return _status_error(response)

        return call


def _status_error(response: httpx.Response) -> str | None:
    """``HTTP 503 GET /search`` for an error status, None for success."""
    if response.status_code < 400:
        return None
    try:
        return f"HTTP {response.status_code} {response.request.method} {response.request.url.path}"
    except RuntimeError:  # a response built without its request
        return f"HTTP {response.status_code}"


class RequestShapeError(TypeError):
    """The test's request function returned something other than a response."""
