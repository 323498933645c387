"""Cinder through openstacksdk over a real ``dcsim serve``: volumes (create, list, extend,
delete), attach and detach through Nova, snapshots, volume types, microversions."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator

import openstack
import openstack.connection
import openstack.exceptions
import pytest

from dcsim.testing import ServerProcess, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed and the virtual node backend, for the module."""
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    with run_server(tmp_path_factory.mktemp("cinder") / "server") as running:
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


def sim_volume(server: ServerProcess, volume_id: str) -> dict[str, object]:
    """The core volume as ``/sim/state`` shows it."""
    request = urllib.request.Request(f"{server.url}/sim/state", headers={"Authorization": f"Bearer {server.token}"})
    state = json.loads(urllib.request.urlopen(request, timeout=30).read())
    return next(v for v in state["objects"]["volume"] if v["id"] == volume_id)


def test_volume_lifecycle_with_attach_and_detach(conn, server):
    volume = conn.block_storage.create_volume(size=1, name="data", description="scratch")
    volume = conn.block_storage.wait_for_status(volume, status="available", wait=10)
    assert (volume.name, volume.size, volume.volume_type, volume.description) == ("data", 1, "__DEFAULT__", "scratch")
    assert "data" in [v.name for v in conn.block_storage.volumes()]

    conn.block_storage.extend_volume(volume, 2)
    assert conn.block_storage.get_volume(volume.id).size == 2

    instance = next(s for s in conn.compute.servers() if s.name == "instance-002")
    attachment = conn.compute.create_volume_attachment(instance, volume_id=volume.id)
    assert (attachment.volume_id, attachment.device) == (volume.id, "/dev/vdb")
    volume = conn.block_storage.wait_for_status(volume, status="in-use", wait=10)
    [attached] = volume.attachments
    assert (attached["server_id"], attached["device"]) == (instance.id, "/dev/vdb")
    assert sim_volume(server, volume.id)["attached_to"] == instance.id
    assert [a.volume_id for a in conn.compute.volume_attachments(instance)] == [volume.id]
    assert [v.id for v in conn.compute.get_server(instance.id).attached_volumes] == [volume.id]
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.delete_volume(volume)  # attached

    conn.compute.delete_volume_attachment(instance, volume.id)
    volume = conn.block_storage.wait_for_status(volume, status="available", wait=10)
    assert volume.attachments == []
    assert sim_volume(server, volume.id)["attached_to"] is None

    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, wait=10)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.block_storage.get_volume(volume.id)


def test_snapshots_and_volume_from_snapshot(conn):
    volume = conn.block_storage.create_volume(size=3, name="base")
    snapshot = conn.block_storage.create_snapshot(volume_id=volume.id, name="snap-1")
    snapshot = conn.block_storage.wait_for_status(snapshot, status="available", wait=10)
    assert (snapshot.name, snapshot.size, snapshot.volume_id) == ("snap-1", 3, volume.id)
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.delete_volume(volume)  # it has a snapshot
    copy = conn.block_storage.create_volume(snapshot_id=snapshot.id, name="copy")
    assert (copy.size, copy.snapshot_id) == (3, snapshot.id)
    conn.block_storage.delete_volume(copy)
    conn.block_storage.delete_snapshot(snapshot)
    conn.block_storage.wait_for_delete(snapshot, wait=10)
    conn.block_storage.delete_volume(volume)


def test_volume_types(conn, server):
    assert {t.name for t in conn.block_storage.types()} >= {"__DEFAULT__", "ssd"}
    admin = connect(server, "admin")
    fast = admin.block_storage.create_type(name="nvme", extra_specs={"tier": "gold"})
    volume = conn.block_storage.create_volume(size=1, name="fast", volume_type="nvme")
    assert volume.volume_type == "nvme"
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.block_storage.create_type(name="nope")
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.block_storage.create_volume(size=1, volume_type="missing")
    conn.block_storage.delete_volume(volume)
    admin.block_storage.delete_type(fast)
    assert "nvme" not in {t.name for t in conn.block_storage.types()}


def test_errors_reader_and_microversions(conn, server):
    missing = "00000000-0000-0000-0000-000000000000"
    request = urllib.request.Request(f"{server.url}/volume/v3/volumes/{missing}",
                                     headers={"X-Auth-Token": conn.auth_token,
                                              "OpenStack-API-Version": "volume 3.27"})  # fmt: skip
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 404
    assert json.loads(caught.value.read()) == {
        "itemNotFound": {"code": 404, "message": f"Volume {missing} could not be found."}
    }
    ok = urllib.request.Request(f"{server.url}/volume/v3/volumes", headers={"X-Auth-Token": conn.auth_token,
                                                                            "OpenStack-API-Version": "volume 3.27"})  # fmt: skip
    with urllib.request.urlopen(ok, timeout=30) as response:
        assert response.headers["OpenStack-API-Version"] == "volume 3.27"
    reader = connect(server, "reader")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        reader.block_storage.create_volume(size=1, name="nope")
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.create_volume(size=0, name="zero")
