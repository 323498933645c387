"""Acceptance 2 of issue #11 for /sim, /events and /tokens: every bad input is a 4xx
problem document naming the field, and no value is coerced."""

from __future__ import annotations

import pytest
import structlog.testing

from dcsim import hookimpl
from dcsim.web.contracts import MAX_JSON_DEPTH

PROBLEM = "application/problem+json"


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == status
    return problem


def _fields(problem):
    return {error["field"] for error in problem["errors"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "web-9", "power_on": "false"}, "power_on"),
        ({"name": "web-9", "cpu": 2.9}, "cpu"),
        ({"name": 5}, "name"),
        ({"name": "web-9", "cpu": 10**18}, "cpu"),
        ({"name": "web-9", "cpu": 0}, "cpu"),
        ({"name": "web-9", "memory_mb": 25 * 1024 * 1024}, "memory_mb"),
        ({"name": "web-9", "disk_gb": 0}, "disk_gb"),
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "web 9"}, "name"),
        ({"name": "web-9", "guest_os": "windows"}, "guest_os"),
        ({"name": "web-9", "cpus": 4}, "cpus"),
        ({"name": "web-9", "tags": {"env": 1}}, "tags"),
        ({}, "name"),
    ],
)
def test_create_vm_refuses_bad_and_coercible_input(dcsim_client, body, field):
    before = dcsim_client.get("/sim/vms?limit=1").json()["total"]
    problem = _problem(dcsim_client.post("/sim/vms", json=body), 422)
    assert problem["code"] == "validation_failed"
    assert any(f == field or f.startswith((field + ".", field + "[")) for f in _fields(problem)), problem
    assert dcsim_client.get("/sim/vms?limit=1").json()["total"] == before


def test_every_invalid_field_is_listed(dcsim_client):
    body = {"name": 5, "cpu": 2.9, "power_on": "false", "colour": "red"}
    problem = _problem(dcsim_client.post("/sim/vms", json=body), 422)
    assert _fields(problem) == {"name", "cpu", "power_on", "colour"}
    assert all(error["message"] for error in problem["errors"])


def test_valid_create_still_works(dcsim_client):
    created = dcsim_client.post("/sim/vms", json={"name": "web-9", "cpu": 768, "memory_mb": 128, "power_on": False})
    assert created.status_code == 201, created.text
    assert created.json()["power_state"] == "off" and created.json()["cpu"] == 768


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cpu": 4, "colour": "red"}, "colour"),
        ({"cpu": "4"}, "cpu"),
        ({"memory_mb": 10**18}, "memory_mb"),
        ({"load_profile": ""}, "load_profile"),
    ],
)
def test_patch_refuses_unknown_and_wrong_fields(dcsim_client, body, field):
    dcsim_client.post("/sim/vms/vm-001/power", json={"action": "off"})
    before = dcsim_client.get("/sim/vms/vm-001").json()
    problem = _problem(dcsim_client.patch("/sim/vms/vm-001", json=body), 422)
    assert field in _fields(problem)
    assert dcsim_client.get("/sim/vms/vm-001").json()["cpu"] == before["cpu"]


