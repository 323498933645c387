"""Acceptance 3: changes through ucsmsdk objects and commit(), applied to the simulation.

The service profile flow runs on both node backends: the blade's node (a state file,
or a container) is powered and labelled by what UCS Manager is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import eventually, handle, rest
from ucsmsdk.mometa.fabric.FabricVlan import FabricVlan
from ucsmsdk.mometa.firmware.FirmwareComputeHostPack import FirmwareComputeHostPack
from ucsmsdk.mometa.ls.LsBinding import LsBinding
from ucsmsdk.mometa.ls.LsPower import LsPower
from ucsmsdk.mometa.ls.LsServer import LsServer
from ucsmsdk.mometa.org.OrgOrg import OrgOrg
from ucsmsdk.ucsexception import UcsException
from ucsmsdk.ucshandle import UcsHandle
from ucsmsdk.ucsmethodfactory import ls_instantiate_n_template
from ucsmsdk.ucsmo import GenericMo

from dcsim.drivers import driver_class
from dcsim.settings import load_settings
from dcsim.sim.model import PowerState
from dcsim.sim.nodes.base import NodeBackend
from dcsim.testing import ServerProcess, run_server

NODE = "sim-ucs-blade-c01s03"


class _Quiet:
    async def node_file_changed(self, node: str, path: str, diff: str) -> None:
        pass

    async def node_power_observed(self, node: str, power_state: PowerState) -> None:
        pass


@contextlib.asynccontextmanager
async def nodes_of(server: ServerProcess, backend: str) -> AsyncIterator[NodeBackend]:
    """The server's node backend, opened from the test to look at the nodes themselves."""
    settings = load_settings(environ={}, data_dir=server.data_dir, node_backend=backend)
    nodes: NodeBackend = driver_class("dcsim.nodes", backend)(settings)
    await nodes.start(_Quiet())
    try:
        yield nodes
    finally:
        await nodes.close()


@pytest.fixture(scope="module", params=["virtual", pytest.param("docker", marks=pytest.mark.docker)])
def estate(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, str]]:
    """A server per node backend (the docker one's seed containers are removed afterwards)."""
    backend = request.param
    data_dir: Path = tmp_path_factory.mktemp(backend) / "server"
    try:
        with run_server(data_dir, env={"DCSIM_NODE_BACKEND": backend}) as server:
            yield server, backend
    finally:
        if backend == "docker":
            # The nodes outlive the server: remove this instance's containers the way a user would.
            subprocess.run(
                [sys.executable, "-m", "dcsim.cli", "--data-dir", str(data_dir), "nodes", "remove", "--yes"],
                check=True,
                env={**os.environ, "DCSIM_NODE_BACKEND": "docker"},
            )


def test_service_profile_lifecycle_drives_the_blade_node(estate):
    server, backend = estate
    ucs = handle(server)
    try:
        asyncio.run(_lifecycle(ucs, server, backend))
    finally:
        ucs.logout()


