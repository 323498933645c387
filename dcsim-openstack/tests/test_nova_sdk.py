"""Nova through openstacksdk over a real ``dcsim serve``: the seed's servers and flavors,
key pairs, booting a server to ACTIVE with an address from the subnet, power actions,
microversions, errors in Nova's format, the reader role."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openstack
import openstack.connection
import openstack.exceptions
import pytest

from dcsim.testing import ServerProcess, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed and the virtual node backend, for the module."""
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    with run_server(tmp_path_factory.mktemp("nova") / "server") as running:
        yield running


def connect(server: ServerProcess, user: str = "demo") -> openstack.connection.Connection:
    """An openstacksdk connection as a seed user, scoped to project demo."""
    return openstack.connect(
        auth_url=f"{server.url}/identity/v3", username=user, password="password", project_name="demo",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip


@pytest.fixture(scope="module")
def conn(server: ServerProcess) -> openstack.connection.Connection:
    """A connection as ``demo`` (role member)."""
    return connect(server)


def raw(server: ServerProcess, conn: openstack.connection.Connection, method: str, path: str,
        body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:  # fmt: skip
    """A request with the connection's token: status, headers and decoded body."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{server.url}{path}", data=data, method=method)
    request.add_header("X-Auth-Token", conn.auth_token)
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                json.loads(text) if text else None,
            )
    except urllib.error.HTTPError as exc:
        text = exc.read()
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, json.loads(text) if text else None


def test_seed_servers_and_flavors(conn):
    servers = {s.name: s for s in conn.compute.servers()}
    assert {"instance-001", "instance-002", "instance-003"} <= set(servers)
    one = conn.compute.get_server(servers["instance-001"].id)
    assert one.status == "ACTIVE"
    assert one.addresses["private-net"][0]["addr"].startswith("10.0.0.")
    flavors = {f.name: f for f in conn.compute.flavors()}
    assert (flavors["m1.small"].vcpus, flavors["m1.small"].ram, flavors["m1.small"].disk) == (1, 2048, 20)
    assert {"m1.tiny", "m1.medium", "m1.large"} <= set(flavors)


def test_boot_power_and_delete(conn, server):
    network = next(n for n in conn.network.networks() if n.name == "private-net")
    image = next(i for i in conn.image.images() if i.name == "ubuntu-22.04")
    flavor = conn.compute.find_flavor("m1.tiny")
    keypair = conn.compute.create_keypair(name="boot-key")
    assert keypair.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    created = conn.compute.create_server(
        name="sdk-vm", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": network.id}],
        key_name="boot-key", metadata={"role": "web"}, user_data="ZWNobyBoaQ==",
    )  # fmt: skip
    booted = conn.compute.wait_for_server(created, status="ACTIVE", wait=30)
    assert (booted.key_name, booted.metadata, booted.flavor.original_name) == ("boot-key", {"role": "web"}, "m1.tiny")
    [address] = booted.addresses["private-net"]
    subnet = next(s for s in conn.network.subnets() if s.network_id == network.id)
    import ipaddress

    assert ipaddress.ip_address(address["addr"]) in ipaddress.ip_network(subnet.cidr)
    assert booted.vm_state == "active" and booted.power_state == 1

    conn.compute.stop_server(booted)
    stopped = conn.compute.wait_for_server(booted, status="SHUTOFF", wait=10)
    assert (stopped.vm_state, stopped.power_state) == ("stopped", 4)
    conn.compute.start_server(booted)
    conn.compute.wait_for_server(booted, status="ACTIVE", wait=10)
    conn.compute.reboot_server(booted, "SOFT")
    conn.compute.reboot_server(booted, "HARD")
    assert conn.compute.get_server(booted.id).status == "ACTIVE"
    conn.compute.pause_server(booted)
    assert conn.compute.get_server(booted.id).status == "PAUSED"
    conn.compute.unpause_server(booted)
    conn.compute.suspend_server(booted)
    assert conn.compute.get_server(booted.id).status == "SUSPENDED"
    conn.compute.resume_server(booted)
    assert conn.compute.get_server(booted.id).status == "ACTIVE"
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.start_server(booted)

    state = json.loads(urllib.request.urlopen(  # the server is a VM of the simulation
        urllib.request.Request(f"{server.url}/sim/vms/{booted.id}", headers={"Authorization": f"Bearer {server.token}"})
    ).read())  # fmt: skip
    assert (state["name"], state["project_id"], state["flavor"], state["image"]) == (
        "sdk-vm", booted.project_id, "m1.tiny", "ubuntu-22.04",
    )  # fmt: skip

    snapshot = conn.compute.create_server_image(booted, name="sdk-vm-image")
    assert conn.image.get_image(snapshot.id).name == "sdk-vm-image"
    assert "sdk-vm-image" in [i.name for i in conn.image.images()]

    conn.compute.delete_server(booted)
    conn.compute.wait_for_delete(booted, wait=10)
    _, _, body = raw(server, connect(server, "admin"), "GET", "/compute/v2.1/servers/detail?deleted=true")
    gone = next(s for s in body["servers"] if s["id"] == booted.id)
    assert (gone["status"], gone["OS-EXT-STS:vm_state"], gone["name"]) == ("DELETED", "deleted", "sdk-vm")
    _, _, body = raw(server, conn, "GET", "/compute/v2.1/servers/detail?deleted=true")  # not an admin: ignored
    assert booted.id not in [s["id"] for s in body["servers"]] and body["servers"]
    conn.compute.delete_keypair("boot-key")
    assert conn.compute.find_keypair("boot-key") is None


def test_missing_server_is_nova_404(conn, server):
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server("00000000-0000-0000-0000-000000000000")
    status, _, body = raw(server, conn, "GET", "/compute/v2.1/servers/00000000-0000-0000-0000-000000000000")
    assert status == 404
    assert body == {"itemNotFound": {"code": 404,
                                     "message": "Instance 00000000-0000-0000-0000-000000000000 could not be found."}}  # fmt: skip


def test_reader_cannot_create(server):
    reader = connect(server, "reader")
    assert any(s.name == "instance-001" for s in reader.compute.servers())
    with pytest.raises(openstack.exceptions.ForbiddenException):
        reader.compute.create_server(name="nope", image_id="x", flavor_id="y", networks="auto")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        reader.compute.create_keypair(name="nope")


def test_microversions(conn, server):
    status, headers, body = raw(server, conn, "GET", "/compute/")
    assert status == 200
    [version] = body["versions"]
    assert (version["id"], version["min_version"]) == ("v2.1", "2.1")
    top = version["version"]
    status, headers, _ = raw(server, conn, "GET", "/compute/v2.1/flavors")
    assert (headers["openstack-api-version"], headers["x-openstack-nova-api-version"]) == ("compute 2.1", "2.1")
    status, headers, body = raw(server, conn, "GET", "/compute/v2.1/servers/detail",
                                headers={"OpenStack-API-Version": "compute 2.47"})  # fmt: skip
    assert headers["openstack-api-version"] == "compute 2.47"
    assert body["servers"][0]["flavor"]["original_name"] == "m1.small"
    _, _, body = raw(server, conn, "GET", "/compute/v2.1/servers/detail")
    assert set(body["servers"][0]["flavor"]) == {"id", "links"}
    _, headers, _ = raw(server, conn, "GET", "/compute/v2.1/flavors", headers={"X-OpenStack-Nova-API-Version": "2.10"})
    assert headers["x-openstack-nova-api-version"] == "2.10"
    _, headers, _ = raw(
        server, conn, "GET", "/compute/v2.1/flavors", headers={"OpenStack-API-Version": "compute latest"}
    )
    assert headers["openstack-api-version"] == f"compute {top}"
    status, _, body = raw(
        server, conn, "GET", "/compute/v2.1/flavors", headers={"OpenStack-API-Version": "compute 9.9"}
    )
    assert status == 406 and "maximum is" in body["computeFault"]["message"]
    status, _, body = raw(server, conn, "GET", "/compute/v2.1/flavors", headers={"OpenStack-API-Version": "compute x"})
    assert status == 400 and "invalid format" in body["badRequest"]["message"]


def test_imported_keypair_hypervisors_zones_limits(conn, server):
    public = connect(server).compute.create_keypair(name="tmp-gen").public_key
    conn.compute.delete_keypair("tmp-gen")
    imported = conn.compute.create_keypair(name="imported", public_key=public)
    assert imported.fingerprint.count(":") == 15 and imported.private_key is None
    assert [k.name for k in conn.compute.keypairs()] == ["imported"]
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.compute.create_keypair(name="bad", public_key="not a key")
    conn.compute.delete_keypair("imported")
    admin = connect(server, "admin")
    hypervisors = {h.name: h for h in admin.compute.hypervisors(details=True)}
    assert set(hypervisors) == {"compute-01", "compute-02"}
    assert hypervisors["compute-01"].state == "up"
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(conn.compute.hypervisors())
    assert [z.name for z in conn.compute.availability_zones()] == ["nova"]
    limits = conn.compute.get_limits()
    assert limits.absolute.instances >= limits.absolute.instances_used >= 3


def test_another_project_sees_none_of_demos_servers_or_volumes(conn, server):
    admin = connect(server, "admin")
    project = admin.identity.create_project(name="other", domain_id="default")
    user = admin.identity.create_user(name="olga", password="secret", domain_id="default",
                                      default_project_id=project.id)  # fmt: skip
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    olga = openstack.connect(
        auth_url=f"{server.url}/identity/v3", username="olga", password="secret", project_name="other",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip
    demo_server = next(s for s in conn.compute.servers() if s.name == "instance-001")
    volume = conn.block_storage.create_volume(size=1, name="demo-only")
    assert list(olga.compute.servers()) == []
    assert list(olga.block_storage.volumes()) == []
    with pytest.raises(openstack.exceptions.NotFoundException):
        olga.compute.get_server(demo_server.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        olga.block_storage.get_volume(volume.id)
    with pytest.raises(openstack.exceptions.NotFoundException):
        olga.compute.stop_server(demo_server.id)
    # An admin sees every project's with all_tenants.
    assert demo_server.id in [s.id for s in admin.compute.servers(all_projects=True)]
    conn.block_storage.delete_volume(volume)


def test_a_server_destroyed_through_sim_is_deleted_in_nova(conn, server):
    network = next(n for n in conn.network.networks() if n.name == "private-net")
    image = next(i for i in conn.image.images() if i.name == "rhel-9")
    created = conn.compute.create_server(name="sim-destroyed", image_id=image.id, networks=[{"uuid": network.id}],
                                         flavor_id=conn.compute.find_flavor("m1.tiny").id)  # fmt: skip
    booted = conn.compute.wait_for_server(created, status="ACTIVE", wait=30)
    volume = conn.block_storage.create_volume(size=1, name="on-destroyed")
    conn.compute.create_volume_attachment(booted, volume_id=volume.id)
    request = urllib.request.Request(f"{server.url}/sim/vms/{booted.id}", method="DELETE",
                                     headers={"Authorization": f"Bearer {server.token}"})  # fmt: skip
    urllib.request.urlopen(request, timeout=30).read()
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server(booted.id)
    conn.block_storage.wait_for_status(volume, status="available", wait=10)
    admin = connect(server, "admin")
    deadline = time.monotonic() + 10
    while True:
        _, _, body = raw(server, admin, "GET", "/compute/v2.1/servers/detail?deleted=true")
        if booted.id in [s["id"] for s in body["servers"]] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert next(s for s in body["servers"] if s["id"] == booted.id)["status"] == "DELETED"
    conn.block_storage.delete_volume(volume)


def test_inventory_groups_of_the_cloud_instances(server):
    request = urllib.request.Request(f"{server.url}/cmdb/ansible/inventory",
                                     headers={"Authorization": f"Bearer {server.token}"})  # fmt: skip
    inventory = json.loads(urllib.request.urlopen(request, timeout=30).read())
    assert {"sim-os-instance-001", "sim-os-instance-002", "sim-os-instance-003"} <= set(inventory["openstack"]["hosts"])
    assert {"sim-os-instance-001", "sim-os-instance-002"} <= set(inventory["openstack_ubuntu"]["hosts"])
    assert "sim-os-instance-003" in inventory["openstack_rhel"]["hosts"]
    assert "sim-os-instance-003" not in inventory["openstack_ubuntu"]["hosts"]
