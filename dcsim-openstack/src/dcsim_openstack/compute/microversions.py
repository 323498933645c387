"""Microversions as Nova and Cinder negotiate them.

A client asks for one with ``OpenStack-API-Version: compute 2.53`` (``volume 3.40`` for
Cinder), or Nova's older ``X-OpenStack-Nova-API-Version: 2.53``; ``latest`` means the
service's maximum, no header its minimum (2.1, 3.0). A malformed version is a 400, one
outside the range the version document advertises a 406, as both services answer.
Every answer says which version it used (:func:`answer`), so a client knows what it got.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
from litestar import Request, Response

from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.service import Service

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@attrs.frozen(order=True)
class Microversion:
    """A negotiated microversion of one service (``major.minor``), comparable with ``>=``."""

    major: int
    minor: int
    #: The header's service name: ``compute`` or ``volume``.
    service: str = attrs.field(eq=False, order=False, default="compute")

    def at_least(self, version: str) -> bool:
        """Whether this version is ``version`` (``"2.47"``) or later."""
        major, minor = parse(version)
        return (self.major, self.minor) >= (major, minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def headers(self) -> dict[str, str]:
        """The headers an answer at this version carries."""
        headers = {"OpenStack-API-Version": f"{self.service} {self}", "Vary": "OpenStack-API-Version"}
        if self.service == "compute":
            headers["X-OpenStack-Nova-API-Version"] = str(self)
            headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
        return headers


def parse(text: str) -> tuple[int, int]:
    """``"2.53"`` as ``(2, 53)``; a 400 for anything else."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise OpenStackError(
            400, f"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
        )
    return int(match.group(1)), int(match.group(2))


def _asked(request: Request[Any, Any, Any], header_service: str) -> str | None:
    """The version the client asked for in ``OpenStack-API-Version`` (or Nova's older header)."""
    for value in request.headers.getall("openstack-api-version", []):
        for part in value.split(","):
            name, _, version = part.strip().partition(" ")
            if name.lower() == header_service:
                return version.strip()
    if header_service == "compute":
        legacy = request.headers.get("x-openstack-nova-api-version")
        if legacy is not None:
            return legacy.strip()
    return None


def negotiate(request: Request[Any, Any, Any], service: Service, header_service: str) -> Microversion:
    """The microversion ``request`` runs at on ``service`` (``header_service``: ``compute`` or
    ``volume``); a 400 for a malformed version, a 406 for one out of range."""
    low, high = parse(service.min_version), parse(service.max_version)
    asked = _asked(request, header_service)
    if asked is None:
        return Microversion(*low, service=header_service)
    if asked.lower() == "latest":
        return Microversion(*high, service=header_service)
    version = parse(asked)
    if not low <= version <= high:
        raise OpenStackError(
            406,
            f"Version {asked} is not supported by the API. Minimum is {service.min_version} "
            f"and maximum is {service.max_version}.",
        )
    return Microversion(*version, service=header_service)


def answer(body: Any, version: Microversion, status: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    """A JSON answer (``None``: no body) carrying the microversion headers."""
    content = b"" if body is None else body
    return Response(content, status_code=status, headers=version.headers() | (headers or {}))


__all__ = ["Microversion", "answer", "negotiate", "parse"]
