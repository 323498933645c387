"""The ``docker`` node backend: one container per node, reachable over SSH on loopback.

A node is a container named after it (hostname too) from the image of its guest OS
(``<node_image_prefix>:rhel9`` or ``:ubuntu22``, built by :mod:`dcsim.sim.nodes.image`),
labelled with the spec's labels plus ``sim.managed=true`` (the current labels, which
can change, are kept in the node at :data:`LABELS_PATH`), limited to the spec's CPUs
and memory, with sshd published on ``127.0.0.1:<ssh_port>`` only. Logins use the
ed25519 key pair of the data directory (``<data_dir>/ssh/id_ed25519``), whose public
half is mounted read-only as root's ``authorized_keys``.

What the engine does not ask for is observed and reported to the listener, for the
nodes this instance was given with ``ensure`` (an engine may hold other instances' too):

- power: Docker's event stream (``start``, ``die``, ``pause`` ...) of managed containers,
  so that ``docker stop`` typed by someone else reaches the engine;
- files: ``inotifywait`` runs inside every running node, its output streamed back
  through the Docker API (no network path from node to host), each touched path read
  back through the API and diffed against the text last seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import os
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import attrs
import docker
import docker.errors
import docker.types
import docker.utils
import requests
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dcsim.errors import Conflict, DcsimError, InvalidInput, NotFound, Unavailable
from dcsim.sim.guests import PACKAGES, config_files
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import WATCHED_DIR, NodeBackend, NodeListener, NodeSpec
from dcsim.sim.nodes.changes import FileChanges

if TYPE_CHECKING:
    from docker.models.containers import Container

    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

#: Label every container of this backend carries; the event stream is filtered on it.
MANAGED_LABEL = "sim.managed"
#: Label of snapshot images: the node they were taken of.
SNAPSHOT_LABEL = "sim.snapshot.node"
AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"
#: Where a docker node keeps its package inventory (the patch module reads and updates it).
PACKAGES_PATH = "/var/lib/dcsim/packages.json"
#: Where a docker node keeps its current labels (container labels are fixed at creation);
#: outside /etc, so relabelling is not drift, and readable by Ansible inside the node.
LABELS_PATH = "/var/lib/dcsim/labels.json"
#: Files the engine bind-mounts into every container and rewrites when it starts one:
#: writing ours would be hidden or undone, so these stay the engine's.
ENGINE_FILES = frozenset({"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"})
# sshd, the containers' PID 1, exits on SIGTERM at once; this bounds a hung one.
_STOP_TIMEOUT = 5
# Setting up inotify watches on /etc and reading it back takes well under a second.
_WATCH_TIMEOUT = 15.0
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_OBSERVED = {
    "start": PowerState.ON,
    "unpause": PowerState.ON,
    "die": PowerState.OFF,
    "stop": PowerState.OFF,
    "pause": PowerState.SUSPENDED,
}


def image_name(settings: Settings, guest_os: GuestOs) -> str:
    """The node image of ``guest_os``: ``<node_image_prefix>:<guest os>``."""
    return f"{settings.node_image_prefix}:{guest_os.value}"


def snapshot_repository(settings: Settings) -> str:
    """The repository that snapshot images are committed to (tag ``<node>-<snapshot id>``)."""
    return f"{settings.node_image_prefix}-snapshot"


def _client_kwargs(settings: Settings) -> dict[str, Any]:
    if settings.docker_url:
        return {"base_url": settings.docker_url}
    # DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the docker CLI reads them.
    return dict(docker.utils.kwargs_from_env())


def connect(settings: Settings) -> docker.DockerClient:
    """A client of the configured Docker engine; :class:`Unavailable` when it does not answer."""
    try:
        client = docker.DockerClient(**_client_kwargs(settings))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise Unavailable(f"Docker engine unreachable: {exc}") from exc
    return client


def ssh_key_path(settings: Settings) -> Path:
    """The private key that logs in to docker nodes (``.pub`` beside it)."""
    return settings.data_dir / "ssh" / "id_ed25519"


def ensure_ssh_key(settings: Settings) -> Path:
    """Generate the data directory's ed25519 key pair unless it exists; return the private key's path.

    The private key is an OpenSSH file of mode 0600; the public key is written next to it
    as ``id_ed25519.pub`` in ``authorized_keys`` format. Safe when several processes
    race: the first private key linked into place wins and the others use it.
    """
    private = ssh_key_path(settings)
    private.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not private.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        work = private.with_name(f".{private.name}.{uuid.uuid4().hex}")
        with os.fdopen(os.open(work, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(pem)
        try:
            os.link(work, private)
        except FileExistsError:
            pass
        finally:
            work.unlink()
    key = serialization.load_ssh_private_key(private.read_bytes(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    public_path = private.with_name(private.name + ".pub")
    line = public + b" dcsim-nodes\n"
    if not public_path.exists() or public_path.read_bytes() != line:
        work = public_path.with_name(f".{public_path.name}.{uuid.uuid4().hex}")
        work.write_bytes(line)
        work.chmod(0o644)
        work.replace(public_path)
    return private


def node_files(hostname: str, guest_os: GuestOs) -> dict[str, tuple[bytes, int]]:
    """What dc-sim writes into a docker node: path to (content, mode).

    The baseline ``/etc`` of :func:`dcsim.sim.guests.config_files` less the engine's own
    files, and the package inventory at :data:`PACKAGES_PATH`.
    """
    files = {
        path: (text.encode(), 0o440 if path == "/etc/sudoers" else 0o644)
        for path, text in config_files(hostname, guest_os).items()
        if path not in ENGINE_FILES
    }
    inventory = json.dumps(PACKAGES[guest_os], indent=2, sort_keys=True) + "\n"
    files[PACKAGES_PATH] = (inventory.encode(), 0o644)
    return files


def tar_files(files: dict[str, tuple[bytes, int]], prefix: str = "") -> bytes:
    """A tar archive of ``files`` (path to content and mode), owned by root, under ``prefix``."""
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, (data, mode) in files.items():
            info = tarfile.TarInfo(prefix + path.lstrip("/"))
            info.size = len(data)
            info.mode = mode
            info.mtime = now
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@contextlib.contextmanager
def _engine_errors(what: str) -> Iterator[None]:
    """Translate Docker SDK errors into dc-sim's error hierarchy."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise NotFound(f"{what}: {exc.explanation}") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            raise Conflict(f"{what}: {exc.explanation}") from exc
        raise DcsimError(f"{what}: {exc.explanation or exc}") from exc
    except (docker.errors.DockerException, requests.exceptions.ConnectionError) as exc:
        raise Unavailable(f"{what}: Docker engine unreachable: {exc}") from exc


