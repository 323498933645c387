"""Acceptance 3: changes made through dc-sim (``/sim``, an injected host failure) show in
vCenter as pyvmomi reads it, vSphere events record them, and nothing bounces back."""

from __future__ import annotations

import time

from conftest import VCenter, eventually
from pyVmomi import vim


def _events(vcenter: VCenter, entity: vim.ManagedEntity) -> list[str]:
    manager = vcenter.si.RetrieveContent().eventManager
    spec = vim.event.EventFilterSpec(entity=vim.event.EventFilterSpec.ByEntity(entity=entity, recursion="self"))
    # Oldest first (vCenter answers newest first).
    return [type(e).__name__.rsplit(".", 1)[-1] for e in sorted(manager.QueryEvents(spec), key=lambda e: e.key)]


def test_power_and_reconfigure_through_sim_reach_vcenter_once(vcenter: VCenter) -> None:
    vm = vcenter.vm("vm-001")
    events_before = _events(vcenter, vm)
    assert vcenter.client.post("/sim/vms/vm-001/power", json={"action": "off"}).status_code == 200
    eventually(lambda: vm.runtime.powerState == "poweredOff")
    answer = vcenter.client.patch("/sim/vms/vm-001", json={"cpu": 3, "memory_mb": 6144})
    assert answer.status_code == 200, answer.text
    eventually(lambda: (vm.config.hardware.numCPU, vm.config.hardware.memoryMB) == (3, 6144))
    time.sleep(1)  # what would bounce back has had time to
    new = _events(vcenter, vm)[len(events_before) :]
    assert new.count("VmPoweredOffEvent") == 1, new
    assert new.count("VmReconfiguredEvent") == 1, new
    assert len(vcenter.events("vm.power_changed", "vm-001")) == 1
    assert len(vcenter.events("vm.reconfigured", "vm-001")) == 1
    assert vcenter.sim_vm("vm-001")["power_state"] == "off"


def test_host_failure_disconnects_it_and_ha_restarts_its_vms(vcenter: VCenter) -> None:
    host = next(h for h in vcenter.si.RetrieveContent().rootFolder.childEntity[0].hostFolder.childEntity[0].host
                if h.name == "esxi-01")  # fmt: skip
    victims = [vm for vm in host.vm]
    assert victims
    answer = vcenter.client.post("/sim/inject/host-failure", json={"host": "esxi-01"})
    assert answer.status_code in (200, 201), answer.text
    eventually(lambda: host.runtime.connectionState != "connected", timeout=5)
    for vm in victims:
        eventually(lambda vm=vm: (vm.runtime.host.name, vm.runtime.powerState) == ("esxi-02", "poweredOn"), timeout=5)
        names = _events(vcenter, vm)
        # Down with its host first, then restarted by HA on the other one.
        assert "VmPoweredOffEvent" in names and "VmRestartedOnAlternateHostEvent" in names, names
        assert len(names) - names[::-1].index("VmPoweredOffEvent") < len(names) - names[::-1].index("VmPoweredOnEvent")
        assert vcenter.sim_vm(vm.name)["host"] == "esxi-02"
    time.sleep(1)
    for vm in victims:
        # One power off and one power on each: the HA restart was not applied back.
        assert [e.data["reason"] for e in vcenter.events("vm.power_changed", vm.name)] == ["host_failure", "ha_restart"]
