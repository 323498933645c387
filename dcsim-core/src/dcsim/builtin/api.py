"""The ``api`` plugin: core's operational routes (recent and published events, tokens,
the caller's own token at ``GET /auth/me``, Prometheus metrics and the ``/ws`` event stream).

Health, readiness, the plugin listing and event types are the framework's own routes
(:mod:`dcsim.web.core_routes`), served with every plugin off.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from dcsim.hooks import hookimpl
from dcsim.registry import EventTypeRegistry, RouteRegistry, ServiceRegistry

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.settings import Settings


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim.auth.tokens import TOKEN_REVOKED

    registry.add(
        TOKEN_REVOKED,
        description="An API token was revoked; every process stops accepting it (dcsim.auth.tokens).",
        data={"id": "the revoked token's id"},
    )


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.web import core_routes as routes
    from dcsim.web.session_route import who_am_i

    registry.add_all((routes.EventsController, routes.TokensController, routes.metrics, routes.events_socket, who_am_i))


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.bus.metrics import BusCollector

    # The bus's and the outbox's series belong with the /metrics route this plugin serves.
    registry.add("bus-metrics", BusCollector())


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim.bus.metrics import BusCollector

    collector = dcsim.services.get(BusCollector)
    await collector.start(dcsim)
    dcsim.metrics.register(collector)


@hookimpl
async def dcsim_shutdown(dcsim: DcSim) -> None:
    from dcsim.bus.metrics import BusCollector

    collector = dcsim.services.get(BusCollector)
    collector.stop()
    # Not registered when the start-up failed before it; a restart registers it again.
    with contextlib.suppress(KeyError):
        dcsim.metrics.unregister(collector)
