"""Acceptance 7 of dcsim-vmware: installed alone next to core (a fresh venv, from its
source folder), the plugin loads, ``/vcenter`` answers and, with the simulator built,
the managed vCenter starts (``/readyz`` names its URLs) and pyvmomi-free clients can see
it listen; uninstalled, ``/vcenter`` is gone and core is untouched."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from support import REPO, Server, Venv, free_port

VCSIM = Path(os.environ.get("DCSIM_VCSIM", REPO / ".venv-tools" / "bin" / "dcsim-vcsim"))


def test_vmware_installed_alone_next_to_core_answers_and_uninstalled_is_gone(
    make_venv: Callable[..., Venv], serve: Callable[..., Server], tmp_path: Path
) -> None:
    if not VCSIM.exists():
        pytest.fail(f"{VCSIM} missing: run scripts/vcsim.sh")
    venv = make_venv("vmware-alone", REPO / "dcsim-core", REPO / "dcsim-vmware")
    plugins = venv.plugins(tmp_path)
    assert plugins["vmware"]["status"] == "loaded", plugins["vmware"]
    assert plugins["vmware"]["distribution"] == "dcsim-vmware"
    assert not {"ucs", "openstack", "ansible"} & set(plugins)

    https_port = free_port()
    server = serve(venv, DCSIM_PLUGINS__VMWARE__VCENTER="managed", DCSIM_PLUGINS__VMWARE__BINARY=str(VCSIM),
                   DCSIM_PLUGINS__VMWARE__HTTPS_PORT=str(https_port), DCSIM_PLUGINS__VMWARE__HTTP_PORT="0")  # fmt: skip
    token = server.admin_token
    datacenters = server.get("/vcenter/datacenter", token=token)
    assert datacenters.status_code == 200, datacenters.text
    assert "dc-west" in datacenters.text
    ready = server.get("/readyz")
    assert ready.status_code == 200 and f"https://127.0.0.1:{https_port}/sdk" in ready.text, ready.text
    with socket.create_connection(("127.0.0.1", https_port), timeout=5):
        pass
    server.stop()

    venv.uninstall("dcsim-vmware")
    plugins = venv.plugins(tmp_path)
    assert "vmware" not in plugins and plugins["sim"]["status"] == "loaded"
    server = serve(venv)
    assert server.get("/vcenter/datacenter", token=server.admin_token).status_code == 404
    assert server.get("/readyz").status_code == 200
