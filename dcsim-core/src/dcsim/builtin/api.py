"""The ``api`` plugin: core's operational routes (recent and published events, tokens,
Prometheus metrics and the ``/ws`` event stream).

Health, readiness, the plugin listing and event types are the framework's own routes
(:mod:`dcsim.web.core_routes`), served with every plugin off.
"""

from __future__ import annotations

from dcsim.hooks import hookimpl
from dcsim.registry import RouteRegistry


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.web import core_routes as routes

    registry.add_all((routes.EventsController, routes.TokensController, routes.metrics, routes.events_socket))
