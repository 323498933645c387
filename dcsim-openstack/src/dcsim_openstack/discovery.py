"""Version discovery documents, in the shape each service's clients expect.

keystoneauth and openstacksdk read them at each catalog endpoint's root: Keystone's
``{"versions": {"values": [...]}}`` (300 Multiple Choices), Nova's and Cinder's
``versions`` with ``version`` / ``min_version`` (the microversion range), Glance's
versions list, and Neutron's version list (its ``/v2.0`` lists the resources).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK, HTTP_300_MULTIPLE_CHOICES

from dcsim_openstack.service import Service, base_url

#: Neutron's resources, as its ``/v2.0`` lists them.
NEUTRON_RESOURCES = (
    ("network", "networks"), ("subnet", "subnets"), ("port", "ports"), ("router", "routers"),
    ("security_group", "security-groups"), ("security_group_rule", "security-group-rules"),
    ("floatingip", "floatingips"),
)  # fmt: skip


def version_document(service: Service, base: str) -> dict[str, Any]:
    """One version entry of ``service`` for a client at ``base``."""
    href = f"{base}{service.root}/"
    doc: dict[str, Any] = {
        "id": service.version_id,
        "status": "stable" if service.name == "keystone" else "CURRENT",
        "updated": service.updated,
        "links": [{"rel": "self", "href": href}],
    }
    if service.name == "keystone":
        doc["media-types"] = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
    if service.max_version:
        doc |= {"version": service.max_version, "min_version": service.min_version}
        doc["media-types"] = [
            {
                "base": "application/json",
                "type": f"application/vnd.openstack.{service.name}+json;version={service.version[1:]}",
            }
        ]
    return doc


def root_document(service: Service, base: str) -> tuple[dict[str, Any], int]:
    """What the service's prefix answers: its versions, and the status it answers them with."""
    doc = version_document(service, base)
    if service.name == "keystone":
        return {"versions": {"values": [doc]}}, HTTP_300_MULTIPLE_CHOICES
    if service.name in ("glance", "cinder"):
        return {"versions": [doc]}, HTTP_300_MULTIPLE_CHOICES
    return {"versions": [doc]}, HTTP_200_OK


def version_root_document(service: Service, base: str) -> dict[str, Any]:
    """What the service's version root answers."""
    if service.name == "neutron":
        return {
            "resources": [
                {"name": name, "collection": collection,
                 "links": [{"rel": "self", "href": f"{base}{service.root}/{collection}"}]}
                for name, collection in NEUTRON_RESOURCES
            ]
        }  # fmt: skip
    if service.name in ("glance", "cinder"):
        return {"versions": [version_document(service, base)]}
    return {"version": version_document(service, base)}


def discovery_handlers(service: Service) -> list[HTTPRouteHandler]:
    """GET handlers of the service's prefix and version root (paths relative to the prefix)."""

    @get("/", name=f"openstack-{service.name}-versions", sync_to_thread=False)
    def versions(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body, status = root_document(service, base_url(request))
        return Response(body, status_code=status)

    @get(f"/{service.version}", name=f"openstack-{service.name}-version", sync_to_thread=False)
    def version(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return version_root_document(service, base_url(request))

    return [versions, version]


__all__ = ["discovery_handlers", "root_document", "version_document", "version_root_document"]
