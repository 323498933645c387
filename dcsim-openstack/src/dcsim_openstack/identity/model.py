"""Keystone's own kinds in dc-sim's world: users, roles, role assignments, application
credentials. Projects are core's ``Project``; the one domain is ``Default``.

No secret is part of these objects (the world is readable at ``/sim/state``): password and
application credential hashes live in the store (:mod:`dcsim_openstack.identity.keystone`).
"""

from __future__ import annotations

import attrs

DOMAIN_ID, DOMAIN_NAME = "default", "Default"


@attrs.define(kw_only=True)
class User:
    """A Keystone user of domain Default."""

    id: str
    name: str
    domain_id: str = DOMAIN_ID
    enabled: bool = True
    email: str | None = None
    description: str = ""
    default_project_id: str | None = None


@attrs.define(kw_only=True)
class Role:
    """A Keystone role (admin, member, reader, or one an admin made)."""

    id: str
    name: str


@attrs.define(kw_only=True)
class RoleAssignment:
    """A role a user holds on a project; named ``<user id>/<project id>/<role id>``."""

    id: str
    name: str
    user_id: str
    project_id: str
    role_id: str


@attrs.define(kw_only=True)
class ApplicationCredential:
    """A user's application credential: a secret that authenticates as the user on one
    project with some of its roles. Its name is unique per user only."""

    id: str
    name: str
    user_id: str
    project_id: str
    role_ids: list[str] = attrs.field(factory=list)
    description: str = ""
    expires_at: str | None = None
    unrestricted: bool = False


#: Keystone kinds by the names core's world, store and API use.
IDENTITY_KINDS: dict[str, type] = {"user": User, "role": Role, "role_assignment": RoleAssignment}

__all__ = ["DOMAIN_ID", "DOMAIN_NAME", "IDENTITY_KINDS", "ApplicationCredential", "Role", "RoleAssignment", "User"]
