"""Acceptance 5: hostile and malformed XML gets UCS errors, and the server keeps serving."""

from __future__ import annotations

import xml.etree.ElementTree as ET

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
