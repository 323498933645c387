"""ASGI middleware: request ids, access logs and HTTP metrics."""

from __future__ import annotations

import time
import uuid

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram

log = structlog.get_logger("dcsim.http")

REQUEST_ID_HEADER = b"x-request-id"


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self._observe(scope, receive, send)

    async def _observe(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")[:128]
        request_id = given or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                # The router writes the matched template into the scope; labels stay bounded.
                route = scope.get("path_template") or "unmatched"
                method = scope["method"]
                self.metrics.requests.labels(method, route, str(status)).inc()
                self.metrics.latency.labels(method, route).observe(elapsed)
                log.info(
                    "http.request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
