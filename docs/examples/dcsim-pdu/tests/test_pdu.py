"""The installed `pdu` plugin: its kind, seed, fault and cascade, node labels, CMDB
mapping, inventory group, event type and route, each through core's own machinery.

Fixtures: ``make_dcsim``, ``make_client``, ``dcsim_client`` and ``recorder`` (an
``EventRecorder`` plugin) come from dc-sim's pytest plugin (``dcsim.testing``);
``rack_server`` from ``conftest.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dcsim.errors import Conflict, InvalidInput, NotFound
from dcsim.model import Event
from dcsim.sim.model import Blade, Chassis, Datacenter, Host, Vm
from dcsim.testing import DcsimClient, EventRecorder, PluginPackageContract, stored_objects
from dcsim_pdu.model import Pdu

HOOKS = {
    "dcsim_sim_register_kinds",
    "dcsim_sim_register_fault_kinds",
    "dcsim_sim_register_node_labels",
    "dcsim_sim_seed_topology",
    "dcsim_cmdb_register_types",
    "dcsim_cmdb_register_mappings",
    "dcsim_cmdb_register_inventory_groups",
    "dcsim_register_routes",
    "dcsim_register_event_types",
}
SERVERS = {1: "c01s01", 2: "c01s02", 3: "c01s03"}


def _ci(client: DcsimClient, name: str, ci_type: str) -> dict[str, Any] | None:
    items = client.get(f"/cmdb/cis?type={ci_type}&q={name}").json()["items"]
    return next((ci for ci in items if ci["name"] == name), None)


def _wait(client: DcsimClient, recorder: EventRecorder, predicate: Callable[[list[Event]], bool]) -> None:
    """Wait, on the app's event loop, until the recorded events satisfy ``predicate``."""
    client.call(recorder.wait_for, predicate)


def _synced(events: list[Event]) -> bool:
    return any(e.type == "cmdb.sync.completed" and e.data["trigger"] == "bootstrap" for e in events)


def _ci_updated(name: str, after: int) -> Callable[[list[Event]], bool]:
    """True once a ``cmdb.ci.updated`` of CI ``name`` is among the events after the first ``after``."""
    return lambda events: any(e.type == "cmdb.ci.updated" and e.data["ci"]["name"] == name for e in events[after:])


def _node(client: DcsimClient, server: str) -> str:
    node = client.sim.sim.world.get(Blade, server).node
    assert node is not None
    return node.name


# Registration ---------------------------------------------------------------------------


class TestPackage(PluginPackageContract):
    """What every dc-sim plugin package passes: entry point, version in lockstep, listed as loaded."""

    NAME, MODULE, DISTRIBUTION = "pdu", "dcsim_pdu.plugin", "dcsim-pdu"


def test_plugins_lists_pdu_as_loaded_with_its_hooks(dcsim_client: DcsimClient) -> None:
    plugins = {p["name"]: p for p in dcsim_client.get("/plugins").json()["plugins"]}
    assert plugins["pdu"]["status"] == "loaded", plugins["pdu"]
    assert plugins["pdu"]["distribution"] == "dcsim-pdu"
    assert set(plugins["pdu"]["hooks"]) == HOOKS


# The kind and the seed ------------------------------------------------------------------


def test_dcsim_sim_register_kinds(dcsim_client: DcsimClient) -> None:
    world = dcsim_client.sim.sim.world
    assert world.kinds_registry.get("pdu").cls is Pdu
    (pdu,) = dcsim_client.get("/sim/state").json()["objects"]["pdu"]
    # The JSON shape is what the one converter makes of the attrs class.
    assert set(pdu) == {"id", "name", "datacenter_id", "chassis_id", "model", "serial", "outlets"}
    assert pdu["outlets"][0] == {"number": 1, "server_id": world.get(Blade, "c01s01").id, "powered": True}
    assert pdu["outlets"][7] == {"number": 8, "server_id": None, "powered": True}


