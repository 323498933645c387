"""Every node playbook of the library works on virtual nodes and is idempotent: the first
run succeeds (changing what it is there to change), the second reports no change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_library_helpers import run_playbook

from dcsim.settings import Settings
from dcsim.sim.guests import config_files
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeSpec
from dcsim.sim.nodes.virtual import VirtualNodes

UBUNTU, RHEL = "idem-ubuntu", "idem-rhel"
ADVISORIES = [
    {"id": "USN-1000-1", "package": "openssl", "fixed_version": "3.0.2-0ubuntu1.16"},
    {"id": "USN-1001-1", "package": "linux-image-generic", "fixed_version": "5.15.0.107.107"},
    {"id": "RHSA-2000:1", "package": "openssl", "fixed_version": "1:3.0.7-28.el9"},
    {"id": "RHSA-2000:2", "package": "kernel", "fixed_version": "5.14.0-427.20.1.el9_4"},
]
SSHD = config_files(UBUNTU, GuestOs.UBUNTU22)["/etc/ssh/sshd_config"]

#: playbook: (extra vars, the node whose tree is tampered with first, path, content, changes on the first run)
CASES: dict[str, tuple[dict[str, Any], tuple[str, str, str] | None, bool]] = {
    "hello-world": ({}, None, False),
    "baseline-ubuntu": ({}, None, True),
    "baseline-rhel": ({}, None, True),
    "audit-cis-ubuntu": ({}, None, False),
    "audit-cis-rhel": ({}, None, False),
    "collect-facts": ({}, None, False),
    "scan-compliance": ({"patch_advisories": ADVISORIES}, None, False),
    "patch-ubuntu": ({"patch_advisories": ADVISORIES, "patch_reboot": True}, None, True),
    "patch-rhel": ({"patch_advisories": ADVISORIES}, None, True),
    "reboot-managed": ({}, (RHEL, "/var/run/reboot-required", "kernel\n"), True),
    "configure-networking": ({"network_hosts": [{"ip": "10.10.0.5", "names": ["repo.dc-sim.local"]}]}, None, True),
    "configure-storage": ({}, None, True),
    "remediate-config-drift": (
        {"target": UBUNTU, "drift_field": "file:/etc/ssh/sshd_config", "drift_desired": SSHD},
        (UBUNTU, "/etc/ssh/sshd_config", SSHD + "PermitRootLogin yes\n"),
        True,
    ),
    "remediate-package-drift": (
        {"target": RHEL, "drift_field": "packages.curl", "drift_desired": "7.76.1-29.el9_4"},
        (RHEL, "/var/lib/dcsim/packages.json", '{"curl": "7.0-1"}'),
        True,
    ),
    "remediate-network-drift": (
        {"target": UBUNTU, "drift_field": "/etc/resolv.conf", "drift_desired": "nameserver 127.0.0.53\n"},
        (UBUNTU, "/etc/resolv.conf", "nameserver 6.6.6.6\n"),
        True,
    ),
}


@pytest.fixture
def nodes(tmp_path: Path) -> VirtualNodes:
    """A virtual backend with an Ubuntu and a RHEL node."""
    backend = VirtualNodes(Settings(data_dir=tmp_path / "data"))
    for name, guest_os in ((UBUNTU, GuestOs.UBUNTU22), (RHEL, GuestOs.RHEL9)):
        spec = NodeSpec(name=name, guest_os=guest_os, ssh_port=2222, cpu=1, memory_mb=1024, power_state=PowerState.ON)
        asyncio.run(backend.ensure(spec))
    return backend


@pytest.fixture
def inventory(nodes: VirtualNodes) -> dict[str, Any]:
    """Both nodes in the seed's groups."""
    hostvars = {
        name: {"ansible_host": "127.0.0.1", "ansible_port": 2222, "ansible_user": "root"}
        | VirtualNodes.ansible_host_vars(nodes.settings)
        for name in (UBUNTU, RHEL)
    }
    groups = {"datacenter_nodes": [UBUNTU, RHEL], "ubuntu_nodes": [UBUNTU], "rhel_nodes": [RHEL]}
    return {"_meta": {"hostvars": hostvars}, "all": {"children": list(groups)}} | {
        group: {"hosts": hosts} for group, hosts in groups.items()
    }


@pytest.mark.parametrize("playbook", sorted(CASES))
def test_node_playbook_is_idempotent(playbook, nodes, inventory, tmp_path):
    extravars, tamper, changes = CASES[playbook]
    if tamper is not None:
        node, path, content = tamper
        if path == "/var/lib/dcsim/packages.json":
            asyncio.run(nodes.set_packages(node, {**asyncio.run(nodes.packages(node)), **yaml.safe_load(content)}))
        else:
            asyncio.run(nodes.write_file(node, path, content))
    first = run_playbook(tmp_path / "first", playbook, inventory, extravars=extravars)
    assert first.status == "successful", first.stdout
    assert first.hosts(), first.stdout
    assert (sum(first.stats.get("changed", {}).values()) > 0) is changes, first.stats
    second = run_playbook(tmp_path / "second", playbook, inventory, extravars=extravars)
    assert second.status == "successful", second.stdout
    assert not any(second.stats.get("changed", {}).values()), second.stats


def test_sim_vm_base_is_idempotent(nodes, inventory, tmp_path):
    play = tmp_path / "vm-base.yml"
    play.write_text(yaml.safe_dump([{"hosts": "datacenter_nodes", "gather_facts": False, "roles": ["sim_vm_base"]}]))
    first = run_playbook(tmp_path / "first", play, inventory)
    assert first.status == "successful", first.stdout
    assert asyncio.run(nodes.read_file(RHEL, "/etc/motd")).startswith("dc-sim managed node idem-rhel")
    second = run_playbook(tmp_path / "second", play, inventory)
    assert not any(second.stats.get("changed", {}).values()), second.stats
