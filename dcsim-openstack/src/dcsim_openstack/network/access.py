"""Who sees and changes what, and request bodies checked as Neutron checks them.

An admin token sees every project's objects; any other token sees its project's, and
networks that are shared or external (with their subnets). Another project's object is
a 404 to it, as Neutron hides what policy does not let one see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dcsim_openstack.auth import Credentials, require_role
from dcsim_openstack.errors import OpenStackError


def sees(creds: Credentials, project_id: str, *, public: bool = False) -> bool:
    """Whether ``creds`` may see an object of ``project_id`` (``public``: shared or external)."""
    return creds.is_admin or public or (creds.project_id is not None and creds.project_id == project_id)


def body_of(payload: Any, resource: str, allowed: Iterable[str]) -> dict[str, Any]:
    """The ``{resource: {...}}`` of a create or update, with only ``allowed`` attributes.

    Raises:
        OpenStackError: 400 for another shape or an unrecognized attribute.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get(resource), dict) or len(payload) != 1:
        raise OpenStackError(400, f"Resource body required: a JSON object with the one key '{resource}'.")
    body: dict[str, Any] = payload[resource]
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise OpenStackError(400, f"Unrecognized attribute(s) '{', '.join(unknown)}'", title="HTTPBadRequest")
    return body


def owner(creds: Credentials, body: dict[str, Any]) -> str:
    """The project a new object belongs to: the body's ``project_id``/``tenant_id`` (another
    project's only for an admin), else the token's project.

    Raises:
        OpenStackError: 403 for a member naming another project, 400 with no project at all.
    """
    require_role(creds)
    named = body.get("project_id") or body.get("tenant_id")
    if named is not None and not isinstance(named, str):
        raise OpenStackError(400, "Invalid input for project_id: not a string.")
    if named and named != creds.project_id and not creds.is_admin:
        raise OpenStackError(403, "You are not authorized to create an object of another project.")
    project = named or creds.project_id
    if not project:
        raise OpenStackError(400, "A project is required: use a project-scoped token or give project_id.")
    return project


def changes(creds: Credentials, project_id: str) -> None:
    """Refuse a change of an object of ``project_id``: 403 for the reader role, and for
    another project's object (one a member sees because it is shared or external)."""
    require_role(creds)
    if not creds.is_admin and creds.project_id != project_id:
        raise OpenStackError(403, "You are not authorized to change an object of another project.")


def flag(body: dict[str, Any], key: str, default: bool) -> bool:
    """A boolean attribute (Neutron also takes ``"true"``/``"false"``); 400 otherwise."""
    value = body.get(key, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise OpenStackError(400, f"Invalid input for {key}. Reason: '{value}' cannot be converted to boolean.")
    return value


def text(body: dict[str, Any], key: str, default: str = "", *, limit: int = 255) -> str:
    """A string attribute of at most ``limit`` characters; 400 otherwise."""
    value = body.get(key, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise OpenStackError(400, f"Invalid input for {key}. Reason: '{value}' is not a valid string.")
    if len(value) > limit:
        raise OpenStackError(
            400, f"Invalid input for {key}. Reason: '{value[:20]}...' exceeds maximum length of {limit}."
        )
    return value


__all__ = ["body_of", "changes", "flag", "owner", "sees", "text"]
