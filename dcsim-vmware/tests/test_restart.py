"""Acceptance 6: the simulator killed is restarted and re-seeded within seconds on the
same ports, ``/readyz`` reports the gap meanwhile, and no simulation change made during
the gap is lost from vCenter afterwards."""

from __future__ import annotations

import time

from conftest import VCenter, connect, eventually, find_vm


def test_killed_vcsim_comes_back_with_the_world_as_it_is(vcenter: VCenter) -> None:
    service = vcenter.service
    urls = dict(service.urls)
    service.sidecar.kill()
    gap = eventually(lambda: vcenter.client.get("/readyz").status_code == 503, timeout=2)
    assert gap
    # Changes made while vCenter is away.
    assert vcenter.client.post("/sim/vms/vm-002/power", json={"action": "off"}).status_code == 200
    assert (
        vcenter.client.post("/sim/vms", json={"name": "made-in-gap", "cluster": "cluster-01", "cpu": 1}).status_code
        == 201
    )
    started = time.monotonic()
    eventually(lambda: vcenter.client.get("/readyz").status_code == 200, timeout=15)
    assert time.monotonic() - started < 10
    assert service.urls == urls and service.sidecar.restarts == 1
    si = connect(urls["https"])
    eventually(lambda: find_vm(si, "vm-002").runtime.powerState == "poweredOff", timeout=5)
    made = eventually(lambda: find_vm(si, "made-in-gap"), timeout=5)
    assert made.config.hardware.numCPU == 1
    # And it is followed again: a client's change reaches the simulation.
    vm = find_vm(si, "vm-003")
    vm.PowerOffVM_Task()
    eventually(lambda: vcenter.sim_vm("vm-003")["power_state"] == "off")


def test_readyz_reports_the_gap(vcenter: VCenter) -> None:
    vcenter.service.sidecar.kill()
    # The watcher may notice first ("not followed"); the sidecar's own word follows at once.
    answer = eventually(
        lambda: (r := vcenter.client.get("/readyz")).status_code == 503 and "vcsim restarting" in r.text and r,
        timeout=5,
    )
    assert "vCenter away for" in answer.text
