"""A server booted through Nova is a simulation VM with a node: in ``/sim``, in the CMDB
inventory's ``openstack`` groups, labelled ``sim.os.*``, its key pair's public key in the
node's ``authorized_keys`` (with docker, ``ssh`` with the private key logs in); a power
change through ``/sim`` and a failed compute host show in Nova.

Each backend gets an estate of its own: the default seed with the seed's nodes taken off
(so the docker run makes one container, on a free port, under an instance name of its
own, and never touches the seed's SSH ports 22001-22009 another run may hold).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import openstack.connection
import pytest

import dcsim
from dcsim.drivers import driver_class
from dcsim.model import new_id
from dcsim.settings import load_settings
from dcsim.sim.model import GuestOs, Host, Node, PowerState, Project, Vm
from dcsim.sim.nodes.base import NodeBackend
from dcsim.testing import ServerProcess, run_server
from dcsim_openstack.compute.model import ServerRecord
from dcsim_openstack.compute.servers import free_ssh_port


async def _without_seed_nodes(data_dir: Path) -> None:
    """Seed ``data_dir``'s store, then take every node off (the estate keeps its VMs)."""
    settings = load_settings(environ={}, data_dir=data_dir, node_backend="virtual")
    async with dcsim.open(settings=settings) as instance, instance.sim.transaction() as change:
        for owner in instance.sim.node_owners():
            owner.node = None
            change.save(owner)


@pytest.fixture(scope="module", params=["virtual", pytest.param("docker", marks=pytest.mark.docker)])
def estate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, str, str]]:
    """(server, node backend, instance name): a server per backend on a seed without nodes."""
    backend = request.param
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    data_dir: Path = tmp_path_factory.mktemp(f"nodes-{backend}") / "server"
    instance = f"o2nova{uuid.uuid4().hex[:8]}"
    asyncio.run(_without_seed_nodes(data_dir))
    env = {"DCSIM_NODE_BACKEND": backend, "DCSIM_INSTANCE": instance}
    try:
        with run_server(data_dir, env=env) as server:
            yield server, backend, instance
    finally:
        if backend == "docker":
            subprocess.run(
                [sys.executable, "-m", "dcsim.cli", "--data-dir", str(data_dir), "nodes", "remove", "--yes"],
                check=True, env={**os.environ, **env},
            )  # fmt: skip


def sim(server: ServerProcess, method: str, path: str, body: Any = None) -> Any:
    """dc-sim's own API with the server's admin token."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {server.token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def eventually(check: Any, timeout: float = 15.0) -> Any:
    """``check()``'s first truthy result within ``timeout`` seconds (its last result otherwise)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def nodes_of(server: ServerProcess, backend: str, instance: str) -> NodeBackend:
    """The server's node backend, as a second client of the same nodes."""
    settings = load_settings(environ={}, data_dir=server.data_dir, node_backend=backend, instance=instance)
    nodes: NodeBackend = driver_class("dcsim.nodes", backend)(settings)
    return nodes


