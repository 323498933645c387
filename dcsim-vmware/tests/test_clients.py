"""Acceptance 4 and 5: govc (``GOVC_INSECURE=1``) and the community.vmware collection
(``validate_certs: false``) work against the managed simulator over TLS; a second run
of the power and snapshot tasks reports no change."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import GOVC, PASSWORD, USER, VCenter, eventually

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def govc(vcenter: VCenter, *args: str) -> str:
    url = vcenter.service.urls["https"]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "GOVC_URL": url,
           "GOVC_USERNAME": USER, "GOVC_PASSWORD": PASSWORD, "GOVC_INSECURE": "1"}  # fmt: skip
    result = subprocess.run([str(GOVC), *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_govc(vcenter: VCenter) -> None:
    assert GOVC.exists(), f"{GOVC} missing: run scripts/vcsim.sh"
    assert sorted(govc(vcenter, "ls").split()) == [
        "/dc-west/datastore",
        "/dc-west/host",
        "/dc-west/network",
        "/dc-west/vm",
    ]
    assert "/dc-west/vm/vm-001" in govc(vcenter, "ls", "/dc-west/vm")
    info = json.loads(govc(vcenter, "vm.info", "-json", "vm-001"))
    vm = (info.get("virtualMachines") or info.get("VirtualMachines"))[0]
    assert vm["config"]["hardware"]["numCPU"] == 2
    govc(vcenter, "vm.power", "-off", "vm-001")
    eventually(lambda: vcenter.sim_vm("vm-001")["power_state"] == "off")
    govc(vcenter, "vm.power", "-on", "vm-001")
    eventually(lambda: vcenter.sim_vm("vm-001")["power_state"] == "on")
    govc(vcenter, "snapshot.create", "-vm", "vm-001", "govc-snap")
    eventually(lambda: [s["name"] for s in vcenter.sim_vm("vm-001")["snapshots"]] == ["govc-snap"])
    assert "govc-snap" in govc(vcenter, "snapshot.tree", "-vm", "vm-001")


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/vmware:
      hostname: 127.0.0.1
      port: {port}
      username: "{user}"
      password: "{password}"
      validate_certs: false
  tasks:
    - community.vmware.vmware_vm_info:
        vm_name: vm-002
      register: info
    - assert:
        that: info.virtual_machines[0].guest_name == 'vm-002'
    - community.vmware.vmware_guest_powerstate:
        name: vm-002
        folder: /dc-west/vm
        state: powered-off
    - community.vmware.vmware_guest_snapshot:
        datacenter: dc-west
        folder: /dc-west/vm
        name: vm-002
        snapshot_name: ansible-snap
        state: present
"""


def _play(vcenter: VCenter, tmp_path: Path) -> dict[str, int]:
    port = vcenter.service.urls["https"].split(":")[2].split("/")[0]
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(port=port, user=USER, password=PASSWORD))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and not k.lower().endswith("_proxy")}
    env |= {"ANSIBLE_HOME": str(tmp_path / "ansible"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable}  # fmt: skip
    result = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(playbook)],
                            env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)", result.stdout)
    assert recap, result.stdout
    return {"ok": int(recap[1]), "changed": int(recap[2])}


def test_community_vmware_modules_are_idempotent(vcenter: VCenter, tmp_path: Path) -> None:
    assert _play(vcenter, tmp_path)["changed"] == 2
    eventually(lambda: vcenter.sim_vm("vm-002")["power_state"] == "off")
    eventually(lambda: [s["name"] for s in vcenter.sim_vm("vm-002")["snapshots"]] == ["ansible-snap"])
    assert _play(vcenter, tmp_path)["changed"] == 0
