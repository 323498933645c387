"""The ``[plugins.ucs]`` settings table: accounts, session length and which domain to serve."""

from __future__ import annotations

from typing import Any

import attrs

from dcsim.errors import ConfigError

PRIVILEGES = ("admin", "read-only")
#: Event channels an account may hold open: a few watchers per automation account.
DEFAULT_EVENT_CHANNELS = 8
#: Keys of ``[plugins.ucs]`` that hold secrets (``users`` carries passwords): dcsim
#: config masks them (core's SECRET_SETTINGS_ATTRIBUTE, re-exported by the plugin module).
SECRET_SETTINGS = ("users",)


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
    ``event_channels`` is how many event channels (``eventSubscribe``) one account may
    hold open at once in one process.
    """

    accounts: tuple[Account, ...]
    session_seconds: int = 600
    domain: str | None = None
    event_channels: int = DEFAULT_EVENT_CHANNELS

    def account(self, name: str) -> Account | None:
        """The account called ``name``, None if there is none."""
        return next((a for a in self.accounts if a.name == name), None)


DEFAULT_USERS = ("admin:password:admin", "readonly:readonly:read-only")


def load_ucs_settings(table: dict[str, Any]) -> UcsSettings:
    """Validate the plugin's settings table; a ConfigError says what is wrong."""
    unknown = sorted(set(table) - {"users", "session_seconds", "domain", "event_channels"})
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
    seconds = _at_least_one(table, "session_seconds", 600)
    channels = _at_least_one(table, "event_channels", DEFAULT_EVENT_CHANNELS)
    domain = table.get("domain")
    return UcsSettings(
        accounts=tuple(accounts),
        session_seconds=seconds,
        domain=str(domain) if domain else None,
        event_channels=channels,
    )


def _at_least_one(table: dict[str, Any], key: str, default: int) -> int:
    value = table.get(key, default)
    # An integer or its digits (environment variables are strings); 2.5 or true are refused.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"plugins.ucs.{key} must be a whole number, not {value!r}")
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"plugins.ucs.{key} must be a whole number, not {value!r}") from exc
    if number < 1:
        raise ConfigError(f"plugins.ucs.{key} must be at least 1")
    return number
