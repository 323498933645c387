"""The cisco.ucs collection (from the ``ansible`` package) against a real ``dcsim serve``.

Acceptance: ``ucs_org`` and ``ucs_service_profile_from_template`` with ``use_ssl: false``
succeed, and a second run reports no change. The playbooks are in ``tests/playbooks``;
``ansible-playbook`` is the one installed next to this interpreter, and the modules run
under this interpreter too (it has ucsmsdk). The tests share one server and run in order:
create, rerun, check mode, removal, rerun of the removal, a wrong password.
"""

from __future__ import annotations

import json
from typing import Any

from conftest import Ansible, assert_ok, rest
from ucsmsdk.ucshandle import UcsHandle

from dcsim.testing import ServerProcess

ORG_DN = "org-root/org-ansible-org"
SP_DN = f"{ORG_DN}/ls-ansible-sp-01"
VLAN_DN = "fabric/lan/net-ansible-vlan-1234"


def sim_profile(server: ServerProcess, name: str) -> dict[str, Any] | None:
    profiles = rest(server, "GET", "/sim/state")["objects"].get("service_profile", [])
    return next((p for p in profiles if p["name"] == name), None)


def test_create_org_and_profile_from_template(ansible: Ansible) -> None:
    assert_ok(ansible.run("present.yml"), ok=2, changed=2)


def test_second_run_reports_no_change(ansible: Ansible) -> None:
    assert_ok(ansible.run("present.yml"), ok=2, changed=0)


def test_objects_exist_with_the_playbooks_values(ansible: Ansible, ucs: UcsHandle, ucs_server: ServerProcess) -> None:
    org = ucs.query_dn(ORG_DN)
    assert org is not None
    assert (org.get_class_id(), org.name, org.descr) == ("OrgOrg", "ansible-org", "Made by Ansible")

    sp = ucs.query_dn(SP_DN)
    assert sp is not None
    assert sp.get_class_id() == "LsServer"
    assert (sp.name, sp.type, sp.src_templ_name) == ("ansible-sp-01", "instance", "SP-Template-RHEL9")
    assert (sp.usr_lbl, sp.descr) == ("ansible-label", "Service profile made by Ansible")
    power = ucs.query_dn(f"{SP_DN}/power")
    assert power is not None
    assert (power.get_class_id(), power.state) == ("LsPower", "up")

    # The template is still a template, and the profile is in the simulation.
    template = ucs.query_dn("org-root/ls-SP-Template-RHEL9")
    assert template is not None and template.type == "updating-template"
    profile = sim_profile(ucs_server, "ansible-sp-01")
    assert profile is not None, "the service profile is not in /sim/state"
    assert profile["org"] == ORG_DN
    assert profile["description"] == "Service profile made by Ansible"
    assert profile["power"] == "up"
    templates = rest(ucs_server, "GET", "/sim/state")["objects"]["service_profile_template"]
    assert next(t["name"] for t in templates if t["id"] == profile["template_id"]) == "SP-Template-RHEL9"


def test_check_mode_reports_change_and_changes_nothing(ansible: Ansible, ucs: UcsHandle) -> None:
    changed_values = {"org_description": "Changed description", "sp_user_label": "changed-label"}
    run = ansible.run("present.yml", "--check", "-e", json.dumps(changed_values))
    assert_ok(run, ok=2, changed=2)

    org = ucs.query_dn(ORG_DN)
    assert org is not None and org.descr == "Made by Ansible"
    sp = ucs.query_dn(SP_DN)
    assert sp is not None and sp.usr_lbl == "ansible-label"
    # And the real (non-check) configuration is still in place: nothing to do.
    assert_ok(ansible.run("present.yml"), ok=2, changed=0)


def test_absent_removes_profile_and_org(ansible: Ansible, ucs: UcsHandle, ucs_server: ServerProcess) -> None:
    assert_ok(ansible.run("absent.yml"), ok=2, changed=2)
    assert ucs.query_dn(SP_DN) is None
    assert ucs.query_dn(f"{SP_DN}/power") is None
    assert ucs.query_dn(ORG_DN) is None
    assert sim_profile(ucs_server, "ansible-sp-01") is None
    # The seed estate is still there.
    assert ucs.query_dn("org-root/ls-SP-Template-RHEL9") is not None
    assert sim_profile(ucs_server, "SP-web-01") is not None


