"""``Idempotency-Key`` on creates: a retried POST gets the first response, not a duplicate.

A create handler opts in with route middleware::

    from dcsim.web.idempotency import idempotent

    @post("/", status_code=201, middleware=[idempotent], operation_class=IdempotentOperation)
    async def create_thing(...): ...

(``IdempotentOperation`` declares the optional header in the OpenAPI document.)

A request with an ``Idempotency-Key`` header (1 to 255 printable ASCII characters) is
keyed by (the bearer credential, the method and path, the key):

* the first one runs; a 2xx response (status, headers and body) is stored, any
  other outcome forgets the key so that a retry runs again;
* a later one with the same method, path, query and body gets the stored response again,
  with ``Idempotent-Replayed: true``;
* a later one with anything different is refused: 422 ``idempotency_key_reused``;
* one that arrives while the first is still running gets 409 ``conflict``.

Keys expire after ``idempotency_retention_seconds`` (the outbox relay prunes them). A
request without the header, or without a bearer credential (the guard refuses it
anyway), is not affected. The response is stored after the create committed, in a
transaction of its own: a crash between the two lets one retry create again.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar.datastructures import Headers
from litestar.enums import ParamType, ScopeType
from litestar.openapi.spec import OpenAPIType, Operation, Parameter, Schema
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from dcsim.errors import Conflict, DcsimError, InvalidInput
from dcsim.model import utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: Printable ASCII, as the middleware checks it (``str.isascii() and str.isprintable()``).
KEY_PATTERN = "^[ -~]+$"


# A dataclass again, so that its generated __init__ runs __post_init__ (Operation has none).
@dataclass
class IdempotentOperation(Operation):
    """The OpenAPI operation of a create that takes ``Idempotency-Key``: declares the
    optional header, with its bounds, next to the operation's own parameters."""

    def __post_init__(self) -> None:
        header = Parameter(
            name=HEADER,
            param_in=ParamType.HEADER,
            required=False,
            description=(
                f"Makes a retried create safe: 1 to {MAX_KEY_LENGTH} printable ASCII characters. The same key"
                " with the same request answers the first response again (Idempotent-Replayed: true); with a"
                " different request 422 idempotency_key_reused; while the first still runs 409."
            ),
            schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN),
        )
        self.parameters = [*(self.parameters or []), header]


class IdempotencyKeyReused(DcsimError):
    """An ``Idempotency-Key`` came back with a different request than the first time."""

    code = "idempotency_key_reused"
    status = 422
    title = "Idempotency key reused"


class _Idempotent:
    """The ASGI middleware behind :data:`idempotent` (route-level, so it wraps one handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        key = headers.get(HEADER)
        credential = headers.get("authorization", "")
        if key is None or not credential:
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            raise InvalidInput(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                errors=[{"field": HEADER, "message": f"1 to {MAX_KEY_LENGTH} printable ASCII characters"}],
            )
        body = await _read_body(receive)
        dcsim: DcSim = scope["litestar_app"].state["dcsim"]
        store = dcsim.store
        route = f"{scope['method']} {scope['path']}"
        scoped = _digest(credential, route, key)
        fingerprint = _digest(route, scope.get("query_string", b"").decode("latin-1"), body.decode("latin-1"))
        expired_before = utcnow() - timedelta(seconds=dcsim.settings.idempotency_retention_seconds)
        stored = await asyncio.to_thread(store.idempotency_reserve, scoped, fingerprint, expired_before)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"{HEADER} {key!r} was used with a different request; use a new key for a new request"
                )
            if stored.status is None:
                raise Conflict(f"the first request with {HEADER} {key!r} is still being answered; retry later")
            await _replay(send, stored.status, stored.headers, stored.body or b"")
            return
        await self._first(scope, body, send, store, scoped)

    async def _first(self, scope: Scope, body: bytes, send: Send, store: Any, scoped: str) -> None:
        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive_body() -> Any:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend(
                    (name.decode("latin-1").lower(), value.decode("latin-1"))
                    for name, value in message.get("headers", [])
                    if name.lower() != b"content-length"
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_body, capture)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(store.idempotency_release, scoped))
            raise
        if 200 <= status < 300:
            await asyncio.to_thread(store.idempotency_record, scoped, status, headers, b"".join(chunks))
        else:
            await asyncio.to_thread(store.idempotency_release, scoped)


#: Route middleware that gives a create ``Idempotency-Key`` semantics (see the module).
idempotent = _Idempotent


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _replay(send: Send, status: int, stored: list[tuple[str, str]], body: bytes) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in stored]
    headers += [(b"content-length", str(len(body)).encode()), (REPLAYED_HEADER.lower().encode(), b"true")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _digest(*parts: str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogateescape"))
        hasher.update(b"\0")
    return hasher.hexdigest()
