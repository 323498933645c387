"""ASGI middleware: request ids, access logs and HTTP metrics."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram

log = structlog.get_logger("dcsim.http")

REQUEST_ID_HEADER = "x-request-id"


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


def request_context(metrics: HttpMetrics) -> Any:
    """Middleware factory: give each request an id, log it and count it."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            headers = dict(scope["headers"])
            request_id = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")[:128] or uuid.uuid4().hex
            scope.setdefault("state", {})["request_id"] = request_id
            status = 500
            started = time.perf_counter()

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                await send(message)

            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await app(scope, receive, send_with_id)
                finally:
                    elapsed = time.perf_counter() - started
                    route = scope.get("path_template") or "unmatched"
                    method = scope["method"]
                    metrics.requests.labels(method, route, str(status)).inc()
                    metrics.latency.labels(method, route).observe(elapsed)
                    log.info(
                        "http.request",
                        method=method,
                        path=scope["path"],
                        route=route,
                        status=status,
                        duration_ms=round(elapsed * 1000, 2),
                    )

        return wrapped

    return middleware
