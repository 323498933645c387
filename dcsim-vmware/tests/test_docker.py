"""Acceptance 2, docker backend: a VM powered off and on through pyvmomi stops and
starts its node container. The instance has a name and SSH ports of its own, and only
the vSphere VMs keep nodes, so other packages' docker tests are never touched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from conftest import VCenter, connect, eventually, vmware_settings, wait
from pyVim.connect import Disconnect

from dcsim import hookimpl
from dcsim.sim.model import Blade, Vm
from dcsim.sim.nodes.docker.instances import container_name
from dcsim_vmware.sidecar import free_port

pytestmark = pytest.mark.docker


class VsphereNodesOnOwnPorts:
    """Only vSphere VMs keep their nodes, on free SSH ports."""

    @hookimpl(trylast=True)
    def dcsim_sim_seed_topology(self, topology: Any) -> None:
        for vm in topology.world.all(Vm):
            if vm.node is not None:
                if vm.platform == "vmware":
                    vm.node.ssh_port = free_port()
                else:
                    vm.node = None
        for blade in topology.world.all(Blade):
            blade.node = None


@pytest.fixture
def docker_vcenter(make_client: Any, recorder: Any) -> Iterator[VCenter]:
    instance = f"v1-vmware-{uuid.uuid4().hex[:8]}"
    client = make_client(recorder, VsphereNodesOnOwnPorts(), plugins={"vmware": vmware_settings()},
                         node_backend="docker", instance=instance)  # fmt: skip
    si = connect(client.sim.services["vmware"].urls["https"])
    try:
        yield VCenter(client, recorder, si)
    finally:
        Disconnect(si)
        engine = docker.from_env()
        for container in engine.containers.list(all=True, filters={"name": instance}):
            container.remove(force=True)


def test_the_node_container_follows_power(docker_vcenter: VCenter) -> None:
    vcenter = docker_vcenter
    engine = docker.from_env()
    name = container_name(vcenter.client.sim.settings, vcenter.world.get(Vm, "vm-001").node.name)

    def running() -> bool:
        return bool(engine.containers.get(name).attrs["State"]["Running"])

    eventually(running, timeout=30)
    vm = vcenter.vm("vm-001")
    wait(vm.PowerOffVM_Task())
    eventually(lambda: not running(), timeout=15)
    wait(vm.PowerOnVM_Task())
    eventually(running, timeout=15)
