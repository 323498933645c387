"""Configuration items, relationships and history: the CMDB's records.

The CMDB holds desired state; the simulation is actual state. CIs that mirror a
simulated object carry its id in ``source_id`` so sync can match them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from dcsim.model import new_id, utcnow

#: Tag keys the CMDB knows; other keys are refused so that groups stay predictable.
TAG_KEYS = ("env", "os", "platform", "role", "owner", "tier")


class CiStatus(enum.Enum):
    """Lifecycle of a CI: decommissioning keeps the record and its history."""

    ACTIVE = "active"
    DECOMMISSIONED = "decommissioned"


@attrs.define(kw_only=True)
class Ci:
    """A configuration item."""

    id: str = attrs.field(factory=new_id)
    type: str
    name: str
    status: CiStatus = CiStatus.ACTIVE
    attributes: dict[str, Any] = attrs.field(factory=dict)
    tags: dict[str, str] = attrs.field(factory=dict)
    source: str = "manual"
    source_id: str | None = None
    created_at: datetime = attrs.field(factory=utcnow)
    updated_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class Relationship:
    """A typed, directed link: ``source`` <type> ``target`` (vm runs_on host)."""

    id: str = attrs.field(factory=new_id)
    type: str
    source_id: str
    target_id: str
    origin: str = "manual"


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One change to a CI: who, when, what it was before and after."""

    id: str = attrs.field(factory=new_id)
    ci_id: str
    at: datetime = attrs.field(factory=utcnow)
    actor: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class CiSpec:
    """What a CI should be, as sync derives it from the simulation."""

    type: str
    name: str
    source_id: str
    attributes: dict[str, Any]
    tags: dict[str, str]


@attrs.frozen(kw_only=True)
class RelationshipSpec:
    """A relationship sync derives, between two simulated objects' CIs."""

    type: str
    source_id: str
    target_id: str
