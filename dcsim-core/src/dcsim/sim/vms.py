"""VM lifecycle: create, destroy, power, reconfigure, load profile, snapshots, clone, migrate."""

from __future__ import annotations

import copy

import attrs

from dcsim.convert import to_json
from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.model import new_id, utcnow
from dcsim.sim.core import EngineCore
from dcsim.sim.events import Change, PendingEvent
from dcsim.sim.model import Cluster, Datastore, Disk, GuestOs, Host, Nic, Node, PowerState, Snapshot, Vm
from dcsim.sim.placement import check_host_can_run, free_ip, network_for, place

#: Power actions and the states they may start from.
POWER_ACTIONS: dict[str, tuple[set[PowerState], PowerState]] = {
    "on": ({PowerState.OFF, PowerState.SUSPENDED}, PowerState.ON),
    "off": ({PowerState.ON, PowerState.SUSPENDED}, PowerState.OFF),
    "suspend": ({PowerState.ON}, PowerState.SUSPENDED),
    "reset": ({PowerState.ON}, PowerState.ON),
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


class VmLifecycle(EngineCore):
    """The VM operations of the engine (``Simulation`` is one)."""

    def vm(self, ref: str) -> Vm:
        """A VM by id or name."""
        return self.world.get(Vm, ref)

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
            if platform and vm.platform != platform:
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

    async def create_vm(self, request: VmRequest) -> Vm:
        """Create a VM; placed on ``host``, or the least loaded healthy host of ``cluster``."""
        async with self._lock:
            if self.world.find(Vm, request.name):
                raise Conflict(f"a VM named {request.name!r} already exists")
            if request.cpu < 1 or request.memory_mb < 128 or request.disk_gb < 1:
                raise InvalidInput("cpu must be >= 1, memory_mb >= 128 and disk_gb >= 1")
            if request.load_profile not in self.dcsim.load_profiles:
                raise InvalidInput(f"unknown load profile {request.load_profile!r}")
            host = place(self.world, request.host, request.cluster)
            cluster = self.world.get(Cluster, host.cluster_id)
            network = network_for(self.world, cluster, request.network)
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
                nics=[
                    Nic(
                        mac=self.kinds.mac(cluster.platform, vm_id),
                        network_id=network.id,
                        ip=free_ip(self.world, network),
                    )
                ],
                disks=[
                    Disk(label="Hard disk 1", size_gb=request.disk_gb, datastore_id=datastore.id if datastore else None)
                ],
                load_profile=request.load_profile,
                tags={"os": request.guest_os.value, "platform": cluster.platform, **request.tags},
            )
            check_host_can_run(host, vm)
            self.world.add(vm)
            await self._save([vm], events=[self.event("vm.created", {"vm": to_json(vm)}, vm)])
            if vm.node is not None:
                await self.nodes.ensure(self.node_spec(vm))
            return vm

    async def destroy_vm(self, ref: str) -> Vm:
        """Destroy a VM and its node."""
        async with self._lock:
            vm = self.vm(ref)
            self.world.remove(vm)
            await self._save(removed=[vm], events=[self.event("vm.destroyed", {"vm": to_json(vm)}, vm)])
            if vm.node is not None:
                await self.nodes.remove(vm.node.name)
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
                check_host_can_run(self.world.get(Host, vm.host_id), vm)
            await self._power_now(vm, target, reason if action != "reset" else "reset")
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
            event = self.event("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            await self._save([vm], events=[event])
            if vm.node is not None:
                # Size limits are fixed when a container is created: recreate the node.
                await self.nodes.remove(vm.node.name)
                await self.nodes.ensure(self.node_spec(vm))
            return vm

    async def set_load_profile(self, ref: str, profile: str) -> Vm:
        """Make a VM's simulated metrics follow ``profile``."""
        async with self._lock:
            vm = self.vm(ref)
            if profile not in self.dcsim.load_profiles:
                raise InvalidInput(f"unknown load profile {profile!r}; known: {', '.join(self.dcsim.load_profiles)}")
            changes = {"load_profile": [vm.load_profile, profile]}
            vm.load_profile = profile
            event = self.event("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            await self._save([vm], events=[event])
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
            changes = {"snapshots": [len(vm.snapshots) - 1, len(vm.snapshots)]}
            event = self.event("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            await self._save([vm], events=[event])
            if vm.node is not None:
                await self.nodes.snapshot(vm.node.name, snapshot.id)
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
            data = {"id": vm.id, "name": vm.name, "changes": changes}
            await self._save([vm], events=[self.event("vm.reconfigured", data, vm)] if changes else [])
            if power_before is not snapshot.power_state:
                await self._power_now(vm, snapshot.power_state, "snapshot_revert")
            return vm

    async def delete_snapshot(self, ref: str, snapshot_ref: str) -> Vm:
        """Remove a snapshot."""
        async with self._lock:
            vm = self.vm(ref)
            snapshot = _find_snapshot(vm, snapshot_ref)
            vm.snapshots.remove(snapshot)
            changes = {"snapshots": [len(vm.snapshots) + 1, len(vm.snapshots)]}
            event = self.event("vm.reconfigured", {"id": vm.id, "name": vm.name, "changes": changes}, vm)
            await self._save([vm], events=[event])
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
            check_host_can_run(target, vm)
            await self._move_now(vm, target, reason)
            return vm

    def move_vm(self, vm: Vm, target: Host, reason: str, change: Change) -> PendingEvent:
        """Place ``vm`` on ``target`` within ``change`` (``vm.migrated``)."""
        source = self.world.get(Host, vm.host_id)
        self.world.move_vm(vm, target.id)
        change.save(vm)
        event: PendingEvent = (
            "vm.migrated",
            {"id": vm.id, "name": vm.name, "from_host": source.name, "to_host": target.name, "reason": reason},
            vm,
        )
        change.events.append(event)
        return event

    async def _power_now(self, vm: Vm, target: PowerState, reason: str) -> None:
        change = Change()
        self.set_vm_power(vm, target, reason, change)
        await self.commit(change)

    async def _move_now(self, vm: Vm, target: Host, reason: str) -> None:
        change = Change()
        self.move_vm(vm, target, reason, change)
        await self.commit(change)


def _find_snapshot(vm: Vm, ref: str) -> Snapshot:
    for snapshot in vm.snapshots:
        if ref in (snapshot.id, snapshot.name):
            return snapshot
    raise NotFound(f"{vm.name} has no snapshot {ref!r}", known=[s.name for s in vm.snapshots])


__all__ = ["POWER_ACTIONS", "VmLifecycle", "VmRequest"]
