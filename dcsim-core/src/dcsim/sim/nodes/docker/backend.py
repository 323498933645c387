"""The ``docker`` node backend: one container per node, reachable over SSH on loopback.

A node is a container named ``dcsim-<instance>.<node>`` (see :mod:`.instances`),
hostnamed after the node, from the image of its guest OS (``<node_image_prefix>:rhel9``
or ``:ubuntu22``, built by :mod:`dcsim.sim.nodes.image`), labelled with the spec's
labels plus its owner labels (the current labels, which can change, are kept in the node
at :data:`.files.LABELS_PATH`), limited to the spec's CPUs and memory, with sshd
published on ``127.0.0.1:<ssh_port>`` only. Logins use the ed25519 key pair of the data
directory (``<data_dir>/ssh/id_ed25519``), whose public half is mounted read-only as
root's ``authorized_keys`` (with the spec's ``authorized_keys`` after it, in a file of the
node's own under ``<data_dir>/ssh/nodes/``, when it has any).

Containers outlive the server, as VMs outlive a restart of their manager: ``close`` stops
watching and leaves them running, and the next start adopts them (``ensure`` finds the
instance's container and only drives its power). What the engine does not ask for is
observed by :mod:`.observers`.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING

import docker
import docker.errors
import docker.types
import structlog

from dcsim.errors import Conflict, InvalidInput, NotFound, Unavailable
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import NodeBackend, NodeListener, NodeSpec
from dcsim.sim.nodes.docker.engine import Engine, engine_errors
from dcsim.sim.nodes.docker.files import (
    AUTHORIZED_KEYS,
    LABELS_PATH,
    PACKAGES_PATH,
    File,
    authorized_keys_file,
    get_file,
    inside,
    labels_json,
    node_files,
    put_files,
    write_text,
)
from dcsim.sim.nodes.docker.instances import (
    INSTANCE_LABEL,
    OWNER_LABELS,
    SNAPSHOT_LABEL,
    NodeContainer,
    container_name,
    find_containers,
    instance_name,
    owner_labels,
    port_holder,
    remove_snapshots,
    snapshot_image,
)
from dcsim.sim.nodes.docker.observers import Observers

if TYPE_CHECKING:
    from docker.models.containers import Container

    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

# sshd, the containers' PID 1, exits on SIGTERM at once; this bounds a hung one.
_STOP_TIMEOUT = 5
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# How the engine says that a published port is taken (by a container, or by a process).
_PORT_TAKEN = ("port is already allocated", "address already in use")


def image_name(settings: Settings, guest_os: GuestOs) -> str:
    """The node image of ``guest_os``: ``<node_image_prefix>:<guest os>``."""
    return f"{settings.node_image_prefix}:{guest_os.value}"


class DockerNodes(NodeBackend):
    """Nodes as containers of a Docker engine, this instance's only, watched through its API."""

    name = "docker"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        #: This instance's name on the engine (checked here, so a bad one stops the start).
        self.instance = instance_name(settings)
        self._engine = Engine(settings)
        self._observers: Observers | None = None

    # Lifecycle ----------------------------------------------------------------------------

    async def start(self, listener: NodeListener) -> None:
        """Connect and follow the instance's container events; nodes are watched from their first ``ensure`` on."""
        await asyncio.to_thread(self._engine.client)
        adopted = await asyncio.to_thread(find_containers, self._engine.client(), self.instance)
        log.info("docker.nodes.found", instance=self.instance, containers=len(adopted))
        observers = Observers(self._engine, listener)
        self._observers = observers
        await observers.start()

    async def close(self) -> None:
        """Stop the event stream and the in-node watchers; containers keep running."""
        observers, self._observers = self._observers, None
        if observers is not None:
            await observers.close()
        self._engine.close()

    async def ping(self) -> None:
        """Check that the Docker engine answers."""
        await asyncio.to_thread(self._engine.client)

    # Nodes --------------------------------------------------------------------------------

    async def ensure(self, spec: NodeSpec) -> None:
        """Create the node's container unless this instance has it, then bring it to ``spec.power_state``.

        From then on this instance watches the node: its power changes and its files.
        """
        await asyncio.to_thread(self._ensure_container, spec)
        await self.set_power(spec.name, spec.power_state)

    async def set_power(self, name: str, power_state: PowerState) -> None:
        """Start, stop or pause the container; a powered-on node's files are watched on return.

        :class:`Conflict` when its SSH port is taken, naming who holds it.
        """
        await asyncio.to_thread(self._set_power, name, power_state)
        if power_state is PowerState.ON and self._observers is not None:
            await self._observers.watched(name)

    async def power_state(self, name: str) -> PowerState | None:
        """Running is on, paused is suspended, anything else (created, exited, dead) is off."""
        try:
            container = await asyncio.to_thread(self._container, name)
        except NotFound:
            return None
        if container.status == "running":
            return PowerState.ON
        if container.status == "paused":
            return PowerState.SUSPENDED
        return PowerState.OFF

    async def remove(self, name: str) -> None:
        """Remove the container (running or not) and its snapshot images."""
        await asyncio.to_thread(self._remove, name)

    async def snapshot(self, name: str, snapshot_id: str) -> None:
        """Commit the container to :func:`.instances.snapshot_image` (replacing that tag)."""
        repository, _, tag = snapshot_image(self.settings, name, snapshot_id).partition(":")
        if not _TAG.fullmatch(tag):
            raise InvalidInput(f"{snapshot_id!r} cannot be part of an image tag")

        def commit() -> None:
            container = self._container(name)
            with engine_errors(f"snapshot of node {name}"):
                # Without pause=False the engine pauses the node while committing, which
                # the event stream would report as a suspend and a resume.
                container.commit(
                    repository=repository, tag=tag, changes=[f"LABEL {SNAPSHOT_LABEL}={name}"], pause=False
                )

        await asyncio.to_thread(commit)

    async def read_file(self, name: str, path: str) -> str:
        """The text of ``path`` inside the node, read through the Docker API (works when it is off)."""
        file = await asyncio.to_thread(self._get_file, name, inside(path))
        if file is None:
            raise NotFound(f"node {name} has no file {path}")
        return file.data.decode("utf-8", errors="replace")

    async def write_file(self, name: str, path: str, content: str) -> None:
        """Replace ``path`` inside the node, keeping its mode and owner when it exists."""
        target = inside(path)

        def write() -> None:
            write_text(self._engine.client().api, self._own(name), target, content)
            # inotify sees this in a running node; a stopped one is checked all the same.
            if self._observers is not None:
                self._observers.touched(name, target)

        await asyncio.to_thread(write)

    async def packages(self, name: str) -> dict[str, str]:
        """The node's package inventory from :data:`.files.PACKAGES_PATH`."""
        inventory: dict[str, str] = json.loads(await self.read_file(name, PACKAGES_PATH))
        return inventory

    async def labels(self, name: str) -> dict[str, str]:
        """The labels of :data:`.files.LABELS_PATH`, or the container's own for a node made without it."""

        def read() -> dict[str, str]:
            file = self._get_file(name, LABELS_PATH)
            if file is not None:
                labels: dict[str, str] = json.loads(file.data)
                return labels
            container = self._container(name)
            return {key: value for key, value in container.labels.items() if key not in OWNER_LABELS}

        return await asyncio.to_thread(read)

    async def set_labels(self, name: str, labels: dict[str, str]) -> None:
        """Write ``labels`` to :data:`.files.LABELS_PATH` (the container's labels stay as created)."""
        await asyncio.to_thread(
            lambda: put_files(self._engine.client().api, self._own(name), {LABELS_PATH: (labels_json(labels), 0o644)})
        )

    async def list_nodes(self) -> list[str]:
        """Names of the nodes of this instance's containers."""
        containers = await asyncio.to_thread(find_containers, self._engine.client(), self.instance)
        return sorted(container.node for container in containers)

    # Blocking work, run in threads --------------------------------------------------------

    def _container(self, name: str) -> Container:
        """The container of node ``name``; NotFound without it, Conflict when it is not this instance's."""
        with engine_errors(f"node {name}"):
            container = self._engine.client().containers.get(container_name(self.settings, name))
        if container.labels.get(INSTANCE_LABEL) != self.instance:
            # Named as ours but made by hand, or by another instance given this name.
            raise Conflict(
                f"node {name}: container {container.name} is not dc-sim instance {self.instance}'s "
                f"(its owner: {NodeContainer.of(container).owner()})"
            )
        return container

    def _own(self, name: str) -> str:
        """The name of node ``name``'s container, checked to be this instance's."""
        return str(self._container(name).name)

    def _get_file(self, name: str, path: str) -> File | None:
        return get_file(self._engine.client().api, self._own(name), path)

    def _ensure_container(self, spec: NodeSpec) -> None:
        try:
            self._container(spec.name)
        except NotFound:
            self._create_container(spec)
        if self._observers is not None:
            self._observers.follow(spec.name)

    def _create_container(self, spec: NodeSpec) -> None:
        client = self._engine.client()
        image = image_name(self.settings, spec.guest_os)
        try:
            client.images.get(image)
        except docker.errors.NotFound as exc:
            raise Unavailable(f"node image {image} is missing: build it with `dcsim nodes build-image`") from exc
        public_key = authorized_keys_file(self.settings, spec.name, spec.authorized_keys)
        name = container_name(self.settings, spec.name)
        with engine_errors(f"create node {spec.name}"):
            try:
                client.containers.create(
                    image,
                    name=name,
                    hostname=spec.name,
                    labels=spec.labels | owner_labels(self.settings, spec.name),
                    # The engine refuses more CPUs than it has; a big VM gets them all.
                    nano_cpus=min(spec.cpu, self._engine.cpus) * 1_000_000_000,
                    mem_limit=f"{spec.memory_mb}m",
                    ports={"22/tcp": ("127.0.0.1", spec.ssh_port)},
                    # A mount, not a volume: a volume would be recorded in the image
                    # config of snapshots, and containers of those could not start.
                    mounts=[docker.types.Mount(AUTHORIZED_KEYS, str(public_key), type="bind", read_only=True)],
                )
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
                # Created meanwhile by another ensure of the same node (checked to be ours).
                self._container(spec.name)
                return
            files = node_files(spec.name, spec.guest_os) | {LABELS_PATH: (labels_json(spec.labels), 0o644)}
            put_files(client.api, name, files)

    def _set_power(self, name: str, power_state: PowerState) -> None:
        container = self._container(name)
        status = container.status
        with engine_errors(f"power {power_state.value} node {name}"), self._engine.exec_lock(str(container.name)):
            if status == "paused" and power_state is not PowerState.SUSPENDED:
                container.unpause()
                status = "running"
            if power_state is PowerState.OFF:
                if status in {"running", "restarting"}:
                    container.stop(timeout=_STOP_TIMEOUT)
                return
            if status not in {"running", "paused"}:
                self._start(name, container)
            if power_state is PowerState.SUSPENDED and status != "paused":
                container.pause()

    def _start(self, name: str, container: Container) -> None:
        try:
            container.start()
        except docker.errors.APIError as exc:
            if not any(words in str(exc.explanation) for words in _PORT_TAKEN):
                raise
            port = NodeContainer.of(container).ssh_port
            holder = port_holder(self._engine.client(), port) if port is not None else "another process"
            raise Conflict(f"node {name} cannot start: its SSH port 127.0.0.1:{port} is held by {holder}") from exc

    def _remove(self, name: str) -> None:
        try:
            container: Container | None = self._container(name)
        except NotFound:
            container = None
        if self._observers is not None:
            self._observers.forget(name, container.id if container is not None else None)
        client = self._engine.client()
        with engine_errors(f"remove node {name}"):
            if container is not None:
                self._engine.forget(str(container.name))
                container.remove(force=True)
            remove_snapshots(client, self.instance, name)
