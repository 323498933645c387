"""The CMDB on the builtin backend: sync from the simulation, API, impact, history."""

from __future__ import annotations

import csv
import io
import time

#: The vendor packages installed next to core in the development venv.
VENDOR_PLUGINS = ("ucs", "openstack", "vmware")

#: Core's inventory groups of the seed, with no vendor package installed.
SEED_GROUPS = {
    "datacenter_nodes": [
        "sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03", "sim-os-instance-001", "sim-os-instance-002",
        "sim-os-instance-003", "sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003",
    ],
    "vmware": ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"],
    "openstack": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "baremetal": ["sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03"],
    "rhel_nodes": ["sim-bm-c01s01", "sim-bm-c01s03", "sim-os-instance-003", "sim-vmw-vm-001", "sim-vmw-vm-003"],
    "ubuntu_nodes": ["sim-bm-c01s02", "sim-os-instance-001", "sim-os-instance-002", "sim-vmw-vm-002"],
    "env_prod": ["sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03", "sim-vmw-vm-001", "sim-vmw-vm-002"],
    "env_staging": ["sim-vmw-vm-003"],
    "env_dev": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "cluster_01": ["sim-vmw-vm-001", "sim-vmw-vm-002", "sim-vmw-vm-003"],
    "cluster_nova": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "project_demo": ["sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"],
    "chassis_01": ["sim-bm-c01s01", "sim-bm-c01s02", "sim-bm-c01s03"],
    "vmware_rhel": ["sim-vmw-vm-001", "sim-vmw-vm-003"],
    "vmware_ubuntu": ["sim-vmw-vm-002"],
    "openstack_rhel": ["sim-os-instance-003"],
    "openstack_ubuntu": ["sim-os-instance-001", "sim-os-instance-002"],
    "baremetal_rhel": ["sim-bm-c01s01", "sim-bm-c01s03"],
    "baremetal_ubuntu": ["sim-bm-c01s02"],
}  # fmt: skip


def test_seed_inventory_has_exactly_the_seed_groups(make_client):
    inventory = make_client(disable_plugins=VENDOR_PLUGINS).get("/cmdb/ansible/inventory").json()
    groups = {name: body["hosts"] for name, body in inventory.items() if name not in {"_meta", "all"}}
    assert groups == SEED_GROUPS
    assert sorted(inventory["all"]["children"]) == sorted([*SEED_GROUPS, "ungrouped"])
    vm1 = inventory["_meta"]["hostvars"]["sim-vmw-vm-001"]
    assert (vm1["ansible_host"], vm1["ansible_port"], vm1["ansible_user"]) == ("127.0.0.1", 22001, "root")
    assert vm1["dcsim_cpu"] == 2 and vm1["dcsim_memory_mb"] == 4096 and vm1["dcsim_host"] == "esxi-01"
    assert inventory["_meta"]["hostvars"]["sim-bm-c01s03"]["ansible_port"] == 22009
    # The node backend's own host vars: virtual nodes are reached through dcsim_virtual.
    assert vm1["ansible_connection"] == "dcsim_virtual" and vm1["dcsim_nodes_dir"].endswith("nodes")


def _ci(client, name, ci_type="vm", status=None):
    query = f"/cmdb/cis?type={ci_type}&q={name}" + (f"&status={status}" if status else "")
    return next((ci for ci in client.get(query).json()["items"] if ci["name"] == name), None)


