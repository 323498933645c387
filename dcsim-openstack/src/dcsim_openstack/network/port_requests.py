"""Neutron's port requests: list what a token sees, create, update and delete ports.

Nova's side of ports (a server's NICs) is :mod:`dcsim_openstack.network.ports`.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from dcsim.model import new_id
from dcsim.sim.events import Change
from dcsim.sim.model import Network, Vm
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.network.access import changes, flag, owner, sees, text
from dcsim_openstack.network.addresses import allocate
from dcsim_openstack.network.model import FixedIp, FloatingIp, Port
from dcsim_openstack.network.ports import COMPUTE_OWNER, all_ports, find_port, mac_address

#: Attributes a port create or update may carry.
PORT_FIELDS = (
    "name", "network_id", "fixed_ips", "mac_address", "device_id", "device_owner", "security_groups",
    "admin_state_up", "description", "project_id", "tenant_id", "port_security_enabled", "binding:host_id",
    "binding:vnic_type", "binding:profile", "allowed_address_pairs", "extra_dhcp_opts", "dns_name",
    "qos_policy_id", "propagate_uplink_status",
)  # fmt: skip
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


def visible_ports(world: World, creds: Credentials) -> list[Port]:
    """Every port ``creds`` may see."""
    return [p for p in all_ports(world) if sees(creds, p.project_id)]


def visible_port(world: World, creds: Credentials, ref: str) -> Port:
    """A port ``creds`` may see, by id; 404 ``PortNotFound``."""
    port = find_port(world, ref)
    if not sees(creds, port.project_id):
        raise OpenStackError(404, f"Port {ref} could not be found.", title="PortNotFound")
    return port


def _groups(
    world: World, change: Change, body: dict[str, Any], project_id: str, default: list[str] | None
) -> list[str]:
    from dcsim_openstack.network.security import ensure_default_group, find_group

    value = body.get("security_groups")
    if value is None:
        return default if default is not None else [ensure_default_group(world, change, project_id).id]
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise OpenStackError(400, "Invalid input for security_groups: a list of ids is expected.")
    for ref in value:
        if find_group(world, ref).project_id != project_id:
            raise OpenStackError(404, f"Security group {ref} does not exist", title="SecurityGroupNotFound")
    return list(value)


def _addresses(world: World, network: Network, body: dict[str, Any]) -> list[FixedIp]:
    value = body.get("fixed_ips")
    if value is None:
        return [allocate(world, network)]
    if not isinstance(value, list) or not all(
        isinstance(ip, dict) and set(ip) <= {"subnet_id", "ip_address"} for ip in value
    ):
        raise OpenStackError(400, "Invalid input for fixed_ips: a list of {subnet_id, ip_address} is expected.")
    chosen: list[FixedIp] = []
    for ip in value:
        address = allocate(world, network, subnet_id=ip.get("subnet_id"), ip_address=ip.get("ip_address"))
        if any(c.ip_address == address.ip_address for c in chosen):
            raise OpenStackError(400, f"Duplicate IP address {address.ip_address} in fixed_ips.")
        chosen.append(address)
    return chosen


def create_port(world: World, change: Change, creds: Credentials, body: dict[str, Any]) -> Port:
    """Make a port: an address from its network's pools unless ``fixed_ips`` say otherwise,
    a ``fa:16:3e`` MAC unless ``mac_address`` is given, the project's ``default`` group
    unless ``security_groups`` are given."""
    from dcsim_openstack.network.networks import visible_network

    if not isinstance(body.get("network_id"), str):
        raise OpenStackError(400, "Invalid input for network_id: a network id is required.")
    network = visible_network(world, creds, body["network_id"])
    project_id = owner(creds, body)
    port_id = new_id()
    mac = text(body, "mac_address", mac_address(port_id)).lower()
    if not _MAC.match(mac):
        raise OpenStackError(400, f"Invalid input for mac_address. Reason: '{mac}' is not a valid MAC address.")
    if any(p.mac_address == mac and p.network_id == network.id for p in all_ports(world)):
        raise OpenStackError(
            409,
            f"Unable to complete operation for network {network.id}. The mac address {mac} is in use.",
            title="MacAddressInUse",
        )
    port = Port(
        id=port_id, name=text(body, "name"), network_id=network.id, project_id=project_id, mac_address=mac,
        fixed_ips=_addresses(world, network, body), device_id=text(body, "device_id"),
        device_owner=text(body, "device_owner"), admin_state_up=flag(body, "admin_state_up", True),
        description=text(body, "description"), security_group_ids=[],
    )  # fmt: skip
    port.security_group_ids = _groups(world, change, body, project_id, None)
    world.add(port)
    change.save(port)
    return port


def _stored(world: World, change: Change, port: Port) -> Port:
    """The port as the world keeps it; a port derived from a NIC becomes a made port now."""
    stored = world.find(Port, port.id)
    if stored is None or stored.id != port.id:
        stored = attrs.evolve(port)
        world.add(stored)
    change.save(stored)
    return stored


def update_port(world: World, change: Change, creds: Credentials, port: Port, body: dict[str, Any]) -> Port:
    """Change a port's name, description, admin state, security groups, device or (unbound
    ports) addresses; its network and MAC stay."""
    changes(creds, port.project_id)
    for fixed in ("network_id", "project_id", "tenant_id"):
        if fixed in body:
            raise OpenStackError(400, f"Cannot update read-only attribute {fixed}")
    if "mac_address" in body and str(body["mac_address"]).lower() != port.mac_address:
        raise OpenStackError(409, f"Port {port.id} MAC address cannot be changed while it is bound.", title="PortBound")
    if "fixed_ips" in body and port.device_owner.startswith(COMPUTE_OWNER):
        raise OpenStackError(409, "The addresses of a server's port change through the server.", title="PortInUse")
    groups = _groups(world, change, body, port.project_id, port.security_group_ids)
    stored = _stored(world, change, port)
    if "fixed_ips" in body:
        stored.fixed_ips = []  # its own addresses are free to be given again
        try:
            stored.fixed_ips = _addresses(world, world.get(Network, stored.network_id), body)
        except OpenStackError:
            stored.fixed_ips = port.fixed_ips
            raise
    stored.name = text(body, "name", stored.name)
    stored.description = text(body, "description", stored.description)
    stored.admin_state_up = flag(body, "admin_state_up", stored.admin_state_up)
    stored.device_id = text(body, "device_id", stored.device_id)
    stored.device_owner = text(body, "device_owner", stored.device_owner)
    stored.security_group_ids = groups
    return stored


def delete_port(world: World, change: Change, creds: Credentials, port: Port) -> None:
    """Delete a port: a server's port takes the server's NIC with it; a router's is a 409
    (it goes with ``remove_router_interface``); floating IPs on it are disassociated."""
    changes(creds, port.project_id)
    if port.device_owner.startswith("network:router"):
        raise OpenStackError(
            409, f"Port {port.id} cannot be deleted directly via the port API: has device owner {port.device_owner}.",
            title="ServicePortInUse",
        )  # fmt: skip
    vm = world.find(Vm, port.device_id) if port.device_id else None
    if vm is not None and vm.id == port.device_id:
        vm.nics = [n for n in vm.nics if n.mac != port.mac_address]
        change.save(vm)
    for floating in world.all(FloatingIp):
        if floating.port_id == port.id:
            floating.port_id = floating.fixed_ip_address = floating.router_id = None
            change.save(floating)
    stored = world.find(Port, port.id)
    if stored is not None and stored.id == port.id:
        world.remove(stored)
        change.remove(stored)


__all__ = ["PORT_FIELDS", "create_port", "delete_port", "update_port", "visible_port", "visible_ports"]
