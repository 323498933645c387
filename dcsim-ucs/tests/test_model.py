"""The managed-object model against ucsmsdk's own metadata, filters, settings and the tree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from conftest import handle
from ucsmsdk.ucscoreutils import load_class

from dcsim.errors import ConfigError
from dcsim_ucs.classes import CLASSES, class_meta, split_dn
from dcsim_ucs.filters import parse_filter
from dcsim_ucs.mo import Mo, Tree
from dcsim_ucs.settings import load_ucs_settings


def _sdk(class_id: str):
    return load_class(class_id[0].upper() + class_id[1:])


@pytest.mark.parametrize("class_id", sorted(CLASSES))
def test_classes_follow_ucs_managers_model(class_id):
    """rn format and parents as ucsmsdk's metadata has them; settable properties exist."""
    sdk = _sdk(class_id)
    meta = CLASSES[class_id]
    xml_names = {prop.xml_attribute for prop in sdk.prop_meta.values()}
    sdk_rn = re.sub(r"\[(\w+)\]", lambda m: "[" + sdk.prop_meta[m.group(1)].xml_attribute + "]", sdk.mo_meta.rn)
    assert meta.rn == sdk_rn
    parents = set(meta.parents)
    if class_id == "firmwareRunning":
        parents.discard("topSystem")  # sys/fw-system: ucsmsdk's login asks for it there
    assert parents <= set(sdk.mo_meta.parents)
    assert meta.config <= xml_names, meta.config - xml_names


def test_every_rendered_property_is_a_real_one(ucs_server):
    """What the tree renders for each object uses the class's own property names."""
    ucs = handle(ucs_server)
    try:
        seen: dict[str, set[str]] = {}
        for class_id in CLASSES:
            if class_id in ("topSystem", "fabricEp"):
                found = [ucs.query_dn("sys" if class_id == "topSystem" else "fabric")]
            else:
                found = ucs.query_classid(class_id)
            for mo in found:
                seen.setdefault(class_id, set()).update(k for k in mo.__dict__ if not k.startswith("_"))
    finally:
        ucs.logout()
    for class_id, props in seen.items():
        sdk = _sdk(class_id)
        # ucsmsdk keeps properties it does not know as extra ones: there must be none.
        unknown = {p for p in props if p not in sdk.prop_meta and p not in ("dn", "rn", "status", "child_action")}
        assert not unknown, (class_id, unknown)
    assert {"computeBlade", "lsServer", "vnicEther", "networkElement"} <= set(seen)


def test_rn_parsing_and_dn_splitting():
    assert class_meta("MacpoolBlock").parse_rn("block-00:25:B5:00:00:00-00:25:B5:00:00:FF") == {
        "from": "00:25:B5:00:00:00", "to": "00:25:B5:00:00:FF"
    }  # fmt: skip
    assert class_meta("lsserver").parse_rn("ls-SP-web-01") == {"name": "SP-web-01"}
    assert class_meta("lsServer").parse_rn("org-x") is None
    assert split_dn("org-root/ls-a") == ("org-root", "ls-a")
    assert split_dn("sys/rack-unit-1/adaptor-[1/2]") == ("sys/rack-unit-1", "adaptor-[1/2]")
    assert split_dn("sys") == ("", "sys")


def _tree() -> Tree:
    tree = Tree()
    for dn, attrs in [
        ("sys", {}),
        ("sys/chassis-1", {}),
        ("sys/chassis-1/blade-1", {"serial": "FCH1", "slotId": "1", "connPath": "A,B", "totalMemory": "16384"}),
        ("sys/chassis-1/blade-2", {"serial": "FCH2", "slotId": "2", "connPath": "A", "totalMemory": "65536"}),
    ]:
        tree.add(Mo(class_id="computeBlade" if "blade" in dn else "topSystem", dn=dn, attrs=attrs))
    return tree


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ('<eq class="computeBlade" property="serial" value="FCH1"/>', ["1"]),
        ('<ne class="computeBlade" property="serial" value="FCH1"/>', ["2"]),
        ('<gt class="computeBlade" property="totalMemory" value="20000"/>', ["2"]),
        ('<le class="computeBlade" property="totalMemory" value="16384"/>', ["1"]),
        ('<wcard class="computeBlade" property="serial" value="^FCH[12]$"/>', ["1", "2"]),
        ('<anybit class="computeBlade" property="connPath" value="B"/>', ["1"]),
        ('<allbits class="computeBlade" property="connPath" value="A"/>', ["1", "2"]),
        ('<bw class="computeBlade" property="slotId" firstValue="2" secondValue="9"/>', ["2"]),
        ('<not><eq class="computeBlade" property="slotId" value="1"/></not>', ["2"]),
        ('<or><eq class="computeBlade" property="slotId" value="1"/><eq class="computeBlade" property="slotId" '
         'value="2"/></or>', ["1", "2"]),
        ('<and><eq class="computeBlade" property="slotId" value="1"/><eq class="computeBlade" property="serial" '
         'value="FCH2"/></and>', []),
        ('<eq class="computeBlade" property="dn" value="sys/chassis-1/blade-2"/>', ["2"]),
    ],
)  # fmt: skip
def test_filters(xml, expected):
    predicate = parse_filter(ET.fromstring(f"<inFilter>{xml}</inFilter>"))
    assert [mo.attrs["slotId"] for mo in _tree().of_class("computeBlade") if predicate(mo)] == expected


