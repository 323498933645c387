"""Neutron v2.0's HTTP API under ``/network/v2.0``: one set of five handlers per collection.

Each collection (networks, subnets, ports, routers, security-groups,
security-group-rules, floatingips) is a :class:`Collection`: how to list what a token
sees, find one, create, update and delete, and how to render one. Reads take the
token's credentials; every change runs in one engine transaction (the world's lock, one
store commit) and needs a role that may write (the reader role gets a 403). Errors are
Neutron's ``NeutronError`` bodies (``dcsim_openstack.errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from litestar import Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.sim.events import Change
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.network import addresses, floating_ips, networks, port_requests, render, routers, security
from dcsim_openstack.network.access import body_of, changes, owner, text
from dcsim_openstack.network.query import apply, one
from dcsim_openstack.service import read_json

#: The extensions this Neutron has, as ``GET /v2.0/extensions`` lists them.
EXTENSIONS = (
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks."),
    ("security-group", "security-group", "The security groups extension."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to resources."),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for enable_snat."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks."),
    ("filter-validation", "Filter parameters validation", "Provides validation on filtering parameters."),
)  # fmt: skip

Item = Any
Render = Callable[[World, Item], dict[str, Any]]


@attrs.frozen(kw_only=True)
class Collection:
    """One Neutron collection: its names, allowed attributes and operations."""

    path: str
    resource: str
    fields: Sequence[str]
    visible: Callable[[World, Credentials], list[Item]]
    find: Callable[[World, Credentials, str], Item]
    create: Callable[[World, Change, Credentials, dict[str, Any]], Item]
    update: Callable[[World, Change, Credentials, Item, dict[str, Any]], Any]
    remove: Callable[[World, Change, Credentials, Item], None]
    render: Render


def _create_group(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> Any:
    return security.create_group(
        world, change, project_id=owner(creds, body), name=text(body, "name"), description=text(body, "description")
    )


def _delete_group(world: World, change: Change, creds: Credentials, group: Any) -> None:
    changes(creds, group.project_id)
    security.delete_group(world, change, group, admin=creds.is_admin)


def _visible_rules(world: World, creds: Credentials) -> list[tuple[Any, dict[str, Any]]]:
    return [(g, r) for g in security.visible_groups(world, creds) for r in security.rules_of(g)]


def _find_rule(world: World, creds: Credentials, ref: str) -> tuple[Any, dict[str, Any]]:
    group, rule = security.find_rule(world, ref)
    security.visible_group(world, creds, group.id)
    return group, rule


def _create_rule(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    group = security.visible_group(world, creds, str(body.get("security_group_id")))
    changes(creds, group.project_id)
    return group, security.add_rule(world, change, group, body)


def _no_rule_update(world: World, change: Change, creds: Credentials, item: Any, body: dict[str, Any]) -> None:
    raise OpenStackError(405, "Security group rules cannot be updated.", title="HTTPMethodNotAllowed")


def _delete_rule(world: World, change: Change, creds: Credentials, item: tuple[Any, dict[str, Any]]) -> None:
    group, rule = item
    changes(creds, group.project_id)
    security.remove_rule(change, group, rule["id"])


COLLECTIONS = (
    Collection(
        path="networks", resource="network", fields=networks.NETWORK_FIELDS, visible=networks.visible_networks,
        find=networks.visible_network, create=networks.create_network, update=networks.update_network,
        remove=networks.delete_network, render=render.network_view,
    ),
    Collection(
        path="subnets", resource="subnet", fields=networks.SUBNET_FIELDS,
        visible=lambda w, c: [s for n in networks.visible_networks(w, c) for s in addresses.subnets_of(w, n.id)],
        find=networks.visible_subnet, create=networks.create_subnet, update=networks.update_subnet,
        remove=networks.delete_subnet, render=render.subnet_view,
    ),
    Collection(
        path="ports", resource="port", fields=port_requests.PORT_FIELDS, visible=port_requests.visible_ports,
        find=port_requests.visible_port, create=port_requests.create_port, update=port_requests.update_port,
        remove=port_requests.delete_port, render=render.port_view,
    ),
    Collection(
        path="routers", resource="router", fields=routers.ROUTER_FIELDS, visible=routers.visible_routers,
        find=routers.visible_router, create=routers.create_router, update=routers.update_router,
        remove=routers.delete_router, render=render.router_view,
    ),
    Collection(
        path="security-groups", resource="security_group", fields=security.GROUP_FIELDS,
        visible=security.visible_groups, find=security.visible_group, create=_create_group,
        update=security.update_group, remove=_delete_group, render=render.security_group_view,
    ),
    Collection(
        path="security-group-rules", resource="security_group_rule", fields=security.RULE_FIELDS,
        visible=_visible_rules, find=_find_rule, create=_create_rule, update=_no_rule_update, remove=_delete_rule,
        render=lambda w, item: render.rule_view(*item),
    ),
    Collection(
        path="floatingips", resource="floatingip", fields=floating_ips.FLOATING_IP_FIELDS,
        visible=floating_ips.visible_floating_ips, find=floating_ips.visible_floating_ip,
        create=floating_ips.create_floating_ip, update=floating_ips.update_floating_ip,
        remove=floating_ips.delete_floating_ip, render=render.floating_ip_view,
    ),
)  # fmt: skip


def _sim(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.dcsim.sim


def _query(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    return {k: [str(v) for v in vs] for k, vs in request.query_params.dict().items()}


async def _ensure_default_group(request: Request[Any, Any, Any], creds: Credentials) -> None:
    """Neutron makes a project's ``default`` group when the project first looks for groups."""
    sim = _sim(request)
    if creds.project_id and security.default_group(sim.world, creds.project_id) is None:
        async with sim.transaction() as change:
            security.ensure_default_group(sim.world, change, creds.project_id)


