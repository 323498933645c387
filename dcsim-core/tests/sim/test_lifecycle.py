"""VM lifecycle through /sim: create, power, snapshots, clone, migrate, reconfigure, destroy."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def test_create_power_destroy(dcsim_client):
    client = dcsim_client
    created = client.post("/sim/vms", json={"name": "web-42", "cluster": "cluster-01", "cpu": 2, "memory_mb": 2048})
    assert created.status_code == 201, created.text
    vm = created.json()
    assert vm["platform"] == "vmware" and vm["power_state"] == "on"
    # Core alone knows no vendor OUI: locally administered MACs (SPEC-009).
    assert vm["nics"][0]["mac"].startswith("02:00:00") and vm["nics"][0]["ip"].startswith("10.10.100.")
    assert client.post("/sim/vms/web-42/power", json={"action": "suspend"}).json()["power_state"] == "suspended"
    assert client.post("/sim/vms/web-42/power", json={"action": "on"}).json()["power_state"] == "on"
    assert client.post("/sim/vms/web-42/power", json={"action": "reset"}).json()["power_state"] == "on"
    assert client.post("/sim/vms/web-42/power", json={"action": "off"}).json()["power_state"] == "off"
    assert client.delete("/sim/vms/web-42").status_code == 200
    assert client.get("/sim/vms/web-42").status_code == 404


@pytest.mark.parametrize(
    ("setup", "action", "body", "status"),
    [
        ("off", "power", {"action": "reset"}, 409),
        ("off", "power", {"action": "suspend"}, 409),
        (None, "power", {"action": "on"}, 409),
        (None, "power", {"action": "explode"}, 422),
        (None, "reconfigure", {"cpu": 8}, 409),
        ("off", "reconfigure", {"cpu": 0}, 422),
        (None, "revert", None, 404),
        (None, "migrate", {"host": "esxi-01"}, 409),
        (None, "migrate", {"host": "compute-01"}, 409),
        (None, "migrate", {"host": "no-such-host"}, 404),
    ],
)
def test_illegal_transitions_are_refused(dcsim_client, setup, action, body, status):
    client = dcsim_client
    if setup == "off":
        client.post("/sim/vms/vm-001/power", json={"action": "off"})
    before = client.get("/sim/vms/vm-001").json()
    response = {
        "power": lambda: client.post("/sim/vms/vm-001/power", json=body),
        "reconfigure": lambda: client.patch("/sim/vms/vm-001", json=body),
        "revert": lambda: client.post("/sim/vms/vm-001/snapshots/missing/revert"),
        "migrate": lambda: client.post("/sim/vms/vm-001/migrate", json=body),
    }[action]()
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"]
    assert client.get("/sim/vms/vm-001").json() == before  # nothing changed


def test_snapshots_revert_and_delete(dcsim_client):
    client = dcsim_client
    client.post("/sim/vms/vm-002/power", json={"action": "off"})
    snap = client.post("/sim/vms/vm-002/snapshots", json={"name": "before-upgrade"}).json()
    assert client.post("/sim/vms/vm-002/snapshots", json={"name": "before-upgrade"}).status_code == 409
    client.patch("/sim/vms/vm-002", json={"cpu": 8, "memory_mb": 16384})
    client.post("/sim/vms/vm-002/power", json={"action": "on"})
    reverted = client.post(f"/sim/vms/vm-002/snapshots/{snap['id']}/revert").json()
    assert (reverted["cpu"], reverted["memory_mb"], reverted["power_state"]) == (2, 4096, "off")
    assert [s["name"] for s in client.get("/sim/vms/vm-002/snapshots").json()] == ["before-upgrade"]
    assert client.delete("/sim/vms/vm-002/snapshots/before-upgrade").status_code == 200
    assert client.get("/sim/vms/vm-002/snapshots").json() == []


def test_clone_and_migrate(dcsim_client):
    client = dcsim_client
    clone = client.post("/sim/vms/vm-003/clone", json={"name": "vm-003-clone"}).json()
    assert (clone["cpu"], clone["memory_mb"], clone["power_state"]) == (4, 8192, "off")
    assert clone["tags"]["env"] == "staging" and clone["id"] != client.get("/sim/vms/vm-003").json()["id"]
    moved = client.post("/sim/vms/vm-003/migrate", json={"host": "esxi-01"}).json()
    hosts = {h["id"]: h["name"] for h in client.get("/sim/hosts").json()["items"]}
    assert hosts[moved["host_id"]] == "esxi-01"
    assert "vm-003" in client.get("/sim/hosts/esxi-01").json()["vms"]


def test_list_filters_and_pages(dcsim_client):
    client = dcsim_client
    assert client.get("/sim/vms?platform=openstack").json()["total"] == 3
    assert client.get("/sim/vms?guest_os=rhel9").json()["total"] == 3
    assert client.get("/sim/vms?host=esxi-01").json()["total"] == 2
    assert client.get("/sim/vms?cluster=cluster-01").json()["total"] == 3
    assert [v["name"] for v in client.get("/sim/vms?tag=env=staging").json()["items"]] == ["vm-003"]
    page = client.get("/sim/vms?limit=2&offset=2").json()
    assert page["total"] == 6 and [v["name"] for v in page["items"]] == ["vm-003", "instance-001"]
    assert client.get("/sim/vms?limit=0").status_code == 400


def test_bad_create_requests(dcsim_client):
    client = dcsim_client
    assert client.post("/sim/vms", json={"name": "vm-001"}).status_code == 409
    assert client.post("/sim/vms", json={"cpu": 2}).status_code == 422
    assert client.post("/sim/vms", json={"name": "x", "guest_os": "windows"}).status_code == 422
    assert client.post("/sim/vms", json={"name": "x", "load_profile": "frantic"}).status_code == 400
    assert client.get("/sim/vms").json()["total"] == 6


async def test_lifecycle_events(make_dcsim, recorder):
    async with make_dcsim(recorder) as sim:
        from dcsim.sim.engine import VmRequest

        await sim.sim.create_vm(VmRequest(name="ev-01", cluster="cluster-01"))
        await sim.sim.power("ev-01", "off")
        await sim.sim.migrate("vm-001", "esxi-02")
        await sim.sim.destroy_vm("ev-01")
        await recorder.wait_for(lambda events: "vm.destroyed" in [e.type for e in events])
    assert recorder.types("vm.") == ["vm.created", "vm.power_changed", "vm.migrated", "vm.destroyed"]
    power = next(e for e in recorder.events if e.type == "vm.power_changed")
    assert power.data | {"id": None} == {"id": None, "name": "ev-01", "from": "on", "to": "off", "reason": "api"}
    assert power.subject.startswith("vm/") and power.source == "/sim"
