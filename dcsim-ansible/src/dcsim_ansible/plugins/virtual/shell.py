"""The shell commands a virtual node answers, and nothing else.

Ansible sends a connection two kinds of command besides module payloads: its own
housekeeping (the remote temporary directory, ``echo ~``, ``chmod``, interpreter
discovery, the ``reboot`` action's boot id / shutdown / test commands) and what a task
asks for (``command``, ``shell``, ``raw``). A virtual node has no processes, so each
command it knows is answered here from the node's tree; any other answers exit status
127 with a message naming the command. Nothing runs on the host.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable

from dcsim_ansible.plugins.virtual.facts import kernel_release
from dcsim_ansible.plugins.virtual.node import NodeError, VirtualNode

#: The root user's home: where ``~`` leads in a node.
HOME = "/root"
_TMP = re.compile(r"echo (\S*?)/?(ansible-tmp-[\w.-]+)")
_REMOVE = re.compile(r"^rm -f -r (\S+)")
_SHUTDOWN = re.compile(r"(^|/)(shutdown|reboot|systemctl reboot)\b")

Result = tuple[int, str, str]


def unwrap(cmd: str) -> str:
    """The command a ``/bin/sh -c '...'`` wrapper runs, without Ansible's ``&& sleep 0``."""
    try:
        argv = shlex.split(cmd)
    except ValueError:
        return cmd
    if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in {"sh", "bash"} and argv[1] == "-c":
        cmd = argv[2]
    return re.sub(r"\s*&&\s*sleep 0\s*$", "", cmd.strip())


def run_shell(node: VirtualNode, command: str) -> Result:
    """Answer one command line (already unwrapped) on ``node``."""
    if command.startswith("echo FOUND;"):
        return 0, "FOUND\n/usr/bin/python3\nENDFOUND\n", ""
    if command in {"echo ~", "echo ~root", f"echo {HOME}"}:
        return 0, HOME + "\n", ""
    if "mkdir" in command and "ansible-tmp-" in command:
        return _make_tmp(node, command)
    removing = _REMOVE.match(command)
    if removing:
        path = _expand(removing.group(1).strip("'\""))
        if "/.ansible/tmp/" in path:
            node.remove(path)
        return 0, "", ""
    if command.startswith("chmod ") or command.startswith("( umask"):
        return 0, "", ""
    if (_SHUTDOWN.search(command) and "-r" in command) or command.strip() in {"reboot", "systemctl reboot"}:
        node.reboot()
        return 0, "", ""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return 2, "", f"dc-sim virtual node: unreadable command: {exc}\n"
    return read_only_command(node, argv)


def read_only_command(node: VirtualNode, argv: list[str]) -> Result:
    """Run one of the read-only commands a virtual node knows (see :data:`COMMANDS`)."""
    if not argv:
        return 0, "", ""
    program = argv[0].rsplit("/", 1)[-1]
    answer = COMMANDS.get(program)
    if answer is None or any(c in argv for c in ("|", ";", "&&", ">", "<")):
        known = ", ".join(sorted(COMMANDS))
        return (
            127,
            "",
            f"dc-sim virtual node: command {' '.join(argv)!r} is not supported (commands a virtual node answers: {known})\n",
        )
    try:
        return answer(node, argv[1:])
    except NodeError as exc:
        return 1, "", f"{program}: {exc}\n"


def _expand(path: str) -> str:
    return HOME + path[1:] if path.startswith("~") else path


def _make_tmp(node: VirtualNode, command: str) -> Result:
    found = _TMP.search(command)
    if not found:
        return 1, "", "dc-sim virtual node: unreadable temporary directory command\n"
    base = _expand(found.group(1) or "~/.ansible/tmp").rstrip("/")
    path = f"{base}/{found.group(2)}"
    node.make_dirs(path, 0o700)
    return 0, f"{found.group(2)}={path}\n", ""


def _cat(node: VirtualNode, args: list[str]) -> Result:
    if args == ["/proc/sys/kernel/random/boot_id"]:
        return 0, node.boot()["boot_id"] + "\n", ""
    out: list[str] = []
    for path in args:
        text = node.read_text(path)
        if text is None:
            return 1, "".join(out), f"cat: {path}: No such file or directory\n"
        out.append(text)
    return 0, "".join(out), ""


def _uptime(node: VirtualNode, args: list[str]) -> Result:
    seconds = int(time.time() - node.boot()["booted_at"])
    if args[:1] in (["-p"], ["--pretty"]):
        return 0, f"up {seconds // 3600} hours, {seconds % 3600 // 60} minutes\n", ""
    since = time.strftime("%H:%M:%S", time.localtime())
    days, rest = divmod(seconds, 86400)
    return (
        0,
        f" {since} up {days} days, {rest // 3600:2d}:{rest % 3600 // 60:02d},  1 user,  load average: 0.00, 0.00, 0.00\n",
        "",
    )


def _hostname(node: VirtualNode, args: list[str]) -> Result:
    return 0, (node.read_text("/etc/hostname") or node.name + "\n"), ""


def _uname(node: VirtualNode, args: list[str]) -> Result:
    release = kernel_release(node)
    host = (node.read_text("/etc/hostname") or node.name).strip()
    if args in ([], ["-s"]):
        return 0, "Linux\n", ""
    if args == ["-r"]:
        return 0, release + "\n", ""
    if args == ["-m"]:
        return 0, "x86_64\n", ""
    if args == ["-n"]:
        return 0, host + "\n", ""
    return 0, f"Linux {host} {release} #1 SMP x86_64 GNU/Linux\n", ""


def _whoami(node: VirtualNode, args: list[str]) -> Result:
    return 0, "root\n", ""


def _id(node: VirtualNode, args: list[str]) -> Result:
    if args in (["-un"], ["-u", "-n"]):
        return 0, "root\n", ""
    if args == ["-u"]:
        return 0, "0\n", ""
    return 0, "uid=0(root) gid=0(root) groups=0(root)\n", ""


def _date(node: VirtualNode, args: list[str]) -> Result:
    return 0, time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime()) + "\n", ""


def _echo(node: VirtualNode, args: list[str]) -> Result:
    return 0, " ".join(args) + "\n", ""


def _true(node: VirtualNode, args: list[str]) -> Result:
    return 0, "", ""


def _test(node: VirtualNode, args: list[str]) -> Result:
    if len(args) == 2 and args[0] in {"-e", "-f", "-d"}:
        path = args[1]
        ok = node.is_dir(path) if args[0] == "-d" else node.exists(path)
        return (0 if ok else 1), "", ""
    return 2, "", "test: only -e, -f and -d PATH are supported on virtual nodes\n"


#: Read-only commands a virtual node answers (for ``command``, ``shell`` and ``raw`` tasks).
COMMANDS: dict[str, Callable[[VirtualNode, list[str]], Result]] = {
    "cat": _cat,
    "date": _date,
    "echo": _echo,
    "hostname": _hostname,
    "id": _id,
    "test": _test,
    "true": _true,
    "uname": _uname,
    "uptime": _uptime,
    "whoami": _whoami,
}
