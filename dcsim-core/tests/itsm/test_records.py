"""Incidents, problems and changes as records: priority, CIs and impact, filters, numbers."""

from __future__ import annotations

import asyncio

import pytest

from dcsim.itsm.model import IncidentRequest

from .conftest import ci_id

MATRIX = [
    (1, 1, "P1"), (1, 2, "P2"), (2, 1, "P2"), (1, 3, "P3"), (2, 2, "P3"),
    (3, 1, "P3"), (2, 3, "P4"), (3, 2, "P4"), (3, 3, "P4"),
]  # fmt: skip


@pytest.mark.parametrize(("impact", "urgency", "priority"), MATRIX)
def test_priority_from_impact_and_urgency(shared_client, impact, urgency, priority):
    incident = shared_client.post(
        "/itsm/incidents", json={"title": "slow logins", "impact": impact, "urgency": urgency}
    ).json()
    assert incident["priority"] == priority and incident["priority_overridden"] is False
    assert incident["sla"]["priority"] == priority


def test_priority_given_overrides_and_changes_retarget_the_sla(shared_client):
    client = shared_client
    derived = client.post("/itsm/incidents", json={"title": "disk filling"}).json()
    assert (derived["impact"], derived["urgency"], derived["priority"]) == (3, 3, "P4")
    raised = client.patch(f"/itsm/incidents/{derived['number']}", json={"impact": 1, "urgency": 1}).json()
    assert raised["priority"] == "P1" and raised["sla"]["resolution_target_seconds"] == 4 * 3600
    assert raised["history"][-1]["changes"]["priority"] == ["P4", "P1"]

    forced = client.post("/itsm/incidents", json={"title": "CEO laptop", "impact": 3, "urgency": 3, "priority": "P2"})
    forced = forced.json()
    assert forced["priority"] == "P2" and forced["priority_overridden"] is True
    kept = client.patch(f"/itsm/incidents/{forced['number']}", json={"urgency": 2}).json()
    assert kept["priority"] == "P2"
    for bad in ({"impact": 4}, {"priority": "P5"}, {"title": ""}):
        refused = client.post("/itsm/incidents", json={"title": "x", **bad})
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == list(bad)


def test_affected_cis_attach_the_cmdb_impact_analysis(shared_client):
    client = shared_client
    host = ci_id(client, "esxi-01")
    incident = client.post("/itsm/incidents", json={"title": "esxi-01 down", "affected_cis": [host, host]}).json()
    assert incident["affected_cis"] == [host]
    analysis = incident["impact_analysis"]
    assert analysis["depth"] == 3 and analysis["affected"][0]["name"] == "esxi-01"
    downstream = {(c["type"], c["name"]): c["depth"] for c in analysis["downstream"]}
    assert downstream[("vm", "vm-001")] == 1 and downstream[("vm", "vm-002")] == 1
    assert downstream[("application", "web")] == 2 and ("vm", "vm-003") not in downstream
    assert {c["name"] for c in analysis["upstream"]} >= {"cluster-01", "dc-west"}

    vm = ci_id(client, "vm-003")
    change = client.post("/itsm/changes", json={"title": "resize vm-003", "affected_cis": [vm]}).json()
    assert change["impact_analysis"]["affected"][0]["name"] == "vm-003"
    assert "esxi-02" in {c["name"] for c in change["impact_analysis"]["upstream"]}
    moved = client.patch(f"/itsm/changes/{change['number']}", json={"affected_cis": [host]}).json()
    assert moved["impact_analysis"]["affected"][0]["name"] == "esxi-01"

    unknown = client.post("/itsm/incidents", json={"title": "x", "affected_cis": ["no-such-ci"]})
    assert unknown.status_code == 400 and unknown.json()["unknown_cis"] == ["no-such-ci"]
    plain = client.post("/itsm/incidents", json={"title": "no CI"}).json()
    assert plain["affected_cis"] == [] and plain["impact_analysis"] is None


