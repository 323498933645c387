"""The cisco.ucs collection's common modules: pools, VSANs, NTP, DNS and the time zone.

One playbook (``playbooks/common_modules.yml``) holds a task per module; it runs four
times against one server: create (every task changed), rerun (none changed), removal
(every task changed), rerun of the removal (none changed but ``ucs_timezone``, whose
``absent`` always rewrites the time zone). Each task's own result is read from the
output, so a module that is not idempotent is named. ucsmsdk checks what was made, and
refusals go through ucsmsdk without Ansible.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import Ansible, PlaybookRun, assert_ok
from ucsmsdk.mometa.fabric.FabricVsan import FabricVsan
from ucsmsdk.ucsexception import UcsException
from ucsmsdk.ucshandle import UcsHandle
from ucsmsdk.ucsmo import GenericMo, ManagedObject

from dcsim.testing import ServerProcess

PLAYBOOK = "common_modules.yml"
#: The playbook's tasks, by module.
TASKS = {
    "ucs_mac_pool": "ucs_mac_pool ansible-mac",
    "ucs_ip_pool": "ucs_ip_pool ansible-ip",
    "ucs_uuid_pool": "ucs_uuid_pool ansible-uuid",
    "ucs_wwn_pool": "ucs_wwn_pool ansible-wwpn",
    "ucs_vsans (common)": "ucs_vsans ansible-vsan (common)",
    "ucs_vsans (fabric A)": "ucs_vsans ansible-vsan-a (fabric A)",
    "ucs_ntp_server": "ucs_ntp_server ntp1.example.com",
    "ucs_dns_server": "ucs_dns_server 10.10.0.53",
    "ucs_timezone": "ucs_timezone Europe/Berlin",
}
#: What each task makes (the time zone is a setting of an object that always exists).
MADE = [
    "org-root/mac-pool-ansible-mac",
    "org-root/ip-pool-ansible-ip",
    "org-root/uuid-pool-ansible-uuid",
    "org-root/wwn-pool-ansible-wwpn",
    "fabric/san/net-ansible-vsan",
    "fabric/san/A/net-ansible-vsan-a",
    "sys/svc-ext/datetime-svc/ntp-ntp1.example.com",
    "sys/svc-ext/dns-svc/dns-10.10.0.53",
]
RESULT = re.compile(r"^(?P<status>ok|changed|fatal|failed|skipping): \[ucsm\]")


def task_results(run: PlaybookRun) -> dict[str, str]:
    """Each task's result (ok, changed, fatal, ...), by task name."""
    results: dict[str, str] = {}
    task = None
    for line in run.output.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK [") : line.rindex("]")]
        elif task and (match := RESULT.match(line)):
            results[task] = match["status"]
            task = None
    return results


@pytest.fixture(scope="module")
def present(ansible: Ansible) -> tuple[PlaybookRun, PlaybookRun]:
    """The playbook run twice: creation, then the rerun."""
    return ansible.run(PLAYBOOK), ansible.run(PLAYBOOK)


@pytest.fixture(scope="module")
def absent(ansible: Ansible, present: tuple[PlaybookRun, PlaybookRun]) -> tuple[PlaybookRun, PlaybookRun]:
    """After the present runs: the playbook with everything absent, twice."""
    return ansible.run(PLAYBOOK, "-e", "wanted_state=absent"), ansible.run(PLAYBOOK, "-e", "wanted_state=absent")


@pytest.mark.parametrize("module", TASKS)
def test_module_creates_then_reruns_without_change(present: tuple[PlaybookRun, PlaybookRun], module: str) -> None:
    first, second = present
    assert task_results(first).get(TASKS[module]) == "changed", first.describe()
    assert task_results(second).get(TASKS[module]) == "ok", second.describe()


def test_present_runs_recap(present: tuple[PlaybookRun, PlaybookRun]) -> None:
    first, second = present
    assert_ok(first, ok=len(TASKS), changed=len(TASKS))
    assert_ok(second, ok=len(TASKS), changed=0)


def _props(mo: ManagedObject | None, *names: str) -> tuple[str, ...]:
    assert mo is not None
    return tuple(getattr(mo, name) for name in names)


