"""The host app: open probes, problem documents, auth, metrics, body limits, /ws."""

from __future__ import annotations

import pytest

from dcsim import hookimpl

PROBLEM = "application/problem+json"


class HelloEvents:
    """Declares the event types these tests publish."""

    @hookimpl
    def dcsim_register_event_types(self, registry):
        registry.add("hello.said", description="a greeting", data={"to": "who"})
        registry.add("bye.said", description="a farewell")


def test_probes_and_schema_are_open(make_client):
    client = make_client(role=None)
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    checks = {c["name"]: c for c in ready.json()["checks"]}
    assert checks["store"]["ok"] and checks["bus"]["ok"]
    assert checks["plugin:sim"] == {"name": "plugin:sim", "ok": True, "detail": "loaded"}
    schema = client.get("/schema/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/healthz", "/readyz", "/plugins", "/events", "/tokens"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert client.get("/metrics").status_code == 200


def test_mutating_call_needs_operator(make_client):
    client = make_client(HelloEvents(), role=None)
    body = {"type": "hello.said", "data": {"to": "world"}}

    anonymous = client.post("/events", json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith(PROBLEM)
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["code"] == "unauthorized"

    viewer = client.post("/events", json=body, headers=client.auth_headers("viewer"))
    assert viewer.status_code == 403
    assert viewer.headers["content-type"].startswith(PROBLEM)
    assert viewer.json()["required_role"] == "operator"

    operator = client.post("/events", json=body, headers=client.auth_headers("operator"))
    assert operator.status_code == 202
    published = operator.json()
    assert published["type"] == "hello.said" and published["data"] == {"to": "world"}
    listed = client.get("/events", headers=client.auth_headers("viewer")).json()["items"]
    assert published["id"] in [event["id"] for event in listed]


def test_bad_and_revoked_tokens_are_refused(dcsim_client):
    assert dcsim_client.get("/plugins", headers={"Authorization": "Bearer nope"}).status_code == 401
    created = dcsim_client.post("/tokens", json={"role": "viewer", "name": "ci"}).json()
    headers = {"Authorization": f"Bearer {created['secret']}"}
    assert dcsim_client.get("/plugins", headers=headers).status_code == 200
    # Only admins manage tokens.
    assert dcsim_client.get("/tokens", headers=headers).status_code == 403
    assert dcsim_client.delete(f"/tokens/{created['id']}").status_code == 204
    assert dcsim_client.get("/plugins", headers=headers).status_code == 401
    listed = {t["id"]: t for t in dcsim_client.get("/tokens").json()["items"]}
    assert listed[created["id"]]["revoked"] is True
    assert "secret" not in listed[created["id"]]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/no/such/route", None, 404, "not_found"),
        ("put", "/healthz", None, 405, "method_not_allowed"),
        ("post", "/events", {"data": {}}, 422, "validation_failed"),
        ("post", "/events", {"type": "never.declared"}, 400, "invalid_input"),
        ("post", "/tokens", {"role": "emperor", "name": "x"}, 422, "validation_failed"),
        ("delete", "/tokens/does-not-exist", None, 404, "not_found"),
    ],
)
def test_errors_are_problem_documents(dcsim_client, method, path, body, status, code):
    response = dcsim_client.request(method, path, json=body)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["title"] and problem["detail"] and problem["type"].startswith("urn:dcsim:error:")


def test_request_body_is_bounded(make_client):
    client = make_client(max_request_body_bytes=1024)
    response = client.post(
        "/events", content=b'{"type": "' + b"x" * 4096 + b'"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)


def test_request_ids_are_echoed_or_made(dcsim_client):
    given = dcsim_client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = dcsim_client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    problem = dcsim_client.get("/no/such/route", headers={"X-Request-ID": "req-9"})
    assert problem.status_code == 404
    assert problem.json()["request_id"] == "req-9"


def test_metrics_count_requests_by_route(dcsim_client):
    for _ in range(3):
        dcsim_client.get("/healthz")
    text = dcsim_client.get("/metrics").text
    assert 'dcsim_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
    assert "dcsim_http_request_duration_seconds_bucket" in text


def test_cors_is_off_by_default(dcsim_client):
    response = dcsim_client.options(
        "/healthz", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_cors_when_configured(make_client):
    client = make_client(cors_origins=("http://127.0.0.1:5173",))
    response = client.get("/healthz", headers={"Origin": "http://127.0.0.1:5173"})
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"


def test_ws_streams_events_filtered_by_type(make_client):
    client = make_client(HelloEvents())
    secret = client.token("viewer")
    with client.websocket_connect(f"/ws?types=hello.*&token={secret}") as socket:
        client.call(_publish, client.sim, "bye.said", {})
        client.call(_publish, client.sim, "hello.said", {"to": "ws"})
        message = socket.receive_json(timeout=5)
    assert message["type"] == "hello.said"
    assert message["data"] == {"to": "ws"}
    assert message["specversion"] == "1.0"


def test_ws_needs_a_token(make_client):
    from litestar.exceptions import WebSocketDisconnect

    client = make_client(role=None)
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws") as socket:
        socket.receive_json(timeout=2)


async def _publish(sim, event_type, data):
    await sim.publish(event_type, data, source="/test")
