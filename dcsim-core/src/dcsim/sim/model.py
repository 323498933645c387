"""The generic object model of the simulated estate: the physics of any datacenter.

Every object has an ``id`` (stable, a UUID string) and a ``name``; references between
objects are ids. Objects are plain attrs classes, stored through the one cattrs
converter; the engine (``dcsim.sim.engine``) is the only writer. Kinds that exist in
one vendor's API only are registered by that vendor's package through
``dcsim_sim_register_kinds`` (see ``specs/009-core-and-vendors.md``).

``platform`` is an open string: the label of the view an object belongs to (the
default seed's are in ``dcsim.sim.seed``); core never branches on it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from dcsim.model import utcnow


class PowerState(enum.Enum):
    """Power state of a VM, a host or a blade."""

    ON = "on"
    OFF = "off"
    SUSPENDED = "suspended"


class HealthStatus(enum.Enum):
    """Operational health of a host or a physical server."""

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
    """The guest side of a VM or of a bare-metal server: what SSH and Ansible reach."""

    name: str
    guest_os: GuestOs
    ssh_port: int
    ansible_user: str = "root"
    env: str = "dev"
    labels: dict[str, str] = attrs.field(factory=dict)
    #: Public keys (``authorized_keys`` lines) that may log in besides dc-sim's own key:
    #: a vendor's key pairs reach the node this way.
    authorized_keys: list[str] = attrs.field(factory=list)
    #: Made on first touch: the backend keeps only its identity and power state until a
    #: file, package or snapshot of it is asked for (a generated estate's thousands of nodes).
    lazy: bool = False


@attrs.define(kw_only=True)
class Datacenter:
    """A site or region."""

    id: str
    name: str
    platform: str


@attrs.define(kw_only=True)
class Cluster:
    """A cluster or availability zone: hosts that share VMs."""

    id: str
    name: str
    datacenter_id: str
    platform: str
    ha_enabled: bool = True


@attrs.define(kw_only=True)
class Host:
    """A hypervisor host; ``blade_id`` names the physical server it runs on, if any."""

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
    """A network: a VLAN, a tenant network, with its prefix."""

    id: str
    name: str
    datacenter_id: str
    platform: str
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
    """A virtual machine (or cloud instance)."""

    id: str
    name: str
    platform: str
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
class Chassis:
    """A chassis (or rack enclosure) with numbered slots for physical servers."""

    id: str
    name: str
    datacenter_id: str
    platform: str
    number: int
    model: str
    serial: str
    slots: int = 8


@attrs.define(kw_only=True)
class Blade:
    """A physical server in a chassis slot; with ``node`` set it runs a bare-metal guest dc-sim can reach."""

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
    node: Node | None = None


@attrs.define(kw_only=True)
class Project:
    """A tenant (project) of a site."""

    id: str
    name: str
    datacenter_id: str


@attrs.define(kw_only=True)
class Flavor:
    """A size (flavor) VMs are made with."""

    id: str
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int


@attrs.define(kw_only=True)
class Image:
    """A guest image VMs are made from."""

    id: str
    name: str
    guest_os: GuestOs
    min_disk_gb: int = 10


@attrs.define(kw_only=True)
class Subnet:
    """A subnet (prefix and gateway) of a network."""

    id: str
    name: str
    network_id: str
    cidr: str
    gateway_ip: str


@attrs.define(kw_only=True)
class Volume:
    """A block volume, attached to at most one VM."""

    id: str
    name: str
    project_id: str
    size_gb: int
    attached_to: str | None = None


#: Core's kinds, by the name used in the store, the API and events (vendors add theirs
#: through ``dcsim_sim_register_kinds``).
CORE_KINDS: dict[str, type] = {
    "datacenter": Datacenter,
    "cluster": Cluster,
    "host": Host,
    "network": Network,
    "datastore": Datastore,
    "vm": Vm,
    "chassis": Chassis,
    "blade": Blade,
    "project": Project,
    "flavor": Flavor,
    "image": Image,
    "subnet": Subnet,
    "volume": Volume,
}
