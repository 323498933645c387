"""Core's estates: the default seed topology and large generated ones.

This module is seed *data*: the names users see (``dc-west``, ``esxi-01``, ``RegionOne``,
``nova``, ``vm-001`` ...) and the platform labels of the three sites (``vmware``,
``openstack``, ``baremetal``). It is the one module of core allowed to spell those
names (``tests/test_vendor_neutral.py`` lists the exception); nothing in core branches
on them. Vendor packages add their own objects through ``dcsim_sim_seed_topology``.
"""

from __future__ import annotations

from collections.abc import Callable

from dcsim.sim.model import Datastore, Flavor, GuestOs, Host, Image, Network, Node, Project, Subnet
from dcsim.sim.topology import Topology

#: Platform labels of the default seed's three sites.
VIRTUAL_PLATFORM, CLOUD_PLATFORM, BAREMETAL_PLATFORM = "vmware", "openstack", "baremetal"
#: MAC prefixes of the seed's VM NICs by platform (kept so that seeded MACs never change).
SEED_MAC_PREFIX = {VIRTUAL_PLATFORM: "00:50:56", CLOUD_PLATFORM: "fa:16:3e"}
#: The firmware the seed's physical servers run.
FIRMWARE = "4.2(3d)"
#: Model names of the seed's chassis and servers when no vendor package renames them.
CHASSIS_MODEL, SERVER_MODEL = "chassis-8-slot", "blade-2s"
#: SSH ports of a generated estate's nodes: vm-00001 gets the first; they wrap after
#: GENERATED_PORTS (the default seed keeps 22001..22009).
GENERATED_PORT_BASE, GENERATED_PORTS = 23001, 40_000


def _node(name: str, guest_os: GuestOs, port: int, env: str) -> Node:
    return Node(name=name, guest_os=guest_os, ssh_port=port, env=env)


