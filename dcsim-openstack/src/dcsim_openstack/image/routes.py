"""Glance's ``/v2`` routes: images (list with filters and paging, show, create, JSON-patch
update, delete), their data (upload, download), tags and the image schemas."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim_openstack.auth import Credentials
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.image.glance import CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES, Glance
from dcsim_openstack.image.render import image_body
from dcsim_openstack.service import read_json

#: Filters ``GET /v2/images`` takes, each an attribute of the image's JSON.
FILTERS = ("name", "status", "visibility", "owner", "disk_format", "container_format", "id", "os_distro")
MAX_LIMIT = 1000


def _glance(request: Request[Any, Any, Any]) -> Glance:
    return Glance(request.app.state.dcsim)


@get("/images")
async def list_images(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Images the caller sees, filtered by attribute and ``tag`` (each one given), paged
    with ``limit`` and ``marker``, sorted with ``sort_key`` / ``sort_dir``."""
    query = request.query_params
    items = [image_body(i, m) for i, m in _glance(request).images(creds)]
    if "visibility" not in query:
        # Glance leaves community images out unless asked for them.
        items = [i for i in items if i["visibility"] != "community" or i["owner"] == creds.project_id]
    for key in FILTERS:
        if key in query:
            items = [i for i in items if str(i.get(key)) == query[key]]
    for tag in query.getall("tag", []):
        items = [i for i in items if tag in i["tags"]]
    sort_key, sort_dir = query.get("sort_key", "created_at"), query.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        raise OpenStackError(400, f"Invalid sort direction: {sort_dir}")
    items.sort(key=lambda i: (str(i.get(sort_key) or ""), i["id"]), reverse=sort_dir == "desc")
    if "marker" in query:
        ids = [i["id"] for i in items]
        if query["marker"] not in ids:
            raise OpenStackError(400, f"Invalid marker: no image with id {query['marker']}.")
        items = items[ids.index(query["marker"]) + 1 :]
    try:
        limit = min(int(query.get("limit", MAX_LIMIT)), MAX_LIMIT)
    except ValueError:
        raise OpenStackError(400, "limit must be a whole number") from None
    if limit < 0:
        raise OpenStackError(400, "limit must be a whole number")
    page, more = items[:limit], len(items) > limit
    answer: dict[str, Any] = {"images": page, "first": "/v2/images", "schema": "/v2/schemas/images"}
    if more and page:
        params = {k: v for k, v in query.items() if k != "marker"} | {"marker": page[-1]["id"]}
        answer["next"] = f"/v2/images?{urlencode(params)}"
    return answer


@get("/images/{image_id:str}")
async def show_image(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str]
) -> dict[str, Any]:
    """One image."""
    return image_body(*_glance(request).get(creds, image_id))


@post("/images", status_code=HTTP_201_CREATED)
async def create_image(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Create a queued image (its data comes with ``PUT .../file``)."""
    image, meta = await _glance(request).create(creds, await read_json(request))
    return image_body(image, meta)


@patch("/images/{image_id:str}")
async def update_image(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str]
) -> dict[str, Any]:
    """Change an image with JSON-patch operations."""
    image, meta = await _glance(request).update(creds, image_id, await read_json(request))
    return image_body(image, meta)


@delete("/images/{image_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_image(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str]
) -> None:
    """Delete an image and its data."""
    await _glance(request).delete(creds, image_id)


@put("/images/{image_id:str}/file", status_code=HTTP_204_NO_CONTENT)
async def upload_image(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str]
) -> None:
    """Upload an image's data (``application/octet-stream``)."""
    content_type = request.headers.get("content-type", "application/octet-stream")
    if not content_type.startswith("application/octet-stream"):
        raise OpenStackError(415, f"Unsupported Content-Type {content_type}: send application/octet-stream.")
    await _glance(request).upload(creds, image_id, await request.body())


@get("/images/{image_id:str}/file")
async def download_image(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str]
) -> Response[bytes]:
    """An image's data, with its MD5 in ``Content-MD5``; 204 when it has none."""
    meta, data = await _glance(request).download(creds, image_id)
    if data is None:
        return Response(b"", status_code=HTTP_204_NO_CONTENT)
    return Response(data, media_type="application/octet-stream", headers={"Content-MD5": meta.checksum or ""})


@put("/images/{image_id:str}/tags/{tag:str}", status_code=HTTP_204_NO_CONTENT)
async def add_tag(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str], tag: FromPath[str]
) -> None:
    """Tag an image."""
    await _glance(request).tag(creds, image_id, tag, add=True)


@delete("/images/{image_id:str}/tags/{tag:str}", status_code=HTTP_204_NO_CONTENT)
async def remove_tag(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], image_id: FromPath[str], tag: FromPath[str]
) -> None:
    """Remove a tag from an image."""
    await _glance(request).tag(creds, image_id, tag, add=False)


def image_schema() -> dict[str, Any]:
    """The JSON schema of an image (what Glance's ``/v2/schemas/image`` describes)."""
    nullable_string = {"type": ["null", "string"]}
    return {
        "name": "image",
        "additionalProperties": {"type": "string"},
        "properties": {
            "id": {"type": "string"}, "name": {"type": ["null", "string"], "maxLength": 255},
            "status": {"type": "string", "readOnly": True,
                       "enum": ["queued", "saving", "active", "killed", "deleted", "pending_delete", "deactivated"]},
            "visibility": {"type": "string", "enum": list(VISIBILITIES)},
            "protected": {"type": "boolean"}, "os_hidden": {"type": "boolean"},
            "checksum": nullable_string, "os_hash_algo": nullable_string, "os_hash_value": nullable_string,
            "owner": nullable_string, "size": {"type": ["null", "integer"]},
            "virtual_size": {"type": ["null", "integer"]},
            "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS]},
            "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS]},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "min_ram": {"type": "integer"}, "min_disk": {"type": "integer"},
            "self": {"type": "string"}, "file": {"type": "string"}, "schema": {"type": "string"},
        },
        "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }  # fmt: skip


@get("/schemas/image")
async def show_image_schema(creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """The schema of an image."""
    return image_schema()


@get("/schemas/images")
async def show_images_schema(creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """The schema of the image list."""
    return {
        "name": "images",
        "properties": {"images": {"type": "array", "items": image_schema()}, "schema": {"type": "string"},
                       "first": {"type": "string"}, "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }  # fmt: skip


HANDLERS = [
    list_images, show_image, create_image, update_image, delete_image, upload_image, download_image,
    add_tag, remove_tag, show_image_schema, show_images_schema,
]  # fmt: skip

__all__ = ["HANDLERS"]
