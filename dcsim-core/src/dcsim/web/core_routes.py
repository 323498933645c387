"""Core's routes. The framework serves health, readiness, plugins and event types
itself (:func:`dcsim.web.app.create_app`); the ``api`` plugin adds events, tokens,
metrics and ``/ws`` (:mod:`dcsim.builtin.api`)."""

from __future__ import annotations

import asyncio
import fnmatch
from typing import Any

import attrs
from litestar import Controller, Request, Response, delete, get, post, websocket
from litestar.connection import WebSocket
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from dcsim.app import DcSim
from dcsim.convert import from_json, to_json
from dcsim.drivers import list_drivers
from dcsim.model import Role, Token
from dcsim.plugins import PluginHost
from dcsim.settings import Settings


class HealthController(Controller):
    """Liveness and readiness probes (open, for load balancers and orchestrators)."""

    tags = ["health"]
    opt = {"public": True}

    @get("/healthz", summary="Liveness: the process answers")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", summary="Readiness: store, bus and every plugin's dependencies")
    async def readyz(self, dcsim: NamedDependency[DcSim]) -> Response[dict[str, Any]]:
        checks = await dcsim.readiness()
        ready = all(check.ok for check in checks)
        body = {"status": "ready" if ready else "not_ready", "checks": to_json(checks)}
        return Response(body, status_code=200 if ready else 503)


class PluginsController(Controller):
    """What is installed: plugins with their hooks and errors, drivers, event types."""

    tags = ["plugins"]

    @get("/plugins", summary="Plugins and drivers, with versions and load errors")
    async def plugins(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        return plugins_report(dcsim.plugins, dcsim.settings)

    @get("/events/types", summary="Every declared event type with its schema")
    async def event_types(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return [to_json(declared) for declared in dcsim.event_types.values()]


@attrs.frozen
class PublishRequest:
    """Body of ``POST /events``."""

    type: str
    data: dict[str, Any] = attrs.field(factory=dict)
    subject: str | None = None


class EventsController(Controller):
    """Recent events, and publishing declared events by hand (tests, training, scripts)."""

    path = "/events"
    tags = ["events"]

    @get("/", summary="The newest events still retained on the bus, oldest first")
    async def recent_events(self, dcsim: NamedDependency[DcSim], count: FromQuery[int] = 100) -> list[dict[str, Any]]:
        count = max(1, min(count, 1000))
        return [to_json(event) for _, event in await dcsim.bus.recent(count)]

    @post("/", status_code=HTTP_202_ACCEPTED, summary="Publish an event of a declared type")
    async def publish(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        body = from_json(data, PublishRequest)
        token: Token = request.scope["state"]["token"]
        event = await dcsim.publish(body.type, body.data, source=f"/api/tokens/{token.id}", subject=body.subject)
        published: dict[str, Any] = to_json(event)
        return published


@attrs.frozen
class TokenRequest:
    """Body of ``POST /tokens``."""

    role: Role
    name: str


class TokensController(Controller):
    """API tokens: configuration, so every endpoint needs an admin token."""

    path = "/tokens"
    tags = ["auth"]
    opt = {"role": "admin"}

    @get("/", summary="Every token (never its secret)")
    async def list_tokens(self, dcsim: NamedDependency[DcSim]) -> list[dict[str, Any]]:
        return to_json(await asyncio.to_thread(dcsim.store.list_tokens))  # type: ignore[no-any-return]

    @post("/", status_code=HTTP_201_CREATED, summary="Create a token; its secret is in this answer only")
    async def create_token(self, dcsim: NamedDependency[DcSim], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        body = from_json(data, TokenRequest)
        token, secret = await asyncio.to_thread(dcsim.store.create_token, body.name, body.role)
        return {**to_json(token), "secret": secret}

    @delete("/{token_id:str}", summary="Revoke a token")
    async def revoke_token(self, dcsim: NamedDependency[DcSim], token_id: FromPath[str]) -> None:
        await asyncio.to_thread(dcsim.store.revoke_token, token_id)


def plugins_report(plugins: PluginHost, settings: Settings) -> dict[str, Any]:
    """The listing shared by ``GET /plugins`` and ``dcsim plugins --json``: every plugin
    with its status (``loaded``, ``failed`` with its error, ``disabled``) and every driver."""
    return {
        "plugins": to_json(plugins.infos),
        "drivers": to_json(list_drivers(settings)),
    }


@get("/metrics", opt={"public": True}, tags=["health"], summary="Prometheus metrics", include_in_schema=True)
async def metrics(dcsim: NamedDependency[DcSim]) -> Response[bytes]:
    # Rendering a large estate's samples takes a while: keep it off the event loop.
    body = await asyncio.to_thread(generate_latest, dcsim.metrics)
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