@attrs.frozen
class _File:
    """A regular file read out of a node."""

    data: bytes
    mode: int
    uid: int
    gid: int


def _read_file(chunks: Iterator[bytes]) -> _File | None:
    """The file in a ``get_archive`` stream, None when the path is not a regular file."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.next()
        extracted = tar.extractfile(member) if member is not None and member.isfile() else None
        if member is None or extracted is None:
            return None
        return _File(data=extracted.read(), mode=member.mode, uid=member.uid, gid=member.gid)


class DockerNodes(NodeBackend):
    """Nodes as containers of a Docker engine, watched through its API."""

    name = "docker"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: docker.DockerClient | None = None
        self._connect_lock = threading.Lock()
        self._cpus = 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: NodeListener | None = None
        self._changes: FileChanges | None = None
        self._events: _EventStream | None = None
        # Guards the dicts below, which the event thread and the event loop share.
        self._lock = threading.Lock()
        # The nodes this instance was given (ensure): only these are watched and reported
        # on, as other dc-sim instances may keep their nodes on the same engine.
        self._nodes: set[str] = set()
        self._watchers: dict[str, _Watcher] = {}
        # Container ids being removed by dc-sim (their death is not news) and the last
        # power state reported per container id (Docker says "die" and "stop" for one stop).
        self._removing: set[str] = set()
        self._reported: dict[str, PowerState] = {}
        self._exec_locks: dict[str, threading.Lock] = {}

    # Lifecycle ----------------------------------------------------------------------------

    async def start(self, listener: NodeListener) -> None:
        """Connect and follow the engine's events; nodes are watched from their first ``ensure`` on."""
        self._loop = asyncio.get_running_loop()
        self._listener = listener
        self._changes = FileChanges(self._loop, listener, self._read_text)
        await asyncio.to_thread(self._connected)
        events = _EventStream(self)
        self._events = events
        events.start()
        await asyncio.to_thread(events.ready.wait, _WATCH_TIMEOUT)

    async def close(self) -> None:
        """Stop the event stream and the in-node watchers; containers keep running."""
        events, self._events = self._events, None
        if events is not None:
            events.stop()
        with self._lock:
            watchers = list(self._watchers.values())
            self._watchers.clear()
        await asyncio.gather(*(asyncio.to_thread(watcher.stop) for watcher in watchers))
        changes, self._changes = self._changes, None
        if changes is not None:
            await changes.close()
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def ping(self) -> None:
        """Check that the Docker engine answers."""
        await asyncio.to_thread(self._connected)

    def _connected(self) -> docker.DockerClient:
        with self._connect_lock:
            if self._client is None:
                client = connect(self.settings)
                with _engine_errors("docker info"):
                    self._cpus = int(client.info()["NCPU"])
                self._client = client
            return self._client

    # Nodes --------------------------------------------------------------------------------

    async def ensure(self, spec: NodeSpec) -> None:
        """Create the node's container unless it exists, then bring it to ``spec.power_state``.

        From then on this instance watches the node: its power changes and its files.
        """
        await asyncio.to_thread(self._ensure_container, spec)
        await self.set_power(spec.name, spec.power_state)

    async def set_power(self, name: str, power_state: PowerState) -> None:
        """Start, stop or pause the container; a powered-on node's files are watched on return."""
        await asyncio.to_thread(self._set_power, name, power_state)
        if power_state is PowerState.ON and self._events is not None:
            watcher = await asyncio.to_thread(self._watch, name)
            if watcher is not None:
                await asyncio.to_thread(watcher.ready.wait, _WATCH_TIMEOUT)

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
        if self._changes is not None:
            self._changes.forget(name)

    async def snapshot(self, name: str, snapshot_id: str) -> None:
        """Commit the container to ``<prefix>-snapshot:<name>-<snapshot_id>`` (replacing that tag)."""
        tag = f"{name}-{snapshot_id}"
        if not _TAG.fullmatch(tag):
            raise InvalidInput(f"{snapshot_id!r} cannot be part of an image tag")

        def commit() -> None:
            container = self._container(name)
            with _engine_errors(f"snapshot of node {name}"):
                # Without pause=False the engine pauses the node while committing, which
                # the event stream would report as a suspend and a resume.
                container.commit(
                    repository=snapshot_repository(self.settings),
                    tag=tag,
                    changes=[f"LABEL {SNAPSHOT_LABEL}={name}"],
                    pause=False,
                )

        await asyncio.to_thread(commit)

    async def read_file(self, name: str, path: str) -> str:
        """The text of ``path`` inside the node, read through the Docker API (works when it is off)."""
        file = await asyncio.to_thread(self._get_file, name, _inside(path))
        if file is None:
            raise NotFound(f"node {name} has no file {path}")
        return file.data.decode("utf-8", errors="replace")

    async def write_file(self, name: str, path: str, content: str) -> None:
        """Replace ``path`` inside the node, keeping its mode and owner when it exists."""
        inside = _inside(path)

        def write() -> None:
            current = self._get_file(name, inside)
            data = content.encode()
            info = tarfile.TarInfo(inside.lstrip("/"))
            info.size = len(data)
            info.mtime = int(time.time())
            if current is not None:
                info.mode, info.uid, info.gid = current.mode, current.uid, current.gid
            else:
                info.mode = 0o644
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as tar:
                tar.addfile(info, io.BytesIO(data))
            with _engine_errors(f"write {path} in node {name}"):
                self._connected().api.put_archive(name, "/", buffer.getvalue())
            # inotify sees this in a running node; a stopped one is checked all the same.
            self._touched(name, inside)

        await asyncio.to_thread(write)

    async def packages(self, name: str) -> dict[str, str]:
        """The node's package inventory from :data:`PACKAGES_PATH`."""
        inventory: dict[str, str] = json.loads(await self.read_file(name, PACKAGES_PATH))
        return inventory

    async def labels(self, name: str) -> dict[str, str]:
        """The labels of :data:`LABELS_PATH`, or the container's own for a node made without it."""

        def read() -> dict[str, str]:
            file = self._get_file(name, LABELS_PATH)
            if file is not None:
                labels: dict[str, str] = json.loads(file.data)
                return labels
            container = self._container(name)
            return {key: value for key, value in container.labels.items() if key != MANAGED_LABEL}

        return await asyncio.to_thread(read)

    async def set_labels(self, name: str, labels: dict[str, str]) -> None:
        """Write ``labels`` to :data:`LABELS_PATH` (the container's labels stay as created)."""

        def write() -> None:
            with _engine_errors(f"set labels of node {name}"):
                self._connected().api.put_archive(name, "/", tar_files({LABELS_PATH: (_labels_json(labels), 0o644)}))

        await asyncio.to_thread(write)

    async def list_nodes(self) -> list[str]:
        """Names of the engine's containers labelled ``sim.managed=true``."""

        def names() -> list[str]:
            with _engine_errors("list nodes"):
                containers = self._connected().containers.list(all=True, filters={"label": f"{MANAGED_LABEL}=true"})
            return sorted(container.name for container in containers if container.name)

        return await asyncio.to_thread(names)

    # Blocking work, run in threads --------------------------------------------------------

    def _container(self, name: str) -> Container:
        with _engine_errors(f"node {name}"):
            return self._connected().containers.get(name)

    def _ensure_container(self, spec: NodeSpec) -> None:
        client = self._connected()
        try:
            client.containers.get(spec.name)
        except docker.errors.NotFound:
            self._create_container(client, spec)
        with self._lock:
            first = spec.name not in self._nodes
            self._nodes.add(spec.name)
        if first:
            # Known from the start, so that a file written before the node runs (or while
            # it is stopped) is a change too.
            self._baseline(spec.name, self._etc_files(spec.name))

    def _create_container(self, client: docker.DockerClient, spec: NodeSpec) -> None:
        image = image_name(self.settings, spec.guest_os)
        try:
            client.images.get(image)
        except docker.errors.NotFound as exc:
            raise Unavailable(f"node image {image} is missing: build it with `dcsim nodes build-image`") from exc
        public_key = ensure_ssh_key(self.settings).with_suffix(".pub")
        with _engine_errors(f"create node {spec.name}"):
            try:
                container = client.containers.create(
                    image,
                    name=spec.name,
                    hostname=spec.name,
                    labels=spec.labels | {MANAGED_LABEL: "true"},
                    # The engine refuses more CPUs than it has; a big VM gets them all.
                    nano_cpus=min(spec.cpu, self._cpus) * 1_000_000_000,
                    mem_limit=f"{spec.memory_mb}m",
                    ports={"22/tcp": ("127.0.0.1", spec.ssh_port)},
                    # A mount, not a volume: a volume would be recorded in the image
                    # config of snapshots, and containers of those could not start.
                    mounts=[docker.types.Mount(AUTHORIZED_KEYS, str(public_key), type="bind", read_only=True)],
                )
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
                return  # created meanwhile by another ensure of the same node
            files = node_files(spec.name, spec.guest_os) | {LABELS_PATH: (_labels_json(spec.labels), 0o644)}
            container.put_archive("/", tar_files(files))

    def _set_power(self, name: str, power_state: PowerState) -> None:
        container = self._container(name)
        status = container.status
        with _engine_errors(f"power {power_state.value} node {name}"), self._exec_lock(name):
            if status == "paused" and power_state is not PowerState.SUSPENDED:
                container.unpause()
                status = "running"
            if power_state is PowerState.OFF:
                if status in {"running", "restarting"}:
                    container.stop(timeout=_STOP_TIMEOUT)
                return
            if status not in {"running", "paused"}:
                container.start()
            if power_state is PowerState.SUSPENDED and status != "paused":
                container.pause()

    def _remove(self, name: str) -> None:
        client = self._connected()
        with _engine_errors(f"remove node {name}"):
            try:
                container = client.containers.get(name)
            except docker.errors.NotFound:
                container = None
            with self._lock:
                self._nodes.discard(name)
                watcher = self._watchers.pop(name, None)
                self._exec_locks.pop(name, None)
                if container is not None and container.id:
                    self._removing.add(container.id)
            if watcher is not None:
                watcher.detach()
            if container is not None:
                container.remove(force=True)
            for image in client.images.list(filters={"label": f"{SNAPSHOT_LABEL}={name}"}):
                if image.id:
                    client.images.remove(image.id, force=True)

    def _get_file(self, name: str, path: str) -> _File | None:
        """The regular file ``path`` in the node, None when there is none; NotFound without the node."""
        with _engine_errors(f"read {path} in node {name}"):
            try:
                chunks, _ = self._connected().api.get_archive(name, path)
            except docker.errors.NotFound as exc:
                # The engine answers 404 for a missing path as for a missing container.
                if str(exc.explanation).startswith("No such container"):
                    raise
                return None
            return _read_file(chunks)

    async def _read_text(self, name: str, path: str) -> str | None:
        try:
            file = await asyncio.to_thread(self._get_file, name, path)
        except NotFound:
            return None
        try:
            return None if file is None else file.data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _etc_files(self, name: str) -> dict[str, str]:
        """Every text file under ``/etc`` of the node, read in one archive."""
        with _engine_errors(f"read {WATCHED_DIR} of node {name}"):
            chunks, _ = self._connected().api.get_archive(name, WATCHED_DIR)
            archive = b"".join(chunks)
        files = {}
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            for member in tar:
                extracted = tar.extractfile(member) if member.isfile() else None
                if extracted is None:
                    continue
                try:
                    files["/" + member.name.removeprefix("./")] = extracted.read().decode("utf-8")
                except UnicodeDecodeError:
                    continue
        return files

    # Watching -----------------------------------------------------------------------------

    def _watch(self, name: str) -> _Watcher | None:
        """The file watcher of the running node ``name``, started unless it runs; blocking.

        A watcher belongs to one run of the container (its start time): after a restart
        the old one's ``inotifywait`` is dead, and a new one is needed. None when the node
        is not this instance's or does not run (a paused node keeps the watcher it has,
        frozen with it).
        """
        with self._lock:
            if name not in self._nodes:
                return None
        try:
            state = self._connected().api.inspect_container(name)["State"]
        except docker.errors.NotFound:
            return None
        started_at = str(state.get("StartedAt"))
        with self._lock:
            current = self._watchers.get(name)
            if current is not None and current.started_at == started_at and current.is_alive():
                return current
            if not state.get("Running") or state.get("Paused"):
                return None
            watcher = _Watcher(self, name, started_at)
            self._watchers[name] = watcher
        if current is not None:
            current.detach()
        watcher.start()
        return watcher

    def _exec_lock(self, name: str) -> threading.Lock:
        """Held while dc-sim starts a process in node ``name`` or changes its power.

        An exec that the engine lets start just as the node is paused hangs in the frozen
        container, and with it every later call on that container (Docker 20.10 keeps
        the container locked meanwhile). dc-sim never lets its own execs and pauses race;
        a pause typed by someone else in that moment still can.
        """
        with self._lock:
            return self._exec_locks.setdefault(name, threading.Lock())

    def _watcher_ended(self, watcher: _Watcher) -> None:
        with self._lock:
            if self._watchers.get(watcher.node) is watcher:
                del self._watchers[watcher.node]

    def _on_event(self, event: dict[str, Any]) -> None:
        """Handle one container event of the engine (event-stream thread)."""
        action = str(event.get("Action") or event.get("status") or "")
        container_id = str(event.get("id") or event.get("Actor", {}).get("ID") or "")
        name = event.get("Actor", {}).get("Attributes", {}).get("name")
        if not name or not container_id:
            return
        with self._lock:
            if action == "destroy":
                self._removing.discard(container_id)
                self._reported.pop(container_id, None)
                return
            if name not in self._nodes or container_id in self._removing or action not in _OBSERVED:
                return
            state = _OBSERVED[action]
            unchanged = self._reported.get(container_id) is state
            self._reported[container_id] = state
        if action in {"start", "unpause"} and self._events is not None:
            watcher = self._watch(name)
            if watcher is not None:
                watcher.resume()
                # Say "on" once the node's files are watched: whoever sees the node on
                # can count on its edits being reported.
                watcher.ready.wait(_WATCH_TIMEOUT)
        if not unchanged:
            self._report_power(name, state)

    def _report_power(self, name: str, state: PowerState) -> None:
        loop, listener = self._loop, self._listener
        if loop is None or listener is None:
            return
        report = listener.node_power_observed(name, state)
        try:
            future = asyncio.run_coroutine_threadsafe(report, loop)
        except RuntimeError:
            report.close()  # the loop is closed: dc-sim is shutting down
            return
        future.add_done_callback(_log_failure)

    def _touched(self, name: str, path: str) -> None:
        if self._changes is not None:
            self._changes.touched(name, path)

    def _baseline(self, name: str, files: dict[str, str]) -> None:
        loop, changes = self._loop, self._changes
        if loop is not None and changes is not None:
            loop.call_soon_threadsafe(changes.baseline, name, files)

    def _api(self) -> docker.APIClient:
        """A low-level client of its own, for a stream that holds its connection for long."""
        return docker.APIClient(version=self._connected().api.api_version, **_client_kwargs(self.settings))


