"""Automation rules: Alertmanager webhook to incidents, drift to change requests, the rules hook."""

from __future__ import annotations

import copy

from dcsim import hookimpl
from dcsim.itsm.model import IncidentPatch, IncidentRequest
from dcsim.model import Event

from .conftest import ci_id, eventually

#: A webhook message as Alertmanager 0.27 sends it (webhook_config, payload version 4):
#: one group of two alerts from node_exporter scrapes, grouped by job.
FIRING = {
    "receiver": "dcsim-itsm",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HostDown",
                "instance": "esxi-01:9100",
                "job": "node",
                "severity": "critical",
            },
            "annotations": {
                "summary": "esxi-01 is down",
                "description": "esxi-01:9100 has not answered a scrape for 5 minutes.",
                "runbook_url": "https://runbooks.example.org/HostDown",
            },
            "startsAt": "2026-03-02T08:55:12.482910376Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=up%7Bjob%3D%22node%22%7D+%3D%3D+0&g0.tab=1",
            "fingerprint": "b2d8c1f0a4e6d3c7",
        },
        {
            "status": "firing",
            "labels": {
                "alertname": "DiskFilling",
                "instance": "vm-002:9100",
                "job": "node",
                "mountpoint": "/var",
                "severity": "warning",
            },
            "annotations": {"summary": "/var on vm-002 is 85% full"},
            "startsAt": "2026-03-02T08:50:00.000Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=node_filesystem_avail_bytes&g0.tab=1",
            "fingerprint": "5e1a9b7c3d2f8e40",
        },
    ],
    "groupLabels": {"job": "node"},
    "commonLabels": {"job": "node"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.example.org:9093",
    "version": "4",
    "groupKey": '{}:{job="node"}',
    "truncatedAlerts": 0,
}


def _resolved(message, fingerprint, ends_at="2026-03-02T09:20:12.482910376Z"):
    resolved = copy.deepcopy(message)
    resolved["alerts"] = [a for a in resolved["alerts"] if a["fingerprint"] == fingerprint]
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = ends_at
    return resolved