def test_second_absent_run_reports_no_change(ansible: Ansible, ucs: UcsHandle) -> None:
    assert_ok(ansible.run("absent.yml"), ok=2, changed=0)
    assert ucs.query_dn(ORG_DN) is None


def test_wrong_password_fails_with_authentication_error(ansible: Ansible, ucs: UcsHandle) -> None:
    run = ansible.run("present.yml", password="wrong-password")
    assert run.returncode != 0, run.describe()
    assert run.recap.get("failed") == 1, run.describe()
    assert run.recap.get("changed") == 0, run.describe()
    assert "551" in run.output, run.describe()
    assert "Authentication failed" in run.output, run.describe()
    # The password is no_log: it is not echoed back.
    assert "wrong-password" not in run.output
    assert ucs.query_dn(ORG_DN) is None


def test_vlan_create_rerun_and_remove(ansible: Ansible, ucs: UcsHandle) -> None:
    assert_ok(ansible.run("vlans.yml"), ok=1, changed=1)
    vlan = ucs.query_dn(VLAN_DN)
    assert vlan is not None
    assert (vlan.get_class_id(), vlan.name, vlan.id, vlan.default_net) == (
        "FabricVlan",
        "ansible-vlan-1234",
        "1234",
        "no",
    )
    assert_ok(ansible.run("vlans.yml"), ok=1, changed=0)

    assert_ok(ansible.run("vlans.yml", "-e", "vlan_state=absent"), ok=1, changed=1)
    assert ucs.query_dn(VLAN_DN) is None


def test_association_module_binds_and_unbinds_idempotently(
    ansible: Ansible, ucs: UcsHandle, ucs_server: ServerProcess
) -> None:
    from ucsmsdk.mometa.ls.LsServer import LsServer

    ucs.add_mo(LsServer(parent_mo_or_dn="org-root", name="SP-assoc-01", src_templ_name="SP-Template-Ubuntu"))
    ucs.commit()
    # Free blade 3 from the seed's SP-db-01, then bind the new profile to it.
    free = ansible.run("association.yml", "-e", "profile=SP-db-01 assoc_state=absent")
    assert_ok(free, ok=1, changed=1)
    assert ucs.query_dn("sys/chassis-1/blade-3").association == "none"

    assert_ok(ansible.run("association.yml", "-e", "migration=yes"), ok=1, changed=1)
    profile = ucs.query_dn("org-root/ls-SP-assoc-01")
    assert (profile.assoc_state, profile.pn_dn) == ("associated", "sys/chassis-1/blade-3")
    assert ucs.query_dn("org-root/ls-SP-assoc-01/pn").restrict_migration == "yes"
    blade = next(b for b in rest(ucs_server, "GET", "/sim/state")["objects"]["blade"] if b["name"] == "c01s03")
    assert blade["power_state"] == "on" and sim_profile(ucs_server, "SP-assoc-01")["blade_id"] == blade["id"]
    assert_ok(ansible.run("association.yml", "-e", "migration=yes"), ok=1, changed=0)

    # Unbind, and put the seed back as it was.
    assert_ok(ansible.run("association.yml", "-e", "assoc_state=absent"), ok=1, changed=1)
    assert_ok(ansible.run("association.yml", "-e", "assoc_state=absent"), ok=1, changed=0)
    assert_ok(ansible.run("association.yml", "-e", "profile=SP-db-01"), ok=1, changed=1)
    assert ucs.query_dn("org-root/ls-SP-db-01/pn").restrict_migration == "no"
    ucs.remove_mo(ucs.query_dn("org-root/ls-SP-assoc-01"))
    ucs.commit()


def test_query_module_returns_the_equipment(ansible: Ansible) -> None:
    result = ansible.home / "query.json"
    assert_ok(ansible.run("query.yml", "-e", json.dumps({"result_file": str(result)})), ok=2, changed=1)
    objects = json.loads(result.read_text())
    assert sorted(blade["dn"] for blade in objects["computeBlade"]) == [
        "sys/chassis-1/blade-1", "sys/chassis-1/blade-2", "sys/chassis-1/blade-3"
    ]  # fmt: skip
    assert sorted(fi["id"] for fi in objects["networkElement"]) == ["A", "B"]
    assert {blade["oper_power"] for blade in objects["computeBlade"]} == {"on"}
