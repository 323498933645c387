"""The ``/cmdb`` REST API: CIs, relationships, impact, history, sync, Ansible inventory."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import attrs
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.app import DcSim
from dcsim.cmdb.backend import CiQuery
from dcsim.cmdb.model import Ci, CiStatus, Relationship
from dcsim.cmdb.service import Cmdb
from dcsim.convert import from_json, to_json
from dcsim.errors import InvalidInput
from dcsim.model import Token
from dcsim.web.etag import ETAG_HEADERS, IfMatch, tagged
from dcsim.web.paging import check_page

#: The page size of a JSON listing without ``limit``.
DEFAULT_PAGE = 100
#: The CSV export without ``limit``: every matching CI.
EXPORT_ALL = 2**31
CSV_COLUMNS = ("id", "type", "name", "status", "source", "env", "os", "platform", "role", "owner", "tier", "attributes")


@attrs.frozen(kw_only=True)
class CiRequest:
    """Body of ``POST /cmdb/cis``."""

    type: str
    name: str
    attributes: dict[str, Any] = attrs.field(factory=dict)
    tags: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class CiPatch:
    """Body of ``PATCH /cmdb/cis/{id}``: only the fields given change."""

    name: str | None = None
    attributes: dict[str, Any] | None = None
    tags: dict[str, str] | None = None
    status: CiStatus | None = None


@attrs.frozen(kw_only=True)
class RelationshipRequest:
    """Body of ``POST /cmdb/relationships``."""

    type: str
    source_id: str
    target_id: str


def _cmdb(dcsim: DcSim) -> Cmdb:
    return dcsim.services.get(Cmdb)


def _actor(request: Request[Any, Any, Any]) -> str:
    token: Token = request.scope["state"]["token"]
    return f"token:{token.name}"


class CmdbController(Controller):
    """Configuration items and what hangs off them."""

    path = "/cmdb"
    tags = ["cmdb"]

    @get("/cis", summary="CIs, filtered and paginated; format=csv exports them")
    async def list_cis(
        self,
        dcsim: NamedDependency[DcSim],
        type: FromQuery[str | None] = None,
        platform: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        offset: FromQuery[int] = 0,
        format: FromQuery[str] = "json",
    ) -> Response[Any]:
        if format not in {"json", "csv"}:
            raise InvalidInput("format must be json or csv")
        # A given limit is checked in both formats; without one JSON pages by 100 and
        # the CSV export holds every match from the offset on.
        check_page(DEFAULT_PAGE if limit is None else limit, offset)
        query = CiQuery(type=type, platform=platform, tag=tag, q=q, status=status, offset=offset)
        if format == "csv":
            total, cis = await _cmdb(dcsim).backend.list_cis(attrs.evolve(query, limit=limit or EXPORT_ALL))
            headers = {"Content-Disposition": "attachment; filename=cis.csv", "X-Total-Count": str(total)}
            return Response(_csv(cis), media_type="text/csv", headers=headers)
        total, cis = await _cmdb(dcsim).backend.list_cis(attrs.evolve(query, limit=limit or DEFAULT_PAGE))
        return Response({"total": total, "limit": limit or DEFAULT_PAGE, "offset": offset, "items": to_json(cis)})

    @post("/cis", status_code=HTTP_201_CREATED, summary="Create a CI by hand", response_headers=ETAG_HEADERS)
    async def create_ci(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> Response[Any]:
        body = from_json(data, CiRequest)
        ci = Ci(type=body.type, name=body.name, attributes=body.attributes, tags=body.tags)
        return tagged(await _cmdb(dcsim).create_ci(ci, _actor(request)))

    @get("/cis/{ci_id:str}", summary="One CI, with its ETag", response_headers=ETAG_HEADERS)
    async def get_ci(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> Response[Any]:
        return tagged(await _cmdb(dcsim).backend.get_ci(ci_id))

    @patch(
        "/cis/{ci_id:str}",
        summary="Change a CI's name, attributes, tags or status (If-Match: a stale ETag is a 412)",
        response_headers=ETAG_HEADERS,
    )
    async def patch_ci(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        ci_id: FromPath[str],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        body = from_json(data, CiPatch)
        changes = {k: v for k, v in attrs.asdict(body, recurse=False).items() if v is not None}
        if not changes:
            raise InvalidInput("give name, attributes, tags or status")
        return tagged(await _cmdb(dcsim).update_ci(ci_id, changes, _actor(request), if_match))

    @delete(
        "/cis/{ci_id:str}",
        status_code=HTTP_200_OK,
        summary="Decommission a CI (its record and history stay; If-Match: a stale ETag is a 412)",
        response_headers=ETAG_HEADERS,
    )
    async def decommission_ci(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        ci_id: FromPath[str],
        if_match: IfMatch = None,
    ) -> Response[Any]:
        changes = {"status": CiStatus.DECOMMISSIONED}
        return tagged(await _cmdb(dcsim).update_ci(ci_id, changes, _actor(request), if_match))

    @get("/cis/{ci_id:str}/relationships", summary="Relationships of a CI, both directions")
    async def ci_relationships(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> list[dict[str, Any]]:
        cmdb = _cmdb(dcsim)
        await cmdb.backend.get_ci(ci_id)
        return to_json(await cmdb.backend.relationships(ci_id))  # type: ignore[no-any-return]

    @get("/cis/{ci_id:str}/impact", summary="Upstream and downstream CIs, depth-limited")
    async def impact(
        self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str], depth: FromQuery[int] = 3
    ) -> dict[str, Any]:
        return await _cmdb(dcsim).impact(ci_id, depth)

    @get("/cis/{ci_id:str}/history", summary="Who changed what and when")
    async def history(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> list[dict[str, Any]]:
        return to_json(await _cmdb(dcsim).backend.history(ci_id))  # type: ignore[no-any-return]

    @post("/relationships", status_code=HTTP_201_CREATED, summary="Relate two CIs")
    async def add_relationship(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        body = from_json(data, RelationshipRequest)
        relationship = Relationship(type=body.type, source_id=body.source_id, target_id=body.target_id)
        return to_json(await _cmdb(dcsim).add_relationship(relationship, _actor(request)))  # type: ignore[no-any-return]

    @delete("/relationships/{relationship_id:str}", status_code=HTTP_204_NO_CONTENT, summary="Remove a relationship")
    async def remove_relationship(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], relationship_id: FromPath[str]
    ) -> None:
        await _cmdb(dcsim).backend.remove_relationship(relationship_id, _actor(request))

    @post("/sync", status_code=HTTP_200_OK, summary="Reconcile the whole CMDB with the simulation now")
    async def sync(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        run = await _cmdb(dcsim).sync("manual")
        return {**to_json(run), "changes": run.changes}

    @get("/sync/status", summary="The last sync runs, their counts and errors")
    async def sync_status(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        cmdb = _cmdb(dcsim)
        return {
            "backend": cmdb.backend.name,
            "resync_pending": cmdb.resync_pending,
            "last_run": to_json(cmdb.last_run),
            "last_full_run": to_json(cmdb.last_full_run),
        }

    @get("/ansible/inventory", summary="Ansible dynamic-inventory JSON")
    async def inventory(self, dcsim: NamedDependency[DcSim]) -> dict[str, Any]:
        return await _cmdb(dcsim).inventory()


def _csv(cis: list[Ci]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for ci in cis:
        tags = [ci.tags.get(key, "") for key in ("env", "os", "platform", "role", "owner", "tier")]
        writer.writerow(
            [ci.id, ci.type, ci.name, ci.status.value, ci.source, *tags, json.dumps(ci.attributes, sort_keys=True)]
        )
    return buffer.getvalue()


HANDLERS = (CmdbController,)
