"""Which Host and Origin headers the server answers: DNS-rebinding and cross-site
WebSocket protection.

A browser tricked into sending requests to a local dc-sim under another name (DNS
rebinding) carries that name in ``Host``; a page of another site opening ``/ws``
carries its own ``Origin``. Both are refused unless configured.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from dcsim.settings import Settings

#: The names a loopback-bound server answers to by default (any port).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether binding address ``host`` only listens on loopback."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The Host names served: ``allowed_hosts``, else the loopback names when bound to
    loopback, else any (``*``)."""
    if settings.allowed_hosts:
        return tuple(name.lower() for name in settings.allowed_hosts)
    return LOOPBACK_HOSTS if is_loopback(settings.host) else ("*",)


def host_name(header: str) -> str:
    """The name in a Host header, without its port, lower case (``[::1]`` keeps brackets)."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    name, _, port = value.rpartition(":")
    return name if name and port.isdigit() else value.rstrip(":")


def host_allowed(header: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a request with Host ``header`` may be answered (no header: HTTP/1.0, allowed
    only when any host is)."""
    if "*" in allowed:
        return True
    if not header:
        return False
    name = host_name(header).rstrip(".")
    for pattern in allowed:
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
        if name == pattern:
            return True
    return False


def origin_allowed(origin: str | None, host: str | None, extra: tuple[str, ...]) -> bool:
    """Whether a WebSocket upgrade from ``origin`` may proceed: no Origin (not a browser),
    the server's own (same host and port as the Host header), or one of ``extra``
    (``cors_origins``, ``*`` for any)."""
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    if "*" in extra or origin in {o.lower().rstrip("/") for o in extra}:
        return True
    if not host or origin == "null":
        return False
    try:
        return urlsplit(origin).netloc == host.strip().lower()
    except ValueError:
        return False
