"""Keystone's ``/v3`` resources: domains, projects, users, roles, role assignments and
application credentials. Changes need the admin role (a user manages its own password
and application credentials); reads show a non-admin what is its own."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.sim.model import Project
from dcsim_openstack.auth import Credentials, keystone_of, require_role
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.identity import admin
from dcsim_openstack.identity.keystone import Keystone, new_id
from dcsim_openstack.identity.model import DOMAIN_ID, DOMAIN_NAME, ApplicationCredential, Role, RoleAssignment, User
from dcsim_openstack.identity.render import (
    application_credential_body,
    assignment_body,
    project_body,
    role_body,
    user_body,
)
from dcsim_openstack.service import base_url, read_json


async def _body(request: Request[Any, Any, Any], key: str) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise OpenStackError(400, f"Expecting to find {key} in request body.")
    return dict(body[key])


def _collection(request: Request[Any, Any, Any], key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    name = request.query_params.get("name")
    if name is not None:
        items = [i for i in items if i.get("name") == name]
    return {key: items, "links": {"self": str(request.url), "next": None, "previous": None}}


def _self_or_admin(creds: Credentials, user_id: str) -> None:
    if creds.user_id != user_id:
        require_role(creds, admin=True)


# Domains: the one there is. -------------------------------------------------------------

DOMAIN_BODY = {"id": DOMAIN_ID, "name": DOMAIN_NAME, "description": "The default domain", "enabled": True,
               "tags": [], "options": {}}  # fmt: skip


@get("/domains")
async def list_domains(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """The domains: Default."""
    return _collection(
        request, "domains", [DOMAIN_BODY | {"links": {"self": f"{base_url(request)}/identity/v3/domains/default"}}]
    )


@get("/domains/{domain_id:str}")
async def show_domain(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], domain_id: FromPath[str]
) -> dict[str, Any]:
    """Domain Default, by id or name."""
    if domain_id not in (DOMAIN_ID, DOMAIN_NAME):
        raise OpenStackError(404, f"Could not find domain: {domain_id}.")
    return {"domain": DOMAIN_BODY | {"links": {"self": f"{base_url(request)}/identity/v3/domains/default"}}}


# Projects --------------------------------------------------------------------------------


@get("/projects")
async def list_projects(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Every project (admin) or the caller's."""
    keystone = keystone_of(request)
    projects = keystone.world.all(Project)
    if not creds.is_admin:
        projects = [p for p in projects if keystone.role_ids(creds.user_id, p.id)]
    return _collection(request, "projects", [project_body(p, base_url(request)) for p in projects])


