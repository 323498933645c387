"""Cinder's kinds: what it knows of a volume beyond core's, snapshots and volume types.

A Cinder volume IS a core ``Volume`` (size, project, the VM it is attached to); a
:class:`VolumeRecord` of the same id keeps Cinder's name (names need not be unique in
Cinder, core's are), description, type, metadata and the attachment's device. Its
status is read from core's ``attached_to`` every time (``in-use`` or ``available``).
"""

from __future__ import annotations

from datetime import datetime

import attrs

from dcsim.model import utcnow

#: The volume type Cinder gives a volume created without one.
DEFAULT_TYPE = "__DEFAULT__"


@attrs.define(kw_only=True)
class VolumeRecord:
    """Cinder's attributes of the core volume with the same ``id``."""

    id: str
    name: str
    project_id: str
    user_id: str = ""
    #: The Cinder name (may be empty, or shared by several volumes).
    display_name: str | None = None
    description: str | None = None
    volume_type: str = DEFAULT_TYPE
    metadata: dict[str, str] = attrs.field(factory=dict)
    snapshot_id: str | None = None
    source_volid: str | None = None
    #: The attachment's id and device while attached (core's ``attached_to`` says to what).
    attachment_id: str | None = None
    device: str | None = None
    attached_at: datetime | None = None
    created_at: datetime = attrs.field(factory=utcnow)
    updated_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class VolumeSnapshot:
    """A Cinder snapshot of a volume."""

    id: str
    name: str
    volume_id: str
    project_id: str
    size_gb: int
    description: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    created_at: datetime = attrs.field(factory=utcnow)


@attrs.define(kw_only=True)
class VolumeType:
    """A Cinder volume type."""

    id: str
    name: str
    description: str | None = None
    is_public: bool = True
    extra_specs: dict[str, str] = attrs.field(factory=dict)


#: Cinder's kinds by the names core's world, store and API use.
KINDS: dict[str, type] = {
    "volume_record": VolumeRecord,
    "volume_snapshot": VolumeSnapshot,
    "volume_type": VolumeType,
}

__all__ = ["DEFAULT_TYPE", "KINDS", "VolumeRecord", "VolumeSnapshot", "VolumeType"]
