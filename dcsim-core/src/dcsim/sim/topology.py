"""Building estates: the default seed topology and large generated ones.

Identifiers are derived from a seed number and each object's qualified name, so the
same seed and the same parameters give the same ids, names, MACs and IPs every time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import uuid
from collections.abc import Callable
from typing import Any

from dcsim.sim.model import (
    Blade,
    Chassis,
    Cluster,
    Datacenter,
    Datastore,
    Disk,
    FabricInterconnect,
    Flavor,
    GuestOs,
    Host,
    Image,
    Network,
    Nic,
    Node,
    Platform,
    Project,
    Router,
    SecurityGroup,
    ServiceProfile,
    ServiceProfileTemplate,
    Subnet,
    UcsDomain,
    Vm,
)
from dcsim.sim.world import World, kind_of

_ID_NAMESPACE = uuid.UUID("9b0a0f4e-5d1c-4c36-9a43-6f1c2d0e7d11")

#: MAC address prefixes by platform (VMware's, OpenStack's and Cisco UCS pool OUIs).
MAC_PREFIX = {Platform.VMWARE: "00:50:56", Platform.OPENSTACK: "fa:16:3e", Platform.UCS: "00:25:b5"}

FIRMWARE = "4.2(3d)"


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

    def mac(self, platform: Platform, owner: str, index: int = 0) -> str:
        """A stable MAC address for NIC ``index`` of ``owner``."""
        digest = hashlib.sha256(f"{self.seed}/{owner}/{index}".encode()).digest()
        return MAC_PREFIX[platform] + "".join(f":{b:02x}" for b in digest[:3])

    def next_ip(self, network: Network) -> str | None:
        """The next free address of ``network`` (from .10 on), or None without a CIDR."""
        if not network.cidr:
            return None
        offset = self._ips.get(network.id, 10)
        self._ips[network.id] = offset + 1
        return str(ipaddress.ip_network(network.cidr)[offset])

    # Builders ----------------------------------------------------------------------

    def datacenter(self, name: str, platform: Platform) -> Datacenter:
        return self.add(Datacenter(id=self.id("datacenter", name), name=name, platform=platform))  # type: ignore[no-any-return]

    def cluster(self, name: str, dc: Datacenter, ha: bool = True) -> Cluster:
        return self.add(  # type: ignore[no-any-return]
            Cluster(id=self.id("cluster", name), name=name, datacenter_id=dc.id, platform=dc.platform, ha_enabled=ha)
        )

    def host(self, name: str, cluster: Cluster, cpu_cores: int, memory_mb: int, blade: Blade | None = None) -> Host:
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
        return self.add(  # type: ignore[no-any-return]
            Network(
                id=self.id("network", name), name=name, datacenter_id=dc.id, platform=dc.platform, vlan=vlan, cidr=cidr
            )
        )

    def datastore(self, name: str, dc: Datacenter, capacity_gb: int) -> Datastore:
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
        platform: Platform,
        disk_gb: int = 40,
        datastore: Datastore | None = None,
        node: Node | None = None,
        **extra: Any,
    ) -> Vm:
        """Add a powered-on VM (or instance) with one NIC and one disk."""
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
            nics=[Nic(mac=self.mac(platform, name), network_id=network.id, ip=self.next_ip(network))],
            disks=[Disk(label="Hard disk 1", size_gb=disk_gb, datastore_id=datastore.id if datastore else None)],
            tags={"os": guest_os.value, "platform": platform.value, **extra.pop("tags", {})},
            **extra,
        )
        return self.add(vm)  # type: ignore[no-any-return]


def _node(name: str, guest_os: GuestOs, port: int, env: str) -> Node:
    return Node(name=name, guest_os=guest_os, ssh_port=port, env=env)


def build_default(topology: Topology) -> None:
    """The seed's estate: 9 nodes, 3 per platform, mixed RHEL 9 / Ubuntu 22 guests.

    SSH ports 22001..22009 go to vm-001..003, instance-001..003, c01s01..c01s03.
    """
    t = topology
    rhel, ubuntu = GuestOs.RHEL9, GuestOs.UBUNTU22

    # VMware: dc-west / cluster-01 / esxi-01, esxi-02 / vm-001..003
    west = t.datacenter("dc-west", Platform.VMWARE)
    cluster = t.cluster("cluster-01", west, ha=True)
    esxi = [t.host(f"esxi-0{i}", cluster, cpu_cores=32, memory_mb=262_144) for i in (1, 2)]
    vm_network = t.network("VM Network", west, vlan=100, cidr="10.10.100.0/24")
    datastore = t.datastore("datastore-01", west, capacity_gb=4096)
    for i, (cpu, mem, guest, host, env, app) in enumerate(
        [
            (2, 4096, rhel, esxi[0], "prod", "web"),
            (2, 4096, ubuntu, esxi[1], "prod", "app"),
            (4, 8192, rhel, esxi[0], "staging", "db"),
        ],
        start=1,
    ):
        name = f"vm-00{i}"
        t.vm(
            name, host, cpu, mem, guest, vm_network,
            platform=Platform.VMWARE, datastore=datastore,
            node=_node(f"sim-vmw-{name}", guest, 22000 + i, env),
            tags={"env": env, "role": app}, applications=[app],
        )  # fmt: skip

    # OpenStack: RegionOne / project demo / instance-001..003 on m1.small on private-net
    region = t.datacenter("RegionOne", Platform.OPENSTACK)
    zone = t.cluster("nova", region, ha=False)
    computes = [t.host(f"compute-0{i}", zone, cpu_cores=48, memory_mb=393_216) for i in (1, 2)]
    project = t.add(Project(id=t.id("project", "demo"), name="demo", datacenter_id=region.id))
    flavors = {
        name: t.add(Flavor(id=t.id("flavor", name), name=name, vcpus=cpu, ram_mb=ram, disk_gb=disk))
        for name, cpu, ram, disk in [
            ("m1.tiny", 1, 512, 1),
            ("m1.small", 1, 2048, 20),
            ("m1.medium", 2, 4096, 40),
            ("m1.large", 4, 8192, 80),
        ]
    }
    images = {
        guest: t.add(Image(id=t.id("image", name), name=name, guest_os=guest))
        for name, guest in [("rhel-9", rhel), ("ubuntu-22.04", ubuntu)]
    }
    private = t.network("private-net", region, vlan=None, cidr="10.0.0.0/24")
    subnet = t.add(
        Subnet(id=t.id("subnet", "private-subnet"), name="private-subnet", network_id=private.id, cidr="10.0.0.0/24",
               gateway_ip="10.0.0.1")
    )  # fmt: skip
    t.add(Router(id=t.id("router", "router1"), name="router1", project_id=project.id, subnet_ids=[subnet.id]))
    t.add(
        SecurityGroup(
            id=t.id("security_group", "default"), name="default", project_id=project.id,
            rules=[{"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                    "remote_ip_prefix": "0.0.0.0/0"}],
        )
    )  # fmt: skip
    small = flavors["m1.small"]
    for i, guest in enumerate([ubuntu, ubuntu, rhel], start=1):
        name = f"instance-00{i}"
        t.vm(
            name, computes[(i - 1) % 2], small.vcpus, small.ram_mb, guest, private,
            platform=Platform.OPENSTACK, disk_gb=small.disk_gb,
            node=_node(f"sim-os-{name}", guest, 22003 + i, "dev"),
            project_id=project.id, flavor=small.name, image=images[guest].name, tags={"env": "dev"},
        )  # fmt: skip

    # UCS: ucs-domain-01 / chassis-01 / c01s01..c01s03 with SP-web-01, SP-app-01, SP-db-01
    domain = t.add(UcsDomain(id=t.id("ucs_domain", "ucs-domain-01"), name="ucs-domain-01", datacenter_id=west.id,
                             firmware=FIRMWARE))  # fmt: skip
    for side in ("A", "B"):
        name = f"ucs-domain-01-{side}"
        t.add(
            FabricInterconnect(id=t.id("fabric_interconnect", name), name=name, domain_id=domain.id, side=side,
                               model="UCS-FI-6454", serial=_serial(t, name, "FDO"), primary=side == "A")
        )  # fmt: skip
    chassis = t.add(Chassis(id=t.id("chassis", "chassis-01"), name="chassis-01", domain_id=domain.id, number=1,
                            model="UCSB-5108-AC2", serial=_serial(t, "chassis-01", "FOX"), slots=8))  # fmt: skip
    templates = {
        guest: t.add(ServiceProfileTemplate(id=t.id("service_profile_template", name), name=name, domain_id=domain.id,
                                            guest_os=guest, firmware=FIRMWARE))
        for name, guest in [("SP-Template-RHEL9", rhel), ("SP-Template-Ubuntu", ubuntu)]
    }  # fmt: skip
    for slot, (sp_name, guest) in enumerate([("SP-web-01", rhel), ("SP-app-01", ubuntu), ("SP-db-01", rhel)], start=1):
        blade_name = f"c01s0{slot}"
        blade = t.add(
            Blade(
                id=t.id("blade", blade_name), name=blade_name, chassis_id=chassis.id, slot=slot, model="UCSB-B200-M5",
                serial=_serial(t, blade_name, "FCH"), cpu=4, memory_mb=16_384, firmware=FIRMWARE,
                node=_node(f"sim-ucs-blade-{blade_name}", guest, 22006 + slot, "prod"),
            )
        )  # fmt: skip
        profile = t.add(
            ServiceProfile(
                id=t.id("service_profile", sp_name), name=sp_name, domain_id=domain.id,
                template_id=templates[guest].id, blade_id=blade.id, firmware_policy=FIRMWARE,
                macs=[t.mac(Platform.UCS, sp_name, 0), t.mac(Platform.UCS, sp_name, 1)],
            )
        )  # fmt: skip
        blade.service_profile_id = profile.id


def _serial(topology: Topology, name: str, prefix: str) -> str:
    return prefix + hashlib.sha256(f"{topology.seed}/{name}".encode()).hexdigest()[:8].upper()


def generate(
    topology: Topology,
    *,
    datacenters: int = 1,
    clusters: int = 2,
    hosts: int = 8,
    vms: int = 100,
    chassis: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """A generated vSphere estate: ``datacenters`` x ``clusters`` x ``hosts`` hosts and
    ``vms`` VMs spread round-robin over them, sizes and guests drawn from the seed; with
    ``chassis``, a UCS domain per datacenter with that many chassis (see ``generate_ucs``).

    Generated VMs and blades have no node (no SSH guest): thousands of containers are not
    the point of a large estate. ``progress(done, total)`` is called every 1,000 VMs.
    """
    t = topology
    all_hosts: list[tuple[Host, Network, Datastore]] = []
    for d in range(1, datacenters + 1):
        dc = t.datacenter(f"dc-{d:02d}", Platform.VMWARE)
        if chassis:
            generate_ucs(t, dc, f"ucs-{d:02d}", chassis=chassis)
        network = t.network(f"VM Network {d:02d}", dc, vlan=100 + d, cidr=f"10.{100 + d}.0.0/16")
        datastore = t.datastore(f"datastore-{d:02d}", dc, capacity_gb=1_000_000)
        for c in range(1, clusters + 1):
            cluster = t.cluster(f"cluster-{d:02d}-{c:02d}", dc)
            for h in range(1, hosts + 1):
                host = t.host(f"esxi-{d:02d}-{c:02d}-{h:03d}", cluster, cpu_cores=64, memory_mb=1_048_576)
                all_hosts.append((host, network, datastore))
    sizes = [(1, 2048), (2, 4096), (2, 8192), (4, 8192), (4, 16384), (8, 32768)]
    profiles = ["idle", "normal", "normal", "normal", "stressed", "spiking"]
    envs = ["prod", "staging", "dev"]
    for n in range(1, vms + 1):
        host, network, datastore = all_hosts[(n - 1) % len(all_hosts)]
        cpu, memory = t.random.choice(sizes)
        guest = t.random.choice(list(GuestOs))
        t.vm(
            f"vm-{n:05d}", host, cpu, memory, guest, network,
            platform=Platform.VMWARE, datastore=datastore, load_profile=t.random.choice(profiles),
            tags={"env": t.random.choice(envs)},
        )  # fmt: skip
        if progress and (n % 1000 == 0 or n == vms):
            progress(n, vms)


def generate_ucs(topology: Topology, datacenter: Datacenter, name: str, *, chassis: int, blades: int = 8) -> UcsDomain:
    """A UCS domain ``name`` in ``datacenter``: fabric interconnects A and B, ``chassis``
    chassis of ``blades`` blades, two templates, and a service profile on every other blade."""
    t = topology
    domain = t.add(UcsDomain(id=t.id("ucs_domain", name), name=name, datacenter_id=datacenter.id, firmware=FIRMWARE))
    for side in ("A", "B"):
        fi = f"{name}-{side}"
        t.add(FabricInterconnect(id=t.id("fabric_interconnect", fi), name=fi, domain_id=domain.id, side=side,
                                 model="UCS-FI-6454", serial=_serial(t, fi, "FDO"), primary=side == "A"))  # fmt: skip
    templates = [
        t.add(ServiceProfileTemplate(id=t.id("service_profile_template", f"{name}-{guest.value}"),
                                     name=f"{name}-tmpl-{guest.value}", domain_id=domain.id, guest_os=guest,
                                     firmware=FIRMWARE))
        for guest in GuestOs
    ]  # fmt: skip
    for c in range(1, chassis + 1):
        box = t.add(Chassis(id=t.id("chassis", f"{name}-chassis-{c:02d}"), name=f"{name}-chassis-{c:02d}",
                            domain_id=domain.id, number=c, model="UCSB-5108-AC2",
                            serial=_serial(t, f"{name}-chassis-{c:02d}", "FOX"), slots=blades))  # fmt: skip
        for slot in range(1, blades + 1):
            blade_name = f"{name}-c{c:02d}s{slot:02d}"
            blade = t.add(Blade(id=t.id("blade", blade_name), name=blade_name, chassis_id=box.id, slot=slot,
                                model="UCSB-B200-M5", serial=_serial(t, blade_name, "FCH"), cpu=32,
                                memory_mb=262_144, firmware=FIRMWARE))  # fmt: skip
            if slot % 2:
                profile_name = f"{name}-sp-c{c:02d}s{slot:02d}"
                profile = t.add(ServiceProfile(
                    id=t.id("service_profile", profile_name), name=profile_name, domain_id=domain.id,
                    template_id=templates[slot % len(templates)].id, blade_id=blade.id, firmware_policy=FIRMWARE,
                    macs=[t.mac(Platform.UCS, profile_name, 0), t.mac(Platform.UCS, profile_name, 1)],
                ))  # fmt: skip
                blade.service_profile_id = profile.id
    return domain  # type: ignore[no-any-return]


__all__ = ["FIRMWARE", "MAC_PREFIX", "Topology", "build_default", "generate", "generate_ucs", "kind_of"]
