"""ETag and If-Match on ITSM records: a stale write is a 412 and changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from dcsim.errors import PreconditionFailed
from dcsim.itsm.model import IncidentPatch

KINDS = {
    "incidents": {"title": "Disk full on db-01", "impact": 2, "urgency": 2},
    "problems": {"title": "Disks fill up"},
    "changes": {"title": "Grow the volume"},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_record_kind_has_an_etag_and_refuses_a_stale_patch(shared_client, kind):
    client = shared_client
    created = client.post(f"/itsm/{kind}", json=KINDS[kind])
    assert created.status_code == 201
    number, tag = created.json()["number"], created.headers["etag"]
    assert client.get(f"/itsm/{kind}/{number}").headers["etag"] == tag

    first = client.patch(f"/itsm/{kind}/{number}", json={"description": "first"}, headers={"If-Match": tag})
    assert first.status_code == 200 and first.headers["etag"] != tag
    stale = client.patch(f"/itsm/{kind}/{number}", json={"description": "second"}, headers={"If-Match": tag})
    assert stale.status_code == 412, stale.text
    assert stale.json()["code"] == "precondition_failed" and stale.json()["etag"] == first.headers["etag"]
    after = client.get(f"/itsm/{kind}/{number}")
    assert after.json()["description"] == "first" and after.headers["etag"] == first.headers["etag"]


def test_workflow_actions_and_notes_honour_if_match(shared_client):
    client = shared_client
    created = client.post("/itsm/incidents", json=KINDS["incidents"])
    number, tag = created.json()["number"], created.headers["etag"]
    noted = client.post(f"/itsm/incidents/{number}/notes", json={"text": "looking"}, headers={"If-Match": tag})
    assert noted.status_code == 201

    started = client.post(f"/itsm/incidents/{number}/start", json={}, headers={"If-Match": tag})
    assert started.status_code == 412
    assert client.get(f"/itsm/incidents/{number}").json()["state"] == "new"
    late_note = client.post(f"/itsm/incidents/{number}/notes", json={"text": "again"}, headers={"If-Match": tag})
    assert late_note.status_code == 412

    started = client.post(f"/itsm/incidents/{number}/start", json={}, headers={"If-Match": noted.headers["etag"]})
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    # Without If-Match the write is unconditional (documented in specs/006-itsm.md).
    assert client.post(f"/itsm/incidents/{number}/notes", json={"text": "no tag"}).status_code == 201


def test_two_concurrent_writers_with_one_tag_one_wins(shared_client):
    client = shared_client
    created = client.post("/itsm/incidents", json=KINDS["incidents"])
    number, tag = created.json()["number"], created.headers["etag"]
    incidents = client.sim.services["itsm"].incidents

    async def race():
        return await asyncio.gather(
            incidents.update(number, IncidentPatch(assignee="alice"), "token:alice", tag),
            incidents.update(number, IncidentPatch(assignee="bob"), "token:bob", tag),
            return_exceptions=True,
        )

    outcomes = client.call(race)
    assert sum(isinstance(o, PreconditionFailed) for o in outcomes) == 1
    winner = next(o for o in outcomes if not isinstance(o, BaseException))
    assert client.get(f"/itsm/incidents/{number}").json()["assignee"] == winner.assignee


def test_the_openapi_document_shows_etags_if_match_and_412(shared_client):
    paths = shared_client.get("/schema/openapi.json").json()["paths"]
    writes = [
        ("/cmdb/cis/{ci_id}", "patch"),
        ("/cmdb/cis/{ci_id}", "delete"),
        *[(f"/itsm/{kind}/{{number}}", "patch") for kind in KINDS],
        *[(f"/itsm/{kind}/{{number}}/{{action}}", "post") for kind in KINDS],
        *[(f"/itsm/{kind}/{{number}}/notes", "post") for kind in KINDS],
    ]
    for path, method in writes:
        operation = paths[path][method]
        assert "412" in operation["responses"], (path, method)
        assert "If-Match" in [p["name"] for p in operation["parameters"] if p["in"] == "header"], (path, method)
    for path in ("/cmdb/cis/{ci_id}", *[f"/itsm/{kind}/{{number}}" for kind in KINDS]):
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"], path
    listing = paths["/cmdb/cis"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(listing)
