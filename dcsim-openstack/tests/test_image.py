"""Glance v2 over HTTP: the seed's images, filters and paging, create, JSON-patch,
upload and download, tags, delete, visibility, and the reader refused."""

from __future__ import annotations

import hashlib

from dcsim.sim.model import Image

V2 = "/image/v2"
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


def test_seed_images_and_filters(os_client, keystone_token):
    headers = {"X-Auth-Token": keystone_token("demo")}
    images = os_client.get(f"{V2}/images", headers=headers).json()
    by_name = {i["name"]: i for i in images["images"]}
    assert {"ubuntu-22.04", "rhel-9"} <= set(by_name)
    assert by_name["rhel-9"]["status"] == "active" and by_name["rhel-9"]["visibility"] == "public"
    assert by_name["rhel-9"]["os_distro"] == "rhel" and by_name["ubuntu-22.04"]["os_distro"] == "ubuntu"
    [only] = os_client.get(f"{V2}/images?name=rhel-9", headers=headers).json()["images"]
    assert only["id"] == by_name["rhel-9"]["id"]
    assert os_client.get(f"{V2}/images/{only['id']}", headers=headers).json()["name"] == "rhel-9"
    first = os_client.get(f"{V2}/images?limit=1&sort_key=name&sort_dir=asc", headers=headers).json()
    assert len(first["images"]) == 1 and first["next"].startswith("/v2/images?")
    rest = os_client.get("/image" + first["next"], headers=headers).json()
    assert first["images"][0]["id"] not in [i["id"] for i in rest["images"]]
    missing = os_client.get(f"{V2}/images/00000000-0000-0000-0000-000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == "404 Not Found"


def test_create_upload_download_tag_delete(os_client, keystone_token):
    headers = {"X-Auth-Token": keystone_token("demo")}
    created = os_client.post(f"{V2}/images", headers=headers, json={
        "name": "cirros-small", "disk_format": "qcow2", "container_format": "bare", "tags": ["test"],
        "os_distro": "ubuntu"})  # fmt: skip
    assert created.status_code == 201
    image = created.json()
    assert (image["status"], image["visibility"], image["tags"]) == ("queued", "shared", ["test"])
    assert os_client.get(f"{V2}/images/{image['id']}/file", headers=headers).status_code == 204
    data = bytes(range(256)) * 256
    upload = os_client.put(f"{V2}/images/{image['id']}/file", content=data,
                           headers=headers | {"Content-Type": "application/octet-stream"})  # fmt: skip
    assert upload.status_code == 204
    shown = os_client.get(f"{V2}/images/{image['id']}", headers=headers).json()
    assert (shown["status"], shown["size"]) == ("active", len(data))
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    download = os_client.get(f"{V2}/images/{image['id']}/file", headers=headers)
    assert download.content == data and download.headers["Content-MD5"] == shown["checksum"]
    assert os_client.put(f"{V2}/images/{image['id']}/file", content=data, headers=headers | {
        "Content-Type": "application/octet-stream"}).status_code == 409  # fmt: skip
    # Nova boots what Glance made: it is core's image too.
    assert os_client.sim.sim.world.find(Image, "cirros-small") is not None
    patched = os_client.patch(f"{V2}/images/{image['id']}", headers=headers | PATCH, json=[
        {"op": "replace", "path": "/name", "value": "cirros-renamed"},
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"}])  # fmt: skip
    assert patched.status_code == 200
    assert (patched.json()["name"], patched.json()["hw_disk_bus"]) == ("cirros-renamed", "virtio")
    assert os_client.put(f"{V2}/images/{image['id']}/tags/gold", headers=headers).status_code == 204
    tagged = os_client.get(f"{V2}/images?tag=gold", headers=headers).json()["images"]
    assert [i["id"] for i in tagged] == [image["id"]]
    assert os_client.delete(f"{V2}/images/{image['id']}/tags/gold", headers=headers).status_code == 204
    assert os_client.get(f"{V2}/images?tag=gold", headers=headers).json()["images"] == []
    readonly = os_client.patch(f"{V2}/images/{image['id']}", headers=headers | PATCH,
                               json=[{"op": "replace", "path": "/status", "value": "active"}])  # fmt: skip
    assert readonly.status_code == 403
    assert os_client.delete(f"{V2}/images/{image['id']}", headers=headers).status_code == 204
    assert os_client.get(f"{V2}/images/{image['id']}", headers=headers).status_code == 404
    assert not (os_client.sim.settings.data_dir / "openstack" / "images" / image["id"]).exists()


def test_private_images_and_the_reader(os_client, keystone_token):
    admin = {"X-Auth-Token": keystone_token("admin")}
    reader = {"X-Auth-Token": keystone_token("reader")}
    refused = os_client.post(f"{V2}/images", headers=reader, json={"name": "nope"})
    assert refused.status_code == 403 and refused.json()["code"] == "403 Forbidden"
    rhel = os_client.get(f"{V2}/images?name=rhel-9", headers=reader).json()["images"][0]
    assert os_client.delete(f"{V2}/images/{rhel['id']}", headers=reader).status_code == 403
    private = os_client.post(f"{V2}/images", headers=admin, json={"name": "secret", "visibility": "private"}).json()
    # Same project: the reader sees it; a project of its own would not.
    assert os_client.get(f"{V2}/images/{private['id']}", headers=reader).status_code == 200
    bad = os_client.post(f"{V2}/images", headers=admin, json={"name": "x", "disk_format": "floppy"})
    assert bad.status_code == 400
