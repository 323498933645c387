"""Instances sharing one Docker engine: owner labels and prefixes keep their containers
apart, nodes outlive the server and are adopted, and ``dcsim nodes`` lists, stops and
removes one instance's containers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from click.testing import CliRunner, Result

from dcsim.errors import ConfigError, Conflict
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeSpec
from dcsim.sim.nodes.cli import nodes
from dcsim.sim.nodes.docker import DockerNodes, container_name, image_name, instance_name

from .conftest import Recorder, free_port


@pytest.fixture
async def start_instance(docker_client: docker.DockerClient) -> AsyncIterator[Callable[..., Any]]:
    """``await start_instance(data_dir, **settings)``: a started docker backend of its own
    instance; its containers and those of ``node_spec`` names are removed at teardown."""
    started: list[DockerNodes] = []

    async def start(data_dir: Path, **fields: Any) -> tuple[DockerNodes, Recorder]:
        backend = DockerNodes(Settings(data_dir=data_dir, node_backend="docker", **fields))
        listener = Recorder()
        await backend.start(listener)
        started.append(backend)
        return backend, listener

    yield start
    for backend in started:
        for name in await backend.list_nodes():
            await backend.remove(name)
        await backend.close()


def node_spec(name: str, port: int | None = None, power_state: PowerState = PowerState.ON) -> NodeSpec:
    return NodeSpec(
        name=name,
        guest_os=GuestOs.RHEL9,
        ssh_port=port or free_port(),
        cpu=1,
        memory_mb=256,
        power_state=power_state,
        labels={"sim.platform": "vmware"},
    )


def unique_node() -> str:
    return f"dcsim-test-{uuid.uuid4().hex[:10]}"


def test_instance_name_is_stable_per_data_directory_and_checked(tmp_path: Path) -> None:
    first = instance_name(Settings(data_dir=tmp_path / "a"))
    assert first == instance_name(Settings(data_dir=tmp_path / "a" / ".." / "a"))
    assert first != instance_name(Settings(data_dir=tmp_path / "b"))
    assert instance_name(Settings(data_dir=tmp_path / "b", instance="lab-1")) == "lab-1"
    assert (
        container_name(Settings(data_dir=tmp_path, instance="lab-1"), "sim-vmw-vm-001") == "dcsim-lab-1.sim-vmw-vm-001"
    )
    for bad in ["a.b", "-lead", "", "x" * 41, "with space"]:
        with pytest.raises(ConfigError, match="setting instance"):
            DockerNodes(Settings(data_dir=tmp_path, instance=bad))


@pytest.mark.docker
async def test_two_instances_with_the_same_node_names_never_touch_each_other(
    tmp_path: Path, start_instance: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    first, first_events = await start_instance(tmp_path / "a")
    second, second_events = await start_instance(tmp_path / "b")
    name = unique_node()
    await first.ensure(node_spec(name))
    await second.ensure(node_spec(name))
    ours = docker_client.containers.get(container_name(first.settings, name))
    theirs = docker_client.containers.get(container_name(second.settings, name))
    assert ours.id != theirs.id
    assert (ours.labels["dcsim.instance"], theirs.labels["dcsim.instance"]) == (first.instance, second.instance)
    assert await first.list_nodes() == [name] == await second.list_nodes()

    # Power changed on one instance's container is news to that instance only.
    await asyncio.to_thread(theirs.stop, timeout=5)
    await second_events.wait_for(lambda: second_events.power[-1:] == [(name, PowerState.OFF)])
    # (dc-sim's own start of the node may be reported; the other instance's stop never.)
    assert PowerState.OFF not in {state for _, state in first_events.power}
    assert await first.power_state(name) is PowerState.ON

    await first.remove(name)
    assert await first.list_nodes() == []
    assert await second.power_state(name) is PowerState.OFF
    assert await second.list_nodes() == [name]


@pytest.mark.docker
async def test_nodes_outlive_the_backend_and_are_adopted_on_the_next_start(
    tmp_path: Path, start_instance: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    backend, _ = await start_instance(tmp_path)
    spec = node_spec(unique_node())
    await backend.ensure(spec)
    await backend.write_file(spec.name, "/etc/motd", "kept\n")
    before = docker_client.containers.get(container_name(backend.settings, spec.name))
    await backend.close()

    after = docker_client.containers.get(before.id)
    assert after.status == "running"
    again, listener = await start_instance(tmp_path)
    await again.ensure(spec)
    adopted = docker_client.containers.get(container_name(again.settings, spec.name))
    # The same container, not restarted: the node was adopted, not recreated.
    assert adopted.id == before.id
    assert adopted.attrs["State"]["StartedAt"] == before.attrs["State"]["StartedAt"]
    assert await again.read_file(spec.name, "/etc/motd") == "kept\n"
    assert PowerState.OFF not in {state for _, state in listener.power}


@pytest.mark.docker
async def test_a_port_held_by_another_instance_is_a_conflict_naming_it(
    tmp_path: Path, start_instance: Callable[..., Any]
) -> None:
    first, _ = await start_instance(tmp_path / "a", instance=f"t{uuid.uuid4().hex[:8]}")
    second, _ = await start_instance(tmp_path / "b")
    port = free_port()
    await first.ensure(node_spec(unique_node(), port))
    name = unique_node()
    with pytest.raises(Conflict) as raised:
        await second.ensure(node_spec(name, port))
    message = raised.value.detail
    assert f"127.0.0.1:{port}" in message
    assert container_name(first.settings, (await first.list_nodes())[0]) in message
    assert f"`dcsim nodes stop --instance {first.instance}`" in message
    # The node exists, off, and starts once the command the message names frees the port.
    assert await second.power_state(name) is PowerState.OFF
    freed = invoke(tmp_path / "b", "stop", "--instance", first.instance)
    assert freed.exit_code == 0, freed.output
    await second.set_power(name, PowerState.ON)
    assert await second.power_state(name) is PowerState.ON


@pytest.mark.docker
async def test_a_port_held_outside_docker_is_a_conflict(tmp_path: Path, start_instance: Callable[..., Any]) -> None:
    backend, _ = await start_instance(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(Conflict, match="held by a process outside Docker"):
            await backend.ensure(node_spec(unique_node(), port))


@pytest.mark.docker
async def test_a_container_of_the_instance_name_made_by_someone_else_is_refused(
    tmp_path: Path, start_instance: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    backend, _ = await start_instance(tmp_path)
    name = unique_node()
    stranger = docker_client.containers.create(
        image_name(backend.settings, GuestOs.RHEL9), name=container_name(backend.settings, name)
    )
    try:
        with pytest.raises(Conflict, match="not dc-sim instance"):
            await backend.ensure(node_spec(name))
        with pytest.raises(Conflict):
            await backend.remove(name)
        assert await backend.list_nodes() == []
    finally:
        stranger.remove(force=True)


def invoke(data_dir: Path, *args: str, input: str | None = None) -> Result:
    """``dcsim --data-dir <data_dir> nodes <args>``."""
    return CliRunner().invoke(nodes, list(args), obj={"data_dir": data_dir}, input=input)


def listed(data_dir: Path, *args: str) -> dict[str, dict[str, Any]]:
    result = invoke(data_dir, "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


@pytest.mark.docker
async def test_nodes_list_stop_and_remove_act_on_one_instance(
    tmp_path: Path, start_instance: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    first, _ = await start_instance(tmp_path / "a")
    second, _ = await start_instance(tmp_path / "b")
    names = [unique_node(), unique_node()]
    for name in names:
        await first.ensure(node_spec(name))
    await second.ensure(node_spec(names[0]))
    ours = {container_name(first.settings, name) for name in names}
    theirs = container_name(second.settings, names[0])

    mine = listed(tmp_path / "a")
    assert set(mine) == ours
    entry = mine[container_name(first.settings, names[0])]
    assert (entry["node"], entry["instance"], entry["status"]) == (names[0], first.instance, "running")
    assert entry["data_dir"] == str((tmp_path / "a").resolve())
    assert entry["ssh_port"] == int(docker_client.containers.get(entry["id"]).ports["22/tcp"][0]["HostPort"])
    assert ours | {theirs} <= set(listed(tmp_path / "a", "--all"))
    assert set(listed(tmp_path / "a", "--instance", second.instance)) == {theirs}
    table = invoke(tmp_path / "a", "list")
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split()[:4] == ["NODE", "STATUS", "SSH", "INSTANCE"]
    assert names[0] in table.stdout and theirs not in table.stdout

    stopped = invoke(tmp_path / "a", "stop")
    assert stopped.exit_code == 0, stopped.output
    assert "[2/2] stopping" in stopped.stderr
    assert {docker_client.containers.get(name).status for name in ours} == {"exited"}
    assert docker_client.containers.get(theirs).status == "running"

    declined = invoke(tmp_path / "a", "remove", input="n\n")
    assert declined.exit_code == 1
    assert f"Remove 2 containers of instance {first.instance}" in declined.stderr
    assert set(listed(tmp_path / "a")) == ours

    only = invoke(tmp_path / "a", "remove", "--yes", names[1])
    assert only.exit_code == 0, only.output
    assert set(listed(tmp_path / "a")) == {container_name(first.settings, names[0])}
    removed = invoke(tmp_path / "a", "remove", "--yes")
    assert removed.exit_code == 0, removed.output
    assert "[1/1] removing" in removed.stderr
    assert listed(tmp_path / "a") == {}
    assert docker_client.containers.get(theirs).status == "running"

    assert invoke(tmp_path / "a", "list", "--all", "--instance", "x").exit_code == 2
    assert invoke(tmp_path / "a", "list", "--all", "--older").exit_code == 2
    missing = invoke(tmp_path / "a", "stop", "no-such-node")
    assert missing.exit_code == 1 and "no such node: no-such-node" in missing.stderr


@pytest.mark.docker
async def test_containers_of_versions_before_instances_are_named_listed_and_removed_with_older(
    tmp_path: Path, start_instance: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    # What dc-sim made before instances: a node-named container labelled sim.managed only.
    name, port = unique_node(), free_port()
    older = docker_client.containers.create(
        image_name(Settings(), GuestOs.RHEL9),
        name=name,
        labels={"sim.managed": "true"},
        ports={"22/tcp": ("127.0.0.1", port)},
    )
    try:
        older.start()
        backend, _ = await start_instance(tmp_path / "new")
        with pytest.raises(Conflict, match=f"held by container {name} of a dc-sim older than instances") as raised:
            await backend.ensure(node_spec(unique_node(), port))
        assert "`dcsim nodes remove --older`" in raised.value.detail
        assert name not in listed(tmp_path)
        entry = listed(tmp_path, "--all")[name]
        assert (entry["node"], entry["instance"], entry["data_dir"]) == (name, None, None)
        before_instances = listed(tmp_path, "--older")
        assert name in before_instances and {e["instance"] for e in before_instances.values()} == {None}
        result = invoke(tmp_path, "remove", "--older", "--yes", name)
        assert result.exit_code == 0, result.output
        assert "[1/1] removing" in result.stderr
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(name).remove(force=True)
