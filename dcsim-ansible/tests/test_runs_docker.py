"""Acceptance 1: baseline-ubuntu over real SSH against docker nodes, through POST /ansible/run.

The estate is a small one of this test's own (two Ubuntu VMs on free ports, an instance
named after the test's data directory), so it never meets another test's containers or
the seed's ports 22001-22009. The first run changes the nodes, the second changes
nothing; the run's events arrive over ``/ws`` in order; its stats are ansible's own
PLAY RECAP.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest
from conftest import wait_run

from dcsim import hookimpl
from dcsim.errors import Unavailable
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, Node
from dcsim.sim.nodes.docker import connect, image_name, instance_name
from dcsim.sim.nodes.docker.instances import find_containers, remove_containers

pytestmark = pytest.mark.docker

RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)",
    re.M,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabEstate:
    """Two Ubuntu VMs with docker nodes on free loopback ports."""

    def __init__(self) -> None:
        self.nodes = {f"ans-lab-u{i}": _free_port() for i in (1, 2)}

    @hookimpl
    def dcsim_sim_seed_topology(self, topology: Any) -> None:
        dc = topology.datacenter("ans-lab", "lab")
        cluster = topology.cluster("ans-lab-cluster", dc)
        host = topology.host("ans-lab-host", cluster, cpu_cores=16, memory_mb=65536)
        network = topology.network("ans-lab-net", dc, vlan=100, cidr="10.99.0.0/24")
        for name, port in self.nodes.items():
            node = Node(name=name, guest_os=GuestOs.UBUNTU22, ssh_port=port, env="test")
            topology.vm(name, host, 1, 1024, GuestOs.UBUNTU22, network, platform="lab", node=node)


@pytest.fixture(scope="module")
def docker_engine() -> Iterator[docker.DockerClient]:
    settings = Settings()
    try:
        client = connect(settings)
        client.images.get(image_name(settings, GuestOs.UBUNTU22))
    except (Unavailable, docker.errors.ImageNotFound) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"docker node tests cannot run: {exc}")
        pytest.skip(f"docker engine or node image missing: {exc}")
    yield client
    client.close()


def _wait_ssh(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no sshd on port {port}")
        time.sleep(0.3)


def test_baseline_ubuntu_over_ssh_changes_then_does_nothing(docker_engine, make_client, ansible_settings):
    lab = LabEstate()
    client = make_client(lab, plugins={"ansible": ansible_settings}, node_backend="docker", sim_topology="empty")
    try:
        for port in lab.nodes.values():
            _wait_ssh(port)
        inventory = client.get("/ansible/inventory").json()
        for name, port in lab.nodes.items():
            hostvars = inventory["_meta"]["hostvars"][name]
            assert (hostvars["ansible_host"], hostvars["ansible_port"], hostvars["ansible_user"]) == (
                "127.0.0.1",
                port,
                "root",
            )
            assert hostvars["ansible_ssh_private_key_file"].endswith("ssh/id_ed25519")
        token = client.token("viewer")
        with client.websocket_connect(f"/ws?types=ansible.run.*&token={token}") as socket_:
            first_id = client.post("/ansible/run", json={"playbook": "baseline-ubuntu"}).json()["id"]
            first = wait_run(client, first_id, timeout=600)
            stdout = client.get(f"/ansible/runs/{first_id}/stdout").json()["stdout"]
            assert first["status"] == "successful", stdout
            streamed = []
            while not streamed or streamed[-1]["type"] != "ansible.run.completed":
                event = socket_.receive_json(timeout=30)
                if event["data"].get("run_id") == first_id:
                    streamed.append(event)
        assert [e["type"] for e in streamed[:2]] == ["ansible.run.requested", "ansible.run.started"]
        logs = [e["data"] for e in streamed if e["type"] == "ansible.run.log"]
        assert [log["seq"] for log in logs] == list(range(1, first["event_count"] + 1))
        stored = client.get(f"/ansible/runs/{first_id}/events?limit=1000").json()["items"]
        assert [(e["seq"], e["event"], e["host"]) for e in stored] == [(d["seq"], d["event"], d["host"]) for d in logs]

        recap = {m[0]: [int(x) for x in m[1:]] for m in RECAP.findall(stdout)}
        assert sorted(recap) == sorted(lab.nodes)
        for host, stats in first["stats"].items():
            s = stats
            ours = [s["ok"], s["changed"], s["unreachable"], s["failures"], s["skipped"], s["rescued"], s["ignored"]]
            assert ours == recap[host]
            assert s["changed"] > 0 and s["failures"] == 0
        assert streamed[-1]["data"]["stats"] == first["stats"]

        second = wait_run(client, client.post("/ansible/run", json={"playbook": "baseline-ubuntu"}).json()["id"], 600)
        assert second["status"] == "successful"
        assert all(s["changed"] == 0 for s in second["stats"].values()), second["changed_tasks"]
        assert sorted(second["stats"]) == sorted(lab.nodes)
    finally:
        settings = client.sim.settings
        remove_containers(docker_engine, find_containers(docker_engine, instance_name(settings)), print)