async def test_dcsim_sim_seed_topology(make_dcsim: Callable[..., Any]) -> None:
    async with make_dcsim() as dc:
        world = dc.sim.world
        pdu = world.get(Pdu, "pdu-01")
        assert pdu.chassis_id == world.get(Chassis, "chassis-01").id
        assert pdu.datacenter_id == world.get(Datacenter, "dc-west").id
        assert [o.number for o in pdu.outlets] == list(range(1, 9))
        assert all(o.powered for o in pdu.outlets)
        fed = {o.number: world.get(Blade, o.server_id).name for o in pdu.outlets if o.server_id}
        assert fed == SERVERS
        assert pdu.serial.startswith("PDU") and len(pdu.serial) == 11


async def test_seed_runs_last_so_other_plugins_servers_are_fed(
    make_dcsim: Callable[..., Any], rack_server: Any
) -> None:
    async with make_dcsim(rack_server) as dc:
        pdu = dc.sim.world.get(Pdu, "pdu-01")
        outlet = pdu.outlet(4)
        assert outlet is not None and outlet.server_id == dc.sim.world.get(Blade, "c01s04").id


def test_generated_estates_get_a_pdu_per_chassis(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DCSIM_")}
    command = [sys.executable, "-c", "from dcsim.cli import main; main()", "seed", "--vms", "0", "--chassis", "2"]
    result = subprocess.run(
        command, env=env | {"DCSIM_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 pdu" in result.stdout
    stored = stored_objects(tmp_path)
    servers = {server["id"]: server for server in stored["blade"]}
    assert sorted(p["name"] for p in stored["pdu"]) == ["pdu-01", "pdu-02"]
    assert {p["chassis_id"] for p in stored["pdu"]} == {c["id"] for c in stored["chassis"]}
    for pdu in stored["pdu"]:
        fed = {o["number"]: servers[o["server_id"]] for o in pdu["outlets"] if o["server_id"]}
        assert sorted(fed) == list(range(1, 9))
        assert all((s["chassis_id"], s["slot"]) == (pdu["chassis_id"], n) for n, s in fed.items())


async def test_pdus_and_their_faults_survive_a_restart(make_dcsim: Callable[..., Any]) -> None:
    async with make_dcsim() as dc:
        fault = await dc.sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 2})
    async with make_dcsim() as dc:
        outlet = dc.sim.world.get(Pdu, "pdu-01").outlet(2)
        assert outlet is not None and not outlet.powered
        assert [f.id for f in dc.sim.active_faults()] == [fault.id]
        await dc.sim.clear_fault(fault.id)
        assert outlet.powered
        assert dc.sim.world.get(Blade, "c01s02").status.value == "ok"


# The fault and its cascade ----------------------------------------------------------------


def test_dcsim_sim_register_fault_kinds(dcsim_client: DcsimClient) -> None:
    client = dcsim_client
    kinds = {kind["name"]: kind for kind in client.get("/sim/inject/kinds").json()}
    assert set(kinds["pdu-outlet-off"]["params"]) == {"pdu", "outlet"}
    assert "outlet" in kinds["pdu-outlet-off"]["description"]

    response = client.post("/sim/inject/pdu-outlet-off", json={"pdu": "pdu-01", "outlet": 2})
    assert response.status_code == 201, response.text
    fault = response.json()
    assert fault["kind"] == "pdu-outlet-off"
    assert [(t["kind"], t["name"]) for t in fault["targets"]] == [("pdu", "pdu-01"), ("blade", "c01s02")]
    assert [f["id"] for f in client.get("/sim/inject").json()["items"]] == [fault["id"]]
    server = next(b for b in client.get("/sim/state").json()["objects"]["blade"] if b["name"] == "c01s02")
    assert (server["status"], server["power_state"]) == ("failed", "off")

    assert client.delete(f"/sim/inject/{fault['id']}").status_code == 200
    server = next(b for b in client.get("/sim/state").json()["objects"]["blade"] if b["name"] == "c01s02")
    assert (server["status"], server["power_state"]) == ("ok", "on")
    assert client.get("/pdu/api/v1/pdus/pdu-01").json()["outlets"][1]["powered"] is True


async def test_outlet_off_takes_down_the_server_its_host_and_vms_with_ha(
    make_dcsim: Callable[..., Any], rack_server: Any, recorder: EventRecorder
) -> None:
    async with make_dcsim(rack_server, recorder) as dc:
        sim = dc.sim
        fault = await sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 4})
        server, host, vm = (
            sim.world.get(Blade, "c01s04"),
            sim.world.get(Host, "esxi-03"),
            sim.world.get(Vm, "vm-rack-01"),
        )
        assert (server.status.value, server.power_state.value) == ("failed", "off")
        assert (host.status.value, host.power_state.value) == ("failed", "off")
        # HA (cluster-01 has it on) restarted the VM on another host of the cluster.
        assert vm.power_state.value == "on"
        assert sim.world.get(Host, vm.host_id).name in {"esxi-01", "esxi-02"}
        assert [(t.kind, t.name) for t in fault.targets] == [
            ("pdu", "pdu-01"),
            ("blade", "c01s04"),
            ("host", "esxi-03"),
        ]
        assert fault.effects[0] == "outlet 4 of pdu-01 switched off"
        assert "vm vm-rack-01 restarted on" in fault.effects[-1]

        def restarted(events: list[Event]) -> bool:
            return any(e.type == "vm.power_changed" and e.data["reason"] == "ha_restart" for e in events)

        await recorder.wait_for(restarted)
        sim_events = [e for e in recorder.events if e.type.startswith(("fault.", "pdu.", "host.", "vm."))]
        assert [(e.type, e.data.get("name"), e.data.get("reason")) for e in sim_events] == [
            ("fault.injected", None, None),
            ("pdu.outlet_changed", "pdu-01", None),
            ("host.degraded", "c01s04", "power loss: outlet 4 of pdu-01 is off"),
            ("host.degraded", "esxi-03", "physical server lost power"),
            ("vm.power_changed", "vm-rack-01", "host_failure"),
            ("vm.migrated", "vm-rack-01", "ha"),
            ("vm.power_changed", "vm-rack-01", "ha_restart"),
        ]

        await sim.clear_fault(fault.id)
        assert (server.status.value, server.power_state.value) == ("ok", "on")
        assert (host.status.value, host.power_state.value) == ("ok", "on")
        outlet = sim.world.get(Pdu, "pdu-01").outlet(4)
        assert outlet is not None and outlet.powered
        await recorder.wait_for(lambda events: "fault.cleared" in [e.type for e in events])
        recovered = [e.data["name"] for e in recorder.events if e.type == "host.recovered"]
        assert sorted(recovered) == ["c01s04", "esxi-03"]


