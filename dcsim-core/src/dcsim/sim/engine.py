"""The simulation engine: the only writer of the world.

Every change goes the same way, under one lock: check the transition, change the
objects, save them in one store transaction, drive the node backend, then publish the
events. Vendor adapters and the ``/sim`` API call these methods; nothing else writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import ipaddress
import itertools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from dcsim.convert import converter, to_json
from dcsim.drivers import load_driver
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.model import new_id, utcnow
from dcsim.sim.faults import Fault, FaultKind, Target
from dcsim.sim.model import (
    Blade,
    Chassis,
    Cluster,
    Datastore,
    Disk,
    FabricInterconnect,
    GuestOs,
    HealthStatus,
    Host,
    Network,
    Nic,
    Node,
    Platform,
    PowerState,
    Project,
    ServiceProfile,
    ServiceProfileTemplate,
    Snapshot,
    UcsDomain,
    Vm,
)
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.topology import MAC_PREFIX, Topology
from dcsim.sim.world import World, kind_of

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from dcsim.app import DcSim
    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

FAULTS_NAMESPACE = "sim.faults"
META_NAMESPACE = "sim.meta"
SOURCE = "/sim"

#: Power actions and the states they may start from.
POWER_ACTIONS: dict[str, tuple[set[PowerState], PowerState]] = {
    "on": ({PowerState.OFF, PowerState.SUSPENDED}, PowerState.ON),
    "off": ({PowerState.ON, PowerState.SUSPENDED}, PowerState.OFF),
    "suspend": ({PowerState.ON}, PowerState.SUSPENDED),
    "reset": ({PowerState.ON}, PowerState.ON),
}
#: A service profile's desired power and the blade power it means.
SP_POWER = {"up": PowerState.ON, "down": PowerState.OFF}
# UCS Manager's rule for service profile names.
_SP_NAME = re.compile(r"[A-Za-z0-9_.:-]{2,32}")

#: Event types the engine publishes, with what their data holds.
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "vm.created": ("a VM or instance was created", {"vm": "the VM as GET /sim/vms/{id} shows it"}),
    "vm.destroyed": ("a VM or instance was destroyed", {"vm": "the VM as it was"}),
    "vm.power_changed": (
        "a VM's power state changed",
        {"id": "VM id", "name": "VM name", "from": "previous state", "to": "new state", "reason": "why"},
    ),
    "vm.migrated": (
        "a VM moved to another host",
        {"id": "VM id", "name": "VM name", "from_host": "host name", "to_host": "host name", "reason": "why"},
    ),
    "vm.reconfigured": (
        "a VM's CPU, memory, snapshots or load profile changed",
        {"id": "VM id", "name": "VM name", "changes": "field -> [before, after]"},
    ),
    "host.degraded": (
        "a host, blade or fabric interconnect left the ok state",
        {
            "kind": "host | blade | fabric_interconnect",
            "id": "id",
            "name": "name",
            "status": "new status",
            "reason": "why",
            "fault_id": "the fault, when injected",
        },
    ),
    "host.recovered": (
        "a host, blade or fabric interconnect is ok again",
        {"kind": "host | blade | fabric_interconnect", "id": "id", "name": "name", "fault_id": "the fault cleared"},
    ),
    "network.changed": (
        "a network was partitioned or healed, or a fabric failed over",
        {"kind": "network | ucs_domain", "id": "id", "name": "name", "change": "what changed", "fault_id": "fault"},
    ),
    "service_profile.created": (
        "a UCS service profile was created (unassociated)",
        {"service_profile": "the service profile as GET /sim/state shows it"},
    ),
    "service_profile.deleted": (
        "a UCS service profile was deleted (after its disassociation, if it was associated)",
        {"service_profile": "the service profile as it was"},
    ),
    "service_profile.associated": (
        "a service profile was associated with a blade",
        {"id": "service profile id", "name": "service profile name", "blade": "blade name", "blade_id": "blade id"},
    ),
    "service_profile.disassociated": (
        "a service profile was disassociated from its blade",
        {"id": "service profile id", "name": "service profile name", "blade": "blade name", "blade_id": "blade id"},
    ),
    "service_profile.updated": (
        "a service profile's desired power or firmware policy changed",
        {"id": "service profile id", "name": "service profile name", "changes": "field -> [before, after]"},
    ),
    "blade.power_changed": (
        "a UCS blade's power state changed",
        {
            "id": "blade id",
            "name": "blade name",
            "from": "previous state",
            "to": "new state",
            "reason": "associate | disassociate | api | external",
            "service_profile": "name of the service profile concerned, or null",
        },
    ),
    "fault.injected": ("a fault was injected", {"fault": "the fault record (GET /sim/inject)"}),
    "fault.cleared": ("a fault was cleared or expired", {"fault": "the fault record, with cleared_at"}),
    "node.file_changed": (
        "a file under /etc changed inside a node",
        {
            "node": "node name",
            "path": "path inside the node",
            "diff": "unified diff",
            "owner": "kind/id of the VM or blade",
        },
    ),
}


@attrs.frozen(kw_only=True)
class VmRequest:
    """Body of ``POST /sim/vms``."""

    name: str
    cpu: int = 2
    memory_mb: int = 4096
    guest_os: GuestOs = GuestOs.RHEL9
    host: str | None = None
    cluster: str | None = None
    network: str | None = None
    disk_gb: int = 40
    power_on: bool = True
    load_profile: str = "normal"
    tags: dict[str, str] = attrs.field(factory=dict)
    node: bool = False
    ssh_port: int | None = None


class Simulation:
    """The engine of one instance: ``dcsim.sim`` once the instance has started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.world = World()
        self.nodes: NodeBackend = load_driver("dcsim.nodes", settings)
        self.faults: dict[str, Fault] = {}
        self._lock = asyncio.Lock()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._dcsim: DcSim | None = None
        #: The Prometheus collector of simulated metrics while the instance runs.
        self.collector: Collector | None = None

    # Lifecycle ------------------------------------------------------------------------

    async def start(self, dcsim: DcSim) -> None:
        """Load the world (seeding an empty store), start the nodes, re-arm fault timers."""
        self._dcsim = dcsim
        store = dcsim.store
        self.world = await asyncio.to_thread(World.load, store)
        if len(self.world) == 0:
            topology = Topology(self.world, seed=self.settings.sim_seed)
            dcsim.hook.dcsim_sim_seed_topology(topology=topology, settings=self.settings)
            await asyncio.to_thread(self._save_all)
            log.info("sim.seeded", objects=len(self.world), seed=self.settings.sim_seed)
        documents = await asyncio.to_thread(store.list, FAULTS_NAMESPACE)
        self.faults = {doc.key: converter.structure(doc.value, Fault) for doc in documents}
        await self.nodes.start(self)
        for owner in self._node_owners():
            spec = self.node_spec(owner)
            await self.nodes.ensure(spec)
            # A blade's labels follow its service profile: one saved just before a crash
            # reaches the node here.
            if isinstance(owner, Blade) and await self.nodes.labels(spec.name) != spec.labels:
                await self.nodes.set_labels(spec.name, spec.labels)
        for fault in self.active_faults():
            if fault.expires_at is not None:
                self._arm_expiry(fault)

    async def close(self) -> None:
        """Stop timers and node watchers."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await self.nodes.close()

    @property
    def dcsim(self) -> DcSim:
        if self._dcsim is None:
            raise RuntimeError("the simulation is not started")
        return self._dcsim

    # Queries --------------------------------------------------------------------------

    def vm(self, ref: str) -> Vm:
        """A VM by id or name."""
        return self.world.get(Vm, ref)

    def blade(self, ref: str) -> Blade:
        """A UCS blade by id or name."""
        return self.world.get(Blade, ref)

    def service_profile(self, ref: str) -> ServiceProfile:
        """A UCS service profile by id or name."""
        return self.world.get(ServiceProfile, ref)

    def list_vms(
        self,
        *,
        platform: str | None = None,
        power_state: str | None = None,
        host: str | None = None,
        cluster: str | None = None,
        guest_os: str | None = None,
        tag: str | None = None,
        q: str | None = None,
    ) -> list[Vm]:
        """VMs matching every filter given (``tag`` as ``key=value``, ``q`` in the name)."""
        host_id = self.world.get(Host, host).id if host else None
        cluster_hosts = {h.id for h in self.world.hosts_in(self.world.get(Cluster, cluster))} if cluster else None
        key, _, value = (tag or "").partition("=")
        result = []
        for vm in self.world.all(Vm):
            if platform and vm.platform.value != platform:
                continue
            if power_state and vm.power_state.value != power_state:
                continue
            if host_id and vm.host_id != host_id:
                continue
            if cluster_hosts is not None and vm.host_id not in cluster_hosts:
                continue
            if guest_os and (vm.node is None or vm.node.guest_os.value != guest_os) and vm.tags.get("os") != guest_os:
                continue
            if tag and vm.tags.get(key) != value:
                continue
            if q and q.lower() not in vm.name.lower():
                continue
            result.append(vm)
        return result

    def active_faults(self) -> list[Fault]:
        """Faults not cleared yet, oldest first."""
        return sorted((f for f in self.faults.values() if f.active), key=lambda f: f.injected_at)

    def faults_touching(self, object_id: str) -> list[Fault]:
        """Active faults whose targets include ``object_id``."""
        return [fault for fault in self.active_faults() if fault.touches(object_id)]

    def node_spec(self, owner: Vm | Blade) -> NodeSpec:
        """What the node of a VM or blade should be, with the seed's labels."""
        if owner.node is None:
            raise InvalidInput(f"{owner.name} has no node")
        node = owner.node
        power = owner.power_state
        labels = {
            "sim.platform": owner.platform.value if isinstance(owner, Vm) else Platform.UCS.value,
            "sim.type": ("instance" if owner.platform is Platform.OPENSTACK else "vm")
            if isinstance(owner, Vm)
            else "blade",
            "sim.id": owner.id,
            "sim.name": owner.name,
            "sim.guest_os": node.guest_os.value,
            "sim.vcpu": str(owner.cpu),
            "sim.memory_mb": str(owner.memory_mb),
            "sim.power_state": power.value,
            "sim.env": node.env,
            "sim.ansible_user": node.ansible_user,
            "sim.ssh_port": str(node.ssh_port),
        }
        if isinstance(owner, Vm):
            host = self.world.get(Host, owner.host_id)
            cluster = self.world.get(Cluster, host.cluster_id)
            if owner.platform is Platform.VMWARE:
                labels |= {"sim.vmw.cluster": cluster.name, "sim.vmw.host": host.name}
            else:
                project = self.world.find(Project, owner.project_id or "")
                labels |= {
                    "sim.os.project": project.name if project else "",
                    "sim.os.flavor": owner.flavor or "",
                    "sim.os.az": cluster.name,
                }
        else:
            chassis = self.world.get(Chassis, owner.chassis_id)
            profile = self.world.find(ServiceProfile, owner.service_profile_id or "")
            template = self.world.find(ServiceProfileTemplate, profile.template_id or "") if profile else None
            labels |= {
                "sim.ucs.chassis": chassis.name,
                "sim.ucs.slot": str(owner.slot),
                "sim.ucs.sp": profile.name if profile else "",
                "sim.ucs.org": profile.org if profile else "",
                "sim.ucs.template": template.name if template else "",
                "sim.ucs.macs": ",".join(profile.macs) if profile else "",
            }
        labels |= node.labels
        return NodeSpec(
            name=node.name,
            guest_os=node.guest_os,
            ssh_port=node.ssh_port,
            cpu=owner.cpu,
            memory_mb=owner.memory_mb,
            power_state=power,
            labels=labels,
            ansible_user=node.ansible_user,
        )

    def state(self) -> dict[str, Any]:
        """The whole world and the active faults as JSON (``GET /sim/state``)."""
        return {"objects": self.world.dump(), "faults": to_json(self.active_faults())}

    # VM lifecycle ---------------------------------------------------------------------

    async def create_vm(self, request: VmRequest) -> Vm:
        """Create a VM; placed on ``host``, or the least loaded healthy host of ``cluster``."""
        async with self._lock:
            if self.world.find(Vm, request.name):
                raise Conflict(f"a VM named {request.name!r} already exists")
            if request.cpu < 1 or request.memory_mb < 128 or request.disk_gb < 1:
                raise InvalidInput("cpu must be >= 1, memory_mb >= 128 and disk_gb >= 1")
            if request.load_profile not in self.dcsim.load_profiles:
                raise InvalidInput(f"unknown load profile {request.load_profile!r}")
            host = self._place(request.host, request.cluster)
            cluster = self.world.get(Cluster, host.cluster_id)
            network = self._network_for(cluster, request.network)
            datastore = next((d for d in self.world.all(Datastore) if d.datacenter_id == cluster.datacenter_id), None)
            vm_id = new_id()
            node = None
            if request.node:
                node = Node(name=f"sim-{request.name}", guest_os=request.guest_os, ssh_port=request.ssh_port or 0)
            vm = Vm(
                id=vm_id,
                name=request.name,
                platform=cluster.platform,
                host_id=host.id,
                cpu=request.cpu,
                memory_mb=request.memory_mb,
                node=node,
                power_state=PowerState.ON if request.power_on else PowerState.OFF,
                nics=[Nic(mac=_mac(cluster.platform, vm_id), network_id=network.id, ip=self._free_ip(network))],
                disks=[
                    Disk(label="Hard disk 1", size_gb=request.disk_gb, datastore_id=datastore.id if datastore else None)
                ],
                load_profile=request.load_profile,
                tags={"os": request.guest_os.value, "platform": cluster.platform.value, **request.tags},
            )
            self._check_host_can_run(host, vm)
            self.world.add(vm)
            await self._save([vm])
            if vm.node is not None:
                await self.nodes.ensure(self.node_spec(vm))
            await self._publish("vm.created", {"vm": to_json(vm)}, vm)
            return vm

    async def destroy_vm(self, ref: str) -> Vm:
        """Destroy a VM and its node."""
        async with self._lock:
            vm = self.vm(ref)
            self.world.remove(vm)
            await self._save(removed=[vm])
            if vm.node is not None:
                await self.nodes.remove(vm.node.name)
            await self._publish("vm.destroyed", {"vm": to_json(vm)}, vm)
            return vm

    async def power(self, ref: str, action: str, reason: str = "api") -> Vm:
        """Power action ``on``, ``off``, ``suspend`` or ``reset``; illegal ones are a Conflict."""
        if action not in POWER_ACTIONS:
            raise InvalidInput(f"unknown power action {action!r}; use one of {', '.join(POWER_ACTIONS)}")
        async with self._lock:
            vm = self.vm(ref)
            allowed, target = POWER_ACTIONS[action]
            if vm.power_state not in allowed:
                raise Conflict(
                    f"cannot {action} {vm.name}: it is {vm.power_state.value}",
                    allowed_from=sorted(s.value for s in allowed),
                )
            if target is PowerState.ON:
                self._check_host_can_run(self.world.get(Host, vm.host_id), vm)
            await self._set_vm_power(vm, target, reason if action != "reset" else "reset")
            return vm

    async def reconfigure(self, ref: str, *, cpu: int | None = None, memory_mb: int | None = None) -> Vm:
        """Change CPU or memory; the VM must be powered off."""
        async with self._lock:
            vm = self.vm(ref)
            if vm.power_state is not PowerState.OFF:
                raise Conflict(f"power off {vm.name} before changing its CPU or memory (it is {vm.power_state.value})")
            changes: dict[str, list[int]] = {}
            if cpu is not None:
                if cpu < 1:
                    raise InvalidInput("cpu must be >= 1")
                changes["cpu"], vm.cpu = [vm.cpu, cpu], cpu
            if memory_mb is not None:
                if memory_mb < 128:
                    raise InvalidInput("memory_mb must be >= 128")
                changes["memory_mb"], vm.memory_mb = [vm.memory_mb, memory_mb], memory_mb
            if not changes:
                raise InvalidInput("give cpu or memory_mb")
            await self._save([vm])
            if vm.node is not None:
                # Size limits are fixed when a container is created: recreate the node.
                await self.nodes.remove(vm.node.name)
                await self.nodes.ensure(self.node_spec(vm))
            await self._publish("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            return vm

    async def set_load_profile(self, ref: str, profile: str) -> Vm:
        """Make a VM's simulated metrics follow ``profile``."""
        async with self._lock:
            vm = self.vm(ref)
            if profile not in self.dcsim.load_profiles:
                raise InvalidInput(f"unknown load profile {profile!r}; known: {', '.join(self.dcsim.load_profiles)}")
            changes = {"load_profile": [vm.load_profile, profile]}
            vm.load_profile = profile
            await self._save([vm])
            await self._publish("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            return vm

    async def create_snapshot(self, ref: str, name: str, description: str = "") -> Snapshot:
        """Snapshot a VM's configuration and power state (and its node's files)."""
        async with self._lock:
            vm = self.vm(ref)
            if any(s.name == name for s in vm.snapshots):
                raise Conflict(f"{vm.name} already has a snapshot named {name!r}")
            snapshot = Snapshot(
                id=new_id(),
                name=name,
                created_at=utcnow(),
                cpu=vm.cpu,
                memory_mb=vm.memory_mb,
                power_state=vm.power_state,
                disks=copy.deepcopy(vm.disks),
                description=description,
            )
            vm.snapshots.append(snapshot)
            await self._save([vm])
            if vm.node is not None:
                await self.nodes.snapshot(vm.node.name, snapshot.id)
            changes = {"snapshots": [len(vm.snapshots) - 1, len(vm.snapshots)]}
            await self._publish("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            return snapshot

    async def revert_snapshot(self, ref: str, snapshot_ref: str) -> Vm:
        """Put a VM back to a snapshot's configuration and power state."""
        async with self._lock:
            vm = self.vm(ref)
            snapshot = _find_snapshot(vm, snapshot_ref)
            changes = {}
            for field in ("cpu", "memory_mb"):
                before, after = getattr(vm, field), getattr(snapshot, field)
                if before != after:
                    changes[field] = [before, after]
                    setattr(vm, field, after)
            vm.disks = copy.deepcopy(snapshot.disks)
            power_before = vm.power_state
            await self._save([vm])
            if changes:
                await self._publish("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            if power_before is not snapshot.power_state:
                await self._set_vm_power(vm, snapshot.power_state, "snapshot_revert")
            return vm

    async def delete_snapshot(self, ref: str, snapshot_ref: str) -> Vm:
        """Remove a snapshot."""
        async with self._lock:
            vm = self.vm(ref)
            snapshot = _find_snapshot(vm, snapshot_ref)
            vm.snapshots.remove(snapshot)
            await self._save([vm])
            changes = {"snapshots": [len(vm.snapshots) + 1, len(vm.snapshots)]}
            await self._publish("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            return vm

    async def clone(self, ref: str, name: str, host: str | None = None) -> Vm:
        """Clone a VM into a new, powered-off VM (same size, disks and tags)."""
        source = self.vm(ref)
        request = VmRequest(
            name=name,
            cpu=source.cpu,
            memory_mb=source.memory_mb,
            guest_os=source.node.guest_os if source.node else GuestOs(source.tags.get("os", GuestOs.RHEL9.value)),
            host=host or source.host_id,
            network=source.nics[0].network_id if source.nics else None,
            disk_gb=sum(d.size_gb for d in source.disks) or 40,
            power_on=False,
            load_profile=source.load_profile,
            tags={k: v for k, v in source.tags.items() if k not in {"os", "platform"}},
        )
        return await self.create_vm(request)

    async def migrate(self, ref: str, host_ref: str, reason: str = "api") -> Vm:
        """Move a VM to another healthy host of the same datacenter (vMotion-like)."""
        async with self._lock:
            vm = self.vm(ref)
            target = self.world.get(Host, host_ref)
            source = self.world.get(Host, vm.host_id)
            if target.id == source.id:
                raise Conflict(f"{vm.name} already runs on {target.name}")
            source_dc = self.world.get(Cluster, source.cluster_id).datacenter_id
            if self.world.get(Cluster, target.cluster_id).datacenter_id != source_dc:
                raise Conflict(f"{target.name} is in another datacenter than {vm.name}")
            self._check_host_can_run(target, vm)
            await self._move(vm, target, reason)
            return vm

    # UCS service profiles -------------------------------------------------------------

    async def create_service_profile(
        self,
        name: str,
        *,
        template: str | None = None,
        org: str = "org-root",
        domain: str | None = None,
        firmware_policy: str | None = None,
        power: str = "up",
        description: str = "",
    ) -> ServiceProfile:
        """Create an unassociated service profile, from ``template`` or in ``domain``.

        Domain and firmware policy default to the template's, else to the only UCS
        domain and its firmware. Two MACs are allocated from the profile's id.
        """
        async with self._lock:
            if not _SP_NAME.fullmatch(name):
                raise InvalidInput(f"{name!r} is not a service profile name: 2-32 of letters, digits and _ . : -")
            if self.world.find(ServiceProfile, name) or self.world.find(ServiceProfileTemplate, name):
                raise Conflict(f"a service profile or template named {name!r} already exists")
            _check_sp_power(power)
            if not org:
                raise InvalidInput("give an org")
            profile_template = self.world.get(ServiceProfileTemplate, template) if template is not None else None
            if profile_template is not None:
                ucs = self.world.get(UcsDomain, profile_template.domain_id)
                if domain is not None and self.world.get(UcsDomain, domain).id != ucs.id:
                    raise InvalidInput(f"template {profile_template.name} belongs to {ucs.name}, not to {domain}")
                default_firmware = profile_template.firmware
            else:
                ucs = self._ucs_domain(domain)
                default_firmware = ucs.firmware
            profile_id = new_id()
            profile = ServiceProfile(
                id=profile_id,
                name=name,
                domain_id=ucs.id,
                template_id=profile_template.id if profile_template else None,
                org=org,
                power=power,
                firmware_policy=default_firmware if firmware_policy is None else firmware_policy,
                macs=self._new_macs(profile_id, 2),
                description=description,
            )
            self.world.add(profile)
            event: _Event = ("service_profile.created", {"service_profile": to_json(profile)}, profile)
            await self._commit(_Change(objects=[profile], events=[event]))
            return profile

    async def delete_service_profile(self, ref: str) -> ServiceProfile:
        """Delete a service profile, disassociating it first if it is associated."""
        async with self._lock:
            profile = self.service_profile(ref)
            change = _Change()
            if profile.blade_id:
                self._disassociate(profile, change)
            self.world.remove(profile)
            change.objects = [obj for obj in change.objects if obj is not profile]
            change.removed.append(profile)
            change.events.append(("service_profile.deleted", {"service_profile": to_json(profile)}, profile))
            await self._commit(change)
            return profile

    async def associate_service_profile(self, ref: str, blade: str) -> ServiceProfile:
        """Put a service profile on a free, working blade of its domain; the blade follows its power."""
        async with self._lock:
            profile = self.service_profile(ref)
            target = self.blade(blade)
            if profile.blade_id:
                current = self.world.get(Blade, profile.blade_id)
                raise Conflict(f"{profile.name} is already associated with blade {current.name}")
            if target.service_profile_id:
                other = self.world.get(ServiceProfile, target.service_profile_id)
                raise Conflict(f"blade {target.name} already carries {other.name}")
            if target.status is HealthStatus.FAILED:
                raise Conflict(f"blade {target.name} has failed")
            chassis = self.world.get(Chassis, target.chassis_id)
            if chassis.domain_id != profile.domain_id:
                blade_domain = self.world.get(UcsDomain, chassis.domain_id).name
                profile_domain = self.world.get(UcsDomain, profile.domain_id).name
                raise Conflict(f"blade {target.name} is in {blade_domain}, {profile.name} in {profile_domain}")
            change = _Change()
            self._associate(profile, target, change)
            await self._commit(change)
            return profile

    async def disassociate_service_profile(self, ref: str) -> ServiceProfile:
        """Take a service profile off its blade, which powers off."""
        async with self._lock:
            profile = self.service_profile(ref)
            if not profile.blade_id:
                raise Conflict(f"{profile.name} is not associated")
            change = _Change()
            self._disassociate(profile, change)
            await self._commit(change)
            return profile

    async def set_service_profile_power(self, ref: str, state: str) -> ServiceProfile:
        """Set a service profile's desired power, ``up`` or ``down``; its blade follows."""
        _check_sp_power(state)
        async with self._lock:
            profile = self.service_profile(ref)
            blade = self.world.get(Blade, profile.blade_id) if profile.blade_id else None
            if blade is not None and state == "up" and blade.status is HealthStatus.FAILED:
                raise Conflict(f"blade {blade.name} of {profile.name} has failed and cannot power up")
            change = _Change(objects=[profile])
            if profile.power != state:
                changes = {"power": [profile.power, state]}
                change.events.append(_sp_updated(profile, changes))
                profile.power = state
            if blade is not None:
                self._set_blade_power(blade, SP_POWER[state], "api", profile.name, change)
            await self._commit(change)
            return profile

    async def set_service_profile_firmware_policy(self, ref: str, version: str) -> ServiceProfile:
        """Set the firmware version a service profile's blade should run (``""``: none).

        An associated blade running another version is degraded by a firmware-mismatch
        fault (``source: policy``); a policy it meets again clears that fault.
        """
        async with self._lock:
            profile = self.service_profile(ref)
            change = _Change(objects=[profile])
            if profile.firmware_policy != version:
                change.events.append(_sp_updated(profile, {"firmware_policy": [profile.firmware_policy, version]}))
                profile.firmware_policy = version
            if profile.blade_id:
                blade = self.world.get(Blade, profile.blade_id)
                if version and version != blade.firmware:
                    if not self._firmware_faults(blade):
                        self._policy_mismatch(blade, version, change)
                else:
                    for fault in self._firmware_faults(blade, source="policy"):
                        self._clear_policy_mismatch(fault, blade, change)
            await self._commit(change)
            return profile

    def _associate(self, profile: ServiceProfile, blade: Blade, change: _Change) -> None:
        profile.blade_id, blade.service_profile_id = blade.id, profile.id
        data = {"id": profile.id, "name": profile.name, "blade": blade.name, "blade_id": blade.id}
        change.objects.append(profile)
        change.events.append(("service_profile.associated", data, profile))
        self._set_blade_power(blade, SP_POWER[profile.power], "associate", profile.name, change)
        policy = profile.firmware_policy
        if policy and policy != blade.firmware and not self._firmware_faults(blade):
            self._policy_mismatch(blade, policy, change)

    def _disassociate(self, profile: ServiceProfile, change: _Change) -> None:
        blade = self.world.get(Blade, profile.blade_id or "")
        profile.blade_id, blade.service_profile_id = None, None
        data = {"id": profile.id, "name": profile.name, "blade": blade.name, "blade_id": blade.id}
        change.objects.append(profile)
        change.events.append(("service_profile.disassociated", data, profile))
        # UCS powers a blade off when its profile goes.
        self._set_blade_power(blade, PowerState.OFF, "disassociate", profile.name, change)
        for fault in self._firmware_faults(blade, source="policy"):
            self._clear_policy_mismatch(fault, blade, change)

    def _set_blade_power(self, blade: Blade, target: PowerState, reason: str, profile: str, change: _Change) -> None:
        """Set a blade's power; its node follows (labels and power) when the change is committed."""
        before = blade.power_state
        blade.power_state = target
        change.objects.append(blade)
        change.blades.append(blade)
        if before is not target:
            data = {"id": blade.id, "name": blade.name, "from": before.value, "to": target.value, "reason": reason,
                    "service_profile": profile}  # fmt: skip
            change.events.append(("blade.power_changed", data, blade))

    def _firmware_faults(self, blade: Blade, source: str | None = None) -> list[Fault]:
        """Active firmware-mismatch faults of ``blade``; with ``source``, only those of that source."""
        return [
            fault
            for fault in self.faults_touching(blade.id)
            if fault.kind is FaultKind.FIRMWARE_MISMATCH and (source is None or fault.params.get("source") == source)
        ]

    def _policy_mismatch(self, blade: Blade, version: str, change: _Change) -> None:
        params = {"blade": blade.name, "version": version, "source": "policy"}
        fault = Fault(id=new_id(), kind=FaultKind.FIRMWARE_MISMATCH, targets=[], params=params, injected_at=utcnow())
        degraded = self._firmware_mismatch(fault, blade, version, "policy")
        self.faults[fault.id] = fault
        change.objects.append(blade)
        change.faults.append(fault)
        change.events += [("fault.injected", {"fault": to_json(fault)}, fault), degraded]
        log.info("sim.fault_injected", kind=fault.kind.value, fault_id=fault.id, targets=[blade.name])

    def _clear_policy_mismatch(self, fault: Fault, blade: Blade, change: _Change) -> None:
        recovered = self._restore_firmware(fault, blade)
        fault.cleared_at, fault.cleared_by = utcnow(), "policy"
        change.objects.append(blade)
        change.faults.append(fault)
        change.events += [recovered, ("fault.cleared", {"fault": to_json(fault)}, fault)]

    def _ucs_domain(self, ref: str | None) -> UcsDomain:
        if ref is not None:
            return self.world.get(UcsDomain, ref)
        domains = self.world.all(UcsDomain)
        if not domains:
            raise Conflict("the estate has no UCS domain")
        if len(domains) > 1:
            raise InvalidInput(f"give 'domain', one of {', '.join(sorted(d.name for d in domains))}")
        return domains[0]

    def _new_macs(self, seed: str, count: int) -> list[str]:
        """``count`` MACs derived from ``seed``, none of them used by another profile."""
        used = {mac for profile in self.world.all(ServiceProfile) for mac in profile.macs}
        macs: list[str] = []
        index = 0
        while len(macs) < count:
            mac = _mac(Platform.UCS, f"{seed}/{index}")
            index += 1
            if mac not in used:
                used.add(mac)
                macs.append(mac)
        return macs

    async def _commit(self, change: _Change) -> None:
        """Save what ``change`` touched in one transaction, drive its blades' nodes, publish its events."""
        await self._save(_unique(change.objects), change.removed, _unique(change.faults))
        for blade in _unique(change.blades):
            if blade.node is not None:
                await self._drive_blade_node(blade)
        for event_type, data, subject in change.events:
            await self._publish(event_type, data, subject)

    async def _drive_blade_node(self, blade: Blade) -> None:
        spec = self.node_spec(blade)
        try:
            await self.nodes.set_labels(spec.name, spec.labels)
        except NotFound:
            await self.nodes.ensure(spec)  # lost meanwhile: made again, with these labels
        else:
            await self.nodes.set_power(spec.name, spec.power_state)

    # Faults ---------------------------------------------------------------------------

    async def inject(self, kind: FaultKind, params: dict[str, Any]) -> Fault:
        """Inject a fault; see ``specs/005-simulation.md`` for each kind's parameters."""
        async with self._lock:
            handler = {
                FaultKind.HOST_FAILURE: self._inject_host_failure,
                FaultKind.NETWORK_PARTITION: self._inject_partition,
                FaultKind.DISK_FULL: self._inject_disk_full,
                FaultKind.FIRMWARE_MISMATCH: self._inject_firmware_mismatch,
                FaultKind.FABRIC_FAILOVER: self._inject_fabric_failover,
            }[kind]
            fault = Fault(id=new_id(), kind=kind, targets=[], params=dict(params), injected_at=utcnow())
            # The injection event comes first: what follows is its consequence.
            follow_ups = await handler(fault, params)
            self.faults[fault.id] = fault
            await self._save_fault(fault)
            await self._publish("fault.injected", {"fault": to_json(fault)}, fault)
            for event_type, data, subject in follow_ups:
                await self._publish(event_type, data, subject)
            if fault.expires_at is not None:
                self._arm_expiry(fault)
            log.info("sim.fault_injected", kind=kind.value, fault_id=fault.id, targets=[t.name for t in fault.targets])
            return fault

    async def clear_fault(self, fault_id: str, by: str = "api") -> Fault:
        """Clear an active fault, undoing what it broke."""
        async with self._lock:
            fault = self.faults.get(fault_id)
            if fault is None:
                raise NotFound(f"no fault {fault_id!r}")
            if not fault.active:
                raise Conflict(f"fault {fault_id} was already cleared at {fault.cleared_at}")
            timer = self._timers.pop(fault.id, None)
            if timer:
                timer.cancel()
            follow_ups = await self._undo(fault)
            fault.cleared_at = utcnow()
            fault.cleared_by = by
            await self._save_fault(fault)
            for event_type, data, subject in follow_ups:
                await self._publish(event_type, data, subject)
            await self._publish("fault.cleared", {"fault": to_json(fault)}, fault)
            return fault

    def _arm_expiry(self, fault: Fault) -> None:
        assert fault.expires_at is not None
        delay = max(0.0, (fault.expires_at - utcnow()).total_seconds())
        loop = asyncio.get_running_loop()
        self._timers[fault.id] = loop.call_later(delay, lambda: asyncio.ensure_future(self._expire(fault.id)))

    async def _expire(self, fault_id: str) -> None:
        self._timers.pop(fault_id, None)
        with contextlib.suppress(Conflict, NotFound):  # cleared by hand meanwhile
            await self.clear_fault(fault_id, by="expired")

    async def _inject_host_failure(self, fault: Fault, params: dict[str, Any]) -> list[_Event]:
        events: list[_Event] = []
        blade = self.world.find(Blade, params["blade"]) if params.get("blade") else None
        host = self.world.get(Host, params["host"]) if params.get("host") else None
        if blade is None and host is None:
            raise InvalidInput("give 'host' or 'blade'")
        if host is not None and host.blade_id and blade is None:
            blade = self.world.get(Blade, host.blade_id)
        if blade is not None and host is None:
            host = self.world.host_on_blade(blade)
        if blade is not None:
            if blade.status is HealthStatus.FAILED:
                raise Conflict(f"blade {blade.name} has already failed")
            fault.targets.append(Target("blade", blade.id, blade.name))
            fault.restore["blade_power"] = blade.power_state.value
            blade.status, blade.power_state = HealthStatus.FAILED, PowerState.OFF
            fault.effects.append(f"blade {blade.name} failed and lost power")
            await self._save([blade])
            events.append(_degraded("blade", blade, "power loss", fault))
            if blade.node is not None:
                await self.nodes.set_power(blade.node.name, PowerState.OFF)
        if host is not None:
            if host.status is HealthStatus.FAILED:
                raise Conflict(f"host {host.name} has already failed")
            fault.targets.append(Target("host", host.id, host.name))
            host.status, host.power_state = HealthStatus.FAILED, PowerState.OFF
            fault.effects.append(f"host {host.name} failed")
            await self._save([host])
            events.append(_degraded("host", host, "blade power loss" if blade else "host failure", fault))
            events.extend(await self._evacuate(host, fault))
        return events

    async def _evacuate(self, host: Host, fault: Fault) -> list[_Event]:
        """VMs of a failed host go down; with HA on, they restart on another host."""
        events: list[_Event] = []
        cluster = self.world.get(Cluster, host.cluster_id)
        for vm in self.world.vms_on(host):
            if vm.power_state is PowerState.OFF:
                continue
            events.append(await self._set_vm_power(vm, PowerState.OFF, "host_failure", publish=False))
            fault.effects.append(f"vm {vm.name} went down with {host.name}")
            target = self._ha_target(cluster, vm) if cluster.ha_enabled else None
            if target is None:
                continue
            events.append(await self._move(vm, target, "ha", publish=False))
            events.append(await self._set_vm_power(vm, PowerState.ON, "ha_restart", publish=False))
            fault.effects.append(f"vm {vm.name} restarted on {target.name} by HA")
        return events

    async def _inject_partition(self, fault: Fault, params: dict[str, Any]) -> list[_Event]:
        network = self.world.get(Network, _required(params, "network"))
        duration = params.get("duration_seconds")
        if network.partitioned:
            raise Conflict(f"network {network.name} is already partitioned")
        if duration is not None:
            if not isinstance(duration, int | float) or duration <= 0:
                raise InvalidInput("duration_seconds must be a positive number")
            fault.expires_at = utcnow() + timedelta(seconds=float(duration))
        fault.targets.append(Target("network", network.id, network.name))
        network.partitioned = True
        fault.effects.append(f"network {network.name} partitioned")
        await self._save([network])
        return [_changed("network", network, "partitioned", fault)]

    async def _inject_disk_full(self, fault: Fault, params: dict[str, Any]) -> list[_Event]:
        if params.get("vm"):
            vm = self.vm(params["vm"])
            datastore_id = next((d.datastore_id for d in vm.disks if d.datastore_id), None)
            if datastore_id is None:
                raise Conflict(f"{vm.name} has no disk on a datastore")
            fault.targets.append(Target("vm", vm.id, vm.name))
            datastore = self.world.get(Datastore, datastore_id)
        else:
            datastore = self.world.get(Datastore, _required(params, "datastore"))
        if datastore.used_gb >= datastore.capacity_gb:
            raise Conflict(f"datastore {datastore.name} is already full")
        fault.targets.append(Target("datastore", datastore.id, datastore.name))
        fault.restore["used_gb"] = datastore.used_gb
        datastore.used_gb = datastore.capacity_gb
        fault.effects.append(f"datastore {datastore.name} full")
        await self._save([datastore])
        return []

    async def _inject_firmware_mismatch(self, fault: Fault, params: dict[str, Any]) -> list[_Event]:
        blade = self.world.get(Blade, _required(params, "blade"))
        version = str(params.get("version") or "4.1(3b)")
        source = params.get("source")
        if source not in (None, "policy"):
            raise InvalidInput("'source' is 'policy' or absent")
        if version == blade.firmware:
            raise InvalidInput(f"blade {blade.name} already runs {version}")
        event = self._firmware_mismatch(fault, blade, version, source)
        await self._save([blade])
        return [event]

    def _firmware_mismatch(self, fault: Fault, blade: Blade, version: str, source: str | None) -> _Event:
        """Degrade ``blade``: it runs ``version`` (no source), or its policy says ``version`` (``policy``)."""
        fault.targets.append(Target("blade", blade.id, blade.name))
        fault.restore["firmware"] = blade.firmware
        if source == "policy":
            fault.effects.append(f"blade {blade.name} runs firmware {blade.firmware}, its policy says {version}")
            reason = f"firmware {blade.firmware} differs from the service profile's policy {version}"
        else:
            blade.firmware = version
            fault.effects.append(f"blade {blade.name} runs firmware {version}")
            reason = f"firmware {version} differs from the service profile's policy"
        if blade.status is not HealthStatus.FAILED:
            blade.status = HealthStatus.DEGRADED
        return _degraded("blade", blade, reason, fault)

    @staticmethod
    def _restore_firmware(fault: Fault, blade: Blade) -> _Event:
        blade.firmware = fault.restore["firmware"]
        if blade.status is HealthStatus.DEGRADED:
            blade.status = HealthStatus.OK
        return _recovered("blade", blade, fault)

    async def _inject_fabric_failover(self, fault: Fault, params: dict[str, Any]) -> list[_Event]:
        domain = self.world.get(UcsDomain, _required(params, "domain"))
        fis = [fi for fi in self.world.all(FabricInterconnect) if fi.domain_id == domain.id]
        side = params.get("side")
        failing = next((fi for fi in fis if (fi.side == side if side else fi.primary)), None)
        if failing is None:
            raise InvalidInput(f"domain {domain.name} has no fabric interconnect {side!r}")
        if failing.status is HealthStatus.FAILED:
            raise Conflict(f"{failing.name} has already failed")
        fault.targets += [
            Target("ucs_domain", domain.id, domain.name),
            Target("fabric_interconnect", failing.id, failing.name),
        ]
        failing.status = HealthStatus.FAILED
        events = [_degraded("fabric_interconnect", failing, "fabric interconnect down", fault)]
        if failing.primary:
            survivor = next(fi for fi in fis if fi is not failing)
            failing.primary, survivor.primary = False, True
            fault.effects.append(f"{survivor.name} took over as primary")
            events.append(_changed("ucs_domain", domain, f"failover to fabric {survivor.side}", fault))
        fault.effects.append(f"{failing.name} failed")
        await self._save(fis)
        return events

    async def _undo(self, fault: Fault) -> list[_Event]:
        events: list[_Event] = []
        for target in fault.targets:
            if fault.kind is FaultKind.HOST_FAILURE and target.kind == "blade":
                blade = self.world.get(Blade, target.id)
                blade.status = HealthStatus.OK
                blade.power_state = PowerState(fault.restore.get("blade_power", PowerState.ON.value))
                await self._save([blade])
                if blade.node is not None:
                    await self.nodes.set_power(blade.node.name, blade.power_state)
                events.append(_recovered("blade", blade, fault))
            elif fault.kind is FaultKind.HOST_FAILURE and target.kind == "host":
                host = self.world.get(Host, target.id)
                host.status, host.power_state, host.booted_at = HealthStatus.OK, PowerState.ON, utcnow()
                await self._save([host])
                events.append(_recovered("host", host, fault))
            elif target.kind == "network":
                network = self.world.get(Network, target.id)
                network.partitioned = False
                await self._save([network])
                events.append(_changed("network", network, "healed", fault))
            elif target.kind == "datastore":
                datastore = self.world.get(Datastore, target.id)
                datastore.used_gb = int(fault.restore.get("used_gb", 0))
                await self._save([datastore])
            elif fault.kind is FaultKind.FIRMWARE_MISMATCH and target.kind == "blade":
                blade = self.world.get(Blade, target.id)
                events.append(self._restore_firmware(fault, blade))
                await self._save([blade])
            elif target.kind == "fabric_interconnect":
                fi = self.world.get(FabricInterconnect, target.id)
                fi.status = HealthStatus.OK  # the survivor stays primary, as on real UCS
                await self._save([fi])
                events.append(_recovered("fabric_interconnect", fi, fault))
        return events

    # Known-good mark ------------------------------------------------------------------

    async def mark_known_good(self) -> datetime:
        """Remember the current world as the known-good state ``diff`` compares against."""
        async with self._lock:
            marked = utcnow()
            value = {"marked_at": marked.isoformat(), "objects": self.world.dump()}
            await asyncio.to_thread(self.dcsim.store.put, META_NAMESPACE, "known-good", value)
            return marked

    async def diff(self) -> dict[str, Any]:
        """Field-level differences between the known-good mark and now."""
        document = await asyncio.to_thread(self.dcsim.store.find, META_NAMESPACE, "known-good")
        if document is None:
            raise NotFound("no known-good mark yet: POST /sim/state/mark first")
        return diff_states(document.value["objects"], self.world.dump(), document.value["marked_at"])

    # Node listener --------------------------------------------------------------------

    async def node_file_changed(self, node: str, path: str, diff: str) -> None:
        """Publish ``node.file_changed`` for a change the node backend saw."""
        owner = self._owner_of(node)
        data = {"node": node, "path": path, "diff": diff, "owner": f"{kind_of(owner)}/{owner.id}" if owner else None}
        await self.dcsim.publish("node.file_changed", data, source=SOURCE, subject=f"node/{node}")

    async def node_power_observed(self, node: str, power_state: PowerState) -> None:
        """A node changed power outside dc-sim: make the world agree, and say so."""
        async with self._lock:
            owner = self._owner_of(node)
            if owner is None or owner.power_state is power_state:
                return
            if isinstance(owner, Vm):
                await self._set_vm_power(owner, power_state, "external", drive_node=False)
            else:
                before = owner.power_state
                owner.power_state = power_state
                await self._save([owner])
                profile = self.world.find(ServiceProfile, owner.service_profile_id or "")
                power_data = {"id": owner.id, "name": owner.name, "from": before.value, "to": power_state.value,
                              "reason": "external", "service_profile": profile.name if profile else None}  # fmt: skip
                await self._publish("blade.power_changed", power_data, owner)
                data = {
                    "kind": "blade",
                    "id": owner.id,
                    "name": owner.name,
                    "from": before.value,
                    "to": power_state.value,
                }
                event_type = "host.recovered" if power_state is PowerState.ON else "host.degraded"
                await self._publish(event_type, data | {"reason": "external", "status": owner.status.value}, owner)

    # Internals ------------------------------------------------------------------------

    async def _set_vm_power(
        self, vm: Vm, target: PowerState, reason: str, *, publish: bool = True, drive_node: bool = True
    ) -> _Event:
        before = vm.power_state
        vm.power_state = target
        await self._save([vm])
        if drive_node and vm.node is not None:
            await self.nodes.set_power(vm.node.name, target)
        event: _Event = (
            "vm.power_changed",
            {"id": vm.id, "name": vm.name, "from": before.value, "to": target.value, "reason": reason},
            vm,
        )
        if publish:
            await self._publish(*event)
        return event

    async def _move(self, vm: Vm, target: Host, reason: str, *, publish: bool = True) -> _Event:
        source = self.world.get(Host, vm.host_id)
        self.world.move_vm(vm, target.id)
        await self._save([vm])
        event: _Event = (
            "vm.migrated",
            {"id": vm.id, "name": vm.name, "from_host": source.name, "to_host": target.name, "reason": reason},
            vm,
        )
        if publish:
            await self._publish(*event)
        return event

    def _place(self, host_ref: str | None, cluster_ref: str | None) -> Host:
        if host_ref:
            return self.world.get(Host, host_ref)
        clusters = [self.world.get(Cluster, cluster_ref)] if cluster_ref else self.world.all(Cluster)
        candidates = [h for c in clusters for h in self.world.hosts_in(c) if h.status is not HealthStatus.FAILED]
        if not candidates:
            raise Conflict("no healthy host to place the VM on")
        return min(candidates, key=lambda h: (len(self.world.vms_on(h)), h.name))

    def _ha_target(self, cluster: Cluster, vm: Vm) -> Host | None:
        candidates = [
            h
            for h in self.world.hosts_in(cluster)
            if h.id != vm.host_id and h.status is HealthStatus.OK and h.power_state is PowerState.ON
        ]
        return min(candidates, key=lambda h: (len(self.world.vms_on(h)), h.name), default=None)

    def _check_host_can_run(self, host: Host, vm: Vm) -> None:
        if host.status is HealthStatus.FAILED or host.power_state is not PowerState.ON:
            raise Conflict(f"host {host.name} is {host.status.value} and cannot run {vm.name}")

    def _network_for(self, cluster: Cluster, ref: str | None) -> Network:
        if ref:
            return self.world.get(Network, ref)
        network = next((n for n in self.world.all(Network) if n.datacenter_id == cluster.datacenter_id), None)
        if network is None:
            raise Conflict(f"datacenter of {cluster.name} has no network")
        return network

    def _free_ip(self, network: Network) -> str | None:
        if not network.cidr:
            return None
        used = {nic.ip for vm in self.world.all(Vm) for nic in vm.nics if nic.network_id == network.id}
        # From .10 on, as the seed does; hosts() is a generator, so a /16 is not listed whole.
        for address in itertools.islice(ipaddress.ip_network(network.cidr).hosts(), 9, None):
            if str(address) not in used:
                return str(address)
        raise Conflict(f"network {network.name} has no free address")

    def _node_owners(self) -> list[Vm | Blade]:
        owners: list[Vm | Blade] = [vm for vm in self.world.all(Vm) if vm.node is not None]
        owners += [blade for blade in self.world.all(Blade) if blade.node is not None]
        return owners

    def _owner_of(self, node: str) -> Vm | Blade | None:
        return next((o for o in self._node_owners() if o.node is not None and o.node.name == node), None)

    async def _save(
        self, objects: Iterable[Any] = (), removed: Iterable[Any] = (), faults: Iterable[Fault] = ()
    ) -> None:
        objects, removed, faults = list(objects), list(removed), list(faults)

        def write() -> None:
            with self.dcsim.store.transaction() as session:
                self.world.save(session, objects, removed)
                for fault in faults:
                    session.put(FAULTS_NAMESPACE, fault.id, converter.unstructure(fault))

        await asyncio.to_thread(write)

    def _save_all(self) -> None:
        with self.dcsim.store.transaction() as session:
            self.world.save_all(session)

    async def _save_fault(self, fault: Fault) -> None:
        await asyncio.to_thread(self.dcsim.store.put, FAULTS_NAMESPACE, fault.id, converter.unstructure(fault))

    async def _publish(self, event_type: str, data: dict[str, Any], subject: Any) -> None:
        kind = "fault" if isinstance(subject, Fault) else kind_of(subject)
        await self.dcsim.publish(event_type, data, source=SOURCE, subject=f"{kind}/{subject.id}")


_Event = tuple[str, dict[str, Any], Any]


@attrs.define
class _Change:
    """What one action changed: saved in one transaction, then blade nodes driven, then events published."""

    objects: list[Any] = attrs.field(factory=list)
    removed: list[Any] = attrs.field(factory=list)
    faults: list[Fault] = attrs.field(factory=list)
    #: Blades whose node follows their labels and power.
    blades: list[Blade] = attrs.field(factory=list)
    events: list[_Event] = attrs.field(factory=list)


def _unique(objects: list[Any]) -> list[Any]:
    """``objects`` without repeats (by identity), in order."""
    return list({id(obj): obj for obj in objects}.values())


def _check_sp_power(state: str) -> None:
    if state not in SP_POWER:
        raise InvalidInput(f"unknown power state {state!r}; use up or down")


def _sp_updated(profile: ServiceProfile, changes: dict[str, list[str]]) -> _Event:
    return ("service_profile.updated", {"id": profile.id, "name": profile.name, "changes": changes}, profile)


def _degraded(kind: str, obj: Any, reason: str, fault: Fault) -> _Event:
    data = {"kind": kind, "id": obj.id, "name": obj.name, "status": obj.status.value, "reason": reason,
            "fault_id": fault.id}  # fmt: skip
    return ("host.degraded", data, obj)


def _recovered(kind: str, obj: Any, fault: Fault) -> _Event:
    return ("host.recovered", {"kind": kind, "id": obj.id, "name": obj.name, "fault_id": fault.id}, obj)


def _changed(kind: str, obj: Any, change: str, fault: Fault) -> _Event:
    return (
        "network.changed",
        {"kind": kind, "id": obj.id, "name": obj.name, "change": change, "fault_id": fault.id},
        obj,
    )


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not value or not isinstance(value, str):
        raise InvalidInput(f"give {name!r}")
    return value


def _find_snapshot(vm: Vm, ref: str) -> Snapshot:
    for snapshot in vm.snapshots:
        if ref in (snapshot.id, snapshot.name):
            return snapshot
    raise NotFound(f"{vm.name} has no snapshot {ref!r}", known=[s.name for s in vm.snapshots])


def _mac(platform: Platform, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return MAC_PREFIX[platform] + "".join(f":{b:02x}" for b in digest[:3])


def diff_states(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]], marked_at: str
) -> dict[str, Any]:
    """Objects added and removed, and field-level changes, between two dumps."""
    added, removed, changed = [], [], []
    for kind in sorted(set(before) | set(after)):
        old = {o["id"]: o for o in before.get(kind, [])}
        new = {o["id"]: o for o in after.get(kind, [])}
        added += [{"kind": kind, "id": i, "name": new[i]["name"]} for i in new.keys() - old.keys()]
        removed += [{"kind": kind, "id": i, "name": old[i]["name"]} for i in old.keys() - new.keys()]
        for object_id in old.keys() & new.keys():
            for field in sorted(set(old[object_id]) | set(new[object_id])):
                if old[object_id].get(field) != new[object_id].get(field):
                    changed.append({
                        "kind": kind, "id": object_id, "name": new[object_id]["name"], "field": field,
                        "before": old[object_id].get(field), "after": new[object_id].get(field),
                    })  # fmt: skip
    return {"marked_at": marked_at, "added": added, "removed": removed, "changed": changed}