@post("/projects", status_code=HTTP_201_CREATED)
async def create_project(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Create a project (admin)."""
    require_role(creds, admin=True)
    project = await admin.create_project(keystone_of(request), await _body(request, "project"))
    return {"project": project_body(project, base_url(request))}


def _project(keystone: Keystone, creds: Credentials, project_id: str) -> Project:
    project: Project = admin.entity(keystone, Project, project_id, "project")
    if not creds.is_admin and not keystone.role_ids(creds.user_id, project.id):
        raise OpenStackError(403, "You are not authorized to perform the requested action.")
    return project


@get("/projects/{project_id:str}")
async def show_project(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str]
) -> dict[str, Any]:
    """One project."""
    return {"project": project_body(_project(keystone_of(request), creds, project_id), base_url(request))}


@patch("/projects/{project_id:str}")
async def update_project(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str]
) -> dict[str, Any]:
    """Rename a project (admin)."""
    require_role(creds, admin=True)
    keystone = keystone_of(request)
    project = await admin.update_project(
        keystone, _project(keystone, creds, project_id), await _body(request, "project")
    )
    return {"project": project_body(project, base_url(request))}


@delete("/projects/{project_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_project(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str]
) -> None:
    """Delete a project that owns nothing (admin)."""
    require_role(creds, admin=True)
    keystone = keystone_of(request)
    await admin.delete_project(keystone, _project(keystone, creds, project_id))


# Users -----------------------------------------------------------------------------------


@get("/users")
async def list_users(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Every user (admin) or the caller."""
    users = keystone_of(request).world.all(User)
    if not creds.is_admin:
        users = [u for u in users if u.id == creds.user_id]
    return _collection(request, "users", [user_body(u, base_url(request)) for u in users])


@post("/users", status_code=HTTP_201_CREATED)
async def create_user(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Create a user (admin)."""
    require_role(creds, admin=True)
    user = await admin.create_user(keystone_of(request), await _body(request, "user"))
    return {"user": user_body(user, base_url(request))}


@get("/users/{user_id:str}")
async def show_user(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str]
) -> dict[str, Any]:
    """One user (admin, or the caller)."""
    _self_or_admin(creds, user_id)
    return {"user": user_body(admin.entity(keystone_of(request), User, user_id, "user"), base_url(request))}


@patch("/users/{user_id:str}")
async def update_user(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str]
) -> dict[str, Any]:
    """Change a user (admin)."""
    require_role(creds, admin=True)
    keystone = keystone_of(request)
    user = admin.entity(keystone, User, user_id, "user")
    user = await admin.update_user(keystone, user, await _body(request, "user"))
    return {"user": user_body(user, base_url(request))}


@post("/users/{user_id:str}/password", status_code=HTTP_204_NO_CONTENT)
async def change_password(request: Request[Any, Any, Any], user_id: FromPath[str]) -> None:
    """A user changes its own password, giving the old one (no token needed, as Keystone)."""
    keystone = keystone_of(request)
    body = await _body(request, "user")
    user = admin.entity(keystone, User, user_id, "user")
    original, password = body.get("original_password"), body.get("password")
    if not isinstance(original, str) or not isinstance(password, str) or not password:
        raise OpenStackError(400, "Expecting original_password and password.")
    await keystone.authenticate(
        {"identity": {"methods": ["password"], "password": {"user": {"id": user.id, "password": original}}},
         "scope": "unscoped"}
    )  # fmt: skip
    await keystone.set_password(user.id, password)
    await keystone.tokens.revoke_where(user_id=user.id)


@delete("/users/{user_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_user(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str]
) -> None:
    """Delete a user with its assignments, secrets and tokens (admin)."""
    require_role(creds, admin=True)
    keystone = keystone_of(request)
    await admin.delete_user(keystone, admin.entity(keystone, User, user_id, "user"))


@get("/users/{user_id:str}/projects")
async def user_projects(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str]
) -> dict[str, Any]:
    """The projects a user holds a role on (admin, or the caller)."""
    _self_or_admin(creds, user_id)
    keystone = keystone_of(request)
    projects = [p for p in keystone.world.all(Project) if keystone.role_ids(user_id, p.id)]
    return _collection(request, "projects", [project_body(p, base_url(request)) for p in projects])


# Roles and assignments ---------------------------------------------------------------------


@get("/roles")
async def list_roles(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Every role."""
    roles = keystone_of(request).world.all(Role)
    return _collection(request, "roles", [role_body(r, base_url(request)) for r in roles])


@post("/roles", status_code=HTTP_201_CREATED)
async def create_role(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Create a role (admin)."""
    require_role(creds, admin=True)
    role = await admin.create_role(keystone_of(request), await _body(request, "role"))
    return {"role": role_body(role, base_url(request))}


@get("/roles/{role_id:str}")
async def show_role(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], role_id: FromPath[str]
) -> dict[str, Any]:
    """One role."""
    return {"role": role_body(admin.entity(keystone_of(request), Role, role_id, "role"), base_url(request))}


@delete("/roles/{role_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_role(
    request: Request[Any, Any, Any], creds: NamedDependency[Credentials], role_id: FromPath[str]
) -> None:
    """Delete a role and its assignments (admin)."""
    require_role(creds, admin=True)
    keystone = keystone_of(request)
    await admin.delete_role(keystone, admin.entity(keystone, Role, role_id, "role"))


@get("/role_assignments")
async def list_role_assignments(request: Request[Any, Any, Any], creds: NamedDependency[Credentials]) -> dict[str, Any]:
    """Role assignments, filtered by ``user.id``, ``scope.project.id`` and ``role.id``
    (a non-admin sees its own); ``include_names`` adds names."""
    keystone, query = keystone_of(request), request.query_params
    found = keystone.world.all(RoleAssignment)
    for param, attribute in (("user.id", "user_id"), ("scope.project.id", "project_id"), ("role.id", "role_id")):
        if param in query:
            found = [a for a in found if getattr(a, attribute) == query[param]]
    if not creds.is_admin:
        found = [a for a in found if a.user_id == creds.user_id]
    items = [assignment_body(a, base_url(request)) for a in found]
    if "include_names" in query and query["include_names"].lower() not in ("0", "false"):
        world = keystone.world
        for item, a in zip(items, found, strict=True):
            item["role"]["name"] = world.get(Role, a.role_id).name
            item["user"] |= {"name": world.get(User, a.user_id).name, "domain": {"id": DOMAIN_ID, "name": DOMAIN_NAME}}
            item["scope"]["project"] |= {"name": world.get(Project, a.project_id).name,
                                         "domain": {"id": DOMAIN_ID, "name": DOMAIN_NAME}}  # fmt: skip
    return {"role_assignments": items, "links": {"self": str(request.url), "next": None, "previous": None}}


def _triple(request: Request[Any, Any, Any], project_id: str, user_id: str, role_id: str) -> tuple[Keystone, Project, User, Role]:  # fmt: skip
    keystone = keystone_of(request)
    return (
        keystone,
        admin.entity(keystone, Project, project_id, "project"),
        admin.entity(keystone, User, user_id, "user"),
        admin.entity(keystone, Role, role_id, "role"),
    )


GRANT = "/projects/{project_id:str}/users/{user_id:str}/roles/{role_id:str}"


@put(GRANT, status_code=HTTP_204_NO_CONTENT)
async def grant_role(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str], user_id: FromPath[str], role_id: FromPath[str]) -> None:  # fmt: skip
    """Give a user a role on a project (admin)."""
    require_role(creds, admin=True)
    await admin.grant(*_triple(request, project_id, user_id, role_id))


@get(GRANT, status_code=HTTP_204_NO_CONTENT)
async def check_role(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str], user_id: FromPath[str], role_id: FromPath[str]) -> None:  # fmt: skip
    """204 if the user holds the role on the project, 404 if not."""
    keystone, project, user, role = _triple(request, project_id, user_id, role_id)
    if admin.assignment_of(keystone, project, user, role) is None:
        raise OpenStackError(404, f"Could not find role assignment: {role.id} of user {user.id} on {project.id}.")


@delete(GRANT, status_code=HTTP_204_NO_CONTENT)
async def revoke_role(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str], user_id: FromPath[str], role_id: FromPath[str]) -> None:  # fmt: skip
    """Take a role on a project from a user (admin)."""
    require_role(creds, admin=True)
    await admin.revoke(*_triple(request, project_id, user_id, role_id))


@get("/projects/{project_id:str}/users/{user_id:str}/roles")
async def user_roles_on_project(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], project_id: FromPath[str], user_id: FromPath[str]) -> dict[str, Any]:  # fmt: skip
    """The roles a user holds on a project."""
    _self_or_admin(creds, user_id)
    keystone = keystone_of(request)
    roles = [keystone.world.get(Role, i) for i in keystone.role_ids(user_id, project_id)]
    return _collection(request, "roles", [role_body(r, base_url(request)) for r in roles])


# Application credentials -------------------------------------------------------------------

CREDENTIALS = "/users/{user_id:str}/application_credentials"


@post(CREDENTIALS, status_code=HTTP_201_CREATED)
async def create_application_credential(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str]) -> dict[str, Any]:  # fmt: skip
    """A user makes an application credential on its token's project, with some or all
    of its roles there; the secret is shown once."""
    if creds.user_id != user_id:
        raise OpenStackError(403, "Application credentials are made by their user.")
    if creds.project_id is None:
        raise OpenStackError(403, "An application credential needs a project-scoped token.")
    keystone = keystone_of(request)
    body = await _body(request, "application_credential")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise OpenStackError(400, "Invalid input for field 'name': it is required.")
    if any(c.name == name for c in await keystone.application_credentials(user_id)):
        raise OpenStackError(409, f"Conflict occurred attempting to store application_credential - Duplicate entry: {name}.")  # fmt: skip
    held = keystone.role_ids(user_id, creds.project_id)
    wanted = body.get("roles") or [{"id": i} for i in held]
    role_ids: list[str] = []
    for spec in wanted:
        role = keystone.world.find(Role, str(spec.get("id") or spec.get("name"))) if isinstance(spec, dict) else None
        if role is None or role.id not in held:
            raise OpenStackError(403, f"The user does not hold role {spec} on project {creds.project_id}.")
        role_ids.append(role.id)
    secret = body.get("secret") or secrets.token_urlsafe(48)
    credential = ApplicationCredential(
        id=new_id(), name=name, user_id=user_id, project_id=creds.project_id, role_ids=role_ids,
        description=str(body.get("description") or ""), expires_at=body.get("expires_at"),
        unrestricted=bool(body.get("unrestricted", False)),
    )  # fmt: skip
    await keystone.save_application_credential(credential, str(secret))
    roles = [keystone.world.get(Role, i) for i in role_ids]
    return {"application_credential": application_credential_body(credential, roles, base_url(request)) | {"secret": secret}}  # fmt: skip


@get(CREDENTIALS)
async def list_application_credentials(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str]) -> dict[str, Any]:  # fmt: skip
    """A user's application credentials (never their secrets)."""
    _self_or_admin(creds, user_id)
    keystone = keystone_of(request)
    items = [
        application_credential_body(c, [r for r in (keystone.world.find(Role, i) for i in c.role_ids) if r], base_url(request))
        for c in await keystone.application_credentials(user_id)
    ]  # fmt: skip
    return _collection(request, "application_credentials", items)


async def _credential(request: Request[Any, Any, Any], creds: Credentials, user_id: str, credential_id: str) -> ApplicationCredential:  # fmt: skip
    _self_or_admin(creds, user_id)
    credential = await keystone_of(request).application_credential(credential_id)
    if credential is None or credential.user_id != user_id:
        raise OpenStackError(404, f"Could not find application credential: {credential_id}.")
    return credential


@get(CREDENTIALS + "/{credential_id:str}")
async def show_application_credential(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str], credential_id: FromPath[str]) -> dict[str, Any]:  # fmt: skip
    """One application credential."""
    credential = await _credential(request, creds, user_id, credential_id)
    world = keystone_of(request).world
    roles = [r for r in (world.find(Role, i) for i in credential.role_ids) if r]
    return {"application_credential": application_credential_body(credential, roles, base_url(request))}


@delete(CREDENTIALS + "/{credential_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_application_credential(request: Request[Any, Any, Any], creds: NamedDependency[Credentials], user_id: FromPath[str], credential_id: FromPath[str]) -> None:  # fmt: skip
    """Delete an application credential and the tokens made with it."""
    credential = await _credential(request, creds, user_id, credential_id)
    await keystone_of(request).delete_application_credential(credential.id)


HANDLERS = [
    list_domains, show_domain, list_projects, create_project, show_project, update_project, delete_project,
    list_users, create_user, show_user, update_user, change_password, delete_user, user_projects,
    list_roles, create_role, show_role, delete_role, list_role_assignments, grant_role, check_role, revoke_role,
    user_roles_on_project, create_application_credential, list_application_credentials,
    show_application_credential, delete_application_credential,
]  # fmt: skip

__all__ = ["HANDLERS"]
