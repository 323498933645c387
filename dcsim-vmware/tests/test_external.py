"""``vcenter`` set to an SDK URL: dc-sim starts nothing, seeds that vCenter from the
world and follows it (here a simulator started by the test, over plain HTTP)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from conftest import PASSWORD, USER, VCSIM, connect, eventually, find_vm, wait

from dcsim_vmware.certificate import ensure_certificate


def test_a_configured_vcenter_url_is_seeded_and_followed(make_client: Any, tmp_path: Path) -> None:
    cert, key = ensure_certificate(tmp_path / "tls")
    process = subprocess.Popen([str(VCSIM), f"-tlscert={cert}", f"-tlskey={key}", f"-username={USER}",
                                f"-password={PASSWORD}"], stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["http"]
        client = make_client(plugins={"vmware": {"vcenter": url, "username": USER, "password": PASSWORD}})
        service = client.sim.services["vmware"]
        assert service.sidecar is None and service.urls == {"url": url}
        si = connect(url)
        vm = find_vm(si, "vm-002")
        hosts = {h["id"]: h["name"] for h in client.get("/sim/hosts").json()["items"]}
        assert vm.runtime.host.name == hosts[client.get("/sim/vms/vm-002").json()["host_id"]]
        wait(vm.PowerOffVM_Task())
        eventually(lambda: client.get("/sim/vms/vm-002").json()["power_state"] == "off")
        assert client.get("/readyz").status_code == 200
    finally:
        process.terminate()
        process.wait(10)
