"""Acceptance 5: hostile and malformed XML gets UCS errors, and the server keeps serving."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import handle, post_xml

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE aaaLogin [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<aaaLogin inName="&secret;" inPassword="x" />"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<aaaLogin inName="&lol9;" inPassword="x" />"""


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (EXTERNAL_ENTITY, "DTD"),
        (BILLION_LAUGHS, "DTD"),
        ('<aaaLogin inName="admin" inPassword="password"', "not acceptable XML"),
        ("", "not acceptable XML"),
        (b"\xff\xfe<aaaLogin/>", "not acceptable XML"),
        ('<dropTables cookie="x" />', "unknown method 'dropTables'"),
    ],
)
def test_refused_with_a_ucs_error_and_the_server_keeps_serving(ucs_server, body, words):
    answer = ET.fromstring(post_xml(ucs_server, body))
    assert answer.tag == "error"
    assert answer.get("errorCode") == "ERR-xml-parse-error"
    assert words in answer.get("errorDescr", "")
    assert "Traceback" not in answer.get("errorDescr", "")
    assert "root:" not in answer.get("errorDescr", "")  # nothing of /etc/passwd leaks
    ucs = handle(ucs_server)
    assert len(ucs.query_classid("computeBlade")) == 3
    ucs.logout()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('<configConfMos cookie="{cookie}"><inConfigs><pair key="x"><noSuchClass dn="x"/></pair></inConfigs>'
         "</configConfMos>", "ERR-MO-unknown-class"),
        ('<configConfMos cookie="{cookie}"><inConfigs><pair key="org-root/org-a"><orgOrg dn="org-root/org-b"/>'
         "</pair></inConfigs></configConfMos>", "ERR-MO-CONFIG-invalid"),
        ('<configConfMo cookie="{cookie}" dn="org-root/org-a"><inConfig/></configConfMo>', "ERR-MO-CONFIG-invalid"),
        ('<configResolveClass cookie="{cookie}" classId="computeBlade"><inFilter><eq class="computeBlade"/>'
         "</inFilter></configResolveClass>", "ERR-xml-parse-error"),
        ('<configResolveClass cookie="{cookie}" classId="computeBlade"><inFilter><wcard class="computeBlade" '
         'property="serial" value="(unclosed"/></inFilter></configResolveClass>', "ERR-xml-parse-error"),
        ('<lsInstantiateNTemplate cookie="{cookie}" dn="org-root/ls-SP-Template-RHEL9" inNumberOf="many"/>',
         "ERR-MO-CONFIG-invalid"),
    ],
)  # fmt: skip
def test_malformed_methods_get_errors_on_their_own_element(ucs_server, ucs, body, code):
    answer = ET.fromstring(post_xml(ucs_server, body.format(cookie=ucs.cookie)))
    assert answer.get("errorCode") == code
    assert answer.get("response") == "yes" and answer.get("invocationResult")


def test_success_responses_carry_no_error_code(ucs_server, ucs):
    answer = ET.fromstring(post_xml(ucs_server, f'<configResolveDn cookie="{ucs.cookie}" dn="sys"/>'))
    assert "errorCode" not in answer.attrib
    assert answer.find("outConfig/topSystem").get("dn") == "sys"


def _nested(depth: int, open_tag: str, close_tag: str) -> str:
    return open_tag * depth + close_tag * depth


@pytest.mark.parametrize(
    "body",
    [
        # A hierarchical change 1,000 objects deep, a filter of 1,000 nested ``and``, and
        # plain nesting under a method that reads no children.
        '<configConfMos cookie="{cookie}"><inConfigs><pair key="org-root/org-a">'
        + _nested(1000, '<orgOrg name="a">', "</orgOrg>")
        + "</pair></inConfigs></configConfMos>",
        '<configResolveClass cookie="{cookie}" classId="computeBlade"><inFilter>'
        + _nested(1000, "<and>", "</and>")
        + "</inFilter></configResolveClass>",
        '<aaaKeepAlive cookie="{cookie}">' + _nested(1000, "<x>", "</x>") + "</aaaKeepAlive>",
    ],
    ids=["configConfMos", "inFilter", "aaaKeepAlive"],
)
def test_xml_nested_1000_deep_is_a_parse_error_with_a_bounded_log_line(ucs_server, ucs, body):
    log = Path(f"{ucs_server.data_dir}.log")
    before = log.stat().st_size
    request = body.format(cookie=ucs.cookie)
    answer = ET.fromstring(post_xml(ucs_server, request))
    assert (answer.tag, answer.get("errorCode")) == ("error", "ERR-xml-parse-error")
    assert "nested deeper than 64" in answer.get("errorDescr", "")
    written = log.read_bytes()[before:]
    assert b"ucs.xml_refused" in written and b"Traceback" not in written
    assert len(written) < 1000 < len(request)  # the log grows by a line, not by the request
    assert ucs.query_dn("sys") is not None


def test_xml_64_deep_is_still_read(ucs_server, ucs):
    # The limit leaves room for real requests: a filter nested to the limit works.
    depth = 64 - 4  # configResolveClass > inFilter > (and)* > eq
    body = (
        f'<configResolveClass cookie="{ucs.cookie}" classId="computeBlade" inHierarchical="false"><inFilter>'
        + "<and>" * (depth - 1)
        + '<eq class="computeBlade" property="slotId" value="1"/>'
        + "</and>" * (depth - 1)
        + "</inFilter></configResolveClass>"
    )
    answer = ET.fromstring(post_xml(ucs_server, body))
    assert "errorCode" not in answer.attrib, answer.attrib
    assert [blade.get("slotId") for blade in answer.find("outConfigs")] == ["1"]
