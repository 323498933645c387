"""Every VM of a generated estate is a node (issue #18): lazy virtual nodes in the inventory."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from dcsim.cli import main
from dcsim.errors import InvalidInput, NotFound
from dcsim.sim.seed import GENERATED_PORT_BASE

#: The vendor packages installed next to core in the development venv.
VENDOR_PLUGINS = ("ucs", "openstack", "vmware")
VMS = 200


def _seed(data_dir, vms=VMS):
    args = ["--data-dir", str(data_dir), "seed", "--seed", "5", "--clusters", "2", "--hosts", "4", "--vms", str(vms)]
    result = CliRunner().invoke(main, args, env={"DCSIM_DISABLE_PLUGINS": ",".join(VENDOR_PLUGINS)})
    assert result.exit_code == 0, result.output


def test_every_vm_of_a_generated_estate_is_a_node(tmp_path, make_client):
    """Acceptance (#18 item 1, inventory part): 200 generated VMs, 200 inventory hosts with host vars."""
    _seed(tmp_path)
    client = make_client(data_dir=tmp_path, disable_plugins=VENDOR_PLUGINS)
    inventory = client.get("/cmdb/ansible/inventory").json()
    hostvars = inventory["_meta"]["hostvars"]
    names = {f"sim-vmw-vm-{n:05d}" for n in range(1, VMS + 1)}
    assert set(hostvars) == names
    first = hostvars["sim-vmw-vm-00001"]
    assert (first["ansible_host"], first["ansible_port"], first["ansible_user"]) == ("127.0.0.1", GENERATED_PORT_BASE,
                                                                                     "root")  # fmt: skip
    assert first["ansible_connection"] == "dcsim_virtual" and first["dcsim_nodes_dir"].endswith("nodes")
    assert first["dcsim_name"] == "vm-00001" and first["dcsim_ci_type"] == "vm"
    assert first["dcsim_guest_os"] in {"rhel9", "ubuntu22"} and first["dcsim_tags"]["env"] in {"prod", "staging", "dev"}
    assert len({vars_["ansible_port"] for vars_ in hostvars.values()}) == VMS
    # Groups like the seed's: platform, OS, env, cluster, platform x OS.
    assert set(inventory["vmware"]["hosts"]) == names
    assert set(inventory["rhel_nodes"]["hosts"]) | set(inventory["ubuntu_nodes"]["hosts"]) == names
    envs = [set(inventory[f"env_{env}"]["hosts"]) for env in ("prod", "staging", "dev") if f"env_{env}" in inventory]
    assert set().union(*envs) == names and sum(map(len, envs)) == VMS
    assert len(inventory["cluster_01_01"]["hosts"]) == VMS // 2  # round-robin over 2 clusters x 4 hosts
    for name, vars_ in hostvars.items():
        os_group = "rhel_nodes" if vars_["dcsim_guest_os"] == "rhel9" else "ubuntu_nodes"
        assert name in inventory[os_group]["hosts"] and name in inventory[f"env_{vars_['dcsim_tags']['env']}"]["hosts"]


def test_generated_nodes_are_made_on_first_touch(tmp_path, make_client, recorder):
    _seed(tmp_path, vms=20)
    client = make_client(recorder, data_dir=tmp_path, disable_plugins=VENDOR_PLUGINS)
    nodes = client.sim.sim.nodes
    node_dir = tmp_path / "nodes" / "sim-vmw-vm-00007"
    # Seeded and started: a state record per node, no tree yet.
    assert sorted(p.name for p in node_dir.iterdir()) == ["state.json"]
    assert len(client.call(nodes.list_nodes)) == 20
    assert client.call(nodes.power_state, "sim-vmw-vm-00007").value == "on"

    # Reads answer with what the node will be made with, and leave it unmade (a patch scan
    # of a 10,000-VM estate reads every node's packages).
    assert client.call(nodes.read_file, "sim-vmw-vm-00007", "/etc/hostname") == "sim-vmw-vm-00007\n"
    packages = client.call(nodes.packages, "sim-vmw-vm-00007")
    assert "openssh-server" in packages
    assert sorted(p.name for p in node_dir.iterdir()) == ["state.json"]
    with pytest.raises(NotFound):
        client.call(nodes.read_file, "sim-vmw-vm-00007", "/etc/no-such-file")
    with pytest.raises(InvalidInput):
        client.call(nodes.read_file, "sim-vmw-vm-00007", "/etc/../../state.json")

    # The first write makes the node: its tree and inventory are what the reads answered.
    client.call(nodes.write_file, "sim-vmw-vm-00007", "/etc/motd", "lazy no more\n")
    assert (node_dir / "root" / "etc" / "hosts").is_file() and (node_dir / "packages.json").is_file()
    assert client.call(nodes.packages, "sim-vmw-vm-00007") == packages
    assert client.call(nodes.read_file, "sim-vmw-vm-00007", "/etc/hostname") == "sim-vmw-vm-00007\n"
    assert not (tmp_path / "nodes" / "sim-vmw-vm-00008" / "root").exists()  # others stay untouched

    # Making the tree is no change; the edit that made it is, like on any node.

    async def changed():
        await recorder.wait_for(lambda events: any(e.type == "node.file_changed" for e in events))

    client.call(changed)
    time.sleep(0.5)  # any late report of the made files would arrive by now
    changes = [e.data for e in recorder.events if e.type == "node.file_changed"]
    assert [(c["node"], c["path"]) for c in changes] == [("sim-vmw-vm-00007", "/etc/motd")]
    assert "+lazy no more" in changes[0]["diff"]