async def test_an_outlet_feeding_nothing_switches_off_alone(make_dcsim: Callable[..., Any]) -> None:
    async with make_dcsim() as dc:
        fault = await dc.sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 8})
        assert [(t.kind, t.name) for t in fault.targets] == [("pdu", "pdu-01")]
        assert all(b.status.value == "ok" for b in dc.sim.world.all(Blade))


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"pdu": "pdu-01", "outlet": 9}, InvalidInput),
        ({"pdu": "pdu-01", "outlet": 0}, InvalidInput),
        ({"pdu": "pdu-01", "outlet": "1"}, InvalidInput),
        ({"pdu": "pdu-01", "outlet": True}, InvalidInput),
        ({"pdu": "pdu-01"}, InvalidInput),
        ({"outlet": 1}, InvalidInput),
        ({"pdu": "pdu-99", "outlet": 1}, NotFound),
    ],
)
async def test_bad_parameters_are_refused(
    make_dcsim: Callable[..., Any], params: dict[str, Any], error: type[Exception]
) -> None:
    async with make_dcsim() as dc:
        with pytest.raises(error):
            await dc.sim.inject("pdu-outlet-off", params)
        assert not dc.sim.active_faults()
        assert all(o.powered for o in dc.sim.world.get(Pdu, "pdu-01").outlets)


async def test_a_refused_outlet_fault_changes_nothing(make_dcsim: Callable[..., Any]) -> None:
    async with make_dcsim() as dc:
        sim = dc.sim
        first = await sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 1})
        with pytest.raises(Conflict, match="already off"):
            await sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 1})
        # The server is down already: core's own server failure is refused as well.
        with pytest.raises(Conflict):
            await sim.inject("host-failure", {"blade": "c01s01"})
        failed = await sim.inject("host-failure", {"blade": "c01s02"})
        with pytest.raises(Conflict, match="c01s02 has already failed"):
            await sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 2})
        outlet = sim.world.get(Pdu, "pdu-01").outlet(2)
        assert outlet is not None and outlet.powered
        assert [f.id for f in sim.active_faults()] == [first.id, failed.id]