async def _lifecycle(ucs: UcsHandle, server: ServerProcess, backend: str) -> None:
    async with nodes_of(server, backend) as nodes:
        # A sub-org, then a service profile in it from the RHEL 9 template.
        ucs.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="Finance", descr="finance workloads"))
        ucs.commit()
        org = ucs.query_dn("org-root/org-Finance")
        assert (org.name, org.descr, org.level) == ("Finance", "finance workloads", "1")
        ucs.add_mo(LsServer(parent_mo_or_dn="org-root/org-Finance", name="SP-fin-01", src_templ_name="SP-Template-RHEL9",
                            type="instance", usr_lbl="ledger"))  # fmt: skip
        ucs.commit()
        profile = ucs.query_dn("org-root/org-Finance/ls-SP-fin-01")
        assert (profile.type, profile.src_templ_name, profile.usr_lbl) == ("instance", "SP-Template-RHEL9", "ledger")
        assert (profile.assoc_state, profile.oper_state) == ("unassociated", "unassociated")
        sim_profile = _sim_object(server, "service_profile", "SP-fin-01")
        assert sim_profile["org"] == "org-root/org-Finance" and len(sim_profile["macs"]) == 2

        # Free blade 3 by disassociating SP-db-01, then bind the new profile to it.
        ucs.remove_mo(ucs.query_dn("org-root/ls-SP-db-01/pn"))
        ucs.commit()
        blade = ucs.query_dn("sys/chassis-1/blade-3")
        assert (blade.association, blade.oper_state, blade.oper_power) == ("none", "unassociated", "off")
        assert await nodes.power_state(NODE) is PowerState.OFF
        ucs.add_mo(LsBinding(parent_mo_or_dn="org-root/org-Finance/ls-SP-fin-01", pn_dn="sys/chassis-1/blade-3"))
        ucs.commit()
        blade = ucs.query_dn("sys/chassis-1/blade-3")
        assert (blade.association, blade.assigned_to_dn) == ("associated", "org-root/org-Finance/ls-SP-fin-01")
        labels = await nodes.labels(NODE)
        assert labels["sim.ucs.sp"] == "SP-fin-01"
        assert labels["sim.ucs.org"] == "org-root/org-Finance"
        assert labels["sim.ucs.macs"] == ",".join(sim_profile["macs"])

        # Power: down, then up; the node follows each time.
        power = LsPower(parent_mo_or_dn="org-root/org-Finance/ls-SP-fin-01", state="admin-down")
        ucs.add_mo(power, modify_present=True)
        ucs.commit()
        assert await nodes.power_state(NODE) is PowerState.OFF
        assert ucs.query_dn("org-root/org-Finance/ls-SP-fin-01/power").state == "down"
        assert ucs.query_dn("sys/chassis-1/blade-3").oper_power == "off"
        ucs.set_mo(LsPower(parent_mo_or_dn="org-root/org-Finance/ls-SP-fin-01", state="up"))
        ucs.commit()
        assert await nodes.power_state(NODE) is PowerState.ON
        assert ucs.query_dn("sys/chassis-1/blade-3").oper_power == "on"
        assert ucs.query_dn("org-root/org-Finance/ls-SP-fin-01").oper_state == "ok"
        ucs.set_mo(LsPower(parent_mo_or_dn="org-root/org-Finance/ls-SP-fin-01", state="down"))
        ucs.commit()
        assert await nodes.power_state(NODE) is PowerState.OFF

        # Disassociate and delete; the blade is back in the pool, the node unlabelled.
        ucs.remove_mo(ucs.query_dn("org-root/org-Finance/ls-SP-fin-01/pn"))
        ucs.commit()
        assert ucs.query_dn("sys/chassis-1/blade-3").association == "none"
        assert (await nodes.labels(NODE))["sim.ucs.sp"] == ""
        ucs.remove_mo(ucs.query_dn("org-root/org-Finance/ls-SP-fin-01"))
        ucs.commit()
        assert ucs.query_dn("org-root/org-Finance/ls-SP-fin-01") is None
        assert _sim_object(server, "service_profile", "SP-fin-01") is None

        # Put the seed back: SP-db-01 on blade 3, powered on.
        ucs.add_mo(LsBinding(parent_mo_or_dn="org-root/ls-SP-db-01", pn_dn="sys/chassis-1/blade-3"))
        ucs.commit()
        assert await nodes.power_state(NODE) is PowerState.ON
        assert (await nodes.labels(NODE))["sim.ucs.sp"] == "SP-db-01"
        ucs.remove_mo(ucs.query_dn("org-root/org-Finance"))
        ucs.commit()
        assert ucs.query_dn("org-root/org-Finance") is None


def _sim_object(server: ServerProcess, kind: str, name: str) -> dict | None:
    objects = rest(server, "GET", "/sim/state")["objects"].get(kind, [])
    return next((o for o in objects if o["name"] == name), None)


# The rest runs on the virtual backend only: it is about UCS Manager, not the nodes.


