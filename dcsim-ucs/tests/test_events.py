"""The event channel (eventSubscribe): ucsmsdk's wait_for_event sees changes as they happen."""

from __future__ import annotations

import http.client
import threading
import time
import xml.etree.ElementTree as ET

from conftest import handle, rest
from ucsmsdk.mometa.ls.LsBinding import LsBinding
from ucsmsdk.mometa.ls.LsServer import LsServer
from ucsmsdk.mometa.org.OrgOrg import OrgOrg


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