def test_empty_patch_is_refused(dcsim_client):
    problem = _problem(dcsim_client.patch("/sim/vms/vm-001", json={}), 422)
    assert problem["errors"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/sim/vms/vm-001/snapshots", {"name": ""}, "name"),
        ("/sim/vms/vm-001/snapshots", {"name": "ok", "when": "now"}, "when"),
        ("/sim/vms/vm-001/snapshots", {"name": "ok", "description": 7}, "description"),
        ("/sim/vms/vm-001/clone", {"name": ""}, "name"),
        ("/sim/vms/vm-001/migrate", {"host": 3}, "host"),
        ("/sim/vms/vm-001/power", {"action": "explode"}, "action"),
        ("/sim/vms/vm-001/power", {"action": True}, "action"),
        ("/events", {"type": 5}, "type"),
        ("/events", {"type": "hello.said", "data": "notadict"}, "data"),
        ("/events", {"type": "hello.said", "extra": 1}, "extra"),
        ("/tokens", {"role": "emperor", "name": "x"}, "role"),
        ("/tokens", {"role": "viewer", "name": ""}, "name"),
        ("/tokens", {"role": "viewer"}, "name"),
    ],
)
def test_other_bodies_refuse_bad_input(dcsim_client, path, body, field):
    problem = _problem(dcsim_client.post(path, json=body), 422)
    assert field in _fields(problem), problem


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_a_wrong_content_type_is_415(dcsim_client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = dcsim_client.post("/sim/vms", content=b'{"name": "web-9"}', headers=headers)
    problem = _problem(response, 415)
    assert problem["code"] == "unsupported_media_type"
    assert _fields(problem) == {"Content-Type"}


def test_a_json_suffix_type_is_json(dcsim_client):
    response = dcsim_client.post(
        "/sim/vms", content=b'{"name": "web-9"}', headers={"Content-Type": "application/vnd.api+json; charset=utf-8"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/sim/vms", "/sim/inject/host-failure", "/events", "/tokens"])
def test_json_nested_1000_deep_is_400_with_one_log_line(dcsim_client, path):
    deep = b'{"name": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    # Captured at structlog's level: where the line ends up depends on the process's logging
    # set-up (library mode, a terminal, JSON), which earlier tests may have changed.
    with structlog.testing.capture_logs() as entries:
        response = dcsim_client.post(path, content=deep, headers={"Content-Type": "application/json"})
    problem = _problem(response, 400)
    assert problem["code"] == "invalid_input"
    assert str(MAX_JSON_DEPTH) in problem["detail"]
    logged = [entry for entry in entries if entry["event"] == "http.body_too_deep"]
    assert len(logged) == 1 and len(repr(logged[0])) < 300
    assert not any("exc_info" in entry or "exception" in entry for entry in entries)


def test_nesting_at_the_limit_is_fine_and_strings_do_not_count(dcsim_client):
    inside = "[" * 200
    ok = dcsim_client.post("/sim/vms", json={"name": "web-9", "tags": {"note": inside}})
    assert ok.status_code == 201, ok.text
    deep_enough = {"a": 1}
    for _ in range(MAX_JSON_DEPTH - 1):
        deep_enough = {"a": deep_enough}
    response = dcsim_client.post("/sim/inject/host-failure", json=deep_enough)
    # Within the limit the body reaches the fault kind's check: "a" is not one of its parameters.
    assert "nests" not in _problem(response, 422)["detail"] and _fields(response.json()) == {"a"}


@pytest.mark.parametrize(
    ("kind", "body", "fields"),
    [
        ("network-partition", {"network": "private-net", "duration": 30}, {"duration"}),
        ("network-partition", {"network": "private-net", "duration_seconds": "30"}, {"duration_seconds"}),
        ("network-partition", {"network": "private-net", "duration_seconds": True}, {"duration_seconds"}),
        ("network-partition", {"network": "private-net", "duration_seconds": 0}, {"duration_seconds"}),
        ("network-partition", {"network": 7, "durtion_seconds": 5}, {"network", "durtion_seconds"}),
        ("host-failure", {"host": None}, {"host"}),
        ("host-failure", {"host": ["compute-02"]}, {"host"}),
        ("disk-full", {"vm": "vm-001", "size": "full"}, {"size"}),
    ],
)
def test_a_fault_body_is_checked_strictly_against_its_kind(dcsim_client, kind, body, fields):
    problem = _problem(dcsim_client.post(f"/sim/inject/{kind}", json=body), 422)
    assert problem["code"] == "validation_failed" and _fields(problem) == fields, problem
    assert dcsim_client.get("/sim/inject").json()["total"] == 0  # nothing injected


def test_a_fault_body_of_the_right_types_is_injected(dcsim_client):
    response = dcsim_client.post(
        "/sim/inject/network-partition", json={"network": "private-net", "duration_seconds": 60}
    )
    assert response.status_code == 201, response.text
    assert response.json()["params"] == {"network": "private-net", "duration_seconds": 60}
    kinds = {kind["name"]: kind for kind in dcsim_client.get("/sim/inject/kinds").json()}
    assert kinds["network-partition"]["types"] == {"network": "string", "duration_seconds": "number"}
    assert _problem(dcsim_client.post("/sim/inject/host-failure", json=[]), 422)["code"] == "validation_failed"


def test_malformed_json_is_400(dcsim_client):
    response = dcsim_client.post("/sim/vms", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert _problem(response, 400)["code"] == "invalid_input"


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=1001", "offset=-1", "limit=abc", "limit=2.5"])
def test_page_bounds_are_refused(dcsim_client, query):
    for path in ("/sim/vms", "/sim/hosts", "/events", "/tokens", "/sim/inject"):
        problem = _problem(dcsim_client.get(f"{path}?{query}"), 400)
        assert _fields(problem) & {"limit", "offset"}, problem


def test_auth_is_checked_before_the_body(make_client):
    client = make_client(role=None)
    assert client.post("/sim/vms", content=b"not json", headers={"Content-Type": "text/plain"}).status_code == 401


class RawBody:
    """A plugin route that reads its own body (as UCS's XML API does): no ``data`` parameter."""

    @hookimpl
    def dcsim_register_routes(self, registry):
        from typing import Any

        from litestar import Request, post

        @post("/raw", status_code=200)
        async def raw(request: Request[Any, Any, Any]) -> dict[str, int]:
            return {"length": len(await request.body())}

        registry.add(raw)


def test_a_body_the_handler_reads_itself_is_left_to_it(make_client):
    client = make_client(RawBody())
    xml = b"<configResolveClass" + b"<a>" * 100 + b"/>"
    assert client.post("/raw", content=xml, headers={"Content-Type": "text/xml"}).json() == {"length": len(xml)}
