"""ETag and If-Match on CMDB CIs: two operators cannot silently overwrite each other."""

from __future__ import annotations

import asyncio

from dcsim.cmdb.model import CiStatus
from dcsim.errors import PreconditionFailed


def _new_ci(client, name="billing"):
    created = client.post("/cmdb/cis", json={"type": "application", "name": name, "tags": {"owner": "finance"}})
    assert created.status_code == 201
    return created.json()["id"], created.headers["etag"]


def test_single_ci_responses_carry_an_etag_that_moves_on_every_change(dcsim_client):
    client = dcsim_client
    ci_id, created_tag = _new_ci(client)
    read = client.get(f"/cmdb/cis/{ci_id}")
    assert read.headers["etag"] == created_tag and created_tag.startswith('"')
    assert client.get(f"/cmdb/cis/{ci_id}").headers["etag"] == created_tag  # stable while nothing changes

    patched = client.patch(f"/cmdb/cis/{ci_id}", json={"name": "billing-2"}, headers={"If-Match": created_tag})
    assert patched.status_code == 200 and patched.json()["name"] == "billing-2"
    assert patched.headers["etag"] != created_tag
    assert client.get(f"/cmdb/cis/{ci_id}").headers["etag"] == patched.headers["etag"]


def test_a_stale_if_match_is_412_and_changes_nothing(dcsim_client):
    client = dcsim_client
    ci_id, tag = _new_ci(client)
    first = client.patch(f"/cmdb/cis/{ci_id}", json={"tags": {"owner": "payments"}}, headers={"If-Match": tag})
    assert first.status_code == 200

    # The second operator still holds the tag they read before the first change.
    stale = client.patch(f"/cmdb/cis/{ci_id}", json={"tags": {"owner": "sales"}}, headers={"If-Match": tag})
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    problem = stale.json()
    assert problem["code"] == "precondition_failed" and problem["etag"] == first.headers["etag"]
    assert client.get(f"/cmdb/cis/{ci_id}").json()["tags"] == {"owner": "payments"}

    refused = client.delete(f"/cmdb/cis/{ci_id}", headers={"If-Match": tag})
    assert refused.status_code == 412
    assert client.get(f"/cmdb/cis/{ci_id}").json()["status"] == "active"
    actions = [entry["action"] for entry in client.get(f"/cmdb/cis/{ci_id}/history").json()]
    assert actions == ["created", "updated"]

    done = client.delete(f"/cmdb/cis/{ci_id}", headers={"If-Match": first.headers["etag"]})
    assert done.status_code == 200 and done.json()["status"] == "decommissioned"
    assert done.headers["etag"] not in (tag, first.headers["etag"])


def test_if_match_lists_star_weak_tags_and_no_header(dcsim_client):
    client = dcsim_client
    ci_id, tag = _new_ci(client)
    listed = client.patch(f"/cmdb/cis/{ci_id}", json={"name": "b1"}, headers={"If-Match": f'"0000", {tag}'})
    assert listed.status_code == 200
    tag = listed.headers["etag"]
    # If-Match compares strongly: the weak form of the current tag does not match.
    assert client.patch(f"/cmdb/cis/{ci_id}", json={"name": "b2"}, headers={"If-Match": f"W/{tag}"}).status_code == 412
    assert client.patch(f"/cmdb/cis/{ci_id}", json={"name": "b2"}, headers={"If-Match": "*"}).status_code == 200
    # Without If-Match a write is unconditional (documented in specs/007-cmdb.md).
    assert client.patch(f"/cmdb/cis/{ci_id}", json={"name": "b3"}).status_code == 200
    assert client.patch("/cmdb/cis/nope", json={"name": "b4"}, headers={"If-Match": "*"}).status_code == 404


def test_two_concurrent_writers_with_one_tag_one_wins(dcsim_client):
    client = dcsim_client
    ci_id, tag = _new_ci(client)
    cmdb = client.sim.services["cmdb"]

    async def race():
        return await asyncio.gather(
            cmdb.update_ci(ci_id, {"name": "alice"}, "token:alice", tag),
            cmdb.update_ci(ci_id, {"name": "bob"}, "token:bob", tag),
            return_exceptions=True,
        )

    outcomes = client.call(race)
    failed = [o for o in outcomes if isinstance(o, PreconditionFailed)]
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(failed) == 1 and len(won) == 1
    assert client.get(f"/cmdb/cis/{ci_id}").json()["name"] == won[0].name
    assert won[0].status is CiStatus.ACTIVE