def test_a_commit_with_one_invalid_object_changes_nothing(ucs_server, ucs):
    ucs.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="Good"))
    ucs.add_mo(LsServer(parent_mo_or_dn="org-root", name="SP-ok-01", src_templ_name="SP-Template-RHEL9"))
    ucs.add_mo(LsServer(parent_mo_or_dn="org-root", name="SP-bad-01", src_templ_name="No-Such-Template"))
    with pytest.raises(UcsException) as failure:
        ucs.commit()
    assert "No-Such-Template" in failure.value.error_descr
    assert ucs.query_dn("org-root/org-Good") is None
    assert ucs.query_dn("org-root/ls-SP-ok-01") is None
    assert _sim_object(ucs_server, "service_profile", "SP-ok-01") is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: LsBinding(parent_mo_or_dn="org-root/ls-SP-web-01", pn_dn="sys/chassis-1/blade-2"), "already"),
        # ucsmsdk checks values itself; a generic object gets a bad one through.
        (lambda: GenericMo("lsPower", "org-root/ls-SP-web-01", rn="power", state="sideways"), "unknown state"),
        (lambda: OrgOrg(parent_mo_or_dn="org-root/org-Missing", name="Child"), "does not exist"),
        (lambda: GenericMo("fabricVlan", "fabric/lan", rn="net-bad", name="bad", id="5000"), "VLAN number"),
        (lambda: LsServer(parent_mo_or_dn="org-root", name="SP-tmpl-02", type="updating-template"), "templates"),
        (lambda: GenericMo("lsServer", "org-root", rn="ls-SP-x", name="SP-x", colour="blue"), "colour"),
        (lambda: GenericMo("computeBlade", "sys/chassis-1", rn="blade-7", slotId="7"), "not created by clients"),
    ],
)
def test_refused_changes_say_why_in_ucs_terms(ucs, make, message):
    ucs.add_mo(make(), modify_present=True)
    with pytest.raises(UcsException) as failure:
        ucs.commit()
    assert message in failure.value.error_descr
    assert failure.value.error_code


def test_created_on_an_existing_object_is_error_103(ucs):
    ucs.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="Twice"))
    ucs.commit()
    ucs.add_mo(OrgOrg(parent_mo_or_dn="org-root", name="Twice"))
    with pytest.raises(UcsException) as failure:
        ucs.commit()
    assert failure.value.error_code == "103"
    ucs.remove_mo(ucs.query_dn("org-root/org-Twice"))
    ucs.commit()


def test_modify_present_merges_properties(ucs):
    ucs.add_mo(FabricVlan(parent_mo_or_dn="fabric/lan", name="vlan-200", id="200", sharing="none"))
    ucs.commit()
    ucs.add_mo(FabricVlan(parent_mo_or_dn="fabric/lan", name="vlan-200", id="200", default_net="no"),
               modify_present=True)  # fmt: skip
    ucs.commit()
    vlan = ucs.query_dn("fabric/lan/net-vlan-200")
    assert (vlan.id, vlan.sharing, vlan.default_net) == ("200", "none", "no")
    ucs.remove_mo(vlan)
    ucs.commit()
    assert ucs.query_dn("fabric/lan/net-vlan-200") is None


def test_host_firmware_policy_that_differs_raises_a_mismatch_fault(ucs_server, ucs):
    ucs.add_mo(FirmwareComputeHostPack(parent_mo_or_dn="org-root", name="fw-next", blade_bundle_version="4.3(2b)"))
    profile = ucs.query_dn("org-root/ls-SP-web-01")
    profile.host_fw_policy_name = "fw-next"
    ucs.set_mo(profile)
    ucs.commit()
    faults = [f for f in ucs.query_classid("faultInst") if f.dn.startswith("sys/chassis-1/blade-1/")]
    assert [f.code for f in faults] == ["F0560"] and "4.3(2b)" in faults[0].descr
    assert ucs.query_dn("sys/chassis-1/blade-1").oper_state == "degraded"
    assert [f["kind"] for f in rest(ucs_server, "GET", "/sim/inject")["items"]] == ["firmware-mismatch"]
    # Pointing the policy at the running version clears it.
    pack = ucs.query_dn("org-root/fw-host-pack-fw-next")
    pack.blade_bundle_version = "4.2(3d)"
    ucs.set_mo(pack)
    ucs.commit()
    assert not [f for f in ucs.query_classid("faultInst") if f.dn.startswith("sys/chassis-1/blade-1/")]
    assert ucs.query_dn("sys/chassis-1/blade-1").oper_state == "ok"
    profile = ucs.query_dn("org-root/ls-SP-web-01")
    profile.host_fw_policy_name = ""
    ucs.set_mo(profile)
    ucs.remove_mo(ucs.query_dn("org-root/fw-host-pack-fw-next"))
    ucs.commit()


