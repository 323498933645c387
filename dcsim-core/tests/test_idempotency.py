"""``Idempotency-Key`` on creates (dcsim.web.idempotency): a retry returns the first result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dcsim.testing import DcsimClient


@pytest.fixture
def client(make_client: Callable[..., DcsimClient]) -> DcsimClient:
    return make_client(rate_limit="1000000/minute")


def _incidents(client: DcsimClient, title: str) -> list[dict[str, Any]]:
    items = client.get("/itsm/incidents", params={"q": title, "limit": 500}).json()["items"]
    return [item for item in items if item["title"] == title]


def test_a_repeated_key_returns_the_first_response_and_creates_once(client: DcsimClient) -> None:
    body = {"title": "core switch down", "impact": 1, "urgency": 1}
    headers = {"Idempotency-Key": "retry-1"}

    first = client.post("/itsm/incidents", json=body, headers=headers)
    again = client.post("/itsm/incidents", json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["etag"] == first.headers["etag"]  # If-Match works with the replayed answer
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert [i["number"] for i in _incidents(client, "core switch down")] == [first.json()["number"]]


def test_a_vm_create_retried_with_its_key_makes_one_vm(client: DcsimClient) -> None:
    body = {"name": "idem-vm", "cluster": "cluster-01", "cpu": 1, "memory_mb": 512, "power_on": False}
    first = client.post("/sim/vms", json=body, headers={"Idempotency-Key": "vm-1"})
    again = client.post("/sim/vms", json=body, headers={"Idempotency-Key": "vm-1"})
    without_key = client.post("/sim/vms", json=body)

    assert (first.status_code, again.status_code) == (201, 201) and again.json() == first.json()
    assert without_key.status_code == 409  # the name is taken: only the key makes a retry safe


def test_the_same_key_with_another_body_is_refused(client: DcsimClient) -> None:
    headers = {"Idempotency-Key": "retry-2"}
    assert (
        client.post("/itsm/incidents", json={"title": "a", "impact": 2, "urgency": 2}, headers=headers).status_code
        == 201
    )

    reused = client.post("/itsm/incidents", json={"title": "b", "impact": 2, "urgency": 2}, headers=headers)

    assert reused.status_code == 422
    assert reused.headers["content-type"].startswith("application/problem+json")
    assert reused.json()["code"] == "idempotency_key_reused"
    assert _incidents(client, "b") == []


def test_keys_belong_to_a_token_and_a_route(client: DcsimClient) -> None:
    body = {"title": "per token", "impact": 3, "urgency": 3}
    headers = {"Idempotency-Key": "shared-key"}
    mine = client.post("/itsm/incidents", json=body, headers=headers)
    other = client.post("/itsm/incidents", json=body, headers=headers | client.auth_headers("operator"))
    problem = client.post("/itsm/problems", json={"title": "per route"}, headers=headers)

    assert (mine.status_code, other.status_code, problem.status_code) == (201, 201, 201)
    assert mine.json()["number"] != other.json()["number"]
    assert len(_incidents(client, "per token")) == 2


def test_a_failed_first_request_does_not_hold_the_key(client: DcsimClient) -> None:
    headers = {"Idempotency-Key": "retry-3"}
    refused = client.post("/itsm/incidents", json={"title": "x", "impact": 9, "urgency": 1}, headers=headers)
    assert refused.status_code == 422  # out of range: nothing created, nothing stored

    fixed = client.post("/itsm/incidents", json={"title": "x", "impact": 1, "urgency": 1}, headers=headers)

    assert fixed.status_code == 201


def test_a_malformed_key_is_refused(client: DcsimClient) -> None:
    response = client.post("/itsm/incidents", json={"title": "y", "impact": 1, "urgency": 1},
                           headers={"Idempotency-Key": "x" * 256})  # fmt: skip

    assert response.status_code == 400 and response.json()["code"] == "invalid_input"
    assert _incidents(client, "y") == []


def test_expired_keys_run_again(make_client: Callable[..., DcsimClient]) -> None:
    client = make_client(rate_limit="1000000/minute", idempotency_retention_seconds=0.001)
    body = {"title": "expired key", "impact": 3, "urgency": 3}
    first = client.post("/itsm/incidents", json=body, headers={"Idempotency-Key": "old"})
    later = client.post("/itsm/incidents", json=body, headers={"Idempotency-Key": "old"})

    assert first.json()["number"] != later.json()["number"]


def test_a_ci_create_retried_with_its_key_makes_one_ci(client: DcsimClient) -> None:
    body = {"type": "application", "name": "idem-app"}
    first = client.post("/cmdb/cis", json=body, headers={"Idempotency-Key": "ci-1"})
    again = client.post("/cmdb/cis", json=body, headers={"Idempotency-Key": "ci-1"})

    assert (first.status_code, again.status_code) == (201, 201) and again.json() == first.json()
    cis = client.get("/cmdb/cis", params={"type": "application", "q": "idem-app"}).json()["items"]
    assert [ci["id"] for ci in cis] == [first.json()["id"]]


def test_a_problem_create_takes_a_key_too(client: DcsimClient) -> None:
    problem = {"title": "flapping link"}
    first = client.post("/itsm/problems", json=problem, headers={"Idempotency-Key": "p-1"})
    again = client.post("/itsm/problems", json=problem, headers={"Idempotency-Key": "p-1"})

    assert first.status_code == 201 and again.json()["number"] == first.json()["number"]


#: The creates that take ``Idempotency-Key`` (route middleware ``idempotent``).
IDEMPOTENT_CREATES = {
    ("post", "/sim/vms"),
    ("post", "/itsm/incidents"),
    ("post", "/itsm/problems"),
    ("post", "/itsm/changes"),
    ("post", "/cmdb/cis"),
}


def test_the_openapi_document_declares_the_header_on_exactly_the_idempotent_creates(
    make_client: Callable[..., DcsimClient],
) -> None:
    from litestar.routes import HTTPRoute

    from dcsim.web.idempotency import MAX_KEY_LENGTH, idempotent

    # Core's own creates: installed packages add theirs (their own tests check them).
    client = make_client(disable_plugins=("ucs", "openstack", "vmware", "ansible", "ui"))
    doc = client.get("/schema/openapi.json").json()
    declared: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["name"].lower() == "idempotency-key":
                    declared[(method, path)] = parameter
    assert set(declared) == IDEMPOTENT_CREATES
    for parameter in declared.values():
        assert parameter["in"] == "header" and parameter["required"] is False
        assert parameter["schema"]["minLength"] == 1 and parameter["schema"]["maxLength"] == MAX_KEY_LENGTH
        assert "retried create" in parameter["description"]
    # Every handler with the middleware is documented: a new idempotent create cannot be forgotten.
    with_middleware = {
        (method.lower(), route.path.rstrip("/"))
        for route in client.app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if idempotent in (handler.middleware or ())
        for method in handler.http_methods
    }
    assert with_middleware == IDEMPOTENT_CREATES


def test_a_key_outside_the_documented_bounds_is_refused(client: DcsimClient) -> None:
    body = {"title": "bounds", "impact": 3, "urgency": 3}
    long = client.post("/itsm/incidents", json=body, headers={"Idempotency-Key": "k" * 256})
    assert long.status_code == 400 and long.json()["errors"][0]["field"] == "Idempotency-Key"
    assert client.post("/itsm/incidents", json=body, headers={"Idempotency-Key": "k" * 255}).status_code == 201
