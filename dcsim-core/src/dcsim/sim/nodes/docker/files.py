"""Files in and out of docker nodes, through the engine's archive API, and the SSH key pair.

Nothing here needs a network path into the node or a process running in it: reads and
writes work on stopped containers too.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import attrs
import docker
import docker.errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dcsim.errors import InvalidInput
from dcsim.sim.guests import PACKAGES, config_files
from dcsim.sim.model import GuestOs
from dcsim.sim.nodes.base import WATCHED_DIR
from dcsim.sim.nodes.docker.engine import engine_errors

if TYPE_CHECKING:
    from dcsim.settings import Settings

AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"
#: Where a docker node keeps its package inventory (the patch module reads and updates it).
PACKAGES_PATH = "/var/lib/dcsim/packages.json"
#: Where a docker node keeps its current labels (container labels are fixed at creation);
#: outside /etc, so relabelling is not drift, and readable by Ansible inside the node.
LABELS_PATH = "/var/lib/dcsim/labels.json"
#: Files the engine bind-mounts into every container and rewrites when it starts one:
#: writing ours would be hidden or undone, so these stay the engine's.
ENGINE_FILES = frozenset({"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"})


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


def authorized_keys_file(settings: Settings, node: str, keys: tuple[str, ...]) -> Path:
    """The file mounted as ``node``'s ``authorized_keys``: the data directory's public key
    alone when ``keys`` is empty, else a file of the node's own holding it and ``keys``."""
    public = ensure_ssh_key(settings).with_suffix(".pub")
    if not keys:
        return public
    path = settings.data_dir / "ssh" / "nodes" / f"{node}.authorized_keys"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    work.write_bytes(public.read_bytes() + "".join(f"{key.strip()}\n" for key in keys).encode())
    work.chmod(0o644)
    work.replace(path)
    return path


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


def labels_json(labels: dict[str, str]) -> bytes:
    """The content of :data:`LABELS_PATH` for ``labels``."""
    return (json.dumps(labels, indent=2, sort_keys=True) + "\n").encode()


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


def inside(path: str) -> str:
    """``path`` as an absolute path inside a node; :class:`InvalidInput` for one that could leave it."""
    posix = PurePosixPath(path)
    if not posix.is_absolute() or ".." in posix.parts:
        raise InvalidInput(f"{path!r} is not an absolute path inside the node")
    return str(posix)


@attrs.frozen
class File:
    """A regular file read out of a node."""

    data: bytes
    mode: int
    uid: int
    gid: int


def _first_file(chunks: Iterator[bytes]) -> File | None:
    """The file in a ``get_archive`` stream, None when the path is not a regular file."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.next()
        extracted = tar.extractfile(member) if member is not None and member.isfile() else None
        if member is None or extracted is None:
            return None
        return File(data=extracted.read(), mode=member.mode, uid=member.uid, gid=member.gid)


def get_file(api: docker.APIClient, container: str, path: str) -> File | None:
    """The regular file ``path`` in ``container``, None when there is none; NotFound without the container."""
    with engine_errors(f"read {path} in {container}"):
        try:
            chunks, _ = api.get_archive(container, path)
        except docker.errors.NotFound as exc:
            # The engine answers 404 for a missing path as for a missing container.
            if str(exc.explanation).startswith("No such container"):
                raise
            return None
        return _first_file(chunks)


def put_files(api: docker.APIClient, container: str, files: dict[str, tuple[bytes, int]]) -> None:
    """Write ``files`` (path to content and mode) into ``container``, owned by root."""
    with engine_errors(f"write into {container}"):
        api.put_archive(container, "/", tar_files(files))


def write_text(api: docker.APIClient, container: str, path: str, content: str) -> None:
    """Replace ``path`` in ``container``, keeping its mode and owner when it exists (0644 root when not)."""
    current = get_file(api, container, path)
    data = content.encode()
    info = tarfile.TarInfo(path.lstrip("/"))
    info.size = len(data)
    info.mtime = int(time.time())
    if current is not None:
        info.mode, info.uid, info.gid = current.mode, current.uid, current.gid
    else:
        info.mode = 0o644
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.addfile(info, io.BytesIO(data))
    with engine_errors(f"write {path} in {container}"):
        api.put_archive(container, "/", buffer.getvalue())


def etc_files(api: docker.APIClient, container: str) -> dict[str, str]:
    """Every text file under ``/etc`` of ``container``, read in one archive."""
    with engine_errors(f"read {WATCHED_DIR} of {container}"):
        chunks, _ = api.get_archive(container, WATCHED_DIR)
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
