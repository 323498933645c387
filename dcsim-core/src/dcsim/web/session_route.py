"""``GET /auth/me``: who the caller's token is and what its role lets it do.

Clients (the web UI first) read it once after sign-in to hide what the token may not do,
instead of learning it from a 403 per button. The scopes name the role rule of
:mod:`dcsim.web.auth`, so a client never has to copy that rule.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, get

from dcsim.model import Role, Token
from dcsim.web.contracts import responses

Scope = Literal["read", "change", "delete", "configure"]

#: What each role may do, in the words of the role rule (dcsim.web.auth): reads,
#: changes (POST, PUT, PATCH), DELETE, and configuration routes (``opt={"role": "admin"}``).
SCOPES: dict[Role, list[Scope]] = {
    Role.VIEWER: ["read"],
    Role.OPERATOR: ["read", "change"],
    Role.ADMIN: ["read", "change", "delete", "configure"],
}


class Session(msgspec.Struct, kw_only=True):
    """``GET /auth/me``: the token making the request."""

    id: str
    name: str
    role: Role
    scopes: list[Scope]


@get(
    "/auth/me",
    tags=["auth"],
    summary="The calling token: its name, role and what the role allows",
    responses=responses(),
)
async def who_am_i(request: Request[Any, Any, Any]) -> Session:
    """The token of this request; any valid token may ask (a viewer's too)."""
    token: Token = request.scope["state"]["token"]
    return Session(id=token.id, name=token.name, role=token.role, scopes=list(SCOPES[token.role]))
