"""``GET /auth/me``: each role sees its own token and the scopes its role allows."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("role", "scopes"),
    [
        ("viewer", ["read"]),
        ("operator", ["read", "change"]),
        ("admin", ["read", "change", "delete", "configure"]),
    ],
)
def test_auth_me_names_the_token_and_its_scopes(make_client, role, scopes):
    client = make_client(role=None)
    created = client.post(
        "/tokens", json={"role": role, "name": f"me-{role}"}, headers=client.auth_headers("admin")
    ).json()
    answer = client.get("/auth/me", headers={"Authorization": f"Bearer {created['secret']}"})
    assert answer.status_code == 200
    assert answer.json() == {"id": created["id"], "name": f"me-{role}", "role": role, "scopes": scopes}


def test_auth_me_needs_a_token_and_is_documented(make_client):
    client = make_client(role=None)
    assert client.get("/auth/me").status_code == 401
    schema = client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/auth/me"]["get"]
    assert "auth" in operation["tags"]
    assert {"200", "401"} <= set(operation["responses"])
    session = schema["components"]["schemas"]["Session"]
    assert set(session["required"]) == {"id", "name", "role", "scopes"}
