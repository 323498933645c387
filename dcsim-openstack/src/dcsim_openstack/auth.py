"""The Keystone token check every OpenStack service runs, and the role rule.

Every router :func:`dcsim_openstack.service.mount` mounts provides the dependency
``creds``: a handler that takes ``creds: Credentials`` runs only with a valid
``X-Auth-Token`` (known, not expired, not revoked, its user still enabled), and gets who
is calling; otherwise the client gets a 401 in the service's own error format. Before a
change, a handler calls :func:`require_role`: a token whose roles are only ``reader``
gets a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
from litestar import Request

from dcsim_openstack.errors import OpenStackError

if TYPE_CHECKING:
    from dcsim_openstack.identity.keystone import Keystone

#: Roles that may change things (besides reading).
WRITE_ROLES = frozenset({"admin", "member"})


@attrs.frozen(kw_only=True)
class Credentials:
    """Who a valid token speaks for. ``project_id`` and ``project_name`` are None for an
    unscoped token; ``roles`` are role names; ``token_id`` is the token's audit id (its
    public name, never the token itself)."""

    user_id: str
    user_name: str
    domain_id: str
    domain_name: str
    project_id: str | None
    project_name: str | None
    roles: frozenset[str]
    token_id: str
    expires_at: float

    @property
    def is_admin(self) -> bool:
        """Whether the token carries the admin role."""
        return "admin" in self.roles


def unauthorized(message: str = "The request you have made requires authentication.") -> OpenStackError:
    """A 401 (the token is missing, unknown, expired or revoked)."""
    return OpenStackError(401, message)


def keystone_of(request: Request[Any, Any, Any]) -> Keystone:
    """The Keystone service of the instance serving ``request``."""
    from dcsim_openstack.identity.keystone import Keystone

    keystone: Keystone = request.app.state.dcsim.services.get(Keystone)
    return keystone


async def credentials(request: Request[Any, Any, Any]) -> Credentials:
    """The ``creds`` dependency: the caller's credentials from ``X-Auth-Token``, or a 401."""
    token = request.headers.get("x-auth-token", "").strip()
    if not token:
        raise unauthorized()
    return await keystone_of(request).credentials(token)


def require_role(creds: Credentials, *, write: bool = True, admin: bool = False) -> None:
    """Refuse with a 403 unless ``creds`` may do this: ``admin`` needs the admin role,
    ``write`` (a change) needs admin or member (so ``reader`` alone can change nothing)."""
    if admin and not creds.is_admin:
        raise OpenStackError(403, "You are not authorized to perform the requested action: admin required.")
    if write and not creds.roles & WRITE_ROLES:
        raise OpenStackError(
            403, "You are not authorized to perform the requested action: the reader role cannot change anything."
        )


__all__ = ["WRITE_ROLES", "Credentials", "credentials", "keystone_of", "require_role", "unauthorized"]
