"""Acceptance 2 for /itsm: bad input is a 4xx problem document naming the field, never coerced."""

from __future__ import annotations

import copy

import pytest

from .test_rules import FIRING

PROBLEM = "application/problem+json"


def _refused(response, status, field):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in [error["field"] for error in response.json()["errors"]], response.json()
    return response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "affected_cis": "notalist"}, "affected_cis"),
        ({"title": "x", "impact": 2.9}, "impact"),
        ({"title": "x", "impact": "1"}, "impact"),
        ({"title": 5}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "priority": "P9"}, "priority"),
        ({"title": "x", "asignee": "typo"}, "asignee"),
        ({"description": "no title"}, "title"),
    ],
)
def test_incident_creates_are_refused_not_coerced(shared_client, body, field):
    _refused(shared_client.post("/itsm/incidents", json=body), 422, field)


def test_every_invalid_field_is_listed(shared_client):
    problem = _refused(
        shared_client.post("/itsm/incidents", json={"title": 5, "urgency": 9, "colour": "red"}), 422, "title"
    )
    assert {"title", "urgency", "colour"} <= {error["field"] for error in problem["errors"]}


def test_patches_refuse_unknown_fields_and_wrong_types(shared_client):
    client = shared_client
    number = client.post("/itsm/incidents", json={"title": "strict"}).json()["number"]
    _refused(client.patch(f"/itsm/incidents/{number}", json={"titel": "typo"}), 422, "titel")
    _refused(client.patch(f"/itsm/incidents/{number}", json={"affected_cis": "notalist"}), 422, "affected_cis")
    change = client.post("/itsm/changes", json={"title": "strict"}).json()["number"]
    _refused(client.patch(f"/itsm/changes/{change}", json={"risk": "extreme"}), 422, "risk")
    _refused(client.patch(f"/itsm/changes/{change}", json={"window": {"start": "soon"}}), 422, "window.start")
    problem = client.post("/itsm/problems", json={"title": "strict"}).json()["number"]
    _refused(client.patch(f"/itsm/problems/{problem}", json={"incidents": ["PRB1"]}), 422, "incidents[0]")
    _refused(client.post(f"/itsm/problems/{problem}/notes", json={"text": ""}), 422, "text")
    # Nothing of the refused writes landed.
    assert client.get(f"/itsm/incidents/{number}").json()["history"][-1]["action"] == "created"


def test_action_bodies_are_strict(shared_client):
    client = shared_client
    number = client.post("/itsm/incidents", json={"title": "strict"}).json()["number"]
    _refused(client.post(f"/itsm/incidents/{number}/start", json={"assignee": 5}), 422, "assignee")
    _refused(client.post(f"/itsm/incidents/{number}/hold", json={"reason": ["a"]}), 422, "reason")
    assert client.get(f"/itsm/incidents/{number}").json()["state"] == "new"


def test_wrong_content_type_and_bad_paging(shared_client):
    client = shared_client
    sent = client.post("/itsm/incidents", content=b'{"title": "x"}', headers={"Content-Type": "text/plain"})
    _refused(sent, 415, "Content-Type")
    for query in ("limit=-1", "limit=0", "limit=1001", "offset=-1", "priority=P9", "state=open"):
        listed = client.get(f"/itsm/incidents?{query}")
        assert listed.status_code == 400, query
        assert listed.headers["content-type"].startswith(PROBLEM)


def test_alertmanager_messages_are_decoded_strictly(shared_client):
    client = shared_client
    labels_not_text = copy.deepcopy(FIRING)
    labels_not_text["alerts"][0]["labels"]["severity"] = 1
    # msgspec names a mapping's value by its mapping: alerts[0].labels[...]
    _refused(client.post("/itsm/alerts/alertmanager", json=labels_not_text), 422, "alerts[0].labels[...]")
    unknown = copy.deepcopy(FIRING) | {"groupKeys": "typo"}
    _refused(client.post("/itsm/alerts/alertmanager", json=unknown), 422, "")
    no_alerts = {key: value for key, value in FIRING.items() if key != "alerts"}
    _refused(client.post("/itsm/alerts/alertmanager", json=no_alerts), 422, "alerts")


#: Bodies open by design: each workflow action has its own body (decoded strictly by
#: its body class), each alert receiver its sender's format.
OPEN_BODIES = {f"/itsm/{kind}/{{number}}/{{action}}" for kind in ("incidents", "problems", "changes")}
OPEN_BODIES.add("/itsm/alerts/{receiver}")
#: Answers open by design: Ansible's inventory format, a receiver's report.
OPEN_ANSWERS = {"/cmdb/ansible/inventory", "/itsm/alerts/{receiver}"}


def test_cmdb_and_itsm_operations_are_typed_and_document_their_problems(shared_client):
    doc = shared_client.get("/schema/openapi.json").json()
    schemas = doc["components"]["schemas"]
    operations = [
        (path, method, operation)
        for path, item in doc["paths"].items()
        if path.startswith(("/cmdb", "/itsm"))
        for method, operation in item.items()
    ]
    assert len(operations) > 30
    for path, method, operation in operations:
        statuses = set(operation["responses"])
        expected = {"400", "401", "403", "429"} | ({"413", "415", "422"} if "requestBody" in operation else set())
        assert expected <= statuses, (method, path, statuses)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert set(response["content"]) == {PROBLEM}, (method, path, status)
        if "requestBody" in operation and path not in OPEN_BODIES:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            model = schemas[body["$ref"].rsplit("/", 1)[1]]
            assert model["additionalProperties"] is False, (method, path)
        for status, response in operation["responses"].items():
            if status.startswith("2") and "content" in response and path not in OPEN_ANSWERS:
                schema = response["content"]["application/json"]["schema"]
                assert "$ref" in schema or "$ref" in schema.get("items", {}), (method, path, schema)