# Node labels --------------------------------------------------------------------------------


async def test_dcsim_sim_register_node_labels(make_dcsim: Callable[..., Any]) -> None:
    async with make_dcsim() as dc:
        sim = dc.sim
        for number, name in SERVERS.items():
            node = sim.world.get(Blade, name).node
            assert node is not None
            # What the node backend holds, not only what the engine computes.
            labels = await sim.nodes.labels(node.name)
            assert (labels["sim.pdu.name"], labels["sim.pdu.outlet"]) == ("pdu-01", str(number))
        vm_node = sim.world.get(Vm, "vm-001").node
        assert vm_node is not None
        assert not any(key.startswith("sim.pdu.") for key in await sim.nodes.labels(vm_node.name))

        await sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 1})
        server_node = sim.world.get(Blade, "c01s01").node
        assert server_node is not None
        labels = await sim.nodes.labels(server_node.name)
        assert (labels["sim.power_state"], labels["sim.pdu.outlet"]) == ("off", "1")


# CMDB and inventory -----------------------------------------------------------------------


def test_dcsim_cmdb_register_types(dcsim_client: DcsimClient) -> None:
    client = dcsim_client
    spare = client.post("/cmdb/cis", json={"type": "pdu", "name": "pdu-spare"})
    assert spare.status_code == 201, spare.text
    server = _ci(client, "c01s01", "host")
    assert server is not None
    related = client.post(
        "/cmdb/relationships", json={"type": "powered_by", "source_id": server["id"], "target_id": spare.json()["id"]}
    )
    assert related.status_code == 201, related.text


def test_dcsim_cmdb_register_mappings(make_client: Callable[..., DcsimClient], recorder: EventRecorder) -> None:
    client = make_client(recorder)
    _wait(client, recorder, _synced)
    pdu = _ci(client, "pdu-01", "pdu")
    assert pdu is not None
    assert pdu["attributes"] == {
        "model": "switched-pdu-8",
        "serial": client.sim.sim.world.get(Pdu, "pdu-01").serial,
        "datacenter": "dc-west",
        "chassis": "chassis-01",
        "outlets": 8,
        "outlets_off": [],
        "feeds": {str(number): name for number, name in SERVERS.items()},
    }
    relationships = client.get(f"/cmdb/cis/{pdu['id']}/relationships").json()
    powered = sorted(
        client.get(f"/cmdb/cis/{r['source_id']}").json()["name"]
        for r in relationships
        if r["type"] == "powered_by" and r["target_id"] == pdu["id"]
    )
    assert powered == sorted(SERVERS.values())
    # Servers depend on their PDU: its impact analysis finds them downstream.
    impact = client.get(f"/cmdb/cis/{pdu['id']}/impact?depth=1").json()
    assert sorted(ci["name"] for ci in impact["downstream"]) == sorted(SERVERS.values())
    server = _ci(client, "c01s02", "host")
    assert server is not None
    assert (server["attributes"]["pdu"], server["attributes"]["pdu_outlet"]) == ("pdu-01", 2)

    # An outlet switched off reaches the PDU's CI (through pdu.outlet_changed) and the server's.
    seen = len(recorder.events)
    assert client.post("/sim/inject/pdu-outlet-off", json={"pdu": "pdu-01", "outlet": 2}).status_code == 201
    _wait(client, recorder, lambda events: _ci_updated("pdu-01", seen)(events) and _ci_updated("c01s02", seen)(events))
    assert (_ci(client, "pdu-01", "pdu") or {})["attributes"]["outlets_off"] == [2]
    assert (_ci(client, "c01s02", "host") or {})["attributes"]["status"] == "failed"


def test_dcsim_cmdb_register_inventory_groups(make_client: Callable[..., DcsimClient], recorder: EventRecorder) -> None:
    client = make_client(recorder)
    _wait(client, recorder, _synced)
    inventory = client.get("/cmdb/ansible/inventory").json()
    assert inventory["fed_by_pdu_01"]["hosts"] == sorted(_node(client, name) for name in SERVERS.values())
    assert "fed_by_pdu_01" in inventory["all"]["children"]
    hostvars = inventory["_meta"]["hostvars"][_node(client, "c01s03")]
    assert (hostvars["dcsim_pdu"], hostvars["dcsim_pdu_outlet"]) == ("pdu-01", 3)
    vm_groups = [group for group, body in inventory.items() if "sim-vmw-vm-001" in body.get("hosts", [])]
    assert not any(group.startswith("fed_by_") for group in vm_groups)


