"""Errors as RFC 9457 problem documents (``application/problem+json``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from dcsim.errors import DcsimError

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger(__name__)


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    """A response carrying ``problem`` with its status and the problem media type."""
    return Response(content=problem, status_code=problem["status"], media_type=PROBLEM_JSON, headers=headers)


def _with_request(problem: dict[str, Any], request: Request[Any, Any, Any]) -> dict[str, Any]:
    problem.setdefault("instance", request.url.path)
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        problem["request_id"] = request_id
    return problem


def dcsim_error_handler(request: Request[Any, Any, Any], exc: DcsimError) -> Response[Any]:
    """Map a domain error to its problem document."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem_response(_with_request(exc.to_problem(), request), headers)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Map Litestar's own errors (404 route, 405, 413, validation) to problem documents."""
    status = exc.status_code
    code = {
        400: "invalid_input",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        429: "rate_limited",
    }.get(status, f"http_{status}")
    problem: dict[str, Any] = {
        "type": f"urn:dcsim:error:{code}",
        "title": _title(status),
        "status": status,
        "detail": exc.detail,
        "code": code,
    }
    if isinstance(exc, ValidationException) and exc.extra:
        problem["errors"] = _field_errors(exc.extra)
    return problem_response(_with_request(problem, request), dict(exc.headers or {}) or None)


def _field_errors(extra: Any) -> list[dict[str, str]]:
    """Litestar's ``[{key, message, source}]`` as the convention's ``[{field, message}]``."""
    items = extra if isinstance(extra, list) else [extra]
    return [
        {"field": str(item.get("key", "")), "message": str(item.get("message", item))}
        if isinstance(item, dict)
        else {"field": "", "message": str(item)}
        for item in items
    ]


def unexpected_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log an unexpected exception and answer a 500 problem without internals."""
    log.exception("http.unhandled_error", path=request.url.path)
    problem = {
        "type": "urn:dcsim:error:internal",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; the server log has the details",
        "code": "internal",
    }
    return problem_response(_with_request(problem, request))


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DcsimError: dcsim_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}


def exception_handlers(formats: Mapping[str, Callable[[Any, Exception], Any]]) -> dict[Any, Any]:
    """The app's exception handlers: problem documents, except under a prefix that a
    plugin gave an error format of its own (``RouteRegistry.add_error_format``)."""
    if not formats:
        return EXCEPTION_HANDLERS
    # Longest prefix first, so a nested API's format wins over its parent's.
    prefixes = sorted(formats, key=len, reverse=True)

    def dispatch(default: Callable[[Any, Any], Response[Any]]) -> Callable[[Any, Any], Any]:
        def handler(request: Request[Any, Any, Any], exc: Exception) -> Any:
            path = request.url.path
            for prefix in prefixes:
                if path == prefix or path.startswith(prefix + "/"):
                    return formats[prefix](request, exc)
            return default(request, exc)

        return handler

    return {exc_type: dispatch(default) for exc_type, default in EXCEPTION_HANDLERS.items()}


__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "exception_handlers", "problem_response"]
