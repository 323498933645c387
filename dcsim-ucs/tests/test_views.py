"""UCS in core's other views: the seed, node labels, faults, metrics, CMDB CIs and inventory groups."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import dcsim
from dcsim.cli import main
from dcsim.sim.metrics import SimMetrics
from dcsim.sim.model import Blade, Chassis, Cluster, Datastore, GuestOs, Network
from dcsim.testing import stored_objects

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
    "cluster_01": ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"],
    "cluster_nova": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "project_demo": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "chassis_01": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s02", "sim-ucs-blade-c01s03"],
    "sp_template_rhel9": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s03"],
    "sp_template_ubuntu": ["sim-ucs-blade-c01s02"],
    "ucs_rhel": ["sim-ucs-blade-c01s01", "sim-ucs-blade-c01s03"],
    "ucs_ubuntu": ["sim-ucs-blade-c01s02"],
    "vmware_rhel": ["sim-vmw-vm-001", "sim-vmw-vm-003"],
    "vmware_ubuntu": ["sim-vmw-vm-002"],
    "openstack_rhel": ["sim-os-instance-003"],
    "openstack_ubuntu": ["sim-os-instance-001", "sim-os-instance-002"],
}  # fmt: skip


def test_seed_inventory_has_the_ucs_groups(dcsim_client):
    inventory = dcsim_client.get("/cmdb/ansible/inventory").json()
    assert {name: body["hosts"] for name, body in inventory.items() if name not in {"_meta", "all"}} == SEED_GROUPS
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
    kinds = stored_objects(tmp_path)
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
    assert {"firmware-mismatch", "fabric-failover"} <= {kind["name"] for kind in client.get("/sim/inject/kinds").json()}
    firmware = client.post("/sim/inject/firmware-mismatch", json={"blade": "c01s02", "version": "4.1(3b)"}).json()
    fabric = client.post("/sim/inject/fabric-failover", json={"domain": "ucs-domain-01"}).json()
    assert {f["id"] for f in client.get("/sim/inject").json()["items"]} == {firmware["id"], fabric["id"]}
    assert firmware["kind"] == "firmware-mismatch" and [t["name"] for t in firmware["targets"]] == ["c01s02"]
    state = client.get("/sim/state").json()["objects"]
    assert next(b for b in state["blade"] if b["name"] == "c01s02")["firmware"] == "4.1(3b)"
    fis = {fi["side"]: fi for fi in state["fabric_interconnect"]}
    assert (fis["A"]["status"], fis["A"]["primary"], fis["B"]["primary"]) == ("failed", False, True)

    assert client.delete(f"/sim/inject/{firmware['id']}").status_code == 200
    blade = next(b for b in client.get("/sim/state").json()["objects"]["blade"] if b["name"] == "c01s02")
    assert (blade["firmware"], blade["status"]) == ("4.2(3d)", "ok")
    assert client.delete(f"/sim/inject/{fabric['id']}").status_code == 200
    fis = {fi["side"]: fi for fi in client.get("/sim/state").json()["objects"]["fabric_interconnect"]}
    assert (fis["A"]["status"], fis["A"]["primary"], fis["B"]["primary"]) == ("ok", False, True)
    assert client.post("/sim/inject/fabric-failover", json={"domain": "ucs-domain-01", "side": "C"}).status_code == 400


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
                    datastore=world.get(Datastore, "ds-01"))  # fmt: skip


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