def _labels_json(labels: dict[str, str]) -> bytes:
    return (json.dumps(labels, indent=2, sort_keys=True) + "\n").encode()


def _inside(path: str) -> str:
    inside = PurePosixPath(path)
    if not inside.is_absolute() or ".." in inside.parts:
        raise InvalidInput(f"{path!r} is not an absolute path inside the node")
    return str(inside)


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("node power listener failed", exc_info=future.exception())


def _lines(chunks: Iterator[tuple[bytes | None, bytes | None]]) -> Iterator[tuple[bool, str]]:
    """A demultiplexed exec stream as (is stderr, text): stdout line by line, stderr as it comes."""
    out = b""
    for stdout, stderr in chunks:
        if stderr:
            yield True, stderr.decode("utf-8", errors="replace")
        if stdout:
            out += stdout
            *lines, out = out.split(b"\n")
            for line in lines:
                yield False, line.decode("utf-8", errors="replace")


class _EventStream(threading.Thread):
    """Follows the engine's container events; reconnects when the engine restarts."""

    def __init__(self, backend: DockerNodes) -> None:
        super().__init__(name="dcsim-docker-events", daemon=True)
        self._backend = backend
        self.ready = threading.Event()
        self._stopped = threading.Event()
        self._stream: Any = None

    def run(self) -> None:
        since: int | None = None
        while not self._stopped.is_set():
            try:
                with contextlib.closing(self._backend._api()) as api:
                    # After a reconnection, `since` replays the last second: repeated
                    # events are harmless (power reports are deduplicated per container).
                    self._stream = api.events(
                        since=since, decode=True, filters={"label": f"{MANAGED_LABEL}=true", "type": "container"}
                    )
                    self.ready.set()
                    for event in self._stream:
                        since = int(event.get("time", since or 0))
                        self._backend._on_event(event)
            except Exception:
                if self._stopped.is_set():
                    return
                log.warning("docker event stream lost; reconnecting", exc_info=True)
            # A stream that ended without stop() means the engine went away for a moment.
            self._stopped.wait(1.0)

    def stop(self) -> None:
        self._stopped.set()
        if self._stream is not None:
            self._stream.close()


