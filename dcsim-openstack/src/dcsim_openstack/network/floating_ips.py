"""Floating IPs: addresses of an external network's subnet, associated with a port.

A floating IP can be associated with a port whose subnet a router joins to the floating
IP's external network (the router its traffic goes through is its ``router_id``), as
Neutron requires.
"""

from __future__ import annotations

from typing import Any

from dcsim.model import new_id
from dcsim.sim.events import Change
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.network.access import changes, owner, sees, text
from dcsim_openstack.network.addresses import allocate, network_record
from dcsim_openstack.network.model import FloatingIp
from dcsim_openstack.network.ports import find_network, find_port
from dcsim_openstack.network.routers import router_for

FLOATING_IP_FIELDS = (
    "floating_network_id", "floating_ip_address", "subnet_id", "port_id", "fixed_ip_address", "description",
    "project_id", "tenant_id", "dns_domain", "dns_name", "qos_policy_id",
)  # fmt: skip


def visible_floating_ips(world: World, creds: Credentials) -> list[FloatingIp]:
    """Every floating IP ``creds`` may see."""
    return [f for f in world.all(FloatingIp) if sees(creds, f.project_id)]


def visible_floating_ip(world: World, creds: Credentials, ref: str) -> FloatingIp:
    """A floating IP ``creds`` may see, by id; 404 ``FloatingIPNotFound``."""
    floating = next((f for f in world.all(FloatingIp) if f.id == ref), None)
    if floating is None or not sees(creds, floating.project_id):
        raise OpenStackError(404, f"Floating IP {ref} could not be found", title="FloatingIPNotFound")
    return floating


def _associate(world: World, creds: Credentials, floating: FloatingIp, port_id: Any, fixed_ip: Any) -> None:
    """Associate ``floating`` with a port (None: disassociate), checking the port is reachable."""
    if port_id is None:
        floating.port_id = floating.fixed_ip_address = floating.router_id = None
        return
    if not isinstance(port_id, str):
        raise OpenStackError(400, "Invalid input for port_id: a port id is expected.")
    port = find_port(world, port_id)
    if not sees(creds, port.project_id) or port.project_id != floating.project_id:
        raise OpenStackError(404, f"Port {port_id} could not be found.", title="PortNotFound")
    addresses = [ip for ip in port.fixed_ips if fixed_ip in (None, ip.ip_address)]
    if not addresses:
        raise OpenStackError(400, f"Bad floatingip request: Port {port.id} does not have fixed ip {fixed_ip}.")
    address = addresses[0]
    taken = next(
        (
            f
            for f in world.all(FloatingIp)
            if f.id != floating.id and f.port_id == port.id and f.fixed_ip_address == address.ip_address
        ),
        None,
    )
    if taken is not None:
        raise OpenStackError(
            409, f"Cannot associate floating IP {floating.floating_ip_address} ({floating.id}) with port {port.id} "
            f"using fixed IP {address.ip_address}, as that fixed IP already has a floating IP on external network "
            f"{floating.floating_network_id}.", title="FloatingIPPortAlreadyAssociated",
        )  # fmt: skip
    router = router_for(world, floating.floating_network_id, {address.subnet_id})
    if router is None:
        raise OpenStackError(
            404, f"External network {floating.floating_network_id} is not reachable from subnet "
            f"{address.subnet_id}.  Therefore, cannot associate Port {port.id} with a Floating IP.",
            title="ExternalGatewayForFloatingIPNotFound",
        )  # fmt: skip
    floating.port_id, floating.fixed_ip_address, floating.router_id = port.id, address.ip_address, router.id


def create_floating_ip(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> FloatingIp:
    """Take an address from an external network (the one asked for, or the first free of
    its subnet's pools) and associate it with ``port_id`` if given."""
    network_id = body.get("floating_network_id")
    if not isinstance(network_id, str):
        raise OpenStackError(400, "Invalid input for floating_network_id: a network id is required.")
    network = find_network(world, network_id)
    if not network_record(world, network).external:
        raise OpenStackError(400, f"Bad floatingip request: Network {network_id} is not a valid external network.")
    project_id = owner(creds, body)
    address = allocate(world, network, subnet_id=body.get("subnet_id"), ip_address=body.get("floating_ip_address"))
    floating = FloatingIp(
        id=new_id(), name=address.ip_address, project_id=project_id, floating_network_id=network.id,
        floating_ip_address=address.ip_address, description=text(body, "description"),
    )  # fmt: skip
    _associate(world, creds, floating, body.get("port_id"), body.get("fixed_ip_address"))
    world.add(floating)
    change.save(floating)
    return floating


def update_floating_ip(
    world: World, change: Change, creds: Credentials, floating: FloatingIp, body: dict[str, Any]
) -> None:
    """Associate with another port, disassociate (``port_id: null``), or change the description."""
    changes(creds, floating.project_id)
    for fixed in ("floating_network_id", "floating_ip_address", "subnet_id", "project_id", "tenant_id"):
        if fixed in body:
            raise OpenStackError(400, f"Cannot update read-only attribute {fixed}")
    if "port_id" in body:
        _associate(world, creds, floating, body["port_id"], body.get("fixed_ip_address"))
    floating.description = text(body, "description", floating.description)
    change.save(floating)


def delete_floating_ip(world: World, change: Change, creds: Credentials, floating: FloatingIp) -> None:
    """Release a floating IP."""
    changes(creds, floating.project_id)
    world.remove(floating)
    change.remove(floating)


__all__ = [
    "FLOATING_IP_FIELDS",
    "create_floating_ip",
    "delete_floating_ip",
    "update_floating_ip",
    "visible_floating_ip",
    "visible_floating_ips",
]
