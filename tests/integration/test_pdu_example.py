"""Acceptance: the example vendor package (docs/examples/dcsim-pdu), installed with pip in
a fresh venv next to core, adds its kind, fault (cascading server > host > VMs with HA),
node labels, CMDB CIs, inventory group and route; uninstalling it removes all of it,
and neither step touches core's installed files.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from support import REPO, Server, Venv

PDU = REPO / "docs" / "examples" / "dcsim-pdu"
SERVERS = ["c01s01", "c01s02", "c01s03", "c01s04"]

# A second third-party plugin, written by the test: a hypervisor host (esxi-03, of the
# seed's HA cluster) on a fourth server in slot 4 of chassis-01, with one VM. It gives
# the PDU's outlet 4 a host and a VM to take down.
RACK_PLUGIN = """
from dcsim import hookimpl
from dcsim.sim.model import Chassis, Cluster, Datastore, GuestOs, Network


@hookimpl
def dcsim_sim_seed_topology(topology):
    world = topology.world
    server = topology.blade("c01s04", world.get(Chassis, "chassis-01"), 4, model="blade-2s", cpu=32,
                            memory_mb=262144, firmware="1.0")
    host = topology.host("esxi-03", world.get(Cluster, "cluster-01"), cpu_cores=32, memory_mb=262144, blade=server)
    topology.vm("vm-rack-01", host, 2, 4096, GuestOs.RHEL9, world.get(Network, "VM Network"), platform="vmware",
                datastore=world.get(Datastore, "ds-01"))
"""


def _rack_package(root: Path) -> Path:
    package = root / "dcsim-rack"
    (package / "src" / "dcsim_rack").mkdir(parents=True)
    (package / "src" / "dcsim_rack" / "__init__.py").write_text("")
    (package / "src" / "dcsim_rack" / "plugin.py").write_text(RACK_PLUGIN)
    (package / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["hatchling>=1.25"]
            build-backend = "hatchling.build"

            [project]
            name = "dcsim-rack"
            version = "0.1.0"
            requires-python = ">=3.11"
            dependencies = ["dcsim-core~=0.1.0"]

            [project.entry-points.dcsim]
            rack = "dcsim_rack.plugin"

            [tool.hatch.build.targets.wheel]
            packages = ["src/dcsim_rack"]
            """
        )
    )
    return package


def _core_files_digest(venv: Venv) -> str:
    """A digest of every file of the installed ``dcsim`` package (bytecode caches aside)."""
    (package,) = venv.path.glob("lib/python*/site-packages/dcsim")
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _eventually(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.2)
    return result


