"""The ``/ucs/api/v1`` REST convenience API against the default seed."""

from __future__ import annotations

from typing import Any

import pytest

from dcsim.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from dcsim.sim.model import PowerState
from dcsim_ucs.errors import UcsError, already_exists, does_not_exist, invalid_config, parse_error
from dcsim_ucs.model import FIRMWARE
from dcsim_ucs.rest import as_dcsim_error

API = "/ucs/api/v1"
PROBLEM_JSON = "application/problem+json"
DOMAIN_ID = "6e2f2ee0-3b38-5379-8c35-12f97856f248"

SP_DB_01 = {
    "id": "b9901456-2b0d-5fb7-aa0e-3553fd1e8ba2",
    "name": "SP-db-01",
    "dn": "org-root/ls-SP-db-01",
    "domain": "ucs-domain-01",
    "org": "org-root",
    "template": "SP-Template-RHEL9",
    "blade": "c01s03",
    "blade_dn": "sys/chassis-1/blade-3",
    "assoc_state": "associated",
    "power": "up",
    "firmware_policy": FIRMWARE,
    "macs": ["00:25:b5:af:fe:4e", "00:25:b5:ea:53:91"],
    "description": "",
}


@pytest.fixture
def client(make_client):
    return make_client(role="operator")


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


def problem(response, status: int, code: str, ucs_code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document of ``status`` and ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"urn:dcsim:error:{code}")
    assert body["title"] and body["detail"]
    assert body["instance"] == response.request.url.path
    assert body.get("ucs_code") == ucs_code
    return body


# Reads -------------------------------------------------------------------------------


def test_domains(client):
    domain = {
        "id": DOMAIN_ID,
        "name": "ucs-domain-01",
        "dn": "sys",
        "firmware": FIRMWARE,
        "datacenter": "dc-west",
        "fabric_interconnects": ["ucs-domain-01-A", "ucs-domain-01-B"],
        "chassis_count": 1,
        "blade_count": 3,
        "service_profile_count": 3,
    }
    assert client.get(f"{API}/domains").json() == {"total": 1, "limit": 100, "offset": 0, "items": [domain]}
    assert client.get(f"{API}/domains/ucs-domain-01").json() == domain
    assert client.get(f"{API}/domains/{DOMAIN_ID}").json() == domain
    problem(client.get(f"{API}/domains/ucs-domain-99"), 404, "not_found")


def test_fabric_interconnects(client):
    fi_a = {
        "id": "77c0b21c-7192-5806-ac57-47fc733c6066",
        "name": "ucs-domain-01-A",
        "dn": "sys/switch-A",
        "domain": "ucs-domain-01",
        "side": "A",
        "model": "UCS-FI-6454",
        "serial": "FDOA614EEE5",
        "primary": True,
        "status": "ok",
    }
    page = client.get(f"{API}/fabric-interconnects").json()
    assert page["total"] == 2 and page["items"][0] == fi_a
    assert page["items"][1] | {"id": None} == {
        **fi_a, "id": None, "name": "ucs-domain-01-B", "dn": "sys/switch-B", "side": "B", "serial": "FDO28D50364",
        "primary": False,
    }  # fmt: skip
    assert client.get(f"{API}/fabric-interconnects/ucs-domain-01-A").json() == fi_a
    assert names(client.get(f"{API}/fabric-interconnects", params={"domain": "ucs-domain-01"}).json()) == [
        "ucs-domain-01-A", "ucs-domain-01-B"
    ]  # fmt: skip
    problem(client.get(f"{API}/fabric-interconnects/ucs-domain-01-C"), 404, "not_found")


