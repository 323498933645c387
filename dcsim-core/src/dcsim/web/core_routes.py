"""Core's routes. The framework serves health, readiness, plugins and event types
itself (:func:`dcsim.web.app.create_app`); the ``api`` plugin adds events, tokens,
metrics and ``/ws`` (:mod:`dcsim.builtin.api`)."""

from __future__ import annotations

import asyncio
import fnmatch
from datetime import datetime
from typing import Annotated, Any, Literal

import attrs
import msgspec
from litestar import Controller, Request, Response, delete, get, post, websocket
from litestar.connection import WebSocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED
from prometheus_client import CONTENT_TYPE_LATEST

from dcsim.app import DcSim
from dcsim.auth.tokens import TOKEN_REVOKED
from dcsim.convert import to_json
from dcsim.drivers import list_drivers
from dcsim.exposition import render as render_exposition
from dcsim.model import Check, DriverInfo, Event, PluginInfo, Role, Token
from dcsim.plugins import PluginHost
from dcsim.registry import EventType
from dcsim.settings import Settings
from dcsim.web.contracts import MAX_PAGE, Label, LimitQuery, Model, Name, OffsetQuery, Page, page, responses


class Liveness(msgspec.Struct):
    """``GET /healthz``: the process answers."""

    status: Literal["ok"]


class Readiness(msgspec.Struct):
    """``GET /readyz``: every check, and ``ready`` only if all are ok."""

    status: Literal["ready", "not_ready"]
    checks: list[Check]


class PluginsReport(msgspec.Struct):
    """``GET /plugins``: every plugin with its status, and every driver."""

    plugins: list[PluginInfo]
    drivers: list[DriverInfo]


class HealthController(Controller):
    """Liveness and readiness probes (open, for load balancers and orchestrators)."""

    tags = ["health"]
    opt = {"public": True}

    @get("/healthz", summary="Liveness: the process answers", responses=responses(guarded=False))
    async def healthz(self) -> Liveness:
        return Liveness(status="ok")

    @get(
        "/readyz",
        summary="Readiness: store, bus and every plugin's dependencies",
        responses={
            **responses(guarded=False),
            503: ResponseSpec(Readiness, description="Not ready: the failing checks say why"),
        },
    )
    async def readyz(self, dcsim: NamedDependency[DcSim]) -> Response[Readiness]:
        checks = await dcsim.readiness()
        ready = all(check.ok for check in checks)
        body = Readiness(status="ready" if ready else "not_ready", checks=list(checks))
        return Response(body, status_code=200 if ready else 503)


class PluginsController(Controller):
    """What is installed: plugins with their hooks and errors, drivers, event types."""

    tags = ["plugins"]

    @get("/plugins", summary="Plugins and drivers, with versions and load errors", responses=responses())
    async def plugins(self, dcsim: NamedDependency[DcSim]) -> PluginsReport:
        return PluginsReport(plugins=list(dcsim.plugins.infos), drivers=list_drivers(dcsim.settings))

    @get("/events/types", summary="Every declared event type with its schema (a catalogue)", responses=responses())
    async def event_types(self, dcsim: NamedDependency[DcSim]) -> list[EventType]:
        return list(dcsim.event_types.values())


EventTypeName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=120,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="A declared event type (GET /events/types)",
        examples=["incident.created"],
    ),
]


class PublishRequest(Model):
    """Body of ``POST /events``."""

    type: EventTypeName
    data: Annotated[
        dict[str, Any],
        msgspec.Meta(
            max_length=256,
            extra_json_schema={"description": "The event's data, at most 256 members", "extra": {"maxProperties": 256}},
        ),
    ] = msgspec.field(default_factory=dict)
    subject: Label | None = None


