"""The world across processes (SPEC-018, "The world"): two instances on one PostgreSQL.

Each test starts two instances (their own store object, advisory-lock connection, data
directory and event loop task set) on a PostgreSQL database made for the test, as two
``dcsim serve`` processes would be, and drives their engines concurrently. The
end-to-end version with OS processes is ``test_two_processes.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from dcsim.app import DcSim
from dcsim.errors import Conflict
from dcsim.sim.engine import VmRequest
from dcsim.sim.model import Cluster, Network, PowerState, Vm
from dcsim.sim.sync import CATCH_UP_ENTRIES, POLL_SECONDS
from dcsim.store.engine import normalize_url
from dcsim.store.tables import outbox_table
from dcsim.testing import postgres_database, required_database_url


@pytest.fixture
def database_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    with postgres_database(required_database_url("the world across processes"), "dcsim_world") as url:
        yield url


@pytest.fixture
async def pair(
    make_dcsim: Callable[..., DcSim], database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[DcSim, DcSim]]:
    """Instances A and B on one database, started together (one of them seeds)."""
    a = make_dcsim(database_url=database_url, data_dir=tmp_path / "a")
    b = make_dcsim(database_url=database_url, data_dir=tmp_path / "b")
    await asyncio.gather(a.start(), b.start())
    try:
        yield a, b
    finally:
        await asyncio.gather(a.close(), b.close())


def _by_id(instance: DcSim) -> dict[str, dict[str, object]]:
    """The world as JSON by kind and id (insertion order aside)."""
    return {kind: {o["id"]: o for o in objects} for kind, objects in instance.sim.world.dump().items()}


def _vm(name: str, **fields: object) -> VmRequest:
    values: dict[str, object] = {"cluster": "cluster-01", "cpu": 1, "memory_mb": 256, "disk_gb": 1, "power_on": False}
    return VmRequest(name=name, **(values | fields))  # type: ignore[arg-type]


async def test_two_instances_starting_together_seed_the_world_once(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    names = sorted(vm.name for vm in a.sim.world.all(Vm))
    assert names == sorted(vm.name for vm in b.sim.world.all(Vm))
    assert len(names) == len(set(names)) and names, names
    assert _by_id(a) == _by_id(b)
    stored = await asyncio.to_thread(a.store.count, "sim")
    assert stored == len(a.sim.world) == len(b.sim.world)


async def test_concurrent_creates_through_both_keep_names_and_addresses_unique(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    requests = [_vm(f"w-{n:02d}") for n in range(16)]
    # Each name twice, once through each instance, all at once: one create of each wins.
    results = await asyncio.gather(
        *(sim.sim.create_vm(request) for request in requests for sim in (a, b)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, Vm)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(created) == 16 and len(refused) == 16, [r for r in results if not isinstance(r, Vm | Conflict)]
    await asyncio.gather(a.sim.sync.fresh(), b.sim.sync.fresh())
    assert _by_id(a) == _by_id(b)
    vms = a.sim.world.all(Vm)
    addresses = [nic.ip for vm in vms for nic in vm.nics if nic.ip]
    assert len(addresses) == len(set(addresses)), "two VMs were given one address"
    # Placement spread the VMs over the cluster's hosts as one engine would have.
    per_host = sorted(
        len(a.sim.world.vms_on(host)) for host in a.sim.world.hosts_in(a.sim.world.get(Cluster, "cluster-01"))
    )
    assert per_host[-1] - per_host[0] <= 1, per_host


async def test_one_power_transition_wins_when_both_instances_race(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    await a.sim.create_vm(_vm("racer"))
    results = await asyncio.gather(a.sim.power("racer", "on"), b.sim.power("racer", "on"), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Vm"], results
    await b.sim.sync.fresh()
    assert b.sim.vm("racer").power_state is PowerState.ON


async def test_a_write_through_one_instance_reaches_the_others_world_within_the_poll_bound(
    pair: tuple[DcSim, DcSim],
) -> None:
    a, b = pair
    vm = await a.sim.create_vm(_vm("seen-later"))
    held = b.sim.world.find(Vm, "vm-001")
    started = time.monotonic()
    while b.sim.world.find(Vm, vm.id) is None:
        assert time.monotonic() - started < POLL_SECONDS * 4 + 1, "B's world never learned of the VM"
        await asyncio.sleep(0.02)
    await a.sim.power("vm-001", "off")
    while b.sim.world.get(Vm, "vm-001").power_state is not PowerState.OFF:
        assert time.monotonic() - started < POLL_SECONDS * 8 + 2, "B's world never learned of the power change"
        await asyncio.sleep(0.02)
    # Another process's change updates the object B already held: references stay valid.
    assert b.sim.world.get(Vm, "vm-001") is held
    await a.sim.destroy_vm("seen-later")
    await b.sim.sync.fresh()
    assert b.sim.world.find(Vm, "seen-later") is None


async def test_a_fault_expiry_fires_once_across_instances(pair: tuple[DcSim, DcSim], database_url: str) -> None:
    a, b = pair
    fault = await a.sim.inject("network-partition", {"network": "VM Network", "duration_seconds": 1})
    await b.sim.sync.fresh()
    assert fault.id in b.sim._timers, "B armed the expiry of A's fault too"
    deadline = time.monotonic() + 10
    while a.sim.faults[fault.id].active or b.sim.faults[fault.id].active:
        assert time.monotonic() < deadline, "the fault never expired"
        await asyncio.sleep(0.1)
        await asyncio.gather(a.sim.sync.fresh(), b.sim.sync.fresh())
    await asyncio.sleep(1)  # a second clearing, if any, would be committed by now
    assert b.sim.faults[fault.id].cleared_by == "expired"
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as connection:
            events = [row.event for row in connection.execute(select(outbox_table.c.event))]
    finally:
        engine.dispose()
    cleared = [e for e in events if e["type"] == "fault.cleared" and e["data"]["fault"]["id"] == fault.id]
    assert len(cleared) == 1, cleared
    network = a.sim.world.get(Network, "VM Network")
    assert not network.partitioned
    assert not b.sim.world.get(Network, "VM Network").partitioned


async def test_a_process_far_behind_reads_the_whole_world_and_keeps_its_objects(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    await b.changes.stop()  # B hears of nothing: it falls behind until it reads
    held = b.sim.world.get(Vm, "vm-002")
    await a.sim.destroy_vm("vm-003")
    for n in range(CATCH_UP_ENTRIES + 5):
        await a.sim.create_vm(_vm(f"far-{n:03d}"))
    await a.sim.power("vm-002", "off")
    assert b.sim.world.find(Vm, "far-000") is None and b.sim.world.find(Vm, "vm-003") is not None
    await b.sim.sync.fresh()
    assert _by_id(b) == _by_id(a)
    assert b.sim.world.find(Vm, "vm-003") is None
    assert b.sim.world.get(Vm, "vm-002") is held and held.power_state is PowerState.OFF