def _eventually(check, timeout=2.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("not within 2 s")
        time.sleep(0.02)


def test_vm_lifecycle_reaches_the_cmdb_within_2s(dcsim_client):
    client = dcsim_client
    client.post("/sim/vms", json={"name": "app-77", "cluster": "cluster-01", "tags": {"env": "prod", "role": "api"}})
    ci = _eventually(lambda: _ci(client, "app-77"))
    assert ci["tags"] == {"env": "prod", "os": "rhel9", "platform": "vmware", "role": "api"}
    assert ci["attributes"]["power_state"] == "on" and ci["source"] == "sim"

    client.post("/sim/vms/app-77/power", json={"action": "off"})
    _eventually(lambda: _ci(client, "app-77")["attributes"]["power_state"] == "off")

    client.delete("/sim/vms/app-77")
    gone = _eventually(lambda: _ci(client, "app-77", status="decommissioned"))
    assert gone["status"] == "decommissioned"
    assert _ci(client, "app-77") is None  # active listing no longer shows it

    # The CI's index shows a sync's writes a moment before their commit (SPEC-007): its
    # history follows within that moment.
    history = _eventually(
        lambda: (h := client.get(f"/cmdb/cis/{ci['id']}/history").json()) and h[-1]["action"] == "decommissioned" and h
    )
    actions = [entry["action"] for entry in history]
    assert actions[0] == "created" and "updated" in actions and actions[-1] == "decommissioned"
    power = next(e for e in history if e["action"] == "updated" and "attributes" in e["before"])
    assert power["before"]["attributes"]["power_state"] == "on"
    assert power["after"]["attributes"]["power_state"] == "off"
    assert all(entry["actor"] == "sync" and entry["at"] for entry in history)


def test_sync_twice_changes_nothing_the_second_time(dcsim_client):
    client = dcsim_client
    client.post("/sim/vms/vm-003/migrate", json={"host": "esxi-02"})
    first = client.post("/cmdb/sync").json()
    second = client.post("/cmdb/sync").json()
    assert second["changes"] == 0, second
    assert second["unchanged"] == first["unchanged"] + first["created"] + first["updated"]
    status = client.get("/cmdb/sync/status").json()
    assert status["backend"] == "builtin" and status["last_full_run"]["trigger"] == "manual"


def test_impact_of_host_and_cluster(dcsim_client):
    client = dcsim_client
    host = _ci(client, "esxi-01", "host")
    impact = client.get(f"/cmdb/cis/{host['id']}/impact").json()
    downstream = {(c["type"], c["name"]) for c in impact["downstream"]}
    assert {("vm", "vm-001"), ("vm", "vm-002"), ("application", "web"), ("application", "app")} <= downstream
    assert ("vm", "vm-003") not in downstream
    assert {("cluster", "cluster-01"), ("datacenter", "dc-west")} <= {
        (c["type"], c["name"]) for c in impact["upstream"]
    }

    cluster = _ci(client, "cluster-01", "cluster")
    impact = client.get(f"/cmdb/cis/{cluster['id']}/impact?depth=2").json()
    names = {c["name"]: c["depth"] for c in impact["downstream"]}
    assert names["esxi-01"] == 1 and names["esxi-02"] == 1
    assert {"vm-001", "vm-002", "vm-003"} <= set(names) and names["vm-002"] == 2
    assert "web" not in names  # beyond depth 2
    assert client.get(f"/cmdb/cis/{cluster['id']}/impact?depth=0").status_code == 400


def test_manual_cis_relationships_and_csv(dcsim_client):
    client = dcsim_client
    app = client.post(
        "/cmdb/cis", json={"type": "application", "name": "billing", "tags": {"env": "prod", "owner": "finance"}}
    )
    assert app.status_code == 201
    app = app.json()
    vm = _ci(client, "vm-002")
    rel = client.post("/cmdb/relationships", json={"type": "runs_on", "source_id": app["id"], "target_id": vm["id"]})
    assert rel.status_code == 201
    assert rel.json()["id"] in [r["id"] for r in client.get(f"/cmdb/cis/{app['id']}/relationships").json()]
    impact = client.get(f"/cmdb/cis/{vm['id']}/impact").json()
    assert "billing" in [c["name"] for c in impact["downstream"]]

    patched = client.patch(f"/cmdb/cis/{app['id']}", json={"tags": {"env": "prod", "owner": "payments"}}).json()
    assert patched["tags"]["owner"] == "payments"
    assert client.patch(f"/cmdb/cis/{app['id']}", json={"tags": {"colour": "red"}}).status_code == 422
    assert client.post("/cmdb/cis", json={"type": "toaster", "name": "t"}).status_code == 400
    assert (
        client.post(
            "/cmdb/relationships", json={"type": "loves", "source_id": app["id"], "target_id": vm["id"]}
        ).status_code
        == 400
    )
    assert client.get("/cmdb/cis/nope").status_code == 404

    exported = client.get("/cmdb/cis?format=csv&type=application")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {"billing", "web", "app", "db"} == {row["name"] for row in rows}
    assert next(r for r in rows if r["name"] == "billing")["owner"] == "payments"

    assert client.delete(f"/cmdb/cis/{app['id']}").json()["status"] == "decommissioned"
    actions = [e["action"] for e in client.get(f"/cmdb/cis/{app['id']}/history").json()]
    assert actions == ["created", "relationship_added", "updated", "decommissioned"]
    assert all(e["actor"].startswith("token:") for e in client.get(f"/cmdb/cis/{app['id']}/history").json())


def test_listing_filters_and_pages(make_client):
    client = make_client(disable_plugins=VENDOR_PLUGINS)
    assert client.get("/cmdb/cis?type=vm").json()["total"] == 6
    assert client.get("/cmdb/cis?type=host&platform=baremetal").json()["total"] == 3
    assert client.get("/cmdb/cis?tag=env=dev").json()["total"] == 3
    page = client.get("/cmdb/cis?type=vm&limit=2&offset=1").json()
    assert page["total"] == 6 and len(page["items"]) == 2
    types = {ci["type"] for ci in client.get("/cmdb/cis?limit=1000").json()["items"]}
    assert types == {"datacenter", "cluster", "host", "vm", "network", "storage", "application"}


async def test_a_ci_the_backend_refuses_is_an_error_of_the_run_not_its_end(make_dcsim):
    from dcsim.errors import InvalidInput

    async with make_dcsim() as dc:
        cmdb = dc.services["cmdb"]
        real_update = cmdb.backend.update_ci

        async def refuse_vm_002(ci_id, changes, actor):
            ci = await cmdb.backend.get_ci(ci_id)
            if ci.name == "vm-002":
                raise InvalidInput("the backend refuses vm-002")
            return await real_update(ci_id, changes, actor)

        cmdb.backend.update_ci = refuse_vm_002
        await dc.sim.migrate("vm-002", "esxi-02")
        await dc.sim.migrate("vm-003", "esxi-01")
        run = await cmdb.sync()
        assert run.errors == ["vm vm-002: the backend refuses vm-002"]
        assert run.updated >= 1
        ci = next(c for c in (await cmdb.backend.list_cis(_query()))[1] if c.name == "vm-003")
        assert ci.attributes["host"] == "esxi-01"


def _query():
    from dcsim.cmdb.backend import CiQuery

    return CiQuery(type="vm", limit=100)


async def test_a_batch_that_fails_leaves_nothing_visible(make_dcsim):
    from dcsim.cmdb.model import Ci
    from dcsim.cmdb.service import Cmdb

    async with make_dcsim() as dc:
        backend = dc.services.get(Cmdb).backend
        before = await backend.find_by_source("vm-nowhere")
        try:
            async with backend.batch():
                await backend.create_ci(Ci(type="vm", name="ghost", source="sim", source_id="vm-nowhere"), "test")
                assert await backend.find_by_source("vm-nowhere") is not None  # the block reads its writes
                raise RuntimeError("the sync failed half-way")
        except RuntimeError:
            pass
        assert before is None and await backend.find_by_source("vm-nowhere") is None
