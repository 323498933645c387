"""Every library playbook passes ``ansible-playbook --syntax-check`` and carries its header;
``requirements.yml`` names the vendor collections, and they are installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dcsim_ansible.playbooks import read_header
from dcsim_ansible.plugins import PLAYBOOKS_DIR, REQUIREMENTS_FILE, ROLES_DIR, ansible_env

#: The library the issue asks for (issue #14, "Playbook library").
LIBRARY = {
    "hello-world", "provision-vm-vmware", "provision-instance-os", "associate-ucs-blade", "baseline-rhel",
    "baseline-ubuntu", "configure-networking", "configure-storage", "scan-compliance", "patch-rhel",
    "patch-ubuntu", "reboot-managed", "rollback-snapshot", "remediate-config-drift", "remediate-package-drift",
    "remediate-network-drift", "audit-cis-rhel", "audit-cis-ubuntu", "collect-facts",
}  # fmt: skip
ROLES = {"sim_vm_base", "sim_patch", "sim_hardening", "sim_cmdb_facts"}
PLAYBOOKS = sorted(PLAYBOOKS_DIR.glob("*.yml"))
ANSIBLE_BIN = Path(sys.executable).parent


def test_the_library_is_complete():
    assert {p.stem for p in PLAYBOOKS} == LIBRARY
    assert {p.name for p in ROLES_DIR.iterdir() if p.is_dir()} == ROLES


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.stem)
def test_playbook_passes_syntax_check(playbook: Path, tmp_path: Path):
    env = {**os.environ, **ansible_env(), "ANSIBLE_LOCAL_TEMP": str(tmp_path)}
    result = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.stem)
def test_playbook_has_a_header(playbook: Path):
    header = read_header(playbook.read_text())
    assert isinstance(header["description"], str) and len(header["description"]) > 20
    assert isinstance(header["tags"], list) and header["tags"]
    assert isinstance(header["hosts"], str)
    for name, variable in (header.get("variables") or {}).items():
        assert variable.get("description"), f"{playbook.stem}: variable {name} has no description"


def test_requirements_name_the_vendor_collections_and_they_are_installed():
    wanted = {c["name"] for c in yaml.safe_load(REQUIREMENTS_FILE.read_text())["collections"]}
    assert {"community.vmware", "openstack.cloud", "cisco.ucs"} <= wanted
    listed = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-galaxy"), "collection", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {name for path in yaml.safe_load(listed.stdout).values() for name in path}
    assert wanted <= installed, wanted - installed


def test_a_broken_playbook_fails_the_syntax_check(tmp_path: Path):
    # The check above can fail: an unknown module is a syntax error.
    broken = tmp_path / "broken.yml"
    broken.write_text("- hosts: all\n  tasks:\n    - community.vmware.no_such_module: {}\n")
    result = subprocess.run(
        [str(ANSIBLE_BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(broken)],
        env={**os.environ, **ansible_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