def _outcomes(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["receiver"] == "alertmanager" and body["disabled"] == []
    return [(a["alertname"], a["outcome"], a["incident"]) for a in body["results"]["alertmanager-incidents"]["alerts"]]


def test_alertmanager_firing_opens_a_p1_incident_and_resolved_resolves_it(shared_client):
    client = shared_client
    operator = client.auth_headers("operator")
    post = lambda message: client.post("/itsm/alerts/alertmanager", json=message, headers=operator)  # noqa: E731

    [(_, outcome, number), ignored] = _outcomes(post(FIRING))
    assert outcome == "created" and ignored == ("DiskFilling", "ignored", None)
    incident = client.get(f"/itsm/incidents/{number}").json()
    assert (incident["priority"], incident["state"], incident["title"]) == ("P1", "new", "esxi-01 is down")
    assert incident["affected_cis"] == [ci_id(client, "esxi-01")]
    assert {"vm-001", "vm-002"} <= {c["name"] for c in incident["impact_analysis"]["downstream"]}
    assert incident["correlation_id"] == "alertmanager:b2d8c1f0a4e6d3c7"
    assert incident["created_by"] == "rule:alertmanager-incidents"
    assert incident["source_data"]["alert"]["generatorURL"].startswith("http://prometheus.example.org")
    assert "http://alertmanager.example.org:9093" in incident["description"]

    assert _outcomes(post(FIRING))[0] == ("HostDown", "unchanged", number)
    assert _outcomes(post(_resolved(FIRING, "b2d8c1f0a4e6d3c7")))[0] == ("HostDown", "resolved", number)
    resolved = client.get(f"/itsm/incidents/{number}").json()
    assert resolved["state"] == "resolved"
    assert resolved["resolution_notes"] == "Alert HostDown resolved at 2026-03-02T09:20:12.482910+00:00 (Alertmanager)."
    assert _outcomes(post(_resolved(FIRING, "b2d8c1f0a4e6d3c7")))[0][1] == "ignored"

    assert _outcomes(post(FIRING))[0] == ("HostDown", "updated", number)
    assert client.get(f"/itsm/incidents/{number}").json()["state"] == "in_progress"
    assert len(client.get("/itsm/incidents?q=esxi-01 is down").json()["items"]) == 1
    assert post(FIRING | {"version": "3"}).status_code == 400
    assert (
        client.post("/itsm/alerts/alertmanager", json=FIRING, headers=client.auth_headers("viewer")).status_code == 403
    )


def test_alert_labels_choose_the_priority_and_the_ci(shared_client):
    client = shared_client
    alert = copy.deepcopy(FIRING["alerts"][1])
    alert |= {"fingerprint": "77aa00bb11cc22dd", "labels": alert["labels"] | {"priority": "P2"}}
    _, (_, outcome, number) = _outcomes(
        client.post("/itsm/alerts/alertmanager", json=FIRING | {"alerts": [FIRING["alerts"][0], alert]})
    )
    assert outcome == "created"
    incident = client.get(f"/itsm/incidents/{number}").json()
    assert incident["priority"] == "P2" and incident["affected_cis"] == [ci_id(client, "vm-002")]

    nowhere = copy.deepcopy(FIRING["alerts"][0])
    labels = {"alertname": "Down", "host": "mainframe-9", "severity": "critical"}
    nowhere |= {"fingerprint": "0000111122223333", "labels": labels, "annotations": {}}
    [(_, outcome, number)] = _outcomes(client.post("/itsm/alerts/alertmanager", json=FIRING | {"alerts": [nowhere]}))
    incident = client.get(f"/itsm/incidents/{number}").json()
    assert incident["affected_cis"] == [] and incident["title"] == "Down on mainframe-9"
    assert incident["notes"][0]["text"] == "No CI matches the alert's labels (ci, vm, host, instance)."

    escalated = copy.deepcopy(alert)
    escalated["labels"]["priority"] = "P1"
    [(_, outcome, number)] = _outcomes(client.post("/itsm/alerts/alertmanager", json=FIRING | {"alerts": [escalated]}))
    assert outcome == "updated" and client.get(f"/itsm/incidents/{number}").json()["priority"] == "P1"


def _drift(ci, auto=True, field="files./etc/ssh/sshd_config"):
    return {
        "ci": ci,
        "field": field,
        "desired": "PermitRootLogin no",
        "actual": "PermitRootLogin yes",
        "severity": "high",
        "policy": {"name": "ssh-hardening", "auto_change_request": auto},
    }


def test_drift_detected_opens_a_change_request(shared_client):
    client = shared_client
    vm = ci_id(client, "vm-001")
    assert client.post("/events", json={"type": "drift.detected", "data": _drift(vm)}).status_code == 202

    def drift_change():
        return client.get(f"/itsm/changes?ci={vm}&q=Remediate drift").json()["items"]

    [change] = eventually(drift_change)
    assert change["title"] == "Remediate drift of files./etc/ssh/sshd_config on vm-001"
    assert (change["state"], change["type"], change["risk"]) == ("draft", "normal", "high")
    assert change["correlation_id"] == f"drift:{vm}:files./etc/ssh/sshd_config"
    assert change["rollback_plan"] == "Set files./etc/ssh/sshd_config back to 'PermitRootLogin yes'."
    assert change["impact_analysis"]["affected"][0]["name"] == "vm-001"

    itsm = client.sim.services["itsm"]
    again = Event(type="drift.detected", source="/drift", data=_drift(vm))
    client.call(itsm.on_event, again)
    client.call(itsm.on_event, Event(type="drift.detected", source="/drift", data=_drift(vm, auto=False, field="x")))
    client.call(itsm.on_event, Event(type="drift.detected", source="/drift", data={"nonsense": True}))
    assert len(drift_change()) == 1
    assert "drift.detected" in {t["type"] for t in client.get("/events/types").json()}


def test_disabled_rules_do_nothing(make_client):
    client = make_client(itsm_disabled_rules=("alertmanager-incidents", "drift-change-requests", "no-such-rule"))
    response = client.post("/itsm/alerts/alertmanager", json=FIRING)
    assert response.status_code == 200
    assert response.json() == {"receiver": "alertmanager", "results": {}, "disabled": ["alertmanager-incidents"]}
    itsm = client.sim.services["itsm"]
    client.call(itsm.on_event, Event(type="drift.detected", source="/drift", data=_drift(ci_id(client, "vm-001"))))
    assert client.get("/itsm/incidents").json()["total"] == 0
    assert client.get("/itsm/changes").json()["total"] == 0
    assert {r["name"]: r["enabled"] for r in client.get("/itsm/rules").json()} == {
        "alertmanager-incidents": False,
        "drift-change-requests": False,
    }


def test_dcsim_itsm_register_rules(make_client):
    async def page_on_call(itsm, event):
        incident = event.data["incident"]
        if incident["priority"] == "P1" and not incident["assignee"]:
            await itsm.incidents.update(incident["number"], IncidentPatch(assignee="on-call"), "rule:page-on-call")

    async def grafana(itsm, payload):
        incident = await itsm.incidents.create(
            IncidentRequest(title=payload["title"], impact=1, urgency=1), "rule:grafana"
        )
        return {"incident": incident.number}

    class Rules:
        @hookimpl
        def dcsim_itsm_register_rules(self, registry):
            registry.add_event_rule("page-on-call", page_on_call, types=("incident.created",), description="P1s page")
            registry.add_webhook_rule("grafana-incidents", grafana, receiver="grafana", description="Grafana")

    client = make_client(Rules())
    rules = {r["name"]: r for r in client.get("/itsm/rules").json()}
    assert rules["page-on-call"] == {
        "name": "page-on-call", "description": "P1s page", "kind": "event", "types": ["incident.created"],
        "enabled": True,
    }  # fmt: skip
    assert rules["grafana-incidents"]["receiver"] == "grafana" and "alertmanager-incidents" in rules

    answer = client.post("/itsm/alerts/grafana", json={"title": "Grafana: API errors"}).json()
    number = answer["results"]["grafana-incidents"]["incident"]
    assert eventually(lambda: client.get(f"/itsm/incidents/{number}").json()["assignee"] == "on-call")
    assert client.post("/itsm/alerts/pagerduty", json={}).status_code == 404
