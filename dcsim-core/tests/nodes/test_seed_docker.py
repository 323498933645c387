"""The seed estate on the docker backend: 9 labelled containers, SSH, power both ways."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from typing import Any

import docker
import pytest

from dcsim import hookimpl
from dcsim.app import DcSim
from dcsim.model import Event
from dcsim.sim.nodes.docker import container_name

pytestmark = pytest.mark.docker

SEED_NODES = {
    # node: (ssh port, sim.platform, sim.type, sim.guest_os, platform labels)
    "sim-vmw-vm-001": (22001, "vmware", "vm", "rhel9", {"sim.vmw.cluster": "cluster-01", "sim.vmw.host": "esxi-01"}),
    "sim-vmw-vm-002": (22002, "vmware", "vm", "ubuntu22", {"sim.vmw.cluster": "cluster-01"}),
    "sim-vmw-vm-003": (22003, "vmware", "vm", "rhel9", {"sim.vmw.cluster": "cluster-01"}),
    "sim-os-instance-001": (22004, "openstack", "instance", "ubuntu22", {"sim.os.project": "demo"}),
    "sim-os-instance-002": (22005, "openstack", "instance", "ubuntu22", {"sim.os.project": "demo"}),
    "sim-os-instance-003": (22006, "openstack", "instance", "rhel9", {"sim.os.project": "demo"}),
    "sim-ucs-blade-c01s01": (22007, "ucs", "blade", "rhel9", {"sim.ucs.sp": "SP-web-01"}),
    "sim-ucs-blade-c01s02": (22008, "ucs", "blade", "ubuntu22", {"sim.ucs.sp": "SP-app-01"}),
    "sim-ucs-blade-c01s03": (22009, "ucs", "blade", "rhel9", {"sim.ucs.sp": "SP-db-01"}),
}


class Events:
    """Keeps the instance's bus events (a consumer group of its own)."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    @hookimpl
    def dcsim_register_subscribers(self, registry: Any) -> None:
        async def keep(dcsim: DcSim, event: Event) -> None:
            self.seen.append(event)

        registry.add("test-docker-events", keep, types=["vm.*"])

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 2.0) -> Event:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = next((e for e in self.seen if predicate(e)), None)
            if found is not None:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no such event within {timeout} s; seen {[e.type for e in self.seen]}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def docker_estate(
    docker_client: docker.DockerClient, make_dcsim: Callable[..., DcSim]
) -> AsyncIterator[tuple[DcSim, Events]]:
    events = Events()
    dc = make_dcsim(events, node_backend="docker")
    try:
        async with dc:
            yield dc, events
    finally:
        for name in SEED_NODES:
            await dc.sim.nodes.remove(name)


async def test_seed_containers_are_labelled_and_reachable(docker_estate, docker_client):
    dc, _ = docker_estate
    for name, (port, platform, kind, guest, extra) in SEED_NODES.items():
        container = docker_client.containers.get(container_name(dc.settings, name))
        assert container.status == "running", name
        labels = container.labels
        owner = dc.sim.vm(name.split("-", 2)[2]) if kind != "blade" else None
        expected = {
            "sim.platform": platform, "sim.type": kind, "sim.guest_os": guest, "sim.ssh_port": str(port),
            "sim.ansible_user": "root", "sim.power_state": "on", **extra,
        }  # fmt: skip
        assert {k: labels.get(k) for k in expected} == expected, name
        assert labels["sim.env"] and labels["sim.vcpu"] and labels["sim.memory_mb"]
        if owner is not None:
            assert labels["sim.id"] == owner.id
        assert container.ports["22/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]

    ssh = shutil.which("ssh")
    assert ssh, "openssh-client is installed by scripts/services.sh"
    key = dc.settings.data_dir / "ssh" / "id_ed25519"
    result = subprocess.run(
        [ssh, "-i", str(key), "-p", "22001", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "root@127.0.0.1", "hostname"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.stdout.strip() == "sim-vmw-vm-001", result.stderr


async def test_power_off_through_the_api_and_docker_stop_outside(docker_estate, docker_client):
    dc, events = docker_estate
    await dc.sim.power("vm-002", "off")
    assert docker_client.containers.get(container_name(dc.settings, "sim-vmw-vm-002")).status == "exited"
    event = await events.wait_for(lambda e: e.type == "vm.power_changed" and e.data["name"] == "vm-002")
    assert (event.data["from"], event.data["to"], event.data["reason"]) == ("on", "off", "api")

    # Someone stops a container behind dc-sim's back: the world follows within 2 s.
    docker_client.containers.get(container_name(dc.settings, "sim-vmw-vm-003")).stop(timeout=1)
    external = await events.wait_for(
        lambda e: e.type == "vm.power_changed" and e.data["name"] == "vm-003" and e.data["reason"] == "external"
    )
    assert external.data["to"] == "off"
    assert dc.sim.vm("vm-003").power_state.value == "off"
