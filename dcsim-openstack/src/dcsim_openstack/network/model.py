"""Neutron's kinds: what Neutron adds to core's networks and subnets, ports, floating IPs.

Core's ``Network`` and ``Subnet`` stay the networks and subnets every view shares;
``NeutronNetwork`` and ``NeutronSubnet`` carry Neutron's attributes of them, under the
same id (a vendor view takes core's objects by id, specs/009). Objects of these kinds
may share names, as Neutron's do.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from dcsim.model import utcnow


@attrs.define(kw_only=True)
class NeutronNetwork:
    """Neutron's attributes of a core network (same id)."""

    id: str
    name: str
    project_id: str
    external: bool = False
    shared: bool = False
    admin_state_up: bool = True
    mtu: int = 1450
    description: str = ""
    created_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class AllocationPool:
    """A range of addresses ports are given from (both ends included)."""

    start: str
    end: str


@attrs.define(kw_only=True)
class NeutronSubnet:
    """Neutron's attributes of a core subnet (same id)."""

    id: str
    name: str
    project_id: str
    ip_version: int = 4
    enable_dhcp: bool = True
    allocation_pools: list[AllocationPool] = attrs.field(factory=list)
    dns_nameservers: list[str] = attrs.field(factory=list)
    description: str = ""
    created_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class FixedIp:
    """An address of a port on one subnet."""

    subnet_id: str
    ip_address: str


@attrs.define(kw_only=True)
class Port:
    """A Neutron port: a MAC and addresses on a network, maybe bound to a device.

    A port bound to a server (``device_owner`` ``compute:<zone>``) takes its address
    from the server's NIC of the same MAC (core's ``Vm.nics``), which is the truth.
    """

    id: str
    name: str
    network_id: str
    project_id: str
    mac_address: str
    fixed_ips: list[FixedIp] = attrs.field(factory=list)
    device_id: str = ""
    device_owner: str = ""
    security_group_ids: list[str] = attrs.field(factory=list)
    admin_state_up: bool = True
    description: str = ""
    #: Made by Nova for a server (not handed to it by id): goes when the server does.
    delete_with_device: bool = False
    created_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class FloatingIp:
    """A floating IP from an external network, maybe associated with a port."""

    id: str
    name: str
    project_id: str
    floating_network_id: str
    floating_ip_address: str
    port_id: str | None = None
    fixed_ip_address: str | None = None
    router_id: str | None = None
    description: str = ""
    created_at: datetime = attrs.field(factory=utcnow)


#: Neutron's kinds by the names core's world, store and API use.
KINDS: dict[str, type] = {
    "neutron_network": NeutronNetwork,
    "neutron_subnet": NeutronSubnet,
    "port": Port,
    "floating_ip": FloatingIp,
}

__all__ = ["KINDS", "AllocationPool", "FixedIp", "FloatingIp", "NeutronNetwork", "NeutronSubnet", "Port"]