def test_settings_defaults_and_errors():
    defaults = load_ucs_settings({})
    assert [(a.name, a.privilege) for a in defaults.accounts] == [("admin", "admin"), ("readonly", "read-only")]
    assert defaults.session_seconds == 600 and defaults.domain is None and defaults.event_channels == 8
    custom = load_ucs_settings({"users": "ops:p:w:admin, audit:x:read-only", "domain": "d2", "session_seconds": "60",
                                "event_channels": "3"})  # fmt: skip
    assert custom.account("ops").password == "p:w" and custom.account("audit").read_only
    assert (custom.session_seconds, custom.event_channels) == (60, 3)
    for bad, message in [
        ({"users": ["admin:password"]}, "name:password:privilege"),
        ({"users": ["admin:pw:root"]}, "privilege one of"),
        ({"session_seconds": "soon"}, "session_seconds"),
        ({"session_seconds": 0}, "at least 1"),
        ({"event_channels": 0}, "event_channels must be at least 1"),
        ({"event_channels": 2.5}, "event_channels must be a whole number"),
        ({"event_channels": True}, "event_channels must be a whole number"),
        ({"colour": "blue"}, "unknown settings colour"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load_ucs_settings(bad)


async def test_what_ucs_stored_about_a_profile_goes_with_it(make_dcsim):
    """A profile deleted behind UCS Manager's back (here: the profile operations) leaves nothing stale."""
    import asyncio

    from dcsim_ucs.config import Change

    async with make_dcsim() as dc:
        manager = dc.services["ucs"]
        change = Change(class_id="lsServer", dn="org-root/ls-SP-tmp-01", status={"created"},
                        attrs={"name": "SP-tmp-01", "srcTemplName": "SP-Template-RHEL9", "usrLbl": "temporary"})  # fmt: skip
        await manager.apply([change], user="test")
        assert (await manager.tree()).get("org-root/ls-SP-tmp-01").attrs["usrLbl"] == "temporary"
        await manager.profiles.delete_service_profile("SP-tmp-01")
        for _ in range(100):
            if "org-root/ls-SP-tmp-01" not in await manager.stored():
                break
            await asyncio.sleep(0.05)
        assert "org-root/ls-SP-tmp-01" not in await manager.stored()
        await manager.profiles.create_service_profile("SP-tmp-01", template="SP-Template-RHEL9")
        assert (await manager.tree()).get("org-root/ls-SP-tmp-01").attrs["usrLbl"] == ""


async def test_every_change_publishes_its_events(make_dcsim):
    """UCS-only objects publish ucs.mo.*; profile changes publish the engine's events."""
    import asyncio

    from dcsim import hookimpl
    from dcsim_ucs.config import Change

    seen: list = []

    class Recorder:
        @hookimpl
        def dcsim_register_subscribers(self, registry):
            async def keep(dcsim, event):
                seen.append(event)

            registry.add("test-ucs-events", keep, types=("ucs.*", "service_profile.*", "blade.*"))

    async with make_dcsim(Recorder()) as dc:
        await dc.services["ucs"].apply(
            [
                Change(class_id="orgOrg", dn="org-root/org-Ops", status={"created"}, attrs={}),
                Change(class_id="lsServer", dn="org-root/org-Ops/ls-SP-ops-01", status={"created"},
                       attrs={"srcTemplName": "SP-Template-Ubuntu"}),
                Change(class_id="lsBinding", dn="org-root/ls-SP-db-01/pn", status={"deleted"}, attrs={}),
                Change(class_id="lsBinding", dn="org-root/org-Ops/ls-SP-ops-01/pn", status={"created"},
                       attrs={"pnDn": "sys/chassis-1/blade-3"}),
            ],
            user="alice",
        )  # fmt: skip
        wanted = ["ucs.mo.created", "service_profile.created", "service_profile.disassociated",
                  "service_profile.associated"]  # fmt: skip
        for _ in range(100):
            if all(any(e.type == t for e in seen) for t in wanted):
                break
            await asyncio.sleep(0.05)
        created = next(e for e in seen if e.type == "ucs.mo.created")
        assert created.data == {"domain": "ucs-domain-01", "dn": "org-root/org-Ops", "class": "orgOrg", "user": "alice"}
        associated = next(e for e in seen if e.type == "service_profile.associated")
        assert (associated.data["name"], associated.data["blade"]) == ("SP-ops-01", "c01s03")
        assert any(e.type == "blade.power_changed" for e in seen)
