"""The request and response models of the ``/vcenter`` REST API.

Field names and enumerations are the vSphere Automation API's (``power_state:
POWERED_ON``, ``memory.size_MiB``, ``guest_OS: RHEL_9_64``), so a user of that API reads
them without a glossary; the shapes are dc-sim's (msgspec Structs, strict input,
``Page[T]`` lists, problem documents). Identifiers are the simulation's ids; every path
parameter also takes a name.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from dcsim.sim.model import GuestOs
from dcsim.web.contracts import DiskGb, Label, MemoryMb, Model, Name, Vcpus

VmPowerState = Literal["POWERED_ON", "POWERED_OFF", "SUSPENDED"]
HostPowerState = Literal["POWERED_ON", "POWERED_OFF", "STANDBY"]
ConnectionState = Literal["CONNECTED", "DISCONNECTED", "NOT_RESPONDING"]
NetworkType = Literal["STANDARD_PORTGROUP", "DISTRIBUTED_PORTGROUP"]
GuestOsId = Literal["RHEL_9_64", "UBUNTU_64"]
PowerAction = Literal["start", "stop", "suspend", "reset"]
MetricName = Literal["cpu.usage", "mem.usage", "disk.usage", "disk.read", "disk.write", "net.usage"]

#: vSphere's guest OS identifiers of the simulation's guests.
GUEST_IDS: dict[GuestOs, GuestOsId] = {GuestOs.RHEL9: "RHEL_9_64", GuestOs.UBUNTU22: "UBUNTU_64"}
GUESTS: dict[GuestOsId, GuestOs] = {v: k for k, v in GUEST_IDS.items()}

Id = Annotated[str, msgspec.Meta(description="The object's id in the simulation")]


# Inventory --------------------------------------------------------------------------


class DatacenterSummary(msgspec.Struct, kw_only=True):
    """A vSphere datacenter."""

    datacenter: Id
    name: str


class ClusterSummary(msgspec.Struct, kw_only=True):
    """A vSphere cluster with its HA and DRS settings."""

    cluster: Id
    name: str
    datacenter: Id
    ha_enabled: bool
    drs_enabled: bool
    drs_behavior: Annotated[
        Literal["fullyAutomated", "partiallyAutomated", "manual"] | None,
        msgspec.Meta(description="DRS automation level; null when the cluster has no DRS setting"),
    ]
    resource_pools: Annotated[list[str], msgspec.Meta(description="Names of the cluster's child resource pools")]


class HostSummary(msgspec.Struct, kw_only=True):
    """An ESXi host: DISCONNECTED while it has failed."""

    host: Id
    name: str
    cluster: Id
    connection_state: ConnectionState
    power_state: HostPowerState
    cpu_cores: int
    memory_size_MiB: int


class DatastoreSummary(msgspec.Struct, kw_only=True):
    """A datastore under its vSphere name, sizes in bytes as vSphere gives them."""

    datastore: Id
    name: str
    type: Literal["VMFS", "NFS", "vsan"]
    capacity: int
    free_space: int


class NetworkSummary(msgspec.Struct, kw_only=True):
    """A standard port group (the id is its network's) or a distributed port group."""

    network: Id
    name: str
    type: NetworkType
    vlan: int | None
    switch: Annotated[str, msgspec.Meta(description="vSwitch0, or the distributed switch's name")]


# VMs -------------------------------------------------------------------------------


class VmSummary(msgspec.Struct, kw_only=True):
    """A VM in a list."""

    vm: Id
    name: str
    power_state: VmPowerState
    cpu_count: int
    memory_size_MiB: int


class CpuInfo(msgspec.Struct, kw_only=True):
    """A VM's virtual CPUs."""

    count: int
    cores_per_socket: int
    hot_add_enabled: bool
    hot_remove_enabled: bool


class MemoryInfo(msgspec.Struct, kw_only=True):
    """A VM's memory."""

    size_MiB: int
    hot_add_enabled: bool


class DiskInfo(msgspec.Struct, kw_only=True):
    """A virtual disk, its capacity in bytes."""

    label: str
    capacity: int
    datastore: Annotated[str | None, msgspec.Meta(description="The datastore's vSphere name")]


class NicInfo(msgspec.Struct, kw_only=True):
    """A virtual NIC."""

    label: str
    mac_address: str
    network: Id
    ip_address: str | None


class Hardware(msgspec.Struct, kw_only=True):
    """A VM's virtual hardware."""

    version: str
    cpu: CpuInfo
    memory: MemoryInfo
    disks: list[DiskInfo]
    nics: list[NicInfo]


class VmInfo(msgspec.Struct, kw_only=True):
    """One VM: placement, guest, power and hardware."""

    vm: Id
    name: str
    guest_OS: GuestOsId | None
    power_state: VmPowerState
    host: Id
    cluster: Id
    datacenter: Id
    resource_pool: Annotated[str, msgspec.Meta(description="The resource pool's name; Resources is the root pool")]
    hardware: Hardware


class PowerInfo(msgspec.Struct, kw_only=True):
    """A VM's power state."""

    state: VmPowerState


class MetricSample(msgspec.Struct, kw_only=True):
    """One counter of a VM now."""

    name: MetricName
    value: float
    unit: Literal["percent", "KBps"]


class VmMetrics(msgspec.Struct, kw_only=True):
    """A VM's counters, from the simulated metrics at one instant."""

    vm: Id
    name: str
    timestamp: Annotated[str, msgspec.Meta(description="When the values were taken (RFC 3339)")]
    samples: list[MetricSample]


# Requests ------------------------------------------------------------------------------


class Placement(Model):
    """Where a new VM goes: a host, a cluster, or a resource pool (its cluster)."""

    host: Name | None = None
    cluster: Name | None = None
    resource_pool: Name | None = None


class CpuUpdate(Model):
    """Body of ``PATCH /vcenter/vm/{vm}/hardware/cpu`` (the VM powered off)."""

    count: Vcpus


class MemoryUpdate(Model):
    """Body of ``PATCH /vcenter/vm/{vm}/hardware/memory`` (the VM powered off)."""

    size_MiB: MemoryMb


class VmCreate(Model):
    """Body of ``POST /vcenter/vm``: a VM, powered off unless ``power_on``."""

    name: Name
    placement: Placement
    guest_OS: GuestOsId = "RHEL_9_64"
    cpu: CpuUpdate = msgspec.field(default_factory=lambda: CpuUpdate(count=2))
    memory: MemoryUpdate = msgspec.field(default_factory=lambda: MemoryUpdate(size_MiB=4096))
    disk_GiB: DiskGb = 40
    network: Annotated[
        Label | None, msgspec.Meta(description="A port group's name (VM Network); the datacenter's first if null")
    ] = None
    power_on: bool = False


class PowerRequest(Model):
    """Body of ``POST /vcenter/vm/{vm}/power``."""

    action: PowerAction


__all__ = [
    "GUESTS",
    "GUEST_IDS",
    "ClusterSummary",
    "CpuInfo",
    "CpuUpdate",
    "DatacenterSummary",
    "DatastoreSummary",
    "DiskInfo",
    "Hardware",
    "HostSummary",
    "MemoryInfo",
    "MemoryUpdate",
    "MetricName",
    "MetricSample",
    "NetworkSummary",
    "NicInfo",
    "Placement",
    "PowerInfo",
    "PowerRequest",
    "VmCreate",
    "VmInfo",
    "VmMetrics",
    "VmPowerState",
    "VmSummary",
]
