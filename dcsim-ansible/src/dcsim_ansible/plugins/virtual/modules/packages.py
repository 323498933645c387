"""``package``, ``apt``, ``dnf``/``yum`` and ``package_facts`` against a node's package inventory.

A virtual node has no repository: installing a package it lacks records the version
the task pins (``name=1.2-3`` for apt, ``name-1.2-3`` for dnf) or ``1.0-dcsim1``; ``latest``
leaves an installed package as it is (newer versions come from the advisories, which the
``sim_patch`` role applies by writing the inventory). Changes go through core's virtual
backend, so the patch and drift modules see them.
"""

from __future__ import annotations

import re
from typing import Any

from dcsim_ansible.plugins.virtual.node import VirtualNode
from dcsim_ansible.plugins.virtual.payload import ModuleCall

#: The version a package installed without a pinned version gets.
DEFAULT_VERSION = "1.0-dcsim1"
_DNF_PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.+-]+?)-(?P<version>\d[\w.:~+]*-[\w.~+]+)$")


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def _split(spec: str, rhel: bool) -> tuple[str, str | None]:
    if not rhel and "=" in spec:
        name, _, version = spec.partition("=")
        return name, version
    if rhel:
        found = _DNF_PIN.match(spec)
        if found:
            return found.group("name"), found.group("version")
    return spec, None


def package(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Install, pin or remove packages in the node's inventory."""
    params = call.params()
    state = params.get("state") or "present"
    inventory = node.packages()
    wanted = dict(inventory)
    for spec in _names(params.get("name") or params.get("pkg")):
        if spec == "*":
            continue
        name, version = _split(spec, node.is_rhel)
        if state in {"absent", "removed"}:
            wanted.pop(name, None)
        elif state in {"present", "installed", "latest"}:
            if version is not None:
                wanted[name] = version
            elif name not in wanted:
                wanted[name] = DEFAULT_VERSION
        else:
            return {"failed": True, "msg": f"package state {state!r} is not supported on virtual nodes"}
    changed = wanted != inventory
    if changed and not call.check_mode:
        node.set_packages(wanted)
    result: dict[str, Any] = {
        "changed": changed,
        "results": sorted(
            name for name in set(wanted) ^ set(inventory) | {n for n in wanted if wanted[n] != inventory.get(n)}
        ),
    }
    if call.diff:
        result["diff"] = {
            "before": "".join(f"{k} {v}\n" for k, v in sorted(inventory.items())),
            "after": "".join(f"{k} {v}\n" for k, v in sorted(wanted.items())),
        }
    return result


def package_facts(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """``ansible_facts.packages`` from the node's inventory."""
    source = "rpm" if node.is_rhel else "apt"
    packages = {
        name: [{"name": name, "version": version, "arch": "x86_64", "source": source}]
        for name, version in sorted(node.packages().items())
    }
    return {"ansible_facts": {"packages": packages}}
