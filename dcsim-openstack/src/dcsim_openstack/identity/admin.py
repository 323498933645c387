"""Keystone's changes to the world: projects, users, roles and role assignments, each
in one engine transaction (so every dc-sim process sees them, and they survive restarts).
"""

from __future__ import annotations

import uuid
from typing import Any

from dcsim.sim.model import Datacenter, Project
from dcsim_openstack.errors import OpenStackError
from dcsim_openstack.identity.keystone import Keystone, new_id
from dcsim_openstack.identity.model import DOMAIN_ID, Role, RoleAssignment, User


def _text(body: dict[str, Any], key: str, *, required: bool = False, limit: int = 255) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise OpenStackError(400, f"Invalid input for field '{key}': it is required.")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise OpenStackError(400, f"Invalid input for field '{key}': a string of 1 to {limit} characters.")
    return value


def _domain(body: dict[str, Any]) -> None:
    if body.get("domain_id", DOMAIN_ID) != DOMAIN_ID:
        raise OpenStackError(404, f"Could not find domain: {body['domain_id']}.")


def entity(keystone: Keystone, cls: type[Any], ref: str, label: str) -> Any:
    """The ``cls`` object whose id is ``ref``; Keystone's 404 otherwise."""
    found = keystone.world.find(cls, ref)
    if found is None or found.id != ref:
        raise OpenStackError(404, f"Could not find {label}: {ref}.")
    return found


async def create_project(keystone: Keystone, body: dict[str, Any]) -> Project:
    """A new project of domain Default, in the datacenter of the seed project."""
    name = _text(body, "name", required=True, limit=64)
    _domain(body)
    world = keystone.world
    if world.find(Project, name or "") is not None:
        raise OpenStackError(409, f"Conflict occurred attempting to store project - Duplicate entry: {name}.")
    seed = keystone.seed_project()
    datacenter = seed.datacenter_id if seed else next(iter(world.all(Datacenter))).id
    async with keystone.dcsim.sim.transaction() as change:
        project = Project(id=str(uuid.uuid4()), name=str(name), datacenter_id=datacenter)
        world.add(project)
        change.save(project)
    return project


async def update_project(keystone: Keystone, project: Project, body: dict[str, Any]) -> Project:
    """Rename a project (the one attribute of core's project Keystone can change)."""
    name = _text(body, "name", limit=64)
    if name and name != project.name:
        if keystone.world.find(Project, name) is not None:
            raise OpenStackError(409, f"Conflict occurred attempting to store project - Duplicate entry: {name}.")
        async with keystone.dcsim.sim.transaction() as change:
            keystone.world.remove(project)
            project.name = name
            keystone.world.add(project)
            change.save(project)
    return project


async def delete_project(keystone: Keystone, project: Project) -> None:
    """Delete a project that owns nothing but role assignments (those go with it)."""
    world = keystone.world
    owning = [obj for _, objects in world.kinds() for obj in objects
              if getattr(obj, "project_id", None) == project.id and not isinstance(obj, RoleAssignment)]  # fmt: skip
    if owning:
        raise OpenStackError(409, f"Project {project.id} still owns {len(owning)} resources; delete them first.")
    async with keystone.dcsim.sim.transaction() as change:
        for assignment in [a for a in world.all(RoleAssignment) if a.project_id == project.id]:
            world.remove(assignment)
            change.remove(assignment)
        world.remove(project)
        change.remove(project)


async def create_user(keystone: Keystone, body: dict[str, Any]) -> User:
    """A new user of domain Default, with its password stored hashed."""
    name = _text(body, "name", required=True)
    _domain(body)
    password = _text(body, "password", limit=4096)
    world = keystone.world
    if world.find(User, name or "") is not None:
        raise OpenStackError(409, f"Conflict occurred attempting to store user - Duplicate entry: {name}.")
    default_project = body.get("default_project_id")
    if default_project is not None:
        entity(keystone, Project, str(default_project), "project")
    user = User(id=new_id(), name=str(name), enabled=bool(body.get("enabled", True)), email=_text(body, "email"),
                description=str(body.get("description") or ""), default_project_id=default_project)  # fmt: skip
    async with keystone.dcsim.sim.transaction() as change:
        world.add(user)
        change.save(user)
    if password:
        await keystone.set_password(user.id, password)
    return user


