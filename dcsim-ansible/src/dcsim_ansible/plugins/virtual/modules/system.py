"""``ping``, ``setup``, ``command``/``shell``, ``service``/``systemd`` and ``service_facts`` on a virtual node."""

from __future__ import annotations

import fnmatch
import shlex
import time
from typing import Any

from dcsim_ansible.plugins.virtual.facts import gather
from dcsim_ansible.plugins.virtual.node import VirtualNode
from dcsim_ansible.plugins.virtual.payload import ModuleCall
from dcsim_ansible.plugins.virtual.shell import read_only_command


def ping(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Answer ``pong`` (or the ``data`` given); ``data=crash`` fails like the real module."""
    data = call.params().get("data", "pong")
    if data == "crash":
        return {"failed": True, "msg": "boom"}
    return {"ping": data}


def setup(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """The node's facts, narrowed by ``filter`` patterns when given."""
    facts = gather(node)
    patterns = call.params().get("filter") or []
    if isinstance(patterns, str):
        patterns = [patterns]
    if patterns:
        facts = {k: v for k, v in facts.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    return {"ansible_facts": facts}


def command(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Run one of the node's read-only commands; others fail with rc 127 naming the command."""
    params = call.params()
    creates, removes = params.get("creates"), params.get("removes")
    if creates and node.exists(creates):
        return {"changed": False, "rc": 0, "stdout": f"skipped, since {creates} exists", "stderr": ""}
    if removes and not node.exists(removes):
        return {"changed": False, "rc": 0, "stdout": f"skipped, since {removes} does not exist", "stderr": ""}
    argv = params.get("argv") or shlex.split(params.get("_raw_params") or params.get("cmd") or "")
    start = time.time()
    rc, out, err = read_only_command(node, argv)
    end = time.time()
    result: dict[str, Any] = {
        "changed": True,
        "cmd": argv,
        "rc": rc,
        "stdout": out.rstrip("\n"),
        "stderr": err.rstrip("\n"),
        "start": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(start)),
        "end": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(end)),
        "delta": f"0:00:{end - start:09.6f}",
    }
    if rc != 0:
        result.update(failed=True, msg="non-zero return code")
    return result


def _service_status(name: str, service: dict[str, Any]) -> dict[str, str]:
    running = service["state"] == "running"
    return {
        "Id": f"{name}.service",
        "ActiveState": "active" if running else "inactive",
        "SubState": "running" if running else "dead",
        "UnitFileState": "enabled" if service["enabled"] else "disabled",
        "LoadState": "loaded",
    }


def service(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Start, stop, restart, reload and enable the node's services (its service table)."""
    params = call.params()
    name = str(params["name"]).removesuffix(".service")
    services = node.services()
    if name not in services:
        return {"failed": True, "msg": f"Could not find the requested service {name}: host"}
    current = dict(services[name])
    wanted = dict(current)
    state, enabled = params.get("state"), params.get("enabled")
    changed = False
    if state in {"started", "running"}:
        wanted["state"] = "running"
    elif state == "stopped":
        wanted["state"] = "stopped"
    elif state in {"restarted", "reloaded"}:
        wanted["state"] = "running"
        changed = True
    elif state is not None:
        return {"failed": True, "msg": f"unknown service state {state!r}"}
    if enabled is not None:
        wanted["enabled"] = bool(enabled)
    changed = changed or wanted != current
    if changed and not call.check_mode:
        services[name] = wanted
        node.set_services(services)
    result: dict[str, Any] = {
        "changed": changed,
        "name": name,
        "state": "started" if wanted["state"] == "running" else "stopped",
        "enabled": wanted["enabled"],
        "status": _service_status(name, wanted),
    }
    return result


def service_facts(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """``ansible_facts.services`` from the node's service table."""
    services = {
        f"{name}.service": {
            "name": f"{name}.service",
            "state": service["state"],
            "status": "enabled" if service["enabled"] else "disabled",
            "source": "systemd",
        }
        for name, service in sorted(node.services().items())
    }
    return {"ansible_facts": {"services": services}}
