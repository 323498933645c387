"""Acceptance 2: queries by class (with filters), by DN, children, scope and subtrees."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from conftest import post_xml, rest
from ucsmsdk.ucsbasetype import ClassId, ClassIdSet, Dn, DnSet
from ucsmsdk.ucsexception import UcsException
from ucsmsdk.ucsmethodfactory import config_resolve_classes, config_resolve_dns, config_scope


@pytest.fixture(scope="module")
def seed_blades(ucs_server):
    """The simulation's blades, by name, as /sim/state has them."""
    return {blade["name"]: blade for blade in rest(ucs_server, "GET", "/sim/state")["objects"]["blade"]}


def test_blades_by_class_match_the_simulation(ucs, seed_blades):
    blades = sorted(ucs.query_classid("computeBlade"), key=lambda b: b.dn)
    assert [b.dn for b in blades] == [f"sys/chassis-1/blade-{slot}" for slot in (1, 2, 3)]
    for blade, name in zip(blades, ["c01s01", "c01s02", "c01s03"], strict=True):
        sim = seed_blades[name]
        assert (blade.serial, blade.model, blade.slot_id, blade.chassis_id) == (
            sim["serial"], "UCSB-B200-M5", str(sim["slot"]), "1"
        )  # fmt: skip
        assert blade.total_memory == "16384" and blade.num_of_cores == "4"
        assert (blade.oper_power, blade.oper_state, blade.operability) == ("on", "ok", "operable")
        assert blade.association == "associated"
        assert blade.server_id == f"1/{sim['slot']}"
    assert [b.assigned_to_dn for b in blades] == [
        "org-root/ls-SP-web-01", "org-root/ls-SP-app-01", "org-root/ls-SP-db-01"
    ]  # fmt: skip
    # The class id may come in either case, as ucsmsdk users write it.
    assert len(ucs.query_classid("ComputeBlade")) == 3


def test_filters_narrow_a_class_query(ucs, seed_blades):
    serial = seed_blades["c01s02"]["serial"]
    only = ucs.query_classid("computeBlade", filter_str=f'(serial, "{serial}", type="eq")')
    assert [b.dn for b in only] == ["sys/chassis-1/blade-2"]
    others = ucs.query_classid("computeBlade", filter_str=f'(serial, "{serial}", type="ne")')
    assert sorted(b.dn for b in others) == ["sys/chassis-1/blade-1", "sys/chassis-1/blade-3"]
    # type="re" is UCS's wcard; flag="I" makes ucsmsdk send a case-insensitive pattern.
    profiles = ucs.query_classid("lsServer", filter_str='(name, "sp-(web|db)", type="re", flag="I")')
    assert sorted(p.name for p in profiles) == ["SP-db-01", "SP-web-01"]
    combined = ucs.query_classid(
        "computeBlade", filter_str='(slot_id, "2", type="ge") and not (assigned_to_dn, "db", type="re")'
    )
    assert [b.dn for b in combined] == ["sys/chassis-1/blade-2"]
    either = ucs.query_classid("computeBlade", filter_str='(slot_id, "1", type="eq") or (slot_id, "3", type="eq")')
    assert sorted(b.slot_id for b in either) == ["1", "3"]
    assert ucs.query_classid("computeBlade", filter_str='(slot_id, "3", type="gt")') == []
    assert len(ucs.query_classid("computeBlade", filter_str='(slot_id, "3", type="le")')) == 3
    assert [b.slot_id for b in ucs.query_classid("computeBlade", filter_str='(slot_id, "2", type="lt")')] == ["1"]


