"""ITSM with the CMDB plugin disabled: records still work, impact says the CMDB is absent."""

from __future__ import annotations

from dcsim.itsm.impact import CMDB_UNAVAILABLE
from dcsim.model import Event

from .test_rules import FIRING


def test_records_are_made_and_say_the_cmdb_is_not_available(make_client):
    client = make_client(disable_plugins=("cmdb",))
    plugins = {p["name"]: p["status"] for p in client.get("/plugins").json()["plugins"]}
    assert (plugins["cmdb"], plugins["itsm"]) == ("disabled", "loaded")
    body = {"title": "db slow", "impact": 1, "urgency": 2, "affected_cis": ["ci-a", "ci-b", "ci-a"]}
    response = client.post("/itsm/incidents", json=body)
    assert response.status_code == 201, response.json()
    incident = response.json()
    assert incident["affected_cis"] == ["ci-a", "ci-b"] and incident["priority"] == "P2"
    analysis = incident["impact_analysis"]
    assert analysis["cmdb_available"] is False and analysis["detail"] == CMDB_UNAVAILABLE
    assert (analysis["affected"], analysis["upstream"], analysis["downstream"]) == ([], [], [])
    number = incident["number"]
    changed = client.patch(f"/itsm/incidents/{number}", json={"affected_cis": ["ci-c"]}).json()
    assert changed["affected_cis"] == ["ci-c"] and changed["impact_analysis"]["cmdb_available"] is False
    assert client.post(f"/itsm/incidents/{number}/start", json={}).json()["state"] == "in_progress"

    change = client.post("/itsm/changes", json={"title": "patch", "affected_cis": ["ci-a"]}).json()
    assert change["impact_analysis"]["cmdb_available"] is False
    problem = client.post("/itsm/problems", json={"title": "why", "incidents": [number]}).json()
    assert problem["impact_analysis"] is None  # no affected CIs: nothing to analyse


def test_rules_find_no_ci_and_say_so(make_client):
    client = make_client(disable_plugins=("cmdb",))
    outcome = client.post("/itsm/alerts/alertmanager", json=FIRING)
    assert outcome.status_code == 200, outcome.json()
    (incident,) = client.get("/itsm/incidents").json()["items"]  # the critical alert opens one
    assert incident["title"] == "esxi-01 is down" and incident["affected_cis"] == []
    assert "No CI matches" in incident["notes"][0]["text"]

    drift = {
        "ci": "vm-001",
        "field": "files./etc/motd",
        "desired": "a",
        "actual": "b",
        "severity": "high",
        "policy": {"name": "motd", "auto_change_request": True},
    }
    client.call(client.sim.services["itsm"].on_event, Event(type="drift.detected", source="/drift", data=drift))
    change = client.get("/itsm/changes").json()["items"][0]
    assert change["affected_cis"] == [] and "No CI matches 'vm-001'" in change["notes"][0]["text"]
