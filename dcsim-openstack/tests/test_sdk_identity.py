"""Keystone through openstacksdk over a real ``dcsim serve``: token and catalog at the
URL the client used, wrong credentials, validation and revocation, projects, users, roles
and assignments, application credentials, the reader refused."""

from __future__ import annotations

import os
from collections.abc import Iterator

import openstack
import openstack.connection
import openstack.exceptions
import pytest
import requests

from dcsim.testing import ServerProcess, run_server

SERVICE_PATHS = {"identity": "/identity", "compute": "/compute/v2.1", "network": "/network",
                 "block-storage": "/volume/v3", "image": "/image"}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server on the default seed, for the module."""
    os.environ["no_proxy"] = "127.0.0.1,localhost"
    with run_server(tmp_path_factory.mktemp("keystone") / "server") as running:
        yield running


def connect(server: ServerProcess, user: str = "admin", password: str = "password", host: str = "127.0.0.1",
            **auth: str) -> openstack.connection.Connection:  # fmt: skip
    """An openstacksdk connection as ``user``, scoped to project demo."""
    url = server.url.replace("127.0.0.1", host)
    if auth:
        return openstack.connect(auth_url=f"{url}/identity", region_name="RegionOne", **auth)
    return openstack.connect(
        auth_url=f"{url}/identity", username=user, password=password, project_name="demo",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip


def test_token_and_catalog_at_the_url_the_client_used(server):
    for host in ("127.0.0.1", "localhost"):
        conn = connect(server, "demo", host=host)
        assert conn.auth_token
        access = conn.session.auth.get_access(conn.session)
        assert (access.username, access.project_name, access.role_names) == ("demo", "demo", ["member"])
        base = server.url.replace("127.0.0.1", host)
        for service_type, path in SERVICE_PATHS.items():
            endpoint = conn.session.get_endpoint(service_type=service_type, interface="public", region_name="RegionOne")
            assert endpoint.rstrip("/") == base + path, service_type


def test_wrong_credentials_are_refused(server):
    for user, password in (("demo", "wrong"), ("nobody", "password")):
        with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
            connect(server, user, password=password).authorize()


def test_validate_and_revoke_a_token(server):
    admin, demo = connect(server), connect(server, "demo")
    token = demo.auth_token
    checked = admin.session.get("/auth/tokens", endpoint_filter={"service_type": "identity", "interface": "public"},
                                headers={"X-Subject-Token": token}, endpoint_override=f"{server.url}/identity/v3")  # fmt: skip
    assert checked.status_code == 200 and checked.json()["token"]["user"]["name"] == "demo"
    admin.session.delete("/auth/tokens", headers={"X-Subject-Token": token},
                         endpoint_override=f"{server.url}/identity/v3")  # fmt: skip
    gone = admin.session.get("/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False,
                             endpoint_override=f"{server.url}/identity/v3")  # fmt: skip
    assert gone.status_code == 404 and gone.json()["error"]["code"] == 404
    # The revoked token opens nothing (keystoneauth would quietly fetch a new one).
    refused = requests.get(f"{server.url}/image/v2/images", headers={"X-Auth-Token": token}, timeout=30)
    assert refused.status_code == 401


def test_projects_users_roles_and_assignments(server):
    conn = connect(server)
    assert "demo" in {p.name for p in conn.identity.projects()}
    assert {"admin", "member", "reader"} <= {r.name for r in conn.identity.roles()}
    project = conn.identity.create_project(name="sdk-project", domain_id="default")
    user = conn.identity.create_user(name="sdk-user", password="sdk-pass", default_project_id=project.id)
    member = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, user, member)
    assert conn.identity.validate_user_has_project_role(project, user, member)
    assignments = list(conn.identity.role_assignments(user_id=user.id))
    assert [(a.role["id"], a.scope["project"]["id"]) for a in assignments] == [(member.id, project.id)]
    theirs = openstack.connect(
        auth_url=f"{server.url}/identity", username="sdk-user", password="sdk-pass", project_name="sdk-project",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip
    assert theirs.session.auth.get_access(theirs.session).role_names == ["member"]
    conn.identity.unassign_project_role_from_user(project, user, member)
    assert not conn.identity.validate_user_has_project_role(project, user, member)
    conn.identity.delete_user(user)
    conn.identity.delete_project(project)
    assert conn.identity.find_project("sdk-project") is None
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.identity.get_user(user.id)


def test_application_credentials(server):
    demo = connect(server, "demo")
    user_id = demo.current_user_id
    credential = demo.identity.create_application_credential(user_id, name="automation")
    assert credential.secret and [r["name"] for r in credential.roles] == ["member"]
    by_credential = connect(server, auth_type="v3applicationcredential", application_credential_id=credential.id,
                            application_credential_secret=credential.secret)  # fmt: skip
    assert by_credential.session.auth.get_access(by_credential.session).project_name == "demo"
    assert [c.name for c in demo.identity.application_credentials(user_id)] == ["automation"]
    demo.identity.delete_application_credential(user_id, credential.id)
    with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
        connect(server, auth_type="v3applicationcredential", application_credential_id=credential.id,
                application_credential_secret=credential.secret).authorize()  # fmt: skip


def test_reader_gets_403(server):
    reader = connect(server, "reader")
    assert "demo" in {p.name for p in reader.identity.projects()}
    with pytest.raises(openstack.exceptions.ForbiddenException) as refused:
        reader.identity.create_project(name="not-allowed", domain_id="default")
    assert refused.value.status_code == 403
