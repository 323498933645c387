"""The Litestar host app, assembled from a :class:`DcSim` instance and its plugins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

import dcsim
from dcsim.app import DcSim
from dcsim.auth.tokens import TokenCache
from dcsim.registry import RouteRegistry
from dcsim.web.auth import make_guard
from dcsim.web.contracts import StrictStructSchemaPlugin, strict_body
from dcsim.web.core_routes import HealthController, PluginsController
from dcsim.web.docs_page import docs_assets_route, docs_render_plugin
from dcsim.web.hosts import allowed_hosts
from dcsim.web.middleware import HeadAsGet, HostAndOriginCheck, HttpMetrics, RequestContext, redact_uvicorn_logs
from dcsim.web.navigation import BrowserNavigation
from dcsim.web.problems import exception_handlers

SCHEMA_PATH = "/schema"


def create_app(sim: DcSim) -> Litestar:
    """Build the host app: the framework's routes (health, readiness, plugins, event
    types) and every plugin's routes, guarded by tokens.

    The app starts ``sim`` on start-up and closes it on shut-down.
    """
    routes = RouteRegistry()
    # The framework's own routes: they say what is on and off, so no plugin serves them.
    routes.add_all((HealthController, PluginsController, docs_assets_route()))
    sim.plugins.register_each("dcsim_register_routes", registry=routes)
    metrics = HttpMetrics(sim.metrics)
    tokens = TokenCache(sim.store)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with sim:
            # Revocations published by any process reach this one's token cache.
            follower = asyncio.create_task(tokens.follow(sim.bus), name="dcsim-token-revocations")
            try:
                yield
            finally:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower

    settings = sim.settings
    app = Litestar(
        route_handlers=routes.handlers,
        dependencies={"dcsim": Provide(lambda: sim, use_cache=True, sync_to_thread=False)},
        signature_namespace={"DcSim": DcSim},
        guards=[make_guard(sim, public_prefixes=(SCHEMA_PATH,), tokens=tokens)],
        exception_handlers=exception_handlers(routes.error_formats),
        # Every JSON body is checked strictly against its handler's model (specs/010).
        before_request=strict_body,
        plugins=[StrictStructSchemaPlugin()],
        lifespan=[lifespan],
        request_max_body_size=settings.max_request_body_bytes,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=_openapi_config(),
        logging_config=None,
        debug=False,
    )
    # Route middleware (dcsim.web.idempotency) reaches the instance through the app's state.
    app.state.dcsim = sim
    # The revoking request drops the token from this process's cache at once.
    app.state.tokens = tokens
    # Outside the router, as Litestar's own OpenTelemetry plugin does, so that requests
    # that match no route (404, 405) get a request id, a log line and a count too.
    # Host and Origin checks and HEAD inside it, so refusals are logged and counted too.
    # Page navigations to API paths that a web app shares (dcsim.web.navigation).
    pages = BrowserNavigation(HeadAsGet(app.asgi_handler), routes.navigation_pages)
    checked = HostAndOriginCheck(pages, allowed_hosts(settings), settings.cors_origins)
    # The server span outermost, so the access log line carries its trace_id; when tracing
    # is off, wrap_asgi returns the handler itself (nothing on the request path).
    app.asgi_handler = sim.tracing.wrap_asgi(RequestContext(checked, metrics))
    redact_uvicorn_logs()
    return app


def _openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="dc-sim",
        version=dcsim.__version__,
        description="A simulated multi-vendor datacenter and its operations platform.",
        path=SCHEMA_PATH,
        # Swagger UI from the wheel's assets: the page works offline (specs/002 hardening).
        render_plugins=[docs_render_plugin()],
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"bearer": []}],
        # Handlers' docstrings are their operations' descriptions.
        use_handler_docstrings=True,
    )
