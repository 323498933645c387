"""The five OpenStack services: where each is mounted, its catalog entry, its errors.

Each service answers under its prefix (``/identity``, ``/compute``, ``/network``,
``/volume``, ``/image``): version discovery at the prefix itself and at its version root
(:mod:`dcsim_openstack.discovery`), its routes under ``<prefix>/<version>``
(``/identity/v3``, ``/compute/v2.1``, ``/network/v2.0``, ``/volume/v3``, ``/image/v2``),
and every error under the prefix in the service's own body (:mod:`dcsim_openstack.errors`),
Litestar's own 404, 405 and 400 included.

How a service plugs in: its package has a ``routes.py`` whose ``HANDLERS`` is a list of
Litestar route handlers or controllers with paths relative to the version root
(``@get("/servers")`` answers ``/compute/v2.1/servers``), and ``plugin.py``'s
``dcsim_register_routes`` mounts it with one line::

    mount(registry, SERVICES["compute"], compute_routes.HANDLERS)

Handlers take ``creds: Credentials`` (the ``creds`` dependency every mounted router
provides, :func:`dcsim_openstack.auth.credentials`: a valid ``X-Auth-Token`` or a 401 in
the service's format), call :func:`dcsim_openstack.auth.require_role` before a change
(the ``reader`` role gets a 403), read bodies with :func:`read_json` (OpenStack clients'
bodies are the vendor's, not dc-sim's strict models: no ``data`` parameter), raise
:class:`~dcsim_openstack.errors.OpenStackError`, and return plain JSON (dicts). The
mounted routes are public to dc-sim's own token guard (Keystone tokens guard them) and
left out of dc-sim's OpenAPI document (they follow OpenStack's API reference instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import msgspec
from litestar import Request, Router
from litestar.di import Provide

from dcsim.registry import RouteRegistry
from dcsim.web.contracts import MAX_JSON_DEPTH, json_depth
from dcsim_openstack.errors import (
    OpenStackError,
    cinder_body,
    error_format,
    glance_body,
    keystone_body,
    neutron_body,
    nova_body,
)

#: The one region the catalog lists.
REGION = "RegionOne"


@attrs.frozen(kw_only=True)
class Service:
    """One OpenStack service as dc-sim serves it.

    ``catalog_types`` are the catalog's service types for it (Cinder is listed as both
    ``block-storage`` and ``volumev3``, as devstack does); ``endpoint`` is the path the
    catalog advertises (the prefix, or the version root where clients do no discovery
    there); ``min_version`` and ``max_version`` are the microversion range (empty: none).
    """

    name: str
    catalog_types: tuple[str, ...]
    prefix: str
    version: str
    version_id: str
    endpoint: str
    error_body: Callable[[OpenStackError], dict[str, Any]]
    min_version: str = ""
    max_version: str = ""
    updated: str = "2024-01-01T00:00:00Z"

    @property
    def root(self) -> str:
        """The version root every route of the service lives under."""
        return f"{self.prefix}/{self.version}"

    def url(self, base_url: str) -> str:
        """The catalog URL of the service for a client reaching dc-sim at ``base_url``."""
        return base_url.rstrip("/") + self.endpoint


#: Every service by name. The compute and volume rows' microversions belong to Nova's
#: and Cinder's code (their owners change them there, surgically).
SERVICES: dict[str, Service] = {
    "identity": Service(
        name="keystone", catalog_types=("identity",), prefix="/identity", version="v3", version_id="v3.14",
        endpoint="/identity", error_body=keystone_body, updated="2020-04-07T00:00:00Z",
    ),
    "compute": Service(
        name="nova", catalog_types=("compute",), prefix="/compute", version="v2.1", version_id="v2.1",
        endpoint="/compute/v2.1", error_body=nova_body, min_version="2.1", max_version="2.79",
        updated="2013-07-23T11:33:21Z",
    ),
    "network": Service(
        name="neutron", catalog_types=("network",), prefix="/network", version="v2.0", version_id="v2.0",
        endpoint="/network", error_body=neutron_body,
    ),
    "volume": Service(
        name="cinder", catalog_types=("block-storage", "volumev3"), prefix="/volume", version="v3",
        version_id="v3.0", endpoint="/volume/v3", error_body=cinder_body, min_version="3.0", max_version="3.60",
        updated="2023-08-31T00:00:00Z",
    ),
    "image": Service(
        name="glance", catalog_types=("image",), prefix="/image", version="v2", version_id="v2.16",
        endpoint="/image", error_body=glance_body,
    ),
}  # fmt: skip


def base_url(request: Request[Any, Any, Any]) -> str:
    """The URL the client used to reach dc-sim, without a trailing slash."""
    return str(request.base_url).rstrip("/")


async def read_json(request: Request[Any, Any, Any], *, required: bool = True) -> Any:
    """The request's JSON body; a 400 when it is not JSON, nests more than 32 levels deep,
    or is missing and ``required``."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise OpenStackError(400, "The request body is missing.")
        return None
    # Checked before parsing: a deep enough body would exhaust the parser's recursion.
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise OpenStackError(400, f"Malformed request body: JSON nests more than {MAX_JSON_DEPTH} levels deep.")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise OpenStackError(400, f"Malformed request body: {exc}") from None


def mount(registry: RouteRegistry, service: Service, handlers: Sequence[Any]) -> None:
    """Serve ``handlers`` under ``service.root`` with the service's discovery documents,
    the ``creds`` dependency and the service's error format under its prefix."""
    from dcsim_openstack.auth import credentials
    from dcsim_openstack.discovery import discovery_handlers

    registry.add(
        Router(
            path=service.prefix,
            route_handlers=discovery_handlers(service),
            opt={"public": True},
            include_in_schema=False,
        )
    )
    if handlers:
        registry.add(
            Router(
                path=service.root,
                route_handlers=list(handlers),
                dependencies={"creds": Provide(credentials)},
                opt={"public": True},
                include_in_schema=False,
            )
        )
    registry.add_error_format(service.prefix, error_format(service.error_body))


__all__ = ["REGION", "SERVICES", "Service", "base_url", "mount", "read_json"]