@pytest.mark.parametrize(
    ("tag", "value", "expected"),
    [("anybit", "A", 3), ("allbits", "A,B", 3), ("anybit", "C", 0)],
)
def test_bit_filters_test_flag_sets(ucs_server, ucs, tag, value, expected):
    body = (
        f'<configResolveClass cookie="{ucs.cookie}" classId="computeBlade" inHierarchical="false"><inFilter>'
        f'<{tag} class="computeBlade" property="connPath" value="{value}"/></inFilter></configResolveClass>'
    )
    answer = ET.fromstring(post_xml(ucs_server, body))
    assert answer.get("errorCode") is None
    assert len(answer.findall("outConfigs/computeBlade")) == expected


def test_query_dn_existing_and_missing(ucs):
    profile = ucs.query_dn("org-root/ls-SP-web-01")
    assert (profile.name, profile.type, profile.src_templ_name) == ("SP-web-01", "instance", "SP-Template-RHEL9")
    assert (profile.assoc_state, profile.pn_dn, profile.oper_state) == ("associated", "sys/chassis-1/blade-1", "ok")
    assert ucs.query_dn("org-root/ls-no-such-profile") is None
    top = ucs.query_dn("sys")
    assert (top.name, top.mode) == ("ucs-domain-01", "cluster")


def test_query_dns_reports_unresolved(ucs_server, ucs):
    dns = DnSet()
    for value in ("sys/switch-A", "sys/switch-C"):
        dn = Dn()
        dn.value = value
        dns.child_add(dn)
    assert [mo.dn for mo in ucs.process_xml_elem(config_resolve_dns(ucs.cookie, dns))] == ["sys/switch-A"]
    answer = ET.fromstring(post_xml(ucs_server, ET.tostring(config_resolve_dns(ucs.cookie, dns))))
    assert [dn.get("value") for dn in answer.findall("outUnresolved/dn")] == ["sys/switch-C"]


def test_children_of_a_chassis_and_of_org_root(ucs):
    chassis_children = ucs.query_children(in_dn="sys/chassis-1")
    classes = sorted({mo.get_class_id() for mo in chassis_children})
    assert classes == ["ComputeBlade", "EquipmentFanModule", "EquipmentPsu"]
    assert len([mo for mo in chassis_children if mo.get_class_id() == "EquipmentPsu"]) == 4
    blades = ucs.query_children(in_dn="sys/chassis-1", class_id="computeBlade")
    assert sorted(b.dn for b in blades) == [f"sys/chassis-1/blade-{n}" for n in (1, 2, 3)]
    root_children = ucs.query_children(in_dn="org-root")
    names = {mo.dn for mo in root_children}
    assert {"org-root/ls-SP-web-01", "org-root/ls-SP-Template-RHEL9", "org-root/boot-policy-default",
            "org-root/mac-pool-default", "org-root/fw-host-pack-default"} <= names  # fmt: skip
    templates = ucs.query_children(
        in_dn="org-root", class_id="lsServer", filter_str='(type, "updating-template", type="eq")'
    )
    assert sorted(t.name for t in templates) == ["SP-Template-RHEL9", "SP-Template-Ubuntu"]


def test_hierarchical_queries_return_subtrees(ucs):
    subtree = ucs.query_dn("org-root/ls-SP-app-01", hierarchy=True)
    by_class = {}
    for mo in subtree:
        by_class.setdefault(mo.get_class_id(), []).append(mo)
    assert [mo.dn for mo in by_class["LsServer"]] == ["org-root/ls-SP-app-01"]
    assert by_class["LsPower"][0].state == "up"
    assert by_class["LsBinding"][0].pn_dn == "sys/chassis-1/blade-2"
    assert sorted(v.name for v in by_class["VnicEther"]) == ["eth0", "eth1"]
    assert all(v.addr.startswith("00:25:B5") for v in by_class["VnicEther"])
    assert by_class["VnicFc"][0].addr.startswith("20:00:00:25:B5")
    blades = ucs.query_classid("computeBlade", hierarchy=True)
    firmware = [mo for mo in blades if mo.get_class_id() == "FirmwareRunning"]
    assert sorted(f.dn for f in firmware) == [f"sys/chassis-1/blade-{n}/mgmt/fw-system" for n in (1, 2, 3)]
    assert {f.version for f in firmware} == {"4.2(3d)"}


