"""The ``[plugins.ucs]`` settings table: accounts, session length and which domain to serve."""

from __future__ import annotations

from typing import Any

import attrs

from dcsim.errors import ConfigError

PRIVILEGES = ("admin", "read-only")


@attrs.frozen(kw_only=True)
class Account:
    """A UCS Manager login."""

    name: str
    password: str = attrs.field(repr=False)
    privilege: str

    @property
    def read_only(self) -> bool:
        """Whether the account may only read."""
        return self.privilege == "read-only"


@attrs.frozen(kw_only=True)
class UcsSettings:
    """What the UCS plugin can be told.

    ``users`` are ``name:password:privilege`` entries (privilege ``admin`` or
    ``read-only``), a list in TOML or comma-separated in ``DCSIM_PLUGINS__UCS__USERS``.
    ``session_seconds`` is the refresh period a session lives without ``aaaRefresh``.
    ``domain`` names the simulated UCS domain ``/nuova`` serves (default: the first).
    """

    accounts: tuple[Account, ...]
    session_seconds: int = 600
    domain: str | None = None

    def account(self, name: str) -> Account | None:
        """The account called ``name``, None if there is none."""
        return next((a for a in self.accounts if a.name == name), None)


DEFAULT_USERS = ("admin:password:admin", "readonly:readonly:read-only")


def load_ucs_settings(table: dict[str, Any]) -> UcsSettings:
    """Validate the plugin's settings table; a ConfigError says what is wrong."""
    unknown = sorted(set(table) - {"users", "session_seconds", "domain"})
    if unknown:
        raise ConfigError(f"plugins.ucs: unknown settings {', '.join(unknown)}")
    users = table.get("users", DEFAULT_USERS)
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    accounts = []
    for entry in users:
        name, sep, rest = str(entry).partition(":")
        password, sep2, privilege = rest.rpartition(":")
        if not (sep and sep2 and name and password) or privilege not in PRIVILEGES:
            raise ConfigError(
                f"plugins.ucs.users: {name or entry!r} must be name:password:privilege, privilege one of "
                + ", ".join(PRIVILEGES)
            )
        accounts.append(Account(name=name, password=password, privilege=privilege))
    try:
        seconds = int(table.get("session_seconds", 600))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"plugins.ucs.session_seconds: {exc}") from exc
    if seconds < 1:
        raise ConfigError("plugins.ucs.session_seconds must be at least 1")
    domain = table.get("domain")
    return UcsSettings(accounts=tuple(accounts), session_seconds=seconds, domain=str(domain) if domain else None)
