"""Every service answers errors in its own body, the host's own 404/405 included, and
never a dc-sim problem document; every service root answers its version discovery."""

from __future__ import annotations

import pytest

from dcsim_openstack.errors import OpenStackError, cinder_body, glance_body, keystone_body, neutron_body, nova_body

SHAPES = {
    "identity": lambda body, status: body["error"]["code"] == status and body["error"]["title"],
    "compute": lambda body, status: body[{404: "itemNotFound", 405: "badMethod"}[status]]["code"] == status,
    "volume": lambda body, status: body[{404: "itemNotFound", 405: "badMethod"}[status]]["code"] == status,
    "network": lambda body, status: body["NeutronError"]["type"] == {404: "HTTPNotFound", 405: "HTTPMethodNotAllowed"}[status],
    "image": lambda body, status: body["code"].startswith(str(status)),
}  # fmt: skip
VERSION_ROOTS = {"identity": "v3", "compute": "v2.1", "network": "v2.0", "volume": "v3", "image": "v2"}


@pytest.mark.parametrize("service", sorted(SHAPES))
def test_no_such_route_and_wrong_method_in_the_services_format(os_client, service):
    root = f"/{service}/{VERSION_ROOTS[service]}"
    for method, path, status in (("GET", f"{root}/no-such-thing", 404), ("GET", f"/{service}/x/y", 404),
                                 ("DELETE", root, 405)):  # fmt: skip
        answer = os_client.request(method, path)
        assert answer.status_code == status, (method, path)
        assert not answer.headers["content-type"].startswith("application/problem+json")
        assert SHAPES[service](answer.json(), status), answer.json()


def test_bodies_by_service():
    missing = OpenStackError(404, "Server x could not be found.")
    assert keystone_body(missing) == {
        "error": {"code": 404, "title": "Not Found", "message": "Server x could not be found."}
    }
    assert nova_body(missing) == {"itemNotFound": {"code": 404, "message": "Server x could not be found."}}
    assert cinder_body(OpenStackError(409, "busy")) == {"conflictingRequest": {"code": 409, "message": "busy"}}
    assert nova_body(OpenStackError(500, "boom")) == {"computeFault": {"code": 500, "message": "boom"}}
    named = OpenStackError(404, "Network n could not be found.", title="NetworkNotFound")
    assert neutron_body(named) == {"NeutronError": {"type": "NetworkNotFound", "message": named.message, "detail": ""}}
    assert glance_body(missing) == {"code": "404 Not Found", "title": "Not Found", "message": missing.message}


def test_discovery_documents(os_client):
    keystone = os_client.get("/identity")
    assert keystone.status_code == 300
    [v3] = keystone.json()["versions"]["values"]
    assert (v3["id"], v3["status"], v3["links"][0]["href"]) == ("v3.14", "stable", "http://127.0.0.1/identity/v3/")
    assert os_client.get("/identity/v3").json()["version"]["id"] == "v3.14"
    [nova] = os_client.get("/compute").json()["versions"]
    assert nova["id"] == "v2.1" and nova["min_version"] == "2.1" and nova["version"] >= "2.1"
    assert os_client.get("/compute/v2.1").json()["version"]["links"][0]["href"] == "http://127.0.0.1/compute/v2.1/"
    [cinder] = os_client.get("/volume").json()["versions"]
    assert cinder["id"] == "v3.0" and cinder["min_version"] == "3.0"
    assert os_client.get("/network").json()["versions"][0]["id"] == "v2.0"
    assert "networks" in {r["collection"] for r in os_client.get("/network/v2.0").json()["resources"]}
    [glance] = os_client.get("/image").json()["versions"]
    assert glance["links"][0]["href"] == "http://127.0.0.1/image/v2/"


def test_a_route_without_a_token_is_a_401_in_the_services_format(os_client):
    answer = os_client.get("/identity/v3/auth/catalog")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == 401
    assert answer.headers["WWW-Authenticate"] == 'Keystone uri="http://127.0.0.1/identity"'
    assert os_client.get("/identity/v3/auth/catalog", headers={"X-Auth-Token": "forged"}).status_code == 401


def test_bodies_that_are_not_json_or_nest_too_deep_are_400s(os_client):
    for raw in (b"{not json", b"[" * 100_000 + b"]" * 100_000):
        answer = os_client.post("/identity/v3/auth/tokens", content=raw, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == 400
