"""The ``/cmdb`` REST API: CIs, relationships, impact, history, sync, Ansible inventory.

Bodies are the strict models of :mod:`dcsim.cmdb.schemas` (SPEC-010); a single CI
carries an ``ETag`` and its writes take ``If-Match`` (SPEC-007).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import attrs
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.app import DcSim
from dcsim.cmdb.backend import CiQuery
from dcsim.cmdb.model import Ci, CiStatus, HistoryEntry, Relationship
from dcsim.cmdb.schemas import CiChange, CiCreate, ImpactAnswer, RelationshipCreate, SyncAnswer, SyncStatus
from dcsim.cmdb.service import Cmdb, SyncRun
from dcsim.convert import to_json
from dcsim.errors import InvalidInput
from dcsim.model import Token
from dcsim.web.contracts import MAX_PAGE, OffsetQuery, Page, responses
from dcsim.web.etag import ETAG_HEADERS, IfMatch, tagged
from dcsim.web.idempotency import IdempotentOperation, idempotent

#: The page size of a JSON listing without ``limit``.
DEFAULT_PAGE = 100
#: The CSV export without ``limit``: every matching CI.
EXPORT_ALL = 2**31
CSV_COLUMNS = ("id", "type", "name", "status", "source", "env", "os", "platform", "role", "owner", "tier", "attributes")

#: ``?limit=``: optional here, since the CSV export without it holds every match.
CiLimit = Annotated[
    int | None,
    QueryParameter(
        ge=1, le=MAX_PAGE, description=f"Page size, 1..{MAX_PAGE}; without it JSON pages by 100, CSV exports all"
    ),
]
Filter = Annotated[str | None, QueryParameter(max_length=200)]


@dataclass
class _ListOrExport(Operation):
    """The listing's operation: its 200 is JSON, or CSV with ``format=csv``."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            csv_body = Schema(type=OpenAPIType.STRING, description=f"format=csv: columns {', '.join(CSV_COLUMNS)}")
            ok.content["text/csv"] = OpenAPIMediaType(schema=csv_body)


def _cmdb(dcsim: DcSim) -> Cmdb:
    return dcsim.services.get(Cmdb)


def _actor(request: Request[Any, Any, Any]) -> str:
    token: Token = request.scope["state"]["token"]
    return f"token:{token.name}"


def _run_answer(run: SyncRun) -> SyncAnswer:
    return msgspec.convert({**to_json(run), "changes": run.changes}, SyncAnswer)


def _sync_answer(run: SyncRun | None) -> SyncAnswer | None:
    return None if run is None else _run_answer(run)