class _Watcher(threading.Thread):
    """Streams ``inotifywait`` output from inside one running node through the Docker API."""

    def __init__(self, backend: DockerNodes, node: str, started_at: str) -> None:
        super().__init__(name=f"dcsim-watch-{node}", daemon=True)
        self._backend = backend
        self.node = node
        # The container run this watcher's inotifywait lives in.
        self.started_at = started_at
        # Set once the node's /etc is watched, or when it cannot be for now (the node
        # was paused meanwhile, or stopped): who waits for a watcher waits for this.
        self.ready = threading.Event()
        self._pid: str | None = None
        self._detached = threading.Event()
        self._wake = threading.Event()

    def run(self) -> None:
        try:
            self._watch()
        except Exception:
            if not self._detached.is_set():
                log.warning("file watcher of node ended", node=self.node, exc_info=True)
        finally:
            self.ready.set()
            self._backend._watcher_ended(self)

    def _watch(self) -> None:
        # `echo $$` first: the shell's pid is inotifywait's after exec, so stop() can kill it.
        command = f"echo $$; exec inotifywait -m -r -e close_write,moved_to,create,delete --format '%w%f' {WATCHED_DIR}"
        with contextlib.closing(self._backend._api()) as api:
            while not self._detached.is_set():
                with self._backend._exec_lock(self.node):
                    try:
                        exec_id = api.exec_create(self.node, ["sh", "-c", command])["Id"]
                        chunks = api.exec_start(exec_id, stream=True, demux=True)
                    except docker.errors.APIError as exc:
                        if exc.status_code != 409:
                            raise
                        output = None
                    else:
                        # The engine answers before its runtime has started the process,
                        # and a pause in between would hang both: hold the lock until the
                        # process runs, which it does once it has printed its pid.
                        output = self._until_pid(_lines(chunks))
                if output is None:
                    # Paused since this watcher was started: try again once it is resumed.
                    self.ready.set()
                    self._wake.wait()
                    self._wake.clear()
                    continue
                self._follow(output)
                return

    def _until_pid(self, output: Iterator[tuple[bool, str]]) -> Iterator[tuple[bool, str]]:
        """Read up to the pid line; the output from there on, stderr read meanwhile first."""
        early = []
        for is_stderr, text in output:
            if not is_stderr:
                self._pid = text.strip()
                break
            # stdout and stderr are separate pipes: inotifywait's first words may come first.
            early.append((is_stderr, text))
        return itertools.chain(early, output)

    def _follow(self, output: Iterator[tuple[bool, str]]) -> None:
        established, err = False, ""
        for is_stderr, text in output:
            if self._detached.is_set():
                return
            if is_stderr and not established:
                err += text
                # inotifywait says so on stderr once every directory is watched; only
                # then is the baseline read, so no change falls between the two.
                if "Watches established" in err:
                    established = True
                    self._backend._baseline(self.node, self._backend._etc_files(self.node))
                    self.ready.set()
            elif not is_stderr and text.startswith(WATCHED_DIR + "/"):
                self._backend._touched(self.node, text)

    def resume(self) -> None:
        """The node was started or unpaused: a watcher waiting for that may go on."""
        self._wake.set()

    def detach(self) -> None:
        """Stop reporting (the container is going away or stopped)."""
        self._detached.set()
        self._wake.set()

    def stop(self) -> None:
        """Stop reporting and end ``inotifywait`` inside the node."""
        self.detach()
        if self._pid is None:
            return
        try:
            with contextlib.closing(self._backend._api()) as api:
                state = api.inspect_container(self.node)["State"]
                # Pids are reused: only a process of the run this watcher started in is ours.
                if state.get("Running") and not state.get("Paused") and str(state.get("StartedAt")) == self.started_at:
                    with self._backend._exec_lock(self.node):
                        api.exec_start(api.exec_create(self.node, ["kill", self._pid])["Id"])
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            # Gone meanwhile: its inotifywait went with it.
            log.debug("could not stop file watcher", node=self.node)
