"""Every (state, action) pair of every transition table, and what each action requires."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from dcsim.itsm.workflow import CHANGE_TRANSITIONS, INCIDENT_TRANSITIONS, PROBLEM_TRANSITIONS, actions

TABLES = {"incidents": INCIDENT_TRANSITIONS, "problems": PROBLEM_TRANSITIONS, "changes": CHANGE_TRANSITIONS}
BODIES = {
    "incidents": {
        "start": {"assignee": "alice"},
        "hold": {"reason": "awaiting vendor"},
        "resume": {},
        "resolve": {"resolution_notes": "restarted the agent", "root_cause": "memory leak"},
        "close": {},
        "reopen": {"reason": "it came back"},
        "cancel": {"reason": "duplicate"},
    },
    "problems": {
        "known_error": {"workaround": "restart the agent nightly"},
        "resolve": {"root_cause": "leak in the agent's cache"},
        "reopen": {"reason": "recurred"},
    },
    "changes": {
        "submit": {},
        "approve": {"comment": "CAB: go"},
        "reject": {"comment": "needs a test plan"},
        "schedule": {},
        "start": {},
        "complete": {"close_notes": "done"},
        "fail": {"reason": "package conflict"},
        "cancel": {"reason": "no longer needed"},
    },
}
PAIRS = [(kind, state, action) for kind, table in TABLES.items() for state in table for action in actions(table)]


def _window(hours_before: float = 1, hours_after: float = 2) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "start": (now - timedelta(hours=hours_before)).isoformat(),
        "end": (now + timedelta(hours=hours_after)).isoformat(),
    }


def _create(client, kind):
    body = {"title": f"a {kind[:-1]}"}
    if kind == "changes":
        body |= {"rollback_plan": "revert the package", "window": _window()}
    response = client.post(f"/itsm/{kind}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _path(table, start, goal):
    """The shortest list of actions from ``start`` to ``goal``."""
    queue, seen = deque([(start, [])]), {start}
    while queue:
        state, path = queue.popleft()
        if state == goal:
            return path
        for action, to in table[state].items():
            if to not in seen:
                seen.add(to)
                queue.append((to, [*path, action]))
    raise AssertionError(f"{goal} is unreachable")


@pytest.mark.parametrize(("kind", "state", "action"), PAIRS, ids=[f"{k}-{s.value}-{a}" for k, s, a in PAIRS])
def test_every_transition_pair(shared_client, kind, state, action):
    client, table = shared_client, TABLES[kind]
    record = _create(client, kind)
    number = record["number"]
    for step in _path(table, type(state)(record["state"]), state):
        assert client.post(f"/itsm/{kind}/{number}/{step}", json=BODIES[kind][step]).status_code == 200
    response = client.post(f"/itsm/{kind}/{number}/{action}", json=BODIES[kind][action])
    if action in table[state]:
        assert response.status_code == 200, response.text
        moved = response.json()
        assert moved["state"] == table[state][action].value
        assert moved["history"][-1]["action"] == action
        if table[state][action] is not state:  # rescheduling stays in scheduled
            assert moved["history"][-1]["changes"]["state"] == [state.value, table[state][action].value]
    else:
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["code"] == "conflict" and problem["state"] == state.value
        assert problem["allowed"] == sorted(table[state])
        assert problem["allowed_states"] == sorted({to.value for to in table[state].values()})
        assert client.get(f"/itsm/{kind}/{number}").json()["state"] == state.value


def test_unknown_action_is_404_naming_the_actions(shared_client):
    number = _create(shared_client, "incidents")["number"]
    response = shared_client.post(f"/itsm/incidents/{number}/explode")
    assert response.status_code == 404
    assert response.json()["actions"] == actions(INCIDENT_TRANSITIONS)
    assert shared_client.post("/itsm/incidents/INC9999999/start").status_code == 404


def test_actions_refuse_missing_reasons_and_notes(shared_client):
    client = shared_client
    number = _create(client, "incidents")["number"]
    # A well-formed body that does not match the action's body is a 422 naming the field.
    missing = client.post(f"/itsm/incidents/{number}/hold")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    assert client.post(f"/itsm/incidents/{number}/hold", json={"reason": "  "}).status_code == 422
    assert client.post(f"/itsm/incidents/{number}/hold", json={"reason": 5}).status_code == 422
    assert client.post(f"/itsm/incidents/{number}/resolve", json={"root_cause": "x"}).status_code == 422
    assert client.post(f"/itsm/incidents/{number}/start", json={"asignee": "typo"}).json()["unknown"] == ["asignee"]
    held = client.post(f"/itsm/incidents/{number}/hold", json={"reason": "awaiting caller"}).json()
    assert held["on_hold_reason"] == "awaiting caller" and held["history"][-1]["comment"] == "awaiting caller"
    resolved = client.post(f"/itsm/incidents/{number}/resolve", json=BODIES["incidents"]["resolve"]).json()
    assert resolved["on_hold_reason"] is None and resolved["root_cause"] == "memory leak"
    assert resolved["resolved_at"]

    problem = _create(client, "problems")["number"]
    assert client.post(f"/itsm/problems/{problem}/known_error", json={}).status_code == 422
    assert client.post(f"/itsm/problems/{problem}/resolve", json={"resolution_notes": "x"}).status_code == 422


def test_state_changes_only_through_actions_and_final_records_are_frozen(shared_client):
    client = shared_client
    number = _create(client, "incidents")["number"]
    refused = client.patch(f"/itsm/incidents/{number}", json={"state": "closed"})
    assert refused.status_code == 422 and refused.json()["errors"] == [{"field": "state", "message": "unknown field"}]
    client.post(f"/itsm/incidents/{number}/cancel", json={"reason": "raised in error"})
    frozen = client.patch(f"/itsm/incidents/{number}", json={"title": "new title"})
    assert frozen.status_code == 409 and frozen.json()["state"] == "cancelled"
    noted = client.post(f"/itsm/incidents/{number}/notes", json={"text": "for the record"})
    assert noted.status_code == 201 and noted.json()["notes"][-1]["text"] == "for the record"


def test_change_rules_beyond_the_table(shared_client):
    client = shared_client
    bare = client.post("/itsm/changes", json={"title": "patch openssl"}).json()
    assert bare["state"] == "draft" and bare["type"] == "normal" and bare["risk"] == "moderate"
    refused = client.post(f"/itsm/changes/{bare['number']}/submit")
    assert refused.status_code == 409 and refused.json()["missing"] == ["rollback_plan", "window"]

    emergency = client.post(
        "/itsm/changes", json={"title": "hotfix", "type": "emergency", "rollback_plan": "revert"}
    ).json()
    submitted = client.post(f"/itsm/changes/{emergency['number']}/submit")
    assert submitted.status_code == 200 and submitted.json()["state"] == "pending_approval"
    plan = client.patch(f"/itsm/changes/{emergency['number']}", json={"risk": "high"})
    assert plan.status_code == 409 and plan.json()["fields"] == ["risk"]
    assert client.patch(f"/itsm/changes/{emergency['number']}", json={"title": "hotfix 2"}).status_code == 200
    client.post(f"/itsm/changes/{emergency['number']}/approve", json={})
    no_window = client.post(f"/itsm/changes/{emergency['number']}/schedule")
    assert no_window.status_code == 400
    past = client.post(
        f"/itsm/changes/{emergency['number']}/schedule", json={"window": _window(hours_before=3, hours_after=-1)}
    )
    assert past.status_code == 400
    later = _window(hours_before=-1, hours_after=2)
    scheduled = client.post(f"/itsm/changes/{emergency['number']}/schedule", json={"window": later}).json()
    assert scheduled["state"] == "scheduled"
    early = client.post(f"/itsm/changes/{emergency['number']}/start")
    assert early.status_code == 409 and early.json()["window"]["start"] == scheduled["window"]["start"]
    backwards = client.post("/itsm/changes", json={"title": "x", "window": _window(hours_before=-2, hours_after=-3)})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "window"

    standard = client.post(
        "/itsm/changes", json={"title": "rotate logs", "type": "standard", "window": _window()}
    ).json()
    assert standard["state"] == "approved"
    assert standard["approvals"][0]["approver"] == "standard-change-catalogue"


def test_approving_needs_an_admin_and_is_recorded(shared_client):
    client = shared_client
    operator = client.auth_headers("operator")
    body = {"title": "kernel update", "rollback_plan": "boot the old kernel", "window": _window()}
    change = client.post("/itsm/changes", json=body, headers=operator).json()
    assert change["created_by"] == "token:test-operator"
    assert client.post(f"/itsm/changes/{change['number']}/submit", headers=operator).status_code == 200
    denied = client.post(f"/itsm/changes/{change['number']}/approve", json={"comment": "me"}, headers=operator)
    assert denied.status_code == 403 and denied.json()["required_role"] == "admin"
    assert client.post("/itsm/changes", json=body, headers=client.auth_headers("viewer")).status_code == 403
    assert client.get("/itsm/changes", headers=client.auth_headers("viewer")).status_code == 200

    rejected = client.post(f"/itsm/changes/{change['number']}/reject", json={"comment": "add a test plan"}).json()
    assert rejected["state"] == "draft"
    client.post(f"/itsm/changes/{change['number']}/submit", headers=operator)
    approved = client.post(f"/itsm/changes/{change['number']}/approve", json={"comment": "CAB: go"}).json()
    assert approved["state"] == "approved"
    assert [(a["approver"], a["decision"], a["comment"]) for a in approved["approvals"]] == [
        ("test-admin", "rejected", "add a test plan"),
        ("test-admin", "approved", "CAB: go"),
    ]
    assert all(a["at"] for a in approved["approvals"])
    assert [h["action"] for h in approved["history"]] == ["created", "submit", "reject", "submit", "approve"]


def test_workflow_tables_are_published(shared_client):
    tables = shared_client.get("/itsm/workflows").json()
    assert tables["incident"]["on_hold"] == {"resume": "in_progress", "resolve": "resolved", "cancel": "cancelled"}
    assert tables["change"]["completed"] == {}
    assert set(tables["problem"]) == {"investigating", "known_error", "resolved"}
