"""Keystone's ``/v3/auth`` routes: issue, validate and revoke tokens; the catalog and
the projects a token may scope to."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.sim.model import Project
from dcsim_openstack.auth import Credentials, keystone_of
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.identity.keystone import Keystone
from dcsim_openstack.identity.model import Role, User
from dcsim_openstack.identity.render import catalog, project_body, token_body
from dcsim_openstack.identity.tokens import TokenRecord
from dcsim_openstack.service import base_url, read_json


def _answer(keystone: Keystone, token: str, record: TokenRecord, request: Request[Any, Any, Any], status: int) -> Response[Any]:  # fmt: skip
    world = keystone.world
    project = world.find(Project, record.project_id) if record.project_id else None
    roles = [r for r in (world.find(Role, i) for i in record.roles) if r is not None]
    body = token_body(record, world.get(User, record.user_id), project, roles, base_url(request))
    if "nocatalog" in request.query_params and "catalog" in body["token"]:
        body["token"]["catalog"] = []
    return Response(body, status_code=status, headers={"X-Subject-Token": token})


@post("/auth/tokens", status_code=HTTP_201_CREATED)
async def issue_token(request: Request[Any, Any, Any]) -> Response[Any]:
    """Authenticate (password, token or application credential) and issue a token."""
    body = await read_json(request)
    if not isinstance(body, dict) or "auth" not in body:
        raise OpenStackError(400, "Expecting to find auth in request body.")
    keystone = keystone_of(request)
    token, record = await keystone.authenticate(body["auth"])
    return _answer(keystone, token, record, request, HTTP_201_CREATED)


async def _subject(request: Request[Any, Any, Any]) -> tuple[Keystone, str, TokenRecord]:
    subject = request.headers.get("x-subject-token", "").strip()
    if not subject:
        raise OpenStackError(400, "X-Subject-Token is missing.")
    keystone = keystone_of(request)
    record = await keystone.record(subject)
    if record is None:
        raise OpenStackError(404, f"Could not find token: {subject[:8]}...")
    return keystone, subject, record


@get("/auth/tokens")
async def validate_token(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> Response[Any]:
    """Validate ``X-Subject-Token`` (HEAD: the status only)."""
    keystone, subject, record = await _subject(request)
    return _answer(keystone, subject, record, request, 200)


@delete("/auth/tokens", status_code=HTTP_204_NO_CONTENT)
async def revoke_token(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> None:
    """Revoke ``X-Subject-Token``: a user revokes their own tokens, an admin any."""
    keystone, subject, record = await _subject(request)
    if record.user_id != creds.user_id and not creds.is_admin:
        raise OpenStackError(403, "You are not authorized to revoke another user's token.")
    await keystone.tokens.revoke(subject)


@get("/auth/catalog")
async def auth_catalog(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """The catalog a scoped token sees."""
    if creds.project_id is None:
        raise OpenStackError(403, "A catalog needs a project-scoped token.")
    return {"catalog": catalog(base_url(request)), "links": {"self": f"{base_url(request)}/identity/v3/auth/catalog"}}


@get("/auth/projects")
async def auth_projects(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """The projects the token's user holds a role on."""
    keystone = keystone_of(request)
    projects = [p for p in keystone.world.all(Project) if keystone.role_ids(creds.user_id, p.id)]
    base = base_url(request)
    return {"projects": [project_body(p, base) for p in projects],
            "links": {"self": f"{base}/identity/v3/auth/projects", "next": None, "previous": None}}  # fmt: skip


HANDLERS = [issue_token, validate_token, revoke_token, auth_catalog, auth_projects]

__all__ = ["HANDLERS"]
