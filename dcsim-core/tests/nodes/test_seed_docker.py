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
from dcsim.errors import DcsimError
from dcsim.model import Event
from dcsim.sim.nodes.docker import container_name, instance_name
from dcsim.sim.nodes.docker.instances import find_containers, remove_containers

pytestmark = pytest.mark.docker

SEED_NODES = {
    # Core's own seed (no vendor package installed in this env, so no sim.<vendor>.* labels):
    # node: (ssh port, sim.platform, sim.type, sim.guest_os)
    "sim-vmw-vm-001": (22001, "vmware", "vm", "rhel9"),
    "sim-vmw-vm-002": (22002, "vmware", "vm", "ubuntu22"),
    "sim-vmw-vm-003": (22003, "vmware", "vm", "rhel9"),
    "sim-os-instance-001": (22004, "openstack", "vm", "ubuntu22"),
    "sim-os-instance-002": (22005, "openstack", "vm", "ubuntu22"),
    "sim-os-instance-003": (22006, "openstack", "vm", "rhel9"),
    "sim-bm-c01s01": (22007, "baremetal", "blade", "rhel9"),
    "sim-bm-c01s02": (22008, "baremetal", "blade", "ubuntu22"),
    "sim-bm-c01s03": (22009, "baremetal", "blade", "rhel9"),
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
        # The nodes outlive the instance: remove every container it made.
        remove_containers(docker_client, find_containers(docker_client, instance_name(dc.settings)), print)


async def test_seed_containers_are_labelled_and_reachable(docker_estate, docker_client):
    dc, _ = docker_estate
    for name, (port, platform, kind, guest) in SEED_NODES.items():
        container = docker_client.containers.get(container_name(dc.settings, name))
        assert container.status == "running", name
        labels = container.labels
        owner = dc.sim.vm(name.split("-", 2)[2]) if kind == "vm" else None
        expected = {
            "sim.platform": platform, "sim.type": kind, "sim.guest_os": guest, "sim.ssh_port": str(port),
            "sim.ansible_user": "root", "sim.power_state": "on",
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


async def test_nodes_keep_running_when_the_instance_stops_and_are_adopted_on_its_next_start(docker_client, make_dcsim):
    dc = make_dcsim(node_backend="docker")
    try:
        async with dc:
            ids = {name: docker_client.containers.get(container_name(dc.settings, name)).id for name in SEED_NODES}
        # The instance stopped; its nodes did not, as VMs outlive a vCenter restart.
        assert {docker_client.containers.get(cid).status for cid in ids.values()} == {"running"}
        again = make_dcsim(node_backend="docker")
        async with again:
            adopted = {
                name: docker_client.containers.get(container_name(again.settings, name)).id for name in SEED_NODES
            }
            assert adopted == ids
            assert again.sim.vm("vm-001").power_state.value == "on"
    finally:
        # The nodes outlive the instance: remove every container it made.
        remove_containers(docker_client, find_containers(docker_client, instance_name(dc.settings)), print)


async def test_a_second_instance_wanting_the_same_ssh_ports_fails_naming_the_first(
    docker_estate, docker_client, make_dcsim, tmp_path
):
    dc, _ = docker_estate
    other = make_dcsim(node_backend="docker", data_dir=tmp_path / "other")
    try:
        with pytest.raises(DcsimError) as raised:
            async with other:
                pass
        message = str(raised.value)
        assert "127.0.0.1:220" in message and f"dcsim-{instance_name(dc.settings)}." in message, message
        assert f"dcsim nodes stop --instance {instance_name(dc.settings)}" in message
        # The first instance's nodes are untouched.
        assert docker_client.containers.get(container_name(dc.settings, "sim-vmw-vm-001")).status == "running"
    finally:
        remove_containers(docker_client, find_containers(docker_client, instance_name(other.settings)), print)
