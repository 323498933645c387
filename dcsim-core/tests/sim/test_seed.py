"""The default seed topology, restarts, and deterministic generated estates."""

from __future__ import annotations

from click.testing import CliRunner

import dcsim
from dcsim.cli import main
from dcsim.settings import load_settings

SEED_VMS = {
    # name: (platform, host, cpu, memory_mb, guest_os, node, ssh_port)
    "vm-001": ("vmware", "esxi-01", 2, 4096, "rhel9", "sim-vmw-vm-001", 22001),
    "vm-002": ("vmware", "esxi-02", 2, 4096, "ubuntu22", "sim-vmw-vm-002", 22002),
    "vm-003": ("vmware", "esxi-01", 4, 8192, "rhel9", "sim-vmw-vm-003", 22003),
    "instance-001": ("openstack", "compute-01", 1, 2048, "ubuntu22", "sim-os-instance-001", 22004),
    "instance-002": ("openstack", "compute-02", 1, 2048, "ubuntu22", "sim-os-instance-002", 22005),
    "instance-003": ("openstack", "compute-01", 1, 2048, "rhel9", "sim-os-instance-003", 22006),
}


def test_seed_topology_is_served(dcsim_client):
    client = dcsim_client
    vms = {vm["name"]: vm for vm in client.get("/sim/vms").json()["items"]}
    hosts = {h["id"]: h for h in client.get("/sim/hosts").json()}
    assert set(vms) == set(SEED_VMS)
    for name, (platform, host, cpu, memory, guest, node, port) in SEED_VMS.items():
        vm = vms[name]
        assert (vm["platform"], hosts[vm["host_id"]]["name"], vm["cpu"], vm["memory_mb"]) == (
            platform,
            host,
            cpu,
            memory,
        )
        assert (vm["node"]["guest_os"], vm["node"]["name"], vm["node"]["ssh_port"]) == (guest, node, port)
        assert vm["power_state"] == "on"
    assert {vm["flavor"] for name, vm in vms.items() if name.startswith("instance")} == {"m1.small"}

    clusters = {c["name"]: c for c in client.get("/sim/clusters").json()}
    datacenters = {d["id"]: d["name"] for d in client.get("/sim/datacenters").json()}
    assert datacenters[clusters["cluster-01"]["datacenter_id"]] == "dc-west"
    assert datacenters[clusters["nova"]["datacenter_id"]] == "RegionOne"
    esxi = {h["name"]: h for h in hosts.values() if h["name"].startswith("esxi")}
    assert {h["cluster_id"] for h in esxi.values()} == {clusters["cluster-01"]["id"]}
    assert client.get("/sim/hosts/esxi-01").json()["vms"] == ["vm-001", "vm-003"]
    networks = {n["name"]: n for n in client.get("/sim/networks").json()}
    assert networks["VM Network"]["vlan"] == 100 and networks["private-net"]["cidr"] == "10.0.0.0/24"
    assert vms["instance-001"]["nics"][0]["network_id"] == networks["private-net"]["id"]

    state = client.get("/sim/state").json()["objects"]
    blades = {b["name"]: b for b in state["blade"]}
    profiles = {p["id"]: p for p in state["service_profile"]}
    templates = {t["id"]: t["name"] for t in state["service_profile_template"]}
    expected = {
        "c01s01": ("SP-web-01", "SP-Template-RHEL9", "rhel9", 22007),
        "c01s02": ("SP-app-01", "SP-Template-Ubuntu", "ubuntu22", 22008),
        "c01s03": ("SP-db-01", "SP-Template-RHEL9", "rhel9", 22009),
    }
    for name, (sp, template, guest, port) in expected.items():
        blade = blades[name]
        profile = profiles[blade["service_profile_id"]]
        assert (profile["name"], templates[profile["template_id"]]) == (sp, template)
        assert (blade["node"]["guest_os"], blade["node"]["ssh_port"], blade["node"]["name"]) == (
            guest, port, f"sim-ucs-blade-{name}"
        )  # fmt: skip
        assert (blade["cpu"], blade["memory_mb"], blade["firmware"]) == (4, 16384, "4.2(3d)")
    assert [c["slots"] for c in state["chassis"]] == [8]
    assert sorted(fi["side"] for fi in state["fabric_interconnect"]) == ["A", "B"]
    assert [p["name"] for p in state["project"]] == ["demo"]


def test_state_survives_restart(make_client):
    first = make_client()
    assert first.post("/sim/vms/vm-002/power", json={"action": "off"}).status_code == 200
    created = first.post("/sim/vms", json={"name": "kept-01", "cluster": "cluster-01"}).json()
    first.__exit__(None, None, None)
    second = make_client()
    assert second.get("/sim/vms/vm-002").json()["power_state"] == "off"
    assert second.get("/sim/vms/kept-01").json()["id"] == created["id"]
    assert second.get("/sim/vms").json()["total"] == 7


def test_seed_command_is_deterministic(tmp_path):
    runner = CliRunner()
    ids = []
    for run in ("a", "b"):
        args = ["--data-dir", str(tmp_path / run), "seed", "--seed", "42", "--datacenters", "2", "--clusters", "2",
                "--hosts", "3", "--vms", "50"]  # fmt: skip
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        store = dcsim.open(settings=load_settings(environ={}, data_dir=tmp_path / run)).store
        ids.append(sorted((d.key, d.value["name"]) for d in store.list("sim")))
        store.close()
    assert ids[0] == ids[1]
    assert len([key for key, _ in ids[0] if key.startswith("vm/")]) == 50
    other = runner.invoke(main, ["--data-dir", str(tmp_path / "c"), "seed", "--seed", "43", "--vms", "50"])
    assert other.exit_code == 0
    store = dcsim.open(settings=load_settings(environ={}, data_dir=tmp_path / "c")).store
    assert sorted(d.key for d in store.list("sim", prefix="vm/")) != [k for k, _ in ids[0] if k.startswith("vm/")]
    store.close()
    refused = runner.invoke(main, ["--data-dir", str(tmp_path / "a"), "seed", "--vms", "5"])
    assert refused.exit_code == 1 and "--replace" in refused.output


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
    assert len(kinds["blade"]) == 48  # 8 per chassis
    profiles = kinds["service_profile"]
    assert len(profiles) == 24  # every other blade
    by_id = {b["id"]: b for b in kinds["blade"]}
    assert all(by_id[p["blade_id"]]["service_profile_id"] == p["id"] for p in profiles)
    assert len({mac for p in profiles for mac in p["macs"]}) == 48
