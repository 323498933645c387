"""Makes vCenter's inventory the simulation's: creates what is missing, changes what
differs, removes VMs the simulation no longer has. Seeding is the same call on an
empty vCenter, so a restarted simulator gets the world as it is now (nothing changed
during the gap is lost).

Runs in a worker thread (pyvmomi is synchronous). Every write dc-sim makes to a VM is
announced to :class:`~dcsim_vmware.vcenter.Echoes`, so the watcher does not apply it
back to the simulation.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs
import structlog
from pyVmomi import vim

from dcsim_vmware.desired import Inventory, VmSpec
from dcsim_vmware.vcenter import Echoes, collect, wait

log = structlog.get_logger(__name__)

T = TypeVar("T")

VM_PATHS = ["name", "runtime.powerState", "runtime.host", "config.hardware.numCPU", "config.hardware.memoryMB"]


def snapshot_names(vm: vim.VirtualMachine) -> dict[str, vim.vm.Snapshot]:
    """A VM's snapshots by name (the whole tree)."""
    return snapshot_tree(vm.snapshot)


def snapshot_tree(info: vim.vm.SnapshotInfo | None) -> dict[str, vim.vm.Snapshot]:
    """The snapshots of a VM's snapshot info by name (the whole tree)."""
    found: dict[str, vim.vm.Snapshot] = {}
    tree = list(info.rootSnapshotList) if info else []
    while tree:
        node = tree.pop()
        found[node.name] = node.snapshot
        tree.extend(node.childSnapshotList)
    return found


@attrs.frozen
class Settled(Generic[T]):
    """One field of a VM after comparing vCenter with the simulation and the baseline."""

    #: whether dc-sim writes the simulation's value to vCenter
    write: bool
    #: the value dc-sim and vCenter agree on afterwards
    agreed: T


def settle(have: T, want: T, was: T, known: bool) -> Settled[T]:
    """Whether to write ``want`` (the simulation's value) over ``have`` (vCenter's now),
    given ``was``, the value last agreed (``known`` false: never agreed, write).

    Written only when the simulation changed it since and vCenter did not. A value
    vCenter changed since is vCenter's news, which the watcher brings to the simulation
    (and which wins a conflict): writing the simulation's value over it is the bounce
    this rule prevents. A field left alone stays agreed at ``was`` until the watcher
    reports vCenter's value.
    """
    if have == want:
        return Settled(False, want)
    if not known or (was != want and have == was):
        return Settled(True, want)
    return Settled(False, was)


