"""The drift service: observations in, drift events out, and the rules that follow.

Sources (``dcsim_drift_register_sources``) turn bus events into observations; each is
compared (``dcsim_drift_values_equal``) and matched to a policy. A difference opens the
one live event of its CI and field (a repeat updates it) and publishes ``drift.detected``
shaped as ITSM's drift rule reads it, so ITSM opens a change request when the policy
asks, and the runner's trigger remediates when it asks (the playbook from
``dcsim_drift_choose_remediation``). The runner's ``ansible.run.completed`` carries the
drift's correlation id: drift re-checks the field and resolves the event, or escalates it
to an incident when the run failed or the field is still drifted. Nothing polls.

What other processes on the store write (events, policies, desired state, the answer
key) reaches this one's maps through the change feed (``dcsim.store.changes``); a get
of an event this process has not seen yet reads the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.convert import from_json, to_json
from dcsim.drift import answer_key
from dcsim.drift.model import LIVE_STATES, DriftEvent, DriftState, Observation, Policy, TruthItem
from dcsim.drift.policies import itsm_policy, policy_for, seed_policies, suppressed
from dcsim.drift.registry import DriftSourceRegistry
from dcsim.errors import Conflict, DcsimError, NotFound, ServiceUnavailable
from dcsim.model import utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.cmdb.model import Ci
    from dcsim.model import Event
    from dcsim.settings import Settings
    from dcsim.store.changes import Update

log = structlog.get_logger(__name__)

NAMESPACE = "drift"
SOURCE = "dcsim.drift"
ACTOR = "drift"


class DriftService:
    """Drift of one instance: policies, events, desired state and the answer key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sources = DriftSourceRegistry()
        self.policies: dict[str, Policy] = {}
        self.events: dict[str, DriftEvent] = {}
        self.truth: list[TruthItem] = []
        self._desired: dict[tuple[str, str], Any] = {}
        #: Store versions of the documents held, so an older copy never replaces a newer one.
        self._versions: dict[str, int] = {}
        self._dcsim: DcSim | None = None
        self.lock = asyncio.Lock()
        #: Clock of detections (tests and the answer key read it).
        self.clock: Callable[[], Any] = utcnow

    @property
    def dcsim(self) -> DcSim:
        if self._dcsim is None:
            raise ServiceUnavailable("drift has not started")
        return self._dcsim

    async def start(self, dcsim: DcSim) -> None:
        """Load policies (the seed's on a fresh store), events, desired state and ground truth; collect sources."""
        self._dcsim = dcsim
        # A fresh registry: an instance started again (a restarted app) collects its sources anew.
        self.sources = DriftSourceRegistry()
        dcsim.plugins.register_each("dcsim_drift_register_sources", registry=self.sources)
        # Before the read: a write committed meanwhile is applied again, never missed.
        dcsim.changes.follow([NAMESPACE], self._apply)
        documents = await asyncio.to_thread(dcsim.store.list, NAMESPACE)
        for document in documents:
            self._take(document.key, document.value, document.version)
        if not any(document.key.startswith("policy/") for document in documents):
            for policy in seed_policies():
                await self.save_policy(policy)
        self.truth.sort(key=lambda item: item.injected_at)

    def _take(self, name: str, value: dict[str, Any] | None, version: int) -> None:
        """Hold document ``name`` of the namespace (None: it was deleted) at ``version``."""
        if value is not None and version <= self._versions.get(name, 0):
            return
        self._versions[name] = version
        kind, _, key = name.partition("/")
        if kind == "policy":
            self.policies.pop(key, None)
            if value is not None:
                self.policies[key] = from_json(value, Policy)
        elif kind == "event":
            self.events.pop(key, None)
            if value is not None:
                self.events[key] = from_json(value, DriftEvent)
        elif kind == "desired" and value is not None:
            self._desired[(value["object_id"], value["field"])] = value["value"]
        elif kind == "truth" and value is not None:
            item = from_json(value, TruthItem)
            self.truth = sorted([t for t in self.truth if t.id != item.id] + [item], key=lambda t: t.injected_at)

    def _apply(self, updates: list[Update]) -> None:
        """Take what other processes wrote (the change feed's callback)."""
        for update in updates:
            document = update.document
            self._take(
                update.key, None if document is None else document.value, 0 if document is None else document.version
            )

    async def _put(self, name: str, value: dict[str, Any]) -> None:
        document = await asyncio.to_thread(self.dcsim.store.put, NAMESPACE, name, value)
        self._versions[name] = max(self._versions.get(name, 0), document.version)

    # Desired state --------------------------------------------------------------------

    async def desired(self, object_id: str, field: str) -> Any:
        """The desired value of ``field`` of ``object_id`` drift knows, or None."""
        return self._desired.get((object_id, field))

    async def remember(self, object_id: str, field: str, value: Any) -> None:
        """Record ``value`` as the desired value of ``field`` of ``object_id``."""
        self._desired[(object_id, field)] = value
        await self._put(f"desired/{object_id}/{field}", {"object_id": object_id, "field": field, "value": value})

    async def desired_values(self) -> list[tuple[str, str, Any]]:
        """Every (object id, field, desired value) drift knows."""
        return [(object_id, field, value) for (object_id, field), value in self._desired.items()]

    # World and CMDB lookups ------------------------------------------------------------

    def world_object(self, object_id: str) -> Any | None:
        """The simulated object ``object_id``, or None."""
        try:
            world = self.dcsim.sim.world
        except ServiceUnavailable:
            return None
        for _, objects in world.kinds():
            for obj in objects:
                if obj.id == object_id:
                    return obj
        return None

    def kind_of(self, obj: Any) -> str:
        """The kind name of a simulated object."""
        return str(self.dcsim.sim.world.kind_of(obj))

    def _cmdb(self) -> Any | None:
        from dcsim.cmdb.service import Cmdb

        return self.dcsim.services.find(Cmdb)

    async def ci(self, ci_id: str) -> Ci | None:
        """The CI ``ci_id``, or None (no such CI, or no CMDB)."""
        cmdb = self._cmdb()
        if cmdb is None:
            return None
        try:
            found: Ci = await cmdb.backend.get_ci(ci_id)
        except (NotFound, DcsimError):
            return None
        return found

    async def _ci_of_object(self, object_id: str) -> Ci | None:
        cmdb = self._cmdb()
        if cmdb is None:
            return None
        try:
            found: Ci | None = await cmdb.backend.find_by_source(object_id)
        except DcsimError:
            return None
        return found

    # Events in -------------------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        """Subscriber of every bus event: ground truth, sources, and remediation results."""
        if event.source == SOURCE:
            return
        if event.type == "fault.injected":
            await answer_key.record_fault(self, event)
        if event.type == "ansible.run.completed":
            await self._run_completed(event)
        if event.type == "change.completed":
            await self._change_completed(event)
        for source in self.sources:
            if not source.wants(event.type):
                continue
            try:
                for observation in await source.observe(self, event):
                    await self.process(observation)
            except DcsimError:
                raise
            except Exception:
                # A source's bug: redelivering the event would meet it again.
                log.exception("drift.source_failed", source=source.name, event_id=event.id)

    async def process(self, observation: Observation) -> DriftEvent | None:
        """Compare one observation and open, update or resolve its drift event."""
        equal = self.dcsim.call.drift_values_equal(
            field=observation.field, desired=observation.desired, actual=observation.actual
        )
        ci = await self._ci_of_object(observation.object_id)
        policy = policy_for(list(self.policies.values()), observation.kind, observation.field, ci.tags if ci else {})
        async with self.lock:
            live = self.live(observation.object_id, observation.field)
            if equal:
                if live is not None:
                    await self._resolve(live, "the field is back at its desired value")
                return live
            if policy is None:
                return None
            if live is not None:
                live.actual, live.updated_at, live.occurrences = observation.actual, self.clock(), live.occurrences + 1
                live.diff = observation.diff or live.diff
                await self._save(live)
                return live
            return await self._open(observation, policy, ci)

    def live(self, object_id: str, field: str) -> DriftEvent | None:
        """The live (not resolved) event of ``field`` of ``object_id``, or None."""
        return next(
            (
                e
                for e in self.events.values()
                if e.object_id == object_id and e.field == field and e.state in LIVE_STATES
            ),
            None,
        )

    async def _open(self, observation: Observation, policy: Policy, ci: Ci | None) -> DriftEvent:
        ci_ref = ci.id if ci else observation.object_id
        now = self.clock()
        event = DriftEvent(
            ci=ci_ref, ci_name=ci.name if ci else observation.name, ci_type=observation.kind,
            object_id=observation.object_id, field=observation.field, category=policy.category,
            severity=policy.severity, policy=policy.id, desired=observation.desired, actual=observation.actual,
            diff=observation.diff, node=observation.node, detected_at=now, updated_at=now,
            correlation_id=f"drift:{ci_ref}:{observation.field}",
        )  # fmt: skip
        refs = (observation.object_id, ci_ref, event.ci_name)
        if suppressed(policy, refs, observation.field, now):
            event.state = DriftState.SUPPRESSED
            await self._save(event)
            return event
        if policy.auto_remediate:
            event.state = DriftState.REMEDIATING
        await self._save(event)
        await self._publish_detected(event, policy, remediate=policy.auto_remediate)
        return event

    async def _publish_detected(self, event: DriftEvent, policy: Policy, *, remediate: bool) -> None:
        remediation = None
        shaped = itsm_policy(policy, None)
        if remediate:
            remediation = self.dcsim.plugins.first_result(
                "dcsim_drift_choose_remediation", _playbook, drift=to_json(event), policy=to_json(policy)
            )
            shaped = itsm_policy(policy, remediation) | {"auto_remediate": True}
        data = {
            "id": event.id, "ci": event.ci, "ci_name": event.ci_name, "field": event.field,
            "desired": event.desired, "actual": event.actual, "diff": event.diff, "severity": event.severity,
            "category": event.category.value, "policy": shaped, "notify": list(policy.notify),
            "correlation_id": event.correlation_id,
            "detected_at": event.detected_at.isoformat(),
        }  # fmt: skip
        await self.dcsim.publish("drift.detected", data, source=SOURCE, subject=f"drift/{event.id}")

    async def _resolve(self, event: DriftEvent, why: str) -> None:
        event.state, event.resolved_at, event.updated_at = DriftState.RESOLVED, self.clock(), self.clock()
        event.notes.append(why)
        await self._save(event)
        data = {"id": event.id, "ci": event.ci, "field": event.field, "correlation_id": event.correlation_id,
                "resolved_at": event.resolved_at.isoformat(), "reason": why}  # fmt: skip
        await self.dcsim.publish("drift.resolved", data, source=SOURCE, subject=f"drift/{event.id}")

    async def _save(self, event: DriftEvent) -> None:
        self.events[event.id] = event
        await self._put(f"event/{event.id}", to_json(event))

    # Remediation results ---------------------------------------------------------------

    async def _run_completed(self, event: Event) -> None:
        correlation_id = str(event.data.get("correlation_id") or "")
        drift = next(
            (e for e in self.events.values() if e.correlation_id == correlation_id and e.state in LIVE_STATES), None
        )
        if drift is None:
            return
        drift.remediation_run = str(event.data.get("run_id") or "") or None
        status = str(event.data.get("status", ""))
        if status != "successful":
            await self.escalate(drift, f"remediation run {drift.remediation_run} ended {status}")
            return
        observation = await self._recheck(drift)
        if observation is None:
            await self._save(drift)
            return
        result = await self.process(observation)
        if result is not None and result.state in LIVE_STATES:
            await self.escalate(result, "still drifted after a successful remediation run")

    async def _change_completed(self, event: Event) -> None:
        """A completed change authorises what it changed: the live drift of its CIs (or with
        its correlation id) becomes the new desired state, and the events are resolved."""
        change = event.data.get("change") or {}
        cis = {str(ci) for ci in change.get("affected_cis") or []}
        correlation_id = change.get("correlation_id")
        async with self.lock:
            accepted = [
                e for e in self.events.values()
                if e.state in LIVE_STATES and (e.ci in cis or (correlation_id and e.correlation_id == correlation_id))
            ]  # fmt: skip
            for drift in accepted:
                await self.remember(drift.object_id, drift.field, drift.actual)
                await self._resolve(drift, f"accepted by change {change.get('number', '')}".strip())

    async def _recheck(self, drift: DriftEvent) -> Observation | None:
        for source in self.sources:
            if source.recheck is not None and source.answers_for(drift.field):
                return await source.recheck(self, drift)
        return None

    async def escalate(self, event: DriftEvent, why: str) -> DriftEvent:
        """Open an incident for ``event`` (when ITSM is on) and mark it escalated."""
        from dcsim.itsm.model import IncidentRequest
        from dcsim.itsm.service import Itsm

        itsm = self.dcsim.services.find(Itsm)
        if itsm is not None and event.incident is None:
            urgency = {"critical": 1, "high": 2, "medium": 3}.get(event.severity, 4)
            request = IncidentRequest(
                title=f"Drift of {event.field} on {event.ci_name} not remediated",
                description=f"{why}. Desired {event.desired!r}, actual {event.actual!r}.",
                impact=2, urgency=urgency, affected_cis=[event.ci] if event.ci != event.object_id else [],
                correlation_id=event.correlation_id,
            )  # fmt: skip
            incident = await itsm.incidents.create(request, f"rule:{ACTOR}", source_data={"drift": event.id})
            event.incident = incident.number
        event.state, event.updated_at = DriftState.ESCALATED, self.clock()
        event.notes.append(why)
        await self._save(event)
        return event

    # Actions (the API) -----------------------------------------------------------------

    def get(self, event_id: str) -> DriftEvent:
        """The drift event ``event_id``; NotFound otherwise."""
        if event_id not in self.events and self.dcsim.changes.active:
            # Made by another process within the feed's staleness bound, or not at all; a
            # blocking read, on a miss only.
            document = self.dcsim.store.find(NAMESPACE, f"event/{event_id}")
            if document is not None:
                self._take(document.key, document.value, document.version)
        try:
            return self.events[event_id]
        except KeyError:
            raise NotFound(f"no drift event {event_id!r}") from None

    async def set_state(self, event_id: str, state: DriftState, note: str) -> DriftEvent:
        """Acknowledge or suppress a live event; Conflict for a resolved one."""
        async with self.lock:
            event = self.get(event_id)
            if event.state is DriftState.RESOLVED:
                raise Conflict(f"drift event {event_id} is resolved")
            event.state, event.updated_at = state, self.clock()
            if note:
                event.notes.append(note)
            await self._save(event)
            return event

    async def remediate(self, event_id: str) -> DriftEvent:
        """Ask the runner to put a live drift back (``drift.detected`` with ``auto_remediate``)."""
        async with self.lock:
            event = self.get(event_id)
            if event.state is DriftState.RESOLVED:
                raise Conflict(f"drift event {event_id} is resolved")
            policy = self.policies.get(event.policy) or Policy(id=event.policy, name=event.policy)
            event.state, event.updated_at = DriftState.REMEDIATING, self.clock()
            await self._save(event)
            await self._publish_detected(event, policy, remediate=True)
            return event

    async def reconcile(self) -> dict[str, int]:
        """Sweep every source that can and process what it sees (``POST /drift/reconcile``)."""
        seen, before = 0, sum(1 for e in self.events.values() if e.state in LIVE_STATES)
        for source in self.sources:
            if source.sweep is None:
                continue
            for observation in await source.sweep(self):
                seen += 1
                await self.process(observation)
        after = sum(1 for e in self.events.values() if e.state in LIVE_STATES)
        return {"observed": seen, "open_before": before, "open_after": after}

    async def save_policy(self, policy: Policy) -> Policy:
        """Create or replace a policy."""
        self.policies[policy.id] = policy
        await self._put(f"policy/{policy.id}", to_json(policy))
        return policy

    async def delete_policy(self, policy_id: str) -> None:
        """Delete a policy; NotFound when there is none."""
        if self.policies.pop(policy_id, None) is None:
            raise NotFound(f"no drift policy {policy_id!r}")
        await asyncio.to_thread(self.dcsim.store.delete, NAMESPACE, f"policy/{policy_id}")


def _playbook(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("a remediation is a playbook name")
    return value
