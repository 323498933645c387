"""Acceptance 2: what a pyvmomi client does in vCenter becomes the same change in the
simulation (``/sim``) and on the bus within 2 s, and is not written back to vCenter."""

from __future__ import annotations

import time

from conftest import VCenter, eventually, wait
from pyVmomi import vim


def _power_events(vcenter: VCenter, vm: vim.VirtualMachine) -> list[str]:
    manager = vcenter.si.RetrieveContent().eventManager
    spec = vim.event.EventFilterSpec(entity=vim.event.EventFilterSpec.ByEntity(entity=vm, recursion="self"))
    names = [type(e).__name__.rsplit(".", 1)[-1] for e in manager.QueryEvents(spec)]
    return sorted(n for n in names if n in ("VmPoweredOffEvent", "VmPoweredOnEvent", "VmSuspendedEvent"))


def test_power_off_on_suspend_reset(vcenter: VCenter) -> None:
    vm = vcenter.vm("vm-001")
    before = _power_events(vcenter, vm)
    for task, state in (
        (vm.PowerOffVM_Task, "off"),
        (vm.PowerOnVM_Task, "on"),
        (vm.SuspendVM_Task, "suspended"),
        (vm.PowerOnVM_Task, "on"),
    ):
        wait(task())
        eventually(lambda state=state: vcenter.sim_vm("vm-001")["power_state"] == state)
        eventually(
            lambda state=state: any(e.data["to"] == state for e in vcenter.events("vm.power_changed", "vm-001")[-1:])
        )
    changes = vcenter.events("vm.power_changed", "vm-001")
    assert [(e.data["from"], e.data["to"], e.data["reason"]) for e in changes] == [
        ("on", "off", "vcenter"), ("off", "on", "vcenter"), ("on", "suspended", "vcenter"), ("suspended", "on", "vcenter")
    ]  # fmt: skip
    wait(vm.ResetVM_Task())
    eventually(lambda: vcenter.events("vm.power_changed", "vm-001")[-1].data["reason"] == "reset")
    time.sleep(1)  # what would bounce back has had time to
    # Nothing bounced back: vCenter recorded exactly the client's four power operations
    # (the simulator records no event for a reset), none written back by dc-sim.
    new = _power_events(vcenter, vm)
    for name in before:
        new.remove(name)
    expected = ["VmPoweredOffEvent", "VmPoweredOnEvent", "VmSuspendedEvent", "VmPoweredOnEvent"]
    assert new == sorted(expected), new
    changes = vcenter.events("vm.power_changed", "vm-001")
    assert len(changes) == 5, [(e.data["from"], e.data["to"], e.data["reason"]) for e in changes]


def test_reconfigure_and_snapshots(vcenter: VCenter) -> None:
    vm = vcenter.vm("vm-002")
    wait(vm.PowerOffVM_Task())
    eventually(lambda: vcenter.sim_vm("vm-002")["power_state"] == "off")
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=6, memoryMB=12288)))
    eventually(lambda: (vcenter.sim_vm("vm-002")["cpu"], vcenter.sim_vm("vm-002")["memory_mb"]) == (6, 12288))
    eventually(lambda: any(e.data["changes"].get("cpu") == [2, 6] for e in vcenter.events("vm.reconfigured", "vm-002")))

    wait(vm.CreateSnapshot_Task(name="before-patch", description="", memory=False, quiesce=False))
    eventually(lambda: [s["name"] for s in vcenter.sim_vm("vm-002")["snapshots"]] == ["before-patch"])
    eventually(lambda: any("snapshots" in e.data["changes"] for e in vcenter.events("vm.reconfigured", "vm-002")))
    wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=8)))
    eventually(lambda: vcenter.sim_vm("vm-002")["cpu"] == 8)
    wait(vm.snapshot.currentSnapshot.RevertToSnapshot_Task())
    eventually(lambda: vcenter.sim_vm("vm-002")["cpu"] == 6)
    wait(vm.snapshot.rootSnapshotList[0].snapshot.RemoveSnapshot_Task(removeChildren=False))
    eventually(lambda: vcenter.sim_vm("vm-002")["snapshots"] == [])
    assert vm.snapshot is None
    # The revert put the simulation's VM back to 6 CPUs, and dc-sim wrote that to vCenter
    # (the simulator's own revert leaves the size alone; vCenter's does not).
    eventually(lambda: (vm.config.hardware.numCPU, vm.runtime.powerState) == (6, "poweredOff"))


def test_clone_rename_migrate_destroy(vcenter: VCenter) -> None:
    vm = vcenter.vm("vm-003")
    target = next(h for h in vm.runtime.host.parent.host if h.name != vm.runtime.host.name)
    wait(vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=target, pool=vm.resourcePool)))
    eventually(lambda: vcenter.sim_vm("vm-003")["host"] == target.name)
    eventually(lambda: vcenter.events("vm.migrated", "vm-003")[-1].data["reason"] == "vcenter")

    spec = vim.vm.CloneSpec(location=vim.vm.RelocateSpec(), powerOn=False, template=False)
    clone = wait(vm.CloneVM_Task(folder=vm.parent, name="vm-003-clone", spec=spec))
    created = eventually(lambda: vcenter.sim_vm("vm-003-clone"))
    assert (created["cpu"], created["memory_mb"], created["power_state"]) == (4, 8192, "off")
    eventually(lambda: vcenter.events("vm.created", None))

    wait(clone.Rename_Task(newName="vm-003-copy"))
    eventually(lambda: vcenter.client.get("/sim/vms/vm-003-copy").status_code == 200)
    assert vcenter.client.get("/sim/vms/vm-003-clone").status_code == 404
    eventually(lambda: any(e.data["changes"].get("name") == ["vm-003-clone", "vm-003-copy"]
                           for e in vcenter.events("vm.reconfigured", "vm-003-copy")))  # fmt: skip
    assert clone.name == "vm-003-copy"  # not renamed back

    wait(clone.Destroy_Task())
    eventually(lambda: vcenter.client.get("/sim/vms/vm-003-copy").status_code == 404)
    eventually(
        lambda: [e.data["vm"]["name"] for e in vcenter.recorder.events if e.type == "vm.destroyed"] == ["vm-003-copy"]
    )


def test_a_vm_created_in_vcenter_joins_the_simulation(vcenter: VCenter) -> None:
    content = vcenter.si.RetrieveContent()
    dc = content.rootFolder.childEntity[0]
    cluster = dc.hostFolder.childEntity[0]
    config = vim.vm.ConfigSpec(name="made-by-pyvmomi", numCPUs=1, memoryMB=1024, guestId="ubuntu64Guest",
                               files=vim.vm.FileInfo(vmPathName="[ds-01]"))  # fmt: skip
    wait(dc.vmFolder.CreateVM_Task(config=config, pool=cluster.resourcePool, host=cluster.host[1]))
    made = eventually(lambda: vcenter.sim_vm("made-by-pyvmomi"))
    assert (made["cpu"], made["memory_mb"], made["host"], made["power_state"]) == (1, 1024, cluster.host[1].name, "off")
