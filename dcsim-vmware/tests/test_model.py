"""vSphere's own kinds in the simulation: registered, seeded on the default and generated
estates, stored, and gone with the plugin."""

from __future__ import annotations

from click.testing import CliRunner

from dcsim.cli import main
from dcsim.testing import stored_objects

VSPHERE_KINDS = {"drs_config", "resource_pool", "port_group", "distributed_switch", "distributed_port_group",
                 "vsphere_datastore"}  # fmt: skip


def _by_name(objects):
    return {o["name"]: o for o in objects}


def test_dcsim_sim_register_kinds_adds_vsphere_kinds(dcsim_client, make_client):
    objects = dcsim_client.get("/sim/state").json()["objects"]
    assert set(objects) >= VSPHERE_KINDS
    without = make_client(disable_plugins=("vmware",), data_dir=dcsim_client.sim.settings.data_dir.with_name("x"))
    assert not VSPHERE_KINDS & set(without.get("/sim/state").json()["objects"])


def test_dcsim_sim_seed_topology_seeds_the_default_estate(dcsim_client):
    objects = dcsim_client.get("/sim/state").json()["objects"]
    ids = {kind: {o["name"]: o["id"] for o in objects[kind]} for kind in ("cluster", "host", "network", "vm", "datastore",
                                                                            "datacenter")}  # fmt: skip
    [drs] = objects["drs_config"]
    assert (drs["name"], drs["cluster_id"], drs["enabled"], drs["behavior"], drs["migration_threshold"]) == (
        "cluster-01", ids["cluster"]["cluster-01"], True, "fullyAutomated", 3
    )  # fmt: skip
    pools = _by_name(objects["resource_pool"])
    assert set(pools) == {"cluster-01-prod", "cluster-01-staging"}
    assert sorted(pools["cluster-01-prod"]["vm_ids"]) == sorted([ids["vm"]["vm-001"], ids["vm"]["vm-002"]])
    assert pools["cluster-01-staging"]["vm_ids"] == [ids["vm"]["vm-003"]]
    assert {p["cluster_id"] for p in pools.values()} == {ids["cluster"]["cluster-01"]}
    assert (pools["cluster-01-prod"]["cpu_shares"], pools["cluster-01-staging"]["cpu_shares"]) == ("high", "normal")
    networks = {n["name"]: n for n in objects["network"]}
    assert (networks["VM Network"]["vlan"], networks["VM Network 200"]["vlan"]) == (100, 200)
    assert networks["VM Network 200"]["cidr"] == "10.10.200.0/24"
    assert networks["VM Network 200"]["datacenter_id"] == ids["datacenter"]["dc-west"]
    esxi = sorted([ids["host"]["esxi-01"], ids["host"]["esxi-02"]])
    groups = _by_name(objects["port_group"])
    assert set(groups) == {"VM Network", "VM Network 200"}
    for name, group in groups.items():
        assert (group["vswitch"], group["network_id"], sorted(group["host_ids"])) == (
            "vSwitch0", ids["network"][name], esxi
        )  # fmt: skip
    [switch] = objects["distributed_switch"]
    assert (switch["name"], switch["datacenter_id"], sorted(switch["host_ids"])) == (
        "dc-west-dvs", ids["datacenter"]["dc-west"], esxi
    )  # fmt: skip
    dvpgs = _by_name(objects["distributed_port_group"])
    assert {n: (g["vlan"], g["switch_id"], g["network_id"]) for n, g in dvpgs.items()} == {
        "dc-west-dvs-vlan100": (100, switch["id"], ids["network"]["VM Network"]),
        "dc-west-dvs-vlan200": (200, switch["id"], ids["network"]["VM Network 200"]),
    }
    [datastore] = objects["vsphere_datastore"]
    assert (datastore["name"], datastore["datastore_id"], datastore["type"]) == (
        "ds-01", ids["datastore"]["ds-01"], "VMFS"
    )  # fmt: skip
    # Nothing of vSphere's is added to the other sites.
    region = ids["datacenter"]["RegionOne"]
    assert all(n["datacenter_id"] != region for n in objects["network"] if n["name"] in groups)


def test_vsphere_objects_survive_a_restart(make_client, tmp_path):
    data_dir = tmp_path / "restart"
    first = make_client(data_dir=data_dir).get("/sim/state").json()["objects"]
    second = make_client(data_dir=data_dir).get("/sim/state").json()["objects"]
    for kind in VSPHERE_KINDS:
        assert sorted(first[kind], key=lambda o: o["id"]) == sorted(second[kind], key=lambda o: o["id"]), kind


def test_generated_estates_get_vsphere_objects(tmp_path):
    data_dir = tmp_path / "generated"
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(data_dir), "seed", "--datacenters", "2", "--clusters", "2", "--hosts", "3", "--vms", "40"],
    )
    assert result.exit_code == 0, result.output
    stored = stored_objects(data_dir)
    clusters = {c["id"]: c["name"] for c in stored["cluster"]}
    assert sorted(d["name"] for d in stored["drs_config"]) == sorted(clusters.values())
    assert sorted(s["name"] for s in stored["distributed_switch"]) == ["dc-01-dvs", "dc-02-dvs"]
    assert sorted(d["name"] for d in stored["vsphere_datastore"]) == ["ds-01", "ds-02"]
    assert {g["name"] for g in stored["port_group"]} == {"VM Network 01", "VM Network 02"}
    assert all(len(g["host_ids"]) == 6 for g in stored["port_group"])
    pooled = [vm_id for pool in stored["resource_pool"] for vm_id in pool["vm_ids"]]
    assert sorted(pooled) == sorted(vm["id"] for vm in stored["vm"])  # every generated VM has an env tag
    assert all(p["name"].startswith(clusters[p["cluster_id"]] + "-") for p in stored["resource_pool"])
