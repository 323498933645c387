"""The ``/vcenter`` REST API against the default seed, through the real HTTP app:
reads from the simulation, writes through the engine (events on the bus), dc-sim's
contract (pages, strict input, problem documents, roles)."""

from __future__ import annotations

from typing import Any

import pytest

from dcsim import hookimpl
from dcsim.sim.model import Datacenter

API = "/vcenter"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def client(make_client, recorder):
    return make_client(recorder, role="operator")


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


def problem(response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document of ``status`` and ``code`` (naming ``field``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:dcsim:error:{code}")
    assert body["title"] and body["detail"] and body["instance"] == response.request.url.path
    if field is not None:
        assert field in {error["field"] for error in body["errors"]}, body
    return body


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


# Inventory ------------------------------------------------------------------------------


def test_datacenters_and_clusters(client):
    datacenters = ok(client.get(f"{API}/datacenter"))
    assert names(datacenters) == ["dc-west"] and datacenters["total"] == 1
    assert (datacenters["limit"], datacenters["offset"]) == (100, 0)
    [cluster] = ok(client.get(f"{API}/cluster"))["items"]
    assert (cluster["name"], cluster["datacenter"]) == ("cluster-01", datacenters["items"][0]["datacenter"])
    assert (cluster["ha_enabled"], cluster["drs_enabled"], cluster["drs_behavior"]) == (True, True, "fullyAutomated")
    assert cluster["resource_pools"] == ["cluster-01-prod", "cluster-01-staging"]
    assert names(ok(client.get(f"{API}/cluster?datacenter=dc-west"))) == ["cluster-01"]
    problem(client.get(f"{API}/cluster?datacenter=RegionOne"), 404, "not_found")


def test_hosts_show_a_failure_as_disconnected(client):
    hosts = ok(client.get(f"{API}/host"))["items"]
    assert [(h["name"], h["connection_state"], h["power_state"]) for h in hosts] == [
        ("esxi-01", "CONNECTED", "POWERED_ON"),
        ("esxi-02", "CONNECTED", "POWERED_ON"),
    ]
    assert (hosts[0]["cpu_cores"], hosts[0]["memory_size_MiB"]) == (32, 262_144)
    ok(client.post("/sim/inject/host-failure", json={"host": "esxi-02"}), 201)
    states = {h["name"]: h["connection_state"] for h in ok(client.get(f"{API}/host"))["items"]}
    assert states == {"esxi-01": "CONNECTED", "esxi-02": "DISCONNECTED"}
    assert names(ok(client.get(f"{API}/host?connection_state=DISCONNECTED"))) == ["esxi-02"]
    assert names(ok(client.get(f"{API}/host?cluster=cluster-01&limit=1&offset=1"))) == ["esxi-02"]
    problem(client.get(f"{API}/host?cluster=nova"), 404, "not_found")


def test_datastores_and_networks(client):
    [datastore] = ok(client.get(f"{API}/datastore"))["items"]
    assert (datastore["name"], datastore["type"], datastore["capacity"]) == ("ds-01", "VMFS", 4096 * 2**30)
    assert datastore["free_space"] == (4096 - 3 * 40) * 2**30
    found = {n["name"]: (n["type"], n["vlan"], n["switch"]) for n in ok(client.get(f"{API}/network"))["items"]}
    assert found == {
        "VM Network": ("STANDARD_PORTGROUP", 100, "vSwitch0"),
        "VM Network 200": ("STANDARD_PORTGROUP", 200, "vSwitch0"),
        "dc-west-dvs-vlan100": ("DISTRIBUTED_PORTGROUP", 100, "dc-west-dvs"),
        "dc-west-dvs-vlan200": ("DISTRIBUTED_PORTGROUP", 200, "dc-west-dvs"),
    }
    distributed = ok(client.get(f"{API}/network?type=DISTRIBUTED_PORTGROUP"))
    assert distributed["total"] == 2


# VMs ----------------------------------------------------------------------------------


def test_vm_list_filters(client):
    assert names(ok(client.get(f"{API}/vm"))) == ["vm-001", "vm-002", "vm-003"]
    assert names(ok(client.get(f"{API}/vm?host=esxi-02"))) == ["vm-003"]
    assert names(ok(client.get(f"{API}/vm?resource_pool=cluster-01-staging"))) == ["vm-003"]
    assert names(ok(client.get(f"{API}/vm?cluster=cluster-01&datacenter=dc-west&limit=2"))) == ["vm-001", "vm-002"]
    ok(client.post("/sim/vms/vm-002/power", json={"action": "off"}))
    assert names(ok(client.get(f"{API}/vm?power_state=POWERED_OFF"))) == ["vm-002"]
    summary = ok(client.get(f"{API}/vm?power_state=POWERED_ON"))["items"][1]
    assert summary == {
        "vm": client.get("/sim/vms/vm-003").json()["id"], "name": "vm-003", "power_state": "POWERED_ON",
        "cpu_count": 4, "memory_size_MiB": 8192,
    }  # fmt: skip
    problem(client.get(f"{API}/vm?host=compute-01"), 404, "not_found")
    problem(client.get(f"{API}/vm?power_state=on"), 400, "invalid_input")


def test_one_vm_and_its_hardware(client):
    sim_vm = client.get("/sim/vms/vm-001").json()
    vm = ok(client.get(f"{API}/vm/vm-001"))
    assert ok(client.get(f"{API}/vm/{sim_vm['id']}")) == vm
    assert (vm["vm"], vm["guest_OS"], vm["power_state"], vm["resource_pool"]) == (
        sim_vm["id"], "RHEL_9_64", "POWERED_ON", "cluster-01-prod"
    )  # fmt: skip
    assert vm["host"] == sim_vm["host_id"]
    hardware = ok(client.get(f"{API}/vm/vm-001/hardware"))
    assert hardware == vm["hardware"]
    assert hardware["cpu"] == {"count": 2, "cores_per_socket": 1, "hot_add_enabled": False, "hot_remove_enabled": False}
    assert hardware["memory"] == {"size_MiB": 4096, "hot_add_enabled": False}
    assert hardware["disks"] == [{"label": "Hard disk 1", "capacity": 40 * 2**30, "datastore": "ds-01"}]
    [nic] = hardware["nics"]
    assert (nic["mac_address"], nic["ip_address"]) == (sim_vm["nics"][0]["mac"], sim_vm["nics"][0]["ip"])
    assert ok(client.get(f"{API}/vm/vm-002"))["guest_OS"] == "UBUNTU_64"
    problem(client.get(f"{API}/vm/instance-001"), 404, "not_found")
    problem(client.get(f"{API}/vm/no-such-vm/hardware"), 404, "not_found")


def test_power_actions_change_the_simulation(client, recorder):
    assert ok(client.post(f"{API}/vm/vm-003/power", json={"action": "stop"})) == {"state": "POWERED_OFF"}
    assert client.get("/sim/vms/vm-003").json()["power_state"] == "off"
    assert ok(client.get(f"{API}/vm/vm-003/power")) == {"state": "POWERED_OFF"}
    problem(client.post(f"{API}/vm/vm-003/power", json={"action": "stop"}), 409, "conflict")
    assert ok(client.post(f"{API}/vm/vm-003/power", json={"action": "start"})) == {"state": "POWERED_ON"}
    assert ok(client.post(f"{API}/vm/vm-003/power", json={"action": "suspend"})) == {"state": "SUSPENDED"}
    assert ok(client.post(f"{API}/vm/vm-003/power", json={"action": "start"})) == {"state": "POWERED_ON"}
    assert ok(client.post(f"{API}/vm/vm-003/power", json={"action": "reset"})) == {"state": "POWERED_ON"}
    client.call(recorder.wait_for, lambda events: len([e for e in events if e.type == "vm.power_changed"]) >= 5)
    vm_id = client.get("/sim/vms/vm-003").json()["id"]
    changes = [e for e in recorder.events if e.type == "vm.power_changed" and e.subject == f"vm/{vm_id}"]
    assert len(changes) >= 5
    problem(client.post(f"{API}/vm/vm-003/power", json={"action": "on"}), 422, "validation_failed", "action")


def test_cpu_and_memory_of_a_powered_off_vm(client):
    problem(client.patch(f"{API}/vm/vm-002/hardware/cpu", json={"count": 4}), 409, "conflict")
    ok(client.post(f"{API}/vm/vm-002/power", json={"action": "stop"}))
    assert ok(client.patch(f"{API}/vm/vm-002/hardware/cpu", json={"count": 4}))["count"] == 4
    assert ok(client.patch(f"{API}/vm/vm-002/hardware/memory", json={"size_MiB": 8192}))["size_MiB"] == 8192
    sim_vm = client.get("/sim/vms/vm-002").json()
    assert (sim_vm["cpu"], sim_vm["memory_mb"]) == (4, 8192)
    problem(client.patch(f"{API}/vm/vm-002/hardware/cpu", json={"count": 0}), 422, "validation_failed", "count")
    problem(client.patch(f"{API}/vm/vm-002/hardware/cpu", json={"count": "4"}), 422, "validation_failed", "count")
    problem(client.patch(f"{API}/vm/vm-002/hardware/memory", json={"size_MiB": 64}), 422, "validation_failed")
    problem(client.patch(f"{API}/vm/vm-002/hardware/memory", json={"size": 8192}), 422, "validation_failed")


def test_create_and_delete_a_vm(client, recorder):
    body = {"name": "web-07", "placement": {"resource_pool": "cluster-01-prod"}, "guest_OS": "UBUNTU_64",
            "cpu": {"count": 4}, "memory": {"size_MiB": 2048}, "network": "VM Network 200"}  # fmt: skip
    created = ok(client.post(f"{API}/vm", json=body), 201)
    assert (created["name"], created["power_state"], created["guest_OS"], created["resource_pool"]) == (
        "web-07", "POWERED_OFF", "UBUNTU_64", "cluster-01-prod"
    )  # fmt: skip
    assert (created["hardware"]["cpu"]["count"], created["hardware"]["memory"]["size_MiB"]) == (4, 2048)
    assert created["hardware"]["nics"][0]["ip_address"].startswith("10.10.200.")
    assert created["hardware"]["nics"][0]["mac_address"].startswith("00:50:56:")
    sim_vm = client.get("/sim/vms/web-07").json()
    assert (sim_vm["id"], sim_vm["platform"], sim_vm["power_state"]) == (created["vm"], "vmware", "off")
    assert "web-07" in names(ok(client.get(f"{API}/vm?resource_pool=cluster-01-prod")))
    problem(client.post(f"{API}/vm", json=body), 409, "conflict")
    ok(client.post(f"{API}/vm/web-07/power", json={"action": "start"}))
    problem(client.delete(f"{API}/vm/web-07"), 409, "conflict")
    ok(client.post(f"{API}/vm/web-07/power", json={"action": "stop"}))
    assert ok(client.delete(f"{API}/vm/web-07"))["name"] == "web-07"
    problem(client.get(f"{API}/vm/web-07"), 404, "not_found")
    pools = {p["name"]: p for p in client.get("/sim/state").json()["objects"]["resource_pool"]}
    assert created["vm"] not in pools["cluster-01-prod"]["vm_ids"]
    client.call(recorder.wait_for, lambda events: "vm.destroyed" in [e.type for e in events])
    types = [e.type for e in recorder.events if e.subject == f"vm/{created['vm']}"]
    assert types == ["vm.created", "vm.power_changed", "vm.power_changed", "vm.destroyed"], types


def test_create_places_on_a_host_or_cluster(client):
    on_host = ok(
        client.post(f"{API}/vm", json={"name": "db-09", "placement": {"host": "esxi-02"}, "power_on": True}), 201
    )
    assert (on_host["host"], on_host["power_state"], on_host["resource_pool"]) == (
        client.get("/sim/hosts/esxi-02").json()["id"], "POWERED_ON", "Resources"
    )  # fmt: skip
    in_cluster = ok(client.post(f"{API}/vm", json={"name": "db-10", "placement": {"cluster": "cluster-01"}}), 201)
    assert in_cluster["cluster"] == ok(client.get(f"{API}/cluster"))["items"][0]["cluster"]
    problem(client.post(f"{API}/vm", json={"name": "x1", "placement": {}}), 400, "invalid_input", "placement")
    problem(client.post(f"{API}/vm", json={"name": "x2", "placement": {"cluster": "nova"}}), 404, "not_found")
    problem(client.post(f"{API}/vm", json={"name": "x3", "placement": {"host": "compute-01"}}), 404, "not_found")
    problem(client.post(f"{API}/vm", json={"name": "x4", "placement": {"cluster": "cluster-01"}, "network": "private-net"}),
            404, "not_found")  # fmt: skip
    problem(client.post(f"{API}/vm", json={"name": "x5"}), 422, "validation_failed", "placement")
    problem(client.post(f"{API}/vm", json={"name": "x6", "placement": {"cluster": "cluster-01"}, "guest_OS": "WIN"}),
            422, "validation_failed", "guest_OS")  # fmt: skip
    problem(client.post(f"{API}/vm", json={"name": "x 7", "placement": {"cluster": "cluster-01"}}), 422,
            "validation_failed", "name")  # fmt: skip
    problem(client.post(f"{API}/vm", content=b"{", headers={"content-type": "application/json"}), 400, "invalid_input")
    problem(client.post(f"{API}/vm", content=b"name=x", headers={"content-type": "text/plain"}), 415,
            "unsupported_media_type")  # fmt: skip


def test_metrics_from_the_simulated_metrics(client):
    body = ok(client.get(f"{API}/vm/vm-003/metrics?names=cpu.usage,mem.usage,disk.read"))
    assert body["name"] == "vm-003" and body["timestamp"]
    samples = {s["name"]: s for s in body["samples"]}
    assert list(samples) == ["cpu.usage", "mem.usage", "disk.read"]
    assert 0 < samples["cpu.usage"]["value"] <= 100 and samples["cpu.usage"]["unit"] == "percent"
    assert 0 < samples["mem.usage"]["value"] <= 100
    assert samples["disk.read"]["value"] > 0 and samples["disk.read"]["unit"] == "KBps"
    every = ok(client.get(f"{API}/vm/vm-003/metrics"))
    assert [s["name"] for s in every["samples"]] == ["cpu.usage", "mem.usage", "disk.usage", "disk.read",
                                                      "disk.write", "net.usage"]  # fmt: skip
    ok(client.post(f"{API}/vm/vm-003/power", json={"action": "stop"}))
    stopped = ok(client.get(f"{API}/vm/vm-003/metrics"))
    assert all(s["value"] == 0 for s in stopped["samples"])
    problem(client.get(f"{API}/vm/vm-003/metrics?names=cpu.ready"), 400, "invalid_input", "names")
    problem(client.get(f"{API}/vm/vm-003/metrics?names="), 400, "invalid_input", "names")


def test_disk_full_shows_in_the_metrics(client):
    before = {s["name"]: s["value"] for s in ok(client.get(f"{API}/vm/vm-001/metrics"))["samples"]}
    ok(client.post("/sim/inject/disk-full", json={"datastore": "ds-01"}), 201)
    after = {s["name"]: s["value"] for s in ok(client.get(f"{API}/vm/vm-001/metrics"))["samples"]}
    assert after["disk.usage"] == round(25_000_000 * 2 / 1024, 2) >= before["disk.usage"]
    assert after["mem.usage"] >= 90


# Contract ------------------------------------------------------------------------------


def test_roles_viewer_reads_operator_writes(make_client):
    viewer = make_client(role="viewer")
    assert ok(viewer.get(f"{API}/vm"))["total"] == 3
    problem(viewer.post(f"{API}/vm/vm-001/power", json={"action": "stop"}), 403, "forbidden")
    problem(viewer.patch(f"{API}/vm/vm-001/hardware/cpu", json={"count": 2}), 403, "forbidden")
    problem(viewer.delete(f"{API}/vm/vm-001"), 403, "forbidden")
    anonymous = make_client(role=None, data_dir=viewer.sim.settings.data_dir.with_name("anonymous"))
    problem(anonymous.get(f"{API}/datacenter"), 401, "unauthorized")


def test_paging_is_bounded(client):
    problem(client.get(f"{API}/vm?limit=0"), 400, "invalid_input")
    problem(client.get(f"{API}/host?limit=1001"), 400, "invalid_input")
    problem(client.get(f"{API}/datastore?offset=-1"), 400, "invalid_input")
    assert ok(client.get(f"{API}/vm?offset=2"))["items"][0]["name"] == "vm-003"


def test_openapi_documents_every_vcenter_operation(client):
    schema = ok(client.get("/schema/openapi.json"))
    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() if path.startswith(API) for method in item
    }
    assert operations == {
        ("GET", "/vcenter/datacenter"), ("GET", "/vcenter/cluster"), ("GET", "/vcenter/host"),
        ("GET", "/vcenter/datastore"), ("GET", "/vcenter/network"), ("GET", "/vcenter/vm"), ("POST", "/vcenter/vm"),
        ("GET", "/vcenter/vm/{vm}"), ("DELETE", "/vcenter/vm/{vm}"), ("GET", "/vcenter/vm/{vm}/power"),
        ("POST", "/vcenter/vm/{vm}/power"), ("GET", "/vcenter/vm/{vm}/hardware"),
        ("PATCH", "/vcenter/vm/{vm}/hardware/cpu"), ("PATCH", "/vcenter/vm/{vm}/hardware/memory"),
        ("GET", "/vcenter/vm/{vm}/metrics"),
    }  # fmt: skip
    for path, item in schema["paths"].items():
        if not path.startswith(API):
            continue
        for method, operation in item.items():
            assert {"400", "401", "403", "429"} <= set(operation["responses"]), (method, path)
            success = next(code for code in operation["responses"] if code.startswith("2"))
            content = operation["responses"][success]["content"]["application/json"]["schema"]
            assert content != {} and "additionalProperties" not in content, (method, path)
    create = schema["paths"]["/vcenter/vm"]["post"]
    assert {"409", "413", "415", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create.get("parameters", []))


def test_a_retried_create_with_an_idempotency_key_creates_one_vm(client):
    body = {"name": "app-11", "placement": {"cluster": "cluster-01"}}
    headers = {"Idempotency-Key": "create-app-11"}
    first = ok(client.post(f"{API}/vm", json=body, headers=headers), 201)
    again = ok(client.post(f"{API}/vm", json=body, headers=headers), 201)
    assert again == first
    assert names(ok(client.get(f"{API}/vm"))).count("app-11") == 1


class SecondCluster:
    """A second vSphere cluster in dc-west, cluster-02 with host esxi-03."""

    @hookimpl(trylast=True)
    def dcsim_sim_seed_topology(self, topology):
        west = topology.world.get(Datacenter, "dc-west")
        topology.host("esxi-03", topology.cluster("cluster-02", west), cpu_cores=32, memory_mb=262_144)


def test_a_placement_whose_parts_disagree_is_refused(make_client):
    client = make_client(SecondCluster(), role="operator")
    assert names(ok(client.get(f"{API}/cluster"))) == ["cluster-01", "cluster-02"]
    body = {"name": "odd-01", "placement": {"host": "esxi-03", "resource_pool": "cluster-01-prod"}}
    problem(client.post(f"{API}/vm", json=body), 400, "invalid_input", "placement")
    body = {"name": "odd-02", "placement": {"host": "esxi-01", "cluster": "cluster-02"}}
    problem(client.post(f"{API}/vm", json=body), 400, "invalid_input", "placement")
    placed = ok(client.post(f"{API}/vm", json={"name": "ok-03", "placement": {"cluster": "cluster-02"}}), 201)
    assert placed["host"] == ok(client.get(f"{API}/host?cluster=cluster-02"))["items"][0]["host"]
    assert ok(client.get(f"{API}/cluster?datacenter=dc-west"))["total"] == 2
