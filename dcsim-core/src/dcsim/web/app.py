"""The Litestar host app, assembled from a :class:`DcSim` instance and its plugins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

import dcsim
from dcsim.app import DcSim
from dcsim.registry import RouteRegistry
from dcsim.web.auth import make_guard
from dcsim.web.core_routes import HealthController, PluginsController
from dcsim.web.middleware import HttpMetrics, RequestContext
from dcsim.web.problems import EXCEPTION_HANDLERS

SCHEMA_PATH = "/schema"


def create_app(sim: DcSim) -> Litestar:
    """Build the host app: the framework's routes (health, readiness, plugins, event
    types) and every plugin's routes, guarded by tokens.

    The app starts ``sim`` on start-up and closes it on shut-down.
    """
    routes = RouteRegistry()
    # The framework's own routes: they say what is on and off, so no plugin serves them.
    routes.add_all((HealthController, PluginsController))
    sim.plugins.register_each("dcsim_register_routes", registry=routes)
    metrics = HttpMetrics(sim.metrics)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with sim:
            yield

    settings = sim.settings
    app = Litestar(
        route_handlers=routes.handlers,
        dependencies={"dcsim": Provide(lambda: sim, use_cache=True, sync_to_thread=False)},
        signature_namespace={"DcSim": DcSim},
        guards=[make_guard(sim, public_prefixes=(SCHEMA_PATH,))],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=settings.max_request_body_bytes,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=_openapi_config(),
        logging_config=None,
        debug=False,
    )
    # Outside the router, as Litestar's own OpenTelemetry plugin does, so that requests
    # that match no route (404, 405) get a request id, a log line and a count too.
    app.asgi_handler = RequestContext(app.asgi_handler, metrics)
    return app


def _openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="dc-sim",
        version=dcsim.__version__,
        description="A simulated multi-vendor datacenter and its operations platform.",
        path=SCHEMA_PATH,
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"bearer": []}],
        # Handlers' docstrings are their operations' descriptions.
        use_handler_docstrings=True,
    )
