"""Pure ASGI middleware of the reference HTTP app: headers, auth, rate limits, last-resort errors, faults.

Pure ASGI (not Starlette's BaseHTTPMiddleware) because every request of a
load test passes through each of them: a wrapper per layer costs little, a
task and a memory stream per layer does not.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any, Awaitable, Callable, Mapping

from .api_keys import ApiKey, digest
from .problems import problem
from .ratelimit import RateLimiter, retry_after
from .slowdown import hold

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS: dict[str, str] = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "cache-control": "no-store",
}
PUBLIC_PATHS = frozenset({"/health"})
ANONYMOUS_RATE_PER_S = 20.0

log = logging.getLogger("pytest_prodready.reference.http")


class SecurityHeaders:
    """Adds the security headers to every response, errors and health included."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] = SECURITY_HEADERS):
        self.app = app
        self.raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ProblemGuard:
    """Turns an unhandled exception into a 500 problem+json instead of a bare text page."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started or scope["type"] != "http":
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            await problem(500, "the server failed to handle this request", instance=scope.get("path"))(
                scope, receive, send
            )


class ApiKeyGate:
    """Every path but the public ones needs a valid key; each key has its own rate limit.

    The key comes in ``X-API-Key`` or ``Authorization: Bearer``.  Requests
    without a valid key are limited per client address, which slows down
    key guessing.
    """

    def __init__(
        self,
        app: ASGIApp,
        keys: Mapping[bytes, ApiKey],
        anonymous_rate_per_s: float = ANONYMOUS_RATE_PER_S,
        limiter: RateLimiter | None = None,
    ):
        self.app = app
        self.keys = keys
        self.anonymous_rate = anonymous_rate_per_s
        self.limiter = limiter or RateLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        key = self._key(scope)
        if key is None:
            rate = self.anonymous_rate
            wait = self.limiter.wait_s(("address", (scope.get("client") or ("?",))[0]), rate, rate)
        else:
            rate = key.rate_per_s
            wait = self.limiter.wait_s(("key", key.name), rate, key.capacity)
        if wait > 0:
            await _too_many(scope, receive, send, wait, rate)
        elif key is None:
            await _unauthorized(scope, receive, send)
        else:
            scope.setdefault("state", {})["api_key"] = key.name
            await self.app(scope, receive, send)

    def _key(self, scope: Scope) -> ApiKey | None:
        for name, value in scope.get("headers", ()):
            if name == b"x-api-key":
                return self.keys.get(digest(value.decode("latin-1")))
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return self.keys.get(digest(value[7:].decode("latin-1").strip()))
        return None


async def _unauthorized(scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(
        401,
        "a valid API key is required (X-API-Key header or Authorization: Bearer)",
        slug="missing-or-invalid-api-key",
        instance=scope["path"],
        headers={"www-authenticate": 'ApiKey realm="memory-service"'},
    )
    await response(scope, receive, send)


async def _too_many(scope: Scope, receive: Receive, send: Send, wait_s: float, rate: float) -> None:
    response = problem(
        429,
        f"rate limit of {rate:g} requests/s exceeded",
        slug="rate-limited",
        instance=scope["path"],
        headers={"retry-after": retry_after(wait_s), "ratelimit-limit": f"{math.floor(rate)}"},
    )
    await response(scope, receive, send)


class FaultInjection:
    """Test knob: a fixed share of requests answer 500, and/or every request is delayed.

    The failing share is exact and deterministic (request n fails when
    ``floor(n * ratio)`` steps up), so a 10 % fault run measures 10 %.
    Public paths are exempt so that health probes keep working.
    """

    def __init__(self, app: ASGIApp, fault_ratio: float = 0.0, delay_ms: float = 0.0):
        if not 0.0 <= fault_ratio <= 1.0 or delay_ms < 0:
            raise ValueError(f"fault_ratio must be in [0, 1] and delay_ms >= 0, got {fault_ratio}, {delay_ms}")
        self.app = app
        self.fault_ratio = fault_ratio
        self.delay_s = delay_ms / 1000.0
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.seen += 1
        if math.floor(self.seen * self.fault_ratio) > math.floor((self.seen - 1) * self.fault_ratio):
            await problem(500, "injected fault", slug="injected-fault", instance=scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)


class Slowdown:
    """Test knob for the canary gate: every response is held back by ``factor`` times its own time.

    Placed outermost, so the time counted is everything the app does for the
    request; ``factor=0.3`` makes a service 30 % slower than its twin.
    """

    def __init__(self, app: ASGIApp, factor: float) -> None:
        if not factor >= 0:
            raise ValueError(f"slowdown must be >= 0, got {factor}")
        self.app = app
        self.factor = factor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.factor:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def slowed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await hold((time.perf_counter() - started) * self.factor)
            await send(message)

        await self.app(scope, receive, slowed_send)
