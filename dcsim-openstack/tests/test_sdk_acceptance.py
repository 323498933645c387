"""Acceptance 1 as one user's session with openstacksdk over a real ``dcsim serve``:
token and catalog; the seed's servers, flavors and images; a keypair, network, subnet,
router with an interface, security group with a rule; a server booted to ACTIVE with an
address from the subnet; stop, start, reboot; a volume created, attached, detached,
deleted; an image uploaded and downloaded; everything deleted again; a missing server is
a 404 in Nova's format; the reader role gets 403 on create."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import openstack
import openstack.connection
import openstack.exceptions
import pytest

from dcsim.testing import ServerProcess, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed and the virtual node backend, for the module."""
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    with run_server(tmp_path_factory.mktemp("acceptance") / "server") as running:
        yield running


def connect(server: ServerProcess, user: str = "demo") -> openstack.connection.Connection:
    """An openstacksdk connection as a seed user, scoped to project demo."""
    return openstack.connect(
        auth_url=f"{server.url}/identity", username=user, password="password", project_name="demo",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip


def test_a_whole_session(server: ServerProcess, tmp_path: Path) -> None:
    conn = connect(server)
    # Token and catalog.
    assert conn.auth_token
    assert conn.session.get_endpoint(service_type="compute", interface="public") == f"{server.url}/compute/v2.1"
    # The seed.
    assert {"instance-001", "instance-002", "instance-003"} <= {s.name for s in conn.compute.servers()}
    assert "m1.small" in {f.name for f in conn.compute.flavors()}
    assert {"ubuntu-22.04", "rhel-9"} <= {i.name for i in conn.image.images()}
    # What a server needs.
    keypair = conn.compute.create_keypair(name="acceptance-key")
    assert keypair.private_key and keypair.public_key.startswith("ssh-")
    network = conn.network.create_network(name="acceptance-net")
    subnet = conn.network.create_subnet(name="acceptance-subnet", network_id=network.id, ip_version=4,
                                        cidr="10.42.0.0/24")  # fmt: skip
    router = conn.network.create_router(name="acceptance-router")
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert any(p.device_id == router.id for p in conn.network.ports(network_id=network.id))
    group = conn.network.create_security_group(name="acceptance-sg")
    rule = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress", protocol="tcp",
                                                   port_range_min=22, port_range_max=22, ethertype="IPv4")  # fmt: skip
    assert rule.port_range_min == 22
    # Boot to ACTIVE with an address from the subnet.
    flavor, image = conn.compute.find_flavor("m1.tiny"), conn.image.find_image("ubuntu-22.04")
    booted = conn.compute.create_server(name="acceptance-server", flavor_id=flavor.id, image_id=image.id,
                                        networks=[{"uuid": network.id}], key_name=keypair.name,
                                        security_groups=[{"name": group.name}])  # fmt: skip
    booted = conn.compute.wait_for_server(booted, status="ACTIVE", wait=120)
    [address] = [a["addr"] for a in booted.addresses["acceptance-net"]]
    assert ipaddress.ip_address(address) in ipaddress.ip_network("10.42.0.0/24")
    # Power.
    conn.compute.stop_server(booted)
    conn.compute.wait_for_server(booted, status="SHUTOFF", wait=60)
    conn.compute.start_server(booted)
    conn.compute.wait_for_server(booted, status="ACTIVE", wait=60)
    conn.compute.reboot_server(booted, "SOFT")
    conn.compute.wait_for_server(booted, status="ACTIVE", wait=60)
    # A volume, attached and detached through Nova.
    volume = conn.block_storage.create_volume(name="acceptance-volume", size=1)
    conn.block_storage.wait_for_status(volume, status="available", wait=60)
    conn.compute.create_volume_attachment(booted, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, status="in-use", wait=60)
    conn.compute.delete_volume_attachment(booted, volume.id)
    conn.block_storage.wait_for_status(volume, status="available", wait=60)
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, wait=60)
    # An image, uploaded and downloaded.
    data = os.urandom(32 * 1024)
    (tmp_path / "disk.raw").write_bytes(data)
    uploaded = conn.create_image("acceptance-image", filename=str(tmp_path / "disk.raw"), disk_format="raw",
                                 container_format="bare", wait=True)  # fmt: skip
    assert conn.image.download_image(uploaded).content == data
    # Everything deleted again.
    conn.compute.delete_server(booted)
    conn.compute.wait_for_delete(booted, wait=120)
    conn.image.delete_image(uploaded)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_security_group(group)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(network)
    conn.compute.delete_keypair(keypair)
    assert conn.compute.find_server("acceptance-server") is None
    assert conn.network.find_network("acceptance-net") is None
    assert conn.image.find_image("acceptance-image") is None
    assert conn.compute.find_keypair("acceptance-key") is None


def test_a_missing_server_is_a_404_in_novas_format(server: ServerProcess) -> None:
    conn = connect(server)
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.compute.get_server("00000000-0000-0000-0000-000000000000")
    answer = conn.session.get(f"{server.url}/compute/v2.1/servers/00000000-0000-0000-0000-000000000000",
                              raise_exc=False)  # fmt: skip
    assert answer.status_code == 404 and answer.json()["itemNotFound"]["code"] == 404


def test_the_reader_gets_403_on_create(server: ServerProcess) -> None:
    reader = connect(server, "reader")
    assert {s.name for s in reader.compute.servers()} >= {"instance-001"}
    for create in (
        lambda: reader.network.create_network(name="reader-net"),
        lambda: reader.compute.create_keypair(name="reader-key"),
        lambda: reader.block_storage.create_volume(name="reader-volume", size=1),
        lambda: reader.image.create_image(name="reader-image", disk_format="raw", container_format="bare"),
    ):
        with pytest.raises(openstack.exceptions.ForbiddenException):
            create()
