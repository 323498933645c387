"""Read the module name and arguments out of an AnsiballZ payload, without running it.

ansible-core (2.19) ends every Python module payload with a call
``_ansiballz_main(ansible_module=..., module_fqn=..., params='{"ANSIBLE_MODULE_ARGS": ...}', ...)``
whose arguments are literals: parsing that call is enough to know what the task asked for.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import attrs

_CALL = "_ansiballz_main("


class PayloadError(ValueError):
    """The payload is not an AnsiballZ Python module this connection understands."""


@attrs.frozen
class ModuleCall:
    """One module invocation: its short name (``copy``), its fully qualified name, its arguments."""

    name: str
    fqn: str
    args: dict[str, Any]

    @property
    def check_mode(self) -> bool:
        """The task runs in check mode: report, change nothing."""
        return bool(self.args.get("_ansible_check_mode"))

    @property
    def diff(self) -> bool:
        """The task asked for a diff."""
        return bool(self.args.get("_ansible_diff"))

    def params(self) -> dict[str, Any]:
        """The module's own arguments, without Ansible's internal ``_ansible_*`` ones."""
        return {k: v for k, v in self.args.items() if not k.startswith("_ansible_")}


def parse_payload(data: bytes) -> ModuleCall:
    """The module call an AnsiballZ payload makes; :class:`PayloadError` if it is not one."""
    text = data.decode("utf-8", errors="replace")
    start = text.rfind(_CALL)
    if start < 0:
        raise PayloadError("not an AnsiballZ Python module payload")
    try:
        tree = ast.parse(text[start:].strip(), mode="eval")
    except SyntaxError as exc:
        raise PayloadError(f"unreadable AnsiballZ call: {exc}") from exc
    call = tree.body
    if not isinstance(call, ast.Call):
        raise PayloadError("unreadable AnsiballZ call")
    values: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg in {"ansible_module", "module_fqn", "params"}:
            values[keyword.arg] = ast.literal_eval(keyword.value)
    if "module_fqn" not in values or "params" not in values:
        raise PayloadError("the AnsiballZ call names no module or arguments")
    fqn = str(values["module_fqn"])
    args = json.loads(values["params"]).get("ANSIBLE_MODULE_ARGS", {})
    return ModuleCall(name=short_name(fqn), fqn=fqn, args=args)


def short_name(fqn: str) -> str:
    """``ansible.modules.copy`` is ``copy``; a collection's module keeps its collection
    (``ansible_collections.ansible.posix.plugins.modules.sysctl`` is ``ansible.posix.sysctl``)."""
    for prefix in ("ansible.modules.", "ansible.legacy.", "ansible.builtin."):
        if fqn.startswith(prefix):
            return fqn[len(prefix) :]
    parts = fqn.split(".")
    if len(parts) == 6 and parts[0] == "ansible_collections" and parts[3:5] == ["plugins", "modules"]:
        return ".".join((parts[1], parts[2], parts[5]))
    return fqn
