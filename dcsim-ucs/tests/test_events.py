"""The event channel (eventSubscribe): ucsmsdk's wait_for_event sees changes as they happen."""

from __future__ import annotations

import http.client
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import READ_ONLY, handle, rest
from ucsmsdk.mometa.ls.LsBinding import LsBinding
from ucsmsdk.mometa.ls.LsServer import LsServer
from ucsmsdk.mometa.org.OrgOrg import OrgOrg

from dcsim.testing import ServerProcess, run_server


@pytest.fixture(scope="module")
def limited_channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose accounts may hold two event channels each."""
    data_dir: Path = tmp_path_factory.mktemp("channels") / "server"
    with run_server(data_dir, env={"DCSIM_PLUGINS__UCS__EVENT_CHANNELS": "2"}) as server:
        yield server


def test_wait_for_event_sees_a_profile_become_associated(ucs_server):
    actor, watcher = handle(ucs_server), handle(ucs_server)
    try:
        actor.add_mo(LsServer(parent_mo_or_dn="org-root", name="SP-evt-01", src_templ_name="SP-Template-RHEL9"))
        actor.commit()
        actor.remove_mo(actor.query_dn("org-root/ls-SP-db-01/pn"))
        actor.commit()
        seen = []
        profile = watcher.query_dn("org-root/ls-SP-evt-01")
        # ucsmsdk's wait loops until the value shows: give it a thread and a deadline.
        waiting = threading.Thread(
            target=watcher.wait_for_event, args=(profile, "assoc_state", "associated", seen.append, 30), daemon=True
        )
        waiting.start()
        time.sleep(1.5)  # the channel is open before the change
        actor.add_mo(LsBinding(parent_mo_or_dn="org-root/ls-SP-evt-01", pn_dn="sys/chassis-1/blade-3"))
        actor.commit()
        waiting.join(timeout=30)
        assert not waiting.is_alive(), "wait_for_event did not see the association"
        assert seen[0].mo.dn == "org-root/ls-SP-evt-01" and seen[0].mo.assoc_state == "associated"
    finally:
        actor.remove_mo(actor.query_dn("org-root/ls-SP-evt-01"))
        actor.commit()
        actor.add_mo(LsBinding(parent_mo_or_dn="org-root/ls-SP-db-01", pn_dn="sys/chassis-1/blade-3"))
        actor.commit()
        actor.logout()
        watcher.logout()


def test_channel_records_carry_created_modified_and_deleted_objects(ucs_server):
    ucs = handle(ucs_server)
    connection = http.client.HTTPConnection("127.0.0.1", ucs_server.port, timeout=30)
    try:
        connection.request("POST", "/nuova", body=f'<eventSubscribe cookie="{ucs.cookie}"/>')
        stream = connection.getresponse()
        assert stream.status == 200
        ucs.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="Evt", descr="first"))
        ucs.commit()
        created = _next_objects(stream)
        assert ("orgOrg", "org-root/org-Evt", "created") in [(e.tag, e.get("dn"), e.get("status")) for e in created]
        org = ucs.query_dn("org-root/org-Evt")
        org.descr = "second"
        ucs.set_mo(org)
        ucs.commit()
        modified = _next_objects(stream)
        assert [(e.get("dn"), e.get("status"), e.get("descr")) for e in modified] == [
            ("org-root/org-Evt", "modified", "second")
        ]  # fmt: skip
        # A change made through another API reaches the channel too.
        fault = rest(ucs_server, "POST", "/sim/inject/host-failure", {"blade": "c01s01"})
        injected = {(e.tag, e.get("dn")): e for e in _next_objects(stream)}
        assert injected[("computeBlade", "sys/chassis-1/blade-1")].get("operState") == "inoperable"
        assert ("faultInst", "sys/chassis-1/blade-1/fault-F0317") in injected
        rest(ucs_server, "DELETE", f"/sim/inject/{fault['id']}")
        ucs.remove_mo(ucs.query_dn("org-root/org-Evt"))
        ucs.commit()
        deleted = []
        while not any(e.get("dn") == "org-root/org-Evt" for e in deleted):
            deleted = _next_objects(stream)
        assert [e.get("status") for e in deleted if e.get("dn") == "org-root/org-Evt"] == ["deleted"]
    finally:
        connection.close()
        ucs.logout()


def test_the_channel_ends_with_the_session(ucs_server):
    ucs = handle(ucs_server)
    connection = http.client.HTTPConnection("127.0.0.1", ucs_server.port, timeout=30)
    try:
        connection.request("POST", "/nuova", body=f'<eventSubscribe cookie="{ucs.cookie}"/>')
        stream = connection.getresponse()
        ucs.logout()
        started = time.monotonic()
        assert stream.read() == b""  # the server closes the stream within its check interval
        assert time.monotonic() - started < 15
    finally:
        connection.close()
    refused = http.client.HTTPConnection("127.0.0.1", ucs_server.port, timeout=30)
    refused.request("POST", "/nuova", body='<eventSubscribe cookie="nope"/>')
    answer = ET.fromstring(refused.getresponse().read())
    assert (answer.tag, answer.get("errorCode")) == ("eventSubscribe", "552")
    refused.close()


def _next_objects(stream: http.client.HTTPResponse) -> list[ET.Element]:
    """The changed objects of the channel's next record."""
    length = int(stream.readline())
    vessel = ET.fromstring(stream.read(length))
    return [obj for event in vessel.iter("configMoChangeEvent") for obj in event.find("inConfig")]


