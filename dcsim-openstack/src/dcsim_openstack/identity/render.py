"""Keystone's JSON: tokens with their catalog, users, projects, roles, assignments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dcsim.sim.model import Project
from dcsim_openstack.identity.keystone import stable_id
from dcsim_openstack.identity.model import DOMAIN_ID, DOMAIN_NAME, ApplicationCredential, Role, RoleAssignment, User
from dcsim_openstack.identity.tokens import TokenRecord
from dcsim_openstack.service import REGION, SERVICES

DOMAIN = {"id": DOMAIN_ID, "name": DOMAIN_NAME}


def timestamp(epoch: float) -> str:
    """Keystone's timestamp: ``2026-11-30T05:00:00.000000Z``."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def catalog(base: str) -> list[dict[str, Any]]:
    """Every service for RegionOne, at the URL the client reached dc-sim with."""
    entries = []
    for service in SERVICES.values():
        url = service.url(base)
        for kind in service.catalog_types:
            entries.append(
                {
                    "id": stable_id("service", kind),
                    "type": kind,
                    "name": service.name,
                    "endpoints": [
                        {
                            "id": stable_id("endpoint", f"{kind}/{interface}"),
                            "interface": interface,
                            "region": REGION,
                            "region_id": REGION,
                            "url": url,
                        }
                        for interface in ("public", "internal", "admin")
                    ],
                }
            )
    return entries


def token_body(
    record: TokenRecord, user: User, project: Project | None, roles: list[Role], base: str
) -> dict[str, Any]:
    """The ``token`` object of a token's answer (issue and validation)."""
    token: dict[str, Any] = {
        "methods": record.methods,
        "user": {"id": user.id, "name": user.name, "domain": DOMAIN, "password_expires_at": None},
        "audit_ids": [record.audit_id],
        "issued_at": timestamp(record.issued_at),
        "expires_at": timestamp(record.expires_at),
    }
    if project is not None:
        token |= {
            "project": {"id": project.id, "name": project.name, "domain": DOMAIN},
            "is_domain": False,
            "roles": [{"id": r.id, "name": r.name} for r in roles],
            "catalog": catalog(base),
        }
    if record.application_credential_id:
        token["application_credential"] = {"id": record.application_credential_id, "restricted": True}
    return {"token": token}


def link(base: str, path: str) -> dict[str, Any]:
    """Keystone's ``links`` of an entity at ``path`` (under ``/v3``)."""
    return {"self": f"{base}/identity/v3/{path}"}


def user_body(user: User, base: str) -> dict[str, Any]:
    """A user as Keystone shows it."""
    body: dict[str, Any] = {
        "id": user.id, "name": user.name, "domain_id": user.domain_id, "enabled": user.enabled,
        "description": user.description, "default_project_id": user.default_project_id,
        "password_expires_at": None, "options": {}, "links": link(base, f"users/{user.id}"),
    }  # fmt: skip
    if user.email:
        body["email"] = user.email
    return body


def project_body(project: Project, base: str) -> dict[str, Any]:
    """A project as Keystone shows it (the one domain is its parent)."""
    return {
        "id": project.id, "name": project.name, "domain_id": DOMAIN_ID, "parent_id": DOMAIN_ID,
        "enabled": True, "description": "", "is_domain": False, "tags": [], "options": {},
        "links": link(base, f"projects/{project.id}"),
    }  # fmt: skip


def role_body(role: Role, base: str) -> dict[str, Any]:
    """A role as Keystone shows it."""
    return {"id": role.id, "name": role.name, "domain_id": None, "description": None, "options": {},
            "links": link(base, f"roles/{role.id}")}  # fmt: skip


def assignment_body(assignment: RoleAssignment, base: str) -> dict[str, Any]:
    """A role assignment as ``GET /v3/role_assignments`` lists it."""
    path = f"projects/{assignment.project_id}/users/{assignment.user_id}/roles/{assignment.role_id}"
    return {
        "role": {"id": assignment.role_id},
        "user": {"id": assignment.user_id},
        "scope": {"project": {"id": assignment.project_id}},
        "links": {"assignment": f"{base}/identity/v3/{path}"},
    }


def application_credential_body(credential: ApplicationCredential, roles: list[Role], base: str) -> dict[str, Any]:
    """An application credential (never its secret)."""
    return {
        "id": credential.id, "name": credential.name, "description": credential.description,
        "user_id": credential.user_id, "project_id": credential.project_id, "expires_at": credential.expires_at,
        "unrestricted": credential.unrestricted, "roles": [{"id": r.id, "name": r.name} for r in roles],
        "access_rules": [],
        "links": link(base, f"users/{credential.user_id}/application_credentials/{credential.id}"),
    }  # fmt: skip


__all__ = [
    "DOMAIN", "application_credential_body", "assignment_body", "catalog", "project_body", "role_body",
    "timestamp", "token_body", "user_body",
]  # fmt: skip
