"""Acceptance 2 for /cmdb: bad input is a 4xx problem document naming the field, never coerced."""

from __future__ import annotations

import typing

import pytest

from dcsim.cmdb.model import TAG_KEYS
from dcsim.cmdb.schemas import TagKey

PROBLEM = "application/problem+json"


def _refused(response, status, field):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in [error["field"] for error in response.json()["errors"]], response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "application", "name": 5}, "name"),
        ({"type": "application", "name": ""}, "name"),
        ({"type": "application", "name": "   "}, "name"),
        ({"type": "application", "name": "x" * 201}, "name"),
        ({"type": "application", "name": "a", "tags": {"colour": "red"}}, "tags"),
        ({"type": "application", "name": "a", "tags": {"env": 1}}, "tags[...]"),
        ({"type": "application", "name": "a", "attributes": "notadict"}, "attributes"),
        ({"type": "application", "name": "a", "source": "sim"}, "source"),
        ({"name": "a"}, "type"),
    ],
)
def test_ci_creates_are_refused_not_coerced(dcsim_client, body, field):
    _refused(dcsim_client.post("/cmdb/cis", json=body), 422, field)


def test_patch_refuses_unknown_fields_wrong_types_and_nothing_to_change(dcsim_client):
    client = dcsim_client
    ci = client.post("/cmdb/cis", json={"type": "application", "name": "strict"}).json()
    # A typo used to succeed and change nothing.
    _refused(client.patch(f"/cmdb/cis/{ci['id']}", json={"nmae": "typo"}), 422, "nmae")
    _refused(client.patch(f"/cmdb/cis/{ci['id']}", json={"status": "gone"}), 422, "status")
    _refused(client.patch(f"/cmdb/cis/{ci['id']}", json={"tags": ["env"]}), 422, "tags")
    _refused(client.patch(f"/cmdb/cis/{ci['id']}", json={}), 400, "")
    _refused(
        client.post("/cmdb/relationships", json={"type": "runs_on", "source_id": ci["id"], "target_id": 7}),
        422,
        "target_id",
    )
    actions = [entry["action"] for entry in client.get(f"/cmdb/cis/{ci['id']}/history").json()]
    assert actions == ["created"]


def test_wrong_content_type_is_415(dcsim_client):
    sent = dcsim_client.post(
        "/cmdb/cis", content=b'{"type": "application", "name": "a"}', headers={"Content-Type": "text/plain"}
    )
    _refused(sent, 415, "Content-Type")


@pytest.mark.parametrize(
    "query",
    [
        "format=csv&limit=-1",
        "format=csv&limit=0",
        "format=csv&limit=1001",
        "format=csv&offset=-1",
        "limit=-1",
        "limit=100000",
        "format=xml",
        "status=gone",
    ],
)
def test_listing_refuses_bad_paging_in_both_formats(dcsim_client, query):
    listed = dcsim_client.get(f"/cmdb/cis?{query}")
    assert listed.status_code == 400, (query, listed.text)
    assert listed.headers["content-type"].startswith(PROBLEM)


def test_csv_export_honours_limit_and_reports_the_total(dcsim_client):
    everything = dcsim_client.get("/cmdb/cis?format=csv")
    total = int(everything.headers["x-total-count"])
    assert total > 2 and len(everything.text.strip().splitlines()) == total + 1  # header row
    page = dcsim_client.get("/cmdb/cis?format=csv&limit=2&offset=1")
    assert page.headers["x-total-count"] == str(total)
    assert page.text.strip().splitlines()[1:] == everything.text.strip().splitlines()[2:4]


def test_impact_depth_is_bounded(dcsim_client):
    ci = dcsim_client.post("/cmdb/cis", json={"type": "application", "name": "deep"}).json()
    for depth in (0, 11, -1):
        assert dcsim_client.get(f"/cmdb/cis/{ci['id']}/impact?depth={depth}").status_code == 400


def test_tag_key_type_lists_the_cmdb_tag_keys():
    assert set(typing.get_args(TagKey)) == set(TAG_KEYS)
