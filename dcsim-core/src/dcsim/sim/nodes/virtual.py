"""The ``virtual`` node backend (embedded default): nodes are directories, no processes.

Layout under ``<data_dir>/nodes/<name>/``:

- ``root/``: the node's files, seeded from :func:`dcsim.sim.guests.config_files`
  (``root/etc/ssh/sshd_config`` is the node's ``/etc/ssh/sshd_config``);
- ``packages.json``: the package inventory (package name to version);
- ``state.json``: the spec the node was created from, with its current power state and labels;
- ``snapshots/<id>/``: copies of ``root/`` and ``packages.json``.

One watchdog observer watches the whole ``nodes`` directory; changes under a node's
``root/etc`` (by anyone: an editor, a tool, a test, :meth:`VirtualNodes.write_file`)
are reported to the listener as unified diffs. Trees are assembled in
``<data_dir>/nodes-staging`` and moved in (or out) with one rename, so the watcher
meets a node complete and watches all of it at once.

A lazy node (``NodeSpec.lazy``, a generated estate's) starts as its ``state.json``
alone; ``root/`` and ``packages.json`` are made from its guest OS on first touch (a file,
package or snapshot call, or :meth:`VirtualNodes.materialise` from dcsim-ansible's
connection), in staging and moved in, so thousands of nodes cost thousands of small
files until used. The watcher takes the made files as the node's baseline
(:meth:`FileChanges.expect`): making them is not a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import structlog
from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from dcsim.errors import InvalidInput, NotFound, Unavailable
from dcsim.sim.guests import PACKAGES, config_files
from dcsim.sim.model import GuestOs, PowerState
from dcsim.sim.nodes.base import WATCHED_DIR, NodeBackend, NodeListener, NodeSpec
from dcsim.sim.nodes.changes import FileChanges

if TYPE_CHECKING:
    from dcsim.settings import Settings

log = structlog.get_logger(__name__)

_STATE = "state.json"
#: Where a node's extra public keys (``NodeSpec.authorized_keys``) are written in its tree.
AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"
_PACKAGES = "packages.json"
_ROOT = "root"
_SNAPSHOTS = "snapshots"
# Temporary files (a state file being replaced) have hidden names, ignored by the watcher.
_HIDDEN = "."
# A node moved into the watched directory is watched well within this.
_ARRIVAL_TIMEOUT = 5.0


class VirtualNodes(NodeBackend):
    """Nodes as directory trees in the data directory, watched with watchdog."""

    name = "virtual"
    defers_lazy = True

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.nodes_dir: Path = settings.data_dir / "nodes"
        self._staging_dir: Path = settings.data_dir / "nodes-staging"
        self._observer: BaseObserver | None = None
        self._changes: FileChanges | None = None
        self._arrivals: dict[str, asyncio.Future[None]] = {}

    async def start(self, listener: NodeListener) -> None:
        """Load what every node's ``/etc`` holds now and start watching the nodes directory."""
        self.nodes_dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        changes = FileChanges(loop, listener, self._read_text)
        for name in await self.list_nodes():
            if (self._node_dir(name) / _ROOT).is_dir():
                changes.baseline(name, await asyncio.to_thread(self._etc_files, name))
            else:
                changes.expect(name, functools.partial(self._made_files, name))

        def arrived(name: str) -> None:
            future = self._arrivals.pop(name, None)
            if future is not None and not future.done():
                future.set_result(None)

        observer = Observer()
        observer.schedule(
            _Handler(self.nodes_dir, changes, lambda name: loop.call_soon_threadsafe(arrived, name)),
            str(self.nodes_dir),
            recursive=True,
            event_filter=[
                FileCreatedEvent,
                FileModifiedEvent,
                FileClosedEvent,
                FileMovedEvent,
                FileDeletedEvent,
                DirCreatedEvent,
                DirMovedEvent,
            ],
        )
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._changes = changes

    async def close(self) -> None:
        """Stop the observer and drop pending reports."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join)
        changes, self._changes = self._changes, None
        if changes is not None:
            await changes.close()

    async def ping(self) -> None:
        """Check that the nodes directory can be written."""
        try:
            self.nodes_dir.mkdir(parents=True, exist_ok=True)
            if not os.access(self.nodes_dir, os.W_OK):
                raise PermissionError(f"{self.nodes_dir} is not writable")
        except OSError as exc:
            raise Unavailable(f"virtual nodes: {exc}") from exc

    async def ensure(self, spec: NodeSpec) -> None:
        """Create the node's tree if it does not exist, then set its power state.

        A new node's files are watched when this returns.
        """
        if not (self._node_dir(spec.name) / _STATE).exists() and spec.lazy:
            if self._changes is not None:
                self._changes.expect(spec.name, functools.partial(self._made_files, spec.name))
            # Nothing to watch yet: the tree is watched when it is moved in, on first touch.
            await asyncio.to_thread(self._create, spec, None)
        elif not (self._node_dir(spec.name) / _STATE).exists():
            files = config_files(spec.name, spec.guest_os)
            arrival = None
            if self._changes is not None:
                # Known before they appear: seeding a node is not a change to report.
                self._changes.baseline(spec.name, files)
                arrival = self._arrivals.setdefault(spec.name, asyncio.get_running_loop().create_future())
            await asyncio.to_thread(self._create, spec, files)
            if arrival is not None:
                try:
                    await asyncio.wait_for(arrival, _ARRIVAL_TIMEOUT)
                except TimeoutError:
                    self._arrivals.pop(spec.name, None)
                    log.warning("virtual node not seen by the watcher", node=spec.name)
        await self.set_power(spec.name, spec.power_state)

    async def set_power(self, name: str, power_state: PowerState) -> None:
        """Record the power state; a virtual node has nothing to start or stop."""
        state = self._state(name)
        if state["power_state"] == power_state.value:
            return  # a start ensures every node: thousands of rewrites saved
        state["power_state"] = power_state.value
        _write_json(self._node_dir(name) / _STATE, state)

    async def power_state(self, name: str) -> PowerState | None:
        """The recorded power state, None for an unknown node."""
        try:
            return PowerState(self._state(name)["power_state"])
        except NotFound:
            return None

    async def labels(self, name: str) -> dict[str, str]:
        """The labels of the state file."""
        labels: dict[str, str] = self._state(name)["labels"]
        return labels

    async def set_labels(self, name: str, labels: dict[str, str]) -> None:
        """Replace the labels of the state file."""
        state = self._state(name)
        state["labels"] = dict(labels)
        _write_json(self._node_dir(name) / _STATE, state)

    async def remove(self, name: str) -> None:
        """Delete the node's directory; its files' deletion is not reported."""
        node_dir = self._node_dir(name)
        if not node_dir.exists():
            return
        if self._changes is not None:
            self._changes.forget(name)
        await asyncio.to_thread(self._remove, node_dir)

    async def snapshot(self, name: str, snapshot_id: str) -> None:
        """Copy the node's files and package inventory to ``snapshots/<snapshot_id>`` (replacing it)."""
        _check_name(snapshot_id, "snapshot id")
        await self._touch(name)
        await asyncio.to_thread(self._copy_snapshot, self._node_dir(name), snapshot_id)

    async def read_file(self, name: str, path: str) -> str:
        """The text of ``path`` in the node's tree (a lazy node not made yet answers from
        the files it will be made with, and stays unmade: reading is not a reason to make it)."""
        if not self._made(name):
            self._host_path(name, path)  # the same refusal of a path outside the node
            made = self._made_files(name).get(path)
            if made is None:
                raise NotFound(f"node {name} has no file {path}")
            return made
        text = await self._read_text(name, path)
        if text is None:
            raise NotFound(f"node {name} has no file {path}")
        return text

    async def write_file(self, name: str, path: str, content: str) -> None:
        """Write ``content`` to ``path`` in the node's tree; the watcher reports the change."""
        await self._touch(name)
        await asyncio.to_thread(_write_text, self._host_path(name, path), content)

    async def packages(self, name: str) -> dict[str, str]:
        """The node's ``packages.json`` (a lazy node not made yet: the inventory it will be
        made with; a scan of a large generated estate must not make every node)."""
        if not self._made(name):
            return dict(PACKAGES[GuestOs(self._state(name)["guest_os"])])
        inventory: dict[str, str] = json.loads((self._node_dir(name) / _PACKAGES).read_text())
        return inventory

    async def set_packages(self, name: str, packages: dict[str, str]) -> None:
        """Replace the node's ``packages.json`` (what installing or patching changed)."""
        await self._touch(name)
        await asyncio.to_thread(_write_json, self._node_dir(name) / _PACKAGES, dict(packages))

    def materialise(self, name: str) -> bool:
        """Make a lazy node's config tree and package inventory if they are not there yet
        (from any process; blocking). NotFound for an unknown node.

        Returns:
            True when this call made them.
        """
        node_dir = self._node_dir(name)
        if (node_dir / _ROOT).is_dir():
            return False
        state = self._state(name)
        work = self._staging(f"tree-{name}")
        _write_tree(work, self._made_files(name), state.get("authorized_keys", []))
        _write_json(work / _PACKAGES, PACKAGES[GuestOs(state["guest_os"])])
        # The inventory first, without replacing one already there: the tree's arrival is
        # what says the node is made, so readers never meet a tree without an inventory.
        with contextlib.suppress(FileExistsError):
            os.link(work / _PACKAGES, node_dir / _PACKAGES)
        try:
            (work / _ROOT).rename(node_dir / _ROOT)
        except OSError:
            return False  # another process made it first
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return True

    def _made(self, name: str) -> bool:
        """True when the node's tree exists; NotFound for an unknown node."""
        if (self._node_dir(name) / _ROOT).is_dir():
            return True
        self._state(name)
        return False

    async def _touch(self, name: str) -> None:
        """NotFound for an unknown node; a lazy node is made now."""
        self._state(name)
        if not (self._node_dir(name) / _ROOT).is_dir():
            await asyncio.to_thread(self.materialise, name)

    def _made_files(self, name: str) -> dict[str, str]:
        """The ``/etc`` files a lazy node gets when it is made."""
        return config_files(name, GuestOs(self._state(name)["guest_os"]))

    @classmethod
    def ansible_host_vars(cls, settings: Settings) -> dict[str, str]:
        """Virtual nodes have no sshd: dcsim-ansible's ``dcsim_virtual`` connection plugin
        runs modules against the node's tree, found in ``dcsim_nodes_dir``."""
        return {"ansible_connection": "dcsim_virtual", "dcsim_nodes_dir": str((settings.data_dir / "nodes").resolve())}

    async def list_nodes(self) -> list[str]:
        """Names of the node directories that hold a state file."""
        if not self.nodes_dir.is_dir():
            return []
        return sorted(entry.name for entry in self.nodes_dir.iterdir() if (entry / _STATE).is_file())

    # Files ------------------------------------------------------------------------------

    def _node_dir(self, name: str) -> Path:
        _check_name(name, "node name")
        return self.nodes_dir / name

    def _state(self, name: str) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads((self._node_dir(name) / _STATE).read_text())
        except FileNotFoundError as exc:
            raise NotFound(f"node {name} does not exist") from exc
        return state

    def _host_path(self, name: str, path: str) -> Path:
        inside = PurePosixPath(path)
        if not inside.is_absolute() or ".." in inside.parts:
            raise InvalidInput(f"{path!r} is not an absolute path inside the node")
        return self._node_dir(name) / _ROOT / inside.relative_to("/")

    async def _read_text(self, name: str, path: str) -> str | None:
        try:
            return await asyncio.to_thread(self._host_path(name, path).read_text, encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
            return None

    def _etc_files(self, name: str) -> dict[str, str]:
        root = self._node_dir(name) / _ROOT
        files = {}
        for host_path in (root / WATCHED_DIR.lstrip("/")).rglob("*"):
            if host_path.is_file():
                try:
                    files["/" + host_path.relative_to(root).as_posix()] = host_path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
        return files

    def _staging(self, what: str) -> Path:
        self._staging_dir.mkdir(parents=True, exist_ok=True)
        return self._staging_dir / f"{what}-{uuid.uuid4().hex}"

    def _create(self, spec: NodeSpec, files: dict[str, str] | None) -> None:
        """Assemble the node in staging and move it in; ``files`` None: a lazy node's state alone."""
        work = self._staging(spec.name)
        if files is not None:
            _write_tree(work, files, spec.authorized_keys)
            _write_json(work / _PACKAGES, PACKAGES[spec.guest_os])
        state = {
            "name": spec.name,
            "guest_os": spec.guest_os.value,
            "ssh_port": spec.ssh_port,
            "cpu": spec.cpu,
            "memory_mb": spec.memory_mb,
            "ansible_user": spec.ansible_user,
            "labels": spec.labels,
            "power_state": spec.power_state.value,
            "authorized_keys": list(spec.authorized_keys),
        }
        _write_json(work / _STATE, state)
        self.nodes_dir.mkdir(parents=True, exist_ok=True)
        try:
            work.rename(self._node_dir(spec.name))
        except OSError:
            # Another ensure of the same node won the race: keep its tree.
            shutil.rmtree(work)

    def _remove(self, node_dir: Path) -> None:
        work = self._staging(f"removed-{node_dir.name}")
        node_dir.rename(work)
        shutil.rmtree(work)

    def _copy_snapshot(self, node_dir: Path, snapshot_id: str) -> None:
        work = self._staging(f"snapshot-{node_dir.name}")
        shutil.copytree(node_dir / _ROOT, work / _ROOT, symlinks=True)
        shutil.copy2(node_dir / _PACKAGES, work / _PACKAGES)
        target = node_dir / _SNAPSHOTS / snapshot_id
        if target.exists():
            self._remove(target)
        target.parent.mkdir(exist_ok=True)
        work.rename(target)


class _Handler(FileSystemEventHandler):
    """Maps watchdog events under ``<nodes>/<name>/root/etc`` to "touched" notices."""

    def __init__(self, nodes_dir: Path, changes: FileChanges, arrived: Callable[[str], object]) -> None:
        self._nodes_dir = nodes_dir
        self._changes = changes
        self._arrived = arrived

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            # A node directory moved in: watchdog has watched all of it before saying so.
            path = Path(os.fsdecode(event.dest_path or event.src_path))
            if path.parent == self._nodes_dir:
                self._arrived(path.name)
            return
        self._touch(event.src_path)
        if event.dest_path:
            self._touch(event.dest_path)

    def _touch(self, raw: bytes | str) -> None:
        try:
            parts = Path(os.fsdecode(raw)).relative_to(self._nodes_dir).parts
        except ValueError:
            return
        # <name>/root/etc/...: files elsewhere (state, snapshots) are not the node's own.
        if len(parts) < 4 or parts[1] != _ROOT or "/" + parts[2] != WATCHED_DIR:
            return
        self._changes.touched(parts[0], "/" + "/".join(parts[2:]))


def _check_name(name: str, what: str) -> None:
    if not name or name.startswith(_HIDDEN) or "/" in name:
        raise InvalidInput(f"{name!r} is not a valid {what}")


def _write_tree(work: Path, files: dict[str, str], authorized_keys: Sequence[str]) -> None:
    for path, text in files.items():
        _write_text(work / _ROOT / path.lstrip("/"), text)
    if authorized_keys:
        _write_text(work / _ROOT / AUTHORIZED_KEYS.lstrip("/"), "".join(f"{key}\n" for key in authorized_keys))


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_json(path: Path, value: Any) -> None:
    # Write then rename, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(f"{_HIDDEN}{path.name}.{uuid.uuid4().hex}")
    work.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    work.replace(path)
