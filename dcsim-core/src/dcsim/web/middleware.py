"""ASGI middleware: request ids, access logs and HTTP metrics; the Host allow-list;
HEAD answered as GET; WebSocket upgrades checked for their Origin and their token moved
out of the query string.

Secrets never reach a log line: the access log has the path without its query string,
a WebSocket's ``?token=`` becomes an ``Authorization`` header before anything (uvicorn's
own "WebSocket /ws" lines included) sees the query string, and :class:`RedactQueryStrings`
masks secret-named query parameters in every record of uvicorn's loggers.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Scope,
    Send,
)
from prometheus_client import CollectorRegistry, Counter, Histogram

from dcsim.logs import info_line
from dcsim.redact import redact_text
from dcsim.web.hosts import host_allowed, origin_allowed
from dcsim.web.problems import PROBLEM_JSON

log = structlog.get_logger("dcsim.http")
_access = logging.getLogger("dcsim.http")

REQUEST_ID_HEADER = b"x-request-id"
# Request ids made here: 32 hex digits like a uuid4's, a random prefix per process and a
# counter (a uuid4 per request was a twentieth of a /healthz answer).
_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)


class HttpMetrics:
    """Request counts and latencies, labelled by route template, in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "dcsim_http_requests",
            "HTTP requests answered, by method, route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "dcsim_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route",
            ["method", "route"],
            registry=registry,
        )


class RequestContext:
    """Give each HTTP request an id (``X-Request-ID``, taken or made), log it and count it."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # Children of the two metrics by label values: ``labels()`` checks and locks on
        # each call; routes are templates, so these stay few.
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        given = next((value for name, value in scope["headers"] if name == REQUEST_ID_HEADER), b"")
        request_id = given.decode("latin-1")[:128] or f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"
        # As asked: HeadAsGet, further in, routes a HEAD as a GET.
        method = scope["method"]
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            try:
                self._done(scope, method, status, time.perf_counter() - started)
            finally:
                structlog.contextvars.reset_contextvars(**bound)

    def _done(self, scope: HTTPScope, method: str, status: int, elapsed: float) -> None:
        """Count, time and log one answered request."""
        # The router writes the matched template into the scope; labels stay bounded.
        route = scope.get("path_template") or "unmatched"
        self._count(method, route, status).inc()
        self._latency(method, route).observe(elapsed)
        # structlog runs its processors before the standard library filters by
        # level: ask first, so a quieter level costs a request nothing.
        if _access.isEnabledFor(logging.INFO):
            info_line(
                _access,
                "http.request",
                {
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )

    def _count(self, method: str, route: str, status: int) -> Any:
        child = self._counts.get((method, route, status))
        if child is None:
            child = self._counts[method, route, status] = self.metrics.requests.labels(method, route, str(status))
        return child

    def _latency(self, method: str, route: str) -> Any:
        child = self._latencies.get((method, route))
        if child is None:
            child = self._latencies[method, route] = self.metrics.latency.labels(method, route)
        return child


class HeadAsGet:
    """Answer HEAD on every GET route: route it as the GET and send the headers only.

    Litestar answers 405 to HEAD on a route that only declares GET; HTTP says every GET
    resource answers HEAD with the same headers (Content-Length included).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server reads the method of its own scope to send no body for HEAD.
        as_get: Any = {**scope, "method": "GET"}

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(as_get, receive, headers_only)
        finally:
            if "path_template" in as_get:
                scope["path_template"] = as_get["path_template"]


class HostAndOriginCheck:
    """Refuse a Host header outside ``allowed_hosts`` (400 problem, before any route) and
    a WebSocket upgrade from a foreign Origin (closed before accept: the client sees 403);
    move a WebSocket's ``?token=`` into its ``Authorization`` header."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...], allowed_origins: tuple[str, ...]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Litestar answers lifespan itself: only HTTP and WebSocket scopes come here.
        raw_host = next((value for name, value in scope["headers"] if name == b"host"), None)
        host = None if raw_host is None else raw_host.decode("latin-1")
        if scope["type"] == ScopeType.WEBSOCKET:
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            _token_to_header(scope)
            if not host_allowed(host, self.allowed_hosts) or not origin_allowed(
                headers.get("origin"), host, self.allowed_origins
            ):
                log.warning("ws.refused", path=scope["path"], host=host, origin=headers.get("origin"))
                await send({"type": "websocket.close", "code": 1008, "reason": "origin or host not allowed"})
                return
        elif not host_allowed(host, self.allowed_hosts):
            await _refuse_host(scope, send)
            return
        await self.app(scope, receive, send)


def _token_to_header(scope: Any) -> None:
    """Take ``token`` out of a WebSocket's query string; it becomes the bearer token unless
    an Authorization header is given."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    tokens = [value for name, value in pairs if name == "token"]
    if not tokens:
        return
    scope["query_string"] = urlencode([(name, value) for name, value in pairs if name != "token"]).encode("latin-1")
    if not any(name == b"authorization" for name, _ in scope["headers"]):
        scope["headers"] = [*scope["headers"], (b"authorization", f"Bearer {tokens[0]}".encode("latin-1"))]


async def _refuse_host(scope: Any, send: Send) -> None:
    problem = {
        "type": "urn:dcsim:error:invalid_host",
        "title": "Bad Request",
        "status": 400,
        "detail": "this server does not answer to that Host header; allowed_hosts lists the names it serves",
        "code": "invalid_host",
        "instance": scope["path"],
    }
    body = json.dumps(problem).encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 400,
        "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
    }
    end: HTTPResponseBodyEvent = {
        "type": "http.response.body",
        "body": b"" if scope["method"] == "HEAD" else body,
        "more_body": False,
    }
    await send(start)
    await send(end)


class RedactQueryStrings(logging.Filter):
    """Mask secret-named query parameters (``?token=``, ``?password=``) in a log record's
    message and arguments; installed on uvicorn's loggers, which log request lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def redact_uvicorn_logs() -> None:
    """Install :class:`RedactQueryStrings` on uvicorn's loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
            logger.addFilter(RedactQueryStrings())
