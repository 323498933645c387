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
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from dcsim.model import Event, new_id
from dcsim.sim.events import Change
from dcsim.sim.model import Cluster, Host, Network, Nic, Vm
from dcsim.sim.world import World
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.model import MAC_PREFIX, PLATFORM
from dcsim_openstack.network.addresses import allocate, network_record, subnets_of
from dcsim_openstack.network.model import FixedIp, FloatingIp, Port

if TYPE_CHECKING:
    from dcsim.app import DcSim

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


def server_addresses(world: World, vm: Vm) -> dict[str, list[dict[str, Any]]]:
    """Nova's ``addresses`` of server ``vm``: by Neutron's network name, each NIC's fixed
    address then the floating IPs associated with its port (``OS-EXT-IPS:type``
    ``fixed`` / ``floating``), as Nova's network info cache shows them.

    Nova's server views call it, so a floating IP associated through Neutron shows on
    the server (openstacksdk's ``auto_ip`` waits for exactly that).
    """
    ports = {p.mac_address: p for p in server_ports(world, vm)}
    result: dict[str, list[dict[str, Any]]] = {}
    for nic in vm.nics:
        network = world.find(Network, nic.network_id)
        name = network_record(world, network).name if network is not None else nic.network_id
        entries = result.setdefault(name, [])
        if not nic.ip:
            continue
        entries.append(_address(nic.ip, "fixed", nic.mac))
        port = ports.get(nic.mac)
        for floating in world.all(FloatingIp):
            if port is not None and floating.port_id == port.id and floating.fixed_ip_address == nic.ip:
                entries.append(_address(floating.floating_ip_address, "floating", nic.mac))
    return result


def _address(ip: str, kind: str, mac: str) -> dict[str, Any]:
    return {"version": 6 if ":" in ip else 4, "addr": ip, "OS-EXT-IPS:type": kind, "OS-EXT-IPS-MAC:mac_addr": mac}


async def on_vm_destroyed(dcsim: DcSim, event: Event) -> None:
    """Bus subscriber of ``vm.destroyed``: however a server went (Nova, ``/sim``), the
    ports made for it go and those handed to it are unbound (nothing to do when Nova's
    delete released them already)."""
    server_id = str(event.data.get("vm", {}).get("id", ""))
    sim = dcsim.sim
    if server_id and any(p.device_id == server_id for p in sim.world.all(Port)):
        async with sim.transaction() as change:
            release_ports(sim.world, change, server_id)


__all__ = [
    "COMPUTE_OWNER",
    "all_ports",
    "allocate_port",
    "auto_network",
    "claim_port",
    "find_network",
    "find_port",
    "mac_address",
    "nic_of",
    "nic_port",
    "on_vm_destroyed",
    "release_ports",
    "server_addresses",
    "server_ports",
]
