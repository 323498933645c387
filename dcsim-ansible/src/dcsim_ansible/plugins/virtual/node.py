"""One virtual node as Ansible sees it: its tree, package inventory, services and boot.

Every path is a path inside the node, mapped into ``<nodes_dir>/<node>/root`` and
refused if it would leave that tree (``..``, a symlink pointing out): nothing here reads or
writes the host's own files. Text files are written through core's virtual backend
(:meth:`VirtualNodes.write_file`), so core's watcher and drift detection see them like any
other change; ``/var/lib/dcsim/packages.json`` is the backend's package inventory (the
path docker nodes keep theirs at), so one playbook patches both kinds of node.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from dcsim.settings import Settings
from dcsim.sim.nodes.virtual import VirtualNodes

_T = TypeVar("_T")

#: The package inventory's path inside a node (as on docker nodes).
PACKAGES_PATH = "/var/lib/dcsim/packages.json"
#: Services and their state, kept in the node's tree outside ``/etc`` (not drift).
SERVICES_PATH = "/var/lib/dcsim/services.json"
#: The node's boot identity: ``boot_id`` and ``booted_at`` (epoch seconds).
BOOT_PATH = "/var/lib/dcsim/boot.json"


class NodeError(Exception):
    """A request the node refuses (a path outside its tree, a missing node)."""


def _default_services(guest_os: str) -> dict[str, dict[str, Any]]:
    ssh = "sshd" if guest_os.startswith("rhel") else "ssh"
    cron = "crond" if guest_os.startswith("rhel") else "cron"
    names = [
        ssh,
        cron,
        "systemd-journald",
        "rsyslog",
        "chronyd" if guest_os.startswith("rhel") else "systemd-timesyncd",
    ]
    return {name: {"state": "running", "enabled": True} for name in names}


class VirtualNode:
    """The node ``name`` of the virtual backend whose nodes directory is ``nodes_dir``."""

    def __init__(self, nodes_dir: Path, name: str) -> None:
        self.name = name
        self.nodes_dir = nodes_dir
        self.node_dir = nodes_dir / name
        self.root = self.node_dir / "root"
        self._backend = VirtualNodes(Settings(data_dir=nodes_dir.parent))
        if "/" in name or not (self.node_dir / "state.json").is_file():
            raise NodeError(f"virtual node {name!r} does not exist in {nodes_dir}")
        # A generated estate's node gets its tree on first touch: this is one.
        self._backend.materialise(name)

    # Identity -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The node's spec and power state, as the backend recorded them (read only)."""
        state: dict[str, Any] = json.loads((self.node_dir / "state.json").read_text())
        return state

    @property
    def guest_os(self) -> str:
        """``rhel9`` or ``ubuntu22``."""
        return str(self.state()["guest_os"])

    @property
    def is_rhel(self) -> bool:
        """RHEL-like (dnf, wheel, sshd) rather than Debian-like."""
        return self.guest_os.startswith("rhel")

    # Paths --------------------------------------------------------------------------------

    def host_path(self, path: str) -> Path:
        """Where ``path`` (absolute, inside the node) lives on the host; NodeError if outside the tree."""
        inside = PurePosixPath(path)
        if not inside.is_absolute() or ".." in inside.parts:
            raise NodeError(f"{path!r} is not an absolute path inside the node")
        host = self.root / inside.relative_to("/")
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, os.path.realpath(host)]) != root:
            raise NodeError(f"{path!r} leads out of node {self.name}'s tree")
        return host

    def exists(self, path: str) -> bool:
        """The path exists in the node."""
        return path == PACKAGES_PATH or self.host_path(path).exists()

    def is_dir(self, path: str) -> bool:
        """The path is a directory in the node."""
        return path != PACKAGES_PATH and self.host_path(path).is_dir()

    # Files --------------------------------------------------------------------------------

    def read_bytes(self, path: str) -> bytes | None:
        """The content of a file in the node, None if there is no such file."""
        if path == PACKAGES_PATH:
            return (json.dumps(self.packages(), indent=2, sort_keys=True) + "\n").encode()
        host = self.host_path(path)
        return host.read_bytes() if host.is_file() else None

    def read_text(self, path: str) -> str | None:
        """The text of a file in the node, None if there is no such file."""
        data = self.read_bytes(path)
        return None if data is None else data.decode("utf-8", errors="replace")

    def write_bytes(self, path: str, data: bytes, mode: int | None = None) -> None:
        """Replace a file's content: text through the backend (the watcher sees it), the
        package inventory through the backend's inventory."""
        if path == PACKAGES_PATH:
            self.set_packages(json.loads(data))
            return
        host = self.host_path(path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # The backend writes text only; a binary file goes straight into the tree.
            host.parent.mkdir(parents=True, exist_ok=True)
            host.write_bytes(data)
        else:
            self._run(self._backend.write_file(self.name, path, text))
        if mode is not None:
            host.chmod(mode)

    def write_text(self, path: str, text: str, mode: int | None = None) -> None:
        """Replace a file's text."""
        self.write_bytes(path, text.encode("utf-8"), mode)

    def make_dirs(self, path: str, mode: int | None = None) -> None:
        """Create a directory and its parents."""
        host = self.host_path(path)
        host.mkdir(parents=True, exist_ok=True)
        if mode is not None:
            host.chmod(mode)

    def remove(self, path: str) -> None:
        """Delete a file or a directory tree."""
        if path == PACKAGES_PATH:
            raise NodeError(f"{PACKAGES_PATH} is the node's package inventory: it cannot be removed")
        host = self.host_path(path)
        if host.is_dir() and not host.is_symlink():
            shutil.rmtree(host)
        elif host.exists() or host.is_symlink():
            host.unlink()

    def touch(self, path: str) -> None:
        """Create an empty file, or update its time."""
        host = self.host_path(path)
        if not host.exists():
            self.write_bytes(path, b"")
        else:
            os.utime(host)

    def chmod(self, path: str, mode: int) -> bool:
        """Set a file's permission bits; True if they changed."""
        host = self.host_path(path)
        if (host.stat().st_mode & 0o7777) == mode:
            return False
        host.chmod(mode)
        return True

    def stat(self, path: str, checksum: str | None = "sha1") -> dict[str, Any]:
        """What the ``stat`` module reports for ``path`` (``exists: False`` when missing)."""
        if path == PACKAGES_PATH:
            inventory = self.read_bytes(path) or b""
            return _file_stat(path, len(inventory), 0o644, time.time(), inventory if checksum else None, checksum)
        host = self.host_path(path)
        if not host.exists() and not host.is_symlink():
            return {"exists": False}
        st = host.lstat()
        if host.is_dir():
            result = _file_stat(path, st.st_size, st.st_mode & 0o7777, st.st_mtime, None, None)
            result.update(isdir=True, isreg=False)
            return result
        data = host.read_bytes() if checksum else None
        return _file_stat(path, st.st_size, st.st_mode & 0o7777, st.st_mtime, data, checksum)

    def listing(self, path: str) -> list[str]:
        """Paths (inside the node) of everything under a directory, recursively."""
        host = self.host_path(path)
        if not host.is_dir():
            return []
        return sorted("/" + p.relative_to(self.root).as_posix() for p in host.rglob("*"))

    # Packages, services, boot -------------------------------------------------------------

    def packages(self) -> dict[str, str]:
        """The package inventory: name to version."""
        return self._run(self._backend.packages(self.name))

    def set_packages(self, packages: dict[str, str]) -> None:
        """Replace the package inventory through the backend."""
        self._run(self._backend.set_packages(self.name, packages))

    def services(self) -> dict[str, dict[str, Any]]:
        """Service name to ``{"state": "running"|"stopped", "enabled": bool}``."""
        text = self.read_text(SERVICES_PATH)
        if text is None:
            return _default_services(self.guest_os)
        services: dict[str, dict[str, Any]] = json.loads(text)
        return services

    def set_services(self, services: dict[str, dict[str, Any]]) -> None:
        """Record the services' state."""
        self.write_text(SERVICES_PATH, json.dumps(services, indent=2, sort_keys=True) + "\n")

    def boot(self) -> dict[str, Any]:
        """The current boot: ``boot_id`` and ``booted_at``; the first asker boots the node."""
        text = self.read_text(BOOT_PATH)
        if text is not None:
            boot: dict[str, Any] = json.loads(text)
            return boot
        return self.reboot()

    def reboot(self) -> dict[str, Any]:
        """Start a new boot: new boot id, services back to what is enabled."""
        boot = {"boot_id": str(uuid.uuid4()), "booted_at": time.time()}
        self.write_text(BOOT_PATH, json.dumps(boot) + "\n")
        services = self.services()
        for service in services.values():
            service["state"] = "running" if service["enabled"] else "stopped"
        self.set_services(services)
        return boot

    @staticmethod
    def _run(coro: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run(coro)


def _file_stat(
    path: str, size: int, mode: int, mtime: float, data: bytes | None, checksum: str | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "exists": True,
        "path": path,
        "isreg": True,
        "isdir": False,
        "islnk": False,
        "size": size,
        "mode": f"{mode:04o}",
        "mtime": mtime,
        "uid": 0,
        "gid": 0,
        "pw_name": "root",
        "gr_name": "root",
        "readable": True,
        "writeable": True,
        "executable": bool(mode & 0o100),
    }
    if data is not None and checksum:
        result["checksum"] = hashlib.new(checksum, data).hexdigest()
    return result
