"""The ``[plugins.openstack]`` settings table: the seed's Keystone accounts and token life."""

from __future__ import annotations

from typing import Any

import attrs

from dcsim.errors import ConfigError

#: Keystone's roles: ``admin`` does everything, ``member`` changes its project's
#: resources, ``reader`` reads only.
ROLES = ("admin", "member", "reader")
#: Keys of ``[plugins.openstack]`` that hold secrets: ``dcsim config`` masks them.
SECRET_SETTINGS = ("users",)
DEFAULT_USERS = ("admin:password:admin", "demo:password:member", "reader:password:reader")
DEFAULT_TOKEN_SECONDS = 3600


@attrs.frozen(kw_only=True)
class Account:
    """A seed Keystone user: its password and its role on the seed project ``demo``."""

    name: str
    password: str = attrs.field(repr=False)
    role: str


@attrs.frozen(kw_only=True)
class OpenStackSettings:
    """What the OpenStack plugin can be told.

    ``users`` are ``name:password:role`` entries (role ``admin``, ``member`` or
    ``reader`` on project ``demo``, domain ``Default``), a list in TOML or
    comma-separated in ``DCSIM_PLUGINS__OPENSTACK__USERS``; defaults: ``admin:password:admin``,
    ``demo:password:member``, ``reader:password:reader``. ``token_seconds`` is how long a
    Keystone token lives (Keystone's default, 3600).
    """

    accounts: tuple[Account, ...]
    token_seconds: int = DEFAULT_TOKEN_SECONDS


def load_openstack_settings(table: dict[str, Any]) -> OpenStackSettings:
    """Validate the plugin's settings table; a ConfigError says what is wrong."""
    unknown = sorted(set(table) - {"users", "token_seconds"})
    if unknown:
        raise ConfigError(f"plugins.openstack: unknown settings {', '.join(unknown)}")
    users = table.get("users", DEFAULT_USERS)
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    accounts: list[Account] = []
    for entry in users:
        name, sep, rest = str(entry).partition(":")
        password, sep2, role = rest.rpartition(":")
        if not (sep and sep2 and name and password) or role not in ROLES:
            raise ConfigError(
                f"plugins.openstack.users: {name or entry!r} must be name:password:role, role one of {', '.join(ROLES)}"
            )
        if any(a.name == name for a in accounts):
            raise ConfigError(f"plugins.openstack.users: {name!r} is given twice")
        accounts.append(Account(name=name, password=password, role=role))
    seconds = table.get("token_seconds", DEFAULT_TOKEN_SECONDS)
    # An integer or its digits (environment variables are strings); 2.5 or true are refused.
    if isinstance(seconds, bool) or not isinstance(seconds, int | str) or not str(seconds).isdigit():
        raise ConfigError(f"plugins.openstack.token_seconds must be a whole number, not {seconds!r}")
    if int(seconds) < 1:
        raise ConfigError("plugins.openstack.token_seconds must be at least 1")
    return OpenStackSettings(accounts=tuple(accounts), token_seconds=int(seconds))


__all__ = ["DEFAULT_USERS", "ROLES", "SECRET_SETTINGS", "Account", "OpenStackSettings", "load_openstack_settings"]
