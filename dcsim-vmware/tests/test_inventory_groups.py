"""The CMDB inventory's vSphere groups: platform and OS family, and the cluster's group
named as SPEC-050 names it (no doubled prefix)."""

from __future__ import annotations


def _groups(client):
    inventory = client.get("/cmdb/ansible/inventory").json()
    return {name: body["hosts"] for name, body in inventory.items() if name not in {"_meta", "all"}}


def test_seed_inventory_has_the_vsphere_groups(dcsim_client):
    groups = _groups(dcsim_client)
    assert groups["vmware_rhel"] == ["sim-vmw-vm-001", "sim-vmw-vm-003"]
    assert groups["vmware_ubuntu"] == ["sim-vmw-vm-002"]
    assert groups["cluster_01"] == ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"]
    assert groups["vmware"] == ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"]
    assert not [name for name in groups if name.startswith("cluster_cluster")]


def test_a_new_vm_joins_its_groups(dcsim_client):
    client = dcsim_client
    created = client.post(
        "/sim/vms", json={"name": "vm-new", "cluster": "cluster-01", "guest_os": "ubuntu22", "node": True}
    )
    assert created.status_code == 201, created.text
    client.post("/cmdb/sync")
    groups = _groups(client)
    node = created.json()["node"]["name"]
    assert node in groups["vmware_ubuntu"] and node in groups["cluster_01"]
    assert node not in groups["vmware_rhel"]
