"""``user`` and ``group``: accounts in a virtual node's ``/etc/passwd`` and ``/etc/group``.

Passwords are not kept (``/etc/shadow`` is not simulated); a new user gets the next free
UID from 1000 and, unless ``group`` names one, a group of its own name.
"""

from __future__ import annotations

from typing import Any

from dcsim_ansible.plugins.virtual.node import VirtualNode
from dcsim_ansible.plugins.virtual.payload import ModuleCall

PASSWD = "/etc/passwd"
GROUP = "/etc/group"


def _table(node: VirtualNode, path: str) -> list[list[str]]:
    return [line.split(":") for line in (node.read_text(path) or "").splitlines() if line.strip()]


def _text(rows: list[list[str]]) -> str:
    return "".join(":".join(row) + "\n" for row in rows)


def _groups_with_root(node: VirtualNode) -> list[list[str]]:
    rows = _table(node, GROUP)
    if not rows:
        # A node seeded without /etc/group: the groups its /etc/passwd implies.
        rows = [["root", "x", "0", ""]]
        admin = "wheel" if node.is_rhel else "sudo"
        rows.append([admin, "x", "10" if node.is_rhel else "27", ""])
        for user in _table(node, PASSWD):
            if len(user) > 3 and not any(row[2] == user[3] for row in rows):
                rows.append([user[0], "x", user[3], ""])
    return rows


def _next_id(rows: list[list[str]], column: int, system: bool) -> int:
    used = {int(row[column]) for row in rows if len(row) > column and row[column].isdigit()}
    candidate = 100 if system else 1000
    while candidate in used:
        candidate += 1
    return candidate


def _save(node: VirtualNode, call: ModuleCall, path: str, before: list[list[str]], after: list[list[str]]) -> bool:
    changed = _text(before) != _text(after)
    if changed and not call.check_mode:
        node.write_text(path, _text(after))
    return changed


def group(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Make a group present (with ``gid``) or absent."""
    params = call.params()
    name, state = params["name"], params.get("state", "present")
    rows = _groups_with_root(node)
    original = [list(row) for row in _table(node, GROUP)]
    row = next((r for r in rows if r[0] == name), None)
    if state == "absent":
        rows = [r for r in rows if r[0] != name]
    elif row is None:
        gid = params.get("gid") or _next_id(rows, 2, bool(params.get("system")))
        rows.append([name, "x", str(gid), ""])
    elif params.get("gid") is not None:
        row[2] = str(params["gid"])
    changed = _save(node, call, GROUP, original, rows)
    found = next((r for r in rows if r[0] == name), None)
    result: dict[str, Any] = {"changed": changed, "name": name, "state": state}
    if found:
        result["gid"] = int(found[2])
    return result


def user(node: VirtualNode, call: ModuleCall) -> dict[str, Any]:
    """Make a user present (UID, primary group, groups, shell, home, comment) or absent."""
    params = call.params()
    name, state = params["name"], params.get("state", "present")
    users = _table(node, PASSWD)
    original_users = [list(r) for r in users]
    groups = _groups_with_root(node)
    original_groups = [list(r) for r in _table(node, GROUP)]
    row = next((r for r in users if r[0] == name), None)
    if state == "absent":
        users = [r for r in users if r[0] != name]
        for g in groups:
            g[3] = ",".join(m for m in g[3].split(",") if m and m != name)
        changed = _save(node, call, PASSWD, original_users, users)
        changed = _save(node, call, GROUP, original_groups, groups) or changed
        if changed and params.get("remove") and not call.check_mode:
            node.remove(f"/home/{name}")
        return {"changed": changed, "name": name, "state": "absent"}
    primary = params.get("group")
    if primary is not None:
        grow = next((g for g in groups if g[0] == primary or g[2] == str(primary)), None)
        if grow is None:
            return {"failed": True, "msg": f"Group {primary} does not exist"}
        gid = grow[2]
    elif row is not None:
        gid = row[3]
    else:
        grow = next((g for g in groups if g[0] == name), None)
        if grow is None:
            grow = [name, "x", str(_next_id(groups, 2, bool(params.get("system")))), ""]
            groups.append(grow)
        gid = grow[2]
    if row is None:
        uid = params.get("uid") or _next_id(users, 2, bool(params.get("system")))
        home = params.get("home") or f"/home/{name}"
        row = [name, "x", str(uid), gid, params.get("comment") or "", home, params.get("shell") or "/bin/bash"]
        users.append(row)
    else:
        row[3] = gid
        for key, column in (("uid", 2), ("comment", 4), ("home", 5), ("shell", 6)):
            if params.get(key) is not None:
                row[column] = str(params[key])
    wanted = params.get("groups")
    if wanted is not None:
        wanted = [g.strip() for g in wanted.split(",")] if isinstance(wanted, str) else list(wanted)
        for g in wanted:
            if g and not any(r[0] == g for r in groups):
                return {"failed": True, "msg": f"Group {g} does not exist"}
        for g in groups:
            members = [m for m in g[3].split(",") if m]
            if g[0] in wanted and name not in members:
                members.append(name)
            elif g[0] not in wanted and name in members and not params.get("append"):
                members.remove(name)
            g[3] = ",".join(members)
    changed = _save(node, call, PASSWD, original_users, users)
    changed = _save(node, call, GROUP, original_groups, groups) or changed
    if params.get("create_home", True) and not call.check_mode and not node.exists(row[5]):
        node.make_dirs(row[5], 0o750)
        changed = True
    return {
        "changed": changed,
        "name": name,
        "state": "present",
        "uid": int(row[2]),
        "group": int(row[3]),
        "home": row[5],
        "shell": row[6],
        "comment": row[4],
    }