def test_instantiate_n_profiles_from_a_template(ucs):
    created = ucs.process_xml_elem(
        ls_instantiate_n_template(ucs.cookie, "org-root/ls-SP-Template-Ubuntu", "2", "SP-batch-", "org-root")
    )
    assert sorted(mo.dn for mo in created) == ["org-root/ls-SP-batch-1", "org-root/ls-SP-batch-2"]
    assert {mo.src_templ_name for mo in created} == {"SP-Template-Ubuntu"}
    for mo in created:
        ucs.remove_mo(mo)
    ucs.commit()
    assert ucs.query_dn("org-root/ls-SP-batch-1") is None


def test_changes_reach_the_cmdb_through_bus_events(ucs_server, ucs):
    ucs.add_mo(LsServer(parent_mo_or_dn="org-root", name="SP-cmdb-01", src_templ_name="SP-Template-RHEL9"))
    ucs.commit()

    def names() -> list[str]:
        return [ci["name"] for ci in rest(ucs_server, "GET", "/cmdb/cis?type=service_profile&limit=100")["items"]]

    # The CMDB follows the bus, so the CI appears shortly after the commit, not inside it.
    eventually(lambda: "SP-cmdb-01" in names())
    ucs.remove_mo(ucs.query_dn("org-root/ls-SP-cmdb-01"))
    ucs.commit()
    eventually(lambda: "SP-cmdb-01" not in names())


def test_config_conf_mo_and_instantiate_template_through_raw_methods(ucs):
    from ucsmsdk.ucsbasetype import ConfigConfig
    from ucsmsdk.ucsmethodfactory import config_conf_mo, ls_instantiate_template

    config = ConfigConfig()
    config.child_add(OrgOrg(parent_mo_or_dn="org-root", name="Raw", descr="one object"))
    created = ucs.process_xml_elem(config_conf_mo(ucs.cookie, "org-root/org-Raw", config))
    assert [(mo.dn, mo.descr) for mo in created] == [("org-root/org-Raw", "one object")]

    made = ucs.process_xml_elem(
        ls_instantiate_template(ucs.cookie, "org-root/ls-SP-Template-RHEL9", "true", "SP-raw-01", "org-root/org-Raw")
    )
    assert [(mo.dn, mo.src_templ_name, mo.type) for mo in made] == [
        ("org-root/org-Raw/ls-SP-raw-01", "SP-Template-RHEL9", "instance")
    ]  # fmt: skip
    with pytest.raises(UcsException) as again:
        ucs.process_xml_elem(
            ls_instantiate_template(
                ucs.cookie, "org-root/ls-SP-Template-RHEL9", "true", "SP-raw-01", "org-root/org-Raw"
            )
        )
    assert again.value.error_code == "103"
    # inErrorOnExisting="false": the existing profile is the answer.
    same = ucs.process_xml_elem(
        ls_instantiate_template(ucs.cookie, "org-root/ls-SP-Template-RHEL9", "false", "SP-raw-01", "org-root/org-Raw")
    )
    assert [mo.dn for mo in same] == ["org-root/org-Raw/ls-SP-raw-01"]
    with pytest.raises(UcsException, match="not a service profile template"):
        ucs.process_xml_elem(ls_instantiate_template(ucs.cookie, "org-root/ls-SP-web-01", "true", "x1", "org-root"))
    ucs.remove_mo(ucs.query_dn("org-root/org-Raw"))
    ucs.commit()
    assert ucs.query_dn("org-root/org-Raw/ls-SP-raw-01") is None