def build_default(topology: Topology) -> None:
    """The seed's estate: 9 nodes, 3 per site, mixed RHEL 9 / Ubuntu 22 guests.

    SSH ports 22001..22009 go to vm-001..003, instance-001..003, c01s01..c01s03.
    """
    t = topology
    rhel, ubuntu = GuestOs.RHEL9, GuestOs.UBUNTU22

    # Virtualization site: dc-west / cluster-01 / esxi-01, esxi-02 / vm-001..003
    west = t.datacenter("dc-west", VIRTUAL_PLATFORM)
    cluster = t.cluster("cluster-01", west, ha=True)
    hypervisors = [t.host(f"esxi-0{i}", cluster, cpu_cores=32, memory_mb=262_144) for i in (1, 2)]
    vm_network = t.network("VM Network", west, vlan=100, cidr="10.10.100.0/24")
    datastore = t.datastore("ds-01", west, capacity_gb=4096)
    for i, (cpu, mem, guest, host, env, app) in enumerate(
        [
            (2, 4096, rhel, hypervisors[0], "prod", "web"),
            (2, 4096, ubuntu, hypervisors[0], "prod", "app"),
            (4, 8192, rhel, hypervisors[1], "staging", "db"),
        ],
        start=1,
    ):
        name = f"vm-00{i}"
        t.vm(
            name, host, cpu, mem, guest, vm_network,
            platform=VIRTUAL_PLATFORM, mac_prefix=SEED_MAC_PREFIX[VIRTUAL_PLATFORM], datastore=datastore,
            node=_node(f"sim-vmw-{name}", guest, 22000 + i, env),
            tags={"env": env, "role": app}, applications=[app],
        )  # fmt: skip

    # Cloud site: RegionOne / project demo / instance-001..003 on m1.small on private-net
    region = t.datacenter("RegionOne", CLOUD_PLATFORM)
    zone = t.cluster("nova", region, ha=False)
    computes = [t.host(f"compute-0{i}", zone, cpu_cores=48, memory_mb=393_216) for i in (1, 2)]
    t.add(Project(id=t.id("project", "demo"), name="demo", datacenter_id=region.id))
    project = t.world.get(Project, "demo")
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
    t.add(
        Subnet(id=t.id("subnet", "private-subnet"), name="private-subnet", network_id=private.id, cidr="10.0.0.0/24",
               gateway_ip="10.0.0.1")
    )  # fmt: skip
    small = flavors["m1.small"]
    for i, guest in enumerate([ubuntu, ubuntu, rhel], start=1):
        name = f"instance-00{i}"
        t.vm(
            name, computes[(i - 1) % 2], small.vcpus, small.ram_mb, guest, private,
            platform=CLOUD_PLATFORM, mac_prefix=SEED_MAC_PREFIX[CLOUD_PLATFORM], disk_gb=small.disk_gb,
            node=_node(f"sim-os-{name}", guest, 22003 + i, "dev"),
            project_id=project.id, flavor=small.name, image=images[guest].name, tags={"env": "dev"},
        )  # fmt: skip

    # Bare-metal site: chassis-01 of dc-west, physical servers c01s01..c01s03 with guests
    chassis = t.chassis("chassis-01", west, platform=BAREMETAL_PLATFORM, number=1, model=CHASSIS_MODEL, slots=8)
    for slot, guest in enumerate([rhel, ubuntu, rhel], start=1):
        name = f"c01s0{slot}"
        t.blade(
            name, chassis, slot, model=SERVER_MODEL, cpu=4, memory_mb=16_384, firmware=FIRMWARE,
            node=_node(f"sim-bm-{name}", guest, 22006 + slot, "prod"),
        )  # fmt: skip


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
    """A generated estate: ``datacenters`` x ``clusters`` x ``hosts`` hosts and ``vms``
    VMs spread round-robin over them, sizes and guests drawn from the seed; with
    ``chassis``, that many chassis of 8 physical servers per datacenter (vendor packages
    may take them into their own views through ``dcsim_sim_seed_topology``).

    Every generated VM has a node named like the seed's (``sim-vmw-vm-00001``), with the
    VM's guest OS and env: Ansible can target each one. The nodes are lazy: the backend
    keeps a state record per node and makes its config tree and package inventory on
    first touch (virtual backend), so 10,000 VMs stay cheap to seed and to serve. SSH
    ports start at ``GENERATED_PORT_BASE``. Generated physical servers have no node.
    ``progress(done, total)`` is called every 1,000 VMs.
    """
    t = topology
    all_hosts: list[tuple[Host, Network, Datastore]] = []
    for d in range(1, datacenters + 1):
        dc = t.datacenter(f"dc-{d:02d}", VIRTUAL_PLATFORM)
        for c in range(1, chassis + 1):
            box = t.chassis(f"dc-{d:02d}-chassis-{c:02d}", dc, platform=BAREMETAL_PLATFORM, number=c,
                            model=CHASSIS_MODEL, slots=8)  # fmt: skip
            for slot in range(1, 9):
                t.blade(f"dc-{d:02d}-c{c:02d}s{slot:02d}", box, slot, model=SERVER_MODEL, cpu=32, memory_mb=262_144,
                        firmware=FIRMWARE)  # fmt: skip
        network = t.network(f"VM Network {d:02d}", dc, vlan=100 + d, cidr=f"10.{100 + d}.0.0/16")
        datastore = t.datastore(f"ds-{d:02d}", dc, capacity_gb=1_000_000)
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
        name, profile, env = f"vm-{n:05d}", t.random.choice(profiles), t.random.choice(envs)
        node = Node(name=f"sim-vmw-{name}", guest_os=guest, ssh_port=GENERATED_PORT_BASE + (n - 1) % GENERATED_PORTS,
                    env=env, lazy=True)  # fmt: skip
        t.vm(
            name, host, cpu, memory, guest, network,
            platform=VIRTUAL_PLATFORM, mac_prefix=SEED_MAC_PREFIX[VIRTUAL_PLATFORM], datastore=datastore,
            load_profile=profile, tags={"env": env}, node=node,
        )  # fmt: skip
        if progress and (n % 1000 == 0 or n == vms):
            progress(n, vms)


__all__ = [
    "BAREMETAL_PLATFORM",
    "FIRMWARE",
    "GENERATED_PORTS",
    "GENERATED_PORT_BASE",
    "SEED_MAC_PREFIX",
    "build_default",
    "generate",
]
