"""Node images of the docker backend, built from Debian packages without any image registry.

Stages, each skipped when its result exists:

1. a Debian bookworm minbase root file system made by ``debootstrap`` (openssh-server,
   python3, inotify-tools, sudo, iproute2, procps), configured for key-only root SSH and
   packed as a tarball in ``<data_dir>/cache`` (the slow part: about a minute);
2. the base image ``<prefix>-base:bookworm-r<recipe>``, that tarball ``docker import``-ed
   with sshd as its command;
3. one small image per guest OS, ``<prefix>:rhel9`` and ``<prefix>:ubuntu22``: the base
   plus the guest's identity (``/etc/os-release``, baseline ``/etc`` files, package
   inventory), built with ``docker build`` from the local base, so no registry is asked.

Run it as ``dcsim nodes build-image`` or ``python -m dcsim.sim.nodes.image``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors

from dcsim.errors import ConfigError, DcsimError
from dcsim.settings import Settings, load_settings
from dcsim.sim.model import GuestOs
from dcsim.sim.nodes.docker import connect, image_name, node_files, tar_files

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
INCLUDE = ("openssh-server", "python3", "inotify-tools", "sudo", "iproute2", "procps")
#: Version of the build steps below, part of the base image's tag and the tarball's name:
#: changing it rebuilds everything. (Images carry no labels of their own, because Docker
#: copies image labels onto containers, whose labels are the spec's.)
RECIPE = "1"

#: Receives one line of progress at a time.
Progress = Callable[[str], None]

# Key-only root logins; the per-node sshd_config written by the backend says the same.
_SSHD_DROP_IN = """PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
"""
# The RHEL-like flavour names sftp-server where RHEL keeps it (Ansible copies files by sftp).
_RHEL_SFTP = "usr/libexec/openssh/sftp-server"
_DEBIAN_SFTP = "/usr/lib/openssh/sftp-server"


def base_image_name(settings: Settings) -> str:
    """The imported root file system every flavour is built on."""
    return f"{settings.node_image_prefix}-base:{SUITE}-r{RECIPE}"


def rootfs_tarball(settings: Settings) -> Path:
    """Where the debootstrapped root file system is cached."""
    return settings.data_dir / "cache" / f"node-rootfs-{SUITE}-r{RECIPE}.tar"


def build_images(settings: Settings, progress: Progress, *, force: bool = False) -> list[str]:
    """Build what is missing of the node images (all of it with ``force``); return their names."""
    started = time.monotonic()

    def say(message: str) -> None:
        progress(f"[{time.monotonic() - started:6.1f}s] {message}")

    client = connect(settings)
    wanted = [image_name(settings, guest_os) for guest_os in GuestOs]
    base = base_image_name(settings)
    if not force and all(_built_on(client, name, base) for name in wanted):
        say(f"node images up to date: {', '.join(wanted)}")
        return wanted
    # Flavours before the base: an image with children cannot be deleted.
    previous = [image_id for image_id in (_image_id(client, name) for name in [*wanted, base]) if image_id]
    if force or _image_id(client, base) is None:
        tarball = rootfs_tarball(settings)
        if force or not tarball.exists():
            _debootstrap(tarball, say)
        else:
            say(f"using cached root file system {tarball}")
        repository, tag = base.rsplit(":", 1)
        say(f"importing {tarball.name} as {base}")
        try:
            client.api.import_image_from_file(
                str(tarball), repository=repository, tag=tag, changes=['CMD ["/usr/sbin/sshd", "-D", "-e"]']
            )
        except docker.errors.APIError as exc:
            raise DcsimError(f"docker import of {tarball} failed: {exc.explanation}") from exc
    else:
        say(f"base image {base} present")
    for guest_os in GuestOs:
        name = image_name(settings, guest_os)
        say(f"building {name}")
        try:
            client.images.build(
                fileobj=io.BytesIO(_flavour_context(base, guest_os)),
                custom_context=True,
                tag=name,
                rm=True,
                pull=False,
            )
        except docker.errors.BuildError as exc:
            raise DcsimError(f"building {name} failed: {exc.msg}") from exc
    current = {_image_id(client, name) for name in [*wanted, base]}
    for image_id in previous:
        if image_id not in current:
            try:
                client.images.remove(image_id)
            except docker.errors.APIError as exc:
                say(f"kept replaced image {image_id[:19]}: {exc.explanation}")
    say(f"done: {', '.join(wanted)}")
    return wanted


def _image_id(client: docker.DockerClient, name: str) -> str | None:
    try:
        return client.images.get(name).id
    except docker.errors.ImageNotFound:
        return None


def _built_on(client: docker.DockerClient, name: str, base: str) -> bool:
    """Whether image ``name`` exists and was built from the current ``base`` (in its history)."""
    try:
        base_id = client.images.get(base).id
        history: list[dict[str, Any]] = client.api.history(name)  # type: ignore[no-untyped-call]
    except docker.errors.ImageNotFound:
        return False
    return any(layer.get("Id") == base_id for layer in history)


def _debootstrap(tarball: Path, say: Callable[[str], None]) -> None:
    """Make the root file system with debootstrap, configure it and pack it as ``tarball``."""
    if shutil.which("debootstrap") is None:
        raise ConfigError("debootstrap is not installed (Debian: apt-get install debootstrap)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as work:
        root = Path(work) / "root"
        try:
            say(f"debootstrap {SUITE} (minbase + {', '.join(INCLUDE)}) from {MIRROR}")
            _run_debootstrap(root, say)
            say("configuring sshd")
            _configure(root)
        finally:
            # debootstrap mounts /proc and /sys inside the target; a failed run may leave
            # them, and deleting the work directory must not reach through them.
            _unmount_below(root)
        say(f"packing {tarball}")
        packed = Path(work) / tarball.name
        # Docker gives every container its own /dev, /proc and /sys.
        excludes = ["--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*"]
        subprocess.run(["tar", "--numeric-owner", *excludes, "-C", str(root), "-cf", str(packed), "."], check=True)
        packed.replace(tarball)


def _run_debootstrap(root: Path, say: Callable[[str], None]) -> None:
    command = ["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE, str(root), MIRROR]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    tail: list[str] = []
    phases: set[str] = set()
    for line in process.stdout:
        line = line.rstrip()
        tail = [*tail[-19:], line]
        # "I: Retrieving libc6 2.36-9" and the like: the first line of each phase only.
        words = line.split()
        if len(words) >= 2 and words[0] == "I:" and words[1] not in phases:
            phases.add(words[1])
            say(f"debootstrap: {line[3:]}")
    if process.wait() != 0:
        raise DcsimError("debootstrap failed:\n" + "\n".join(tail))


def _configure(root: Path) -> None:
    """Host keys, a privilege-separation directory and key-only root login."""
    subprocess.run(["chroot", str(root), "ssh-keygen", "-A"], check=True, capture_output=True)
    (root / "run" / "sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    (root / "etc" / "ssh" / "sshd_config.d" / "dcsim.conf").write_text(_SSHD_DROP_IN)
    # Without CAP_AUDIT_CONTROL a container cannot set the login uid: a required
    # pam_loginuid would refuse every SSH session.
    pam = root / "etc" / "pam.d" / "sshd"
    pam.write_text(pam.read_text().replace("required     pam_loginuid.so", "optional     pam_loginuid.so"))
    (root / "root" / ".ssh").mkdir(mode=0o700, exist_ok=True)
    for cache in (root / "var" / "cache" / "apt" / "archives", root / "var" / "lib" / "apt" / "lists"):
        for entry in cache.glob("*"):
            if entry.is_file():
                entry.unlink()


def _unmount_below(root: Path) -> None:
    prefix = str(root.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        targets = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for target in sorted(targets, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)


def _flavour_context(base: str, guest_os: GuestOs) -> bytes:
    """A ``docker build`` context: the base plus the guest's identity files."""
    dockerfile = f"FROM {base}\nCOPY files/ /\n"
    buffer = io.BytesIO(tar_files(node_files("localhost", guest_os), prefix="files/"))
    with tarfile.open(fileobj=buffer, mode="a") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
        if guest_os is GuestOs.RHEL9:
            link = tarfile.TarInfo(f"files/{_RHEL_SFTP}")
            link.type = tarfile.SYMTYPE
            link.linkname = _DEBIAN_SFTP
            tar.addfile(link)
    return buffer.getvalue()


def main() -> int:
    """Build the node images with the settings of the environment, progress on stderr."""
    try:
        build_images(load_settings(), lambda line: print(line, file=sys.stderr, flush=True))
    except DcsimError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
