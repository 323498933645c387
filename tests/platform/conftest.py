"""Fixtures of the platform tests: core's drift and patch modules end to end with the
runner (dcsim-ansible) and dcsim-ucs installed.

Docker-backed tests build an estate of their own (node names and free loopback ports
no other test uses) so they never meet the seed's nodes on ports 22001-22009.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest

from dcsim import hookimpl
from dcsim.errors import Unavailable
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, Node
from dcsim.sim.nodes.docker import connect, image_name
from dcsim.testing import eventually


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ssh(port: int, timeout: float = 60) -> None:
    """Return once an sshd greets on ``127.0.0.1:port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no sshd on port {port}")
        time.sleep(0.3)


#: Call a probe until it answers something truthy and return that; AssertionError on timeout.
wait_for = functools.partial(eventually, timeout=60.0, interval=0.1)


def bus_event(client: Any, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The first stored bus event (``GET /events``) matching ``predicate``, else None."""
    for event in client.get("/events?limit=1000").json()["items"]:
        if predicate(event):
            return dict(event)
    return None


def auto_remediate(client: Any, policy_id: str = "policy-sshd", **more: Any) -> None:
    """Switch auto-remediation on for a drift policy (the seed's policies leave it off)."""
    policy = client.get(f"/drift/policies/{policy_id}").json() | {"auto_remediate": True, **more}
    answer = client.put(f"/drift/policies/{policy_id}", json=policy)
    assert answer.status_code == 200, answer.text


class LabEstate:
    """A small estate of Ubuntu VMs of a test's own, each with a node on a free port.

    ``prefix`` names the nodes (``<prefix>-u1`` ...): give each test module its own.
    """

    def __init__(self, prefix: str, count: int = 1, guest_os: GuestOs = GuestOs.UBUNTU22) -> None:
        self.prefix = prefix
        self.guest_os = guest_os
        self.nodes = {f"{prefix}-u{i}": free_port() for i in range(1, count + 1)}

    @hookimpl
    def dcsim_sim_seed_topology(self, topology: Any) -> None:
        dc = topology.datacenter(f"{self.prefix}-dc", "lab")
        cluster = topology.cluster(f"{self.prefix}-cluster", dc)
        host = topology.host(f"{self.prefix}-host", cluster, cpu_cores=16, memory_mb=65536)
        network = topology.network(f"{self.prefix}-net", dc, vlan=100, cidr="10.98.0.0/24")
        for name, port in self.nodes.items():
            node = Node(name=name, guest_os=self.guest_os, ssh_port=port, env="test")
            topology.vm(name, host, 1, 1024, self.guest_os, network, platform="lab", node=node)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[docker.DockerClient]:
    """The Docker engine with the Ubuntu node image; skip without one (fail under CI)."""
    settings = Settings()
    try:
        client = connect(settings)
        client.images.get(image_name(settings, GuestOs.UBUNTU22))
    except (Unavailable, docker.errors.ImageNotFound) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"docker node tests cannot run: {exc}")
        pytest.skip(f"docker engine or node image missing: {exc}")
    yield client
    client.close()


@pytest.fixture
def ansible_settings() -> dict[str, Any]:
    """``[plugins.ansible]`` for tests: the shipped playbook library, short leases."""
    return {"lease_seconds": 3}


@pytest.fixture
def lab_client(
    request: pytest.FixtureRequest,
    docker_engine: docker.DockerClient,
    make_client: Any,
    ansible_settings: dict[str, Any],
) -> Iterator[tuple[Any, LabEstate]]:
    """A client on a docker estate of the test module's own: two Ubuntu nodes named after
    the module's ``INSTANCE``, on free ports; its containers are removed before and after."""
    from dcsim.sim.nodes.docker.instances import find_containers, remove_containers

    instance: str = request.module.INSTANCE
    lab = LabEstate(instance, count=2)
    remove_containers(docker_engine, find_containers(docker_engine, instance=instance), print)
    client = make_client(lab, plugins={"ansible": ansible_settings}, node_backend="docker", sim_topology="empty",
                         instance=instance)  # fmt: skip
    try:
        for port in lab.nodes.values():
            wait_ssh(port)
        yield client, lab
    finally:
        remove_containers(docker_engine, find_containers(docker_engine, instance=instance), print)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a Docker engine and the node images")
