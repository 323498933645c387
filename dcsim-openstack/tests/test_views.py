"""What dcsim-openstack adds to core's world: its kinds and seed objects, node labels, CMDB zones."""

from __future__ import annotations


def test_seed_router_and_security_group(dcsim_client):
    state = dcsim_client.get("/sim/state").json()["objects"]
    project = state["project"][0]["id"]
    subnet = state["subnet"][0]["id"]
    [router] = state["router"]
    assert (router["name"], router["project_id"], router["subnet_ids"]) == ("router1", project, [subnet])
    [group] = state["security_group"]
    assert (group["name"], group["rules"][0]["port_range_min"]) == ("default", 22)
    assert state["keypair"] == []


def test_instance_labels_and_macs(dcsim_client):
    client = dcsim_client
    labels = client.call(client.sim.sim.nodes.labels, "sim-os-instance-002")
    assert {k: labels[k] for k in ("sim.platform", "sim.type", "sim.os.project", "sim.os.flavor", "sim.os.az")} == {
        "sim.platform": "openstack", "sim.type": "instance", "sim.os.project": "demo", "sim.os.flavor": "m1.small",
        "sim.os.az": "nova",
    }  # fmt: skip
    assert "sim.os.project" not in client.call(client.sim.sim.nodes.labels, "sim-vmw-vm-001")
    created = client.post("/sim/vms", json={"name": "instance-new", "cluster": "nova"}).json()
    assert created["nics"][0]["mac"].startswith("fa:16:3e:")


def test_zone_is_an_availability_zone_in_the_cmdb(dcsim_client):
    clusters = {ci["name"]: ci for ci in dcsim_client.get("/cmdb/cis?type=cluster").json()["items"]}
    assert clusters["nova"]["attributes"]["kind"] == "availability_zone"
    assert clusters["cluster-01"]["attributes"]["kind"] == "cluster"


def test_without_the_plugin_core_keeps_its_own(make_client):
    client = make_client(disable_plugins=("openstack",))
    assert "router" not in client.get("/sim/state").json()["objects"]
    assert client.call(client.sim.sim.nodes.labels, "sim-os-instance-002")["sim.type"] == "vm"
