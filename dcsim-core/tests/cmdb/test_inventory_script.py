"""ansible-inventory (real ansible-core) reads dc-sim's CMDB through dcsim-inventory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dcsim.testing import ServerProcess, run_server

from .test_cmdb_api import SEED_GROUPS, VENDOR_PLUGINS


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed (it comes with dcsim-core[test])")
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture
def core_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server with core's plugins only (the vendor packages of the venv switched off)."""
    with run_server(tmp_path / "dcsim", env={"DCSIM_DISABLE_PLUGINS": ",".join(VENDOR_PLUGINS)}) as server:
        yield server


def test_ansible_inventory_lists_the_seed_groups(core_server):
    env = {**os.environ, "DCSIM_URL": core_server.url, "DCSIM_TOKEN": core_server.token,
           "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"}  # fmt: skip
    result = subprocess.run(
        [_tool("ansible-inventory"), "-i", _tool("dcsim-inventory"), "--list"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    inventory = json.loads(result.stdout)
    for group, hosts in SEED_GROUPS.items():
        assert sorted(inventory[group]["hosts"]) == hosts, group
    assert inventory["_meta"]["hostvars"]["sim-vmw-vm-002"]["ansible_port"] == 22002


def test_inventory_script_errors_are_clear(dcsim_server):
    env = {**os.environ, "DCSIM_URL": dcsim_server.url, "DCSIM_TOKEN": "wrong"}
    result = subprocess.run([_tool("dcsim-inventory"), "--list"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "401" in result.stderr


def test_list_is_the_servers_body_and_host_reads_the_token_file(core_server, tmp_path):
    """``--list`` writes the endpoint's body as it came; ``--host`` answers one host's vars;
    the token comes from ``DCSIM_TOKEN_FILE`` when ``DCSIM_TOKEN`` is unset."""
    token_file = tmp_path / "token"
    token_file.write_text(core_server.token + "\n")
    env = {key: value for key, value in os.environ.items() if key != "DCSIM_TOKEN"}
    env |= {"DCSIM_URL": core_server.url, "DCSIM_TOKEN_FILE": str(token_file)}
    script = _tool("dcsim-inventory")
    listed = subprocess.run([script, "--list"], env=env, capture_output=True, timeout=60, check=True).stdout
    request = urllib.request.Request(
        core_server.url + "/cmdb/ansible/inventory", headers={"Authorization": f"Bearer {core_server.token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
    assert listed == body + b"\n"
    host = subprocess.run([script, "--host", "sim-vmw-vm-002"], env=env, capture_output=True, timeout=60, check=True)
    assert json.loads(host.stdout) == json.loads(body)["_meta"]["hostvars"]["sim-vmw-vm-002"]
