"""The object model of the simulated estate: one world that every vendor view presents.

Every object has an ``id`` (stable, a UUID string) and a ``name``; references between
objects are ids. Objects are plain attrs classes, stored through the one cattrs
converter; the engine (``dcsim.sim.engine``) is the only writer.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from dcsim.model import utcnow


class Platform(enum.Enum):
    """Which vendor's view an object belongs to."""

    VMWARE = "vmware"
    OPENSTACK = "openstack"
    UCS = "ucs"


class PowerState(enum.Enum):
    """Power state of a VM, a host or a blade."""

    ON = "on"
    OFF = "off"
    SUSPENDED = "suspended"


class HealthStatus(enum.Enum):
    """Operational health of a host, blade or fabric interconnect."""

    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"


class GuestOs(enum.Enum):
    """Guest operating systems the simulation knows (its node images and package data)."""

    RHEL9 = "rhel9"
    UBUNTU22 = "ubuntu22"

    @property
    def family(self) -> str:
        """The package family: ``rhel`` or ``debian``."""
        return "rhel" if self is GuestOs.RHEL9 else "debian"

    @property
    def pretty_name(self) -> str:
        """The human name, as ``/etc/os-release`` has it."""
        return {GuestOs.RHEL9: "Red Hat Enterprise Linux 9.4 (Plow)", GuestOs.UBUNTU22: "Ubuntu 22.04.4 LTS"}[self]


@attrs.define(kw_only=True)
class Node:
    """The guest side of a VM, instance or bare-metal blade: what SSH and Ansible reach."""

    name: str
    guest_os: GuestOs
    ssh_port: int
    ansible_user: str = "root"
    env: str = "dev"
    labels: dict[str, str] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class Datacenter:
    """A site: a vSphere datacenter, an OpenStack region or a UCS domain's site."""

    id: str
    name: str
    platform: Platform


@attrs.define(kw_only=True)
class Cluster:
    """A vSphere cluster or an OpenStack availability zone: hosts that share VMs."""

    id: str
    name: str
    datacenter_id: str
    platform: Platform
    ha_enabled: bool = True


@attrs.define(kw_only=True)
class Host:
    """A hypervisor host; ``blade_id`` names the UCS blade it runs on, if any."""

    id: str
    name: str
    cluster_id: str
    cpu_cores: int
    memory_mb: int
    power_state: PowerState = PowerState.ON
    status: HealthStatus = HealthStatus.OK
    blade_id: str | None = None
    booted_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class Network:
    """A VLAN-backed port group or an OpenStack tenant network."""

    id: str
    name: str
    datacenter_id: str
    platform: Platform
    vlan: int | None = None
    cidr: str | None = None
    partitioned: bool = False


@attrs.define(kw_only=True)
class Datastore:
    """Shared storage of a datacenter."""

    id: str
    name: str
    datacenter_id: str
    capacity_gb: int
    used_gb: int = 0


@attrs.define(kw_only=True)
class Nic:
    """A virtual NIC."""

    mac: str
    network_id: str
    ip: str | None = None


@attrs.define(kw_only=True)
class Disk:
    """A virtual disk on a datastore."""

    label: str
    size_gb: int
    datastore_id: str | None = None


@attrs.define(kw_only=True)
class Snapshot:
    """A point-in-time copy of a VM's configuration and power state."""

    id: str
    name: str
    created_at: datetime
    cpu: int
    memory_mb: int
    power_state: PowerState
    disks: list[Disk]
    description: str = ""


@attrs.define(kw_only=True)
class Vm:
    """A virtual machine (vSphere) or an instance (OpenStack)."""

    id: str
    name: str
    platform: Platform
    host_id: str
    cpu: int
    memory_mb: int
    node: Node | None = None
    power_state: PowerState = PowerState.ON
    nics: list[Nic] = attrs.field(factory=list)
    disks: list[Disk] = attrs.field(factory=list)
    snapshots: list[Snapshot] = attrs.field(factory=list)
    load_profile: str = "normal"
    tags: dict[str, str] = attrs.field(factory=dict)
    project_id: str | None = None
    flavor: str | None = None
    image: str | None = None
    applications: list[str] = attrs.field(factory=list)
    created_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class UcsDomain:
    """A UCS Manager domain: a pair of fabric interconnects and their chassis."""

    id: str
    name: str
    datacenter_id: str
    firmware: str