async def update_user(keystone: Keystone, user: User, body: dict[str, Any]) -> User:
    """Change a user's name, state, e-mail, description, default project or password;
    disabling a user ends its tokens."""
    name = _text(body, "name")
    if name and name != user.name and keystone.world.find(User, name) is not None:
        raise OpenStackError(409, f"Conflict occurred attempting to store user - Duplicate entry: {name}.")
    if "default_project_id" in body and body["default_project_id"] is not None:
        entity(keystone, Project, str(body["default_project_id"]), "project")
    async with keystone.dcsim.sim.transaction() as change:
        if name and name != user.name:
            keystone.world.remove(user)
            user.name = name
            keystone.world.add(user)
        if "enabled" in body:
            user.enabled = bool(body["enabled"])
        if "email" in body:
            user.email = _text(body, "email")
        if "description" in body:
            user.description = str(body["description"] or "")
        if "default_project_id" in body:
            user.default_project_id = body["default_project_id"]
        change.save(user)
    password = _text(body, "password", limit=4096)
    if password:
        await keystone.set_password(user.id, password)
    if not user.enabled:
        await keystone.tokens.revoke_where(user_id=user.id)
    return user


async def delete_user(keystone: Keystone, user: User) -> None:
    """Delete a user, its role assignments, secrets and tokens."""
    world = keystone.world
    async with keystone.dcsim.sim.transaction() as change:
        for assignment in [a for a in world.all(RoleAssignment) if a.user_id == user.id]:
            world.remove(assignment)
            change.remove(assignment)
        world.remove(user)
        change.remove(user)
    await keystone.forget_secrets(user.id)


async def create_role(keystone: Keystone, body: dict[str, Any]) -> Role:
    """A new role."""
    name = _text(body, "name", required=True)
    if keystone.world.find(Role, name or "") is not None:
        raise OpenStackError(409, f"Conflict occurred attempting to store role - Duplicate entry: {name}.")
    role = Role(id=new_id(), name=str(name))
    async with keystone.dcsim.sim.transaction() as change:
        keystone.world.add(role)
        change.save(role)
    return role


async def delete_role(keystone: Keystone, role: Role) -> None:
    """Delete a role and its assignments."""
    world = keystone.world
    async with keystone.dcsim.sim.transaction() as change:
        for assignment in [a for a in world.all(RoleAssignment) if a.role_id == role.id]:
            world.remove(assignment)
            change.remove(assignment)
        world.remove(role)
        change.remove(role)


def assignment_of(keystone: Keystone, project: Project, user: User, role: Role) -> RoleAssignment | None:
    """The assignment of ``role`` to ``user`` on ``project``, None if there is none."""
    return keystone.world.find(RoleAssignment, f"{user.id}/{project.id}/{role.id}")


async def grant(keystone: Keystone, project: Project, user: User, role: Role) -> None:
    """Give ``user`` ``role`` on ``project`` (granting it twice changes nothing)."""
    if assignment_of(keystone, project, user, role) is not None:
        return
    name = f"{user.id}/{project.id}/{role.id}"
    assignment = RoleAssignment(id=new_id(), name=name, user_id=user.id, project_id=project.id, role_id=role.id)
    async with keystone.dcsim.sim.transaction() as change:
        keystone.world.add(assignment)
        change.save(assignment)


async def revoke(keystone: Keystone, project: Project, user: User, role: Role) -> None:
    """Take ``role`` on ``project`` from ``user``, and end its tokens on the project."""
    assignment = assignment_of(keystone, project, user, role)
    if assignment is None:
        raise OpenStackError(404, f"Could not find role assignment: {role.id} of user {user.id} on {project.id}.")
    async with keystone.dcsim.sim.transaction() as change:
        keystone.world.remove(assignment)
        change.remove(assignment)
    await keystone.tokens.revoke_where(user_id=user.id, project_id=project.id)


__all__ = [
    "assignment_of", "create_project", "create_role", "create_user", "delete_project", "delete_role", "delete_user",
    "entity", "grant", "revoke", "update_project", "update_user",
]  # fmt: skip
