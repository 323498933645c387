"""Web hooks: what plugins add to the Litestar host app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookspec

if TYPE_CHECKING:
    from dcsim.registry import RouteRegistry


@hookspec
def dcsim_register_routes(registry: RouteRegistry) -> None:
    """Add Litestar route handlers, controllers or routers to the host app.

    When: once, while the host app is built by ``dcsim.web.create_app``. The
    framework serves ``/healthz``, ``/readyz``, ``/plugins`` and ``/events/types``
    itself.

    Args:
        registry: call ``registry.add(handler)`` with a Litestar route handler,
            ``Controller`` subclass or ``Router``. Handlers get the running instance
            by declaring a ``dcsim: NamedDependency[DcSim]`` parameter
            (``from litestar.di import NamedDependency``). Routes need a viewer token for
            reads, an operator token for changes and an admin token for ``DELETE``;
            set ``opt={"role": "admin"}`` to ask for more, or ``opt={"public": True}``
            for an open route. A web app whose client routes share paths with an API
            calls ``registry.add_navigation_page(pattern, page)``: a browser's page
            navigation (``Accept`` naming ``text/html``) to a path matching the glob
            ``pattern`` gets the HTML ``page()`` returns (``None`` declines), every other
            request reaches the routes (``dcsim.web.navigation``).

    Returns: nothing. Calling rule: every implementation is called, one at a time; one
    that raises fails its plugin (its routes are dropped; the others go on).
    """
