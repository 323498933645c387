"""The NetBox that tests run against: it answers pynetbox, keeps data, and stops and starts."""

from __future__ import annotations

import uuid

import httpx
import pynetbox
import pytest
from netbox_support import NetboxInstall, NetboxServer
from requests.exceptions import ConnectionError as RequestsConnectionError


def api(netbox: NetboxServer) -> pynetbox.api:
    return pynetbox.api(netbox.url, token=netbox.token)


def test_status_answers_the_token_only(netbox: NetboxServer) -> None:
    status = api(netbox).status()
    assert status["netbox-version"] == NetboxInstall.load().version
    assert httpx.get(f"{netbox.url}/api/status/", timeout=10).status_code == 403
    wrong = {"Authorization": "Token " + "0" * 40}
    assert httpx.get(f"{netbox.url}/api/status/", headers=wrong, timeout=10).status_code == 403


def test_site_round_trip_with_history(netbox: NetboxServer) -> None:
    nb = api(netbox)
    slug = f"dc-{uuid.uuid4().hex[:8]}"
    created = nb.dcim.sites.create(name=slug.upper(), slug=slug, status="active", description="smoke")

    site = nb.dcim.sites.get(slug=slug)
    assert site is not None
    assert (site.id, site.name, site.description) == (created.id, slug.upper(), "smoke")
    assert site.status.value == "active"

    site.status = "planned"
    assert site.save()
    assert nb.dcim.sites.get(created.id).status.value == "planned"

    # The change log is what the CMDB's history reads.
    changes = list(nb.core.object_changes.filter(changed_object_id=created.id, changed_object_type="dcim.site"))
    assert sorted(change.action.value for change in changes) == ["create", "update"]


def test_data_survives_stop_and_start(netbox: NetboxServer) -> None:
    nb = api(netbox)
    slug = f"dc-{uuid.uuid4().hex[:8]}"
    site = nb.dcim.sites.create(name=slug, slug=slug)
    url = netbox.url

    netbox.stop()
    assert not netbox.running
    with pytest.raises(RequestsConnectionError):
        nb.status()

    netbox.start()
    assert netbox.url == url
    assert nb.dcim.sites.get(slug=slug).id == site.id
