"""Glance through openstacksdk over a real ``dcsim serve``: the seed's images, upload and
download of a small image file, tags, delete, a missing image in Glance's format, the
reader refused."""

from __future__ import annotations

import hashlib
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
    """A server on the default seed, for the module."""
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    with run_server(tmp_path_factory.mktemp("glance") / "server") as running:
        yield running


def connect(server: ServerProcess, user: str = "demo") -> openstack.connection.Connection:
    """An openstacksdk connection as a seed user, scoped to project demo."""
    return openstack.connect(
        auth_url=f"{server.url}/identity", username=user, password="password", project_name="demo",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip


def test_seed_images(server):
    conn = connect(server)
    images = {image.name: image for image in conn.image.images()}
    assert {"ubuntu-22.04", "rhel-9"} <= set(images)
    rhel = conn.image.find_image("rhel-9")
    assert (rhel.id, rhel.status, rhel.visibility) == (images["rhel-9"].id, "active", "public")
    assert [i.name for i in conn.image.images(name="ubuntu-22.04")] == ["ubuntu-22.04"]
    # The cloud layer Nova's and the CLI's image lookups go through.
    assert conn.get_image("ubuntu-22.04").id == images["ubuntu-22.04"].id


def test_upload_download_tag_and_delete(server, tmp_path: Path):
    conn = connect(server)
    data = os.urandom(96 * 1024)
    path = tmp_path / "tiny.qcow2"
    path.write_bytes(data)
    image = conn.create_image("tiny", filename=str(path), disk_format="qcow2", container_format="bare", wait=True,
                              tags=["ci"])  # fmt: skip
    assert image.status == "active" and image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert conn.image.download_image(image).content == data
    conn.image.add_tag(image, "gold")
    assert [i.id for i in conn.image.images(tag="gold")] == [image.id]
    assert set(conn.image.get_image(image).tags) == {"ci", "gold"}
    conn.image.remove_tag(image, "gold")
    conn.image.update_image(conn.image.get_image(image), name="tiny-renamed", purpose="ci")
    renamed = conn.image.get_image(image)
    assert (renamed.name, renamed.properties.get("purpose")) == ("tiny-renamed", "ci")
    conn.image.delete_image(image)
    with pytest.raises(openstack.exceptions.NotFoundException) as missing:
        conn.image.get_image(image.id)
    assert missing.value.status_code == 404
    assert conn.image.find_image("tiny-renamed") is None


def test_missing_image_answers_in_glances_format(server):
    conn = connect(server)
    answer = conn.session.get(f"{server.url}/image/v2/images/00000000-0000-0000-0000-000000000000", raise_exc=False)
    assert answer.status_code == 404
    assert answer.json()["code"] == "404 Not Found" and "message" in answer.json()


def test_reader_gets_403_on_create(server, tmp_path: Path):
    reader = connect(server, "reader")
    assert "rhel-9" in {i.name for i in reader.image.images()}
    with pytest.raises(openstack.exceptions.ForbiddenException) as refused:
        reader.image.create_image(name="not-allowed", disk_format="raw", container_format="bare")
    assert refused.value.status_code == 403
