"""Jinja filters of the ``sim_cmdb_facts`` role: an SSH key's fingerprint, os-release."""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Callable
from typing import Any


def dcsim_ssh_fingerprint(blob: str | None) -> str | None:
    """The ``SHA256:...`` fingerprint (as ``ssh-keygen -l`` prints it) of a public key's
    base64 blob, or of a whole ``.pub`` line; None for no key."""
    if not blob:
        return None
    words = str(blob).split()
    key = words[1] if len(words) >= 2 else words[0]
    digest = hashlib.sha256(base64.b64decode(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def dcsim_os_release(text: str) -> dict[str, str]:
    """``/etc/os-release`` text as a mapping."""
    values = {}
    for line in str(text).splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            parts = shlex.split(value) if value.strip() else [""]
            values[key.strip()] = parts[0] if parts else ""
    return values


class FilterModule:
    """Ansible's entry point for the filters of this file."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"dcsim_ssh_fingerprint": dcsim_ssh_fingerprint, "dcsim_os_release": dcsim_os_release}
