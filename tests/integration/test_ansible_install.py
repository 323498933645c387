"""Acceptance 8 of dcsim-ansible: installed alone next to core, its plugin, routes and
playbook library work (a real run of hello-world on the virtual seed nodes, from the
wheel); uninstalled, they are gone."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
from support import REPO, Server, Venv


def _run_hello_world(server: Server) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    answer = httpx.post(f"{server.url}/ansible/run", json={"playbook": "hello-world"}, headers=headers, timeout=30)
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["id"]
    deadline = time.monotonic() + 300
    while True:
        run: dict[str, object] = server.get(f"/ansible/runs/{run_id}", token=server.admin_token).json()
        if run["status"] not in ("queued", "running"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.5)


def test_ansible_installed_alone_next_to_core_runs_and_uninstalled_is_gone(
    make_venv: Callable[..., Venv], serve: Callable[..., Server], tmp_path: Path
) -> None:
    venv = make_venv("ansible-alone", REPO / "dcsim-core", REPO / "dcsim-ansible")
    plugins = venv.plugins(tmp_path)
    assert plugins["ansible"]["status"] == "loaded", plugins["ansible"]
    assert plugins["ansible"]["distribution"] == "dcsim-ansible"
    assert not {"ucs", "vmware", "openstack"} & set(plugins)

    server = serve(venv)
    paths = server.get("/schema/openapi.json").json()["paths"]
    assert {"/ansible/run", "/ansible/runs", "/ansible/playbooks", "/ansible/triggers"} <= set(paths)
    books = server.get("/ansible/playbooks?limit=1000", token=server.admin_token).json()["items"]
    assert {"hello-world", "baseline-ubuntu", "collect-facts"} <= {b["name"] for b in books}
    run = _run_hello_world(server)
    assert run["status"] == "successful", run
    assert len(run["stats"]) == 9  # type: ignore[arg-type]
    server.stop()

    venv.uninstall("dcsim-ansible")
    assert "ansible" not in venv.plugins(tmp_path)
    server = serve(venv)
    assert not [p for p in server.get("/schema/openapi.json").json()["paths"] if p.startswith("/ansible")]
    assert server.get("/ansible/runs", token=server.admin_token).status_code == 404
