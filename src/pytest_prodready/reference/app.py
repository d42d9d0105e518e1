"""The reference service's HTTP face: a small Starlette app over :class:`ReferenceService`.

JSON routes over sessions, memory and search, ``GET /health`` with each
dependency's status and response time, API-key authentication on every
other route, per-key rate limits, security headers on every response and
RFC 7807 problem+json bodies for every error.  ``fault_ratio``,
``delay_ms`` and ``slowdown`` exist for tests of the load and canary gates:
they make a deliberately faulty or slow variant of the same app.
"""

from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any, Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pytest_prodready.target import (
    MEMORY_TYPES,
    ConcurrentUpdateError,
    DuplicateSessionError,
    InvalidJSONError,
    InvalidMemoryTypeError,
    UnknownSessionError,
)

from . import health
from .api_keys import ApiKey, key_table
from .errors import DuplicateMemoryError, InvalidNamespaceError, UnknownMemoryError
from .middleware import (
    ANONYMOUS_RATE_PER_S,
    SECURITY_HEADERS,
    ApiKeyGate,
    FaultInjection,
    ProblemGuard,
    SecurityHeaders,
    Slowdown,
)
from .problems import problem
from .service import ReferenceService

MAX_SEARCH_LIMIT = 50

# Exception -> (status, problem type); anything unlisted is a 500 from ProblemGuard.
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    DuplicateSessionError: (409, "duplicate-session"),
    DuplicateMemoryError: (409, "duplicate-memory"),
    ConcurrentUpdateError: (409, "concurrent-update"),
    UnknownSessionError: (404, "unknown-session"),
    UnknownMemoryError: (404, "unknown-memory"),
    InvalidJSONError: (422, "invalid-json-value"),
    InvalidMemoryTypeError: (422, "invalid-memory-type"),
    InvalidNamespaceError: (422, "invalid-namespace"),
}

# One concrete request per route, for readiness checks (auth on every route but health).
EXAMPLE_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/sessions"),
    ("GET", "/sessions/example-session"),
    ("POST", "/sessions/example-session/events"),
    ("GET", "/memory?prefix=app:abathur"),
    ("POST", "/memory/app:abathur:notes/readiness"),
    ("PUT", "/memory/app:abathur:notes/readiness"),
    ("GET", "/memory/app:abathur:workflows/task_execution"),
    ("GET", "/search?q=memory"),
)


