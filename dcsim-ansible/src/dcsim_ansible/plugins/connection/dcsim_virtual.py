"""Ansible connection plugin ``dcsim_virtual``: run tasks on dc-sim's virtual nodes.

Ansible loads this file by path (``ANSIBLE_CONNECTION_PLUGINS``, see
:func:`dcsim_ansible.plugins.ansible_env`). Module payloads are pipelined to it; instead
of running them it reads which module the payload runs with which arguments and answers
with dc-sim's implementation against the node's tree (``dcsim_ansible.plugins.virtual``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleConnectionFailure, AnsibleFileNotFound  # type: ignore[import-untyped]
from ansible.plugins.connection import ConnectionBase  # type: ignore[import-untyped]

from dcsim_ansible.plugins.virtual.modules import run_module
from dcsim_ansible.plugins.virtual.node import NodeError, VirtualNode
from dcsim_ansible.plugins.virtual.payload import PayloadError, parse_payload
from dcsim_ansible.plugins.virtual.shell import run_shell, unwrap

DOCUMENTATION = """
    name: dcsim_virtual
    short_description: run tasks against a dc-sim virtual node's tree
    description:
        - Modules run as dc-sim implementations against the node's config tree and
          package inventory, never against the controller's files. Unsupported modules fail
          naming the module.
    author: dc-sim
    options:
        node:
            description: The node's name (its directory under the nodes directory).
            vars:
                - name: dcsim_node
                - name: inventory_hostname
        nodes_dir:
            description: The virtual backend's nodes directory (``<data_dir>/nodes``).
            env:
                - name: DCSIM_NODES_DIR
            vars:
                - name: dcsim_nodes_dir
"""


class Connection(ConnectionBase):  # type: ignore[misc]
    """A connection to one virtual node."""

    transport = "dcsim_virtual"
    has_pipelining = True
    always_pipeline_modules = True
    has_tty = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._node: VirtualNode | None = None

    def set_become_plugin(self, plugin: Any) -> None:
        """Ignore ``become``: a virtual node's tasks already act as root."""
        self.become = None

    def _connect(self) -> Connection:
        if self._node is None:
            name = self.get_option("node")
            nodes_dir = self.get_option("nodes_dir")
            if not nodes_dir:
                from dcsim.settings import load_settings

                nodes_dir = str(load_settings().data_dir / "nodes")
            try:
                self._node = VirtualNode(Path(nodes_dir), name)
            except NodeError as exc:
                raise AnsibleConnectionFailure(str(exc)) from exc
            self._connected = True
        return self

    @property
    def node(self) -> VirtualNode:
        """The node, connected on first use."""
        self._connect()
        assert self._node is not None
        return self._node

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        """Run a pipelined module payload, or answer a shell command (see :mod:`.virtual.shell`)."""
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        try:
            if in_data:
                try:
                    call = parse_payload(in_data)
                except PayloadError as exc:
                    return 1, b"", f"dc-sim virtual node: {exc}\n".encode()
                result = run_module(self.node, call)
                return (1 if result.get("failed") else 0), json.dumps(result).encode(), b""
            rc, out, err = run_shell(self.node, unwrap(cmd))
        except NodeError as exc:
            return 1, b"", f"dc-sim virtual node: {exc}\n".encode()
        return rc, out.encode(), err.encode()

    def put_file(self, in_path: str, out_path: str) -> None:
        """Copy a controller file into the node's tree."""
        super().put_file(in_path, out_path)
        if not os.path.isfile(in_path):
            raise AnsibleFileNotFound(f"file or module does not exist: {in_path}")
        try:
            self.node.write_bytes(out_path, Path(in_path).read_bytes())
        except NodeError as exc:
            raise AnsibleConnectionFailure(str(exc)) from exc

    def fetch_file(self, in_path: str, out_path: str) -> None:
        """Copy a file out of the node's tree to the controller."""
        super().fetch_file(in_path, out_path)
        try:
            data = self.node.read_bytes(in_path)
        except NodeError as exc:
            raise AnsibleConnectionFailure(str(exc)) from exc
        if data is None:
            raise AnsibleFileNotFound(f"file not found on node: {in_path}")
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        Path(out_path).write_bytes(data)

    def reset(self) -> None:
        """Nothing to reset: every command reads the node afresh."""

    def close(self) -> None:
        """Forget the node."""
        self._node = None
        self._connected = False