def test_chassis(client):
    chassis = {
        "id": "77960ee8-78bb-56e3-817c-bfb63f4d2f9a",
        "name": "chassis-01",
        "dn": "sys/chassis-1",
        "domain": "ucs-domain-01",
        "number": 1,
        "model": "UCSB-5108-AC2",
        "serial": "FOX5F613810",
        "slots": 8,
        "blades": ["c01s01", "c01s02", "c01s03"],
    }
    assert client.get(f"{API}/chassis").json()["items"] == [chassis]
    assert client.get(f"{API}/chassis/chassis-01").json() == chassis
    problem(client.get(f"{API}/chassis/chassis-09"), 404, "not_found")


def test_blades(client):
    c01s01 = {
        "id": "2a6a2989-7b4a-5c9b-a2c4-9f8fcdc09d1e",
        "name": "c01s01",
        "dn": "sys/chassis-1/blade-1",
        "domain": "ucs-domain-01",
        "chassis": "chassis-01",
        "slot": 1,
        "model": "UCSB-B200-M5",
        "serial": "FCHB2375F95",
        "cpu": 4,
        "memory_mb": 16_384,
        "firmware": FIRMWARE,
        "power_state": "on",
        "status": "ok",
        "service_profile": "SP-web-01",
        "node": "sim-ucs-blade-c01s01",
    }
    page = client.get(f"{API}/blades").json()
    assert names(page) == ["c01s01", "c01s02", "c01s03"] and page["items"][0] == c01s01
    assert [(b["dn"], b["slot"], b["service_profile"], b["node"]) for b in page["items"][1:]] == [
        ("sys/chassis-1/blade-2", 2, "SP-app-01", "sim-ucs-blade-c01s02"),
        ("sys/chassis-1/blade-3", 3, "SP-db-01", "sim-ucs-blade-c01s03"),
    ]
    assert client.get(f"{API}/blades/c01s01").json() == c01s01
    assert names(client.get(f"{API}/blades", params={"chassis": "chassis-01"}).json()) == names(page)
    assert names(client.get(f"{API}/blades", params={"associated": "true"}).json()) == names(page)
    assert client.get(f"{API}/blades", params={"associated": "false"}).json()["items"] == []
    problem(client.get(f"{API}/blades/c09s09"), 404, "not_found")
    problem(client.get(f"{API}/blades", params={"chassis": "chassis-09"}), 404, "not_found")
    problem(client.get(f"{API}/blades", params={"associated": "maybe"}), 400, "invalid_input")


def test_service_profile_templates(client):
    page = client.get(f"{API}/service-profile-templates").json()
    assert page["total"] == 2
    assert [{k: v for k, v in t.items() if k != "id"} for t in page["items"]] == [
        {"name": "SP-Template-RHEL9", "dn": "org-root/ls-SP-Template-RHEL9", "domain": "ucs-domain-01",
         "org": "org-root", "guest_os": "rhel9", "firmware": FIRMWARE},
        {"name": "SP-Template-Ubuntu", "dn": "org-root/ls-SP-Template-Ubuntu", "domain": "ucs-domain-01",
         "org": "org-root", "guest_os": "ubuntu22", "firmware": FIRMWARE},
    ]  # fmt: skip


def test_service_profiles(client):
    page = client.get(f"{API}/service-profiles").json()
    assert names(page) == ["SP-app-01", "SP-db-01", "SP-web-01"]
    assert page["items"][1] == SP_DB_01
    assert [(p["template"], p["blade"], p["blade_dn"]) for p in page["items"]] == [
        ("SP-Template-Ubuntu", "c01s02", "sys/chassis-1/blade-2"),
        ("SP-Template-RHEL9", "c01s03", "sys/chassis-1/blade-3"),
        ("SP-Template-RHEL9", "c01s01", "sys/chassis-1/blade-1"),
    ]
    assert client.get(f"{API}/service-profiles/SP-db-01").json() == SP_DB_01
    assert client.get(f"{API}/service-profiles/{SP_DB_01['id']}").json() == SP_DB_01
    assert names(client.get(f"{API}/service-profiles", params={"org": "org-root"}).json()) == names(page)
    assert client.get(f"{API}/service-profiles", params={"org": "org-root/org-web"}).json()["total"] == 0
    assert names(client.get(f"{API}/service-profiles", params={"associated": "true"}).json()) == names(page)
    assert client.get(f"{API}/service-profiles", params={"associated": "false"}).json()["total"] == 0