@attrs.define(kw_only=True)
class FabricInterconnect:
    """Fabric interconnect A or B of a domain; one of them is the primary."""

    id: str
    name: str
    domain_id: str
    side: str
    model: str
    serial: str
    primary: bool
    status: HealthStatus = HealthStatus.OK


@attrs.define(kw_only=True)
class Chassis:
    """A blade chassis."""

    id: str
    name: str
    domain_id: str
    number: int
    model: str
    serial: str
    slots: int = 8


@attrs.define(kw_only=True)
class Blade:
    """A blade server; with ``node`` set it runs a bare-metal guest dc-sim can reach."""

    id: str
    name: str
    chassis_id: str
    slot: int
    model: str
    serial: str
    cpu: int
    memory_mb: int
    firmware: str
    power_state: PowerState = PowerState.ON
    status: HealthStatus = HealthStatus.OK
    service_profile_id: str | None = None
    node: Node | None = None


@attrs.define(kw_only=True)
class ServiceProfileTemplate:
    """A UCS service profile template."""

    id: str
    name: str
    domain_id: str
    guest_os: GuestOs
    firmware: str
    org: str = "org-root"


@attrs.define(kw_only=True)
class ServiceProfile:
    """A UCS service profile: a blade's identity (MACs, boot, firmware policy).

    ``power`` is the desired power (``up`` or ``down``) the associated blade follows;
    ``firmware_policy`` is the firmware version the blade should run.
    """

    id: str
    name: str
    domain_id: str
    template_id: str | None
    org: str = "org-root"
    blade_id: str | None = None
    power: str = "up"
    firmware_policy: str = ""
    macs: list[str] = attrs.field(factory=list)
    description: str = ""


@attrs.define(kw_only=True)
class Project:
    """An OpenStack project (tenant)."""

    id: str
    name: str
    datacenter_id: str


@attrs.define(kw_only=True)
class Flavor:
    """An OpenStack flavor."""

    id: str
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int


@attrs.define(kw_only=True)
class Image:
    """An OpenStack image."""

    id: str
    name: str
    guest_os: GuestOs
    min_disk_gb: int = 10


@attrs.define(kw_only=True)
class Keypair:
    """An OpenStack keypair (public key only)."""

    id: str
    name: str
    project_id: str
    public_key: str


@attrs.define(kw_only=True)
class Subnet:
    """An OpenStack subnet of a network."""

    id: str
    name: str
    network_id: str
    cidr: str
    gateway_ip: str


@attrs.define(kw_only=True)
class Router:
    """An OpenStack router and the subnets it joins."""

    id: str
    name: str
    project_id: str
    subnet_ids: list[str] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class SecurityGroup:
    """An OpenStack security group and its rules."""

    id: str
    name: str
    project_id: str
    rules: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class Volume:
    """An OpenStack block volume, attached to at most one instance."""

    id: str
    name: str
    project_id: str
    size_gb: int
    attached_to: str | None = None


#: Every kind of object, by the name used in the store, the API and events.
KINDS: dict[str, type] = {
    "datacenter": Datacenter,
    "cluster": Cluster,
    "host": Host,
    "network": Network,
    "datastore": Datastore,
    "vm": Vm,
    "ucs_domain": UcsDomain,
    "fabric_interconnect": FabricInterconnect,
    "chassis": Chassis,
    "blade": Blade,
    "service_profile_template": ServiceProfileTemplate,
    "service_profile": ServiceProfile,
    "project": Project,
    "flavor": Flavor,
    "image": Image,
    "keypair": Keypair,
    "subnet": Subnet,
    "router": Router,
    "security_group": SecurityGroup,
    "volume": Volume,
}

KIND_OF: dict[type, str] = {cls: kind for kind, cls in KINDS.items()}
