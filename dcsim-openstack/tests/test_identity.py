"""Keystone v3 over HTTP: tokens (issue, validate, revoke, expiry), scopes, the catalog,
projects, users, roles, role assignments and application credentials; secrets hashed."""

from __future__ import annotations

import time

from conftest import password_auth

from dcsim_openstack.identity.keystone import APPLICATION_CREDENTIALS, PASSWORDS
from dcsim_openstack.identity.tokens import NAMESPACE as TOKENS

V3 = "/identity/v3"


def _auth(token: str, subject: str | None = None) -> dict[str, str]:
    return {"X-Auth-Token": token} | ({"X-Subject-Token": subject} if subject else {})


def test_project_scoped_token_with_roles_expiry_and_catalog(os_client):
    answer = os_client.post(f"{V3}/auth/tokens", json=password_auth("demo"), headers={"Host": "localhost:8080"})
    assert answer.status_code == 201
    token = answer.json()["token"]
    assert answer.headers["X-Subject-Token"]
    assert (token["user"]["name"], token["project"]["name"], token["project"]["domain"]["id"]) == (
        "demo",
        "demo",
        "default",
    )
    assert [r["name"] for r in token["roles"]] == ["member"]
    assert token["methods"] == ["password"] and token["expires_at"] > token["issued_at"]
    catalog = {entry["type"]: entry for entry in token["catalog"]}
    assert set(catalog) == {"identity", "compute", "network", "block-storage", "volumev3", "image"}
    urls = {e["interface"]: e["url"] for e in catalog["compute"]["endpoints"] if e["region_id"] == "RegionOne"}
    assert urls == dict.fromkeys(("public", "internal", "admin"), "http://localhost:8080/compute/v2.1")
    assert catalog["identity"]["endpoints"][0]["url"] == "http://localhost:8080/identity"


def test_wrong_credentials_are_401_in_keystones_format(os_client):
    for body in (password_auth("demo", "wrong"), password_auth("nobody", "password"),
                 password_auth("demo", project="no-such-project")):  # fmt: skip
        answer = os_client.post(f"{V3}/auth/tokens", json=body)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == 401
    body = password_auth("demo")
    body["auth"]["identity"]["password"]["user"]["domain"] = {"name": "Elsewhere"}
    assert os_client.post(f"{V3}/auth/tokens", json=body).status_code == 401
    assert os_client.post(f"{V3}/auth/tokens", content=b"{oops", headers={"Content-Type": "application/json"}).json()[
        "error"
    ]["code"] == 400  # fmt: skip


def test_unscoped_token_and_rescoping_with_the_token_method(os_client, keystone_token):
    body = password_auth("admin", project=None)
    body["auth"]["scope"] = "unscoped"
    answer = os_client.post(f"{V3}/auth/tokens", json=body)
    assert answer.status_code == 201 and "project" not in answer.json()["token"]
    assert "catalog" not in answer.json()["token"]
    unscoped = answer.headers["X-Subject-Token"]
    # Without a scope a user with a default project gets a token on it, as Keystone does.
    defaulted = os_client.post(f"{V3}/auth/tokens", json=password_auth("admin", project=None)).json()["token"]
    assert defaulted["project"]["name"] == "demo"
    rescoped = os_client.post(f"{V3}/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": unscoped}},
        "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}})  # fmt: skip
    assert rescoped.status_code == 201
    assert rescoped.json()["token"]["expires_at"] <= answer.json()["token"]["expires_at"]
    assert [r["name"] for r in rescoped.json()["token"]["roles"]] == ["admin"]


def test_validate_and_revoke(os_client, keystone_token):
    admin, demo = keystone_token("admin"), keystone_token("demo")
    valid = os_client.get(f"{V3}/auth/tokens", headers=_auth(admin, demo))
    assert valid.status_code == 200 and valid.json()["token"]["user"]["name"] == "demo"
    assert valid.headers["X-Subject-Token"] == demo
    assert os_client.head(f"{V3}/auth/tokens", headers=_auth(admin, demo)).status_code == 200
    assert os_client.get(f"{V3}/auth/tokens", headers=_auth(admin, "forged")).status_code == 404
    # Another user's token: only an admin may revoke it.
    other = keystone_token("reader")
    assert os_client.delete(f"{V3}/auth/tokens", headers=_auth(demo, other)).status_code == 403
    assert os_client.delete(f"{V3}/auth/tokens", headers=_auth(demo, demo)).status_code == 204
    assert os_client.get(f"{V3}/auth/tokens", headers=_auth(admin, demo)).status_code == 404
    assert os_client.get(f"{V3}/auth/catalog", headers=_auth(demo)).status_code == 401


def test_tokens_expire(make_client):
    client = make_client(role=None, plugins={"openstack": {"token_seconds": 1}})
    token = client.post(f"{V3}/auth/tokens", json=password_auth("demo")).headers["X-Subject-Token"]
    assert client.get(f"{V3}/auth/catalog", headers=_auth(token)).status_code == 200
    time.sleep(1.2)
    answer = client.get(f"{V3}/auth/catalog", headers=_auth(token))
    assert answer.status_code == 401 and answer.json()["error"]["title"] == "Unauthorized"