class BadRequest(Exception):
    """The request itself is malformed (400) or fails validation (422)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def create_app(
    service: ReferenceService,
    api_keys: Iterable[ApiKey],
    *,
    anonymous_rate_per_s: float = ANONYMOUS_RATE_PER_S,
    fault_ratio: float = 0.0,
    delay_ms: float = 0.0,
    slowdown: float = 0.0,
    security_headers: dict[str, str] | None = None,
    health_limits: health.HealthLimits = health.DEFAULT_LIMITS,
) -> Starlette:
    """The ASGI app; middleware from the outside in: headers, last-resort 500, auth + limits, faults."""
    middleware = [
        Middleware(SecurityHeaders, headers=SECURITY_HEADERS if security_headers is None else security_headers),
        Middleware(ProblemGuard),
        Middleware(ApiKeyGate, keys=key_table(api_keys), anonymous_rate_per_s=anonymous_rate_per_s),
    ]
    if fault_ratio or delay_ms:
        middleware.append(Middleware(FaultInjection, fault_ratio=fault_ratio, delay_ms=delay_ms))
    if slowdown:
        middleware.insert(0, Middleware(Slowdown, factor=slowdown))
    handlers: dict[Any, Any] = {HTTPException: _http_problem, BadRequest: _bad_request}
    handlers.update({error: _domain_problem for error in DOMAIN_ERRORS})
    app = Starlette(routes=ROUTES, middleware=middleware, exception_handlers=handlers)
    app.state.service = service
    app.state.health_limits = health_limits
    return app


def _service(request: Request) -> ReferenceService:
    return request.app.state.service


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise BadRequest(400, f"request body is not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise BadRequest(422, "request body must be a JSON object")
    return body


def _text(body: dict[str, Any], field: str, required: bool = True) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(422, f"field {field!r} must be a non-empty string")
    return value


async def create_session(request: Request) -> Response:
    body = await _body(request)
    session_id = _text(body, "id", required=False) or uuid.uuid4().hex
    row = await _service(request).create_session(
        session_id, _text(body, "app_name"), _text(body, "user_id"), _text(body, "project_id", required=False)
    )
    return JSONResponse(row, status_code=201, headers={"location": f"/sessions/{session_id}"})


async def get_session(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    row = await _service(request).get_session(session_id)
    if row is None:
        raise UnknownSessionError(f"session {session_id!r} does not exist")
    return JSONResponse(row)


async def append_event(request: Request) -> Response:
    body = await _body(request)
    if "event" not in body:
        raise BadRequest(422, "field 'event' is required")
    row = await _service(request).append_event(request.path_params["session_id"], body["event"])
    return JSONResponse(row)


async def list_memories(request: Request) -> Response:
    prefix = request.query_params.get("prefix", "")
    memory_type = request.query_params.get("type")
    rows = await _service(request).search_memories(prefix, memory_type, _limit(request, default=100, top=1000))
    return JSONResponse({"items": rows, "count": len(rows)})


async def create_memory(request: Request) -> Response:
    body = await _body(request)
    if "value" not in body:
        raise BadRequest(422, "field 'value' is required")
    memory_type = body.get("memory_type", "semantic")
    if memory_type not in MEMORY_TYPES:
        raise InvalidMemoryTypeError(f"memory_type must be one of {', '.join(MEMORY_TYPES)}")
    namespace, key = request.path_params["namespace"], request.path_params["key"]
    row = await _service(request).create_memory(namespace, key, body["value"], memory_type, _caller(request))
    return JSONResponse(row, status_code=201, headers={"location": f"/memory/{namespace}/{key}"})


async def update_memory(request: Request) -> Response:
    body = await _body(request)
    if "value" not in body:
        raise BadRequest(422, "field 'value' is required")
    namespace, key = request.path_params["namespace"], request.path_params["key"]
    row = await _service(request).update_memory(namespace, key, body["value"], _caller(request))
    return JSONResponse(row)


async def get_memory(request: Request) -> Response:
    namespace, key = request.path_params["namespace"], request.path_params["key"]
    row = await _service(request).get_memory(namespace, key)
    if row is None:
        raise UnknownMemoryError(f"no memory {namespace}/{key}")
    return JSONResponse(row)


async def search(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    if not query:
        raise BadRequest(422, "query parameter 'q' is required")
    mode = request.query_params.get("mode", "hybrid")
    if mode not in ("hybrid", "semantic"):
        raise BadRequest(422, "mode must be 'hybrid' or 'semantic'")
    service = _service(request)
    run = service.hybrid_search if mode == "hybrid" else service.semantic_search
    hits = await run(query, _limit(request, default=10, top=MAX_SEARCH_LIMIT))
    return JSONResponse({"query": query, "mode": mode, "hits": [vars(hit) for hit in hits]})


async def health_report(request: Request) -> Response:
    report = await health.check(_service(request), request.app.state.health_limits)
    return JSONResponse(report, status_code=503 if report["status"] == "unhealthy" else 200)


def _caller(request: Request) -> str | None:
    """The API key's name, recorded as the author of memory writes."""
    return getattr(request.state, "api_key", None)


def _limit(request: Request, default: int, top: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        raise BadRequest(422, f"limit must be a whole number from 1 to {top}")
    return int(raw)


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail and exc.detail != HTTPStatus(exc.status_code).phrase else None
    return problem(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return problem(exc.status, exc.detail, slug="invalid-request", instance=request.url.path)


async def _domain_problem(request: Request, exc: Exception) -> Response:
    status, slug = next(v for error, v in DOMAIN_ERRORS.items() if isinstance(exc, error))
    return problem(status, str(exc), slug=slug, instance=request.url.path)


ROUTES = [
    Route("/health", health_report, methods=["GET"]),
    Route("/sessions", create_session, methods=["POST"]),
    Route("/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/sessions/{session_id}/events", append_event, methods=["POST"]),
    Route("/memory", list_memories, methods=["GET"]),
    Route("/memory/{namespace}/{key}", create_memory, methods=["POST"]),
    Route("/memory/{namespace}/{key}", update_memory, methods=["PUT"]),
    Route("/memory/{namespace}/{key}", get_memory, methods=["GET"]),
    Route("/search", search, methods=["GET"]),
]
