"""The ``alertmanager-incidents`` rule: Alertmanager's webhook (payload version 4) to incidents.

Point an Alertmanager ``webhook_config`` at ``POST /itsm/alerts/alertmanager`` with an
operator token (``http_config.authorization.credentials``). For each alert:

- the priority is the ``priority`` label (``P1``..``P4``) if present, else it follows
  the ``severity`` label (:data:`SEVERITY_PRIORITY`); only P1 and P2 open incidents;
- the CI is named by the first of the labels :data:`CI_LABELS` that matches a CI
  (by id, simulated object id or name; ``instance`` loses its ``:port``);
- a firing alert opens an incident, correlated by the alert's fingerprint; firing
  again updates it (a higher priority, or a reopen when it was resolved);
- a resolved alert resolves its open incident.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from dcsim.errors import InvalidInput
from dcsim.itsm.model import PRIORITIES, Incident, IncidentPatch, IncidentRequest, IncidentState
from dcsim.web.contracts import ValidationFailed

if TYPE_CHECKING:
    from dcsim.cmdb.model import Ci
    from dcsim.itsm.service import Itsm

ALERTMANAGER_RULE = "alertmanager-incidents"
RECEIVER = "alertmanager"
ACTOR = f"rule:{ALERTMANAGER_RULE}"
#: Labels naming the CI an alert is about, in the order they are tried.
CI_LABELS = ("ci", "vm", "host", "instance")
SEVERITY_PRIORITY = {
    "critical": "P1",
    "page": "P1",
    "high": "P2",
    "major": "P2",
    "error": "P2",
    "warning": "P3",
    "minor": "P3",
    "info": "P4",
    "none": "P4",
}
#: Impact and urgency that give each priority in core's matrix.
PRIORITY_LEVELS = {"P1": (1, 1), "P2": (1, 2), "P3": (2, 2), "P4": (3, 3)}
_OPENS_INCIDENTS = ("P1", "P2")
_RESOLVABLE = (IncidentState.NEW, IncidentState.IN_PROGRESS, IncidentState.ON_HOLD)


Labels = dict[str, str]


class Alert(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One alert of a webhook message (Alertmanager's names, decoded strictly)."""

    status: str
    labels: Labels
    annotations: Labels = msgspec.field(default_factory=dict)
    starts_at: datetime | None = msgspec.field(default=None, name="startsAt")
    #: Alertmanager sends 0001-01-01T00:00:00Z while an alert fires.
    ends_at: datetime | None = msgspec.field(default=None, name="endsAt")
    generator_url: str = msgspec.field(default="", name="generatorURL")
    fingerprint: str = ""

    @property
    def key(self) -> str:
        """The fingerprint, or a hash of the labels from senders that omit it."""
        if self.fingerprint:
            return self.fingerprint
        return hashlib.sha256(json.dumps(self.labels, sort_keys=True).encode()).hexdigest()[:16]


