"""Fixtures: a dc-sim with dcsim-vmware serving its managed vCenter simulator on free
loopback ports, and pyvmomi connected to it over HTTPS and HTTP.

The simulator is the one ``scripts/vcsim.sh`` builds into ``.venv-tools/bin`` (or
``$DCSIM_VCSIM``); govc comes from the same place (``$DCSIM_GOVC``). Tests fail, never
skip, when they are missing: the vmware tox env runs the script first.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from dcsim_vmware.sidecar import free_port

REPO = Path(__file__).resolve().parents[2]
VCSIM = Path(os.environ.get("DCSIM_VCSIM", REPO / ".venv-tools" / "bin" / "dcsim-vcsim"))
GOVC = Path(os.environ.get("DCSIM_GOVC", REPO / ".venv-tools" / "bin" / "govc"))
USER, PASSWORD = "administrator@vsphere.local", "test-Secret-1"


def vmware_settings(**extra: Any) -> dict[str, Any]:
    """``[plugins.vmware]`` of a managed simulator on free ports."""
    assert VCSIM.exists(), f"{VCSIM} missing: run scripts/vcsim.sh"
    return {
        "vcenter": "managed",
        "binary": str(VCSIM),
        "https_port": free_port(),
        "http_port": free_port(),
        "username": USER,
        "password": PASSWORD,
        **extra,
    }


def connect(url: str) -> vim.ServiceInstance:
    """pyvmomi logged in to ``url`` (HTTPS without verification, or HTTP)."""
    scheme, rest = url.split("://")
    port = int(rest.split("/")[0].split(":")[1])
    context = ssl._create_unverified_context() if scheme == "https" else None
    return SmartConnect(host="127.0.0.1", port=port, user=USER, pwd=PASSWORD, protocol=scheme, sslContext=context)


def eventually(check: Callable[[], Any], timeout: float = 2.0) -> Any:
    """``check()``'s first truthy result within ``timeout`` seconds; its last error otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except (AssertionError, LookupError, vim.fault.NotFound):
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {timeout}s: {check}")
        time.sleep(0.05)


def find_vm(si: vim.ServiceInstance, name: str) -> vim.VirtualMachine:
    """The VM called ``name``; LookupError if vCenter has none."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        for vm in view.view:
            if vm.name == name:
                return vm
    finally:
        view.Destroy()
    raise LookupError(name)


def wait(task: vim.Task) -> Any:
    """A task's result (its error raised)."""
    while task.info.state not in ("success", "error"):
        time.sleep(0.02)
    if task.info.state == "error":
        raise task.info.error
    return task.info.result


@attrs.define
class VCenter:
    """A running dc-sim with its vCenter, and pyvmomi logged in to it."""

    client: Any
    recorder: Any
    si: vim.ServiceInstance

    @property
    def service(self) -> Any:
        return self.client.sim.services["vmware"]

    @property
    def world(self) -> Any:
        return self.client.sim.sim.world

    def vm(self, name: str) -> vim.VirtualMachine:
        return find_vm(self.si, name)

    def events(self, event_type: str, name: str | None = None) -> list[Any]:
        return [e for e in self.recorder.events if e.type == event_type and name in (None, e.data.get("name"))]

    def sim_vm(self, name: str) -> dict[str, Any]:
        """``GET /sim/vms/{name}``, with its host's name added as ``host``."""
        response = self.client.get(f"/sim/vms/{name}")
        assert response.status_code == 200, response.text
        hosts = {h["id"]: h["name"] for h in self.client.get("/sim/hosts").json()["items"]}
        return dict(response.json()) | {"host": hosts[response.json()["host_id"]]}


@pytest.fixture
def vcenter(make_client: Any, recorder: Any) -> Iterator[VCenter]:
    """dc-sim with a managed vCenter, seeded; pyvmomi over HTTPS."""
    client = make_client(recorder, plugins={"vmware": vmware_settings()})
    si = connect(client.sim.services["vmware"].urls["https"])
    yield VCenter(client, recorder, si)
    Disconnect(si)
