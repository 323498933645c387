"""Ports: Neutron's view of NICs, and what Nova calls to give a server its NICs.

A server's NICs are core's ``Vm.nics``: the one truth for its MACs and addresses.
Every NIC of a cloud server shows as a port (``device_id`` the server's id,
``device_owner`` ``compute:<zone>``): the port Nova asked Neutron for
(:func:`allocate_port`), a port handed to Nova by id (:func:`claim_port`), or, for a
NIC no port was ever made for (the seed's instances, a VM made through ``/sim``), a
port derived from the NIC itself (:func:`nic_port`), whose id is stable.

Nova's server create calls, inside its engine transaction, one of::

    nic = allocate_port(world, change, network=net_id, project_id=p, server_id=vm_id, zone="nova")
    nic = claim_port(world, change, port=port_id, project_id=p, server_id=vm_id, zone="nova")

and puts each returned ``Nic`` on the new ``Vm``; its delete calls
``release_ports(world, change, vm_id)`` (ports Nova made go, ports handed to it stay,
unbound).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from typing import Any

import attrs

from dcsim.model import new_id
from dcsim.sim.events import Change
from dcsim.sim.model import Cluster, Host, Network, Nic, Vm
from dcsim.sim.world import World
from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import MAC_PREFIX, PLATFORM
from dcsim_openstack.network.access import changes, flag, owner, sees, text
from dcsim_openstack.network.addresses import allocate, network_record, subnets_of
from dcsim_openstack.network.model import FixedIp, FloatingIp, Port

#: Derives the stable ids of ports made from NICs.
_NIC_PORT_NAMESPACE = uuid.UUID("6f1b3c1e-2f53-4a0e-9c55-7d2b8a1e0c42")

#: The ``device_owner`` prefix of a server's ports.
COMPUTE_OWNER = "compute:"


def mac_address(seed: str) -> str:
    """A MAC under OpenStack's prefix ``fa:16:3e``, derived from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    return MAC_PREFIX + "".join(f":{b:02x}" for b in digest[:3])


def find_network(world: World, ref: str) -> Network:
    """A Neutron network (a core network of the cloud site) by id; 404 ``NetworkNotFound``."""
    network = world.find(Network, ref)
    if network is None or network.id != ref or network.platform != PLATFORM:
        raise OpenStackError(404, f"Network {ref} could not be found.", title="NetworkNotFound")
    return network


def find_port(world: World, ref: str) -> Port:
    """A port (made or derived from a NIC) by id; 404 ``PortNotFound``."""
    port = next((p for p in all_ports(world) if p.id == ref), None)
    if port is None:
        raise OpenStackError(404, f"Port {ref} could not be found.", title="PortNotFound")
    return port


def allocate_port(
    world: World,
    change: Change,
    *,
    network: str,
    project_id: str,
    server_id: str,
    zone: str,
    fixed_ip: str | None = None,
    security_group_ids: list[str] | None = None,
) -> Nic:
    """Make a port on ``network`` for the server ``server_id`` being created and return its NIC.

    Call it inside the server's engine transaction (``sim.transaction()``), before the
    ``Vm`` is added; put the NIC on the ``Vm``. The port gets the first free address of
    the network's subnets (or ``fixed_ip``), a ``fa:16:3e`` MAC, ``device_owner``
    ``compute:<zone>`` and the project's ``default`` security group unless
    ``security_group_ids`` are given; it is deleted with the server.

    Raises:
        OpenStackError: 404 ``NetworkNotFound``; 409 ``IpAddressGenerationFailure``
            (no subnet or no free address), ``IpAddressAlreadyAllocated``; 400 for a
            ``fixed_ip`` outside the subnets.
    """
    from dcsim_openstack.network.security import ensure_default_group

    net = find_network(world, network)
    address = allocate(world, net, ip_address=fixed_ip)
    if security_group_ids is None:
        security_group_ids = [ensure_default_group(world, change, project_id).id]
    port_id = new_id()
    port = Port(
        id=port_id,
        name="",
        network_id=net.id,
        project_id=project_id,
        mac_address=mac_address(port_id),
        fixed_ips=[address],
        device_id=server_id,
        device_owner=COMPUTE_OWNER + zone,
        security_group_ids=list(security_group_ids),
        delete_with_device=True,
    )
    world.add(port)
    change.save(port)
    return nic_of(port)


def claim_port(world: World, change: Change, *, port: str, project_id: str, server_id: str, zone: str) -> Nic:
    """Bind the existing port ``port`` (an id) to the server ``server_id`` being created and
    return its NIC (same MAC and address); the port stays when the server goes.

    Raises:
        OpenStackError: 404 ``PortNotFound`` (also for another project's port), 409
            ``PortInUse`` when a device has it already.
    """
    found = world.find(Port, port)
    if found is None or found.project_id != project_id:
        raise OpenStackError(404, f"Port {port} could not be found.", title="PortNotFound")
    if found.device_id:
        raise OpenStackError(409, f"Port {found.id} is still in use by device {found.device_id}.", title="PortInUse")
    found.device_id, found.device_owner = server_id, COMPUTE_OWNER + zone
    change.save(found)
    return nic_of(found)


