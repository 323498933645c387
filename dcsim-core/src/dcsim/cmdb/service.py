"""The CMDB service: sync from the simulation, impact analysis, Ansible inventory.

Written once against :class:`dcsim.cmdb.backend.CmdbBackend`, so every backend gets
the same behaviour. Sync bootstraps on start, follows simulation events, and
reconciles on demand; it is idempotent (a second run changes nothing).
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import structlog

from dcsim.cmdb.backend import CiQuery, CmdbBackend
from dcsim.cmdb.mapping import InventoryGroupRegistry, MappingRegistry, application_source_id
from dcsim.cmdb.model import Ci, CiSpec, CiStatus, Relationship, RelationshipSpec
from dcsim.convert import to_json
from dcsim.drivers import driver_class, load_driver
from dcsim.errors import Conflict, InvalidInput, Unavailable
from dcsim.etag import check_if_match
from dcsim.model import Event, utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

SYNC_ACTOR = "sync"
SOURCE = "/cmdb"
#: What the sync subscriber receives: every event, since plugins register the types
#: that change CIs when the CMDB starts (``MappingRegistry.add_sync_events``), after
#: subscriptions are fixed; ``on_event`` keeps the registered ones.
SYNC_EVENT_TYPES = ("*",)
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    "cmdb.ci.created": ("a CI was created", {"ci": "the CI", "actor": "who"}),
    "cmdb.ci.updated": ("a CI changed", {"ci": "the CI after", "changes": "field -> [before, after]", "actor": "who"}),
    "cmdb.ci.decommissioned": ("a CI was decommissioned", {"ci": "the CI", "actor": "who"}),
    "cmdb.sync.completed": ("a sync run finished", {"trigger": "bootstrap | event | manual", "counts": "what changed"}),
}


@attrs.define(kw_only=True)
class SyncRun:
    """What one sync run did."""

    trigger: str
    started_at: datetime
    finished_at: datetime | None = None
    created: int = 0
    updated: int = 0
    decommissioned: int = 0
    unchanged: int = 0
    relationships_added: int = 0
    relationships_removed: int = 0
    errors: list[str] = attrs.field(factory=list)

    @property
    def changes(self) -> int:
        """How many records the run wrote."""
        return self.created + self.updated + self.decommissioned + self.relationships_added + self.relationships_removed


class Cmdb:
    """``dcsim.services["cmdb"]``: the CMDB of an instance."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.backend: CmdbBackend = load_driver("dcsim.cmdb", settings)
        self.last_run: SyncRun | None = None
        self.last_full_run: SyncRun | None = None
        self._lock = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None
        self._dcsim: DcSim | None = None
        self.mappings = MappingRegistry()
        self.inventory_groups = InventoryGroupRegistry()

    async def start(self, dcsim: DcSim) -> None:
        """Collect the mappings and inventory groups from the plugins, start the backend
        and bootstrap from the simulation (retried while unreachable)."""
        self._dcsim = dcsim
        self.mappings = MappingRegistry()
        dcsim.plugins.register_each("dcsim_cmdb_register_mappings", registry=self.mappings)
        self.inventory_groups = InventoryGroupRegistry()
        dcsim.plugins.register_each("dcsim_cmdb_register_inventory_groups", registry=self.inventory_groups)
        try:
            await self.backend.start(dcsim)
            await self.sync("bootstrap")
        except Unavailable as exc:
            log.warning("cmdb.bootstrap_deferred", error=exc.detail)
            self._retry = asyncio.create_task(self._bootstrap_until_done())

    async def close(self) -> None:
        """Stop a pending bootstrap and close the backend."""
        if self._retry is not None:
            self._retry.cancel()
            await asyncio.gather(self._retry, return_exceptions=True)
        await self.backend.close()

    @property
    def dcsim(self) -> DcSim:
        if self._dcsim is None:
            raise RuntimeError("the CMDB is not started")
        return self._dcsim

    @property
    def resync_pending(self) -> bool:
        """True while a full sync waits for the backend to come back."""
        return self._retry is not None and not self._retry.done()

    async def _bootstrap_until_done(self, trigger: str = "bootstrap") -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self.backend.start(self.dcsim)
                await self.sync(trigger)
                return
            except Unavailable as exc:
                log.warning("cmdb.sync_retry", trigger=trigger, error=exc.detail, retry_in=delay)
                delay = min(delay * 2, 30.0)

    # Sync ------------------------------------------------------------------------------

    async def sync(self, trigger: str = "manual") -> SyncRun:
        """Reconcile the whole CMDB with the simulation."""
        async with self._lock:
            run = SyncRun(trigger=trigger, started_at=utcnow())
            specs, relationships = self.mappings.desired_state(self.dcsim.sim.world)
            by_source: dict[str, Ci] = {}
            async with self.backend.batch():
                for spec in specs:
                    # One CI the backend refuses (NetBox validation, a conflict) is that
                    # CI's error, not the end of the run; an unreachable backend still is.
                    try:
                        by_source[spec.source_id] = await self._upsert(spec, run)
                    except (InvalidInput, Conflict) as exc:
                        run.errors.append(f"{spec.type} {spec.name}: {exc.detail}")
                wanted = {spec.source_id for spec in specs}
                _, existing = await self.backend.list_cis(CiQuery(status="all", limit=10**9))
                # Relationships first, so a decommissioned CI's history ends with its decommissioning.
                await self._reconcile_relationships(relationships, by_source, None, run)
                for ci in existing:
                    if ci.source == "sim" and ci.source_id not in wanted and ci.status is CiStatus.ACTIVE:
                        try:
                            await self._decommission(ci, run)
                        except (InvalidInput, Conflict) as exc:
                            run.errors.append(f"{ci.type} {ci.name}: {exc.detail}")
            return await self._finish(run, full=True)

    async def sync_object(self, kind: str, object_id: str, trigger: str = "event") -> SyncRun:
        """Reconcile the CI of one simulated object and the relationships it starts."""
        async with self._lock:
            run = SyncRun(trigger=trigger, started_at=utcnow())
            world = self.dcsim.sim.world
            kinds = world.kinds_registry
            obj: Any = world.find(kinds.get(kind).cls, object_id) if kind in kinds else None
            mapped = self.mappings.map(world, obj) if obj is not None else None
            async with self.backend.batch():  # the CI's writes and events in one commit
                await self._sync_mapped(mapped, object_id, run)
            return await self._finish(run, full=False)

    async def _sync_mapped(self, mapped: Any, object_id: str, run: SyncRun) -> None:
        """Upsert (or decommission) the CI of one object and reconcile its relationships."""
        if mapped is None:
            ci = await self.backend.find_by_source(object_id)
            if ci is not None and ci.status is CiStatus.ACTIVE:
                await self._reconcile_relationships([], {}, ci.id, run)
                await self._decommission(ci, run)
        else:
            spec, relationships = mapped
            ci = await self._upsert(spec, run)
            by_source = {spec.source_id: ci}
            for rel in relationships:
                for end in (rel.source_id, rel.target_id):
                    if end.startswith("application:") and end not in by_source:
                        name = end.split(":", 1)[1]
                        app = CiSpec(type="application", name=name, source_id=end, attributes={}, tags={})
                        by_source[end] = await self._upsert(app, run)
            await self._reconcile_relationships(relationships, by_source, ci.id, run)

    async def on_event(self, dcsim: DcSim, event: Event) -> None:
        """Subscriber of simulation events: sync the object the event is about.

        While the backend is unreachable the event is not retried one by one: a full
        reconcile is scheduled for when it is back, which covers every missed change.
        """
        if not self.mappings.wants(event.type):
            return
        kind, _, object_id = (event.subject or "").partition("/")
        try:
            if kind == "fault":
                targets = event.data.get("fault", {}).get("targets", [])
                for target in targets:
                    await self.sync_object(target["kind"], target["id"])
            elif object_id:
                await self.sync_object(kind, object_id)
            for related_kind, related_id in self.mappings.related(event):
                await self.sync_object(related_kind, related_id)
        except Unavailable as exc:
            self._schedule_resync(exc)

    def _schedule_resync(self, exc: Unavailable) -> None:
        if self._retry is None or self._retry.done():
            log.warning("cmdb.backend_unavailable", error=exc.detail, action="full sync when it is back")
            self._retry = asyncio.create_task(self._bootstrap_until_done(trigger="resume"))

    async def _upsert(self, spec: CiSpec, run: SyncRun) -> Ci:
        ci = await self.backend.find_by_source(spec.source_id)
        if ci is None:
            ci = Ci(type=spec.type, name=spec.name, attributes=spec.attributes, tags=spec.tags, source="sim",
                    source_id=spec.source_id)  # fmt: skip
            ci = await self.backend.create_ci(ci, SYNC_ACTOR)
            run.created += 1
            await self._publish("cmdb.ci.created", {"ci": to_json(ci), "actor": SYNC_ACTOR}, ci)
            return ci
        wanted = {"name": spec.name, "attributes": spec.attributes, "tags": spec.tags, "status": CiStatus.ACTIVE}
        current = {"name": ci.name, "attributes": ci.attributes, "tags": ci.tags, "status": ci.status}
        changes = {key: value for key, value in wanted.items() if to_json(current[key]) != to_json(value)}
        if not changes:
            run.unchanged += 1
            return ci
        updated = await self.backend.update_ci(ci.id, changes, SYNC_ACTOR)
        run.updated += 1
        diff = {key: [to_json(current[key]), to_json(value)] for key, value in changes.items()}
        await self._publish("cmdb.ci.updated", {"ci": to_json(updated), "changes": diff, "actor": SYNC_ACTOR}, updated)
        return updated

    async def _decommission(self, ci: Ci, run: SyncRun) -> None:
        ci = await self.backend.update_ci(ci.id, {"status": CiStatus.DECOMMISSIONED}, SYNC_ACTOR)
        run.decommissioned += 1
        await self._publish("cmdb.ci.decommissioned", {"ci": to_json(ci), "actor": SYNC_ACTOR}, ci)

    async def _reconcile_relationships(
        self, specs: list[RelationshipSpec], by_source: dict[str, Ci], scope: str | None, run: SyncRun
    ) -> None:
        """Make sync-made relationships match ``specs``; with ``scope`` only those whose
        source is that CI (or, for a removed CI, either end)."""
        resolved: set[tuple[str, str, str]] = set()
        for spec in specs:
            source = by_source.get(spec.source_id) or await self.backend.find_by_source(spec.source_id)
            target = by_source.get(spec.target_id) or await self.backend.find_by_source(spec.target_id)
            if source is None or target is None:
                run.errors.append(f"{spec.type}: {spec.source_id} -> {spec.target_id} has no CI at one end")
                continue
            resolved.add((spec.type, source.id, target.id))
        existing = [r for r in await self.backend.relationships(scope) if r.origin == "sim"]
        if scope is not None and specs:
            existing = [r for r in existing if r.source_id == scope or _is_application_link(r, scope, specs)]
        have = {(r.type, r.source_id, r.target_id): r for r in existing}
        for key in sorted(resolved - have.keys()):
            await self.backend.add_relationship(
                Relationship(type=key[0], source_id=key[1], target_id=key[2], origin="sim"), SYNC_ACTOR
            )
            run.relationships_added += 1
        for key in sorted(have.keys() - resolved):
            await self.backend.remove_relationship(have[key].id, SYNC_ACTOR)
            run.relationships_removed += 1

    async def _finish(self, run: SyncRun, *, full: bool) -> SyncRun:
        run.finished_at = utcnow()
        self.last_run = run
        if full:
            self.last_full_run = run
        if run.changes or full:
            counts = {k: v for k, v in to_json(run).items() if isinstance(v, int)}
            await self.dcsim.publish(
                "cmdb.sync.completed", {"trigger": run.trigger, "counts": counts}, source=SOURCE, subject="cmdb/sync"
            )
        log.info("cmdb.synced", trigger=run.trigger, changes=run.changes, errors=len(run.errors))
        return run

    async def _publish(self, event_type: str, data: dict[str, Any], ci: Ci) -> None:
        # Through the backend: one that keeps CIs in the store commits the event with the
        # current batch's writes (the outbox relay publishes it).
        event = self.dcsim.event(event_type, data, source=SOURCE, subject=f"ci/{ci.id}")
        await self.backend.add_event(self.dcsim.store, event)

    # Changes by people and tools --------------------------------------------------------

    async def create_ci(self, ci: Ci, actor: str) -> Ci:
        """Create a CI by hand; its type must be a registered CI type."""
        if ci.type not in self.dcsim.cmdb_types.ci_types:
            known = ", ".join(self.dcsim.cmdb_types.ci_types)
            raise InvalidInput(f"unknown CI type {ci.type!r}; known: {known}")
        if ci.source == "sim":
            raise InvalidInput("CIs with source 'sim' are made by sync only")
        async with self.backend.batch():  # the CI and its event in one commit
            created = await self.backend.create_ci(ci, actor)
            await self._publish("cmdb.ci.created", {"ci": to_json(created), "actor": actor}, created)
        return created

    async def update_ci(self, ci_id: str, changes: dict[str, Any], actor: str, if_match: str | None = None) -> Ci:
        """Change a CI's name, attributes, tags or status and record who did.

        ``if_match`` (an ``If-Match`` header) must name the CI's current entity tag, or
        the change is refused (412); the sync lock makes the check and the write one step.
        """
        async with self._lock, self.backend.batch():  # the change and its event in one commit
            before = await self.backend.get_ci(ci_id)
            check_if_match(if_match, before)
            updated = await self.backend.update_ci(ci_id, changes, actor)
            diff = {
                key: [to_json(getattr(before, key)), to_json(getattr(updated, key))]
                for key in changes
                if to_json(getattr(before, key)) != to_json(getattr(updated, key))
            }
            if diff:
                event = "cmdb.ci.decommissioned" if updated.status is CiStatus.DECOMMISSIONED else "cmdb.ci.updated"
                await self._publish(event, {"ci": to_json(updated), "changes": diff, "actor": actor}, updated)
        return updated

    async def add_relationship(self, relationship: Relationship, actor: str) -> Relationship:
        """Relate two CIs with a registered relationship type."""
        if relationship.type not in self.dcsim.cmdb_types.relationship_types:
            known = ", ".join(self.dcsim.cmdb_types.relationship_types)
            raise InvalidInput(f"unknown relationship type {relationship.type!r}; known: {known}")
        return await self.backend.add_relationship(relationship, actor)

    # Impact ---------------------------------------------------------------------------

    async def impact(self, ci_id: str, depth: int = 3) -> dict[str, Any]:
        """What ``ci_id`` depends on (upstream) and what depends on it (downstream).

        Relationships point from dependent to dependency (vm runs_on host), so
        downstream follows them backwards. Each CI appears once, at its shortest depth.
        """
        if not 1 <= depth <= 10:
            raise InvalidInput("depth must be 1..10")
        root = await self.backend.get_ci(ci_id)
        relationships = await self.backend.relationships()
        forward: dict[str, list[Relationship]] = {}
        backward: dict[str, list[Relationship]] = {}
        for rel in relationships:
            forward.setdefault(rel.source_id, []).append(rel)
            backward.setdefault(rel.target_id, []).append(rel)
        upstream = await self._walk(root, depth, lambda ci: [(r, r.target_id) for r in forward.get(ci, [])])
        downstream = await self._walk(root, depth, lambda ci: [(r, r.source_id) for r in backward.get(ci, [])])
        return {"ci": to_json(root), "depth": depth, "upstream": upstream, "downstream": downstream}

    async def _walk(self, root: Ci, depth: int, neighbours: Any) -> list[dict[str, Any]]:
        seen = {root.id}
        found: list[dict[str, Any]] = []
        queue: deque[tuple[str, int]] = deque([(root.id, 0)])
        while queue:
            ci_id, level = queue.popleft()
            if level == depth:
                continue
            for rel, other in neighbours(ci_id):
                if other in seen:
                    continue
                seen.add(other)
                ci = await self.backend.get_ci(other)
                if ci.status is CiStatus.DECOMMISSIONED:
                    continue
                found.append(
                    {
                        "id": ci.id,
                        "type": ci.type,
                        "name": ci.name,
                        "depth": level + 1,
                        "relationship": rel.type,
                        "via": ci_id,
                    }
                )
                queue.append((other, level + 1))
        return found

    # Ansible inventory ------------------------------------------------------------------

    async def inventory(self) -> dict[str, Any]:
        """Ansible dynamic-inventory JSON of every CI with an SSH endpoint (a node)."""
        _, cis = await self.backend.list_cis(CiQuery(limit=10**9))
        groups: dict[str, set[str]] = {}
        hostvars: dict[str, dict[str, Any]] = {}
        # How Ansible reaches a node is the node backend's to say (SSH unless it names more),
        # per node: lazy nodes may be virtual on another backend (sim/nodes/deferred.py).
        host_vars = self._node_host_vars()

        def add(group: str, host: str) -> None:
            groups.setdefault(_group_name(group), set()).add(host)

        for ci in cis:
            attributes = ci.attributes
            if "ansible_port" not in attributes:
                continue
            host = attributes["node"]
            hostvars[host] = {
                "ansible_host": attributes["ansible_host"],
                "ansible_port": attributes["ansible_port"],
                "ansible_user": attributes["ansible_user"],
                **host_vars(host),
                "dcsim_ci_id": ci.id,
                "dcsim_ci_type": ci.type,
                "dcsim_name": ci.name,
                "dcsim_tags": dict(ci.tags),
                **{f"dcsim_{k}": v for k, v in attributes.items() if not k.startswith("ansible_")},
            }
            for group in self.inventory_groups.groups(ci):
                add(group, host)
        inventory: dict[str, Any] = {"_meta": {"hostvars": hostvars}}
        inventory["all"] = {"children": [*sorted(groups), "ungrouped"]}
        for group, hosts in sorted(groups.items()):
            inventory[group] = {"hosts": sorted(hosts)}
        return inventory

    def _node_host_vars(self) -> Callable[[str], dict[str, str]]:
        """Host vars of a node by name: the running simulation's node backend knows which
        backend holds each node; without one, the configured backend's class says."""
        from dcsim.sim.engine import Simulation

        sim = self._dcsim.services.find(Simulation) if self._dcsim is not None else None
        if sim is not None:
            return sim.nodes.host_vars
        backend_vars = driver_class("dcsim.nodes", self.settings.node_backend).ansible_host_vars(self.settings)
        return lambda _node: backend_vars


def _group_name(name: str) -> str:
    """Ansible group names: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def _is_application_link(rel: Relationship, scope: str, specs: list[RelationshipSpec]) -> bool:
    """An application's runs_on link to the VM in scope is the VM's to reconcile."""
    return (
        rel.target_id == scope and rel.type == "runs_on" and any(s.source_id.startswith("application:") for s in specs)
    )


__all__ = ["EVENT_TYPES", "SYNC_EVENT_TYPES", "Cmdb", "SyncRun", "application_source_id"]
