"""attrs classes shared across core, plugins, the store, the bus and the API.

Vendor types never cross a hook boundary: adapters translate to and from these.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

import attrs


def utcnow() -> datetime:
    """Timezone-aware current time in UTC (the only clock the models use)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh random identifier."""
    return str(uuid.uuid4())


@attrs.frozen
class Event:
    """The one envelope of every event on the bus (CloudEvents 1.0 attribute names).

    ``schemaversion`` is a CloudEvents extension attribute: the version of the schema of
    ``data`` for this ``type``; consumers check it before reading ``data``.
    ``traceparent`` (the CloudEvents distributed-tracing extension) is the W3C trace
    context of the span that caused the event, None when tracing is off (``dcsim.tracing``).
    """

    type: str
    source: str
    data: dict[str, Any] = attrs.field(factory=dict)
    subject: str | None = None
    id: str = attrs.field(factory=new_id)
    time: datetime = attrs.field(factory=utcnow)
    specversion: str = "1.0"
    schemaversion: int = 1
    datacontenttype: str = "application/json"
    traceparent: str | None = None


class Role(enum.Enum):
    """Roles of dc-sim's own API tokens, ordered by what they allow."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, needed: Role) -> bool:
        """True when this role is at least ``needed``."""
        return self.rank >= needed.rank


_ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@attrs.frozen
class Token:
    """An API token as stored: its secret is only ever held as a hash."""

    id: str
    name: str
    role: Role
    created_at: datetime
    revoked: bool = False


@attrs.frozen
class Document:
    """A JSON document in the store, in a namespace, with an optimistic-lock version."""

    namespace: str
    key: str
    value: dict[str, Any]
    version: int
    updated_at: datetime


@attrs.frozen
class Check:
    """One line of a readiness report."""

    name: str
    ok: bool
    detail: str = ""


@attrs.frozen
class PluginInfo:
    """A plugin as the loader saw it: ``loaded``, ``failed`` (at import, against the hook
    contract, or in a registration hook: ``error`` says which) or ``disabled``."""

    name: str
    status: str
    module: str | None = None
    distribution: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()
    error: str | None = None


@attrs.frozen
class DriverInfo:
    """A driver found in a stevedore namespace, and whether configuration selects it."""

    namespace: str
    name: str
    target: str
    distribution: str | None = None
    version: str | None = None
    selected: bool = False
