"""Fixtures of the node backend contract suite: every test runs on each backend.

The virtual backend needs nothing; the docker backend needs a running Docker engine and
the node images (``tox -e docker`` builds them first). Without them docker tests are
skipped, except on CI (``CI`` set), where they fail and say what is missing.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import docker
import docker.errors
import pytest

from dcsim.drivers import driver_class
from dcsim.errors import Unavailable
from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.nodes.docker import connect, image_name

BACKENDS = ["virtual", pytest.param("docker", marks=pytest.mark.docker)]
#: How long a backend has to report what it observed (the issue's acceptance bound).
REPORT_TIMEOUT = 2.0


class Recorder:
    """A node listener that keeps every report and lets tests wait for one."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str, str]] = []
        self.power: list[tuple[str, PowerState]] = []
        self._condition = asyncio.Condition()

    async def node_file_changed(self, node: str, path: str, diff: str) -> None:
        async with self._condition:
            self.files.append((node, path, diff))
            self._condition.notify_all()

    async def node_power_observed(self, node: str, power_state: PowerState) -> None:
        async with self._condition:
            self.power.append((node, power_state))
            self._condition.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = REPORT_TIMEOUT) -> None:
        """Return once ``predicate()`` holds; fail the test after ``timeout`` seconds."""
        async with self._condition:
            await asyncio.wait_for(self._condition.wait_for(predicate), timeout)

    def file_reports(self, node: str, path: str) -> list[str]:
        """The diffs reported for ``path`` of ``node``, in order."""
        return [diff for name, reported, diff in self.files if (name, reported) == (node, path)]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of the Docker engine with the node images; skip (fail on CI) without them."""
    settings = Settings()
    try:
        client = connect(settings)
    except Unavailable as exc:
        _missing(f"{exc.detail}; start dockerd (scripts/services.sh does)")
    missing = []
    for guest_os in GuestOs:
        try:
            client.images.get(image_name(settings, guest_os))
        except docker.errors.ImageNotFound:
            missing.append(image_name(settings, guest_os))
    if missing:
        _missing(f"node images missing: {', '.join(missing)}; build them with `dcsim nodes build-image`")
    yield client
    client.close()


def _missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"docker node tests cannot run: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """The node backend under test."""
    if request.param == "docker":
        request.getfixturevalue("docker_client")
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, backend_name: str) -> Settings:
    """Settings of the backend under test, with a data directory of the test's own."""
    return Settings(data_dir=tmp_path / "data", node_backend=backend_name)


@pytest.fixture
def listener() -> Recorder:
    """What the backend reports to."""
    return Recorder()


@pytest.fixture
async def backend(settings: Settings, listener: Recorder) -> AsyncIterator[NodeBackend]:
    """A started backend of the kind under test; nodes made with ``make_spec`` are removed after."""
    nodes: NodeBackend = driver_class("dcsim.nodes", settings.node_backend)(settings)
    await nodes.start(listener)
    yield nodes
    await nodes.close()


@pytest.fixture
async def make_spec(backend: NodeBackend) -> AsyncIterator[Callable[..., NodeSpec]]:
    """``make_spec(**fields) -> NodeSpec``: a node of a unique name and a free port, removed at teardown."""
    names: list[str] = []

    def make(**fields: Any) -> NodeSpec:
        values: dict[str, Any] = {
            "name": f"dcsim-test-{uuid.uuid4().hex[:10]}",
            "guest_os": GuestOs.RHEL9,
            "ssh_port": free_port(),
            "cpu": 1,
            "memory_mb": 256,
            "power_state": PowerState.ON,
            "labels": {"sim.platform": "vmware", "sim.env": "test"},
        }
        values.update(fields)
        names.append(values["name"])
        return NodeSpec(**values)

    yield make
    for name in names:
        await backend.remove(name)
