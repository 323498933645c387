"""Addresses on Neutron's networks: allocation pools, what is in use, what is free.

Every address in use on a network is found in the world: servers' NICs (core's
``Vm.nics``), ports' fixed IPs, subnets' gateways and floating IPs; nothing keeps a
second list that could disagree.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from dcsim.sim.model import Network, Project, Subnet, Vm
from dcsim.sim.world import World
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.network.model import AllocationPool, FixedIp, FloatingIp, NeutronNetwork, NeutronSubnet, Port


def parse_cidr(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``cidr`` as a network; a 400 (``InvalidInput``) when it is not one (host bits set included)."""
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        raise OpenStackError(400, f"Invalid input for cidr. Reason: '{cidr}' is not a valid IP subnet.") from None


def default_gateway(cidr: str) -> str:
    """The first host address of ``cidr``, Neutron's default gateway."""
    return str(next(ipaddress.ip_network(cidr).hosts()))


def _int(address: str) -> int:
    return int(ipaddress.ip_address(address))


def _text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def default_pools(cidr: str, gateway: str | None) -> list[AllocationPool]:
    """Every host address of ``cidr`` but the gateway, as Neutron pools them."""
    net = ipaddress.ip_network(cidr)
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - (1 if net.version == 4 else 0)
    if net.prefixlen >= net.max_prefixlen - 1:
        first, last = int(net.network_address), int(net.broadcast_address)
    pools, start = [], first
    if gateway and first <= _int(gateway) <= last:
        gw = _int(gateway)
        if gw > first:
            pools.append(AllocationPool(start=_text(net.version, first), end=_text(net.version, gw - 1)))
        start = gw + 1
    if start <= last:
        pools.append(AllocationPool(start=_text(net.version, start), end=_text(net.version, last)))
    return pools


def check_pools(cidr: str, gateway: str | None, pools: list[AllocationPool]) -> None:
    """A 400 unless every pool is an ordered range inside ``cidr``; a 409 when one holds the gateway."""
    net = ipaddress.ip_network(cidr)
    for pool in pools:
        try:
            start, end = ipaddress.ip_address(pool.start), ipaddress.ip_address(pool.end)
        except ValueError:
            raise OpenStackError(400, f"Invalid allocation pool {pool.start}-{pool.end}") from None
        if start not in net or end not in net or int(start) > int(end):
            raise OpenStackError(
                400, f"The allocation pool {pool.start}-{pool.end} spans beyond the subnet cidr {cidr}."
            )
        if gateway and int(start) <= _int(gateway) <= int(end):
            raise OpenStackError(
                409,
                f"Gateway ip {gateway} conflicts with allocation pool {pool.start}-{pool.end}",
                title="GatewayConflictWithAllocationPools",
            )


def project_of(world: World, network: Network) -> str:
    """The project of a network with no Neutron record: the first project of its site."""
    return next((p.id for p in world.all(Project) if p.datacenter_id == network.datacenter_id), "")


def network_record(world: World, network: Network) -> NeutronNetwork:
    """Neutron's attributes of ``network`` (its defaults for a network Neutron never saw)."""
    return world.find(NeutronNetwork, network.id) or NeutronNetwork(
        id=network.id, name=network.name, project_id=project_of(world, network)
    )


def subnet_record(world: World, subnet: Subnet) -> NeutronSubnet:
    """Neutron's attributes of ``subnet`` (its defaults for a subnet Neutron never saw)."""
    found = world.find(NeutronSubnet, subnet.id)
    if found is not None:
        return found
    network = world.get(Network, subnet.network_id)
    return NeutronSubnet(
        id=subnet.id,
        name=subnet.name,
        project_id=project_of(world, network),
        ip_version=ipaddress.ip_network(subnet.cidr).version,
        allocation_pools=default_pools(subnet.cidr, subnet.gateway_ip),
    )


def subnets_of(world: World, network_id: str) -> list[Subnet]:
    """The subnets of a network, in creation order."""
    return [s for s in world.all(Subnet) if s.network_id == network_id]


def used_addresses(world: World, network_id: str) -> set[str]:
    """Every address in use on a network: NICs, ports, gateways, floating IPs."""
    used = {nic.ip for vm in world.all(Vm) for nic in vm.nics if nic.network_id == network_id and nic.ip}
    used |= {ip.ip_address for p in world.all(Port) if p.network_id == network_id for ip in p.fixed_ips}
    used |= {s.gateway_ip for s in subnets_of(world, network_id) if s.gateway_ip}
    used |= {f.floating_ip_address for f in world.all(FloatingIp) if f.floating_network_id == network_id}
    return used


def _pool_addresses(pools: list[AllocationPool]) -> Iterator[str]:
    for pool in pools:
        version = ipaddress.ip_address(pool.start).version
        for value in range(_int(pool.start), _int(pool.end) + 1):
            yield _text(version, value)


def allocate(world: World, network: Network, subnet_id: str | None = None, ip_address: str | None = None) -> FixedIp:
    """An address for a new port on ``network``: ``ip_address`` if given and free, else the
    first free one of the subnets' pools (the first subnet, in creation order, with one free).

    Raises:
        OpenStackError: 400 for an address outside the subnet, 409 ``IpAddressAlreadyAllocated``
            or ``IpAddressGenerationFailure`` (no subnet, or no free address).
    """
    used = used_addresses(world, network.id)
    subnets = [s for s in subnets_of(world, network.id) if subnet_id in (None, s.id)]
    if subnet_id and not subnets:
        raise OpenStackError(400, f"Subnet {subnet_id} is not on network {network.id}")
    if ip_address is not None:
        owner = next((s for s in subnets if _contains(s.cidr, ip_address)), None)
        if owner is None:
            raise OpenStackError(400, f"IP address {ip_address} is not a valid IP for the specified subnet.")
        if ip_address in used:
            raise OpenStackError(
                409,
                f"IP address {ip_address} already allocated in subnet {owner.id}",
                title="IpAddressAlreadyAllocated",
            )
        return FixedIp(subnet_id=owner.id, ip_address=ip_address)
    for subnet in subnets:
        record = subnet_record(world, subnet)
        free = next((a for a in _pool_addresses(record.allocation_pools) if a not in used), None)
        if free is not None:
            return FixedIp(subnet_id=subnet.id, ip_address=free)
    raise OpenStackError(
        409, f"No more IP addresses available on network {network.id}.", title="IpAddressGenerationFailure"
    )


def _contains(cidr: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
    except ValueError:
        return False


__all__ = [
    "allocate",
    "check_pools",
    "default_gateway",
    "default_pools",
    "network_record",
    "parse_cidr",
    "project_of",
    "subnet_record",
    "subnets_of",
    "used_addresses",
]