def test_filters_by_domain(make_client, second_domain):
    client = make_client(second_domain, role="viewer")
    domains = client.get(f"{API}/domains").json()
    assert names(domains) == ["ucs-domain-01", "ucs-domain-02"]
    assert {k: domains["items"][1][k] for k in ("firmware", "fabric_interconnects", "chassis_count", "blade_count",
                                                  "service_profile_count")} == {
        "firmware": "4.3(2b)", "fabric_interconnects": ["ucs-domain-02-A", "ucs-domain-02-B"], "chassis_count": 1,
        "blade_count": 1,
        "service_profile_count": 0,
    }  # fmt: skip

    def listed(path: str, **params: str) -> list[str]:
        return names(client.get(f"{API}/{path}", params=params).json())

    assert listed("chassis") == ["chassis-01", "chassis-02"]
    assert listed("chassis", domain="ucs-domain-02") == ["chassis-02"]
    assert listed("chassis", domain=DOMAIN_ID) == ["chassis-01"]
    assert listed("fabric-interconnects", domain="ucs-domain-02") == ["ucs-domain-02-A", "ucs-domain-02-B"]
    assert listed("blades", domain="ucs-domain-02") == ["c02s01"]
    assert listed("blades", domain="ucs-domain-01") == ["c01s01", "c01s02", "c01s03"]
    assert listed("blades", associated="false") == ["c02s01"]
    assert listed("blades", chassis="chassis-02", associated="true") == []
    assert listed("service-profile-templates", domain="ucs-domain-02") == []
    assert listed("service-profiles", domain="ucs-domain-02") == []
    assert listed("service-profiles", domain="ucs-domain-01") == ["SP-app-01", "SP-db-01", "SP-web-01"]
    c02s01 = client.get(f"{API}/blades/c02s01").json()
    assert (c02s01["dn"], c02s01["power_state"], c02s01["service_profile"], c02s01["node"]) == (
        "sys/chassis-2/blade-1", "off", None, None
    )  # fmt: skip
    for path in ("fabric-interconnects", "chassis", "blades", "service-profile-templates", "service-profiles"):
        problem(client.get(f"{API}/{path}", params={"domain": "ucs-domain-99"}), 404, "not_found")


