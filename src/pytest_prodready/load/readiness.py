"""API readiness checks against any base URL: auth, security headers, RFC 7807 errors, health, rate limits.

Each check sends a handful of requests (this is not load, so any host is
allowed), returns the problems it found as sentences, and has an
``assert_*`` twin that records the outcome in the case's figures and raises
``AssertionError`` listing every problem.  Every response any check sees is
also inspected for the security headers.

Safe against a real service: a method that can change data (POST, PUT,
PATCH, DELETE, anything not in :data:`SAFE_METHODS`) is only ever sent
without a key or with a wrong one, unless ``allow_writes`` (the run's
``--prodready-allow-writes``) says so; the "wrong method" probe uses TRACE,
which changes nothing.  README "API readiness" lists every request sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from .. import systems
from ..timeouts import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_QUERY_TIMEOUT_S
from ..usage import UsageMistake

if TYPE_CHECKING:  # httpx is imported when a check runs, not when the plugin loads
    import httpx

STATUSES = ("healthy", "degraded", "unhealthy")
PROBLEM_JSON = "application/problem+json"
REJECTED = (401, 403)
KEY_HEADER = "X-API-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # RFC 9110 9.2.1: they change nothing
WRONG_METHOD = "TRACE"  # safe, and a route almost never accepts it: expect 405 problem+json

# header -> (what it must look like, test); a missing header is always a problem.
REQUIRED_HEADERS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "x-content-type-options": ("nosniff", lambda v: v.strip().lower() == "nosniff"),
    "x-frame-options": ("DENY or SAMEORIGIN", lambda v: v.strip().upper() in ("DENY", "SAMEORIGIN")),
    "content-security-policy": ("a policy", lambda v: bool(v.strip())),
    "referrer-policy": ("a policy", lambda v: bool(v.strip())),
    "strict-transport-security": ("max-age > 0", lambda v: _max_age(v) > 0),
}

Route = tuple[str, str]
KEPT_PROBLEMS = 500  # per check in the reports; ``problems_total`` counts them all


class ApiUnreachable(AssertionError):
    """The API refused the connection or did not answer in time: the check stops at the first such request."""


def unreachable_cause(exc: Exception, connect_s: float, answer_s: float) -> str:
    """One line a reader can act on, e.g. ``no answer within 2 s (ReadTimeout)``."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect within {connect_s:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {answer_s:g} s ({type(exc).__name__})"
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return f"cannot connect: {detail}"


def _max_age(value: str) -> int:
    for part in value.split(";"):
        name, _, number = part.strip().partition("=")
        if name.lower() == "max-age" and number.strip().isdigit():
            return int(number)
    return 0


