"""``lineinfile``, ``blockinfile`` and ``sysctl``: edits of text files in a virtual node.

The rules follow the real modules: ``lineinfile`` replaces the last line a ``regexp``
(or ``search_string``) matches, else inserts at ``insertafter``/``insertbefore`` (end of
file by default) unless the line is already there; ``blockinfile`` keeps one marked
block; ``sysctl`` sets ``name=value`` in ``sysctl_file`` (the node's kernel parameters
are its file: there is no running kernel to reload).
"""

from __future__ import annotations

import re
from typing import Any

from dcsim_ansible.plugins.virtual.node import VirtualNode
from dcsim_ansible.plugins.virtual.payload import ModuleCall


def _write(node: VirtualNode, call: ModuleCall, path: str, before: str | None, after: str) -> dict[str, Any]:
    changed = before != after
    if changed and not call.check_mode:
        node.write_text(path, after)
    result: dict[str, Any] = {"changed": changed}
    if call.diff:
        result["diff"] = {"before": before or "", "after": after, "before_header": path, "after_header": path}
    return result


def _missing(path: str) -> dict[str, Any]:
    return {"failed": True, "rc": 257, "msg": f"Destination {path} does not exist !"}


def _matcher(params: dict[str, Any]) -> Any:
    if params.get("regexp") is not None:
        pattern = re.compile(params["regexp"])
        return lambda text: pattern.search(text)
    if params.get("search_string") is not None:
        needle = params["search_string"]
        return lambda text: needle in text
    return None


def _anchor(lines: list[str], spec: str | None, firstmatch: bool) -> int | None:
    """Index of the line a regex ``spec`` matches (first or last), None when none does."""
    if spec is None:
        return None
    pattern = re.compile(spec)
    found = [i for i, line in enumerate(lines) if pattern.search(line)]
    if not found:
        return None
    return found[0] if firstmatch else found[-1]


def lineinfile(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Make sure one line is (or no line matching is) in a file."""
    params = call.params()
    path = params.get("path") or params.get("dest") or params["name"]
    before = node.read_text(path)
    if before is None and params.get("state", "present") == "absent":
        return {"changed": False, "found": 0, "msg": "file not present"}
    if before is None and not params.get("create"):
        return _missing(path)
    lines = (before or "").splitlines()
    match = _matcher(params)
    if params.get("state", "present") == "absent":
        line = params.get("line")
        kept = [item for item in lines if not (match(item) if match else item == line)]
        after = "\n".join(kept) + ("\n" if kept else "")
        return _write(node, call, path, before, after if kept != lines else before or "")
    line = params["line"]
    firstmatch = bool(params.get("firstmatch"))
    hits = [i for i, item in enumerate(lines) if match and match(item)]
    if hits:
        index = hits[0] if firstmatch else hits[-1]
        new = line
        if params.get("backrefs") and params.get("regexp") is not None:
            found = re.search(params["regexp"], lines[index])
            new = found.expand(line) if found else line
        lines[index] = new
    elif params.get("backrefs"):
        return {"changed": False, "msg": ""}
    elif line not in lines:
        insertbefore, insertafter = params.get("insertbefore"), params.get("insertafter")
        if insertbefore == "BOF":
            lines.insert(0, line)
        elif insertbefore:
            at = _anchor(lines, insertbefore, firstmatch)
            lines.insert(len(lines) if at is None else at, line)
        elif insertafter and insertafter != "EOF":
            at = _anchor(lines, insertafter, firstmatch)
            lines.insert(len(lines) if at is None else at + 1, line)
        else:
            lines.append(line)
    after = "\n".join(lines) + "\n"
    if before is not None and after.rstrip("\n") == before.rstrip("\n"):
        after = before
    return _write(node, call, path, before, after)


def blockinfile(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Keep one block of lines between markers in a file (or none, with ``state: absent``)."""
    params = call.params()
    path = params.get("path") or params.get("dest") or params["name"]
    marker = params.get("marker") or "# {mark} ANSIBLE MANAGED BLOCK"
    begin = marker.replace("{mark}", params.get("marker_begin") or "BEGIN")
    end = marker.replace("{mark}", params.get("marker_end") or "END")
    before = node.read_text(path)
    if before is None and params.get("state", "present") == "absent":
        return {"changed": False, "msg": "file not present"}
    if before is None and not params.get("create"):
        return _missing(path)
    lines = (before or "").splitlines()
    block = (params.get("block") or "").splitlines()
    wanted = [] if params.get("state", "present") == "absent" or not block else [begin, *block, end]
    if begin in lines and end in lines and lines.index(begin) < lines.index(end):
        start, stop = lines.index(begin), lines.index(end)
        lines[start : stop + 1] = wanted
    elif wanted:
        insertbefore, insertafter = params.get("insertbefore"), params.get("insertafter")
        if insertbefore == "BOF":
            at = 0
        elif insertbefore:
            found = _anchor(lines, insertbefore, False)
            at = len(lines) if found is None else found
        elif insertafter and insertafter != "EOF":
            found = _anchor(lines, insertafter, False)
            at = len(lines) if found is None else found + 1
        else:
            at = len(lines)
        lines[at:at] = wanted
    after = "\n".join(lines) + ("\n" if lines else "")
    if before is not None and after.rstrip("\n") == before.rstrip("\n"):
        after = before
    return _write(node, call, path, before, after)


def sysctl(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Set (or remove) one kernel parameter in ``sysctl_file``."""
    params = call.params()
    name = params["name"]
    path = params.get("sysctl_file") or "/etc/sysctl.conf"
    state = params.get("state", "present")
    value = None if params.get("value") is None else str(params["value"]).strip()
    if state == "present" and value is None:
        return {"failed": True, "msg": "value= is required when state=present"}
    before = node.read_text(path)
    lines = (before or "").splitlines()
    kept: list[str] = []
    found = False
    for line in lines:
        key, sep, current = line.partition("=")
        if sep and key.strip() == name and not line.lstrip().startswith(("#", ";")):
            if state == "absent":
                continue
            if found:
                continue
            found = True
            kept.append(line if current.strip() == value else f"{name}={value}")
        else:
            kept.append(line)
    if state == "present" and not found:
        kept.append(f"{name}={value}")
    after = "\n".join(kept) + ("\n" if kept else "")
    if before is not None and kept == lines:
        after = before
    return _write(node, call, path, before, after)
