"""``dcsim seed --replace`` replaces the faults too (SPEC-018, "The world"): a running
server's whole-world reload leaves its world and its faults equal to the store's.

Two ``dcsim serve`` processes share one PostgreSQL database. A fault injected through A
(with an expiry) is in both processes' memory; the seed replaces the estate with the same
estate (same seed: same ids) and no faults. Both processes must then answer no fault,
arm no timer for it, and never clear it (a clearing would undo it in the new world, write
the fault back and publish ``fault.cleared``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import client
from sqlalchemy import create_engine, select

from dcsim.app import DcSim
from dcsim.sim.core import FAULTS_NAMESPACE
from dcsim.sim.model import Network, PowerState, Vm
from dcsim.sim.seed import generate
from dcsim.sim.sync import replacing_world
from dcsim.sim.topology import Topology
from dcsim.sim.world import NAMESPACE, World
from dcsim.store.base import Store
from dcsim.store.engine import normalize_url
from dcsim.store.tables import outbox_table
from dcsim.testing import postgres_database, required_database_url, run_server

#: One small generated estate, written twice: the second write replaces it with itself.
SEED = [sys.executable, "-c", "from dcsim.cli import main; main()", "seed", "--seed", "3", "--clusters", "1",
        "--hosts", "2", "--vms", "4"]  # fmt: skip
NETWORK = "VM Network 01"
#: Long enough for the seed to run before the fault would expire.
DURATION = 15.0


def _seed(env: dict[str, str], *extra: str) -> None:
    done = subprocess.run([*SEED, *extra], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _faults(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/sim/inject", params={"all": "true", "limit": 500})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _partitioned(api: httpx.Client) -> bool:
    response = api.get("/sim/networks", params={"limit": 500})
    response.raise_for_status()
    return bool(next(n for n in response.json()["items"] if n["name"] == NETWORK)["partitioned"])


def _fault_events(database_url: str, fault_id: str) -> list[str]:
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as connection:
            events = [row.event for row in connection.execute(select(outbox_table.c.event))]
    finally:
        engine.dispose()
    return [e["type"] for e in events if e["subject"] == f"fault/{fault_id}"]


def test_a_seed_replacing_the_world_drops_its_faults_in_every_running_server(tmp_path: Path) -> None:
    with (
        postgres_database(required_database_url("the seed's faults"), "dcsim_seed_faults") as database_url,
        contextlib.ExitStack() as stack,
    ):
        seeder = {k: v for k, v in os.environ.items() if not k.startswith("DCSIM_")}
        seeder |= {"DCSIM_DATA_DIR": str(tmp_path / "seeder"), "DCSIM_DATABASE_URL": database_url}
        _seed(seeder)
        # As `dcsim serve --workers 2` runs them: one data directory, one store.
        env = {"DCSIM_DATABASE_URL": database_url}
        a = client(stack.enter_context(run_server(tmp_path / "data", env, tmp_path / "a.log")))
        b = client(stack.enter_context(run_server(tmp_path / "data", env, tmp_path / "b.log")))

        injected = a.post("/sim/inject/network-partition", json={"network": NETWORK, "duration_seconds": DURATION})
        assert injected.status_code == 201, injected.text
        fault = injected.json()
        assert [f["id"] for f in _faults(b)] == [fault["id"]], "B holds A's fault (and armed its expiry)"
        assert _partitioned(b)

        _seed(seeder, "--replace")
        expires_at = datetime.fromisoformat(fault["expires_at"])
        assert datetime.now(expires_at.tzinfo) < expires_at, "the seed outlasted the fault: raise DURATION"

        # /sim reads are fresh: the first one after the seed answers the new world, in both.
        for api in (a, b):
            assert _faults(api) == [], "a fault of the replaced world is still held"
            assert api.get("/sim/state").json()["faults"] == []
            assert not _partitioned(api)

        # Past the expiry: no process cleared the dropped fault in the new world.
        time.sleep(max(0.0, (expires_at - datetime.now(expires_at.tzinfo)).total_seconds()) + 2.0)
        assert _fault_events(database_url, fault["id"]) == ["fault.injected"], "the replaced world's fault was cleared"
        for api in (a, b):
            assert _faults(api) == []
            assert not _partitioned(api)
        # The new world takes faults as any world does.
        again = b.post("/sim/inject/network-partition", json={"network": NETWORK})
        assert again.status_code == 201, again.text
        assert [f["id"] for f in _faults(a)] == [again.json()["id"]]


@pytest.fixture
async def pair(make_dcsim: Callable[..., DcSim], tmp_path: Path) -> AsyncIterator[tuple[DcSim, DcSim]]:
    """Instances A and B (the default seed) on a database of their own, as two processes."""
    with postgres_database(required_database_url("the world replaced"), "dcsim_replaced") as url:
        a = make_dcsim(database_url=url, data_dir=tmp_path / "a")
        b = make_dcsim(database_url=url, data_dir=tmp_path / "b")
        await asyncio.gather(a.start(), b.start())
        try:
            yield a, b
        finally:
            await asyncio.gather(a.close(), b.close())


def _by_id(world: World) -> dict[str, dict[str, object]]:
    return {kind: {o["id"]: o for o in objects} for kind, objects in world.dump().items()}


def _replace(store: Store, world: World) -> None:
    """What ``dcsim seed --replace`` does to the store: the old world and faults out, ``world`` in."""
    with replacing_world(store) as session:
        for namespace in (NAMESPACE, FAULTS_NAMESPACE):
            for document in session.list(namespace):
                session.delete(namespace, document.key)
        world.save_all(session)


async def test_a_whole_world_reload_leaves_each_process_with_exactly_the_stored_world(
    pair: tuple[DcSim, DcSim],
) -> None:
    a, b = pair
    fault = await a.sim.inject("network-partition", {"network": "VM Network"})
    await b.sim.sync.fresh()
    assert fault.id in b.sim.faults
    kept, first, second = (
        b.sim.world.get(Network, "VM Network"),
        b.sim.world.get(Vm, "vm-001"),
        b.sim.world.get(Vm, "vm-002"),
    )
    # The new world: the stored one, unbroken, with two VMs' names swapped and one VM gone.
    replacement = await asyncio.to_thread(World.load, a.store, a.sim.kinds)
    replacement.get(Network, "VM Network").partitioned = False
    one, two = replacement.get(Vm, "vm-001"), replacement.get(Vm, "vm-002")
    replacement.remove(one)
    replacement.remove(two)
    one.name, two.name = two.name, one.name
    replacement.add(one)
    replacement.add(two)
    replacement.remove(replacement.get(Vm, "vm-003"))
    await asyncio.to_thread(_replace, a.store, replacement)

    await asyncio.gather(a.sim.sync.fresh(), b.sim.sync.fresh())
    for instance in (a, b):
        assert _by_id(instance.sim.world) == _by_id(replacement)
        assert instance.sim.faults == {} and instance.sim._timers == {}
        assert instance.sim.world.get(Vm, "vm-001").id == second.id
        assert instance.sim.world.get(Vm, "vm-002").id == first.id
        assert instance.sim.world.find(Vm, "vm-003") is None
    # Objects the reload updated in place stay the world's (vendor code may hold them).
    assert b.sim.world.get(Network, "VM Network") is kept and not kept.partitioned
    # The next write starts from the new world.
    await b.sim.power("vm-001", "off")
    await a.sim.sync.fresh()
    assert a.sim.world.get(Vm, second.id).power_state is PowerState.OFF


async def test_a_replaced_worlds_objects_have_their_nodes_in_every_process(pair: tuple[DcSim, DcSim]) -> None:
    a, b = pair
    replacement = World(a.sim.kinds)
    generate(Topology(replacement, seed=5), datacenters=1, clusters=1, hosts=2, vms=3, chassis=0)
    await asyncio.to_thread(_replace, a.store, replacement)
    await asyncio.gather(a.sim.sync.fresh(), b.sim.sync.fresh())
    for instance in (a, b):
        for vm in instance.sim.world.all(Vm):
            assert vm.node is not None
            assert await instance.sim.nodes.power_state(vm.node.name) is vm.power_state, vm.name
    # So the new world's VMs are driven as any: their power reaches their nodes.
    vm = b.sim.world.all(Vm)[0]
    target = PowerState.OFF if vm.power_state is PowerState.ON else PowerState.ON
    await b.sim.power(vm.name, "off" if target is PowerState.OFF else "on")
    assert vm.node is not None and await b.sim.nodes.power_state(vm.node.name) is target