def test_list_filters_and_pagination(make_client):
    client = make_client()
    vm = ci_id(client, "vm-001")
    client.post("/itsm/incidents", json={"title": "web is slow", "impact": 1, "urgency": 1, "affected_cis": [vm]})
    second = client.post("/itsm/incidents", json={"title": "backup failed", "assignee": "bob"}).json()
    client.post(f"/itsm/incidents/{second['number']}/start")
    third = client.post("/itsm/incidents", json={"title": "Web certificate expiring"}).json()

    def numbers(query):
        return [i["number"] for i in client.get(f"/itsm/incidents{query}").json()["items"]]

    assert numbers("") == [third["number"], second["number"], "INC0001001"]
    assert numbers("?priority=P1") == ["INC0001001"]
    assert numbers("?state=in_progress") == [second["number"]]
    assert numbers("?state=new,in_progress") == numbers("")
    assert numbers("?assignee=bob") == [second["number"]]
    assert numbers(f"?ci={vm}") == ["INC0001001"]
    assert numbers("?q=WEB") == [third["number"], "INC0001001"]
    page = client.get("/itsm/incidents?limit=1&offset=1").json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1) and len(page["items"]) == 1
    assert client.get("/itsm/incidents?state=open").status_code == 400
    assert client.get("/itsm/incidents?limit=0").status_code == 400

    change = client.post("/itsm/changes", json={"title": "rotate logs", "type": "standard"}).json()
    client.post("/itsm/changes", json={"title": "upgrade"})
    assert [c["number"] for c in client.get("/itsm/changes?type=standard").json()["items"]] == [change["number"]]
    assert client.get("/itsm/changes?state=approved").json()["total"] == 1


def test_problems_link_incidents(shared_client):
    client = shared_client
    first = client.post("/itsm/incidents", json={"title": "agent crashed"}).json()["number"]
    second = client.post("/itsm/incidents", json={"title": "agent crashed again"}).json()["number"]
    problem = client.post("/itsm/problems", json={"title": "agent crashes", "incidents": [first]}).json()
    assert problem["number"].startswith("PRB") and problem["state"] == "investigating"
    linked = client.patch(f"/itsm/problems/{problem['number']}", json={"incidents": [first, second]}).json()
    assert linked["incidents"] == [first, second]
    assert linked["history"][-1]["changes"]["incidents"] == [[first], [first, second]]
    found = client.get(f"/itsm/problems?incident={second}").json()["items"]
    assert [p["number"] for p in found] == [problem["number"]]
    missing = client.patch(f"/itsm/problems/{problem['number']}", json={"incidents": ["INC0999999"]})
    assert missing.status_code == 400 and missing.json()["unknown_incidents"] == ["INC0999999"]
    known = client.post(
        f"/itsm/problems/{problem['number']}/known_error", json={"workaround": "restart nightly"}
    ).json()
    assert known["state"] == "known_error" and known["workaround"] == "restart nightly"
    assert client.get(f"/itsm/problems?state=known_error&incident={first}").json()["total"] == 1


async def test_numbers_are_unique_under_concurrency_and_survive_a_restart(make_dcsim):
    async with make_dcsim() as sim:
        itsm = sim.services["itsm"]
        made = await asyncio.gather(*(itsm.incidents.create(IncidentRequest(title=f"i{n}"), "test") for n in range(12)))
        assert sorted(i.number for i in made) == [f"INC{n:07d}" for n in range(1001, 1013)]
        noted = await itsm.incidents.add_note("INC0001005", "checked the logs", "test")
        assert noted.notes[0].text == "checked the logs"
    async with make_dcsim() as sim:
        itsm = sim.services["itsm"]
        assert itsm.incidents.get("INC0001005").notes[0].author == "test"
        assert (await itsm.incidents.create(IncidentRequest(title="next"), "test")).number == "INC0001013"
        assert (await itsm.incidents.create(IncidentRequest(title="more"), "test")).history[0].action == "created"