def test_resolve_classes_and_scope(ucs):
    ids = ClassIdSet()
    for name in ("networkElement", "equipmentChassis"):
        class_id = ClassId()
        class_id.value = name
        ids.child_add(class_id)
    found = ucs.process_xml_elem(config_resolve_classes(ucs.cookie, ids))
    assert sorted(mo.dn for mo in found) == ["sys/chassis-1", "sys/switch-A", "sys/switch-B"]
    scoped = ucs.process_xml_elem(config_scope(ucs.cookie, "sys/chassis-1", "equipmentFan", None, "false"))
    assert len(scoped) == 16  # 8 fan modules x 2 fans


def test_equipment_and_firmware_views(ucs):
    fis = sorted(ucs.query_classid("networkElement"), key=lambda fi: fi.id)
    assert [(fi.id, fi.model, fi.operability) for fi in fis] == [
        ("A", "UCS-FI-6454", "operable"), ("B", "UCS-FI-6454", "operable")
    ]  # fmt: skip
    system = ucs.query_dn("sys/fw-system")
    assert system.version == "4.2(3d)"
    chassis = ucs.query_dn("sys/chassis-1")
    assert (chassis.model, chassis.oper_state) == ("UCSB-5108-AC2", "operable")
    orgs = ucs.query_classid("orgOrg")
    assert orgs[0].dn == "org-root"


def test_injected_faults_show_as_fault_instances_and_states(ucs_server, ucs):
    fault = rest(ucs_server, "POST", "/sim/inject/host-failure", {"blade": "c01s02"})
    try:
        faults = ucs.query_classid("faultInst")
        mine = [f for f in faults if f.dn.startswith("sys/chassis-1/blade-2/")]
        assert len(mine) == 1 and mine[0].severity == "critical" and mine[0].code == "F0317"
        blade = ucs.query_dn("sys/chassis-1/blade-2")
        assert (blade.oper_state, blade.operability, blade.oper_power) == ("inoperable", "inoperable", "off")
        assert ucs.query_dn("org-root/ls-SP-app-01").oper_state == "inoperable"
    finally:
        rest(ucs_server, "DELETE", f"/sim/inject/{fault['id']}")
    assert not [f for f in ucs.query_classid("faultInst") if f.dn.startswith("sys/chassis-1/blade-2/")]
    assert ucs.query_dn("sys/chassis-1/blade-2").oper_state == "ok"


def test_unknown_class_is_a_ucs_error(ucs):
    with pytest.raises(UcsException) as failure:
        ucs.process_xml_elem(
            ET.fromstring(f'<configResolveClass cookie="{ucs.cookie}" classId="noSuchThing" inHierarchical="false"/>')
        )
    assert failure.value.error_code == "ERR-MO-unknown-class"


def test_ucsmsdk_inventory_utility_walks_the_blades(ucs):
    """ucsmsdk.utils.inventory reads CPUs, DIMMs, disks, PSUs, adaptors, vNICs and vHBAs."""
    from ucsmsdk.utils.inventory import get_inventory

    inventory = get_inventory(ucs)["127.0.0.1"]
    counts = {component: len(items) for component, items in inventory.items()}
    assert counts == {
        "cpu": 6, "memory": 3, "psu": 4, "pci": 3, "vic": 3, "storage": 3, "disks": 6, "vNICs": 6, "vHBAs": 3,
        "fabric_interconnect": 2,
    }  # fmt: skip
    cpus = sorted(inventory["cpu"], key=lambda c: c["dn"])
    assert cpus[0]["dn"] == "sys/chassis-1/blade-1/board/cpu-1" and cpus[0]["cores"] == "2"
    macs = {nic["mac"] for nic in inventory["vNICs"]}
    assert len(macs) == 6 and all(mac.startswith("00:25:B5") for mac in macs)