class Reconciler:
    """Applies :class:`Inventory` to one vCenter connection."""

    def __init__(
        self,
        si: vim.ServiceInstance,
        echoes: Echoes,
        ids: dict[str, str],
        last: Mapping[str, VmSpec],
        datastore_dir: Path,
        adopting: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.si = si
        self.content = si.RetrieveContent()
        self.echoes = echoes
        #: sim VM id -> vCenter VM id (shared with the watcher)
        self.ids = ids
        #: sim VM id -> the VM as last agreed, frozen when the inventory was read: a field
        #: is written only when the simulation changed it since and vCenter did not
        self.last = last
        #: sim VM id -> the VM as agreed after this run (None: destroyed), for the caller
        #: to merge into the :class:`~dcsim_vmware.agreement.Agreement`
        self.agreed: dict[str, VmSpec | None] = {}
        self.datastore_dir = datastore_dir
        #: names of VMs vCenter made that the watcher is giving the simulation right now
        self.adopting = adopting
        self.actions: list[str] = []
        self.inventory = Inventory((), {}, {}, {}, {}, {}, {}, {})

    # Containers -------------------------------------------------------------------------

    def _by_name(self, kind: type) -> dict[str, Any]:
        return {props["name"]: obj for obj, props in collect(self.si, kind, ["name"]).values()}

    def apply(self, inventory: Inventory) -> list[str]:
        """Bring vCenter to ``inventory``; the list of what was done."""
        self.actions = []
        self.inventory = inventory
        dcs = self._datacenters(inventory)
        clusters = self._clusters(inventory, dcs)
        hosts = self._hosts(inventory, clusters)
        self._reconnect(inventory, hosts)
        self._datastores(inventory, hosts)
        self._port_groups(inventory, hosts)
        self._pools(inventory, clusters)
        self._dvswitches(inventory, dcs, hosts)
        self._vms(inventory, dcs, clusters, hosts)
        self._disconnect(inventory, hosts)
        return self.actions

    def _datacenters(self, inventory: Inventory) -> dict[str, vim.Datacenter]:
        dcs = self._by_name(vim.Datacenter)
        for name in inventory.datacenters:
            if name not in dcs:
                dcs[name] = self.content.rootFolder.CreateDatacenter(name=name)
                self.actions.append(f"datacenter {name} created")
        return dcs

    def _clusters(self, inventory: Inventory, dcs: dict[str, vim.Datacenter]) -> dict[str, Any]:
        clusters = self._by_name(vim.ClusterComputeResource)
        for name, (dc, ha, drs) in inventory.clusters.items():
            spec = vim.cluster.ConfigSpecEx(
                dasConfig=vim.cluster.DasConfigInfo(enabled=ha), drsConfig=vim.cluster.DrsConfigInfo(enabled=drs)
            )
            if name not in clusters:
                clusters[name] = dcs[dc].hostFolder.CreateClusterEx(name=name, spec=spec)
                self.actions.append(f"cluster {name} created")
            config = clusters[name].configurationEx
            if bool(config.dasConfig.enabled) != ha or bool(config.drsConfig.enabled) != drs:
                wait(clusters[name].ReconfigureComputeResource_Task(spec=spec, modify=True))
                self.actions.append(f"cluster {name} HA {ha} DRS {drs}")
        return clusters

    def _hosts(self, inventory: Inventory, clusters: dict[str, Any]) -> dict[str, vim.HostSystem]:
        hosts = self._by_name(vim.HostSystem)
        for name, (cluster, _) in inventory.hosts.items():
            if name not in hosts:
                spec = vim.host.ConnectSpec(hostName=name, userName="root", password="", force=True)
                hosts[name] = wait(clusters[cluster].AddHost_Task(spec=spec, asConnected=True))
                self.actions.append(f"host {name} added to {cluster}")
        return hosts

    def _reconnect(self, inventory: Inventory, hosts: dict[str, vim.HostSystem]) -> None:
        for name, (_, connected) in inventory.hosts.items():
            if connected and hosts[name].runtime.connectionState != "connected":
                wait(hosts[name].ReconnectHost_Task())
                self.actions.append(f"host {name} reconnected")

    def _disconnect(self, inventory: Inventory, hosts: dict[str, vim.HostSystem]) -> None:
        for name, (_, connected) in inventory.hosts.items():
            if not connected and hosts[name].runtime.connectionState == "connected":
                wait(hosts[name].DisconnectHost_Task())
                self.actions.append(f"host {name} disconnected")

    def _hosts_of(self, inventory: Inventory, dc: str, hosts: dict[str, vim.HostSystem]) -> list[vim.HostSystem]:
        return [hosts[h] for h, (c, _) in inventory.hosts.items() if inventory.clusters[c][0] == dc]

    def _datastores(self, inventory: Inventory, hosts: dict[str, vim.HostSystem]) -> None:
        for name, dc in inventory.datastores.items():
            path = self.datastore_dir / name
            path.mkdir(parents=True, exist_ok=True)
            for host in self._hosts_of(inventory, dc, hosts):
                if any(ds.name == name for ds in host.datastore):
                    continue
                # The simulator mounts a shared datastore but answers an empty reference.
                with contextlib.suppress(KeyError):
                    host.configManager.datastoreSystem.CreateLocalDatastore(name=name, path=str(path))
                self.actions.append(f"datastore {name} on {host.name}")

    def _port_groups(self, inventory: Inventory, hosts: dict[str, vim.HostSystem]) -> None:
        networks = self._by_name(vim.Network)
        for name, (dc, vlan) in inventory.port_groups.items():
            if name in networks:
                continue
            for host in self._hosts_of(inventory, dc, hosts):
                spec = vim.host.PortGroup.Specification(
                    name=name, vlanId=vlan, vswitchName="vSwitch0", policy=vim.host.NetworkPolicy()
                )
                try:
                    host.configManager.networkSystem.AddPortGroup(portgrp=spec)
                except vim.fault.AlreadyExists:
                    pass
                except vim.fault.DuplicateName:
                    pass  # the datacenter's network exists: it spans every host
            self.actions.append(f"port group {name} (VLAN {vlan})")

    def _pools(self, inventory: Inventory, clusters: dict[str, Any]) -> None:
        pools = self._by_name(vim.ResourcePool)
        for name, cluster in inventory.pools.items():
            if name in pools:
                continue
            allocation = vim.ResourceAllocationInfo(
                reservation=0, limit=-1, expandableReservation=True, shares=vim.SharesInfo(level="normal", shares=0)
            )
            spec = vim.ResourceConfigSpec(cpuAllocation=allocation, memoryAllocation=allocation)
            clusters[cluster].resourcePool.CreateResourcePool(name=name, spec=spec)
            self.actions.append(f"resource pool {name} in {cluster}")

    def _dvswitches(self, inventory: Inventory, dcs: dict[str, vim.Datacenter], hosts: dict[str, Any]) -> None:
        switches = self._by_name(vim.DistributedVirtualSwitch)
        groups = self._by_name(vim.dvs.DistributedVirtualPortgroup)
        for name, (dc, port_groups) in inventory.dvswitches.items():
            if name not in switches:
                members = [
                    vim.dvs.HostMember.ConfigSpec(operation="add", host=h) for h in self._hosts_of(inventory, dc, hosts)
                ]
                config = vim.DistributedVirtualSwitch.ConfigSpec(name=name, host=members)
                spec = vim.DistributedVirtualSwitch.CreateSpec(configSpec=config)
                switches[name] = wait(dcs[dc].networkFolder.CreateDVS_Task(spec))
                self.actions.append(f"dvSwitch {name}")
            missing = [
                vim.dvs.DistributedVirtualPortgroup.ConfigSpec(
                    name=group,
                    type="earlyBinding",
                    numPorts=128,
                    defaultPortConfig=vim.dvs.VmwareDistributedVirtualSwitch.VmwarePortConfigPolicy(
                        vlan=vim.dvs.VmwareDistributedVirtualSwitch.VlanIdSpec(vlanId=vlan, inherited=False)
                    ),
                )
                for group, vlan in port_groups.items()
                if group not in groups
            ]
            if missing:
                wait(switches[name].AddDVPortgroup_Task(missing))
                self.actions.append(f"dvSwitch {name} port groups {', '.join(g.name for g in missing)}")

    # VMs --------------------------------------------------------------------------------

    def _vms(self, inventory: Inventory, dcs: dict[str, Any], clusters: dict[str, Any], hosts: dict[str, Any]) -> None:
        current = collect(self.si, vim.VirtualMachine, VM_PATHS)
        by_name = {props["name"]: moid for moid, (_, props) in current.items()}
        known = set(self.ids.values())
        for sim_id, spec in inventory.vms.items():
            moid = self.ids.get(sim_id)
            if spec.name in self.adopting and moid not in current:
                continue  # vCenter made it; the watcher is giving it to the simulation right now
            if moid not in current and spec.name in by_name and by_name[spec.name] not in known:
                moid = self.ids[sim_id] = by_name[spec.name]  # seeded earlier, before the ids were known
            if moid not in current:
                if spec.name not in self.adopting and sim_id not in self.ids:
                    self._create(spec, inventory, dcs, clusters, hosts)
                continue
            vm, props = current[moid]
            self.agreed[sim_id] = self._update(vm, props, spec, self.last.get(sim_id), hosts)
        wanted = set(inventory.vms)
        for sim_id, moid in list(self.ids.items()):
            if sim_id not in wanted and moid in current:
                vm, props = current[moid]
                if props["runtime.powerState"] != "poweredOff":
                    self.echoes.expect(moid, "power", "poweredOff")
                    wait(vm.PowerOffVM_Task())
                self.echoes.expect(moid, "destroyed", True)
                wait(vm.Destroy_Task())
                del self.ids[sim_id]
                self.agreed[sim_id] = None
                self.actions.append(f"vm {props['name']} destroyed")

    def _create(
        self, spec: VmSpec, inventory: Inventory, dcs: dict[str, Any], clusters: dict[str, Any], hosts: dict[str, Any]
    ) -> None:
        cluster = inventory.hosts[spec.host][0]
        dc = dcs[inventory.clusters[cluster][0]]
        networks = {n.name: n for n in dc.network}
        devices = []
        for mac, group, _ in spec.nics:
            network = networks.get(group)
            if network is None:
                continue
            card = vim.vm.device.VirtualVmxnet3(
                addressType="manual",
                macAddress=mac,
                backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName=group, network=network),
                connectable=vim.vm.device.VirtualDevice.ConnectInfo(startConnected=True, connected=True),
            )
            devices.append(vim.vm.device.VirtualDeviceSpec(operation="add", device=card))
        extra = [vim.option.OptionValue(key="SET.guest.ipAddress", value=ip) for _, _, ip in spec.nics[:1] if ip]
        config = vim.vm.ConfigSpec(
            name=spec.name,
            numCPUs=spec.cpu,
            memoryMB=spec.memory_mb,
            guestId=spec.guest_id,
            files=vim.vm.FileInfo(vmPathName=f"[{spec.datastore}]"),
            deviceChange=devices,
            extraConfig=extra,
        )
        pool = clusters[cluster].resourcePool
        if spec.pool:
            pool = next((p for p in pool.resourcePool if p.name == spec.pool), pool)
        vm = wait(dc.vmFolder.CreateVM_Task(config=config, pool=pool, host=hosts[spec.host]))
        self.ids[spec.id] = vm._moId
        self.echoes.expect(vm._moId, "created", True)
        for name in spec.snapshots:
            self.echoes.expect(vm._moId, "snapshot", name)
            wait(vm.CreateSnapshot_Task(name=name, description="", memory=False, quiesce=False))
        self._power(vm, "poweredOff", spec.power)
        self.agreed[spec.id] = spec
        self.actions.append(f"vm {spec.name} created on {spec.host}")

    def _update(
        self, vm: vim.VirtualMachine, props: dict[str, Any], spec: VmSpec, last: VmSpec | None, hosts: dict[str, Any]
    ) -> VmSpec:
        """Write to ``vm`` what the simulation changed since ``last`` and vCenter did not;
        the VM as agreed afterwards."""
        moid = vm._moId
        was = last or spec  # never agreed: ``settle`` ignores it
        name = settle(props["name"], spec.name, was.name, last is not None)
        if name.write:
            self.echoes.expect(moid, "name", spec.name)
            wait(vm.Rename_Task(newName=spec.name))
            self.actions.append(f"vm {props['name']} renamed {spec.name}")
        power = props["runtime.powerState"]
        source = props["runtime.host"]
        host = settle(source.name, spec.host, was.host, last is not None)
        moved = False
        if host.write:
            if power != "poweredOff":
                self._power(vm, power, "poweredOff")
                power = "poweredOff"
            self.echoes.expect(moid, "host", spec.host)
            target = hosts[spec.host]
            wait(vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=target, pool=vm.resourcePool)))
            self.actions.append(f"vm {spec.name} moved to {spec.host}")
            moved = True
            if not self.inventory.hosts.get(source.name, ("", True))[1]:
                self._restart_event(vm, source, target)
        have = (props["config.hardware.numCPU"], props["config.hardware.memoryMB"])
        size = settle(have, (spec.cpu, spec.memory_mb), (was.cpu, was.memory_mb), last is not None)
        if size.write:
            self.echoes.expect(moid, "size", (spec.cpu, spec.memory_mb))
            wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=spec.cpu, memoryMB=spec.memory_mb)))
            self.actions.append(f"vm {spec.name} now {spec.cpu} CPU {spec.memory_mb} MB")
        snapshots = snapshot_names(vm)
        known = set(last.snapshots) if last is not None else set()
        kept: list[str] = []
        for snapshot_name in dict.fromkeys([*spec.snapshots, *snapshots, *known]):
            wanted = snapshot_name in spec.snapshots
            one = settle(snapshot_name in snapshots, wanted, snapshot_name in known, last is not None)
            if one.write and wanted:
                self.echoes.expect(moid, "snapshot", snapshot_name)
                wait(vm.CreateSnapshot_Task(name=snapshot_name, description="", memory=False, quiesce=False))
                self.actions.append(f"vm {spec.name} snapshot {snapshot_name}")
            elif one.write:
                self.echoes.expect(moid, "snapshot-", snapshot_name)
                wait(snapshots[snapshot_name].RemoveSnapshot_Task(removeChildren=False))
                self.actions.append(f"vm {spec.name} snapshot {snapshot_name} removed")
            if one.agreed:
                kept.append(snapshot_name)
        state = settle(props["runtime.powerState"], spec.power, was.power, last is not None)
        if state.write or (moved and power != spec.power):
            # After a move dc-sim made, the power it took away is dc-sim's to give back.
            self._power(vm, power, spec.power)
        return attrs.evolve(
            spec,
            name=name.agreed,
            host=host.agreed,
            cpu=size.agreed[0],
            memory_mb=size.agreed[1],
            snapshots=tuple(kept),
            power=spec.power if moved else state.agreed,
        )

    def _power(self, vm: vim.VirtualMachine, current: str, target: str) -> None:
        if current == target:
            return
        if target == "suspended" and current != "poweredOn":
            self._power(vm, current, "poweredOn")
        self.echoes.expect(vm._moId, "power", target)
        if target == "poweredOn":
            wait(vm.PowerOnVM_Task())
        elif target == "poweredOff":
            wait(vm.PowerOffVM_Task())
        else:
            wait(vm.SuspendVM_Task())
        self.actions.append(f"vm {vm.name} {target}")

    def _restart_event(self, vm: vim.VirtualMachine, source: vim.HostSystem, target: vim.HostSystem) -> None:
        """Record an HA restart in vCenter's events, as vSphere HA does."""
        event = vim.event.VmRestartedOnAlternateHostEvent(
            key=0,
            chainId=0,
            createdTime=datetime.datetime.now(datetime.UTC),
            userName="",
            fullFormattedMessage=f"vSphere HA restarted {vm.name} on {target.name} ({source.name} failed)",
            vm=vim.event.VmEventArgument(name=vm.name, vm=vm),
            host=vim.event.HostEventArgument(name=target.name, host=target),
            sourceHost=vim.event.HostEventArgument(name=source.name, host=source),
        )
        try:
            self.content.eventManager.PostEvent(eventToPost=event)
        except Exception as exc:
            log.warning("vmware.event_not_posted", error=str(exc))


__all__ = ["VM_PATHS", "Reconciler", "Settled", "settle", "snapshot_names", "snapshot_tree"]
