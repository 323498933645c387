"""The ``netbox`` CMDB backend: configuration items in a real NetBox, through pynetbox.

CI ids are ``netbox:<object type>:<id>`` (``netbox:dcim.device:7``), relationship ids
``<source CI id>~<type>~<target CI id>``. An index of every dc-sim object, loaded at start,
written through and reloaded when older than :data:`INDEX_MAX_AGE`, answers reads, so a
sync of the seed makes NetBox calls only for what changes. How CIs map onto NetBox
objects is :mod:`dcsim.cmdb.netbox.objects`; SPEC-007's NetBox section says why.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from dcsim.cmdb.backend import CiQuery, CmdbBackend
from dcsim.cmdb.builtin import check_tags
from dcsim.cmdb.model import Ci, CiStatus, HistoryEntry, Relationship
from dcsim.cmdb.netbox.client import NetboxClient
from dcsim.cmdb.netbox.objects import (
    CHANGELOG_PREFIX,
    CLUSTER,
    DEVICE,
    MODELS,
    PREFIX,
    SITE,
    SLOTS,
    TENANT,
    VLAN,
    IndexRecord,
    choice_value,
    ci_id,
    model_for,
    read_record,
    read_view,
    relationship_id,
    slot_origin,
)
from dcsim.cmdb.netbox.schema import NetboxSchema
from dcsim.cmdb.netbox.writer import NetboxWriter
from dcsim.convert import converter, to_json
from dcsim.errors import ConfigError, Conflict, InvalidInput, NotFound, Unavailable
from dcsim.model import utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.settings import Settings

#: Seconds after which reads reload the index, so that changes made in NetBox itself show.
INDEX_MAX_AGE = 30.0


class NetboxCmdb(CmdbBackend):
    """CMDB records in a NetBox (4.x), read and written with pynetbox."""

    name = "netbox"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.netbox_url or not settings.netbox_token:
            raise ConfigError("cmdb_backend 'netbox' needs the netbox_url and netbox_token settings")
        self.url = settings.netbox_url.rstrip("/")
        self.client = NetboxClient(self.url, settings.netbox_token)
        self.schema = NetboxSchema(self.client)
        self.writer = NetboxWriter(self.client, self.schema)
        self._lock = asyncio.Lock()
        self._records: dict[str, IndexRecord] = {}
        self._by_source: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._ci_types: list[str] = []

    # Lifecycle ------------------------------------------------------------------------

    async def start(self, dcsim: DcSim) -> None:
        """Connect, create what dc-sim needs in NetBox (idempotent) and load the index.

        Called again by the CMDB service after NetBox was unreachable, so it starts over.
        """
        self._ci_types = sorted(dcsim.cmdb_types.ci_types)
        async with self._lock:
            # Replaced under the lock, so that no write is using the client it replaces.
            self.client.connect()
            await self.client.run(self.schema.bootstrap, self._ci_types)
            await self._reload()

    async def close(self) -> None:
        self.client.close()

    async def ping(self) -> None:
        await self.client.ping()

    # Reads ----------------------------------------------------------------------------

    async def list_cis(self, query: CiQuery) -> tuple[int, list[Ci]]:
        await self._reload_if_stale()
        matching = sorted(
            (record.ci for record in self._records.values() if query.matches(record.ci)),
            key=lambda ci: (ci.type, ci.name),
        )
        return len(matching), matching[query.offset : query.offset + query.limit]

    async def get_ci(self, ci_id: str) -> Ci:
        await self._reload_if_stale()
        return self._get(ci_id).ci

    async def find_by_source(self, source_id: str) -> Ci | None:
        await self._reload_if_stale()
        found = self._by_source.get(source_id)
        return self._records[found].ci if found else None

    async def relationships(self, ci_id: str | None = None) -> list[Relationship]:
        await self._reload_if_stale()
        found = [rel for record in self._records.values() for rel in self._relationships_of(record)]
        return found if ci_id is None else [r for r in found if ci_id in (r.source_id, r.target_id)]

    async def history(self, ci_id: str) -> list[HistoryEntry]:
        """The CI's NetBox change log: who (the dc-sim actor, or ``netbox:<user>`` for
        changes made in NetBox), when, and before and after of the CI's fields."""
        await self._reload_if_stale()
        record = self._get(ci_id)
        changes = await self.client.run(self.client.object_changes, record.model, record.netbox_id)
        entries: list[HistoryEntry] = []
        for change in changes:
            entries += self._history_entries(record, change)
        return entries

    # Writes ---------------------------------------------------------------------------

    async def create_ci(self, ci: Ci, actor: str) -> Ci:
        check_tags(ci.tags)
        await self._reload_if_stale()
        async with self._lock:
            if ci.source_id and ci.source_id in self._by_source:
                raise Conflict(f"a CI already mirrors {ci.source_id}")
            model = model_for(ci)
            payload = self._placement(model, ci, {}, None)
            data = await self.client.run(self.writer.write, model, None, ci, payload, [], [], actor)
            return self._index(read_record(model, data)).ci

    async def update_ci(self, ci_id: str, changes: dict[str, Any], actor: str) -> Ci:
        editable = ("name", "attributes", "tags", "status")
        unknown = sorted(set(changes) - set(editable))
        if unknown:
            raise InvalidInput(f"cannot change {unknown}; editable: {', '.join(editable)}")
        if "tags" in changes:
            check_tags(changes["tags"])
        await self._reload_if_stale()
        async with self._lock:
            record = self._get(ci_id)
            before = to_json(record.ci)
            updated = converter.structure({**before, **to_json(changes), "updated_at": utcnow().isoformat()}, Ci)
            after = to_json(updated)
            if all(before[key] == after[key] for key in editable):
                return record.ci
            return await self._rewrite(record, updated, record.view.slots, record.view.extra, actor)

    async def add_relationship(self, relationship: Relationship, actor: str) -> Relationship:
        await self._reload_if_stale()
        async with self._lock:
            source = self._get(relationship.source_id)
            target = self._get(relationship.target_id)
            rel_id = relationship_id(source.ci.id, relationship.type, target.ci.id)
            if any(rel.id == rel_id for rel in self._relationships_of(source)):
                raise Conflict("that relationship already exists")
            slots, extra = dict(source.view.slots), list(source.view.extra)
            field = self._slot_for(source, relationship.type, target, relationship.origin)
            if field is None:
                extra.append({"type": relationship.type, "target": target.ci.id, "origin": relationship.origin})
            else:
                # The newest wins the field; the one it held moves to dcsim_relationships
                # (sync removes it next when the simulation moved on).
                held = slots.get(field)
                held_id = ci_id(SLOTS[(source.model, relationship.type)][1], held) if held else None
                if held_id in self._records:
                    extra.append(
                        {"type": relationship.type, "target": held_id, "origin": slot_origin(source.ci.source)}
                    )
                slots[field] = target.netbox_id
            await self._rewrite(source, source.ci, slots, extra, actor)
            return attrs.evolve(relationship, id=rel_id)

    async def remove_relationship(self, relationship_id: str, actor: str) -> None:
        await self._reload_if_stale()
        async with self._lock:
            source_id, _, rest = relationship_id.partition("~")
            rel_type, _, target_id = rest.partition("~")
            source = self._records.get(source_id)
            if source is None or not any(rel.id == relationship_id for rel in self._relationships_of(source)):
                raise NotFound(f"no relationship {relationship_id!r}")
            slots, extra = dict(source.view.slots), list(source.view.extra)
            kept = [rel for rel in extra if (rel["type"], rel["target"]) != (rel_type, target_id)]
            if len(kept) == len(extra):
                field = SLOTS[(source.model, rel_type)][0]
                del slots[field]
                # Another relationship of the type may take the field it frees.
                for rel in kept:
                    candidate = self._records.get(rel["target"])
                    if (
                        rel["type"] == rel_type
                        and candidate
                        and self._slot_for(source, rel_type, candidate, rel["origin"])
                    ):
                        slots[field] = candidate.netbox_id
                        kept.remove(rel)
                        break
            await self._rewrite(source, source.ci, slots, kept, actor)

    # The index ------------------------------------------------------------------------

    def _get(self, ci_id: str) -> IndexRecord:
        try:
            return self._records[ci_id]
        except KeyError:
            raise NotFound(f"no CI {ci_id!r}") from None

    def _index(self, record: IndexRecord) -> IndexRecord:
        self._records[record.ci.id] = record
        if record.ci.source_id:
            self._by_source[record.ci.source_id] = record.ci.id
        return record

    async def _reload_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at > INDEX_MAX_AGE:
            async with self._lock:
                if time.monotonic() - self._loaded_at > INDEX_MAX_AGE:
                    await self._reload()

    async def _reload(self) -> None:
        """Load every dc-sim object, one listing per object type, in parallel."""
        if not self.client.connected:
            raise Unavailable(f"NetBox at {self.url} is not connected yet")
        listings = await asyncio.gather(
            *(self.client.run(self.client.list_managed, model, self._ci_types) for model in MODELS)
        )
        self._records, self._by_source = {}, {}
        for model, items in zip(MODELS, listings, strict=True):
            for data in items:
                self._index(read_record(model, data))
        self._loaded_at = time.monotonic()

    def _relationships_of(self, record: IndexRecord) -> list[Relationship]:
        """The relationships ``record`` holds whose target is a CI (a NetBox object dc-sim knows)."""
        held = record.view.relationships(record.ci.id).values()
        return [Relationship(**rel) for rel in held if rel["target_id"] in self._records]

    def _slot_for(self, source: IndexRecord, rel_type: str, target: IndexRecord, origin: str) -> str | None:
        """The NetBox field to hold the relationship, None when dcsim_relationships must."""
        field, target_model = SLOTS.get((source.model, rel_type), ("", ""))
        if target.model != target_model or origin != slot_origin(source.ci.source):
            return None
        return field

    def _placement(self, model: str, ci: Ci, slots: dict[str, int], record: IndexRecord | None) -> dict[str, Any]:
        """The NetBox fields that place the object, from its relationship fields and the index.

        NetBox requires a device's site to be its cluster's, and a VM's cluster and site
        to be its device's. A device or VM that nothing places yet waits in the
        ``dc-sim unplaced`` site. A decommissioned VM leaves its cluster, so that a new
        VM of the same name can join it (NetBox names VMs uniquely per cluster).
        """
        if model in (SITE, TENANT):
            return {}
        if model in (CLUSTER, PREFIX):
            scope = slots.get("scope")
            return {"scope_type": SITE if scope else None, "scope_id": scope}
        if model == VLAN:
            return {"site": slots.get("site")}
        current_site = (record.site if record else None) or self.schema.unplaced_site
        if model == DEVICE:
            cluster = self._records.get(ci_id(CLUSTER, slots["cluster"])) if "cluster" in slots else None
            site = cluster.view.slots.get("scope") if cluster else None
            return {"cluster": slots.get("cluster"), "site": site or current_site}
        device_id = slots.get("device")
        device = self._records.get(ci_id(DEVICE, device_id)) if device_id else None
        if device is not None:
            return {"device": device_id, "cluster": device.view.slots.get("cluster"), "site": device.site}
        if device_id is not None:  # a device dc-sim does not manage: its placement is NetBox's business
            return {"device": device_id}
        kept_cluster = None if ci.status is CiStatus.DECOMMISSIONED or record is None else record.cluster
        return {"device": None, "cluster": kept_cluster, "site": current_site}

    async def _rewrite(
        self, record: IndexRecord, ci: Ci, slots: dict[str, int], extra: list[dict[str, str]], actor: str
    ) -> Ci:
        """Write ``record`` as ``ci`` with these relationships; a cluster moving to another
        site takes its member devices along first (NetBox refuses a cluster whose hosts are
        elsewhere)."""
        payload = self._placement(record.model, ci, slots, record)
        if record.model == CLUSTER and slots.get("scope") not in (None, record.view.slots.get("scope")):
            site = slots["scope"]
            members = [
                other
                for other in self._records.values()
                if other.model == DEVICE and other.view.slots.get("cluster") == record.netbox_id and other.site != site
            ]
            if members:
                moved = await self.client.run(
                    self.writer.move_devices, record, [m.netbox_id for m in members], site, actor
                )
                for data in moved:
                    self._index(read_record(DEVICE, data))
        data = await self.client.run(
            self.writer.write, record.model, record.netbox_id, ci, payload, extra, record.other_tags, actor
        )
        return self._index(read_record(record.model, data)).ci

    # History --------------------------------------------------------------------------

    def _history_entries(self, record: IndexRecord, change: dict[str, Any]) -> list[HistoryEntry]:
        """The CI history of one NetBox object change (none when no CI field changed)."""
        message = change.get("message") or ""
        actor = message[len(CHANGELOG_PREFIX) :] if message.startswith(CHANGELOG_PREFIX) else None
        key = f"netbox:change:{change['id']}"

        def entry(action: str, suffix: str = "", **change_data: dict[str, Any]) -> HistoryEntry:
            return HistoryEntry(
                id=key + suffix,
                ci_id=record.ci.id,
                at=datetime.fromisoformat(change["time"]),
                actor=actor or f"netbox:{change.get('user_name') or 'unknown'}",
                action=action,
                **change_data,
            )

        snapshots = [change.get(name) for name in ("prechange_data", "postchange_data")]
        pre, post = (read_view(record.model, data, self.schema.site_type) if data else None for data in snapshots)
        action = choice_value(change["action"])
        if action == "create" and post is not None:
            return [entry("created", after=post.ci_fields())]
        if pre is None:
            return []
        if action == "delete" or post is None:
            return [entry("decommissioned", before=pre.ci_fields())]
        entries = []
        before, after = pre.ci_fields(), post.ci_fields()
        changed = [field for field in ("name", "attributes", "tags", "status") if before[field] != after[field]]
        if changed:
            name = "updated"
            if pre.status is not post.status:
                name = "decommissioned" if post.status is CiStatus.DECOMMISSIONED else "recommissioned"
            entries.append(entry(name, before={f: before[f] for f in changed}, after={f: after[f] for f in changed}))
        old, new = pre.relationships(record.ci.id), post.relationships(record.ci.id)
        entries += [entry("relationship_added", f"+{rel}", after=new[rel]) for rel in sorted(new.keys() - old.keys())]
        entries += [
            entry("relationship_removed", f"-{rel}", before=old[rel]) for rel in sorted(old.keys() - new.keys())
        ]
        return entries