def ssh(port: int, key: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``command`` over ssh as root on a loopback port, retried while sshd comes up."""
    args = ["ssh", "-i", str(key), "-p", str(port), "-o", "StrictHostKeyChecking=no", "-o", "IdentitiesOnly=yes",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "root@127.0.0.1", command]  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        result = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


def test_server_is_a_node_that_follows_the_world(estate, tmp_path):
    server, backend, instance = estate
    conn = openstack.connect(
        auth_url=f"{server.url}/identity/v3", username="demo", password="password", project_name="demo",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip
    keypair = conn.compute.create_keypair(name="node-key")
    key = tmp_path / "node-key"
    key.write_text(keypair.private_key)
    key.chmod(0o600)
    network = next(n for n in conn.network.networks() if n.name == "private-net")
    images = sim(server, "GET", "/sim/state")["objects"]["image"]
    ubuntu = next(i for i in images if i["name"] == "ubuntu-22.04")
    created = conn.compute.create_server(
        name="web-01", image_id=ubuntu["id"], flavor_id=conn.compute.find_flavor("m1.tiny").id,
        networks=[{"uuid": network.id}], key_name="node-key",
    )  # fmt: skip
    booted = conn.compute.wait_for_server(created, status="ACTIVE", wait=60)

    # A VM of the simulation, with a node labelled as the seed's instances are.
    vm = sim(server, "GET", f"/sim/vms/{booted.id}")
    node = vm["node"]["name"]
    assert (vm["platform"], vm["power_state"], node) == ("openstack", "on", "sim-os-web-01")
    nodes = nodes_of(server, backend, instance)

    async def read_node() -> tuple[dict[str, str], str]:
        await nodes.start(_Quiet())
        try:
            return await nodes.labels(node), await nodes.read_file(node, "/root/.ssh/authorized_keys")
        finally:
            await nodes.close()

    labels, authorized = asyncio.run(read_node())
    assert {k: labels[k] for k in ("sim.platform", "sim.type", "sim.os.project", "sim.os.flavor", "sim.os.network",
                                   "sim.os.image", "sim.os.keypair", "sim.guest_os")} == {
        "sim.platform": "openstack", "sim.type": "instance", "sim.os.project": "demo", "sim.os.flavor": "m1.tiny",
        "sim.os.network": "private-net", "sim.os.image": "ubuntu-22.04", "sim.os.keypair": "node-key",
        "sim.guest_os": "ubuntu22",
    }  # fmt: skip
    assert keypair.public_key in authorized.splitlines()

    # In the CMDB inventory's openstack groups.
    def grouped() -> bool:
        inventory = sim(server, "GET", "/cmdb/ansible/inventory")
        return all(node in inventory.get(group, {}).get("hosts", []) for group in ("openstack", "openstack_ubuntu"))

    assert eventually(grouped), sim(server, "GET", "/cmdb/ansible/inventory")

    if backend == "docker":
        if shutil.which("ssh") is None:
            pytest.fail("the ssh client is missing (Debian: apt-get install openssh-client)")
        done = ssh(int(vm["node"]["ssh_port"]), key, "hostname")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == node

    # Power off through /sim: SHUTOFF in Nova; on again: ACTIVE.
    sim(server, "POST", f"/sim/vms/{booted.id}/power", {"action": "off"})
    shown = conn.compute.get_server(booted.id)
    assert (shown.status, shown.vm_state, shown.power_state) == ("SHUTOFF", "stopped", 4)
    sim(server, "POST", f"/sim/vms/{booted.id}/power", {"action": "on"})
    assert conn.compute.get_server(booted.id).status == "ACTIVE"

    # Its compute host fails: ERROR, with the host DOWN; back when the fault is cleared.
    host = next(h for h in sim(server, "GET", "/sim/hosts")["items"] if h["id"] == vm["host_id"])
    fault = sim(server, "POST", "/sim/inject/host-failure", {"host": host["name"]})
    failed = conn.compute.get_server(booted.id)
    assert (failed.status, failed.vm_state) == ("ERROR", "error")
    sim(server, "DELETE", f"/sim/inject/{fault['id']}")
    assert conn.compute.get_server(booted.id).status in ("ACTIVE", "SHUTOFF")

    conn.compute.delete_server(booted)
    conn.compute.wait_for_delete(booted, wait=30)
    remaining = asyncio.run(nodes.list_nodes())
    assert node not in remaining


class _Quiet:
    """A node listener that ignores reports (this test reads, it does not watch)."""

    async def node_file_changed(self, node: str, path: str, diff: str) -> None:
        return None

    async def node_power_observed(self, node: str, power_state: Any) -> None:
        return None


@pytest.mark.docker
def test_a_boot_that_cannot_make_its_node_is_error(tmp_path):
    data_dir = tmp_path / "server"
    asyncio.run(_without_seed_nodes(data_dir))
    # No node image under this prefix: the docker backend cannot make the node.
    env = {"DCSIM_NODE_BACKEND": "docker", "DCSIM_INSTANCE": f"o2nova{uuid.uuid4().hex[:8]}",
           "DCSIM_NODE_IMAGE_PREFIX": "dcsim-no-such-image"}  # fmt: skip
    with run_server(data_dir, env=env) as server:
        conn = openstack.connect(
            auth_url=f"{server.url}/identity/v3", username="demo", password="password", project_name="demo",
            user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
        )  # fmt: skip
        image = next(i for i in conn.image.images() if i.name == "rhel-9")
        network = next(n for n in conn.network.networks() if n.name == "private-net")
        created = conn.compute.create_server(name="doomed", image_id=image.id, networks=[{"uuid": network.id}],
                                             flavor_id=conn.compute.find_flavor("m1.tiny").id)  # fmt: skip
        failed = conn.compute.wait_for_server(created, status="ERROR", failures=["ACTIVE"], wait=30)
        assert (failed.vm_state, failed.fault["message"]) == ("error", "Build of instance failed.")
        conn.compute.delete_server(failed)
        conn.compute.wait_for_delete(failed, wait=30)


def test_a_boot_a_stop_interrupted_finishes_at_the_next_start(tmp_path):
    data_dir = tmp_path / "server"

    async def stopped_mid_boot() -> str:
        # What a create leaves when dc-sim stops before its boot task ran: a VM off, a
        # record building.
        settings = load_settings(environ={}, data_dir=data_dir, node_backend="virtual")
        async with dcsim.open(settings=settings) as instance, instance.sim.transaction() as change:
            world = instance.sim.world
            node = Node(name="sim-os-half-booted", guest_os=GuestOs.UBUNTU22, ssh_port=free_ssh_port(world))
            vm = Vm(id=new_id(), name="half-booted", platform="openstack", host_id=world.get(Host, "compute-01").id,
                    cpu=1, memory_mb=512, node=node, power_state=PowerState.OFF,
                    project_id=world.get(Project, "demo").id, flavor="m1.tiny", image="ubuntu-22.04")  # fmt: skip
            record = ServerRecord(id=vm.id, name=vm.name, project_id=vm.project_id or "", user_id="")
            world.add(vm)
            world.add(record)
            change.save(vm, record)
            return vm.id

    server_id = asyncio.run(stopped_mid_boot())
    with run_server(data_dir) as server:
        conn = openstack.connect(
            auth_url=f"{server.url}/identity/v3", username="demo", password="password", project_name="demo",
            user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
        )  # fmt: skip
        booted = conn.compute.wait_for_server(conn.compute.get_server(server_id), status="ACTIVE", wait=30)
        assert (booted.name, booted.vm_state, booted.power_state) == ("half-booted", "active", 1)
