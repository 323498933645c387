"""The node backend contract: every test runs against the virtual and the docker backend."""

from __future__ import annotations

import asyncio
import difflib
import json
import subprocess
from collections.abc import Callable

import docker
import pytest

from dcsim.errors import NotFound
from dcsim.settings import Settings
from dcsim.sim.guests import PACKAGES, config_files
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.nodes.docker import LABELS_PATH, container_name, owner_labels, snapshot_image

from .conftest import Recorder

SSHD_CONFIG = "/etc/ssh/sshd_config"
# Seeded identically by both backends (docker leaves /etc/hosts, hostname, resolv.conf to the engine).
SEEDED = ["/etc/os-release", "/etc/ssh/sshd_config", "/etc/sysctl.conf", "/etc/sudoers", "/etc/passwd"]
# Long enough for a stray second report of one change to have arrived.
SETTLE_SECONDS = 1.0


def expected_diff(path: str, old: str, new: str) -> str:
    relative = path.lstrip("/")
    lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{relative}", f"b/{relative}")
    return "".join(lines)


async def test_ensure_creates_the_node_once(backend: NodeBackend, make_spec: Callable[..., NodeSpec]) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    assert spec.name in await backend.list_nodes()
    assert await backend.power_state(spec.name) is PowerState.ON
    for path in SEEDED:
        assert await backend.read_file(spec.name, path) == config_files(spec.name, spec.guest_os)[path]
    assert spec.name in await backend.read_file(spec.name, "/etc/hostname")

    await backend.write_file(spec.name, "/etc/motd", "kept\n")
    await backend.ensure(spec)
    assert (await backend.list_nodes()).count(spec.name) == 1
    assert await backend.read_file(spec.name, "/etc/motd") == "kept\n"


async def test_ensure_of_an_existing_node_changes_its_power_state(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec]
) -> None:
    spec = make_spec(power_state=PowerState.OFF)
    await backend.ensure(spec)
    assert await backend.power_state(spec.name) is PowerState.OFF
    await backend.ensure(make_spec(name=spec.name, power_state=PowerState.ON))
    assert await backend.power_state(spec.name) is PowerState.ON


async def test_power_round_trip(backend: NodeBackend, make_spec: Callable[..., NodeSpec]) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    for state in [PowerState.SUSPENDED, PowerState.ON, PowerState.OFF, PowerState.SUSPENDED, PowerState.OFF]:
        await backend.set_power(spec.name, state)
        assert await backend.power_state(spec.name) is state
    await backend.set_power(spec.name, PowerState.ON)
    assert await backend.power_state(spec.name) is PowerState.ON


async def test_unknown_node(backend: NodeBackend) -> None:
    assert await backend.power_state("dcsim-test-missing") is None
    with pytest.raises(NotFound):
        await backend.set_power("dcsim-test-missing", PowerState.ON)
    with pytest.raises(NotFound):
        await backend.read_file("dcsim-test-missing", "/etc/hostname")
    with pytest.raises(NotFound):
        await backend.snapshot("dcsim-test-missing", "snap-1")
    with pytest.raises(NotFound):
        await backend.labels("dcsim-test-missing")
    with pytest.raises(NotFound):
        await backend.set_labels("dcsim-test-missing", {"sim.env": "test"})
    await backend.remove("dcsim-test-missing")


async def test_read_and_write_files(backend: NodeBackend, make_spec: Callable[..., NodeSpec]) -> None:
    spec = make_spec(power_state=PowerState.OFF)
    await backend.ensure(spec)
    with pytest.raises(NotFound):
        await backend.read_file(spec.name, "/etc/dcsim/app.conf")
    await backend.write_file(spec.name, "/etc/dcsim/app.conf", "level = 3\n")
    assert await backend.read_file(spec.name, "/etc/dcsim/app.conf") == "level = 3\n"
    await backend.write_file(spec.name, SSHD_CONFIG, "Port 2222\n")
    assert await backend.read_file(spec.name, SSHD_CONFIG) == "Port 2222\n"


@pytest.mark.parametrize("guest_os", list(GuestOs))
async def test_packages_and_identity_per_guest_os(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], guest_os: GuestOs
) -> None:
    spec = make_spec(guest_os=guest_os, power_state=PowerState.OFF)
    await backend.ensure(spec)
    assert await backend.packages(spec.name) == PACKAGES[guest_os]
    assert f'PRETTY_NAME="{guest_os.pretty_name}"' in await backend.read_file(spec.name, "/etc/os-release")


async def test_snapshot_and_remove(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], settings: Settings, backend_name: str
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    await backend.write_file(spec.name, "/etc/motd", "before\n")
    await backend.snapshot(spec.name, "snap-1")
    await backend.write_file(spec.name, "/etc/motd", "after\n")
    assert snapshot_motd(backend_name, settings, spec.name, "snap-1") == "before\n"

    await backend.remove(spec.name)
    assert spec.name not in await backend.list_nodes()
    assert await backend.power_state(spec.name) is None
    assert snapshot_motd(backend_name, settings, spec.name, "snap-1") is None
    await backend.remove(spec.name)


def snapshot_motd(backend_name: str, settings: Settings, node: str, snapshot_id: str) -> str | None:
    """/etc/motd as a snapshot keeps it, None when there is no such snapshot."""
    if backend_name == "virtual":
        path = settings.data_dir / "nodes" / node / "snapshots" / snapshot_id / "root" / "etc" / "motd"
        return path.read_text() if path.exists() else None
    image = snapshot_image(settings, node, snapshot_id)
    client = docker.from_env()
    try:
        client.images.get(image)
        output: bytes = client.containers.run(image, ["cat", "/etc/motd"], remove=True)
    except docker.errors.ImageNotFound:
        return None
    finally:
        client.close()
    return output.decode()