def collection_handlers(c: Collection) -> list[HTTPRouteHandler]:
    """List, show, create, update and delete handlers of one collection."""

    @get(f"/{c.path}", name=f"neutron-{c.path}-list")
    async def list_items(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
        if c.path in ("security-groups", "security-group-rules"):
            await _ensure_default_group(request, creds)
        world = _sim(request).world
        items = [c.render(world, item) for item in c.visible(world, creds)]
        return apply(items, _query(request), collection=c.path.replace("-", "_"), url=str(request.url).split("?")[0])

    @get(f"/{c.path}/{{item_id:str}}", name=f"neutron-{c.path}-show")
    async def show_item(
        request: Request[Any, Any, Any], creds: NamedDependency[Credentials], item_id: FromPath[str]
    ) -> dict[str, Any]:
        world = _sim(request).world
        return {c.resource: one(c.render(world, c.find(world, creds, item_id)), _query(request))}

    @post(f"/{c.path}", name=f"neutron-{c.path}-create", status_code=HTTP_201_CREATED)
    async def create_item(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
        body = body_of(await read_json(request), c.resource, c.fields)
        sim = _sim(request)
        async with sim.transaction() as change:
            item = c.create(sim.world, change, creds, body)
        return {c.resource: c.render(sim.world, item)}

    @put(f"/{c.path}/{{item_id:str}}", name=f"neutron-{c.path}-update")
    async def update_item(
        request: Request[Any, Any, Any], creds: NamedDependency[Credentials], item_id: FromPath[str]
    ) -> dict[str, Any]:
        body = body_of(await read_json(request), c.resource, c.fields)
        sim = _sim(request)
        async with sim.transaction() as change:
            item = c.find(sim.world, creds, item_id)
            item = c.update(sim.world, change, creds, item, body) or item
        return {c.resource: c.render(sim.world, c.find(sim.world, creds, item_id))}

    @delete(f"/{c.path}/{{item_id:str}}", name=f"neutron-{c.path}-delete", status_code=HTTP_204_NO_CONTENT)
    async def delete_item(
        request: Request[Any, Any, Any], creds: NamedDependency[Credentials], item_id: FromPath[str]
    ) -> None:
        sim = _sim(request)
        async with sim.transaction() as change:
            c.remove(sim.world, change, creds, c.find(sim.world, creds, item_id))

    return [list_items, show_item, create_item, update_item, delete_item]


def _interface_handler(action: str, fn: Callable[..., dict[str, Any]]) -> HTTPRouteHandler:
    @put(f"/routers/{{item_id:str}}/{action}", name=f"neutron-routers-{action}")
    async def handler(
        request: Request[Any, Any, Any], creds: NamedDependency[Credentials], item_id: FromPath[str]
    ) -> dict[str, Any]:
        body = await read_json(request)
        sim = _sim(request)
        async with sim.transaction() as change:
            router = routers.visible_router(sim.world, creds, item_id)
            return fn(sim.world, change, creds, router, body)

    return handler


def _extension(alias: str, name: str, description: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "updated": "2013-01-20T00:00:00-00:00",
        "links": [],
    }


@get("/extensions", name="neutron-extensions")
async def list_extensions(creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """The extensions this Neutron has."""
    return {"extensions": [_extension(*e) for e in EXTENSIONS]}


@get("/extensions/{alias:str}", name="neutron-extension")
async def show_extension(creds: NamedDependency[Credentials], alias: FromPath[str]) -> dict[str, Any]:
    """One extension; 404 for one this Neutron lacks."""
    for entry in EXTENSIONS:
        if entry[0] == alias:
            return {"extension": _extension(*entry)}
    raise OpenStackError(404, f"Extension with alias {alias} does not exist", title="HTTPNotFound")


#: Every Neutron handler, paths relative to ``/network/v2.0``.
HANDLERS: list[Any] = [
    *(handler for c in COLLECTIONS for handler in collection_handlers(c)),
    _interface_handler("add_router_interface", routers.add_interface),
    _interface_handler("remove_router_interface", routers.remove_interface),
    list_extensions,
    show_extension,
]

__all__ = ["COLLECTIONS", "EXTENSIONS", "HANDLERS", "Collection", "collection_handlers"]
