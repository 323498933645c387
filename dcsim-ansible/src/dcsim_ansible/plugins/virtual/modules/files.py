"""``stat``, ``slurp``, ``file``, ``copy`` (and so ``template``) and ``find`` on a virtual node."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
from typing import Any

from dcsim_ansible.plugins.virtual.node import VirtualNode
from dcsim_ansible.plugins.virtual.payload import ModuleCall

#: Programs every virtual node has, though its tree holds no binaries (``find`` lists them;
#: the ``reboot`` action looks for ``shutdown``).
PROGRAMS = ("/usr/sbin/shutdown", "/usr/sbin/reboot", "/usr/bin/python3", "/usr/bin/uptime", "/usr/bin/cat")


def parse_mode(mode: Any) -> int | None:
    """An octal mode (``"0644"``, ``"644"``, ``0o644``); symbolic modes are refused."""
    if mode is None:
        return None
    if isinstance(mode, int):
        return mode
    text = str(mode)
    if not text.isdigit():
        raise ValueError(f"mode {text!r}: virtual nodes take octal modes only")
    return int(text, 8)


def stat(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """What is at ``path``: existence, type, mode, size and checksum."""
    params = call.params()
    checksum = params.get("checksum_algorithm", "sha1") if params.get("get_checksum", True) else None
    return {"stat": node.stat(params["path"], checksum)}


def slurp(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """A file's content, base64-encoded."""
    src = call.params()["src"]
    data = node.read_bytes(src)
    if data is None:
        return {"failed": True, "msg": f"file not found: {src}"}
    return {"content": base64.b64encode(data).decode(), "encoding": "base64", "source": src}


def file(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Make a path absent, a directory, an existing file with a mode, or touched.

    Ownership (``owner``, ``group``) is accepted and not recorded: every file of a virtual
    node is root's.
    """
    params = call.params()
    path = params.get("path") or params["dest"]
    mode = parse_mode(params.get("mode"))
    exists = node.exists(path)
    state = params.get("state") or ("directory" if node.is_dir(path) else "file")
    result: dict[str, Any] = {"path": path, "state": state}
    if state == "absent":
        if exists and not call.check_mode:
            node.remove(path)
        result.update(changed=exists, state="absent")
        return result
    if state == "directory":
        if exists and not node.is_dir(path):
            return {"failed": True, "path": path, "msg": f"{path} already exists as a file"}
        changed = not exists
        if not call.check_mode:
            node.make_dirs(path)
            changed = (node.chmod(path, mode) if mode is not None else False) or changed
        result["changed"] = changed
        return result
    if state == "touch":
        if not call.check_mode:
            node.touch(path)
            if mode is not None:
                node.chmod(path, mode)
        result["changed"] = True
        return result
    if state == "file":
        if not exists:
            return {"failed": True, "path": path, "state": "absent", "msg": f"file ({path}) is absent, cannot continue"}
        changed = False
        if mode is not None:
            current = int(node.stat(path, None)["mode"], 8)
            changed = current != mode
            if changed and not call.check_mode:
                node.chmod(path, mode)
        result["changed"] = changed
        return result
    return {"failed": True, "msg": f"file state {state!r} is not supported on virtual nodes"}


def copy(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Put the file the copy action transferred (``src``) at ``dest``, if its content differs."""
    params = call.params()
    if params.get("validate"):
        return {"failed": True, "msg": "copy/template 'validate' runs a program: not supported on virtual nodes"}
    src, dest = params["src"], params["dest"]
    data = node.read_bytes(src)
    if data is None:
        return {"failed": True, "msg": f"Source {src} not found"}
    if node.is_dir(dest) or dest.endswith("/"):
        dest = dest.rstrip("/") + "/" + (params.get("_original_basename") or src.rsplit("/", 1)[-1])
    mode = parse_mode(params.get("mode"))
    old = node.read_bytes(dest)
    changed = old != data
    if old is not None and not params.get("force", True):
        changed = False
    if not call.check_mode:
        if changed:
            node.write_bytes(dest, data, mode)
        elif mode is not None:
            changed = node.chmod(dest, mode)
        if not params.get("remote_src") and "/.ansible/tmp/" in src:
            node.remove(src)
    return {
        "changed": changed,
        "dest": dest,
        "src": src,
        "checksum": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        "size": len(data),
        "state": "file",
    }


def find(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Files under ``paths`` whose names match ``patterns`` (shell globs)."""
    params = call.params()
    paths = params.get("paths") or params.get("path") or []
    paths = [paths] if isinstance(paths, str) else paths
    patterns = params.get("patterns") or ["*"]
    patterns = [patterns] if isinstance(patterns, str) else patterns
    file_type = params.get("file_type", "file")
    recurse = params.get("recurse", False)
    found: list[dict[str, Any]] = []
    for base in paths:
        base = base.rstrip("/") or "/"
        candidates = [p for p in PROGRAMS if p.rsplit("/", 1)[0] == base]
        for path in node.listing(base):
            if recurse or path.rsplit("/", 1)[0] == base:
                candidates.append(path)
        for path in sorted(set(candidates)):
            name = path.rsplit("/", 1)[-1]
            is_dir = path not in PROGRAMS and node.is_dir(path)
            if (file_type == "file" and is_dir) or (file_type == "directory" and not is_dir):
                continue
            if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                found.append({"path": path, "isdir": is_dir, "isreg": not is_dir, "mode": "0755"})
    return {"files": found, "matched": len(found), "examined": len(found)}
