"""Every VM of a generated estate is a node (issue #18): Ansible reaches one of 200 through
the CMDB's inventory and the ``dcsim_virtual`` connection, and its tree is made then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dcsim.cli import main
from dcsim_ansible.plugins import ansible_env

VMS = 200
TARGET = "sim-vmw-vm-00042"


def test_every_vm_of_a_generated_estate_is_a_node(tmp_path, make_client):
    data_dir = tmp_path / "data"
    args = ["--data-dir", str(data_dir), "seed", "--seed", "11", "--clusters", "2", "--hosts", "4", "--vms", str(VMS)]
    seeded = CliRunner().invoke(main, args)
    assert seeded.exit_code == 0, seeded.output
    client = make_client(data_dir=data_dir)
    inventory = client.get("/cmdb/ansible/inventory").json()
    hostvars = inventory["_meta"]["hostvars"]
    assert {name for name in hostvars if name.startswith("sim-vmw-vm-")} == {
        f"sim-vmw-vm-{n:05d}" for n in range(1, VMS + 1)
    }
    assert hostvars[TARGET]["ansible_connection"] == "dcsim_virtual"
    assert not (data_dir / "nodes" / TARGET / "root").exists()  # lazy until touched

    # The CMDB's JSON is dynamic-inventory JSON: Ansible reads it from a script.
    script = tmp_path / "inventory.py"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({json.dumps(inventory)!r})\n")
    script.chmod(0o755)
    env = {**os.environ, **ansible_env(), "ANSIBLE_NOCOLOR": "True", "ANSIBLE_HOST_KEY_CHECKING": "False"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    ansible = Path(sys.executable).parent / "ansible"
    result = subprocess.run(
        [str(ansible), TARGET, "-i", str(script), "-m", "ansible.builtin.ping", "-o"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{TARGET} | SUCCESS" in result.stdout and '"ping": "pong"' in result.stdout
    # Opening the connection made the node's tree (and only that node's).
    assert (data_dir / "nodes" / TARGET / "root" / "etc" / "hostname").read_text() == f"{TARGET}\n"
    assert not (data_dir / "nodes" / "sim-vmw-vm-00041" / "root").exists()