def release_ports(world: World, change: Change, server_id: str) -> None:
    """The server ``server_id`` is going: delete the ports made for it, unbind those handed
    to it, and disassociate floating IPs from both (as Neutron does)."""
    for port in [p for p in world.all(Port) if p.device_id == server_id and p.device_owner.startswith(COMPUTE_OWNER)]:
        for floating in world.all(FloatingIp):
            if floating.port_id == port.id:
                floating.port_id = floating.fixed_ip_address = floating.router_id = None
                change.save(floating)
        if port.delete_with_device:
            world.remove(port)
            change.remove(port)
        else:
            port.device_id = port.device_owner = ""
            change.save(port)


def nic_of(port: Port) -> Nic:
    """The NIC a server gets for ``port``."""
    return Nic(
        mac=port.mac_address, network_id=port.network_id, ip=port.fixed_ips[0].ip_address if port.fixed_ips else None
    )


def _zone(world: World, vm: Vm) -> str:
    host = world.find(Host, vm.host_id)
    cluster = world.find(Cluster, host.cluster_id) if host else None
    return cluster.name if cluster else "nova"


def _fixed_ips(world: World, network_id: str, ip: str | None) -> list[FixedIp]:
    if not ip:
        return []
    for subnet in subnets_of(world, network_id):
        if ipaddress.ip_address(ip) in ipaddress.ip_network(subnet.cidr):
            return [FixedIp(subnet_id=subnet.id, ip_address=ip)]
    return []


def nic_port(world: World, vm: Vm, nic: Nic) -> Port:
    """The port of a NIC no port was made for: a stable id, the server's project and zone."""
    from dcsim_openstack.network.security import default_group

    network = world.get(Network, nic.network_id)
    project_id = vm.project_id or network_record(world, network).project_id
    group = default_group(world, project_id)
    return Port(
        id=str(uuid.uuid5(_NIC_PORT_NAMESPACE, f"{vm.id}/{nic.mac}")),
        name="",
        network_id=nic.network_id,
        project_id=project_id,
        mac_address=nic.mac,
        fixed_ips=_fixed_ips(world, nic.network_id, nic.ip),
        device_id=vm.id,
        device_owner=COMPUTE_OWNER + _zone(world, vm),
        security_group_ids=[group.id] if group else [],
        created_at=vm.created_at,
    )


def all_ports(world: World) -> list[Port]:
    """Every port: those made through Neutron or Nova (a bound one with its server's NIC's
    address, the truth), then one per cloud server NIC no port was made for."""
    servers = {vm.id: vm for vm in world.all(Vm) if vm.platform == PLATFORM}
    made: list[Port] = []
    for port in world.all(Port):
        vm = servers.get(port.device_id)
        nic = next((n for n in vm.nics if n.mac == port.mac_address), None) if vm else None
        made.append(attrs.evolve(port, fixed_ips=_fixed_ips(world, port.network_id, nic.ip)) if nic else port)
    by_mac = {p.mac_address for p in made}
    nic_ports: list[Port] = []
    for vm in servers.values():
        for nic in vm.nics:
            network = world.find(Network, nic.network_id)
            if nic.mac not in by_mac and network is not None and network.platform == PLATFORM:
                nic_ports.append(nic_port(world, vm, nic))
    return made + nic_ports


def server_ports(world: World, vm: Vm) -> list[Port]:
    """The ports of server ``vm``, in the order of its NICs."""
    ports = {p.mac_address: p for p in all_ports(world) if p.device_id == vm.id}
    return [ports[nic.mac] for nic in vm.nics if nic.mac in ports]


def auto_network(world: World, project_id: str) -> Network:
    """The network Nova boots a server on when none is asked for: the project's first
    network that is not external, else a shared one.

    Raises:
        OpenStackError: 409 when there is none.
    """
    candidates = [n for n in world.all(Network) if n.platform == PLATFORM and subnets_of(world, n.id)]
    records = [(n, network_record(world, n)) for n in candidates]
    for shared in (False, True):
        for network, record in records:
            if not record.external and (record.shared if shared else record.project_id == project_id):
                return network
    raise OpenStackError(409, "No network is available to the project.", title="NetworkNotFound")


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


__all__ = [
    "COMPUTE_OWNER",
    "PORT_FIELDS",
    "all_ports",
    "allocate_port",
    "auto_network",
    "claim_port",
    "create_port",
    "delete_port",
    "find_network",
    "find_port",
    "mac_address",
    "nic_of",
    "nic_port",
    "release_ports",
    "server_ports",
    "update_port",
    "visible_port",
    "visible_ports",
]
