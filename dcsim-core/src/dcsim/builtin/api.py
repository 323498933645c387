"""The ``api`` plugin: core's operational routes (recent and published events, tokens,
the caller's own token at ``GET /auth/me``, Prometheus metrics and the ``/ws`` event stream).

Health, readiness, the plugin listing and event types are the framework's own routes
(:mod:`dcsim.web.core_routes`), served with every plugin off.
"""

from __future__ import annotations

from dcsim.hooks import hookimpl
from dcsim.registry import EventTypeRegistry, RouteRegistry


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