class EventsController(Controller):
    """Recent events, and publishing declared events by hand (tests, training, scripts)."""

    path = "/events"
    tags = ["events"]

    @get("/", summary="The newest events still retained on the bus (at most 1000), oldest first", responses=responses())
    async def recent_events(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Event]:
        return page([event for _, event in await dcsim.bus.recent(MAX_PAGE)], limit, offset)

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        summary="Publish an event of a declared type",
        responses=responses(503, body=True),
    )
    async def publish(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[PublishRequest]
    ) -> Event:
        token: Token = request.scope["state"]["token"]
        return await dcsim.publish(data.type, data.data, source=f"/api/tokens/{token.id}", subject=data.subject)


class TokenRequest(Model):
    """Body of ``POST /tokens``."""

    role: Role
    name: Name


class TokenCreated(msgspec.Struct, kw_only=True):
    """A new token: its ``secret`` is in this answer only."""

    id: str
    name: str
    role: Role
    created_at: datetime
    revoked: bool
    secret: Annotated[str, msgspec.Meta(description="The bearer secret; shown once")]


class TokensController(Controller):
    """API tokens: configuration, so every endpoint needs an admin token."""

    path = "/tokens"
    tags = ["auth"]
    opt = {"role": "admin"}

    @get("/", summary="Every token (never its secret)", responses=responses())
    async def list_tokens(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[Token]:
        return page(await asyncio.to_thread(dcsim.store.list_tokens), limit, offset)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a token; its secret is in this answer only",
        responses=responses(503, body=True),
    )
    async def create_token(self, dcsim: NamedDependency[DcSim], data: JSONBody[TokenRequest]) -> TokenCreated:
        token, secret = await asyncio.to_thread(dcsim.store.create_token, data.name, data.role)
        return TokenCreated(**attrs.asdict(token, recurse=False), secret=secret)

    @delete("/{token_id:str}", summary="Revoke a token", responses=responses(404, 503))
    async def revoke_token(
        self, dcsim: NamedDependency[DcSim], token_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> None:
        await asyncio.to_thread(dcsim.store.revoke_token, token_id)
        # Refused here at once; every other process's token cache drops it on this event
        # (dcsim.auth.tokens).
        request.app.state.tokens.forget(token_id)
        await dcsim.publish(TOKEN_REVOKED, {"id": token_id}, source="/tokens", subject=token_id)


def plugins_report(plugins: PluginHost, settings: Settings) -> dict[str, Any]:
    """The listing shared by ``GET /plugins`` and ``dcsim plugins --json``: every plugin
    with its status (``loaded``, ``failed`` with its error, ``disabled``) and every driver."""
    return {
        "plugins": to_json(plugins.infos),
        "drivers": to_json(list_drivers(settings)),
    }


@get(
    "/metrics",
    opt={"public": True},
    tags=["health"],
    summary="Prometheus metrics",
    media_type=CONTENT_TYPE_LATEST,
    responses=responses(guarded=False),
)
async def metrics(dcsim: NamedDependency[DcSim]) -> Response[bytes]:
    # Rendering a large estate's samples takes a while: keep it off the event loop.
    body = await asyncio.to_thread(render_exposition, dcsim.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@websocket("/ws")
async def events_socket(socket: WebSocket[Any, Any, Any], dcsim: NamedDependency[DcSim]) -> None:
    """Stream bus events as JSON; ``?types=vm.*,incident.created`` filters by type (globs)."""
    patterns = [p.strip() for p in (socket.query_params.get("types") or "*").split(",") if p.strip()]
    await socket.accept()

    async def forward() -> None:
        async for _, event in dcsim.bus.tail():
            if any(fnmatch.fnmatchcase(event.type, pattern) for pattern in patterns):
                await socket.send_json(to_json(event))

    forwarder = asyncio.create_task(forward())
    try:
        # Reading is how a closed client is noticed; clients have nothing to say.
        while not forwarder.done():
            receiver = asyncio.ensure_future(socket.receive_data(mode="text"))
            done, _ = await asyncio.wait({receiver, forwarder}, return_when=asyncio.FIRST_COMPLETED)
            if receiver not in done:
                receiver.cancel()
            elif receiver.exception() is not None:
                break
    except WebSocketDisconnect:
        pass
    finally:
        forwarder.cancel()
        await asyncio.gather(forwarder, return_exceptions=True)
