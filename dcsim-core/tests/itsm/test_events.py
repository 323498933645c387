"""ITSM on the bus and /ws, and the question patch runs ask: is a change approved?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .conftest import ci_id


def test_incident_and_change_events_reach_a_ws_client(shared_client):
    client = shared_client
    secret = client.token("viewer")
    window = {"start": datetime.now(UTC).isoformat(), "end": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    with client.websocket_connect(f"/ws?types=incident.created,change.*&token={secret}") as socket:
        incident = client.post("/itsm/incidents", json={"title": "ws incident"}).json()
        client.post(f"/itsm/incidents/{incident['number']}/start")  # incident.updated: filtered out
        body = {"title": "ws change", "rollback_plan": "undo", "window": window}
        change = client.post("/itsm/changes", json=body).json()
        client.post(f"/itsm/changes/{change['number']}/submit")
        client.post(f"/itsm/changes/{change['number']}/approve", json={"comment": "fine"})
        received = [socket.receive_json(timeout=5) for _ in range(4)]
    assert [(m["type"], m["subject"]) for m in received] == [
        ("incident.created", f"incident/{incident['number']}"),
        ("change.created", f"change/{change['number']}"),
        ("change.submitted", f"change/{change['number']}"),
        ("change.approved", f"change/{change['number']}"),
    ]
    assert all(m["source"] == "/itsm" for m in received)
    assert received[0]["data"]["incident"]["title"] == "ws incident"
    approved = received[3]["data"]
    assert approved["change"]["state"] == "approved" and approved["action"] == "approve"
    assert approved["changes"]["state"] == ["pending_approval", "approved"] and approved["comment"] == "fine"
    assert approved["actor"] == "token:test-admin"


def test_change_approved_for_a_ci_and_time(shared_client):
    client = shared_client
    itsm = client.sim.services["itsm"]
    vm, other = ci_id(client, "instance-001"), ci_id(client, "instance-002")
    start = datetime.now(UTC) + timedelta(days=30)
    window = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    body = {"title": "patch instance-001", "rollback_plan": "revert snapshot", "window": window, "affected_cis": [vm]}
    number = client.post("/itsm/changes", json=body).json()["number"]
    inside = start + timedelta(hours=1)

    def approved_for(ci, at):
        change = client.call(itsm.changes.approved_for, ci, at)
        return change.number if change else None

    assert approved_for(vm, inside) is None  # a draft authorises nothing
    client.post(f"/itsm/changes/{number}/submit")
    assert approved_for(vm, inside) is None
    client.post(f"/itsm/changes/{number}/approve", json={})
    assert approved_for(vm, inside) == number
    assert approved_for(vm, inside.replace(tzinfo=None)) == number  # naive is UTC
    assert approved_for(vm, start - timedelta(minutes=1)) is None
    assert approved_for(vm, start + timedelta(hours=2, minutes=1)) is None
    assert approved_for(other, inside) is None
    client.post(f"/itsm/changes/{number}/schedule")
    assert approved_for(vm, inside) == number
    client.post(f"/itsm/changes/{number}/cancel", json={"reason": "moved to next quarter"})
    assert approved_for(vm, inside) is None

    standard = {"title": "restart agent", "type": "standard", "window": window, "affected_cis": [other]}
    standard_number = client.post("/itsm/changes", json=standard).json()["number"]
    assert approved_for(other, inside) == standard_number
