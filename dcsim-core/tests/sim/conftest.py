"""Fixtures for the simulation tests: instances and clients on the embedded defaults."""

from __future__ import annotations

from dcsim import hookimpl
from dcsim.sim.model import Chassis, Cluster, Datastore, GuestOs, Host, Network


class BladeHost:
    """Adds a hypervisor host running on a fourth physical server, with one VM, to the seed."""

    @hookimpl
    def dcsim_sim_seed_topology(self, topology):
        world = topology.world
        chassis = world.get(Chassis, "chassis-01")
        blade = topology.blade("c01s04", chassis, 4, model="blade-2s", cpu=32, memory_mb=262_144, firmware="4.2(3d)")
        cluster = world.get(Cluster, "cluster-01")
        host = topology.host("esxi-03", cluster, cpu_cores=32, memory_mb=262_144, blade=blade)
        topology.vm(
            "vm-blade-01", host, 2, 4096, GuestOs.RHEL9, world.get(Network, "VM Network"),
            platform="vmware", datastore=world.get(Datastore, "ds-01"),
        )  # fmt: skip
        assert world.get(Host, "esxi-03").blade_id == blade.id
