"""The facts ``setup`` (and ``gather_facts``) reports for a virtual node.

Everything comes from the node's tree and state: ``/etc/os-release``, ``/etc/hostname``,
the package inventory (kernel version), the spec's CPUs and memory, the boot. The set is
the one the library's playbooks use plus the usual identity facts; see spec 013.
"""

from __future__ import annotations

import hashlib
import shlex
import time
from typing import Any

from dcsim_ansible.plugins.virtual.node import VirtualNode


def os_release(node: VirtualNode) -> dict[str, str]:
    """``/etc/os-release`` as a dict."""
    values = {}
    for line in (node.read_text("/etc/os-release") or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            parts = shlex.split(value) if value else [""]
            values[key.strip()] = parts[0] if parts else ""
    return values


def kernel_release(node: VirtualNode) -> str:
    """The running kernel's release, from the kernel package of the inventory."""
    packages = node.packages()
    if "kernel" in packages:
        return packages["kernel"] + ".x86_64"
    version = packages.get("linux-image-generic", "5.15.0.0.0")
    parts = version.split(".")
    return f"{'.'.join(parts[:3])}-{parts[3] if len(parts) > 3 else '0'}-generic"


def host_key(node: VirtualNode) -> str:
    """The base64 blob of the node's ed25519 host key: its ``.pub`` file, else one derived
    from the node's name (stable, so its fingerprint is a fact that does not drift)."""
    text = node.read_text("/etc/ssh/ssh_host_ed25519_key.pub")
    if text and len(text.split()) >= 2:
        return text.split()[1]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = hashlib.sha256(f"dcsim-host-key:{node.name}".encode()).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return line.split()[1]


def gather(node: VirtualNode) -> dict[str, Any]:
    """The ``ansible_facts`` of ``node`` (names with the ``ansible_`` prefix, as setup returns them)."""
    release = os_release(node)
    state = node.state()
    hostname = (node.read_text("/etc/hostname") or node.name).strip()
    rhel = node.is_rhel
    version = release.get("VERSION_ID", "")
    boot = node.boot()
    now = time.time()
    ssh_port = 22
    for line in (node.read_text("/etc/ssh/sshd_config") or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0].lower() == "port" and words[1].isdigit():
            ssh_port = int(words[1])
    facts: dict[str, Any] = {
        "hostname": hostname.split(".")[0],
        "nodename": hostname,
        "fqdn": hostname,
        "system": "Linux",
        "kernel": kernel_release(node),
        "architecture": "x86_64",
        "machine": "x86_64",
        "distribution": "RedHat" if rhel else release.get("NAME", "Ubuntu"),
        "distribution_version": version,
        "distribution_major_version": version.split(".")[0],
        "distribution_release": "Plow" if rhel else release.get("VERSION_CODENAME", ""),
        "os_family": "RedHat" if rhel else "Debian",
        "pkg_mgr": "dnf" if rhel else "apt",
        "service_mgr": "systemd",
        "virtualization_role": "guest",
        "virtualization_type": "dcsim-virtual",
        "processor_vcpus": state.get("cpu", 1),
        "processor_count": state.get("cpu", 1),
        "memtotal_mb": state.get("memory_mb", 1024),
        "uptime_seconds": int(now - boot["booted_at"]),
        "machine_id": hashlib.md5(node.name.encode(), usedforsecurity=False).hexdigest(),
        "boot_id": boot["boot_id"],
        "user_id": "root",
        "user_dir": "/root",
        "python": {"executable": "/usr/bin/python3", "version": {"major": 3, "minor": 10 if not rhel else 9}},
        "python_version": "3.9.18" if rhel else "3.10.12",
        "date_time": {
            "epoch": str(int(now)),
            "iso8601": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "date": time.strftime("%Y-%m-%d", time.gmtime(now)),
        },
        "ssh_host_key_ed25519_public": host_key(node),
        "ssh_host_key_ed25519_public_keytype": "ssh-ed25519",
        "dcsim_ssh_port": ssh_port,
        "dcsim_power_state": state.get("power_state"),
    }
    return {f"ansible_{key}": value for key, value in facts.items()}
