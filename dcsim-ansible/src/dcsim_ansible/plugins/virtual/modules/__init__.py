"""The modules a virtual node runs, by name, and the answer to any other module.

A module here is a function ``(node, call) -> result``: the same result dictionary the
real module would print (``changed``, ``failed``, ``msg``, ``diff``, ``ansible_facts``
...), honouring check mode (``_ansible_check_mode``) and diff mode (``_ansible_diff``).
A module that is not in :data:`MODULES` answers a failed result naming it, never a
silent success.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcsim_ansible.plugins.virtual.modules import accounts, edits, files, packages, system
from dcsim_ansible.plugins.virtual.node import NodeError, VirtualNode
from dcsim_ansible.plugins.virtual.payload import ModuleCall

Module = Callable[[VirtualNode, ModuleCall], dict[str, Any]]

#: Module short name (``ansible.builtin.<name>``) to its dc-sim implementation.
MODULES: dict[str, Module] = {
    "ping": system.ping,
    "setup": system.setup,
    "command": system.command,
    "shell": system.command,
    "service": system.service,
    "systemd": system.service,
    "systemd_service": system.service,
    "service_facts": system.service_facts,
    "stat": files.stat,
    "slurp": files.slurp,
    "file": files.file,
    "copy": files.copy,
    "find": files.find,
    "lineinfile": edits.lineinfile,
    "blockinfile": edits.blockinfile,
    "sysctl": edits.sysctl,
    "ansible.posix.sysctl": edits.sysctl,
    "user": accounts.user,
    "group": accounts.group,
    "package": packages.package,
    "apt": packages.package,
    "dnf": packages.package,
    "dnf5": packages.package,
    "yum": packages.package,
    "package_facts": packages.package_facts,
}


def unsupported(call: ModuleCall) -> dict[str, Any]:
    """The failed result of a module virtual nodes do not run."""
    return {
        "failed": True,
        "changed": False,
        "unsupported_module": call.fqn,
        "msg": (
            f"module {call.name} ({call.fqn}) is not supported on dc-sim virtual nodes; "
            f"supported: {', '.join(sorted(MODULES))} (and the reboot action)"
        ),
    }


def run_module(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Run ``call`` on ``node`` and return the module's result."""
    module = MODULES.get(call.name)
    if module is None:
        return unsupported(call)
    try:
        result = module(node, call)
    except NodeError as exc:
        return {"failed": True, "changed": False, "msg": f"{call.name}: {exc}"}
    except (KeyError, ValueError, TypeError) as exc:
        return {"failed": True, "changed": False, "msg": f"{call.name}: bad arguments on a virtual node: {exc}"}
    result.setdefault("changed", False)
    result.setdefault("invocation", {"module_args": call.params()})
    return result
