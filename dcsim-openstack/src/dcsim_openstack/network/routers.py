"""Routers: their external gateway and their interfaces on subnets.

An interface is a port on the subnet's network holding the subnet's gateway address
(``device_owner`` ``network:router_interface``); the gateway is a port on the external
network (``network:router_gateway``). ``Router.subnet_ids`` lists the subnets joined.
"""

from __future__ import annotations

from typing import Any

from dcsim.model import new_id
from dcsim.sim.events import Change
from dcsim.sim.model import Subnet
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import Router
from dcsim_openstack.network.access import changes, flag, owner, sees, text
from dcsim_openstack.network.addresses import allocate, network_record
from dcsim_openstack.network.model import FixedIp, FloatingIp, Port
from dcsim_openstack.network.ports import all_ports, find_network, mac_address

INTERFACE, GATEWAY = "network:router_interface", "network:router_gateway"
ROUTER_FIELDS = (
    "name", "admin_state_up", "description", "external_gateway_info", "project_id", "tenant_id", "distributed",
    "ha", "availability_zone_hints", "flavor_id", "routes",
)  # fmt: skip


def visible_routers(world: World, creds: Credentials) -> list[Router]:
    """Every router ``creds`` may see."""
    return [r for r in world.all(Router) if sees(creds, r.project_id)]


def visible_router(world: World, creds: Credentials, ref: str) -> Router:
    """A router ``creds`` may see, by id; 404 ``RouterNotFound``."""
    router = world.find(Router, ref)
    if router is None or router.id != ref or not sees(creds, router.project_id):
        raise OpenStackError(404, f"Router {ref} could not be found", title="RouterNotFound")
    return router


def _gateway_port(world: World, router: Router) -> Port | None:
    return next((p for p in world.all(Port) if p.device_id == router.id and p.device_owner == GATEWAY), None)


def _set_gateway(world: World, change: Change, router: Router, info: Any) -> None:
    """Point the router's gateway at ``info`` (a dict, or None to clear it)."""
    if info is not None and not isinstance(info, dict):
        raise OpenStackError(400, "Invalid input for external_gateway_info: an object or null is expected.")
    wanted = info.get("network_id") if info else None
    old = _gateway_port(world, router)
    if old is not None and (wanted != router.external_network_id or (info and "external_fixed_ips" in info)):
        if any(f.router_id == router.id for f in world.all(FloatingIp)):
            raise OpenStackError(
                409, f"Gateway cannot be updated for router {router.id}, since a gateway to external network "
                f"{router.external_network_id} is required by one or more floating IPs.",
                title="RouterExternalGatewayInUseByFloatingIp",
            )  # fmt: skip
        world.remove(old)
        change.remove(old)
        old = None
    router.external_network_id = wanted
    if info is not None:
        router.enable_snat = flag(info, "enable_snat", router.enable_snat)
    if wanted is None or old is not None:
        return
    if not isinstance(wanted, str):
        raise OpenStackError(400, "Invalid input for external_gateway_info: network_id must be a network id.")
    network = find_network(world, wanted)
    if not network_record(world, network).external:
        raise OpenStackError(400, f"Bad router request: Network {wanted} is not an external network.")
    requested = info.get("external_fixed_ips") if info else None
    if requested is not None and not isinstance(requested, list):
        raise OpenStackError(400, "Invalid input for external_fixed_ips: a list is expected.")
    addresses = [
        allocate(world, network, subnet_id=ip.get("subnet_id"), ip_address=ip.get("ip_address"))
        for ip in (requested or [{}])
    ]
    port_id = new_id()
    port = Port(
        id=port_id, name="", network_id=network.id, project_id=router.project_id, mac_address=mac_address(port_id),
        fixed_ips=addresses, device_id=router.id, device_owner=GATEWAY,
    )  # fmt: skip
    world.add(port)
    change.save(port)


