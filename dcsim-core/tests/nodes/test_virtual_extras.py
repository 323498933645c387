"""What only the virtual backend offers: a package inventory to replace (docker nodes keep
theirs in a file the playbooks edit over SSH) and the Ansible connection of its nodes."""

from __future__ import annotations

from pathlib import Path

from dcsim.settings import Settings
from dcsim.sim.guests import PACKAGES
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.nodes.docker import DockerNodes
from dcsim.sim.nodes.virtual import VirtualNodes

from .conftest import Recorder


async def test_set_packages_replaces_the_inventory(tmp_path: Path) -> None:
    backend = VirtualNodes(Settings(data_dir=tmp_path / "data"))
    await backend.start(Recorder())
    try:
        spec = NodeSpec(name="pkg-node", guest_os=GuestOs.UBUNTU22, ssh_port=22990, cpu=1, memory_mb=512,
                        power_state=PowerState.OFF)  # fmt: skip
        await backend.ensure(spec)
        patched = {**PACKAGES[GuestOs.UBUNTU22], "curl": "7.81.0-1ubuntu1.99"}
        del patched["bash"]
        await backend.set_packages(spec.name, patched)
        assert await backend.packages(spec.name) == patched
    finally:
        await backend.close()


def test_ansible_host_vars_name_the_connection(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert VirtualNodes.ansible_host_vars(settings) == {
        "ansible_connection": "dcsim_virtual",
        "dcsim_nodes_dir": str((tmp_path / "data" / "nodes").resolve()),
    }
    # Docker nodes run sshd: plain SSH, nothing to add.
    assert DockerNodes.ansible_host_vars(settings) == {}
    assert NodeBackend.ansible_host_vars(settings) == {}