class AlertmanagerMessage(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Alertmanager's webhook payload, version 4: every member it sends, and nothing else."""

    version: str
    status: str
    receiver: str = ""
    alerts: list[Alert]
    group_key: str = msgspec.field(default="", name="groupKey")
    truncated_alerts: int = msgspec.field(default=0, name="truncatedAlerts")
    group_labels: Labels = msgspec.field(default_factory=dict, name="groupLabels")
    common_labels: Labels = msgspec.field(default_factory=dict, name="commonLabels")
    common_annotations: Labels = msgspec.field(default_factory=dict, name="commonAnnotations")
    external_url: str = msgspec.field(default="", name="externalURL")


def decode_message(payload: dict[str, Any]) -> AlertmanagerMessage:
    """``payload`` as an :class:`AlertmanagerMessage`; a 422 naming the field otherwise
    (no coercion: a label that is not text is refused, not turned into text)."""
    try:
        return msgspec.convert(payload, AlertmanagerMessage, strict=True)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        field = where.rstrip("`").lstrip(".")
        if message.startswith("Object missing required field `"):
            field = ".".join(filter(None, (field, message.split("`")[1])))
        raise ValidationFailed(
            f"invalid Alertmanager message: {field or 'body'}: {message}", errors=[{"field": field, "message": message}]
        ) from None


def alert_priority(labels: dict[str, str]) -> str | None:
    """The priority an alert's labels ask for, or None when they say nothing known."""
    explicit = labels.get("priority", "").upper()
    if explicit in PRIORITIES:
        return explicit
    return SEVERITY_PRIORITY.get(labels.get("severity", "").lower())


async def alert_ci(itsm: Itsm, labels: dict[str, str]) -> Ci | None:
    """The CI the first matching label of :data:`CI_LABELS` names."""
    for label in CI_LABELS:
        value = labels.get(label)
        if not value:
            continue
        if label == "instance":
            value = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
        ci = await itsm.find_ci(value)
        if ci is not None:
            return ci
    return None


async def alertmanager_incidents(itsm: Itsm, payload: dict[str, Any]) -> dict[str, Any]:
    """Open, update or resolve an incident per alert; report what happened to each."""
    message = decode_message(payload)
    if message.version != "4":
        raise InvalidInput(f"Alertmanager webhook version {message.version!r} is not supported (only 4)")
    outcomes = [await _apply(itsm, message, alert) for alert in message.alerts]
    return {"alerts": outcomes}


async def _apply(itsm: Itsm, message: AlertmanagerMessage, alert: Alert) -> dict[str, Any]:
    outcome: dict[str, Any] = {
        "fingerprint": alert.key,
        "alertname": alert.labels.get("alertname", ""),
        "status": alert.status,
        "incident": None,
    }
    incident = itsm.incidents.find_open(f"alertmanager:{alert.key}")
    priority = alert_priority(alert.labels)
    if alert.status == "resolved":
        if incident is None or incident.state not in _RESOLVABLE:
            return outcome | {"outcome": "ignored", "reason": "no open incident for this alert"}
        notes = f"Alert {outcome['alertname']} resolved at {_when(alert.ends_at)} (Alertmanager)."
        incident = await itsm.incidents.act(incident.number, "resolve", {"resolution_notes": notes}, ACTOR)
        return outcome | {"outcome": "resolved", "incident": incident.number}
    if alert.status != "firing":
        return outcome | {"outcome": "ignored", "reason": f"unknown alert status {alert.status!r}"}
    if incident is None:
        if priority not in _OPENS_INCIDENTS:
            reason = f"priority {priority or 'unknown'} opens no incident (only {' and '.join(_OPENS_INCIDENTS)})"
            return outcome | {"outcome": "ignored", "reason": reason}
        incident = await _open(itsm, message, alert, priority)
        return outcome | {"outcome": "created", "incident": incident.number}
    if incident.state is IncidentState.RESOLVED:
        reason = f"Alert {outcome['alertname']} is firing again (Alertmanager)."
        incident = await itsm.incidents.act(incident.number, "reopen", {"reason": reason}, ACTOR)
        return outcome | {"outcome": "updated", "incident": incident.number}
    if priority in _OPENS_INCIDENTS and priority < incident.priority:
        impact, urgency = PRIORITY_LEVELS[priority]
        patch = IncidentPatch(impact=impact, urgency=urgency, priority=priority)
        incident = await itsm.incidents.update(incident.number, patch, ACTOR)
        return outcome | {"outcome": "updated", "incident": incident.number}
    return outcome | {"outcome": "unchanged", "incident": incident.number}


async def _open(itsm: Itsm, message: AlertmanagerMessage, alert: Alert, priority: str) -> Incident:
    ci = await alert_ci(itsm, alert.labels)
    alertname = alert.labels.get("alertname", "Alert")
    where = ci.name if ci else next((alert.labels[k] for k in CI_LABELS if alert.labels.get(k)), "unknown CI")
    links = [
        f"{name}: {url}"
        for name, url in (("Source", alert.generator_url), ("Alertmanager", message.external_url))
        if url
    ]
    description = "\n\n".join(part for part in (alert.annotations.get("description", ""), "\n".join(links)) if part)
    impact, urgency = PRIORITY_LEVELS[priority]
    request = IncidentRequest(
        title=alert.annotations.get("summary") or f"{alertname} on {where}",
        description=description,
        impact=impact,
        urgency=urgency,
        priority=priority,
        affected_cis=[ci.id] if ci else [],
        correlation_id=f"alertmanager:{alert.key}",
    )
    source = {"receiver": message.receiver, "group_key": message.group_key, "alert": msgspec.to_builtins(alert)}
    incident = await itsm.incidents.create(request, ACTOR, source_data=source)
    if ci is None:
        labels = ", ".join(CI_LABELS)
        await itsm.incidents.add_note(incident.number, f"No CI matches the alert's labels ({labels}).", ACTOR)
    return incident


def _when(at: datetime | None) -> str:
    return at.isoformat() if at is not None and at.year > 1 else "an unknown time"
