"""UCS service-profile lifecycle: create, associate, power, firmware policy, disassociate, delete."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import NEW_FIRMWARE, SPARE_NODE

from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.sim.model import HealthStatus, PowerState
from dcsim_ucs.manager import UcsManager
from dcsim_ucs.model import FIRMWARE, MAC_PREFIX, ServiceProfile, ServiceProfileTemplate, UcsDomain, profile_of
from dcsim_ucs.profiles import ServiceProfiles


def ops(dc) -> ServiceProfiles:
    """The service-profile operations of a started instance."""
    return dc.services.get(UcsManager).profiles


def profile_id(dc, blade) -> str | None:
    """The id of the profile associated with ``blade``, if any."""
    profile = profile_of(dc.sim.world, blade)
    return profile.id if profile else None


def sim_events(recorder, *prefixes: str) -> list[Any]:
    prefixes = prefixes or ("service_profile.", "blade.", "fault.", "host.")
    return [e for e in recorder.events if e.type.startswith(prefixes)]


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not within the timeout")
        await asyncio.sleep(0.02)


async def refused(dc, error: type[Exception], action: Awaitable[Any], *words: str) -> None:
    """``action`` raises ``error`` naming ``words``, and changes neither the world, nor faults, nor nodes."""
    before = (dc.sim.world.dump(), len(dc.sim.faults), await node_labels(dc))
    with pytest.raises(error) as caught:
        await action
    for word in words:
        assert word in caught.value.detail
    assert (dc.sim.world.dump(), len(dc.sim.faults), await node_labels(dc)) == before


def by_id(dump: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """A world dump keyed by kind and id: loading does not keep the insertion order."""
    return {kind: {obj["id"]: obj for obj in objects} for kind, objects in dump.items()}


async def node_labels(dc) -> dict[str, dict[str, str]]:
    nodes = dc.sim.nodes
    return {name: await nodes.labels(name) for name in await nodes.list_nodes() if "ucs" in name}


async def test_create_from_a_template(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        sim = dc.sim
        profile = await ops(dc).create_service_profile(
            "SP-new-01", template="SP-Template-Ubuntu", org="org-root/org-web", power="down", description="spare"
        )
        assert ops(dc).service_profile("SP-new-01") is profile and ops(dc).service_profile(profile.id) is profile
        assert profile.domain_id == sim.world.get(UcsDomain, "ucs-domain-01").id
        assert (profile.org, profile.power, profile.firmware_policy, profile.description, profile.blade_id) == (
            "org-root/org-web", "down", FIRMWARE, "spare", None
        )  # fmt: skip
        assert profile.template_id == sim.world.get(ServiceProfileTemplate, "SP-Template-Ubuntu").id
        all_macs = [mac for sp in sim.world.all(ServiceProfile) for mac in sp.macs]
        assert len(profile.macs) == 2 and len(set(all_macs)) == len(all_macs)
        assert all(mac.startswith(MAC_PREFIX) for mac in profile.macs)

        await recorder.wait_for(lambda events: "service_profile.created" in [e.type for e in events])
        event = next(e for e in recorder.events if e.type == "service_profile.created")
        assert event.subject == f"service_profile/{profile.id}"
        assert event.data["service_profile"]["name"] == "SP-new-01"
        assert event.data["service_profile"]["macs"] == profile.macs


async def test_create_without_a_template(make_dcsim):
    async with make_dcsim() as dc:
        profile = await ops(dc).create_service_profile("SP-bare-01")
        assert (profile.template_id, profile.firmware_policy, profile.power) == (None, FIRMWARE, "up")
        pinned = await ops(dc).create_service_profile("SP-bare-02", firmware_policy="4.1(3b)", domain="ucs-domain-01")
        assert pinned.firmware_policy == "4.1(3b)"
        assert not set(profile.macs) & set(pinned.macs)


async def test_create_in_one_of_two_domains(make_dcsim, second_domain):
    async with make_dcsim(second_domain) as dc:
        await refused(dc, InvalidInput, ops(dc).create_service_profile("SP-x-01"), "ucs-domain-01", "ucs-domain-02")
        profile = await ops(dc).create_service_profile("SP-x-01", domain="ucs-domain-02")
        assert (profile.domain_id, profile.firmware_policy) == (dc.sim.world.get(UcsDomain, "ucs-domain-02").id,
                                                                NEW_FIRMWARE)  # fmt: skip
        await refused(
            dc,
            InvalidInput,
            ops(dc).create_service_profile("SP-x-02", template="SP-Template-RHEL9", domain="ucs-domain-02"),
            "ucs-domain-01",
        )


async def test_create_refusals_change_nothing(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        create = ops(dc).create_service_profile
        await refused(dc, Conflict, create("SP-web-01"), "SP-web-01")
        await refused(dc, Conflict, create("SP-Template-RHEL9"), "SP-Template-RHEL9")
        await refused(dc, InvalidInput, create("bad name!"))
        await refused(dc, InvalidInput, create("SP-new-01", power="sideways"), "sideways")
        await refused(dc, NotFound, create("SP-new-01", template="SP-Template-Nope"))
        await refused(dc, NotFound, create("SP-new-01", domain="ucs-domain-99"))
        await asyncio.sleep(0.2)
        assert sim_events(recorder, "service_profile.") == []


async def test_associate_drives_the_blade_and_its_node(make_dcsim, recorder, spare_blade):
    async with make_dcsim(spare_blade, recorder) as dc:
        sim = dc.sim
        profile = await ops(dc).create_service_profile("SP-new-01", template="SP-Template-Ubuntu")
        assert (await sim.nodes.labels(SPARE_NODE))["sim.ucs.sp"] == ""
        await ops(dc).associate_service_profile("SP-new-01", "c01s05")
        blade = sim.blade("c01s05")
        assert (profile.blade_id, profile_id(dc, blade), blade.power_state) == (blade.id, profile.id, PowerState.ON)
        labels = await sim.nodes.labels(SPARE_NODE)
        assert {k: v for k, v in labels.items() if k.startswith("sim.ucs.")} == {
            "sim.ucs.chassis": "chassis-01",
            "sim.ucs.slot": "5",
            "sim.ucs.sp": "SP-new-01",
            "sim.ucs.org": "org-root",
            "sim.ucs.template": "SP-Template-Ubuntu",
            "sim.ucs.macs": ",".join(profile.macs),
        }
        assert labels == sim.node_spec(blade).labels
        assert await sim.nodes.power_state(SPARE_NODE) is PowerState.ON
        assert not sim.active_faults()  # the policy is what the blade runs

        await recorder.wait_for(lambda events: "blade.power_changed" in [e.type for e in events])
        events = sim_events(recorder)
        assert [e.type for e in events] == ["service_profile.created", "service_profile.associated",
                                            "blade.power_changed"]  # fmt: skip
        assert events[1].data == {"id": profile.id, "name": "SP-new-01", "blade": "c01s05", "blade_id": blade.id}
        assert events[2].data == {"id": blade.id, "name": "c01s05", "from": "off", "to": "on",
                                  "reason": "associate", "service_profile": "SP-new-01"}  # fmt: skip
        assert events[2].subject == f"blade/{blade.id}"


async def test_associate_a_profile_that_is_down_keeps_the_blade_off(make_dcsim, recorder, spare_blade):
    async with make_dcsim(spare_blade, recorder) as dc:
        await ops(dc).create_service_profile("SP-new-01", power="down")
        await ops(dc).associate_service_profile("SP-new-01", "c01s05")
        assert dc.sim.blade("c01s05").power_state is PowerState.OFF
        assert await dc.sim.nodes.power_state(SPARE_NODE) is PowerState.OFF
        await recorder.wait_for(lambda events: "service_profile.associated" in [e.type for e in events])
        await asyncio.sleep(0.2)
        assert sim_events(recorder, "blade.") == []


async def test_associate_refusals_change_nothing(make_dcsim, spare_blade, second_domain):
    async with make_dcsim(spare_blade, second_domain) as dc:
        sim = dc.sim
        await ops(dc).create_service_profile("SP-new-01", template="SP-Template-RHEL9")
        associate = ops(dc).associate_service_profile
        await refused(dc, Conflict, associate("SP-web-01", "c01s05"), "SP-web-01", "c01s01")
        await refused(dc, Conflict, associate("SP-new-01", "c01s01"), "c01s01", "SP-web-01")
        await refused(dc, Conflict, associate("SP-new-01", "c02s01"), "ucs-domain-02")
        await refused(dc, NotFound, associate("SP-new-01", "c09s09"))
        await refused(dc, NotFound, associate("SP-nope", "c01s05"))
        fault = await sim.inject("host-failure", {"blade": "c01s05"})
        await refused(dc, Conflict, associate("SP-new-01", "c01s05"), "failed")
        await sim.clear_fault(fault.id)
        await associate("SP-new-01", "c01s05")


async def test_disassociate_powers_the_blade_off(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        sim = dc.sim
        profile = ops(dc).service_profile("SP-web-01")
        blade = sim.blade("c01s01")
        await ops(dc).disassociate_service_profile("SP-web-01")
        assert (profile.blade_id, profile_id(dc, blade), blade.power_state) == (None, None, PowerState.OFF)
        labels = await sim.nodes.labels("sim-ucs-blade-c01s01")
        assert [labels[k] for k in ("sim.ucs.sp", "sim.ucs.org", "sim.ucs.template", "sim.ucs.macs")] == [""] * 4
        assert labels["sim.ucs.chassis"] == "chassis-01"
        assert await sim.nodes.power_state("sim-ucs-blade-c01s01") is PowerState.OFF

        await recorder.wait_for(lambda events: "blade.power_changed" in [e.type for e in events])
        events = sim_events(recorder)
        assert [(e.type, e.data.get("reason")) for e in events] == [
            ("service_profile.disassociated", None),
            ("blade.power_changed", "disassociate"),
        ]
        assert events[0].data == {"id": profile.id, "name": "SP-web-01", "blade": "c01s01", "blade_id": blade.id}
        await refused(dc, Conflict, ops(dc).disassociate_service_profile("SP-web-01"), "not associated")

        await ops(dc).associate_service_profile("SP-web-01", "c01s01")
        assert blade.power_state is PowerState.ON
        assert (await sim.nodes.labels("sim-ucs-blade-c01s01"))["sim.ucs.template"] == "SP-Template-RHEL9"


async def test_service_profile_power(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        sim = dc.sim
        profile = await ops(dc).set_service_profile_power("SP-app-01", "down")
        blade = sim.blade("c01s02")
        assert (profile.power, blade.power_state) == ("down", PowerState.OFF)
        assert await sim.nodes.power_state("sim-ucs-blade-c01s02") is PowerState.OFF
        assert (await sim.nodes.labels("sim-ucs-blade-c01s02"))["sim.power_state"] == "off"
        await ops(dc).set_service_profile_power("SP-app-01", "down")  # no change, no events
        await ops(dc).set_service_profile_power("SP-app-01", "up")
        assert blade.power_state is PowerState.ON
        assert await sim.nodes.power_state("sim-ucs-blade-c01s02") is PowerState.ON

        await recorder.wait_for(lambda events: len([e for e in events if e.type == "blade.power_changed"]) == 2)
        await asyncio.sleep(0.2)
        events = sim_events(recorder)
        assert [(e.type, e.data.get("changes"), e.data.get("to")) for e in events] == [
            ("service_profile.updated", {"power": ["up", "down"]}, None),
            ("blade.power_changed", None, "off"),
            ("service_profile.updated", {"power": ["down", "up"]}, None),
            ("blade.power_changed", None, "on"),
        ]
        assert events[1].data["reason"] == "api" and events[1].data["service_profile"] == "SP-app-01"

        await refused(dc, InvalidInput, ops(dc).set_service_profile_power("SP-app-01", "on"), "on")
        await refused(dc, NotFound, ops(dc).set_service_profile_power("SP-nope", "up"))
        fault = await sim.inject("host-failure", {"blade": "c01s02"})
        await refused(dc, Conflict, ops(dc).set_service_profile_power("SP-app-01", "up"), "c01s02", "failed")
        await ops(dc).set_service_profile_power("SP-app-01", "down")  # allowed: it is off already
        await sim.clear_fault(fault.id)


async def test_power_of_an_unassociated_profile_is_only_desired(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        await ops(dc).create_service_profile("SP-new-01")
        profile = await ops(dc).set_service_profile_power("SP-new-01", "down")
        assert profile.power == "down"
        await recorder.wait_for(lambda events: "service_profile.updated" in [e.type for e in events])
        await asyncio.sleep(0.2)
        assert sim_events(recorder, "blade.") == []


async def test_firmware_policy_mismatch_is_raised_and_cleared(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        sim = dc.sim
        blade = sim.blade("c01s01")
        await ops(dc).set_service_profile_firmware_policy("SP-web-01", NEW_FIRMWARE)
        assert ops(dc).service_profile("SP-web-01").firmware_policy == NEW_FIRMWARE
        [fault] = sim.active_faults()
        assert fault.kind == "firmware-mismatch"
        assert fault.params == {"blade": "c01s01", "version": NEW_FIRMWARE, "source": "policy"}
        assert (blade.firmware, blade.status) == (FIRMWARE, HealthStatus.DEGRADED)  # it keeps its firmware

        # Another version that still differs: the fault stays as it is.
        await ops(dc).set_service_profile_firmware_policy("SP-web-01", "4.3(4a)")
        assert sim.active_faults() == [fault]

        await ops(dc).set_service_profile_firmware_policy("SP-web-01", FIRMWARE)
        assert not sim.active_faults() and fault.cleared_by == "policy"
        assert (blade.firmware, blade.status) == (FIRMWARE, HealthStatus.OK)

        await recorder.wait_for(lambda events: "fault.cleared" in [e.type for e in events])
        events = sim_events(recorder)
        assert [e.type for e in events] == [
            "service_profile.updated", "fault.injected", "host.degraded",
            "service_profile.updated",
            "service_profile.updated", "host.recovered", "fault.cleared",
        ]  # fmt: skip
        assert events[0].data["changes"] == {"firmware_policy": [FIRMWARE, NEW_FIRMWARE]}
        assert events[2].data["name"] == "c01s01" and events[2].data["fault_id"] == fault.id


async def test_firmware_policy_on_association_and_disassociation(make_dcsim, recorder, spare_blade):
    async with make_dcsim(spare_blade, recorder) as dc:
        sim = dc.sim
        await ops(dc).create_service_profile("SP-new-01", firmware_policy=NEW_FIRMWARE)
        assert not sim.active_faults()  # unassociated: nothing to compare
        await ops(dc).associate_service_profile("SP-new-01", "c01s05")
        [fault] = sim.active_faults()
        assert fault.params["source"] == "policy" and sim.blade("c01s05").status is HealthStatus.DEGRADED
        await ops(dc).disassociate_service_profile("SP-new-01")
        assert not sim.active_faults() and sim.blade("c01s05").status is HealthStatus.OK
        await recorder.wait_for(lambda events: "fault.cleared" in [e.type for e in events])
        assert [e.type for e in sim_events(recorder)] == [
            "service_profile.created",
            "service_profile.associated", "blade.power_changed", "fault.injected", "host.degraded",
            "service_profile.disassociated", "blade.power_changed", "host.recovered", "fault.cleared",
        ]  # fmt: skip


async def test_a_policy_mismatch_cleared_by_hand_keeps_the_firmware(make_dcsim):
    async with make_dcsim() as dc:
        await ops(dc).set_service_profile_firmware_policy("SP-db-01", NEW_FIRMWARE)
        [fault] = dc.sim.active_faults()
        await dc.sim.clear_fault(fault.id)
        blade = dc.sim.blade("c01s03")
        assert (blade.firmware, blade.status) == (FIRMWARE, HealthStatus.OK)


async def test_no_policy_fault_on_top_of_a_firmware_fault(make_dcsim):
    async with make_dcsim() as dc:
        injected = await dc.sim.inject("firmware-mismatch", {"blade": "c01s01"})
        await ops(dc).set_service_profile_firmware_policy("SP-web-01", NEW_FIRMWARE)
        assert dc.sim.active_faults() == [injected]
        # Meeting the policy again clears only policy faults.
        await ops(dc).set_service_profile_firmware_policy("SP-web-01", dc.sim.blade("c01s01").firmware)
        assert dc.sim.active_faults() == [injected]


async def test_delete_disassociates_first(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        sim = dc.sim
        await ops(dc).set_service_profile_firmware_policy("SP-db-01", NEW_FIRMWARE)
        profile = await ops(dc).delete_service_profile("SP-db-01")
        blade = sim.blade("c01s03")
        assert (profile_id(dc, blade), blade.power_state, blade.status) == (None, PowerState.OFF, HealthStatus.OK)
        assert not sim.active_faults()
        with pytest.raises(NotFound):
            ops(dc).service_profile("SP-db-01")
        assert (await sim.nodes.labels("sim-ucs-blade-c01s03"))["sim.ucs.sp"] == ""
        await recorder.wait_for(lambda events: "service_profile.deleted" in [e.type for e in events])
        events = [e for e in sim_events(recorder) if e.type != "service_profile.updated"]
        assert [e.type for e in events][-5:] == [
            "service_profile.disassociated", "blade.power_changed", "host.recovered", "fault.cleared",
            "service_profile.deleted",
        ]  # fmt: skip
        assert events[-1].data["service_profile"]["name"] == "SP-db-01"
        assert events[-1].subject == f"service_profile/{profile.id}"
        await refused(dc, NotFound, ops(dc).delete_service_profile("SP-db-01"))

        await ops(dc).create_service_profile("SP-db-02", template="SP-Template-RHEL9")
        await ops(dc).associate_service_profile("SP-db-02", "c01s03")


async def test_external_blade_power_change_is_published(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        await dc.sim.node_power_observed("sim-ucs-blade-c01s01", PowerState.OFF)
        await recorder.wait_for(lambda events: "host.degraded" in [e.type for e in events])
        events = sim_events(recorder, "blade.", "host.")
        assert [e.type for e in events] == ["blade.power_changed", "host.degraded"]
        assert events[0].data == {"id": dc.sim.blade("c01s01").id, "name": "c01s01", "from": "on", "to": "off",
                                  "reason": "external", "service_profile": "SP-web-01"}  # fmt: skip
        assert ops(dc).service_profile("SP-web-01").power == "up"  # the desired power stays


async def test_restart_keeps_profiles_faults_and_labels(make_dcsim, spare_blade):
    dc = make_dcsim(spare_blade)
    async with dc:
        await ops(dc).create_service_profile("SP-new-01", template="SP-Template-Ubuntu", description="kept")
        await ops(dc).associate_service_profile("SP-new-01", "c01s05")
        await ops(dc).set_service_profile_firmware_policy("SP-new-01", NEW_FIRMWARE)
        await ops(dc).set_service_profile_power("SP-web-01", "down")
        before = by_id(dc.sim.world.dump())
        labels = await dc.sim.nodes.labels(SPARE_NODE)
    async with make_dcsim(spare_blade) as again:
        assert by_id(again.sim.world.dump()) == before
        profile = ops(again).service_profile("SP-new-01")
        assert (profile.description, profile.blade_id) == ("kept", again.sim.blade("c01s05").id)
        assert [f.params["source"] for f in again.sim.active_faults()] == ["policy"]
        assert await again.sim.nodes.labels(SPARE_NODE) == labels
        assert labels["sim.ucs.sp"] == "SP-new-01"
        assert await again.sim.nodes.power_state("sim-ucs-blade-c01s01") is PowerState.OFF


async def test_cmdb_follows_service_profiles(make_dcsim, spare_blade):
    async with make_dcsim(spare_blade) as dc:
        cmdb = dc.services["cmdb"].backend
        profile = await ops(dc).create_service_profile("SP-new-01", template="SP-Template-Ubuntu")
        ci = await eventually(lambda: cmdb.find_by_source(profile.id))
        assert (ci.type, ci.name, ci.attributes["blade"], ci.status.value) == ("service_profile", "SP-new-01", None,
                                                                               "active")  # fmt: skip

        await ops(dc).associate_service_profile("SP-new-01", "c01s05")
        blade_id = dc.sim.blade("c01s05").id

        async def associated() -> bool:
            profile_ci = await cmdb.find_by_source(profile.id)
            blade_ci = await cmdb.find_by_source(blade_id)
            return (
                profile_ci.attributes["blade"] == "c01s05"
                and blade_ci.attributes["service_profile"] == "SP-new-01"
                and blade_ci.attributes["power_state"] == "on"
            )

        await eventually(associated)

        # Without a power change, the blade's CI still follows its profile.
        await ops(dc).set_service_profile_power("SP-web-01", "down")
        await ops(dc).disassociate_service_profile("SP-web-01")
        web_blade = dc.sim.blade("c01s01").id

        async def freed() -> bool:
            return (await cmdb.find_by_source(web_blade)).attributes["service_profile"] is None

        await eventually(freed)

        await ops(dc).delete_service_profile("SP-new-01")

        async def decommissioned() -> bool:
            profile_ci = await cmdb.find_by_source(profile.id)
            blade_ci = await cmdb.find_by_source(blade_id)
            return profile_ci.status.value == "decommissioned" and blade_ci.attributes["service_profile"] is None

        await eventually(decommissioned)
