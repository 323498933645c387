"""What only the docker backend promises: labels, limits, SSH on loopback, the key pair,
and power changes made with Docker itself reaching the listener."""

from __future__ import annotations

import asyncio
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from click.testing import CliRunner

from dcsim.drivers import driver_class
from dcsim.errors import Unavailable
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.nodes.cli import nodes
from dcsim.sim.nodes.docker import (
    DockerNodes,
    container_name,
    ensure_ssh_key,
    image_name,
    instance_name,
    owner_labels,
    ssh_key_path,
    tar_files,
)

from .conftest import Recorder

SSHD_CONFIG = "/etc/ssh/sshd_config"


@pytest.fixture
def backend_name(docker_client: docker.DockerClient) -> str:
    """Every test of this module is about the docker backend."""
    return "docker"


@pytest.mark.docker
async def test_container_labels_limits_and_loopback_port(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], docker_client: docker.DockerClient, settings: Settings
) -> None:
    labels = {"sim.platform": "ucs", "sim.type": "blade", "sim.id": "b-1", "sim.ucs.sp": "SP-web-01"}
    spec = make_spec(labels=labels, cpu=1, memory_mb=512, guest_os=GuestOs.UBUNTU22)
    await backend.ensure(spec)
    container = docker_client.containers.get(container_name(settings, spec.name))
    assert container.labels == labels | owner_labels(settings, spec.name)
    assert container.labels["dcsim.instance"] == instance_name(settings)
    assert container.labels["dcsim.data_dir"] == str(settings.data_dir.resolve())
    assert container.name == f"dcsim-{instance_name(settings)}.{spec.name}"
    assert container.attrs["Config"]["Hostname"] == spec.name
    assert container.attrs["HostConfig"]["NanoCpus"] == 1_000_000_000
    assert container.attrs["HostConfig"]["Memory"] == 512 * 1024 * 1024
    assert container.attrs["HostConfig"]["PortBindings"] == {
        "22/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(spec.ssh_port)}]
    }
    assert {binding["HostIp"] for binding in container.ports["22/tcp"]} == {"127.0.0.1"}


@pytest.mark.docker
async def test_ssh_with_the_generated_key_answers_the_node_name(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], settings: Settings
) -> None:
    if shutil.which("ssh") is None:
        pytest.fail("the ssh client is missing (Debian: apt-get install openssh-client)")
    spec = make_spec()
    await backend.ensure(spec)
    key = ssh_key_path(settings)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    command = ["ssh", "-i", str(key), "-p", str(spec.ssh_port), "-o", "StrictHostKeyChecking=no"]
    command += ["-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]
    command += ["root@127.0.0.1", "hostname"]
    # sshd may need a moment after the container starts before it accepts connections.
    deadline = time.monotonic() + 10
    while True:
        result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == spec.name


def test_key_pair_is_generated_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key = ensure_ssh_key(settings)
    private, public = key.read_bytes(), key.with_suffix(".pub").read_bytes()
    assert private.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert public.startswith(b"ssh-ed25519 ")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert ensure_ssh_key(settings) == key
    assert (key.read_bytes(), key.with_suffix(".pub").read_bytes()) == (private, public)


async def test_unreachable_engine_is_unavailable(tmp_path: Path) -> None:
    nodes = DockerNodes(Settings(data_dir=tmp_path, docker_url="unix:///nonexistent/docker.sock"))
    with pytest.raises(Unavailable):
        await nodes.ping()


@pytest.mark.docker
async def test_power_changed_with_docker_is_observed_and_files_are_watched_again(
    backend: NodeBackend,
    make_spec: Callable[..., NodeSpec],
    listener: Recorder,
    docker_client: docker.DockerClient,
    settings: Settings,
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    container = docker_client.containers.get(container_name(settings, spec.name))

    await asyncio.to_thread(container.stop, timeout=5)
    await listener.wait_for(lambda: listener.power[-1:] == [(spec.name, PowerState.OFF)])
    await asyncio.to_thread(container.start)
    await listener.wait_for(lambda: listener.power[-1:] == [(spec.name, PowerState.ON)])
    # The stop ended the node's inotifywait: a new one must report this edit.
    await edit_sshd_config(container, "yes")
    await listener.wait_for(lambda: len(listener.file_reports(spec.name, SSHD_CONFIG)) == 1)

    await asyncio.to_thread(container.pause)
    await listener.wait_for(lambda: listener.power[-1:] == [(spec.name, PowerState.SUSPENDED)])
    await asyncio.to_thread(container.unpause)
    await listener.wait_for(lambda: listener.power[-1:] == [(spec.name, PowerState.ON)])
    await edit_sshd_config(container, "no")
    await listener.wait_for(lambda: len(listener.file_reports(spec.name, SSHD_CONFIG)) == 2)
    assert "-PermitRootLogin yes\n+PermitRootLogin no\n" in listener.file_reports(spec.name, SSHD_CONFIG)[1]


@pytest.mark.docker
async def test_changes_made_while_a_node_was_stopped_are_reported_when_it_starts(
    backend: NodeBackend,
    make_spec: Callable[..., NodeSpec],
    listener: Recorder,
    docker_client: docker.DockerClient,
    settings: Settings,
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    await backend.set_power(spec.name, PowerState.OFF)
    # `docker cp` into the stopped container: no inotifywait runs to see it.
    container = docker_client.containers.get(container_name(settings, spec.name))
    assert container.put_archive("/etc", tar_files({"/issue.net": (b"Authorized access only\n", 0o644)}))
    await backend.set_power(spec.name, PowerState.ON)
    await listener.wait_for(lambda: bool(listener.file_reports(spec.name, "/etc/issue.net")))
    assert listener.file_reports(spec.name, "/etc/issue.net")[0].endswith("\n+Authorized access only\n")


@pytest.mark.docker
async def test_a_restarted_backend_watches_the_running_nodes_it_is_given(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], settings: Settings, docker_client: docker.DockerClient
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    listener = Recorder()
    again: NodeBackend = driver_class("dcsim.nodes", "docker")(settings)
    await again.start(listener)
    try:
        # What the engine does on start: ensure every node it has (here, already running).
        await again.ensure(spec)
        await edit_sshd_config(docker_client.containers.get(container_name(settings, spec.name)))
        await listener.wait_for(lambda: bool(listener.file_reports(spec.name, SSHD_CONFIG)))
        assert "+PermitRootLogin yes\n" in listener.file_reports(spec.name, SSHD_CONFIG)[0]
    finally:
        await again.close()


async def edit_sshd_config(container: docker.models.containers.Container, permit_root_login: str = "yes") -> None:
    """Edit sshd_config inside the node, as an administrator logged in there would."""
    exit_code, output = await asyncio.to_thread(
        container.exec_run, ["sed", "-i", f"s/^PermitRootLogin .*/PermitRootLogin {permit_root_login}/", SSHD_CONFIG]
    )
    assert exit_code == 0, output


@pytest.mark.docker
def test_build_image_command_is_idempotent(docker_client: docker.DockerClient) -> None:
    # The images exist (the fixture checked), so the command only confirms them.
    result = CliRunner().invoke(nodes, ["build-image"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [image_name(Settings(), guest_os) for guest_os in GuestOs]
    assert "up to date" in result.stderr
