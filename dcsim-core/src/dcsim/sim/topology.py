"""Building estates: the builder handed to ``dcsim_sim_seed_topology``.

Identifiers are derived from a seed number and each object's qualified name, so the
same seed and the same parameters give the same ids, names, MACs and IPs every time.
The estates themselves (the default seed, generated ones) are in ``dcsim.sim.seed``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import uuid
from typing import Any

from dcsim.sim.model import (
    Blade,
    Chassis,
    Cluster,
    Datacenter,
    Datastore,
    Disk,
    GuestOs,
    Host,
    Network,
    Nic,
    Node,
    Vm,
)
from dcsim.sim.world import World

_ID_NAMESPACE = uuid.UUID("9b0a0f4e-5d1c-4c36-9a43-6f1c2d0e7d11")


class Topology:
    """Adds objects to a world with deterministic ids; handed to ``dcsim_sim_seed_topology``.

    Args:
        world: the world to fill.
        seed: the seed number every derived value depends on.
    """

    def __init__(self, world: World, seed: int = 0) -> None:
        self.world = world
        self.seed = seed
        self.random = random.Random(seed)
        self._ips: dict[str, int] = {}

    def id(self, kind: str, name: str) -> str:
        """The stable id of the ``kind`` object called ``name`` under this seed."""
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.seed}/{kind}/{name}"))

    def add(self, obj: Any) -> Any:
        """Add ``obj`` to the world and return it."""
        self.world.add(obj)
        return obj

    def mac(self, prefix: str, owner: str, index: int = 0) -> str:
        """A stable MAC address under ``prefix`` (``xx:xx:xx``) for NIC ``index`` of ``owner``."""
        digest = hashlib.sha256(f"{self.seed}/{owner}/{index}".encode()).digest()
        return prefix + "".join(f":{b:02x}" for b in digest[:3])

    def serial(self, name: str, prefix: str) -> str:
        """A stable serial number: ``prefix`` and eight hex digits derived from ``name``."""
        return prefix + hashlib.sha256(f"{self.seed}/{name}".encode()).hexdigest()[:8].upper()

    def next_ip(self, network: Network) -> str | None:
        """The next free address of ``network`` (from .10 on), or None without a CIDR."""
        if not network.cidr:
            return None
        offset = self._ips.get(network.id, 10)
        self._ips[network.id] = offset + 1
        return str(ipaddress.ip_network(network.cidr)[offset])

    # Builders ----------------------------------------------------------------------

    def datacenter(self, name: str, platform: str) -> Datacenter:
        """Add a site; ``platform`` labels the view it belongs to."""
        return self.add(Datacenter(id=self.id("datacenter", name), name=name, platform=platform))  # type: ignore[no-any-return]

    def cluster(self, name: str, dc: Datacenter, ha: bool = True) -> Cluster:
        """Add a cluster (availability zone) of ``dc``, with HA on or off."""
        return self.add(  # type: ignore[no-any-return]
            Cluster(id=self.id("cluster", name), name=name, datacenter_id=dc.id, platform=dc.platform, ha_enabled=ha)
        )

    def host(self, name: str, cluster: Cluster, cpu_cores: int, memory_mb: int, blade: Blade | None = None) -> Host:
        """Add a hypervisor host of ``cluster``, running on the physical server ``blade`` if given."""
        return self.add(  # type: ignore[no-any-return]
            Host(
                id=self.id("host", name),
                name=name,
                cluster_id=cluster.id,
                cpu_cores=cpu_cores,
                memory_mb=memory_mb,
                blade_id=blade.id if blade else None,
            )
        )

    def network(self, name: str, dc: Datacenter, vlan: int | None, cidr: str | None) -> Network:
        """Add a network of ``dc``."""
        return self.add(  # type: ignore[no-any-return]
            Network(
                id=self.id("network", name), name=name, datacenter_id=dc.id, platform=dc.platform, vlan=vlan, cidr=cidr
            )
        )

    def datastore(self, name: str, dc: Datacenter, capacity_gb: int) -> Datastore:
        """Add a datastore of ``dc``."""
        return self.add(  # type: ignore[no-any-return]
            Datastore(id=self.id("datastore", name), name=name, datacenter_id=dc.id, capacity_gb=capacity_gb)
        )

    def vm(
        self,
        name: str,
        host: Host,
        cpu: int,
        memory_mb: int,
        guest_os: GuestOs,
        network: Network,
        *,
        platform: str,
        mac_prefix: str | None = None,
        disk_gb: int = 40,
        datastore: Datastore | None = None,
        node: Node | None = None,
        **extra: Any,
    ) -> Vm:
        """Add a powered-on VM with one NIC and one disk.

        The NIC's MAC is under ``mac_prefix``, else under the prefix registered for
        ``platform`` (``KindRegistry.add_platform``).
        """
        if datastore is not None:
            datastore.used_gb += disk_gb
        vm = Vm(
            id=self.id("vm", name),
            name=name,
            platform=platform,
            host_id=host.id,
            cpu=cpu,
            memory_mb=memory_mb,
            node=node,
            nics=[Nic(mac=self._vm_mac(platform, mac_prefix, name), network_id=network.id, ip=self.next_ip(network))],
            disks=[Disk(label="Hard disk 1", size_gb=disk_gb, datastore_id=datastore.id if datastore else None)],
            tags={"os": guest_os.value, "platform": platform, **extra.pop("tags", {})},
            **extra,
        )
        return self.add(vm)  # type: ignore[no-any-return]

    def chassis(self, name: str, dc: Datacenter, *, platform: str, number: int, model: str, slots: int = 8) -> Chassis:
        """Add a chassis of ``slots`` slots in ``dc``; its serial is derived from its name."""
        return self.add(  # type: ignore[no-any-return]
            Chassis(id=self.id("chassis", name), name=name, datacenter_id=dc.id, platform=platform, number=number,
                    model=model, serial=self.serial(name, "FOX"), slots=slots)
        )  # fmt: skip

    def blade(
        self,
        name: str,
        chassis: Chassis,
        slot: int,
        *,
        model: str,
        cpu: int,
        memory_mb: int,
        firmware: str,
        node: Node | None = None,
    ) -> Blade:
        """Add a physical server in ``slot`` of ``chassis``; its serial is derived from its name."""
        return self.add(  # type: ignore[no-any-return]
            Blade(id=self.id("blade", name), name=name, chassis_id=chassis.id, slot=slot, model=model,
                  serial=self.serial(name, "FCH"), cpu=cpu, memory_mb=memory_mb, firmware=firmware, node=node)
        )  # fmt: skip

    def _vm_mac(self, platform: str, prefix: str | None, owner: str) -> str:
        if prefix is not None:
            return self.mac(prefix, owner)
        # The registry derives from its seed string; the seed number keeps estates apart.
        return self.world.kinds_registry.mac(platform, f"{self.seed}/{owner}/0")


__all__ = ["Topology"]