def test_event_channels_are_limited_per_account(limited_channels):
    first, second = handle(limited_channels, READ_ONLY), handle(limited_channels, READ_ONLY)
    admin = handle(limited_channels)
    streams = []
    try:
        # Two channels of the read-only account (from two sessions) are its limit.
        streams += [_subscribe(limited_channels, first.cookie), _subscribe(limited_channels, second.cookie)]
        assert all(stream.getheader("Content-Length") is None for _, stream in streams)  # open, streaming
        refused = _subscribe(limited_channels, second.cookie)[1]
        answer = ET.fromstring(refused.read())
        assert (answer.tag, answer.get("errorCode")) == ("eventSubscribe", "ERR-event-channel-limit")
        assert "readonly" in answer.get("errorDescr") and answer.get("response") == "yes"
        # Another account is not held back by it, and every open channel sees a change.
        streams.append(_subscribe(limited_channels, admin.cookie))
        admin.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="Lim", descr="seen"))
        admin.commit()
        for _, stream in streams:
            seen = []
            while not any(e.get("dn") == "org-root/org-Lim" for e in seen):
                seen = _next_objects(stream)
        # A channel ends with its session; then the account may open another.
        first.logout()
        assert streams[0][1].read() == b""
        reopened = _subscribe(limited_channels, second.cookie)
        streams.append(reopened)
        assert reopened[1].getheader("Content-Length") is None
    finally:
        for connection, _ in streams:
            connection.close()
        admin.remove_mo(admin.query_dn("org-root/org-Lim"))
        admin.commit()
        admin.logout()
        second.logout()


def _subscribe(server: ServerProcess, cookie: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/nuova", body=f'<eventSubscribe cookie="{cookie}"/>')
    return connection, connection.getresponse()


async def test_one_tree_rebuild_feeds_every_channel(make_dcsim):
    """The changed objects are found once per batch of bus events, not once per channel."""
    import asyncio

    from dcsim_ucs.config import Change

    async with make_dcsim() as dc:
        manager = dc.services["ucs"]
        builds = 0
        build = manager.tree

        async def counted():
            nonlocal builds
            builds += 1
            return await build()

        manager.tree = counted
        sessions = [await manager.sessions.login("readonly", "readonly") for _ in range(6)]
        channels = [await manager.channels.open(session) for session in sessions]
        assert (manager.channels.count("readonly"), builds) == (6, 1)  # the first open takes the tree
        await manager.apply([Change(class_id="orgOrg", dn="org-root/org-Fan", status={"created"}, attrs={})],
                            user="alice")  # fmt: skip
        records = await asyncio.wait_for(asyncio.gather(*(anext(channel) for channel in channels)), 10)
        for record in records:
            length, _, body = record.partition(b"\n")
            assert int(length) == len(body)
            objects = [obj for event in ET.fromstring(body).iter("configMoChangeEvent") for obj in event[0]]
            assert [(o.tag, o.get("dn"), o.get("status")) for o in objects] == [
                ("orgOrg", "org-root/org-Fan", "created")
            ]  # fmt: skip
        assert builds == 2  # one rebuild for six channels
        for channel in channels:
            await channel.aclose()
        assert manager.channels.count() == 0


async def test_a_channel_without_a_domain_is_ucs_no_domain_error(make_dcsim):
    import attrs

    from dcsim_ucs.xmlapi import XmlApi

    async with make_dcsim() as dc:
        manager = dc.services["ucs"]
        session = await manager.sessions.login("admin", "password")
        manager.settings = attrs.evolve(manager.settings, domain="ucs-domain-99")
        answer = ET.fromstring(await XmlApi(manager).handle(f'<eventSubscribe cookie="{session.cookie}"/>'.encode()))
        assert (answer.tag, answer.get("errorCode")) == ("eventSubscribe", "ERR-no-domain")
        assert manager.channels.count() == 0
