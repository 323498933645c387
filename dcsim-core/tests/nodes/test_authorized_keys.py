"""``NodeSpec.authorized_keys``: extra public keys a node accepts, on every backend; with
docker, ``ssh`` with the matching private key logs in."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dcsim.settings import Settings
from dcsim.sim.model import GuestOs, Node
from dcsim.sim.nodes.base import NodeBackend, NodeSpec
from dcsim.sim.nodes.docker import ssh_key_path


def _key_pair(directory: Path) -> tuple[Path, str]:
    key = Ed25519PrivateKey.generate()
    private = directory / "user_key"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    private.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode() + " user@test"


def test_node_carries_its_keys_into_the_spec() -> None:
    node = Node(name="n", guest_os=GuestOs.RHEL9, ssh_port=1, authorized_keys=["ssh-ed25519 AAAA k"])
    assert node.authorized_keys == ["ssh-ed25519 AAAA k"]
    assert Node(name="n", guest_os=GuestOs.RHEL9, ssh_port=1).authorized_keys == []


async def test_extra_keys_are_in_authorized_keys(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], tmp_path: Path, backend_name: str, settings: Settings
) -> None:
    _, public = _key_pair(tmp_path)
    spec = make_spec(authorized_keys=(public,))
    await backend.ensure(spec)
    lines = (await backend.read_file(spec.name, "/root/.ssh/authorized_keys")).splitlines()
    assert public in lines
    if backend_name == "docker":
        # dc-sim's own key still logs in: it comes first.
        assert lines[0] == ssh_key_path(settings).with_suffix(".pub").read_text().strip()


async def test_without_extra_keys_nothing_changes(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], backend_name: str, settings: Settings
) -> None:
    spec = make_spec()
    await backend.ensure(spec)
    if backend_name == "docker":
        text = await backend.read_file(spec.name, "/root/.ssh/authorized_keys")
        assert text == ssh_key_path(settings).with_suffix(".pub").read_text()
    else:
        with pytest.raises(Exception, match="no file"):
            await backend.read_file(spec.name, "/root/.ssh/authorized_keys")


# Only docker nodes run sshd: this one runs on the docker backend alone.
@pytest.mark.docker
@pytest.mark.parametrize("backend_name", ["docker"], indirect=True)
async def test_ssh_with_an_extra_key_logs_in(
    backend: NodeBackend, make_spec: Callable[..., NodeSpec], tmp_path: Path
) -> None:
    if shutil.which("ssh") is None:
        pytest.fail("the ssh client is missing (Debian: apt-get install openssh-client)")
    private, public = _key_pair(tmp_path)
    spec = make_spec(authorized_keys=(public,), guest_os=GuestOs.UBUNTU22)
    await backend.ensure(spec)
    command = ["ssh", "-i", str(private), "-p", str(spec.ssh_port), "-o", "StrictHostKeyChecking=no"]
    command += ["-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5"]
    command += ["-o", "IdentitiesOnly=yes", "root@127.0.0.1", "hostname"]
    deadline = time.monotonic() + 15
    while True:
        result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == spec.name
