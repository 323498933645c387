"""Event triggers: bus events that start runs, each rule listed and switchable (SPEC-013).

- ``drift-remediation``: ``drift.detected`` whose policy says ``auto_remediate`` runs the
  remediation playbook of the drifted field (the policy's ``remediation`` when it names
  one) limited to the CI's node.
- ``patch-runs``: ``patch.scheduled`` runs the patch playbook of the targets' OS.

A run a trigger starts carries the event's correlation id (its data's
``correlation_id``, else ``drift:<ci>:<field>`` as ITSM's drift rule names it, else the
event id), and so does its ``ansible.run.completed``. A redelivered event starts nothing
new: the event id is recorded with the run.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from dcsim.errors import Conflict, DcsimError, NotFound
from dcsim.model import Event
from dcsim_ansible.records import RunCreate, Trigger
from dcsim_ansible.runbook import TRIGGERS

if TYPE_CHECKING:
    from dcsim_ansible.service import AnsibleRunner

log = structlog.get_logger(__name__)

RULES: dict[str, tuple[str, str]] = {
    "drift-remediation": (
        "drift.detected",
        "drift.detected whose policy has auto_remediate runs the field's remediation playbook on that CI's node",
    ),
    "patch-runs": ("patch.scheduled", "patch.scheduled runs patch-rhel or patch-ubuntu on the scheduled targets"),
}
#: The event types the trigger subscriber receives.
EVENT_TYPES = tuple(sorted({event_type for event_type, _ in RULES.values()}))


def remediation_playbook(field: str) -> str:
    """The library playbook that puts a drifted field back."""
    lowered = field.lower()
    if "package" in lowered:
        return "remediate-package-drift"
    if any(word in lowered for word in ("network", "interface", "vlan", "route")):
        return "remediate-network-drift"
    return "remediate-config-drift"


class Triggers:
    """The trigger rules and whether each is on (kept in the store, shared by every process)."""

    def __init__(self, runner: AnsibleRunner, disabled: tuple[str, ...] = ()) -> None:
        self.runner = runner
        self.disabled_at_start = set(disabled)

    def _enabled(self, name: str) -> bool:
        document = self.runner.dcsim.store.find(TRIGGERS, name)
        return bool(document.value["enabled"]) if document else name not in self.disabled_at_start

    async def list(self) -> list[Trigger]:
        """Every rule with its state."""
        found = []
        for name, (event_type, description) in RULES.items():
            enabled = await asyncio.to_thread(self._enabled, name)
            found.append(Trigger(name=name, event_type=event_type, description=description, enabled=enabled))
        return found

    async def switch(self, name: str, enabled: bool) -> Trigger:
        """Switch rule ``name`` on or off; NotFound for an unknown rule."""
        if name not in RULES:
            raise NotFound(f"no trigger rule {name!r}; rules: {', '.join(RULES)}")
        await asyncio.to_thread(self.runner.dcsim.store.put, TRIGGERS, name, {"enabled": enabled})
        event_type, description = RULES[name]
        return Trigger(name=name, event_type=event_type, description=description, enabled=enabled)

    async def handle(self, event: Event) -> None:
        """Start the run an event asks for, if its rule is on."""
        for name, (event_type, _) in RULES.items():
            if event.type != event_type or not await asyncio.to_thread(self._enabled, name):
                continue
            try:
                if name == "drift-remediation":
                    await self._drift(event)
                else:
                    await self._patch(event)
            except Conflict:
                log.info("ansible.trigger_already_handled", event_id=event.id, rule=name)
            except (DcsimError, msgspec.ValidationError) as exc:
                # A malformed event or a missing playbook: redelivery would not mend it.
                log.warning("ansible.trigger_refused", event_id=event.id, rule=name, error=str(exc))

    async def _node_of(self, ci_ref: str) -> str | None:
        from dcsim.cmdb.service import Cmdb

        cmdb = self.runner.dcsim.services.find(Cmdb)
        if cmdb is None:
            return None
        try:
            ci = await cmdb.backend.get_ci(ci_ref)
        except NotFound:
            return None
        node = ci.attributes.get("node")
        return str(node) if node else None

    async def _drift(self, event: Event) -> None:
        data = event.data
        policy = data.get("policy") or {}
        if not isinstance(policy, dict) or not policy.get("auto_remediate"):
            return
        ci, field = str(data.get("ci", "")), str(data.get("field", ""))
        node = await self._node_of(ci) or ci
        playbook = str(policy.get("remediation") or remediation_playbook(field))
        correlation_id = str(data.get("correlation_id") or f"drift:{ci}:{field}")
        extra: dict[str, Any] = {"target": node, "drift_ci": ci, "drift_field": field}
        for key in ("desired", "actual"):
            if key in data:
                extra[f"drift_{key}"] = data[key]
        create = RunCreate(playbook=playbook, limit=node, extra_vars=extra)
        await self.runner.request(
            create, actor="trigger:drift-remediation", trigger=event.type, correlation_id=correlation_id, cause=event.id
        )

    async def _patch(self, event: Event) -> None:
        data = event.data
        targets = data.get("targets") or data.get("cis") or []
        nodes = [await self._node_of(str(t)) or str(t) for t in targets] if isinstance(targets, list) else []
        os_name = str(data.get("os", "")).lower()
        playbook = str(data.get("playbook") or ("patch-rhel" if "rhel" in os_name else "patch-ubuntu"))
        given = data.get("extra_vars")
        extra: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
        create = RunCreate(playbook=playbook, limit=",".join(nodes) or None, extra_vars=extra)
        correlation_id = str(data.get("correlation_id") or event.id)
        await self.runner.request(
            create, actor="trigger:patch-runs", trigger=event.type, correlation_id=correlation_id, cause=event.id
        )