def create_router(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> Router:
    """Make a router, with its gateway if ``external_gateway_info`` names an external network."""
    if body.get("routes"):
        raise OpenStackError(400, "Static routes are not supported by this cloud.")
    router = Router(
        id=new_id(), name=text(body, "name"), project_id=owner(creds, body),
        admin_state_up=flag(body, "admin_state_up", True), description=text(body, "description"),
    )  # fmt: skip
    _set_gateway(world, change, router, body.get("external_gateway_info"))
    world.add(router)
    change.save(router)
    return router


def update_router(world: World, change: Change, creds: Credentials, router: Router, body: dict[str, Any]) -> None:
    """Change a router's name, description, admin state or gateway."""
    changes(creds, router.project_id)
    if body.get("routes"):
        raise OpenStackError(400, "Static routes are not supported by this cloud.")
    if "external_gateway_info" in body:
        _set_gateway(world, change, router, body["external_gateway_info"])
    router.name = text(body, "name", router.name)
    router.description = text(body, "description", router.description)
    router.admin_state_up = flag(body, "admin_state_up", router.admin_state_up)
    change.save(router)


def delete_router(world: World, change: Change, creds: Credentials, router: Router) -> None:
    """Delete a router and its gateway; 409 ``RouterInUse`` while it has interfaces."""
    changes(creds, router.project_id)
    if any(p.device_id == router.id and p.device_owner == INTERFACE for p in world.all(Port)) or router.subnet_ids:
        raise OpenStackError(409, f"Router {router.id} still has ports", title="RouterInUse")
    _set_gateway(world, change, router, None)
    world.remove(router)
    change.remove(router)


def _interface_body(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict) or set(body) - {"subnet_id", "port_id"}:
        raise OpenStackError(400, "Bad router request: the body must be {subnet_id} or {port_id}.")
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if bool(subnet_id) == bool(port_id):
        raise OpenStackError(400, "Bad router request: Either subnet_id or port_id must be specified, not both.")
    return subnet_id, port_id


def _interface_info(router: Router, port: Port) -> dict[str, Any]:
    subnets = [ip.subnet_id for ip in port.fixed_ips]
    return {
        "id": router.id, "tenant_id": router.project_id, "project_id": router.project_id, "port_id": port.id,
        "network_id": port.network_id, "subnet_id": subnets[0] if subnets else None, "subnet_ids": subnets,
    }  # fmt: skip


def add_interface(world: World, change: Change, creds: Credentials, router: Router, body: Any) -> dict[str, Any]:
    """Join a subnet (a new port on its gateway address) or an unbound port to the router."""
    from dcsim_openstack.network.networks import visible_subnet

    changes(creds, router.project_id)
    subnet_id, port_id = _interface_body(body)
    port: Port | None = None
    if port_id:
        port = world.find(Port, port_id)
        if port is None or port.id != port_id or not sees(creds, port.project_id):
            raise OpenStackError(404, f"Port {port_id} could not be found.", title="PortNotFound")
        if port.device_id:
            raise OpenStackError(409, f"Port {port.id} has owner {port.device_owner}", title="PortInUse")
        if not port.fixed_ips:
            raise OpenStackError(400, "Bad router request: Router port must have at least one fixed IP.")
        subnet = world.get(Subnet, port.fixed_ips[0].subnet_id)
    else:
        subnet = visible_subnet(world, creds, str(subnet_id))
        if not subnet.gateway_ip:
            raise OpenStackError(400, f"Bad router request: Subnet {subnet.id} does not have a gateway IP.")
    if subnet.id in router.subnet_ids:
        raise OpenStackError(400, f"Bad router request: Router already has a port on subnet {subnet.id}.")
    taken = {ip.ip_address for p in all_ports(world) for ip in p.fixed_ips if ip.subnet_id == subnet.id}
    if port is None and subnet.gateway_ip in taken:
        raise OpenStackError(
            409,
            f"IP address {subnet.gateway_ip} already allocated in subnet {subnet.id}",
            title="IpAddressAlreadyAllocated",
        )
    if port is None:
        new = new_id()
        port = Port(
            id=new, name="", network_id=subnet.network_id, project_id=router.project_id, mac_address=mac_address(new),
            fixed_ips=[FixedIp(subnet_id=subnet.id, ip_address=subnet.gateway_ip)],
        )  # fmt: skip
        world.add(port)
    port.device_id, port.device_owner = router.id, INTERFACE
    router.subnet_ids = [*router.subnet_ids, subnet.id]
    change.save(port, router)
    return _interface_info(router, port)


def remove_interface(world: World, change: Change, creds: Credentials, router: Router, body: Any) -> dict[str, Any]:
    """Take a subnet (or an interface port) off the router; its interface port goes."""
    changes(creds, router.project_id)
    subnet_id, port_id = _interface_body(body)
    ports = [p for p in world.all(Port) if p.device_id == router.id and p.device_owner == INTERFACE]
    if port_id:
        port = next((p for p in ports if p.id == port_id), None)
        if port is None:
            raise OpenStackError(
                404, f"Router {router.id} does not have an interface with id {port_id}", title="RouterInterfaceNotFound"
            )
    else:
        port = next((p for p in ports if any(ip.subnet_id == subnet_id for ip in p.fixed_ips)), None)
        if port is None:
            raise OpenStackError(
                404,
                f"Router {router.id} has no interface on subnet {subnet_id}",
                title="RouterInterfaceNotFoundForSubnet",
            )
    subnets = {ip.subnet_id for ip in port.fixed_ips}
    for floating in world.all(FloatingIp):
        if floating.router_id == router.id and floating.fixed_ip_address and _on(world, floating, subnets):
            raise OpenStackError(
                409, f"Router interface for subnet {', '.join(subnets)} on router {router.id} cannot be deleted, "
                "as it is required by one or more floating IPs.", title="RouterInterfaceInUseByFloatingIP",
            )  # fmt: skip
    router.subnet_ids = [s for s in router.subnet_ids if s not in subnets]
    change.save(router)
    if world.find(Port, port.id) is not None:
        world.remove(port)
        change.remove(port)
    return _interface_info(router, port)


def _on(world: World, floating: FloatingIp, subnets: set[str]) -> bool:
    port = next((p for p in all_ports(world) if p.id == floating.port_id), None)
    return port is not None and any(ip.subnet_id in subnets for ip in port.fixed_ips)


def router_for(world: World, external_network_id: str, subnet_ids: set[str]) -> Router | None:
    """The router joining one of ``subnet_ids`` to the external network, if any (the one a
    floating IP's traffic goes through)."""
    for router in world.all(Router):
        if router.external_network_id == external_network_id and subnet_ids & set(router.subnet_ids):
            return router
    return None


__all__ = [
    "GATEWAY",
    "INTERFACE",
    "ROUTER_FIELDS",
    "add_interface",
    "create_router",
    "delete_router",
    "remove_interface",
    "router_for",
    "update_router",
    "visible_router",
    "visible_routers",
]