# Route and event type -----------------------------------------------------------------------


def test_dcsim_register_routes(dcsim_client: DcsimClient) -> None:
    client = dcsim_client
    body = client.get("/pdu/api/v1/pdus").json()
    assert (body["total"], body["limit"], body["offset"]) == (1, 100, 0)
    (pdu,) = body["items"]
    assert (pdu["name"], pdu["datacenter"], pdu["chassis"], pdu["model"]) == (
        "pdu-01", "dc-west", "chassis-01", "switched-pdu-8",
    )  # fmt: skip
    assert pdu["outlets"][0] == {"number": 1, "powered": True, "server": "c01s01", "node": _node(client, "c01s01")}
    assert pdu["outlets"][7] == {"number": 8, "powered": True, "server": None, "node": None}
    assert client.get("/pdu/api/v1/pdus/pdu-01").json() == pdu
    assert client.get(f"/pdu/api/v1/pdus/{pdu['id']}").json() == pdu
    assert client.get("/pdu/api/v1/pdus?offset=1").json()["items"] == []

    missing = client.get("/pdu/api/v1/pdus/pdu-99")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    for bad in ("limit=0", "limit=-1", "limit=1001", "offset=-1", "limit=two"):
        refused = client.get(f"/pdu/api/v1/pdus?{bad}")
        assert refused.status_code == 400, bad
        assert refused.headers["content-type"].startswith("application/problem+json")

    schema = client.get("/schema/openapi.json").json()
    assert {"/pdu/api/v1/pdus", "/pdu/api/v1/pdus/{pdu}"} <= set(schema["paths"])
    outlet_schema = schema["components"]["schemas"]["OutletView"]
    assert set(outlet_schema["required"]) == {"number", "powered", "server", "node"}


def test_pdu_routes_need_a_viewer_token(make_client: Callable[..., DcsimClient]) -> None:
    assert make_client(role=None).get("/pdu/api/v1/pdus").status_code == 401
    assert make_client(role="viewer").get("/pdu/api/v1/pdus").status_code == 200


def test_dcsim_register_event_types(make_client: Callable[..., DcsimClient], recorder: EventRecorder) -> None:
    client = make_client(recorder, role="operator")
    assert "pdu.outlet_changed" in client.sim.event_types
    fault = client.post("/sim/inject/pdu-outlet-off", json={"pdu": "pdu-01", "outlet": 3}).json()
    _wait(client, recorder, lambda events: "pdu.outlet_changed" in [e.type for e in events])
    (event,) = [e for e in recorder.events if e.type == "pdu.outlet_changed"]
    pdu = client.sim.sim.world.get(Pdu, "pdu-01")
    assert event.subject == f"pdu/{pdu.id}"
    assert event.data == {"id": pdu.id, "name": "pdu-01", "outlet": 3, "powered": False, "server": "c01s03",
                          "fault_id": fault["id"]}  # fmt: skip


# Switched off ----------------------------------------------------------------------------------


async def test_disabled_plugin_leaves_core_as_it_was(make_dcsim: Callable[..., Any]) -> None:
    async with make_dcsim() as dc:
        await dc.sim.inject("pdu-outlet-off", {"pdu": "pdu-01", "outlet": 1})
    # Same data directory, the plugin off: its stored objects are left out, core starts.
    async with make_dcsim(disable_plugins=("pdu",)) as dc:
        assert "pdu" not in dc.sim.world.kinds_registry
        assert "pdu" not in dc.sim.state()["objects"]
        assert "pdu-outlet-off" not in {kind.name for kind in dc.sim.fault_kinds}
        assert "pdu.outlet_changed" not in dc.event_types
        server_node = dc.sim.world.get(Blade, "c01s01").node
        assert server_node is not None
        assert not any(key.startswith("sim.pdu.") for key in await dc.sim.nodes.labels(server_node.name))
