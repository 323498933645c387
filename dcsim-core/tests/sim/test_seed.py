"""The default seed topology, restarts, and deterministic generated estates."""

from __future__ import annotations

from click.testing import CliRunner

import dcsim
from dcsim.cli import main
from dcsim.settings import load_settings
from dcsim.sim.model import HealthStatus, Host, PowerState
from dcsim.testing import stored_objects

from .conftest import BladeHost

#: The vendor packages installed next to core in the development venv.
VENDOR_PLUGINS = ("ucs", "openstack", "vmware")

SEED_VMS = {
    # name: (platform, host, cpu, memory_mb, guest_os, node, ssh_port)
    "vm-001": ("vmware", "esxi-01", 2, 4096, "rhel9", "sim-vmw-vm-001", 22001),
    "vm-002": ("vmware", "esxi-01", 2, 4096, "ubuntu22", "sim-vmw-vm-002", 22002),
    "vm-003": ("vmware", "esxi-02", 4, 8192, "rhel9", "sim-vmw-vm-003", 22003),
    "instance-001": ("openstack", "compute-01", 1, 2048, "ubuntu22", "sim-os-instance-001", 22004),
    "instance-002": ("openstack", "compute-02", 1, 2048, "ubuntu22", "sim-os-instance-002", 22005),
    "instance-003": ("openstack", "compute-01", 1, 2048, "rhel9", "sim-os-instance-003", 22006),
}


def test_seed_topology_is_served(dcsim_client):
    client = dcsim_client
    vms = {vm["name"]: vm for vm in client.get("/sim/vms").json()["items"]}
    hosts = {h["id"]: h for h in client.get("/sim/hosts").json()["items"]}
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

    clusters = {c["name"]: c for c in client.get("/sim/clusters").json()["items"]}
    datacenters = {d["id"]: d["name"] for d in client.get("/sim/datacenters").json()["items"]}
    assert datacenters[clusters["cluster-01"]["datacenter_id"]] == "dc-west"
    assert datacenters[clusters["nova"]["datacenter_id"]] == "RegionOne"
    esxi = {h["name"]: h for h in hosts.values() if h["name"].startswith("esxi")}
    assert {h["cluster_id"] for h in esxi.values()} == {clusters["cluster-01"]["id"]}
    assert client.get("/sim/hosts/esxi-01").json()["vms"] == ["vm-001", "vm-002"]
    networks = {n["name"]: n for n in client.get("/sim/networks").json()["items"]}
    assert networks["VM Network"]["vlan"] == 100 and networks["private-net"]["cidr"] == "10.0.0.0/24"
    assert vms["instance-001"]["nics"][0]["network_id"] == networks["private-net"]["id"]

    state = client.get("/sim/state").json()["objects"]
    blades = {b["name"]: b for b in state["blade"]}
    for name, guest, port in [("c01s01", "rhel9", 22007), ("c01s02", "ubuntu22", 22008), ("c01s03", "rhel9", 22009)]:
        blade = blades[name]
        assert (blade["node"]["guest_os"], blade["node"]["ssh_port"]) == (guest, port)
        assert (blade["cpu"], blade["memory_mb"], blade["firmware"]) == (4, 16384, "4.2(3d)")
    assert [c["slots"] for c in state["chassis"]] == [8]
    assert [p["name"] for p in state["project"]] == ["demo"]


def test_core_alone_serves_the_nine_seed_nodes(make_client):
    """Acceptance: only core's plugins, today's names, ports and guest OS; the servers are bare metal."""
    client = make_client(disable_plugins=VENDOR_PLUGINS)
    nodes = {}
    for kind in ("vm", "blade"):
        for obj in client.get("/sim/state").json()["objects"][kind]:
            nodes[obj["name"]] = (obj["node"]["name"], obj["node"]["ssh_port"], obj["node"]["guest_os"])
    assert nodes == {
        "vm-001": ("sim-vmw-vm-001", 22001, "rhel9"),
        "vm-002": ("sim-vmw-vm-002", 22002, "ubuntu22"),
        "vm-003": ("sim-vmw-vm-003", 22003, "rhel9"),
        "instance-001": ("sim-os-instance-001", 22004, "ubuntu22"),
        "instance-002": ("sim-os-instance-002", 22005, "ubuntu22"),
        "instance-003": ("sim-os-instance-003", 22006, "rhel9"),
        "c01s01": ("sim-bm-c01s01", 22007, "rhel9"),
        "c01s02": ("sim-bm-c01s02", 22008, "ubuntu22"),
        "c01s03": ("sim-bm-c01s03", 22009, "rhel9"),
    }
    state = client.get("/sim/state").json()["objects"]
    assert set(state) == {
        "datacenter", "cluster", "host", "network", "datastore", "vm", "chassis", "blade", "project", "flavor",
        "image", "subnet", "volume",
    }  # fmt: skip
    assert [(c["name"], c["platform"]) for c in state["chassis"]] == [("chassis-01", "baremetal")]
    labels = client.call(client.sim.sim.nodes.labels, "sim-bm-c01s02")
    assert (labels["sim.platform"], labels["sim.type"], labels["sim.guest_os"]) == ("baremetal", "blade", "ubuntu22")
    assert not any(key.startswith(("sim.ucs.", "sim.vmw.", "sim.os.")) for key in labels)
    assert client.call(client.sim.sim.nodes.labels, "sim-os-instance-001")["sim.type"] == "vm"
    vm = client.get("/sim/vms/vm-001").json()
    assert vm["nics"][0]["mac"].startswith("00:50:56")  # seeded MACs never change


async def test_core_alone_server_failure_cascades_with_ha(make_dcsim, recorder):
    """Acceptance: a physical server's failure takes its host and VMs down; HA restarts them."""
    async with make_dcsim(BladeHost(), recorder, disable_plugins=VENDOR_PLUGINS) as dc:
        fault = await dc.sim.inject("host-failure", {"blade": "c01s04"})
        assert [t.kind for t in fault.targets] == ["blade", "host"]
        assert dc.sim.blade("c01s04").status is HealthStatus.FAILED
        assert dc.sim.world.get(Host, "esxi-03").status is HealthStatus.FAILED
        vm = dc.sim.vm("vm-blade-01")
        assert vm.power_state is PowerState.ON and dc.sim.world.get(Host, vm.host_id).name in {"esxi-01", "esxi-02"}
        await recorder.wait_for(lambda events: [e.type for e in events].count("vm.power_changed") == 2)
        assert recorder.types("vm.") == ["vm.power_changed", "vm.migrated", "vm.power_changed"]
        assert [e.data["kind"] for e in recorder.events if e.type == "host.degraded"] == ["blade", "host"]
        await dc.sim.clear_fault(fault.id)
        assert dc.sim.blade("c01s04").status is HealthStatus.OK


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


def test_seed_command_generates_chassis(tmp_path):
    args = ["--data-dir", str(tmp_path), "seed", "--datacenters", "2", "--hosts", "1", "--vms", "0", "--chassis", "3"]
    result = CliRunner().invoke(main, args, env={"DCSIM_DISABLE_PLUGINS": ",".join(VENDOR_PLUGINS)})
    assert result.exit_code == 0, result.output
    kinds = stored_objects(tmp_path)
    assert sorted(c["name"] for c in kinds["chassis"])[:2] == ["dc-01-chassis-01", "dc-01-chassis-02"]
    assert len(kinds["chassis"]) == 6 and len(kinds["blade"]) == 48  # 8 per chassis
    assert {c["platform"] for c in kinds["chassis"]} == {"baremetal"}
    assert "ucs_domain" not in kinds
