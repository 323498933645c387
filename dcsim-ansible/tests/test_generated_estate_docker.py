"""A generated estate on the docker node backend (issue #18): its VMs' nodes are lazy
virtual nodes, not a container each, and Ansible still reaches them; a node that is not
lazy beside them is a container reached over SSH.

The estate is this test's own: ``generate`` (what ``dcsim seed --vms`` builds) with 30 VMs,
plus one lab VM with an ordinary node on a free port, under an instance named after the
test's data directory, so it never meets another test's containers or the seed's ports
22001-22009.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from dcsim import hookimpl
from dcsim.errors import Unavailable
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, Node
from dcsim.sim.nodes.docker import connect, container_name, image_name, instance_name
from dcsim.sim.nodes.docker.instances import find_containers, remove_containers
from dcsim.sim.seed import generate
from dcsim_ansible.plugins import ansible_env

pytestmark = pytest.mark.docker

VMS = 30
TARGET = "sim-vmw-vm-00007"
LAB = "gen-lab-u1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GeneratedAndLab:
    """A generated estate of ``VMS`` VMs and one lab VM whose node is not lazy."""

    def __init__(self) -> None:
        self.port = _free_port()

    @hookimpl
    def dcsim_sim_seed_topology(self, topology: Any) -> None:
        generate(topology, clusters=1, hosts=2, vms=VMS)
        dc = topology.datacenter("gen-lab", "lab")
        cluster = topology.cluster("gen-lab-cluster", dc)
        host = topology.host("gen-lab-host", cluster, cpu_cores=16, memory_mb=65536)
        network = topology.network("gen-lab-net", dc, vlan=199, cidr="10.199.0.0/24")
        node = Node(name=LAB, guest_os=GuestOs.UBUNTU22, ssh_port=self.port, env="test")
        topology.vm(LAB, host, 1, 1024, GuestOs.UBUNTU22, network, platform="lab", node=node)


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


def test_generated_estate_makes_no_container_per_vm_and_stays_targetable(
    docker_engine, make_client, ansible_settings, tmp_path
):
    estate = GeneratedAndLab()
    client = make_client(estate, plugins={"ansible": ansible_settings}, node_backend="docker", sim_topology="empty")
    settings = client.sim.settings
    try:
        # One container: the lab VM's. The 30 generated VMs are state records on disk.
        containers = find_containers(docker_engine, instance_name(settings))
        assert [c.name for c in containers] == [container_name(settings, LAB)]
        nodes_dir = settings.data_dir / "nodes"
        generated = {f"sim-vmw-vm-{n:05d}" for n in range(1, VMS + 1)}
        assert {p.name for p in nodes_dir.iterdir() if (p / "state.json").is_file()} == generated
        assert set(client.call(client.sim.sim.nodes.list_nodes)) == generated | {LAB}

        inventory = client.get("/ansible/inventory").json()
        hostvars = inventory["_meta"]["hostvars"]
        assert set(hostvars) == generated | {LAB}
        for name in generated:
            assert hostvars[name]["ansible_connection"] == "dcsim_virtual", name
            assert hostvars[name]["dcsim_nodes_dir"] == str(nodes_dir.resolve())
            assert "ansible_ssh_private_key_file" not in hostvars[name]
        assert "ansible_connection" not in hostvars[LAB]
        assert hostvars[LAB]["ansible_ssh_private_key_file"].endswith("ssh/id_ed25519")
        assert set(inventory["vmware"]["hosts"]) == generated

        # One ad-hoc ping reaches a generated VM (dcsim_virtual) and the lab VM (SSH).
        _wait_ssh(estate.port)
        script = tmp_path / "inventory.py"
        script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({json.dumps(inventory)!r})\n")
        script.chmod(0o755)
        env = {**os.environ, **ansible_env(), "ANSIBLE_NOCOLOR": "True", "ANSIBLE_HOST_KEY_CHECKING": "False"}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        ansible = Path(sys.executable).parent / "ansible"
        result = subprocess.run(
            [str(ansible), f"{TARGET},{LAB}", "-i", str(script), "-m", "ansible.builtin.ping", "-o"],
            env=env, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        for host in (TARGET, LAB):
            assert f"{host} | SUCCESS" in result.stdout, result.stdout
        # The virtual node was made on first touch, only that one, and no container came of it.
        assert (nodes_dir / TARGET / "root" / "etc" / "hostname").read_text() == f"{TARGET}\n"
        assert not (nodes_dir / "sim-vmw-vm-00006" / "root").exists()
        assert len(find_containers(docker_engine, instance_name(settings))) == 1
    finally:
        remove_containers(docker_engine, find_containers(docker_engine, instance_name(settings)), print)
