"""Bearer-token authentication and role checks for dc-sim's own APIs.

The rule, applied to every route unless the route's ``opt`` says otherwise:
reads (GET, HEAD, OPTIONS and WebSockets) need a viewer token, changes need an
operator token, DELETE needs an admin token. ``opt={"role": "admin"}`` raises the bar
(configuration endpoints), ``opt={"public": True}`` opens a route (health, metrics,
the OpenAPI document). WebSocket clients that cannot set headers pass the token as
the ``token`` query parameter.

A bearer token is one of dc-sim's own (verified from memory, :mod:`dcsim.auth.tokens`) or, when ``jwt_issuer`` is set, a JWT from that
identity provider (:mod:`dcsim.auth.jwt`). Every HTTP request is counted against its
token's rate limit, or its client address's on open routes and when it does not
authenticate (:mod:`dcsim.web.ratelimit`); over the limit it is answered 429.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler

from dcsim.auth.jwt import JwtVerifier, looks_like_jwt
from dcsim.auth.tokens import TokenCache
from dcsim.errors import Forbidden, Unauthorized
from dcsim.model import Role, Token
from dcsim.web.ratelimit import rate_limiter

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


def make_guard(dcsim: DcSim, public_prefixes: tuple[str, ...], tokens: TokenCache | None = None) -> Any:
    """A Litestar guard enforcing the role rule above against ``dcsim``'s tokens (through
    ``tokens``, a cache of its store), the configured JWT issuer and the rate limits;
    ConfigError when their settings are wrong."""
    cache = tokens if tokens is not None else TokenCache(dcsim.store)
    jwts = JwtVerifier.from_settings(dcsim.settings)
    limiter = rate_limiter(dcsim.settings)

    async def authenticate(secret: str | None) -> Token:
        if not secret:
            raise Unauthorized("this endpoint needs a bearer token (Authorization: Bearer <token>)")
        if jwts is not None and looks_like_jwt(secret):
            return jwts.verify(secret)
        token = await cache.verify(secret)
        if token is None:
            raise Unauthorized("the bearer token is unknown or revoked")
        return token

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        http = connection.scope["type"] == ScopeType.HTTP
        address = f"address:{connection.client.host if connection.client else 'unknown'}"
        method = connection.scope["method"] if connection.scope["type"] == ScopeType.HTTP else None
        needed = None if connection.scope["path"].startswith(public_prefixes) else required_role(method, handler.opt)
        if needed is None:
            if http:
                await limiter.check(address, None)
            return
        try:
            token = await authenticate(_secret(connection))
        except Unauthorized:
            # Failed sign-ins spend the address's budget: guessing secrets is limited too.
            if http:
                await limiter.check(address, None)
            raise
        if http:
            await limiter.check(f"token:{token.id}", token.role)
        if not token.role.allows(needed):
            raise Forbidden(
                f"this action needs the {needed.value} role; the token has {token.role.value}",
                required_role=needed.value,
                token_role=token.role.value,
            )
        connection.scope.setdefault("state", {})["token"] = token

    return guard