def test_pools_have_the_playbooks_values(present: tuple[PlaybookRun, PlaybookRun], ucs: UcsHandle) -> None:
    mac = "org-root/mac-pool-ansible-mac"
    assert _props(ucs.query_dn(mac), "assignment_order", "descr") == ("sequential", "MACs made by Ansible")
    assert _props(ucs.query_dn(f"{mac}/block-00:25:B5:A0:00:00-00:25:B5:A0:00:FF"), "r_from", "to") == (
        "00:25:B5:A0:00:00",
        "00:25:B5:A0:00:FF",
    )

    ip = "org-root/ip-pool-ansible-ip"
    assert _props(ucs.query_dn(ip), "assignment_order", "descr") == ("default", "KVM addresses made by Ansible")
    v4 = ucs.query_dn(f"{ip}/block-192.168.10.100-192.168.10.149")
    assert _props(v4, "subnet", "def_gw", "prim_dns", "sec_dns") == (
        "255.255.255.0",
        "192.168.10.1",
        "192.168.10.53",
        "0.0.0.0",
    )
    v6 = ucs.query_dn(f"{ip}/v6block-2001:db8::100-2001:db8::1ff")
    assert _props(v6, "prefix", "def_gw", "prim_dns", "sec_dns") == ("64", "2001:db8::1", "::", "::")

    uuid = "org-root/uuid-pool-ansible-uuid"
    assert _props(ucs.query_dn(uuid), "prefix", "assignment_order", "descr") == (
        "derived",
        "default",
        "UUIDs made by Ansible",
    )
    assert ucs.query_dn(f"{uuid}/block-from-0000-000000000001-to-0000-0000000003E8") is not None

    wwn = "org-root/wwn-pool-ansible-wwpn"
    assert _props(ucs.query_dn(wwn), "purpose", "assignment_order", "descr") == (
        "port-wwn-assignment",
        "sequential",
        "WWPNs made by Ansible",
    )
    assert ucs.query_dn(f"{wwn}/block-20:00:00:25:B5:A0:00:00-20:00:00:25:B5:A0:00:FF") is not None
    assert [mo.get_class_id() for mo in ucs.query_children(in_dn=wwn)] == ["FcpoolBlock"]


def test_vsans_have_the_playbooks_values(present: tuple[PlaybookRun, PlaybookRun], ucs: UcsHandle) -> None:
    common = ucs.query_dn("fabric/san/net-ansible-vsan")
    assert _props(common, "id", "fcoe_vlan", "zoning_state") == ("110", "3110", "disabled")
    fabric_a = ucs.query_dn("fabric/san/A/net-ansible-vsan-a")
    assert _props(fabric_a, "id", "fcoe_vlan", "zoning_state") == ("120", "3120", "enabled")
    assert sorted(mo.dn for mo in ucs.query_classid("fabricVsan")) == [
        "fabric/san/A/net-ansible-vsan-a",
        "fabric/san/net-ansible-vsan",
    ]


def test_services_have_the_playbooks_values(present: tuple[PlaybookRun, PlaybookRun], ucs: UcsHandle) -> None:
    ntp = ucs.query_dn("sys/svc-ext/datetime-svc/ntp-ntp1.example.com")
    assert _props(ntp, "name", "descr") == ("ntp1.example.com", "Time made by Ansible")
    dns = ucs.query_dn("sys/svc-ext/dns-svc/dns-10.10.0.53")
    assert _props(dns, "name", "descr") == ("10.10.0.53", "Names made by Ansible")
    clock = ucs.query_dn("sys/svc-ext/datetime-svc")
    assert _props(clock, "timezone", "oper_timezone", "descr", "admin_state") == (
        "Europe/Berlin",
        "Europe/Berlin",
        "Zone set by Ansible",
        "enabled",
    )


@pytest.mark.parametrize("module", TASKS)
def test_module_removes_then_reruns_without_change(absent: tuple[PlaybookRun, PlaybookRun], module: str) -> None:
    first, second = absent
    assert task_results(first).get(TASKS[module]) == "changed", first.describe()
    # ucs_timezone's absent clears the zone whether or not one is set: it always reports a change.
    assert task_results(second).get(TASKS[module]) == ("changed" if module == "ucs_timezone" else "ok"), (
        second.describe()
    )


def test_absent_removes_what_present_made(absent: tuple[PlaybookRun, PlaybookRun], ucs: UcsHandle) -> None:
    assert_ok(absent[0], ok=len(TASKS), changed=len(TASKS))
    assert_ok(absent[1], ok=len(TASKS), changed=1)
    for dn in MADE:
        assert ucs.query_dn(dn) is None, dn
    assert ucs.query_children(in_dn="org-root/ip-pool-ansible-ip") == []
    clock = ucs.query_dn("sys/svc-ext/datetime-svc")
    assert _props(clock, "timezone", "descr") == ("", "")
    # The singletons and the seed stay.
    for dn in ("fabric/san", "fabric/san/A", "fabric/san/B", "sys/svc-ext/dns-svc", "org-root/mac-pool-default"):
        assert ucs.query_dn(dn) is not None, dn


