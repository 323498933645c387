"""OpenStack's error bodies: one exception, each service's own JSON shape for it.

Every route of every service raises :class:`OpenStackError` (or lets Litestar or core
raise theirs); :func:`error_format` turns whatever was raised under a service's path
prefix into that service's body (``service.mount`` registers it with core's
``RouteRegistry.add_error_format``), so clients never see dc-sim's problem documents:

- Keystone: ``{"error": {"code": 404, "title": "Not Found", "message": "..."}}``
- Nova and Cinder: ``{"itemNotFound": {"code": 404, "message": "..."}}`` (the fault
  name by status, as their WSGI fault wrappers name them)
- Neutron: ``{"NeutronError": {"type": "HTTPNotFound", "message": "...", "detail": ""}}``
- Glance: webob's JSON error ``{"code": "404 Not Found", "title": "Not Found", "message": "..."}``
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException

from dcsim.errors import DcsimError

log = structlog.get_logger(__name__)


class OpenStackError(Exception):
    """An error an OpenStack API answers: its HTTP status and message.

    ``title`` names the error where a service's body has a name for it: Keystone's
    ``title``, Neutron's ``type`` (``NetworkNotFound``), Nova's and Cinder's fault name
    (``itemNotFound``); without it, the status decides.
    """

    def __init__(self, status: int, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def keystone_body(error: OpenStackError) -> dict[str, Any]:
    """Keystone's ``{"error": {"code", "title", "message"}}``."""
    return {"error": {"code": error.status, "title": error.title or _phrase(error.status), "message": error.message}}


#: Fault names of Nova's and Cinder's WSGI fault wrappers by status.
_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def nova_body(error: OpenStackError) -> dict[str, Any]:
    """Nova's ``{"<faultName>": {"code", "message"}}``."""
    name = error.title or _FAULT_NAMES.get(error.status, "computeFault")
    return {name: {"code": error.status, "message": error.message}}


def cinder_body(error: OpenStackError) -> dict[str, Any]:
    """Cinder's, the same shape as Nova's (a 500 is a ``computeFault`` there too)."""
    return nova_body(error)


def neutron_body(error: OpenStackError) -> dict[str, Any]:
    """Neutron's ``{"NeutronError": {"type", "message", "detail"}}``."""
    kind = error.title or "HTTP" + _phrase(error.status).replace(" ", "").replace("-", "")
    return {"NeutronError": {"type": kind, "message": error.message, "detail": ""}}


def glance_body(error: OpenStackError) -> dict[str, Any]:
    """Glance's (webob's JSON error) ``{"code": "404 Not Found", "title", "message"}``."""
    phrase = _phrase(error.status)
    return {"code": f"{error.status} {phrase}", "title": error.title or phrase, "message": error.message}


def as_openstack_error(exc: Exception) -> OpenStackError:
    """Whatever was raised as an :class:`OpenStackError`: Litestar's own (no such route,
    method not allowed, bad body), core's domain errors, and anything else as a 500."""
    if isinstance(exc, OpenStackError):
        return exc
    if isinstance(exc, HTTPException):
        status = exc.status_code
        # A validation failure of path or query parameters is a 400 in every OpenStack API.
        return OpenStackError(status, str(exc.detail) if exc.detail else _phrase(status))
    if isinstance(exc, DcsimError):
        return OpenStackError(exc.status, str(exc))
    return OpenStackError(500, "An unexpected error prevented the server from fulfilling your request.")


def error_format(body: Callable[[OpenStackError], dict[str, Any]]) -> Callable[[Any, Exception], Response[Any]]:
    """A handler answering any exception in the body shape ``body`` (one per service),
    for core's ``RouteRegistry.add_error_format``."""

    def handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        error = as_openstack_error(exc)
        if error.status >= 500:
            log.error("openstack.error", path=request.url.path, status=error.status, exc_info=exc)
        headers: dict[str, str] = {}
        if isinstance(exc, HTTPException) and exc.headers:
            headers.update(exc.headers)
        if error.status == 401:
            # keystoneauth reads where to authenticate from here.
            headers["WWW-Authenticate"] = f'Keystone uri="{str(request.base_url).rstrip("/")}/identity"'
        return Response(body(error), status_code=error.status, headers=headers or None)

    return handler


__all__ = [
    "OpenStackError",
    "as_openstack_error",
    "cinder_body",
    "error_format",
    "glance_body",
    "keystone_body",
    "neutron_body",
    "nova_body",
]
