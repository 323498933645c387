"""What dcsim-vmware adds to core's world today: node labels and the MAC prefix of new VMs."""

from __future__ import annotations


def test_vm_labels_follow_their_host(dcsim_client):
    client = dcsim_client
    labels = client.call(client.sim.sim.nodes.labels, "sim-vmw-vm-003")
    assert (labels["sim.platform"], labels["sim.vmw.cluster"], labels["sim.vmw.host"]) == (
        "vmware", "cluster-01", "esxi-02"
    )  # fmt: skip
    assert (labels["sim.vmw.datastore"], labels["sim.vmw.vswitch"]) == ("ds-01", "vSwitch0")
    assert "sim.vmw.host" not in client.call(client.sim.sim.nodes.labels, "sim-os-instance-001")


def test_new_vms_get_the_vmware_prefix(dcsim_client, make_client):
    created = dcsim_client.post("/sim/vms", json={"name": "vm-new", "cluster": "cluster-01"}).json()
    assert created["nics"][0]["mac"].startswith("00:50:56:")
    without = make_client(disable_plugins=("vmware",), data_dir=dcsim_client.sim.settings.data_dir.with_name("x"))
    other = without.post("/sim/vms", json={"name": "vm-new", "cluster": "cluster-01"}).json()
    assert other["nics"][0]["mac"].startswith("02:00:00:")