def _pool_with_block(pool: str, pool_rn: str, block: str, first: str, last: str, rn: str = "block-{}-{}") -> GenericMo:
    """A new pool in org-root with one block, for a single commit."""
    mo = GenericMo(pool, "org-root", rn=pool_rn, name=pool_rn.rsplit("-", 1)[1])
    GenericMo(block, mo, rn=rn.format(first, last), **{"from": first, "to": last})
    return mo


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FabricVsan(parent_mo_or_dn="fabric/san", name="v-reserved", id="4079", fcoe_vlan="3200"), "4079"),
        (lambda: FabricVsan(parent_mo_or_dn="fabric/san", name="v-fcmode", id="3900", fcoe_vlan="3201"),
         "FC end-host mode"),
        (lambda: GenericMo("fabricVsan", "fabric/san", rn="net-v-vlan", name="v-vlan", id="200", fcoeVlan="4045"),
         "fcoeVlan"),
        (lambda: FabricVsan(parent_mo_or_dn="fabric/san", name="v-none", id="201"), "fcoeVlan"),
        (lambda: FabricVsan(parent_mo_or_dn="fabric/san", name="v-eth", id="202", fcoe_vlan="1"), "Ethernet VLAN"),
        (lambda: GenericMo("macpoolBlock", "org-root/mac-pool-default", rn="block-00:25:B5:00:01:FF-00:25:B5:00:01:00",
                           **{"from": "00:25:B5:00:01:FF", "to": "00:25:B5:00:01:00"}), "after its end"),
        (lambda: GenericMo("fcpoolInitiators", "org-root", rn="wwn-pool-w", name="w", purpose="any-wwn"), "purpose"),
        (lambda: GenericMo("ippoolPool", "org-root", rn="ip-pool-p", name="p", assignmentOrder="random"),
         "assignmentOrder"),
        (lambda: _pool_with_block("ippoolPool", "ip-pool-p", "ippoolBlock", "10.0.0.1", "10.0.1.1"),
         "not in one subnet"),
        (lambda: _pool_with_block("uuidpoolPool", "uuid-pool-p", "uuidpoolBlock", "0000-00000000000A",
                                  "0000-000000000001", rn="block-from-{}-to-{}"), "after its end"),
        (lambda: GenericMo("commDnsProvider", "sys/svc-ext/dns-svc", rn="dns-dns.example.com",
                           name="dns.example.com"), "not a valid IP address"),
        (lambda: GenericMo("commDateTime", "sys/svc-ext", rn="datetime-svc", colour="blue"), "colour"),
    ],
)  # fmt: skip
def test_refused_values_say_why(
    ucs_server: ServerProcess, ucs: UcsHandle, make: Callable[[], ManagedObject], message: str
) -> None:
    ucs.add_mo(make(), modify_present=True)
    with pytest.raises(UcsException) as failure:
        ucs.commit()
    assert message in failure.value.error_descr


def test_wwn_blocks_stay_in_ucs_managers_ranges(ucs: UcsHandle) -> None:
    pool = _pool_with_block("fcpoolInitiators", "wwn-pool-range", "fcpoolBlock", "10:00:00:25:B5:00:00:00",
                            "10:00:00:25:B5:00:00:FF")  # fmt: skip
    ucs.add_mo(pool)
    with pytest.raises(UcsException) as failure:
        ucs.commit()
    assert "20:00:00:00:00:00:00:00" in failure.value.error_descr
    assert ucs.query_dn("org-root/wwn-pool-range") is None


def test_an_fcoe_vlan_is_not_an_ethernet_vlan_too(ucs: UcsHandle) -> None:
    from ucsmsdk.mometa.fabric.FabricVlan import FabricVlan

    ucs.add_mo(FabricVsan(parent_mo_or_dn="fabric/san", name="vsan-300", id="300", fcoe_vlan="3300"))
    ucs.commit()
    ucs.add_mo(FabricVsan(parent_mo_or_dn="fabric/san", name="vsan-301", id="300", fcoe_vlan="3301"))
    with pytest.raises(UcsException, match="VSAN 300 is already vsan-300"):
        ucs.commit()
    ucs.add_mo(FabricVlan(parent_mo_or_dn="fabric/lan", name="vlan-3300", id="3300"))
    with pytest.raises(UcsException, match="FCoE VLAN of VSAN fabric/san/net-vsan-300"):
        ucs.commit()
    ucs.remove_mo(ucs.query_dn("fabric/san/net-vsan-300"))
    ucs.commit()
    assert ucs.query_dn("fabric/lan/net-vlan-3300") is None