class Api:
    """The server's JSON API with the admin token."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.token = server.admin_token

    def get(self, path: str) -> Any:
        response = self.server.get(path, token=self.token)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def status(self, path: str) -> int:
        return self.server.get(path, token=self.token).status_code

    def send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, f"{self.server.url}{path}", json=body, headers=headers, timeout=10)

    def objects(self, kind: str) -> dict[str, dict[str, Any]]:
        return {obj["name"]: obj for obj in self.get("/sim/state")["objects"].get(kind, [])}

    def ci(self, name: str, ci_type: str) -> dict[str, Any] | None:
        items = self.get(f"/cmdb/cis?type={ci_type}&q={name}")["items"]
        return next((ci for ci in items if ci["name"] == name and ci["status"] != "decommissioned"), None)

    def node_labels(self, node: str) -> dict[str, str]:
        """The labels the virtual node backend holds for ``node`` (its documented state file)."""
        labels: dict[str, str] = json.loads((self.server.data_dir / "nodes" / node / "state.json").read_text())[
            "labels"
        ]
        return labels


def test_pdu_installs_works_and_uninstalls_cleanly(
    make_venv: Callable[..., Venv], serve: Callable[..., Server], tmp_path: Path
) -> None:
    venv = make_venv("pdu", REPO / "dcsim-core", _rack_package(tmp_path))
    core_before = _core_files_digest(venv)
    venv.install(PDU)
    assert _core_files_digest(venv) == core_before, "installing dcsim-pdu changed core's files"

    pdu_plugin = venv.plugins(tmp_path / "plugins")["pdu"]
    assert (pdu_plugin["status"], pdu_plugin["distribution"]) == ("loaded", "dcsim-pdu"), pdu_plugin

    data_dir = tmp_path / "data"
    api = Api(serve(venv, data_dir=data_dir))

    # The route, typed and paged, and the kind in the world.
    pdus = api.get("/pdu/api/v1/pdus")
    assert [p["name"] for p in pdus["items"]] == ["pdu-01"] and pdus["total"] == 1
    fed = {o["number"]: o["server"] for o in pdus["items"][0]["outlets"] if o["server"]}
    assert fed == dict(enumerate(SERVERS, start=1))
    assert set(api.objects("pdu")) == {"pdu-01"}
    assert "PduView" in api.get("/schema/openapi.json")["components"]["schemas"]
    assert api.server.get("/pdu/api/v1/pdus").status_code == 401

    # Node labels on the servers' nodes.
    blades = api.objects("blade")
    nodes = {name: blades[name]["node"]["name"] for name in SERVERS[:3]}
    for number, name in enumerate(SERVERS[:3], start=1):
        labels = api.node_labels(nodes[name])
        assert (labels["sim.pdu.name"], labels["sim.pdu.outlet"]) == ("pdu-01", str(number)), labels

    # CMDB: the servers are powered_by the pdu CI, so its impact reaches their host and VM;
    # the inventory group holds their nodes.
    pdu_ci = _eventually(lambda: api.ci("pdu-01", "pdu"), "the pdu-01 CI")
    relationships = api.get(f"/cmdb/cis/{pdu_ci['id']}/relationships")
    powered = {api.get(f"/cmdb/cis/{r['source_id']}")["name"] for r in relationships if r["type"] == "powered_by"}
    assert powered == set(SERVERS)
    downstream = {ci["name"] for ci in api.get(f"/cmdb/cis/{pdu_ci['id']}/impact")["downstream"]}
    assert {*SERVERS, "esxi-03", "vm-rack-01"} <= downstream, downstream
    inventory = _eventually(
        lambda: (inv := api.get("/cmdb/ansible/inventory")).get("fed_by_pdu_01") and inv, "the fed_by_pdu_01 group"
    )
    assert inventory["fed_by_pdu_01"]["hosts"] == sorted(nodes.values())

    # The fault: outlet 4 takes down c01s04, its host esxi-03 and its VM, which HA restarts.
    kinds = {kind["name"]: kind for kind in api.get("/sim/inject/kinds")}
    assert set(kinds["pdu-outlet-off"]["params"]) == {"pdu", "outlet"}
    injected = api.send("POST", "/sim/inject/pdu-outlet-off", {"pdu": "pdu-01", "outlet": 4})
    assert injected.status_code == 201, injected.text
    fault = injected.json()
    assert [t["name"] for t in fault["targets"]] == ["pdu-01", "c01s04", "esxi-03"]
    hosts, vm = api.objects("host"), api.objects("vm")["vm-rack-01"]
    assert (api.objects("blade")["c01s04"]["status"], hosts["esxi-03"]["status"]) == ("failed", "failed")
    host_names = {host["id"]: name for name, host in hosts.items()}
    assert vm["power_state"] == "on" and host_names[vm["host_id"]] in {"esxi-01", "esxi-02"}
    _eventually(lambda: (api.ci("pdu-01", "pdu") or {})["attributes"]["outlets_off"] == [4], "outlet 4 in the CMDB")
    cleared = api.send("DELETE", f"/sim/inject/{fault['id']}")
    assert cleared.status_code == 200, cleared.text
    assert (api.objects("blade")["c01s04"]["status"], api.objects("host")["esxi-03"]["status"]) == ("ok", "ok")
    api.server.stop()

    # Uninstalled: same data directory, and nothing of the PDU is left.
    venv.uninstall("dcsim-pdu")
    assert _core_files_digest(venv) == core_before, "uninstalling dcsim-pdu changed core's files"
    assert "pdu" not in venv.plugins(tmp_path / "plugins")
    api = Api(serve(venv, data_dir=data_dir))
    assert api.status("/pdu/api/v1/pdus") == 404
    assert "/pdu/api/v1/pdus" not in api.get("/schema/openapi.json")["paths"]
    assert "pdu" not in api.get("/sim/state")["objects"]
    assert "pdu-outlet-off" not in {kind["name"] for kind in api.get("/sim/inject/kinds")}
    assert api.send("POST", "/sim/inject/pdu-outlet-off", {"pdu": "pdu-01", "outlet": 1}).status_code == 400
    for node in nodes.values():
        assert not [key for key in api.node_labels(node) if key.startswith("sim.pdu.")]
    _eventually(lambda: "fed_by_pdu_01" not in api.get("/cmdb/ansible/inventory"), "the group to go")
    _eventually(lambda: api.ci("pdu-01", "pdu") is None, "the pdu CI to be decommissioned")
