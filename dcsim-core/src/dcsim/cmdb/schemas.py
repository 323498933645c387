"""The request bodies and the answers of the ``/cmdb`` API (SPEC-010: msgspec at the edge).

Bodies are decoded strictly before the handler runs (unknown fields, wrong types and
values out of bounds are a 422 listing every field); the domain checks that need the
instance (a registered CI or relationship type) stay in :class:`dcsim.cmdb.service.Cmdb`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from dcsim.cmdb.model import CiStatus
from dcsim.web.contracts import Model

#: The tag keys the CMDB knows, as a type: :data:`dcsim.cmdb.model.TAG_KEYS` (a test
#: keeps the two equal).
TagKey = Literal["env", "os", "platform", "role", "owner", "tier"]

TypeName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="A registered CI or relationship type: lower case, digits and _",
        examples=["application"],
    ),
]
CiName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$",
        description="1..200 printable characters, not only spaces",
        examples=["billing"],
    ),
]
CiId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, description="A CI id", examples=["3f2a9c0d1b"])]
CiTags = Annotated[
    dict[TagKey, Annotated[str, msgspec.Meta(max_length=256)]],
    msgspec.Meta(description="Tags by known key (env, os, platform, role, owner, tier)", examples=[{"env": "prod"}]),
]
Attributes = Annotated[
    dict[Annotated[str, msgspec.Meta(min_length=1, max_length=128)], Any],
    msgspec.Meta(max_length=200, description="Free attributes: at most 200 keys"),
]


class CiCreate(Model):
    """Body of ``POST /cmdb/cis``: a CI made by hand (sync makes those of the simulation)."""

    type: TypeName
    name: CiName
    attributes: Attributes = msgspec.field(default_factory=dict)
    tags: CiTags = msgspec.field(default_factory=dict)


class CiChange(Model):
    """Body of ``PATCH /cmdb/cis/{id}``: only the fields given change (at least one);
    ``attributes`` and ``tags`` replace the whole mapping."""

    name: CiName | None = None
    attributes: Attributes | None = None
    tags: CiTags | None = None
    status: CiStatus | None = None


class RelationshipCreate(Model):
    """Body of ``POST /cmdb/relationships``: ``source`` <type> ``target`` (vm runs_on host)."""

    type: TypeName
    source_id: CiId
    target_id: CiId


class ImpactedCi(msgspec.Struct, kw_only=True):
    """A CI reached by impact analysis, how far and through what."""

    id: str
    type: str
    name: str
    depth: int
    relationship: str
    via: str


class ImpactAnswer(msgspec.Struct, kw_only=True):
    """What a CI depends on (upstream) and what depends on it (downstream)."""

    ci: dict[str, Any]
    depth: int
    upstream: list[ImpactedCi]
    downstream: list[ImpactedCi]


class SyncAnswer(msgspec.Struct, kw_only=True):
    """What one sync run did."""

    trigger: str
    started_at: datetime
    finished_at: datetime | None
    created: int
    updated: int
    decommissioned: int
    unchanged: int
    relationships_added: int
    relationships_removed: int
    errors: list[str]
    changes: int


class SyncStatus(msgspec.Struct, kw_only=True):
    """The backend, whether a full sync waits for it, and the last runs."""

    backend: str
    resync_pending: bool
    last_run: SyncAnswer | None
    last_full_run: SyncAnswer | None
