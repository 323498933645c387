"""Failure injection: propagation from blade to host to VMs, HA, records, self-healing."""

from __future__ import annotations

import pytest

from dcsim.sim.model import Blade, Host, Vm

from .conftest import BladeHost


async def test_blade_failure_propagates_with_ha(make_dcsim, recorder):
    async with make_dcsim(BladeHost(), recorder) as dc:
        sim = dc.sim
        fault = await sim.inject("host-failure", {"host": "esxi-03"})
        host, blade = sim.world.get(Host, "esxi-03"), sim.world.get(Blade, "c01s04")
        assert (host.status.value, blade.status.value, blade.power_state.value) == ("failed", "failed", "off")
        vm = sim.world.get(Vm, "vm-blade-01")
        assert vm.power_state.value == "on" and sim.world.get(Host, vm.host_id).name in {"esxi-01", "esxi-02"}
        assert {t.name for t in fault.targets} == {"esxi-03", "c01s04"}
        assert [f.id for f in sim.active_faults()] == [fault.id]
        await recorder.wait_for(lambda events: len([e for e in events if e.type.startswith(("vm.", "host."))]) >= 5)

        # Only the simulation's own events: the CMDB and ITSM react to these too.
        sim_events = [e for e in recorder.events if e.type.startswith(("fault.", "host.", "vm."))]
        order = [(e.type, e.data.get("name"), e.data.get("reason")) for e in sim_events]
        assert order == [
            ("fault.injected", None, None),
            ("host.degraded", "c01s04", "power loss"),
            ("host.degraded", "esxi-03", "blade power loss"),
            ("vm.power_changed", "vm-blade-01", "host_failure"),
            ("vm.migrated", "vm-blade-01", "ha"),
            ("vm.power_changed", "vm-blade-01", "ha_restart"),
        ]

        # No VM can be placed on or moved to the failed host meanwhile.
        from dcsim.errors import Conflict

        try:
            await sim.migrate("vm-001", "esxi-03")
        except Conflict as exc:
            assert "esxi-03" in exc.detail
        else:
            raise AssertionError("migrating onto a failed host must be refused")

        cleared = await sim.clear_fault(fault.id)
        assert cleared.cleared_at is not None and not sim.active_faults()
        assert sim.world.get(Host, "esxi-03").status.value == "ok"
        assert sim.world.get(Blade, "c01s04").power_state.value == "on"
        await recorder.wait_for(lambda events: "fault.cleared" in [e.type for e in events])
        assert recorder.types("host.recovered") == ["host.recovered", "host.recovered"]
        assert [f.id for f in dc.sim.faults.values()] == [fault.id]  # the record stays


async def test_without_ha_vms_stay_down(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        sim = dc.sim
        await sim.inject("host-failure", {"host": "compute-01"})  # zone "nova" has HA off
        down = {vm.name: vm.power_state.value for vm in sim.list_vms(platform="openstack")}
        assert down == {"instance-001": "off", "instance-002": "on", "instance-003": "off"}
        await recorder.wait_for(lambda events: len([e for e in events if e.type == "vm.power_changed"]) == 2)
        assert "vm.migrated" not in recorder.types()


async def test_partition_heals_after_its_duration(make_dcsim, recorder):
    async with make_dcsim(recorder) as dc:
        fault = await dc.sim.inject("network-partition", {"network": "private-net", "duration_seconds": 0.4})
        assert fault.expires_at is not None
        from dcsim.sim.model import Network

        assert dc.sim.world.get(Network, "private-net").partitioned
        await recorder.wait_for(lambda events: "fault.cleared" in [e.type for e in events], timeout=5)
        assert dc.sim.faults[fault.id].cleared_by == "expired"
        changes = [e.data["change"] for e in recorder.events if e.type == "network.changed"]
        assert changes == ["partitioned", "healed"]


def test_inject_api_records_and_clears(dcsim_client):
    client = dcsim_client
    assert client.get("/sim/inject").json()["items"] == []
    disk = client.post("/sim/inject/disk-full", json={"vm": "vm-001"}).json()
    cut = client.post("/sim/inject/network-partition", json={"network": "private-net"}).json()
    down = client.post("/sim/inject/host-failure", json={"host": "compute-02"}).json()
    active = {f["id"]: f for f in client.get("/sim/inject").json()["items"]}
    assert set(active) == {disk["id"], cut["id"], down["id"]}
    assert {t["name"] for t in active[disk["id"]]["targets"]} == {"vm-001", "ds-01"}
    assert active[cut["id"]]["kind"] == "network-partition" and active[cut["id"]]["injected_at"]
    state = client.get("/sim/state").json()["objects"]
    assert next(n for n in state["network"] if n["name"] == "private-net")["partitioned"] is True
    datastore = next(d for d in state["datastore"] if d["name"] == "ds-01")
    assert datastore["used_gb"] == datastore["capacity_gb"]

    assert client.delete(f"/sim/inject/{cut['id']}").status_code == 200
    assert client.delete(f"/sim/inject/{cut['id']}").status_code == 409
    network = next(n for n in client.get("/sim/state").json()["objects"]["network"] if n["name"] == "private-net")
    assert network["partitioned"] is False
    assert len(client.get("/sim/inject").json()["items"]) == 2
    assert client.get("/sim/inject?all=true").json()["total"] == 3

    assert client.post("/sim/inject/meteor-strike", json={}).status_code == 400
    assert client.post("/sim/inject/host-failure", json={}).status_code == 400
    assert client.post("/sim/inject/network-partition", json={"network": "nope"}).status_code == 404
    kinds = {kind["name"] for kind in client.get("/sim/inject/kinds").json()}
    assert {"host-failure", "network-partition", "disk-full"} <= kinds


def test_state_diff_against_known_good(dcsim_client):
    client = dcsim_client
    assert client.get("/sim/state/diff").status_code == 404
    client.post("/sim/state/mark")
    client.post("/sim/vms/vm-002/power", json={"action": "off"})
    client.post("/sim/vms", json={"name": "new-01", "cluster": "cluster-01"})
    diff = client.get("/sim/state/diff").json()
    assert [a["name"] for a in diff["added"]] == ["new-01"] and diff["removed"] == []
    assert {"kind": "vm", "name": "vm-002", "field": "power_state", "before": "on", "after": "off"}.items() <= next(
        c for c in diff["changed"] if c["name"] == "vm-002"
    ).items()


async def test_faults_survive_restart(make_dcsim):
    dc = make_dcsim()
    async with dc:
        fault = await dc.sim.inject("network-partition", {"network": "VM Network"})
    async with make_dcsim() as again:
        assert [f.id for f in again.sim.active_faults()] == [fault.id]
        await again.sim.clear_fault(fault.id)


def test_a_fault_kind_types_only_its_declared_parameters():
    from dcsim.errors import ConfigError
    from dcsim.sim.faults import FaultRegistry

    registry = FaultRegistry()
    with pytest.raises(ConfigError, match="types for undeclared parameters speed"):
        registry.add("slow", description="d", params={"host": "h"}, types={"speed": int}, inject=None, undo=None)  # type: ignore[arg-type]
    registry.add(
        "slow", description="d", params={"host": "h", "ms": "delay"}, types={"ms": int}, inject=None, undo=None
    )  # type: ignore[arg-type]
    assert registry.get("slow").json_types() == {"host": "string", "ms": "integer"}