@dataclass
class ApiReadiness:
    """Readiness checks of one HTTP API; ``routes`` are (method, path) pairs that need a key."""

    base_url: str
    api_key: str
    routes: Sequence[Route]
    health_path: str = "/health"
    key_header: str = KEY_HEADER
    required_headers: Mapping[str, tuple[str, Callable[[str], bool]]] = field(default_factory=lambda: REQUIRED_HEADERS)
    figures: dict[str, Any] | None = None
    client: httpx.Client | None = None
    timeout_s: float = DEFAULT_QUERY_TIMEOUT_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    allow_writes: bool = False
    seen: list[httpx.Response] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.client is None:
            import httpx

            timeout = httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)
            self.client = httpx.Client(base_url=self.base_url, timeout=timeout)
        self.client.event_hooks["response"].append(self._keep)

    def _keep(self, response: httpx.Response) -> None:
        self.seen.append(response)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def _send(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        import httpx

        if key == self.api_key and not self._may_write_with_key(method):
            raise AssertionError(f"refusing to send {method} {path} with the valid key: it can change data")
        headers = {**kwargs.pop("headers", {}), **({self.key_header: key} if key is not None else {})}
        try:
            response = self.client.request(method, path, headers=headers, **kwargs)
            response.read()
        except httpx.TransportError as exc:
            cause = unreachable_cause(exc, self.connect_timeout_s, self.timeout_s)
            raise ApiUnreachable(f"{method} {self.base_url}{path}: {cause}") from None
        return response

    def _may_write_with_key(self, method: str) -> bool:
        return self.allow_writes or method.upper() in SAFE_METHODS

    # checks: each returns the problems found
    def auth_problems(self) -> list[str]:
        """Every route rejects a missing or wrong key (401/403) and accepts the real one; health needs none.

        The valid key goes only to routes whose method changes nothing, unless writes are allowed.
        """
        problems = []
        wrong = secrets.token_urlsafe(16)
        for method, path in self.routes:
            for label, key in (("without a key", None), ("with a wrong key", wrong)):
                status = self._send(method, path, key).status_code
                if status not in REJECTED:
                    problems.append(f"{method} {path} {label} answered {status}, expected 401 or 403")
            if not self._may_write_with_key(method):
                continue
            status = self._send(method, path, self.api_key).status_code
            if status in REJECTED:
                problems.append(f"{method} {path} with the valid key answered {status}")
        status = self._send("GET", self.health_path).status_code
        if status in REJECTED:
            problems.append(f"GET {self.health_path} without a key answered {status}: health must not need a key")
        return problems

    def header_problems(self) -> list[str]:
        """Security headers on every response seen so far, plus health, each GET route and two errors."""
        for method, path, key in self._header_probes():
            self._send(method, path, key)
        problems = []
        for response in self.seen:
            for name, (expected, valid) in self.required_headers.items():
                value = response.headers.get(name)
                where = f"{response.request.method} {response.request.url.raw_path.decode()} ({response.status_code})"
                if value is None:
                    problems.append(f"{where}: header {name} missing")
                elif not valid(value):
                    problems.append(f"{where}: header {name}: {value!r} is not {expected}")
        return _dedupe(problems)

    def problem_json_problems(self) -> list[str]:
        """Errors (401, 404, 405; with writes allowed, a malformed body) come as RFC 7807 problem+json documents."""
        method, path = self.routes[0]
        probes = [
            ("no key", self._send(method, path)),
            ("unknown path", self._send("GET", f"/no-such-path-{secrets.token_hex(4)}", self.api_key)),
            ("wrong method", self._send(WRONG_METHOD, path, self.api_key)),
        ]
        writes = [route for route in self.routes if route[0] in ("POST", "PUT", "PATCH")]
        if writes and self.allow_writes:
            method, path = writes[0]
            bad = self._send(method, path, self.api_key, content=b"{not json", headers={"content-type": "application/json"})
            probes.append(("malformed body", bad))
        return [problem for label, response in probes for problem in problem_document_problems(label, response)]

    def health_problems(self) -> list[str]:
        """The health report names each dependency with a status and a response time."""
        response = self._send("GET", self.health_path)
        return health_document_problems(response)

    def rate_limit_problems(self, path: str, api_key: str, requests: int) -> list[str]:
        """``requests`` quick calls with ``api_key`` must meet a 429 with Retry-After and problem+json."""
        for _ in range(requests):
            response = self._send("GET", path, api_key)
            if response.status_code == 429:
                problems = problem_document_problems("rate limited", response)
                if "retry-after" not in response.headers:
                    problems.append(f"GET {path} answered 429 without Retry-After")
                return problems
        return [f"{requests} requests to GET {path} in a row were never rate limited (no 429)"]

    def _header_probes(self) -> Iterable[tuple[str, str, str | None]]:
        yield "GET", self.health_path, None
        yield from ((method, path, self.api_key) for method, path in self.routes if method == "GET")
        yield self.routes[0][0], self.routes[0][1], None
        yield "GET", f"/no-such-path-{secrets.token_hex(4)}", self.api_key

    # assertions: record, then raise with every problem
    def assert_auth(self) -> None:
        self._judge("authentication", self.auth_problems())

    def assert_security_headers(self) -> None:
        self._judge("security_headers", self.header_problems())

    def assert_problem_json(self) -> None:
        self._judge("problem_json", self.problem_json_problems())

    def assert_health(self) -> None:
        self._judge("health", self.health_problems())

    def assert_rate_limited(self, path: str, api_key: str, requests: int = 50) -> None:
        self._judge("rate_limit", self.rate_limit_problems(path, api_key, requests))

    def _judge(self, check: str, problems: list[str]) -> None:
        if self.figures is not None:
            record = {"passed": not problems, "problems": problems[:KEPT_PROBLEMS], "problems_total": len(problems),
                      "responses_seen": len(self.seen)}
            self.figures.setdefault("api_readiness", {})[check] = record
        if problems:
            shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
            raise AssertionError(f"{check}: {len(problems)} problem(s): {shown}")


def problem_document_problems(label: str, response: httpx.Response) -> list[str]:
    """What keeps ``response`` from being an RFC 7807 problem document (empty when it is one)."""
    where = f"{label}: {response.request.method} {response.request.url.raw_path.decode()} ({response.status_code})"
    if response.status_code < 400:
        return [f"{where}: expected an error status"]
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != PROBLEM_JSON:
        return [f"{where}: content-type {media or 'missing'!r}, expected {PROBLEM_JSON}"]
    try:
        body = response.json()
    except ValueError:
        return [f"{where}: body is not JSON"]
    if not isinstance(body, dict):
        return [f"{where}: body is not a JSON object"]
    problems = [f"{where}: member {name!r} must be a string" for name in ("type", "title")
                if not isinstance(body.get(name, ""), str)]
    if body.get("status", response.status_code) != response.status_code:
        problems.append(f"{where}: member 'status' is {body.get('status')!r}, the response is {response.status_code}")
    problems += [f"{where}: member {name!r} must be a string" for name in ("detail", "instance")
                 if name in body and not isinstance(body[name], str)]
    if "title" not in body:
        problems.append(f"{where}: no 'title' member")
    return problems


def health_document_problems(response: httpx.Response) -> list[str]:
    """A health report: overall status, and each dependency's status and response time."""
    where = f"GET {response.request.url.raw_path.decode()} ({response.status_code})"
    try:
        body = response.json()
    except ValueError:
        return [f"{where}: body is not JSON"]
    overall = body.get("status") if isinstance(body, dict) else None
    dependencies = body.get("dependencies") if isinstance(body, dict) else None
    if overall not in STATUSES:
        return [f"{where}: 'status' is {overall!r}, expected one of {', '.join(STATUSES)}"]
    if not isinstance(dependencies, dict) or not dependencies:
        return [f"{where}: no 'dependencies' object naming each dependency"]
    problems = [problem for name, dep in dependencies.items() for problem in _dependency_problems(where, name, dep)]
    if problems:
        return problems
    worst = max((dep["status"] for dep in dependencies.values()), key=STATUSES.index)
    if overall != worst:
        problems.append(f"{where}: overall status {overall!r} hides a {worst!r} dependency")
    if overall == "unhealthy" and response.status_code != 503:
        problems.append(f"{where}: unhealthy, but answered {response.status_code} instead of 503")
    if overall == "unhealthy":
        failing = [name for name, dep in dependencies.items() if dep["status"] == "unhealthy"]
        problems.append(f"{where}: unhealthy dependencies: {', '.join(failing)}")
    return problems


def _dependency_problems(where: str, name: str, dep: Any) -> list[str]:
    if not isinstance(dep, dict) or dep.get("status") not in STATUSES:
        return [f"{where}: dependency {name!r} has no status among {', '.join(STATUSES)}"]
    elapsed = dep.get("response_time_ms")
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or elapsed < 0:
        return [f"{where}: dependency {name!r} has no response_time_ms"]
    return []


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


CALL = "api_readiness(base_url, api_key, routes)"
ROUTE_EXAMPLE = '[("GET", "/orders"), ("POST", "/orders")]'


def check_arguments(base_url: Any, api_key: Any, routes: Any) -> None:
    """The fixture's arguments as documented, or a :class:`UsageMistake` saying what to write instead."""
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        hint = " (--prodready-target-url not given?)" if base_url is None else ""
        raise UsageMistake(f"{CALL}: base_url must be an http:// or https:// URL, got {base_url!r}{hint}")
    if not isinstance(api_key, str) or not api_key:
        raise UsageMistake(f"{CALL}: api_key must be a non-empty string")
    if isinstance(routes, (str, bytes)) or not isinstance(routes, Sequence) or not routes:
        raise UsageMistake(f"{CALL}: routes must be a non-empty list of (method, path) pairs, e.g. {ROUTE_EXAMPLE}")
    for route in routes:
        if not (isinstance(route, (tuple, list)) and len(route) == 2 and all(isinstance(part, str) for part in route)):
            raise UsageMistake(
                f"{CALL}: each route must be a (method, path) pair, e.g. {ROUTE_EXAMPLE}; got {route!r}"
            )
        method, path = route
        if not method.isalpha() or not path.startswith("/"):
            raise UsageMistake(f"{CALL}: route {route!r}: expected an HTTP method and a path starting with '/'")


class ReadinessFactory:
    """What the ``api_readiness`` fixture gives: call it with a base URL; clients close after the test."""

    def __init__(self, figures: dict[str, Any], **defaults: Any):
        self.figures = figures
        self.defaults = defaults
        self.made: list[ApiReadiness] = []

    def __call__(self, base_url: str, api_key: str, routes: Sequence[Route], **options: Any) -> ApiReadiness:
        check_arguments(base_url, api_key, routes)
        systems.note(self.figures, base_url)
        checks = ApiReadiness(base_url, api_key, routes, figures=self.figures, **{**self.defaults, **options})
        self.made.append(checks)
        return checks

    def close(self) -> None:
        for checks in self.made:
            checks.close()
