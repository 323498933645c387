"""A test-only plugin for the PDU's tests.

The fixtures ``make_dcsim``, ``make_client``, ``dcsim_client`` and ``recorder`` (an
``EventRecorder`` plugin) come from dc-sim's pytest plugin (``dcsim.testing``), which
pytest loads by itself once dcsim-core is installed.
"""

from __future__ import annotations

import pytest

from dcsim import hookimpl
from dcsim.sim.model import Chassis, Cluster, Datastore, GuestOs, Network
from dcsim.sim.topology import Topology


class RackServer:
    """Seeds a fourth server in slot 4 of chassis-01, running hypervisor host esxi-03 (of
    cluster-01, where HA is on) with one VM, so that outlet 4 of pdu-01 feeds a host."""

    name = "rack-server"

    @hookimpl
    def dcsim_sim_seed_topology(self, topology: Topology) -> None:
        world = topology.world
        chassis = world.get(Chassis, "chassis-01")
        server = topology.blade("c01s04", chassis, 4, model="blade-2s", cpu=32, memory_mb=262_144, firmware="1.0")
        host = topology.host("esxi-03", world.get(Cluster, "cluster-01"), cpu_cores=32, memory_mb=262_144, blade=server)
        topology.vm(
            "vm-rack-01", host, 2, 4096, GuestOs.RHEL9, world.get(Network, "VM Network"),
            platform="vmware", datastore=world.get(Datastore, "ds-01"),
        )  # fmt: skip


@pytest.fixture
def rack_server() -> RackServer:
    """A :class:`RackServer`: pass it to ``make_dcsim`` or ``make_client``."""
    return RackServer()
