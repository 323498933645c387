"""What Nova knows of a server beyond core's VM: a world kind of this package.

A server IS a core ``Vm`` (its power, host, NICs, disks, node); a :class:`ServerRecord`
of the same id keeps what only Nova's API has (key pair, metadata, user data, the
vm/task state of an operation in flight). Nova's status is read from both every time
(:mod:`dcsim_openstack.compute.states`), so a power change made through ``/sim`` or a
failed host shows at once.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from dcsim.model import utcnow


@attrs.define(kw_only=True)
class ServerRecord:
    """Nova's attributes of the server whose core VM has the same ``id`` and ``name``."""

    id: str
    name: str
    project_id: str
    user_id: str
    key_name: str | None = None
    metadata: dict[str, str] = attrs.field(factory=dict)
    user_data: str | None = None
    description: str | None = None
    #: Security group names, as Nova lists them on the server.
    security_groups: list[str] = attrs.field(factory=lambda: ["default"])
    #: Ports Nova bound the server to (ids of the network package's ports).
    port_ids: list[str] = attrs.field(factory=list)
    #: ``building`` until the boot finished, ``active`` after; ``paused`` tells a paused
    #: server from a suspended one (core has one suspended power state for both).
    vm_state: str = "building"
    task_state: str | None = "spawning"
    tags: list[str] = attrs.field(factory=list)
    created_at: datetime = attrs.field(factory=utcnow)
    updated_at: datetime = attrs.field(factory=utcnow)
    launched_at: datetime | None = None
    #: Set when the server was deleted: the record stays, as Nova's soft-deleted row
    #: does, for ``GET /servers/detail?deleted=true`` (admin), which shows it DELETED.
    deleted_at: datetime | None = None


#: Nova's kinds by the names core's world, store and API use.
KINDS: dict[str, type] = {"server": ServerRecord}

__all__ = ["KINDS", "ServerRecord"]
