"""The ``netbox`` CMDB backend against a real NetBox, with pynetbox as the judge.

Each test starts a dc-sim instance on a fresh simulation whose CMDB is the session's
NetBox. The first bootstrap writes the seed into NetBox (tens of seconds: NetBox takes
a few hundred milliseconds per write); later instances find it there, so their bootstrap
only reconciles what earlier tests changed (a VM powered off, a VM created) and takes
seconds. That makes tests independent of their order without a database per test.
"""

from __future__ import annotations

import importlib.util
import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pynetbox
import pytest
from netbox_support import NetboxServer

from dcsim.settings import Settings
from dcsim.sim.model import Vm
from dcsim.testing import DcsimClient

REPO = Path(__file__).resolve().parents[2]


def _load_contract() -> Any:
    """dcsim-core's CMDB API tests (written for the builtin backend), to run here too."""
    path = REPO / "dcsim-core" / "tests" / "cmdb" / "test_cmdb_api.py"
    spec = importlib.util.spec_from_file_location("dcsim_cmdb_api_contract", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTRACT = _load_contract()


@pytest.fixture
def nb(netbox: NetboxServer) -> Any:
    """pynetbox on the session's NetBox: the judge of what dc-sim wrote."""
    return pynetbox.api(netbox.url, token=netbox.token)


@pytest.fixture
def make_cmdb_client(make_client: Callable[..., DcsimClient], netbox: NetboxServer) -> Callable[..., DcsimClient]:
    """Started dc-sim instances (admin token) whose CMDB is the session's NetBox."""

    def factory(**settings: Any) -> DcsimClient:
        return make_client(cmdb_backend="netbox", netbox_url=netbox.url, netbox_token=netbox.token, **settings)

    return factory


@pytest.fixture
def client(make_cmdb_client: Callable[..., DcsimClient]) -> DcsimClient:
    """A started dc-sim instance on a fresh simulation, its CMDB in NetBox."""
    return make_cmdb_client()


def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """The first truthy result of ``check``, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)
    return result


def find_ci(client: DcsimClient, name: str, ci_type: str = "vm", status: str = "all") -> dict[str, Any] | None:
    """The CI called ``name`` as dc-sim's API lists it, None when there is none."""
    items = client.get(f"/cmdb/cis?type={ci_type}&q={name}&status={status}").json()["items"]
    return next((ci for ci in items if ci["name"] == name), None)


def dcsim_objects(endpoint: Any, ci_type: str) -> dict[str, Any]:
    """NetBox objects dc-sim manages as CIs of ``ci_type``, by name (prefixes by description)."""
    found = endpoint.filter(cf_dcsim_ci_type=ci_type)
    return {item.name if hasattr(item, "name") else item.description: item for item in found}


def cluster_type_name(client: DcsimClient, name: str) -> str:
    """The NetBox cluster type name SPEC-007 gives cluster CI ``name``."""
    ci = find_ci(client, name, "cluster")
    assert ci is not None, name
    return str(ci["attributes"].get("platform_name") or ci["tags"]["platform"].title())


def tag_names(item: Any) -> set[str]:
    """Names of the NetBox tags of a pynetbox record."""
    return {tag.name for tag in item.tags}


def test_seed_topology_reads_back_with_pynetbox(client: DcsimClient, nb: Any) -> None:
    simulated = {vm.name: vm.id for vm in client.sim.sim.world.all(Vm)}
    sites = dcsim_objects(nb.dcim.sites, "datacenter")
    assert {"dc-west", "RegionOne"} <= set(sites)
    assert tag_names(sites["RegionOne"]) == {"platform:openstack"}

    clusters = dcsim_objects(nb.virtualization.clusters, "cluster")
    placement = {
        name: (clusters[name].type.slug, clusters[name].type.name, clusters[name].scope.name)
        for name in ("cluster-01", "nova", "chassis-01")
    }
    # The cluster type is the platform tag, named by the CI's platform_name (else title-cased).
    names = {name: cluster_type_name(client, name) for name in placement}
    assert placement == {"cluster-01": ("vmware", names["cluster-01"], "dc-west"),
                         "nova": ("openstack", names["nova"], "RegionOne"),
                         "chassis-01": ("ucs", names["chassis-01"], "dc-west")}  # fmt: skip
    assert clusters["chassis-01"].custom_fields["dcsim_attributes"]["kind"] == "ucs_chassis"

    devices = dcsim_objects(nb.dcim.devices, "host")
    hosts = {
        name: (d.role.slug, d.cluster.name, d.site.name, d.status.value)
        for name, d in devices.items()
        if name in {"esxi-01", "esxi-02", "compute-01", "compute-02", "c01s01", "c01s02", "c01s03"}
    }
    assert hosts == {
        "esxi-01": ("hypervisor", "cluster-01", "dc-west", "active"),
        "esxi-02": ("hypervisor", "cluster-01", "dc-west", "active"),
        "compute-01": ("hypervisor", "nova", "RegionOne", "active"),
        "compute-02": ("hypervisor", "nova", "RegionOne", "active"),
        "c01s01": ("bare-metal", "chassis-01", "dc-west", "active"),
        "c01s02": ("bare-metal", "chassis-01", "dc-west", "active"),
        "c01s03": ("bare-metal", "chassis-01", "dc-west", "active"),
    }
    blade = devices["c01s01"]
    blade_ci = find_ci(client, "c01s01", "host")
    assert blade_ci is not None
    manufacturer = blade_ci["attributes"].get("manufacturer", "dc-sim")
    assert (blade.device_type.manufacturer.name, blade.device_type.model) == (manufacturer, "UCSB-B200-M5")
    assert blade.serial and blade.custom_fields["dcsim_attributes"]["service_profile"] == "SP-web-01"
    assert tag_names(blade) == {"env:prod", "os:rhel9", "platform:ucs", "role:bare_metal"}

    vms = dcsim_objects(nb.virtualization.virtual_machines, "vm")
    for name, cluster, device, vcpus, memory in [
        ("vm-001", "cluster-01", "esxi-01", 2, 4096),
        ("vm-002", "cluster-01", "esxi-01", 2, 4096),
        ("vm-003", "cluster-01", "esxi-02", 4, 8192),
        ("instance-001", "nova", "compute-01", 1, 2048),
        ("instance-002", "nova", "compute-02", 1, 2048),
        ("instance-003", "nova", "compute-01", 1, 2048),
    ]:
        vm = vms[name]
        assert (vm.status.value, vm.cluster.name, vm.device.name, vm.vcpus, vm.memory) == (
            "active",
            cluster,
            device,
            vcpus,
            memory,
        ), name
        fields = vm.custom_fields
        assert fields["dcsim_source"] == "sim" and fields["dcsim_attributes"]["power_state"] == "on"
        assert fields["dcsim_source_id"] == simulated[name]
    assert tag_names(vms["vm-001"]) == {"env:prod", "os:rhel9", "platform:vmware", "role:web"}
    assert tag_names(vms["instance-002"]) == {"env:dev", "os:ubuntu22", "platform:openstack"}

    vlan = dcsim_objects(nb.ipam.vlans, "network")["VM Network"]
    assert (vlan.vid, vlan.site.name) == (100, "dc-west")
    assert [p.prefix for p in nb.ipam.prefixes.filter(vlan_id=vlan.id)] == ["10.10.100.0/24"]
    private = dcsim_objects(nb.ipam.prefixes, "network")["private-net"]
    assert (private.prefix, private.scope.name, private.vrf.name) == ("10.0.0.0/24", "RegionOne", "dc-sim")
    assert set(dcsim_objects(nb.tenancy.tenants, "application")) >= {"web", "app", "db"}
    assert set(dcsim_objects(nb.tenancy.tenants, "service_profile")) >= {"SP-web-01", "SP-app-01", "SP-db-01"}
    assert dcsim_objects(nb.tenancy.tenants, "storage")["ds-01"].group.name == "dc-sim storage"

    # dc-sim reads the same objects back as CIs, with NetBox ids in theirs.
    vm1 = find_ci(client, "vm-001")
    assert vm1 is not None and vm1["id"] == f"netbox:virtualization.virtualmachine:{vms['vm-001'].id}"
    assert vm1["tags"] == {"env": "prod", "os": "rhel9", "platform": "vmware", "role": "web"}
    relationships = {(r["type"], r["target_id"]) for r in client.get(f"/cmdb/cis/{vm1['id']}/relationships").json()}
    assert ("runs_on", f"netbox:dcim.device:{devices['esxi-01'].id}") in relationships
    assert ("connected_to", f"netbox:ipam.vlan:{vlan.id}") in relationships


def test_sync_is_idempotent_and_a_second_instance_adopts_what_is_there(
    client: DcsimClient, make_cmdb_client: Callable[..., DcsimClient], nb: Any, tmp_path: Path
) -> None:
    assert client.post("/sim/vms/vm-003/migrate", json={"host": "esxi-01"}).status_code == 200
    eventually(
        lambda: nb.virtualization.virtual_machines.get(name="vm-003", cf_dcsim_source="sim").device.name == "esxi-01",
        10,
        "vm-003 on esxi-01 in NetBox",
    )
    client.post("/cmdb/sync")
    second = client.post("/cmdb/sync").json()
    assert second["changes"] == 0 and second["unchanged"] >= 27 and not second["errors"], second
    status = client.get("/cmdb/sync/status").json()
    assert status["backend"] == "netbox" and status["last_full_run"]["trigger"] == "manual"

    # Another instance (a fresh simulation) on the same NetBox: its bootstrap finds the CIs by
    # source id and the custom fields, cluster types and roles it needs, and creates none again.
    fields_before = len(nb.extras.custom_fields.filter(group_name="dc-sim"))
    other = make_cmdb_client(data_dir=tmp_path / "other")
    bootstrap = other.get("/cmdb/sync/status").json()["last_run"]
    assert bootstrap["trigger"] == "bootstrap" and bootstrap["created"] == 0, bootstrap
    # Its simulation has vm-003 on esxi-02 again: that is all it changes.
    assert (bootstrap["updated"], bootstrap["relationships_added"], bootstrap["relationships_removed"]) == (1, 1, 1)
    assert nb.virtualization.virtual_machines.get(name="vm-003", cf_dcsim_source="sim").device.name == "esxi-02"
    assert len(nb.extras.custom_fields.filter(group_name="dc-sim")) == fields_before == 6
    assert {t.slug for t in nb.virtualization.cluster_types.all()} >= {"vmware", "openstack", "ucs"}
    assert len(nb.virtualization.cluster_types.filter(slug="vmware")) == 1


def test_power_off_reaches_netbox_and_history_is_its_change_log(client: DcsimClient, nb: Any) -> None:
    vm = find_ci(client, "vm-002")
    assert vm is not None
    assert client.post("/sim/vms/vm-002/power", json={"action": "off"}).status_code == 200
    record = eventually(
        lambda: (
            (found := nb.virtualization.virtual_machines.get(name="vm-002", cf_dcsim_source="sim")).status.value
            == "offline"
            and found
        ),
        5,
        "vm-002 offline in NetBox",
    )
    assert record.custom_fields["dcsim_attributes"]["power_state"] == "off"

    history = client.get(f"/cmdb/cis/{vm['id']}/history").json()
    assert history[0]["action"] == "created"
    power = history[-1]
    assert (power["action"], power["actor"]) == ("updated", "sync")
    assert power["before"]["attributes"]["power_state"] == "on" and power["after"]["attributes"]["power_state"] == "off"
    assert {"relationship_added"} <= {entry["action"] for entry in history}
    # Each entry is a NetBox object change, which says dc-sim's actor in its message.
    change = nb.core.object_changes.get(int(power["id"].removeprefix("netbox:change:")))
    assert (change.changed_object_type, change.changed_object_id) == ("virtualization.virtualmachine", record.id)
    assert change.message == "dc-sim: sync" and change.postchange_data["status"] == "offline"

    # A change made in NetBox itself is in the history too, by its NetBox user.
    tag = nb.extras.tags.get(name="tier:gold") or nb.extras.tags.create(name="tier:gold", slug="tier-gold")
    record.tags.append(tag)
    record.save()
    last = client.get(f"/cmdb/cis/{vm['id']}/history").json()[-1]
    assert (last["action"], last["actor"]) == ("updated", "netbox:admin")
    assert last["after"]["tags"] == {
        "env": "prod",
        "os": "ubuntu22",
        "platform": "vmware",
        "role": "app",
        "tier": "gold",
    }


def test_a_destroyed_vm_keeps_its_record_and_its_name_can_be_used_again(client: DcsimClient, nb: Any) -> None:
    def netbox_vms() -> list[Any]:
        return list(nb.virtualization.virtual_machines.filter(name="reborn", cf_dcsim_source="sim"))

    assert client.post("/sim/vms", json={"name": "reborn", "cluster": "cluster-01"}).status_code == 201
    eventually(lambda: [vm for vm in netbox_vms() if vm.device], 10, "reborn placed on a host")
    assert client.delete("/sim/vms/reborn").status_code == 200
    gone = eventually(lambda: find_ci(client, "reborn", status="decommissioned"), 10, "reborn decommissioned")
    (record,) = netbox_vms()
    # The record stays, out of its cluster and off its host, so the name is free there.
    assert (record.status.value, record.cluster, record.device, record.site.name) == (
        "decommissioning",
        None,
        None,
        "dc-west",
    )
    actions = [entry["action"] for entry in client.get(f"/cmdb/cis/{gone['id']}/history").json()]
    assert actions[0] == "created" and "relationship_removed" in actions and actions[-1] == "decommissioned"

    assert client.post("/sim/vms", json={"name": "reborn", "cluster": "cluster-01"}).status_code == 201
    eventually(lambda: [vm for vm in netbox_vms() if vm.device and vm.status.value == "active"], 10, "a new reborn")
    assert sorted(vm.status.value for vm in netbox_vms()) == ["active", "decommissioning"]
    assert client.get("/cmdb/sync/status").json()["last_run"]["errors"] == []


def test_netbox_outage_shows_in_readyz_and_sync_resumes_when_it_is_back(
    client: DcsimClient, netbox: NetboxServer, nb: Any
) -> None:
    checks = {check["name"]: check for check in client.get("/readyz").json()["checks"]}
    assert checks["cmdb"] == {"name": "cmdb", "ok": True, "detail": "netbox"}

    netbox.stop()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = {check["name"]: check for check in ready.json()["checks"]}
    assert not checks["cmdb"]["ok"] and "netbox" in checks["cmdb"]["detail"], checks["cmdb"]
    # The simulation goes on; the CMDB events it misses turn into one full sync later.
    created = client.post("/sim/vms", json={"name": "outage-vm", "cluster": "nova", "tags": {"env": "dev"}})
    assert created.status_code == 201
    assert client.post("/sim/vms/instance-001/power", json={"action": "off"}).status_code == 200
    eventually(lambda: client.get("/cmdb/sync/status").json()["resync_pending"], 5, "a resync pending")

    netbox.start()
    status = eventually(
        lambda: (body := client.get("/cmdb/sync/status").json())["last_full_run"]["trigger"] == "resume" and body,
        30,
        "a full sync once NetBox is back",
    )
    assert not status["resync_pending"] and not status["last_full_run"]["errors"]
    vm = nb.virtualization.virtual_machines.get(name="outage-vm", cf_dcsim_source="sim")
    assert (vm.status.value, vm.cluster.name, vm.site.name) == ("active", "nova", "RegionOne")
    assert {"env:dev", "platform:openstack"} <= tag_names(vm)
    instance = nb.virtualization.virtual_machines.get(name="instance-001", cf_dcsim_source="sim")
    assert instance.status.value == "offline"
    assert client.get("/readyz").status_code == 200
    assert client.post("/cmdb/sync").json()["changes"] == 0


def test_relationships_live_in_netbox_fields_and_placement_follows(client: DcsimClient, nb: Any) -> None:
    made: list[str] = []

    def create(ci_type: str, name: str, **tags: str) -> str:
        response = client.post("/cmdb/cis", json={"type": ci_type, "name": name, "tags": tags})
        assert response.status_code == 201, response.json()
        made.append(response.json()["id"])
        return made[-1]

    def relate(rel_type: str, source: str, target: str) -> Any:
        return client.post("/cmdb/relationships", json={"type": rel_type, "source_id": source, "target_id": target})

    try:
        check_placement(create, relate, client, nb)
    finally:
        # Decommissioned, they leave the active listings later tests count.
        for ci in made:
            client.delete(f"/cmdb/cis/{ci}")
    assert nb.virtualization.virtual_machines.get(name="lab-vm").status.value == "decommissioning"


def check_placement(create: Callable[..., str], relate: Callable[..., Any], client: DcsimClient, nb: Any) -> None:
    """The body of test_relationships_live_in_netbox_fields_and_placement_follows."""
    lab_a, lab_b = create("datacenter", "lab-a"), create("datacenter", "lab-b")
    cluster = create("cluster", "lab-cluster", platform="vmware")
    host, vm = create("host", "lab-host"), create("vm", "lab-vm")
    # Nothing places them yet: NetBox wants a site, so they wait in dc-sim's.
    assert nb.dcim.devices.get(name="lab-host").site.slug == "dcsim-unplaced"
    for rel_type, source, target in [
        ("hosted_in", cluster, lab_a),
        ("member_of", host, cluster),
        ("runs_on", vm, host),
    ]:
        assert relate(rel_type, source, target).status_code == 201
    assert relate("runs_on", vm, host).status_code == 409

    netbox_cluster = nb.virtualization.clusters.get(name="lab-cluster")
    assert (netbox_cluster.type.slug, netbox_cluster.scope.name) == ("vmware", "lab-a")
    device = nb.dcim.devices.get(name="lab-host")
    assert (device.cluster.name, device.site.name, device.role.slug) == ("lab-cluster", "lab-a", "hypervisor")
    machine = nb.virtualization.virtual_machines.get(name="lab-vm")
    assert (machine.device.name, machine.cluster.name, machine.site.name) == ("lab-host", "lab-cluster", "lab-a")

    # A second site for the cluster takes NetBox's field (and the cluster's hosts move with
    # it); the first stays a relationship, in dcsim_relationships.
    second = relate("hosted_in", cluster, lab_b).json()
    assert nb.virtualization.clusters.get(name="lab-cluster").scope.name == "lab-b"
    assert nb.dcim.devices.get(name="lab-host").site.name == "lab-b"
    hosted = {
        r["target_id"] for r in client.get(f"/cmdb/cis/{cluster}/relationships").json() if r["type"] == "hosted_in"
    }
    assert hosted == {lab_a, lab_b}
    # Removing it gives the field back to the first one.
    assert client.delete(f"/cmdb/relationships/{second['id']}").status_code == 204
    assert nb.virtualization.clusters.get(name="lab-cluster").scope.name == "lab-a"
    assert nb.dcim.devices.get(name="lab-host").site.name == "lab-a"
    assert not nb.virtualization.clusters.get(name="lab-cluster").custom_fields["dcsim_relationships"]
    assert client.delete(f"/cmdb/relationships/{second['id']}").status_code == 404

    impact = client.get(f"/cmdb/cis/{lab_a}/impact").json()
    assert {(ci["name"], ci["depth"]) for ci in impact["downstream"]} == {
        ("lab-cluster", 1),
        ("lab-host", 2),
        ("lab-vm", 3),
    }
    history = [entry["action"] for entry in client.get(f"/cmdb/cis/{cluster}/history").json()]
    assert history[0] == "created" and history.count("relationship_added") >= 2
    assert all(entry["actor"].startswith("token:") for entry in client.get(f"/cmdb/cis/{cluster}/history").json())


def test_cluster_types_and_manufacturers_come_from_the_ci(client: DcsimClient, nb: Any) -> None:
    made: list[str] = []

    def create(ci_type: str, name: str, attributes: dict[str, Any], **tags: str) -> Any:
        body = {"type": ci_type, "name": name, "attributes": attributes, "tags": tags}
        response = client.post("/cmdb/cis", json=body)
        assert response.status_code == 201, response.json()
        made.append(response.json()["id"])
        return response.json()

    try:
        create("cluster", "acme-a", {"platform_name": "Acme Cloud"}, platform="acme-cloud")
        create("cluster", "acme-b", {}, platform="acme-cloud")
        create("cluster", "plain", {}, platform="plainos")
        create("cluster", "no-platform", {})
        types = {
            c.name: (c.type.slug, c.type.name)
            for c in nb.virtualization.clusters.filter(name=["acme-a", "acme-b", "plain", "no-platform"])
        }
        assert types["acme-a"] == types["acme-b"] == ("acme-cloud", "Acme Cloud")
        assert types["plain"] == ("plainos", "Plainos")
        assert types["no-platform"] == ("dcsim", "dc-sim")

        create("host", "acme-host", {"manufacturer": "Acme Systems", "model": "AX-1"})
        create("host", "plain-host", {})
        acme, plain = nb.dcim.devices.get(name="acme-host"), nb.dcim.devices.get(name="plain-host")
        assert (acme.device_type.manufacturer.name, acme.device_type.manufacturer.slug) == (
            "Acme Systems",
            "acme-systems",
        )
        assert acme.device_type.model == "AX-1"
        assert (plain.device_type.manufacturer.name, plain.device_type.model) == ("dc-sim", "Simulated host")
    finally:
        for ci in made:
            client.delete(f"/cmdb/cis/{ci}")


def test_netbox_refusals_are_dcsim_errors(client: DcsimClient) -> None:
    # NetBox limits device names to 64 characters: its message comes back as invalid input.
    too_long = client.post("/cmdb/cis", json={"type": "host", "name": "h" * 80})
    assert too_long.status_code == 400
    assert "64" in too_long.json()["detail"] and too_long.json()["detail"].startswith("NetBox:"), too_long.json()
    # Site names are unique in NetBox.
    taken = client.post("/cmdb/cis", json={"type": "datacenter", "name": "dc-west"})
    assert taken.status_code == 409, taken.json()
    assert client.get("/cmdb/cis/netbox:dcim.device:999999").status_code == 404
    assert client.get("/cmdb/cis/not-a-netbox-id").status_code == 404


def test_token_is_masked_in_the_settings(tmp_path: Path) -> None:
    masked = Settings(data_dir=tmp_path, netbox_url="http://127.0.0.1:1", netbox_token="0123456789abcdef").masked()
    assert masked["netbox_token"] == "***" and masked["netbox_url"] == "http://127.0.0.1:1"


# dcsim-core's CMDB API tests, written once against the backend contract. Left out: the
# VM lifecycle test (its 2 s deadline is the builtin's; NetBox takes ~0.3 s a write and
# test_power_off_... covers it) and the sync test (it expects the builtin backend by name).
@pytest.mark.parametrize(
    "check",
    [
        CONTRACT.test_seed_inventory_has_exactly_the_seed_groups,
        CONTRACT.test_impact_of_host_and_cluster,
        CONTRACT.test_manual_cis_relationships_and_csv,
        CONTRACT.test_listing_filters_and_pages,
    ],
    ids=lambda check: check.__name__.removeprefix("test_"),
)
def test_cmdb_api_contract(check: Callable[[Any], None], request: pytest.FixtureRequest) -> None:
    # A check takes a started client, or (to choose the settings) a factory of them; only
    # one instance at a time syncs into the session's NetBox.
    wants_factory = "make_client" in inspect.signature(check).parameters
    check(request.getfixturevalue("make_cmdb_client" if wants_factory else "client"))
