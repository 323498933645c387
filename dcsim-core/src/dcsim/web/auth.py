"""Bearer-token authentication and role checks for dc-sim's own APIs.

The rule, applied to every route unless the route's ``opt`` says otherwise:
reads (GET, HEAD, OPTIONS and WebSockets) need a viewer token, changes need an
operator token, DELETE needs an admin token. ``opt={"role": "admin"}`` raises the bar
(configuration endpoints), ``opt={"public": True}`` opens a route (health, metrics,
the OpenAPI document). WebSocket clients that cannot set headers pass the token as
the ``token`` query parameter.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler

from dcsim.errors import Forbidden, Unauthorized
from dcsim.model import Role, Token

if TYPE_CHECKING:
    from dcsim.app import DcSim

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def required_role(method: str | None, opt: dict[str, Any]) -> Role | None:
    """The role a request needs, or None for a public route."""
    if opt.get("public"):
        return None
    if "role" in opt:
        return Role(opt["role"])
    if method is None or method in _READ_METHODS:
        return Role.VIEWER
    if method == "DELETE":
        return Role.ADMIN
    return Role.OPERATOR


def _secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if connection.scope["type"] == ScopeType.WEBSOCKET:
        return connection.query_params.get("token")
    return None


def make_guard(dcsim: DcSim, public_prefixes: tuple[str, ...]) -> Any:
    """A Litestar guard enforcing the role rule above against ``dcsim``'s token store."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if connection.scope["path"].startswith(public_prefixes):
            return
        method = connection.scope["method"] if connection.scope["type"] == ScopeType.HTTP else None
        needed = required_role(method, handler.opt)
        if needed is None:
            return
        secret = _secret(connection)
        if not secret:
            raise Unauthorized("this endpoint needs a bearer token (Authorization: Bearer <token>)")
        token: Token | None = await asyncio.to_thread(dcsim.store.verify_token, secret)
        if token is None:
            raise Unauthorized("the bearer token is unknown or revoked")
        if not token.role.allows(needed):
            raise Forbidden(
                f"this action needs the {needed.value} role; the token has {token.role.value}",
                required_role=needed.value,
                token_role=token.role.value,
            )
        connection.scope.setdefault("state", {})["token"] = token

    return guard