class CmdbController(Controller):
    """Configuration items and what hangs off them."""

    path = "/cmdb"
    tags = ["cmdb"]

    @get(
        "/cis",
        summary="CIs, filtered and paginated; format=csv exports them (text/csv, X-Total-Count)",
        responses=responses(),
        operation_class=_ListOrExport,
    )
    async def list_cis(
        self,
        dcsim: NamedDependency[DcSim],
        type: Filter = None,
        platform: Filter = None,
        tag: Annotated[str | None, QueryParameter(max_length=400, description="key=value of one tag")] = None,
        q: Annotated[str | None, QueryParameter(max_length=200, description="Text in the name")] = None,
        status: FromQuery[Literal["active", "decommissioned", "all"] | None] = None,
        limit: CiLimit = None,
        offset: OffsetQuery = 0,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[Page[Ci]]:
        query = CiQuery(type=type, platform=platform, tag=tag, q=q, status=status, offset=offset)
        if format == "csv":
            total, cis = await _cmdb(dcsim).backend.list_cis(attrs.evolve(query, limit=limit or EXPORT_ALL))
            headers = {"Content-Disposition": "attachment; filename=cis.csv", "X-Total-Count": str(total)}
            return Response(_csv(cis), media_type="text/csv", headers=headers)  # type: ignore[arg-type]
        size = limit or DEFAULT_PAGE
        total, cis = await _cmdb(dcsim).backend.list_cis(attrs.evolve(query, limit=size))
        return Response(Page(items=cis, total=total, limit=size, offset=offset))

    @post(
        "/cis",
        status_code=HTTP_201_CREATED,
        summary="Create a CI by hand",
        response_headers=ETAG_HEADERS,
        responses=responses(409, body=True),
        middleware=[idempotent],
        operation_class=IdempotentOperation,
    )
    async def create_ci(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[CiCreate]
    ) -> Response[Ci]:
        tags: dict[str, str] = {str(key): value for key, value in data.tags.items()}
        ci = Ci(type=data.type, name=data.name, attributes=data.attributes, tags=tags)
        return tagged(await _cmdb(dcsim).create_ci(ci, _actor(request)))

    @get("/cis/{ci_id:str}", summary="One CI, with its ETag", response_headers=ETAG_HEADERS, responses=responses(404))
    async def get_ci(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> Response[Ci]:
        return tagged(await _cmdb(dcsim).backend.get_ci(ci_id))

    @patch(
        "/cis/{ci_id:str}",
        summary="Change a CI's name, attributes, tags or status (If-Match: a stale ETag is a 412)",
        response_headers=ETAG_HEADERS,
        responses=responses(404, 409, 412, body=True),
    )
    async def patch_ci(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        ci_id: FromPath[str],
        data: JSONBody[CiChange],
        if_match: IfMatch = None,
    ) -> Response[Ci]:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
        if not changes:
            raise InvalidInput(
                "give name, attributes, tags or status", errors=[{"field": "", "message": "no field to change"}]
            )
        return tagged(await _cmdb(dcsim).update_ci(ci_id, changes, _actor(request), if_match))

    @delete(
        "/cis/{ci_id:str}",
        status_code=HTTP_200_OK,
        summary="Decommission a CI (its record and history stay; If-Match: a stale ETag is a 412)",
        response_headers=ETAG_HEADERS,
        responses=responses(404, 409, 412),
    )
    async def decommission_ci(
        self,
        dcsim: NamedDependency[DcSim],
        request: Request[Any, Any, Any],
        ci_id: FromPath[str],
        if_match: IfMatch = None,
    ) -> Response[Ci]:
        changes = {"status": CiStatus.DECOMMISSIONED}
        return tagged(await _cmdb(dcsim).update_ci(ci_id, changes, _actor(request), if_match))

    @get(
        "/cis/{ci_id:str}/relationships",
        summary="Relationships of a CI, both directions",
        responses=responses(404),
    )
    async def ci_relationships(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> list[Relationship]:
        cmdb = _cmdb(dcsim)
        await cmdb.backend.get_ci(ci_id)
        return await cmdb.backend.relationships(ci_id)

    @get("/cis/{ci_id:str}/impact", summary="Upstream and downstream CIs, depth-limited", responses=responses(404))
    async def impact(
        self,
        dcsim: NamedDependency[DcSim],
        ci_id: FromPath[str],
        depth: Annotated[int, QueryParameter(ge=1, le=10, description="How many hops, 1..10")] = 3,
    ) -> ImpactAnswer:
        return msgspec.convert(await _cmdb(dcsim).impact(ci_id, depth), ImpactAnswer)

    @get("/cis/{ci_id:str}/history", summary="Who changed what and when", responses=responses(404))
    async def history(self, dcsim: NamedDependency[DcSim], ci_id: FromPath[str]) -> list[HistoryEntry]:
        return await _cmdb(dcsim).backend.history(ci_id)

    @post(
        "/relationships",
        status_code=HTTP_201_CREATED,
        summary="Relate two CIs",
        responses=responses(404, 409, body=True),
    )
    async def add_relationship(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], data: JSONBody[RelationshipCreate]
    ) -> Relationship:
        relationship = Relationship(type=data.type, source_id=data.source_id, target_id=data.target_id)
        return await _cmdb(dcsim).add_relationship(relationship, _actor(request))

    @delete(
        "/relationships/{relationship_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a relationship",
        responses=responses(404),
    )
    async def remove_relationship(
        self, dcsim: NamedDependency[DcSim], request: Request[Any, Any, Any], relationship_id: FromPath[str]
    ) -> None:
        await _cmdb(dcsim).backend.remove_relationship(relationship_id, _actor(request))

    @post(
        "/sync",
        status_code=HTTP_200_OK,
        summary="Reconcile the whole CMDB with the simulation now",
        responses=responses(503),
    )
    async def sync(self, dcsim: NamedDependency[DcSim]) -> SyncAnswer:
        return _run_answer(await _cmdb(dcsim).sync("manual"))

    @get("/sync/status", summary="The last sync runs, their counts and errors", responses=responses())
    async def sync_status(self, dcsim: NamedDependency[DcSim]) -> SyncStatus:
        cmdb = _cmdb(dcsim)
        return SyncStatus(
            backend=cmdb.backend.name,
            resync_pending=cmdb.resync_pending,
            last_run=_sync_answer(cmdb.last_run),
            last_full_run=_sync_answer(cmdb.last_full_run),
        )

    @get("/ansible/inventory", summary="Ansible dynamic-inventory JSON (its own open format)", responses=responses())
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