def test_secrets_are_stored_hashed(os_client, keystone_token):
    token = keystone_token("demo")
    store = os_client.sim.store
    stored_tokens = [doc.key for doc in store.list(TOKENS)]
    assert token not in stored_tokens and len(stored_tokens) >= 1
    assert not any(token in str(doc.value) for doc in store.list(TOKENS))
    for doc in store.list(PASSWORDS):
        assert doc.value["hash"].startswith("scrypt$") and "password" not in doc.value["hash"]
    assert "password" not in str(os_client.get("/sim/state", headers={"Authorization": f"Bearer {os_client.token('admin')}"}).json()["objects"]["user"])  # fmt: skip


def test_projects_users_roles_and_assignments(os_client, keystone_token):
    admin = _auth(keystone_token("admin"))
    project = os_client.post(
        f"{V3}/projects", json={"project": {"name": "staging", "domain_id": "default"}}, headers=admin
    )
    assert project.status_code == 201
    project_id = project.json()["project"]["id"]
    user = os_client.post(f"{V3}/users", json={"user": {"name": "alice", "password": "s3cret", "default_project_id": project_id}}, headers=admin)  # fmt: skip
    assert user.status_code == 201
    user_id = user.json()["user"]["id"]
    roles = {r["name"]: r["id"] for r in os_client.get(f"{V3}/roles", headers=admin).json()["roles"]}
    assert {"admin", "member", "reader"} <= set(roles)
    # No role on the project yet: no token scoped to it.
    assert os_client.post(f"{V3}/auth/tokens", json=password_auth("alice", "s3cret", "staging")).status_code == 401
    grant = f"{V3}/projects/{project_id}/users/{user_id}/roles/{roles['member']}"
    assert os_client.put(grant, headers=admin).status_code == 204
    assert os_client.head(grant, headers=admin).status_code == 204
    token = os_client.post(f"{V3}/auth/tokens", json=password_auth("alice", "s3cret", "staging"))
    assert [r["name"] for r in token.json()["token"]["roles"]] == ["member"]
    listed = os_client.get(f"{V3}/role_assignments?user.id={user_id}&include_names=1", headers=admin).json()
    [assignment] = listed["role_assignments"]
    assert (assignment["role"]["name"], assignment["scope"]["project"]["name"]) == ("member", "staging")
    # A member cannot make users; revoking the role ends the token on the project.
    alice = _auth(token.headers["X-Subject-Token"])
    assert os_client.post(f"{V3}/users", json={"user": {"name": "bob"}}, headers=alice).status_code == 403
    assert os_client.delete(grant, headers=admin).status_code == 204
    assert os_client.get(f"{V3}/auth/catalog", headers=alice).status_code == 401
    assert os_client.get(f"{V3}/projects?name=staging", headers=admin).json()["projects"][0]["id"] == project_id
    assert os_client.delete(f"{V3}/users/{user_id}", headers=admin).status_code == 204
    assert os_client.get(f"{V3}/users/{user_id}", headers=admin).json()["error"]["code"] == 404
    assert os_client.delete(f"{V3}/projects/{project_id}", headers=admin).status_code == 204
    assert os_client.post(f"{V3}/auth/tokens", json=password_auth("alice", "s3cret", None)).status_code == 401


def test_reader_changes_nothing(os_client, keystone_token):
    reader = _auth(keystone_token("reader"))
    assert os_client.get(f"{V3}/projects", headers=reader).json()["projects"][0]["name"] == "demo"
    answer = os_client.post(f"{V3}/projects", json={"project": {"name": "x"}}, headers=reader)
    assert answer.status_code == 403 and answer.json()["error"]["title"] == "Forbidden"


def test_application_credentials(os_client, keystone_token):
    demo = os_client.post(f"{V3}/auth/tokens", json=password_auth("demo")).json()["token"]["user"]["id"]
    headers = _auth(keystone_token("demo"))
    made = os_client.post(f"{V3}/users/{demo}/application_credentials", json={"application_credential": {"name": "ci"}}, headers=headers)  # fmt: skip
    assert made.status_code == 201
    credential = made.json()["application_credential"]
    assert credential["roles"][0]["name"] == "member" and credential["secret"]
    assert not any(credential["secret"] in str(d.value) for d in os_client.sim.store.list(APPLICATION_CREDENTIALS))
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {"id": credential["id"], "secret": credential["secret"]}}}}  # fmt: skip
    token = os_client.post(f"{V3}/auth/tokens", json=auth)
    assert token.status_code == 201 and token.json()["token"]["project"]["name"] == "demo"
    wrong = {"auth": {"identity": {"methods": ["application_credential"],
                                   "application_credential": {"id": credential["id"], "secret": "nope"}}}}  # fmt: skip
    assert os_client.post(f"{V3}/auth/tokens", json=wrong).status_code == 401
    listed = os_client.get(f"{V3}/users/{demo}/application_credentials", headers=headers).json()
    assert [c["name"] for c in listed["application_credentials"]] == ["ci"] and "secret" not in listed[
        "application_credentials"
    ][0]
    assert os_client.delete(f"{V3}/users/{demo}/application_credentials/{credential['id']}", headers=headers).status_code == 204  # fmt: skip
    assert os_client.get(f"{V3}/auth/catalog", headers=_auth(token.headers["X-Subject-Token"])).status_code == 401