def test_pagination(client):
    page = client.get(f"{API}/blades", params={"limit": 2, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"], names(page)) == (3, 2, 1, ["c01s02", "c01s03"])
    assert client.get(f"{API}/service-profiles", params={"offset": 3}).json()["items"] == []
    problem(client.get(f"{API}/blades", params={"limit": 0}), 400, "invalid_input")
    problem(client.get(f"{API}/service-profiles", params={"offset": -1}), 400, "invalid_input")


# Changes -----------------------------------------------------------------------------


def test_create_from_a_template(client):
    body = {"name": "SP-new-01", "template": "SP-Template-Ubuntu", "description": "spare web node"}
    response = client.post(f"{API}/service-profiles", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert {k: v for k, v in created.items() if k not in ("id", "macs")} == {
        "name": "SP-new-01", "dn": "org-root/ls-SP-new-01", "domain": "ucs-domain-01", "org": "org-root",
        "template": "SP-Template-Ubuntu", "blade": None, "blade_dn": None, "assoc_state": "unassociated",
        "power": "up", "firmware_policy": FIRMWARE, "description": "spare web node",
    }  # fmt: skip
    assert len(created["macs"]) == 2 and all(mac.startswith("00:25:b5:") for mac in created["macs"])
    assert client.get(f"{API}/service-profiles/SP-new-01").json() == created
    assert client.get(f"{API}/service-profiles/{created['id']}").json() == created
    assert names(client.get(f"{API}/service-profiles", params={"associated": "false"}).json()) == ["SP-new-01"]
    assert client.get(f"{API}/domains/ucs-domain-01").json()["service_profile_count"] == 4

    # The XML API's tree has it too: both are views of the same simulation.
    tree = client.call(client.sim.services["ucs"].tree)
    mo = tree.get("org-root/ls-SP-new-01")
    assert mo is not None and mo.class_id == "lsServer"
    assert (mo.attrs["srcTemplName"], mo.attrs["assocState"], mo.attrs["descr"], mo.attrs["type"]) == (
        "SP-Template-Ubuntu", "unassociated", "spare web node", "instance"
    )  # fmt: skip


def test_associate_power_disassociate_delete(client):
    admin = client.auth_headers("admin")
    nodes = client.sim.sim.nodes
    node = "sim-ucs-blade-c01s03"
    created = client.post(f"{API}/service-profiles", json={"name": "SP-db-02", "template": "SP-Template-RHEL9"})
    assert created.status_code == 201, created.text

    # Free c01s03: SP-db-01 comes off and the blade powers off.
    freed = client.post(f"{API}/service-profiles/SP-db-01/disassociate")
    assert freed.status_code == 200, freed.text
    assert (freed.json()["blade"], freed.json()["assoc_state"]) == (None, "unassociated")
    blade = client.get(f"{API}/blades/c01s03").json()
    assert (blade["service_profile"], blade["power_state"]) == (None, "off")
    assert names(client.get(f"{API}/blades", params={"associated": "false"}).json()) == ["c01s03"]
    assert client.call(nodes.labels, node)["sim.ucs.sp"] == ""

    # The new profile takes the blade, which powers on as the profile wants.
    associated = client.post(f"{API}/service-profiles/SP-db-02/associate", json={"blade": "c01s03"})
    assert associated.status_code == 200, associated.text
    profile = associated.json()
    assert (profile["blade"], profile["blade_dn"], profile["assoc_state"], profile["power"]) == (
        "c01s03", "sys/chassis-1/blade-3", "associated", "up"
    )  # fmt: skip
    blade = client.get(f"{API}/blades/c01s03").json()
    assert (blade["service_profile"], blade["power_state"]) == ("SP-db-02", "on")
    labels = client.call(nodes.labels, node)
    assert (labels["sim.ucs.sp"], labels["sim.ucs.template"], labels["sim.ucs.macs"]) == (
        "SP-db-02", "SP-Template-RHEL9", ",".join(profile["macs"])
    )  # fmt: skip
    tree = client.call(client.sim.services["ucs"].tree)
    assert tree.get("org-root/ls-SP-db-02").attrs["pnDn"] == "sys/chassis-1/blade-3"

    powered = client.post(f"{API}/service-profiles/SP-db-02/power", json={"state": "down"})
    assert powered.status_code == 200, powered.text
    assert powered.json()["power"] == "down"
    assert client.get(f"{API}/blades/c01s03").json()["power_state"] == "off"
    assert client.call(nodes.power_state, node) is PowerState.OFF
    assert client.post(f"{API}/service-profiles/SP-db-02/power", json={"state": "up"}).json()["power"] == "up"
    assert client.get(f"{API}/blades/c01s03").json()["power_state"] == "on"

    released = client.post(f"{API}/service-profiles/SP-db-02/disassociate")
    assert released.status_code == 200 and released.json()["blade"] is None
    assert client.get(f"{API}/blades/c01s03").json()["service_profile"] is None

    deleted = client.delete(f"{API}/service-profiles/SP-db-02", headers=admin)
    assert deleted.status_code == 204 and deleted.content == b""
    problem(client.get(f"{API}/service-profiles/SP-db-02"), 404, "not_found")
    assert client.call(client.sim.services["ucs"].tree).get("org-root/ls-SP-db-02") is None

    # Associate by DN, then delete while associated: the blade is freed and powers off.
    by_dn = client.post(f"{API}/service-profiles/SP-db-01/associate", json={"blade": "sys/chassis-1/blade-3"})
    assert by_dn.json()["blade"] == "c01s03"
    assert client.delete(f"{API}/service-profiles/SP-db-01", headers=admin).status_code == 204
    blade = client.get(f"{API}/blades/c01s03").json()
    assert (blade["service_profile"], blade["power_state"]) == (None, "off")
    assert names(client.get(f"{API}/service-profiles").json()) == ["SP-app-01", "SP-web-01"]


def test_changes_are_made_as_the_tokens_user(client, monkeypatch):
    manager = client.sim.services["ucs"]
    users: list[str] = []
    apply = manager.apply

    async def spy(changes, *, user):
        users.append(user)
        return await apply(changes, user=user)

    monkeypatch.setattr(manager, "apply", spy)
    client.post(f"{API}/service-profiles/SP-web-01/power", json={"state": "down"})
    client.post(f"{API}/service-profiles/SP-web-01/power", json={"state": "up"}, headers=client.auth_headers("admin"))
    assert users == ["test-operator", "test-admin"]


# Refusals ----------------------------------------------------------------------------


def test_unknown_template_is_refused(client):
    response = client.post(f"{API}/service-profiles", json={"name": "SP-new-01", "template": "SP-Template-Nope"})
    body = problem(response, 409, "conflict", ucs_code="ERR-MO-CONFIG-invalid")
    assert "SP-Template-Nope" in body["detail"]
    problem(client.get(f"{API}/service-profiles/SP-new-01"), 404, "not_found")


def test_create_refusals(client):
    existing = client.post(f"{API}/service-profiles", json={"name": "SP-web-01", "template": "SP-Template-RHEL9"})
    assert "SP-web-01" in problem(existing, 409, "conflict", ucs_code="103")["detail"]
    no_org = client.post(
        f"{API}/service-profiles", json={"name": "SP-new-01", "template": "SP-Template-RHEL9", "org": "org-root/org-x"}
    )
    problem(no_org, 409, "conflict", ucs_code="ERR-MO-CONFIG-invalid")
    missing = problem(client.post(f"{API}/service-profiles", json={"name": "SP-new-01"}), 422, "validation_failed")
    assert missing["errors"] == [{"field": "template", "message": "required field missing"}]
    listed = client.post(f"{API}/service-profiles", json=["SP-new-01", "SP-Template-RHEL9"])
    problem(listed, 422, "validation_failed")
    assert client.get(f"{API}/service-profiles").json()["total"] == 3


def test_associate_refusals(client):
    client.post(f"{API}/service-profiles", json={"name": "SP-new-01", "template": "SP-Template-RHEL9"})
    in_use = client.post(f"{API}/service-profiles/SP-new-01/associate", json={"blade": "c01s01"})
    body = problem(in_use, 409, "conflict", ucs_code="ERR-MO-CONFIG-invalid")
    assert "SP-web-01" in body["detail"]
    already = client.post(f"{API}/service-profiles/SP-web-01/associate", json={"blade": "c01s01"})
    problem(already, 409, "conflict", ucs_code="103")
    problem(client.post(f"{API}/service-profiles/SP-new-01/associate", json={"blade": "c09s09"}), 404, "not_found")
    problem(client.post(f"{API}/service-profiles/SP-new-01/associate", json={}), 422, "validation_failed")
    problem(client.post(f"{API}/service-profiles/SP-new-01/disassociate"), 409, "conflict")
    assert client.get(f"{API}/blades/c01s01").json()["service_profile"] == "SP-web-01"


def test_power_refusals(client):
    sideways = client.post(f"{API}/service-profiles/SP-web-01/power", json={"state": "sideways"})
    assert problem(sideways, 422, "validation_failed")["errors"][0]["field"] == "state"
    assert "sideways" in sideways.json()["detail"]
    misnamed = client.post(f"{API}/service-profiles/SP-web-01/power", json={"power": "up"})
    assert {e["field"] for e in problem(misnamed, 422, "validation_failed")["errors"]} == {"power", "state"}
    assert client.get(f"{API}/service-profiles/SP-web-01").json()["power"] == "up"
    assert client.get(f"{API}/blades/c01s01").json()["power_state"] == "on"


def test_unknown_profile(client):
    admin = client.auth_headers("admin")
    problem(client.get(f"{API}/service-profiles/SP-nope"), 404, "not_found")
    problem(client.post(f"{API}/service-profiles/SP-nope/associate", json={"blade": "c01s01"}), 404, "not_found")
    problem(client.post(f"{API}/service-profiles/SP-nope/disassociate"), 404, "not_found")
    problem(client.post(f"{API}/service-profiles/SP-nope/power", json={"state": "up"}), 404, "not_found")
    problem(client.delete(f"{API}/service-profiles/SP-nope", headers=admin), 404, "not_found")


def test_roles(client):
    viewer = client.auth_headers("viewer")
    assert client.get(f"{API}/service-profiles", headers=viewer).status_code == 200
    create = {"name": "SP-new-01", "template": "SP-Template-RHEL9"}
    body = problem(client.post(f"{API}/service-profiles", json=create, headers=viewer), 403, "forbidden")
    assert (body["required_role"], body["token_role"]) == ("operator", "viewer")
    problem(client.post(f"{API}/service-profiles/SP-web-01/disassociate", headers=viewer), 403, "forbidden")
    problem(client.post(f"{API}/service-profiles/SP-web-01/power", json={"state": "down"}, headers=viewer), 403,
            "forbidden")  # fmt: skip
    body = problem(client.delete(f"{API}/service-profiles/SP-web-01"), 403, "forbidden")
    assert (body["required_role"], body["token_role"]) == ("admin", "operator")
    problem(client.get(f"{API}/domains", headers={"Authorization": ""}), 401, "unauthorized")
    web = client.get(f"{API}/service-profiles/SP-web-01").json()
    assert (web["blade"], web["power"]) == ("c01s01", "up")


def test_openapi_documents_the_routes(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in ("domains", "fabric-interconnects", "chassis", "blades", "service-profile-templates",
                 "service-profiles", "service-profiles/{name}/associate", "service-profiles/{name}/power"):  # fmt: skip
        operations = paths[f"{API}/{path}"]
        assert all(op["tags"] == ["ucs"] and op["summary"] for op in operations.values()), path
    assert set(paths[f"{API}/service-profiles/{{name}}"]) == {"get", "delete"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "SP-new-01", "template": "SP-Template-RHEL9", "descr": "typo"}, {"descr"}),  # unknown field
        ({"name": 5, "template": "SP-Template-RHEL9"}, {"name"}),  # no coercion of 5 to "5"
        ({"name": "", "template": "SP-Template-RHEL9"}, {"name"}),  # empty
        ({"name": "S", "template": "SP-Template-RHEL9"}, {"name"}),  # UCS: at least 2
        ({"name": "SP-" + "x" * 30, "template": "SP-Template-RHEL9"}, {"name"}),  # UCS: at most 32
        ({"name": "SP new", "template": "SP-Template-RHEL9"}, {"name"}),  # a character UCS refuses
        ({"name": "SP-new-01", "template": "SP-Template-RHEL9", "org": "root"}, {"org"}),  # not an org DN
        ({"name": "SP-new-01", "template": "SP-Template-RHEL9", "description": "a\nb"}, {"description"}),
        ({"name": "SP-new-01", "template": ["SP-Template-RHEL9"]}, {"template"}),
        ({"name": None, "template": None, "colour": "red"}, {"name", "template", "colour"}),  # every field listed
    ],
)
def test_create_refuses_bad_bodies_naming_every_field(client, body, fields):
    response = client.post(f"{API}/service-profiles", json=body)
    assert {e["field"] for e in problem(response, 422, "validation_failed")["errors"]} == fields
    assert client.get(f"{API}/service-profiles").json()["total"] == 3


def test_strict_decoding_of_content_type_depth_and_queries(client):
    create = b'{"name": "SP-new-01", "template": "SP-Template-RHEL9"}'
    as_form = client.post(f"{API}/service-profiles", content=create, headers={"Content-Type": "text/plain"})
    assert problem(as_form, 415, "unsupported_media_type")["errors"][0]["field"] == "Content-Type"
    deep = b'{"blade": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    nested = client.post(f"{API}/service-profiles/SP-web-01/associate", content=deep,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    problem(nested, 400, "invalid_input")
    problem(client.post(f"{API}/service-profiles/SP-web-01/power", json={"state": True}), 422, "validation_failed")
    problem(client.post(f"{API}/service-profiles/SP-web-01/associate", json={"blade": "c01s01; rm"}), 422,
            "validation_failed")  # fmt: skip
    problem(client.get(f"{API}/blades", params={"limit": -1}), 400, "invalid_input")
    problem(client.get(f"{API}/blades", params={"limit": 1001}), 400, "invalid_input")
    problem(client.get(f"{API}/blades", params={"domain": "nope"}), 404, "not_found")
    assert client.get(f"{API}/service-profiles").json()["total"] == 3


def test_openapi_describes_bodies_responses_and_errors(client):
    document = client.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    operations = {
        (method, path): op
        for path, item in document["paths"].items()
        if path.startswith(API)
        for method, op in item.items()
        if method in ("get", "post", "delete")  # HEAD mirrors GET
    }
    assert len(operations) == 16
    for (method, path), op in operations.items():
        codes = set(op["responses"])
        assert {"400", "401", "403", "429"} <= codes, (method, path)
        problem_doc = op["responses"]["400"]["content"]
        assert list(problem_doc) == [PROBLEM_JSON], (method, path)
        if "requestBody" in op:
            assert {"413", "415", "422"} <= codes, (method, path)
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            body = schemas[ref.rsplit("/", 1)[1]]
            assert body["type"] == "object" and body["required"] and body["properties"], (method, path)
        if method == "get" and "{" not in path:
            ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            assert ok.rsplit("/", 1)[1].startswith("Page"), (method, path)
    create = schemas["ServiceProfileCreate"]
    name = create["properties"]["name"]
    assert (name["minLength"], name["maxLength"], name["pattern"]) == (2, 32, "^[A-Za-z0-9_.:-]+$")
    assert name["description"] and name["examples"]
    assert schemas["ServiceProfilePower"]["properties"]["state"]["enum"] == ["up", "down"]
    profile = schemas["ServiceProfileOut"]["properties"]
    assert profile["assoc_state"]["enum"] == ["associated", "unassociated"] and profile["power"]["enum"] == [
        "up",
        "down",
    ]
    assert {"409", "404"} <= set(operations[("post", f"{API}/service-profiles/{{name}}/associate")]["responses"])
    # The XML API answers XML, and documents what only the host can answer instead.
    nuova = document["paths"]["/nuova"]["post"]["responses"]
    assert list(nuova["200"]["content"]) == ["text/xml"] and {"400", "413", "429"} <= set(nuova)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (invalid_config("blade in use"), Conflict),
        (already_exists("org-root/ls-x"), Conflict),
        (does_not_exist("org-root/ls-x"), NotFound),
        (parse_error("not XML"), InvalidInput),
        (UcsError("ERR-aaa-config-modify-error", "read-only"), Forbidden),
        (UcsError("552", "Authorization required"), Unauthorized),
    ],
)
def test_ucs_errors_become_dcsim_errors(error, expected):
    translated = as_dcsim_error(error)
    assert type(translated) is expected
    assert (translated.detail, translated.extra) == (error.descr, {"ucs_code": error.code})
