"""UCS in core's other views: the seed, node labels, faults, metrics, CMDB CIs and inventory groups."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import dcsim
from dcsim.cli import main
from dcsim.settings import load_settings
from dcsim.sim.metrics import SimMetrics
from dcsim.sim.model import Blade, Chassis, Cluster, Datastore, GuestOs, Network

SEED_GROUPS = {
    "datacenter_nodes": [
        "sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003", "sim-ucs-blade-c01s01",
        "sim-ucs-blade-c01s02", "sim-ucs-blade-c01s03", "sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003",
    ],
    "vmware": ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"],
    "openstack": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "ucs_blades": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s02", "sim-ucs-blade-c01s03"],
    "rhel_nodes": ["sim-os-instance-003", "sim-ucs-blade-c01s01", "sim-ucs-blade-c01s03", "sim-vmw-vm-001",
                   "sim-vmw-vm-003"],
    "ubuntu_nodes": ["sim-os-instance-001", "sim-os-instance-002", "sim-ucs-blade-c01s02", "sim-vmw-vm-002"],
    "env_prod": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s02", "sim-ucs-blade-c01s03", "sim-vmw-vm-001",
                 "sim-vmw-vm-002"],
    "env_staging": ["sim-vmw-vm-003"],
    "env_dev": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "cluster_cluster_01": ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"],
    "cluster_nova": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "project_demo": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "chassis_chassis_01": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s02", "sim-ucs-blade-c01s03"],
    "sp_template_sp_template_rhel9": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s03"],
    "sp_template_sp_template_ubuntu": ["sim-ucs-blade-c01s02"],
}  # fmt: skip


def test_seed_inventory_has_exactly_the_seed_groups(dcsim_client):
    inventory = dcsim_client.get("/cmdb/ansible/inventory").json()
    groups = {name: body["hosts"] for name, body in inventory.items() if name not in {"_meta", "all"}}
    assert groups == SEED_GROUPS
    assert sorted(inventory["all"]["children"]) == sorted([*SEED_GROUPS, "ungrouped"])
    vm1 = inventory["_meta"]["hostvars"]["sim-vmw-vm-001"]
    assert (vm1["ansible_host"], vm1["ansible_port"], vm1["ansible_user"]) == ("127.0.0.1", 22001, "root")
    assert vm1["dcsim_cpu"] == 2 and vm1["dcsim_memory_mb"] == 4096 and vm1["dcsim_host"] == "esxi-01"
    assert inventory["_meta"]["hostvars"]["sim-ucs-blade-c01s03"]["ansible_port"] == 22009


def test_seed_inventory_has_the_ucs_groups(dcsim_client):
    inventory = dcsim_client.get("/cmdb/ansible/inventory").json()
    groups = {name: body["hosts"] for name, body in inventory.items() if name not in {"_meta", "all"}}
    assert groups == SEED_GROUPS
    assert inventory["_meta"]["hostvars"]["sim-ucs-blade-c01s03"]["ansible_port"] == 22009
    blade = inventory["_meta"]["hostvars"]["sim-ucs-blade-c01s01"]
    assert (blade["dcsim_service_profile"], blade["dcsim_service_profile_template"]) == (
        "SP-web-01",
        "SP-Template-RHEL9",
    )


def test_seed_adds_the_domain_over_the_seed_chassis(dcsim_client):
    client = dcsim_client
    state = client.get("/sim/state").json()["objects"]
    blades = {b["name"]: b for b in state["blade"]}
    profiles = {p["blade_id"]: p for p in state["service_profile"]}
    templates = {t["id"]: t["name"] for t in state["service_profile_template"]}
    expected = {
        "c01s01": ("SP-web-01", "SP-Template-RHEL9", "rhel9", 22007),
        "c01s02": ("SP-app-01", "SP-Template-Ubuntu", "ubuntu22", 22008),
        "c01s03": ("SP-db-01", "SP-Template-RHEL9", "rhel9", 22009),
    }
    for name, (sp, template, guest, port) in expected.items():
        blade = blades[name]
        profile = profiles[blade["id"]]
        assert (profile["name"], templates[profile["template_id"]]) == (sp, template)
        assert (blade["node"]["guest_os"], blade["node"]["ssh_port"], blade["node"]["name"]) == (
            guest, port, f"sim-ucs-blade-{name}"
        )  # fmt: skip
        assert (blade["model"], blade["firmware"]) == ("UCSB-B200-M5", "4.2(3d)")
    [chassis] = state["chassis"]
    assert (chassis["name"], chassis["platform"], chassis["model"]) == ("chassis-01", "ucs", "UCSB-5108-AC2")
    [domain] = state["ucs_domain"]
    assert (domain["name"], domain["chassis_ids"]) == ("ucs-domain-01", [chassis["id"]])
    assert sorted(fi["side"] for fi in state["fabric_interconnect"]) == ["A", "B"]
    labels = client.call(client.sim.sim.nodes.labels, "sim-ucs-blade-c01s02")
    assert {k: v for k, v in labels.items() if k.startswith("sim.ucs.") and k != "sim.ucs.macs"} == {
        "sim.ucs.chassis": "chassis-01", "sim.ucs.slot": "2", "sim.ucs.sp": "SP-app-01", "sim.ucs.org": "org-root",
        "sim.ucs.template": "SP-Template-Ubuntu",
    }  # fmt: skip
    assert (labels["sim.platform"], labels["sim.type"]) == ("ucs", "blade")
    chassis_ci = client.get("/cmdb/cis?type=cluster&q=chassis-01").json()["items"][0]
    assert (chassis_ci["attributes"]["kind"], chassis_ci["attributes"]["domain"]) == ("ucs_chassis", "ucs-domain-01")
    assert client.get("/cmdb/cis?type=host&platform=ucs").json()["total"] == 3
    assert client.get("/cmdb/cis?type=service_profile").json()["total"] == 3


def test_seed_command_generates_ucs_domains(tmp_path):
    args = ["--data-dir", str(tmp_path), "seed", "--datacenters", "2", "--hosts", "1", "--vms", "0", "--chassis", "3"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    store = dcsim.open(settings=load_settings(environ={}, data_dir=tmp_path)).store
    try:
        kinds: dict[str, list[dict]] = {}
        for document in store.list("sim"):
            kinds.setdefault(document.key.split("/")[0], []).append(document.value)
    finally:
        store.close()
    assert sorted(d["name"] for d in kinds["ucs_domain"]) == ["ucs-01", "ucs-02"]
    assert len(kinds["fabric_interconnect"]) == 4 and len(kinds["chassis"]) == 6
    assert {c["platform"] for c in kinds["chassis"]} == {"ucs"}
    assert len(kinds["blade"]) == 48  # 8 per chassis
    profiles = kinds["service_profile"]
    assert len(profiles) == 24  # every other blade
    by_id = {b["id"]: b for b in kinds["blade"]}
    assert all(by_id[p["blade_id"]]["slot"] % 2 for p in profiles)
    assert len({mac for p in profiles for mac in p["macs"]}) == 48


def test_ucs_faults_are_injected_and_cleared(dcsim_client):
    client = dcsim_client
    assert client.get("/sim/inject").json() == []
    disk = client.post("/sim/inject/disk-full", json={"vm": "vm-001"}).json()
    firmware = client.post("/sim/inject/firmware-mismatch", json={"blade": "c01s02", "version": "4.1(3b)"}).json()
    fabric = client.post("/sim/inject/fabric-failover", json={"domain": "ucs-domain-01"}).json()
    active = {f["id"]: f for f in client.get("/sim/inject").json()}
    assert set(active) == {disk["id"], firmware["id"], fabric["id"]}
    assert {t["name"] for t in active[disk["id"]]["targets"]} == {"vm-001", "datastore-01"}
    assert active[firmware["id"]]["kind"] == "firmware-mismatch" and active[firmware["id"]]["injected_at"]
    state = client.get("/sim/state").json()["objects"]
    assert next(b for b in state["blade"] if b["name"] == "c01s02")["firmware"] == "4.1(3b)"
    fis = {fi["side"]: fi for fi in state["fabric_interconnect"]}
    assert (fis["A"]["status"], fis["A"]["primary"], fis["B"]["primary"]) == ("failed", False, True)
    datastore = next(d for d in state["datastore"] if d["name"] == "datastore-01")
    assert datastore["used_gb"] == datastore["capacity_gb"]

    assert client.delete(f"/sim/inject/{firmware['id']}").status_code == 200
    assert client.delete(f"/sim/inject/{firmware['id']}").status_code == 409
    blade = next(b for b in client.get("/sim/state").json()["objects"]["blade"] if b["name"] == "c01s02")
    assert (blade["firmware"], blade["status"]) == ("4.2(3d)", "ok")
    assert len(client.get("/sim/inject").json()) == 2
    assert len(client.get("/sim/inject?all=true").json()) == 3

    assert client.post("/sim/inject/meteor-strike", json={}).status_code == 400
    assert client.post("/sim/inject/host-failure", json={}).status_code == 400
    assert client.post("/sim/inject/network-partition", json={"network": "nope"}).status_code == 404
    kinds = {kind["name"] for kind in client.get("/sim/inject/kinds").json()}
    assert {"firmware-mismatch", "fabric-failover"} <= kinds


class BladeHost:
    """A hypervisor host on a fourth blade of chassis-01, with one VM."""

    @dcsim.hookimpl
    def dcsim_sim_seed_topology(self, topology):
        world = topology.world
        chassis = world.get(Chassis, world.get(Blade, "c01s01").chassis_id)
        blade = topology.blade("c01s04", chassis, 4, model="UCSB-B200-M5", cpu=32,
                               memory_mb=262_144, firmware="4.2(3d)")  # fmt: skip
        host = topology.host("esxi-03", world.get(Cluster, "cluster-01"), cpu_cores=32, memory_mb=262_144, blade=blade)
        topology.vm("vm-blade-01", host, 2, 4096, GuestOs.RHEL9, world.get(Network, "VM Network"), platform="vmware",
                    datastore=world.get(Datastore, "datastore-01"))  # fmt: skip


def _temperature(dc, host: str) -> float:
    registry = CollectorRegistry()
    registry.register(SimMetrics(dc.sim, seed=0, clock=lambda: 15_000_000))
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if sample.name == "dcsim_host_temperature" and sample.labels["host"] == host:
                return float(sample.value)
    raise AssertionError(f"no temperature of {host}")


async def test_firmware_mismatch_heats_the_blade_host(make_dcsim):
    async with make_dcsim(BladeHost()) as dc:
        before = _temperature(dc, "esxi-03")
        fault = await dc.sim.inject("firmware-mismatch", {"blade": "c01s04"})
        assert _temperature(dc, "esxi-03") == pytest.approx(before + 15)
        await dc.sim.clear_fault(fault.id)
        assert _temperature(dc, "esxi-03") == before