async def test_list_nodes(backend: NodeBackend, make_spec: Callable[..., NodeSpec]) -> None:
    first, second = make_spec(power_state=PowerState.OFF), make_spec(power_state=PowerState.OFF)
    await backend.ensure(first)
    await backend.ensure(second)
    names = await backend.list_nodes()
    assert {first.name, second.name} <= set(names)
    assert names == sorted(names)


async def test_editing_sshd_config_inside_the_node_is_reported_as_a_diff(
    backend: NodeBackend,
    make_spec: Callable[..., NodeSpec],
    listener: Recorder,
    settings: Settings,
    backend_name: str,
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    old = await backend.read_file(spec.name, SSHD_CONFIG)
    new = old.replace("PermitRootLogin prohibit-password", "PermitRootLogin yes")

    sed = ["sed", "-i", "s/^PermitRootLogin .*/PermitRootLogin yes/"]
    if backend_name == "virtual":
        # What an administrator's editor or a tool does to the tree on disk.
        subprocess.run(
            [*sed, str(settings.data_dir / "nodes" / spec.name / "root" / "etc/ssh/sshd_config")], check=True
        )
    else:
        client = docker.from_env()
        exit_code, output = client.containers.get(container_name(settings, spec.name)).exec_run([*sed, SSHD_CONFIG])
        client.close()
        assert exit_code == 0, output

    await listener.wait_for(lambda: bool(listener.file_reports(spec.name, SSHD_CONFIG)))
    await asyncio.sleep(SETTLE_SECONDS)
    assert listener.file_reports(spec.name, SSHD_CONFIG) == [expected_diff(SSHD_CONFIG, old, new)]
    assert await backend.read_file(spec.name, SSHD_CONFIG) == new


async def test_files_written_through_the_backend_are_reported(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], listener: Recorder
) -> None:
    spec = make_spec()
    path = "/etc/dcsim-welcome"
    await backend.ensure(spec)
    await backend.write_file(spec.name, path, "welcome\n")
    await listener.wait_for(lambda: bool(listener.file_reports(spec.name, path)))
    assert listener.file_reports(spec.name, path) == [
        "--- /dev/null\n+++ b/etc/dcsim-welcome\n@@ -0,0 +1 @@\n+welcome\n"
    ]

    await backend.write_file(spec.name, path, "welcome\nno newline")
    await listener.wait_for(lambda: len(listener.file_reports(spec.name, path)) == 2)
    assert listener.file_reports(spec.name, path)[1] == (
        "--- a/etc/dcsim-welcome\n+++ b/etc/dcsim-welcome\n@@ -1 +1,2 @@\n welcome\n+no newline\n"
        "\\ No newline at end of file\n"
    )


async def test_files_written_while_the_node_is_off_are_reported(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], listener: Recorder
) -> None:
    spec = make_spec(power_state=PowerState.OFF)
    await backend.ensure(spec)
    old = await backend.read_file(spec.name, "/etc/sysctl.conf")
    await backend.write_file(spec.name, "/etc/sysctl.conf", old + "vm.overcommit_memory = 1\n")
    await listener.wait_for(lambda: bool(listener.file_reports(spec.name, "/etc/sysctl.conf")))
    assert listener.file_reports(spec.name, "/etc/sysctl.conf") == [
        expected_diff("/etc/sysctl.conf", old, old + "vm.overcommit_memory = 1\n")
    ]


async def test_unchanged_content_is_not_reported(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], listener: Recorder
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    content = await backend.read_file(spec.name, "/etc/sysctl.conf")
    await backend.write_file(spec.name, "/etc/sysctl.conf", content)
    await asyncio.sleep(SETTLE_SECONDS)
    assert listener.file_reports(spec.name, "/etc/sysctl.conf") == []


async def test_labels_are_replaced_whatever_the_power_state(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], listener: Recorder, backend_name: str, settings: Settings
) -> None:
    spec = make_spec(power_state=PowerState.OFF, labels={"sim.platform": "ucs", "sim.ucs.sp": ""})
    await backend.ensure(spec)
    assert await backend.labels(spec.name) == spec.labels
    associated = {"sim.platform": "ucs", "sim.ucs.sp": "SP-web-01", "sim.ucs.macs": "00:25:b5:00:00:01"}
    await backend.set_labels(spec.name, associated)
    assert await backend.labels(spec.name) == associated
    await backend.set_power(spec.name, PowerState.ON)
    assert await backend.labels(spec.name) == associated
    await asyncio.sleep(SETTLE_SECONDS)
    reported = len(listener.files)
    await backend.set_labels(spec.name, spec.labels)
    assert await backend.labels(spec.name) == spec.labels
    await backend.set_labels(spec.name, associated)
    # Ensuring an existing node changes only its power state, not its labels.
    await backend.ensure(spec)
    assert await backend.labels(spec.name) == associated

    if backend_name == "docker":
        # Inside the node for Ansible to read; the container keeps its creation labels.
        assert json.loads(await backend.read_file(spec.name, LABELS_PATH)) == associated
        client = docker.from_env()
        container_labels = client.containers.get(container_name(settings, spec.name)).labels
        client.close()
        assert container_labels == spec.labels | owner_labels(settings, spec.name)
    # Labels are not configuration under /etc: relabelling is no file change.
    await asyncio.sleep(SETTLE_SECONDS)
    assert listener.files[reported:] == []
