"""Which dc-sim instance owns which container of a shared Docker engine.

Every container of the docker backend is named ``dcsim-<instance>.<node>`` and labelled
with its owner: :data:`INSTANCE_LABEL` (the instance name, setting ``instance``, by
default derived from the data directory), :data:`DATA_DIR_LABEL` (where that instance
keeps its data, for people reading ``docker ps``), :data:`NODE_LABEL` (the node's name
in the world) and :data:`MANAGED_LABEL` (every dc-sim container, of any version). An
instance acts on containers of its own name only; ``dcsim nodes ... --all`` reaches
every instance's, and ``--older`` those made before instances existed (named after the
node, labelled ``sim.managed`` only).
Instance names have no dot, so ``<instance>.<node>`` never reads two ways.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import docker
import docker.errors

from dcsim.errors import ConfigError
from dcsim.sim.nodes.docker.engine import engine_errors

if TYPE_CHECKING:
    from docker.models.containers import Container

    from dcsim.settings import Settings

#: Label of every dc-sim container, of every version (older ones carry no other owner label).
MANAGED_LABEL = "sim.managed"
#: The owning instance's name.
INSTANCE_LABEL = "dcsim.instance"
#: The owning instance's data directory (informational: the instance name decides).
DATA_DIR_LABEL = "dcsim.data_dir"
#: The node's name in the world (the container's name carries the instance prefix).
NODE_LABEL = "dcsim.node"
#: Labels that say who owns a container; a node's own labels are the rest.
OWNER_LABELS = frozenset({MANAGED_LABEL, INSTANCE_LABEL, DATA_DIR_LABEL, NODE_LABEL})
#: Label of snapshot images: the node they were taken of.
SNAPSHOT_LABEL = "sim.snapshot.node"

_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")

#: Receives one line of progress at a time.
Progress = Callable[[str], None]


def instance_name(settings: Settings) -> str:
    """This instance's name: the ``instance`` setting, else 10 hex digits of its data directory's path.

    :class:`ConfigError` for a name Docker could not carry in a container name.
    """
    if settings.instance is None:
        return hashlib.sha256(str(data_dir(settings)).encode()).hexdigest()[:10]
    if not _INSTANCE.fullmatch(settings.instance):
        raise ConfigError(
            f"setting instance: {settings.instance!r} is not allowed; use 1-40 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return settings.instance


def data_dir(settings: Settings) -> Path:
    """The data directory as an absolute path (what the default instance name is derived from)."""
    return settings.data_dir.expanduser().resolve()


def container_prefix(settings: Settings) -> str:
    """What every container name of this instance starts with: ``dcsim-<instance>.``."""
    return f"dcsim-{instance_name(settings)}."


def container_name(settings: Settings, node: str) -> str:
    """The container of ``node`` in this instance: ``dcsim-<instance>.<node>``."""
    return container_prefix(settings) + node


def owner_labels(settings: Settings, node: str) -> dict[str, str]:
    """The labels that mark ``node``'s container as this instance's."""
    return {
        MANAGED_LABEL: "true",
        INSTANCE_LABEL: instance_name(settings),
        DATA_DIR_LABEL: str(data_dir(settings)),
        NODE_LABEL: node,
    }


def snapshot_image(settings: Settings, node: str, snapshot_id: str) -> str:
    """The image a snapshot of ``node`` is committed to: ``<prefix>-snapshot:dcsim-<instance>.<node>-<id>``."""
    return f"{settings.node_image_prefix}-snapshot:{container_name(settings, node)}-{snapshot_id}"


@attrs.frozen
class NodeContainer:
    """A dc-sim container of the engine, as ``dcsim nodes list`` shows it."""

    name: str
    id: str
    status: str
    #: The node's name in the world; for containers of older versions, the container's.
    node: str
    #: The owning instance; None for containers made before instances existed.
    instance: str | None
    data_dir: str | None
    #: The loopback port sshd is published on, None when it publishes none.
    ssh_port: int | None

    @classmethod
    def of(cls, container: Container) -> NodeContainer:
        """Read the record from a container listed or fetched by the SDK."""
        labels = container.labels
        name = str(container.name)
        return cls(
            name=name,
            id=str(container.id),
            status=str(container.status),
            node=labels.get(NODE_LABEL, name),
            instance=labels.get(INSTANCE_LABEL),
            data_dir=labels.get(DATA_DIR_LABEL),
            ssh_port=_ssh_port(container),
        )

    def owner(self) -> str:
        """Who owns it, in words, with the command that frees it."""
        if self.instance is None:
            return "a dc-sim older than instances (`dcsim nodes remove --older` frees it)"
        return (
            f"dc-sim instance {self.instance} (data dir {self.data_dir}; "
            f"`dcsim nodes stop --instance {self.instance}` frees it)"
        )


def _ssh_port(container: Container) -> int | None:
    bindings = (container.attrs.get("HostConfig", {}).get("PortBindings") or {}).get("22/tcp") or []
    ports = [int(binding["HostPort"]) for binding in bindings if binding.get("HostPort")]
    return ports[0] if ports else None


def find_containers(client: docker.DockerClient, instance: str | None, *, older: bool = False) -> list[NodeContainer]:
    """The dc-sim containers of ``instance`` (None: of every instance and version), by name.

    With ``older``, only those made before instances existed (they carry no owner).
    """
    label = MANAGED_LABEL + "=true" if instance is None else f"{INSTANCE_LABEL}={instance}"
    with engine_errors("list nodes"):
        containers = client.containers.list(all=True, filters={"label": label})
    records = (NodeContainer.of(container) for container in containers)
    return sorted((c for c in records if not older or c.instance is None), key=lambda c: c.name)


def port_holder(client: docker.DockerClient, port: int) -> str:
    """Who holds loopback ``port``, in words: a running container publishing it, or a process outside Docker."""
    with engine_errors(f"find who holds port {port}"):
        running = client.containers.list()
    for container in running:
        bindings = container.attrs.get("HostConfig", {}).get("PortBindings") or {}
        for binding in (entry for entries in bindings.values() for entry in entries or []):
            if str(binding.get("HostPort")) == str(port):
                if container.labels.get(MANAGED_LABEL) != "true":
                    return f"container {container.name} (not dc-sim's)"
                record = NodeContainer.of(container)
                return f"container {record.name} of {record.owner()}"
    return "a process outside Docker"


def stop_containers(client: docker.DockerClient, containers: Iterable[NodeContainer], progress: Progress) -> int:
    """Stop the running or paused ones of ``containers``, saying so one at a time; return how many."""
    todo = [c for c in containers if c.status in {"running", "paused", "restarting"}]
    for number, record in enumerate(todo, 1):
        progress(f"[{number}/{len(todo)}] stopping {record.name}")
        with engine_errors(f"stop {record.name}"):
            container = client.containers.get(record.id)
            if container.status == "paused":
                container.unpause()
            # sshd, the containers' PID 1, exits on SIGTERM at once; this bounds a hung one.
            container.stop(timeout=5)
    return len(todo)


def remove_containers(client: docker.DockerClient, containers: Iterable[NodeContainer], progress: Progress) -> int:
    """Remove ``containers`` (running or not) and their snapshot images, saying so one at a time."""
    todo = list(containers)
    for number, record in enumerate(todo, 1):
        progress(f"[{number}/{len(todo)}] removing {record.name}")
        with engine_errors(f"remove {record.name}"):
            with contextlib.suppress(docker.errors.NotFound):  # removed meanwhile
                client.containers.get(record.id).remove(force=True)
            remove_snapshots(client, record.instance, record.node)
    return len(todo)


def remove_snapshots(client: docker.DockerClient, instance: str | None, node: str) -> None:
    """Remove the snapshot images of ``node`` of ``instance`` (None: made before instances existed)."""
    for image in client.images.list(filters={"label": f"{SNAPSHOT_LABEL}={node}"}):
        # A commit keeps the container's labels: the owner is the container's.
        if image.id and image.labels.get(INSTANCE_LABEL) == instance:
            client.images.remove(image.id, force=True)
