"""Acceptance 3 (no change bounces back), the race itself: a sync that read the world
before the watcher applied a client's change in vCenter, and reconciles only after the
follower recorded it, must not write the simulation's older value back.

On a loaded machine that interleaving happens by chance; here it is made every time: the
test takes a sync's plan (``VmwareService.take_plan``: the world and the agreement,
together), makes the change through pyvmomi, waits until the simulation and the
agreement have it, and only then reconciles that plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import VCenter, eventually, wait
from pyVmomi import vim

from dcsim.sim.model import Vm


def _other_host(vm: vim.VirtualMachine) -> vim.HostSystem:
    return next(h for h in vm.runtime.host.parent.host if h.name != vm.runtime.host.name)


def _snapshot(vm: vim.VirtualMachine, name: str) -> None:
    wait(vm.CreateSnapshot_Task(name=name, description="", memory=False, quiesce=False))


def _agreed(vcenter: VCenter, vm: vim.VirtualMachine) -> Any:
    """What the agreement records for ``vm`` (None: nothing yet)."""
    return vcenter.service.agreement.get(vcenter.world.get(Vm, vm.name).id)


def _powered_off(vcenter: VCenter, vm: vim.VirtualMachine) -> None:
    """Setup: off (the simulation resizes only a powered-off VM), followed and agreed."""
    wait(vm.PowerOffVM_Task())
    eventually(lambda: vcenter.sim_vm(vm.name)["power_state"] == "off")
    eventually(lambda: _agreed(vcenter, vm).power == "poweredOff")


def _with_snapshot(vcenter: VCenter, vm: vim.VirtualMachine) -> None:
    """Setup: one snapshot ``old``, followed and agreed."""
    _snapshot(vm, "old")
    eventually(lambda: [s["name"] for s in vcenter.sim_vm(vm.name)["snapshots"]] == ["old"])
    eventually(lambda: _agreed(vcenter, vm).snapshots == ("old",))


#: (case, VM, setup in vCenter, the client's change, what vCenter then shows: read from the VM)
Setup = Callable[[VCenter, vim.VirtualMachine], None]
CASES: list[tuple[str, str, Setup | None, Callable[[vim.VirtualMachine], Any], Any]] = [
    ("rename", "vm-003", None, lambda vm: wait(vm.Rename_Task(newName="vm-003-copy")), "vm-003-copy"),
    ("power off", "vm-001", None, lambda vm: wait(vm.PowerOffVM_Task()), "poweredOff"),
    ("reconfigure", "vm-002", _powered_off, lambda vm: wait(vm.ReconfigVM_Task(spec=vim.vm.ConfigSpec(numCPUs=7))), 7),
    (
        "migrate",
        "vm-003",
        None,
        lambda vm: wait(vm.RelocateVM_Task(spec=vim.vm.RelocateSpec(host=_other_host(vm), pool=vm.resourcePool))),
        "",
    ),
    ("snapshot create", "vm-002", None, lambda vm: _snapshot(vm, "by-client"), ["by-client"]),
    (
        "snapshot remove",
        "vm-002",
        _with_snapshot,
        lambda vm: wait(vm.snapshot.rootSnapshotList[0].snapshot.RemoveSnapshot_Task(removeChildren=False)),
        [],
    ),
]


def _shown(case: str, vm: vim.VirtualMachine) -> Any:
    """The property the client changed, as vCenter shows it now."""
    if case == "rename":
        return vm.name
    if case == "power off":
        return vm.runtime.powerState
    if case == "reconfigure":
        return vm.config.hardware.numCPU
    if case == "migrate":
        return vm.runtime.host.name
    return sorted(s.name for s in vm.snapshot.rootSnapshotList) if vm.snapshot else []


def _simulated(case: str, sim: dict[str, Any]) -> Any:
    """The same property as the simulation shows it (``GET /sim/vms/{name}``)."""
    if case == "rename":
        return sim["name"]
    if case == "power off":
        return {"off": "poweredOff"}.get(sim["power_state"], sim["power_state"])
    if case == "reconfigure":
        return sim["cpu"]
    if case == "migrate":
        return sim["host"]
    return sorted(s["name"] for s in sim["snapshots"])


@pytest.mark.parametrize(("case", "name", "setup", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_sync_older_than_a_client_change_does_not_undo_it(
    vcenter: VCenter,
    case: str,
    name: str,
    setup: Setup | None,
    change: Callable[[vim.VirtualMachine], Any],
    expected: Any,
) -> None:
    service = vcenter.service
    vm = vcenter.vm(name)
    sim_id = vcenter.world.get(Vm, name).id
    if setup is not None:
        setup(vcenter, vm)
    if case == "migrate":
        expected = _other_host(vm).name
    version = service.agreement.version(sim_id)
    stale = vcenter.client.call(service.take_plan)  # the world before the client's change

    change(vm)
    assert _shown(case, vm) == expected
    new_name = vm.name
    # The follower applied it to the simulation and recorded it as agreed.
    eventually(lambda: _simulated(case, vcenter.sim_vm(new_name)) == expected)
    eventually(lambda: service.agreement.version(sim_id) > version)

    # Now the sync that read the world before the change reconciles: what a loaded
    # machine does when the watcher's update lands while a sync is in its worker thread.
    assert vcenter.client.call(service.reconcile, stale)
    assert _shown(case, vm) == expected, f"{case} bounced back to vCenter"
    time.sleep(0.5)  # what the stale sync could have set off has had time to
    assert _shown(case, vm) == expected, f"{case} bounced back to vCenter"
    assert _simulated(case, vcenter.sim_vm(new_name)) == expected
