"""baseline-ubuntu through ansible-runner over real SSH into docker nodes (an instance
and ports of this test's own): changed on the first run, nothing on the second."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from test_library_helpers import run_playbook

from dcsim.errors import Unavailable
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeSpec
from dcsim.sim.nodes.docker import DockerNodes, connect, image_name, ssh_key_path

pytestmark = pytest.mark.docker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_ssh(key: Path, port: int, timeout: float = 30.0) -> None:
    command = ["ssh", "-i", str(key), "-p", str(port), "-o", "StrictHostKeyChecking=no", "-o", "BatchMode=yes"]
    command += ["-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "root@127.0.0.1", "true"]
    deadline = time.monotonic() + timeout
    while subprocess.run(command, capture_output=True, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"no SSH on port {port} after {timeout} s")
        time.sleep(0.3)


@pytest.fixture
def docker_nodes(tmp_path: Path) -> Iterator[tuple[DockerNodes, list[NodeSpec]]]:
    """Two Ubuntu docker nodes of an instance of this test's own, removed afterwards."""
    settings = Settings(data_dir=tmp_path / "data", node_backend="docker", instance=f"a2lib-{uuid.uuid4().hex[:8]}")
    try:
        client = connect(settings)
        client.images.get(image_name(settings, GuestOs.UBUNTU22))
    except (Unavailable, docker.errors.ImageNotFound) as exc:
        pytest.fail(f"docker node tests need the engine and the node images: {exc}", pytrace=False)
    backend = DockerNodes(settings)
    specs = [
        NodeSpec(
            name=f"a2lib-ubuntu-{i}", guest_os=GuestOs.UBUNTU22, ssh_port=_free_port(), cpu=1, memory_mb=256,
            power_state=PowerState.ON, labels={"sim.platform": "vmware", "sim.env": "test"},
        )
        for i in (1, 2)
    ]  # fmt: skip
    try:
        for spec in specs:
            asyncio.run(backend.ensure(spec))
        yield backend, specs
    finally:
        for spec in specs:
            asyncio.run(backend.remove(spec.name))


def test_baseline_ubuntu_over_ssh_changes_then_nothing(docker_nodes, tmp_path):
    backend, specs = docker_nodes
    key = ssh_key_path(backend.settings)
    hostvars: dict[str, Any] = {
        spec.name: {
            "ansible_host": "127.0.0.1",
            "ansible_port": spec.ssh_port,
            "ansible_user": "root",
            "ansible_ssh_private_key_file": str(key),
        }
        for spec in specs
    }
    hosts = sorted(hostvars)
    inventory = {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["ubuntu_nodes"]},
        "ubuntu_nodes": {"hosts": hosts},
    }
    for spec in specs:
        _wait_for_ssh(key, spec.ssh_port)
    before = asyncio.run(backend.read_file(hosts[0], "/etc/ssh/sshd_config"))
    assert "MaxAuthTries" not in before

    first = run_playbook(tmp_path / "first", "baseline-ubuntu", inventory)
    assert first.status == "successful", first.stdout
    assert first.hosts() == set(hosts)
    assert all(first.changed(host) > 0 for host in hosts), first.stats
    # Real modules over SSH: not the virtual connection.
    assert all(e["event_data"].get("res", {}).get("ansible_facts", {}).get("ansible_virtualization_type") != "dcsim-virtual"
               for e in first.events if e.get("event") == "runner_on_ok")  # fmt: skip
    for host in hosts:
        assert "MaxAuthTries 4" in asyncio.run(backend.read_file(host, "/etc/ssh/sshd_config"))
        assert "kernel.kptr_restrict=2" in asyncio.run(backend.read_file(host, "/etc/sysctl.conf"))
        assert "dcsim-auditor:" in asyncio.run(backend.read_file(host, "/etc/passwd"))
        assert "Defaults    use_pty" in asyncio.run(backend.read_file(host, "/etc/sudoers"))

    second = run_playbook(tmp_path / "second", "baseline-ubuntu", inventory)
    assert second.status == "successful", second.stdout
    assert all(second.changed(host) == 0 for host in hosts), second.stats
