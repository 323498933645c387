"""The simulation's registration hooks: core calls each while the simulation starts."""

from __future__ import annotations

import attrs

from dcsim import hookimpl
from dcsim.sim.model import Blade, HealthStatus, Host, PowerState


@attrs.define(kw_only=True)
class Pdu:
    """A rack PDU of a test plugin: outlets feed physical servers."""

    id: str
    name: str
    outlets: dict[str, str] = attrs.field(factory=dict)


class PduPlugin:
    @hookimpl
    def dcsim_sim_register_kinds(self, registry):
        registry.add("pdu", Pdu, namespace="sim.pdu", description="a rack PDU")
        registry.add_platform("edge", mac_prefix="0A:00:01")

    @hookimpl
    def dcsim_sim_seed_topology(self, topology, settings):
        server = topology.world.get(Blade, "c01s01")
        topology.add(Pdu(id=topology.id("pdu", "pdu-01"), name="pdu-01", outlets={"1": server.id}))
        edge = topology.datacenter("dc-edge", "edge")
        cluster = topology.cluster("edge-01", edge)
        topology.host("edge-host-01", cluster, cpu_cores=8, memory_mb=32_768)
        topology.network("edge-net", edge, vlan=7, cidr="10.7.0.0/24")


def test_dcsim_sim_register_kinds(make_client, tmp_path):
    client = make_client(PduPlugin())
    state = client.get("/sim/state").json()["objects"]
    assert state["pdu"] == [{"id": state["pdu"][0]["id"], "name": "pdu-01", "outlets": {"1": state["blade"][0]["id"]}}]
    # Stored in the kind's own namespace, and read back on the next start.
    store = client.sim.store
    assert [doc.key.split("/")[0] for doc in store.list("sim.pdu")] == ["pdu"]
    vm = client.post("/sim/vms", json={"name": "edge-vm", "cluster": "edge-01"}).json()
    assert vm["nics"][0]["mac"].startswith("0a:00:01:")
    settings = client.sim.settings
    client.__exit__(None, None, None)
    again = make_client(PduPlugin(), data_dir=settings.data_dir)
    assert [p["name"] for p in again.get("/sim/state").json()["objects"]["pdu"]] == ["pdu-01"]
    again.__exit__(None, None, None)
    # Without the plugin its objects stay in the store and out of the world.
    without = make_client(data_dir=settings.data_dir)
    assert "pdu" not in without.get("/sim/state").json()["objects"]
    assert len(list(without.sim.store.list("sim.pdu"))) == 1


class OutletOff:
    """A fault kind of a test plugin: an outlet goes off and its server (and host, VMs) fail."""

    @hookimpl
    def dcsim_sim_register_fault_kinds(self, registry):
        from dcsim.sim.core_faults import fail_blade, fail_host, recover_blade, recover_host

        def inject(sim, fault, params, change):
            server = sim.blade(params["blade"])
            fail_blade(sim, fault, server, "outlet off", change)
            host = sim.world.host_on_blade(server)
            if host is not None:
                fail_host(sim, fault, host, "outlet off", change)

        def undo(sim, fault, change):
            for target in fault.targets:
                if target.kind == "blade":
                    recover_blade(sim, fault, sim.blade(target.id), change)
                else:
                    recover_host(sim, fault, sim.world.get(Host, target.id), change)

        registry.add("outlet-off", description="a PDU outlet goes off", params={"blade": "the server it feeds"},
                     inject=inject, undo=undo)  # fmt: skip


def test_dcsim_sim_register_fault_kinds(make_client):
    client = make_client(OutletOff())
    kinds = {kind["name"]: kind for kind in client.get("/sim/inject/kinds").json()}
    assert {"host-failure", "network-partition", "disk-full", "outlet-off"} <= set(kinds)
    assert kinds["outlet-off"]["params"] == {"blade": "the server it feeds"}
    fault = client.post("/sim/inject/outlet-off", json={"blade": "c01s02"})
    assert fault.status_code == 201, fault.text
    assert fault.json()["kind"] == "outlet-off"
    assert [t["name"] for t in fault.json()["targets"]] == ["c01s02"]
    blade = client.get("/sim/state").json()["objects"]["blade"][1]
    assert (blade["name"], blade["status"], blade["power_state"]) == ("c01s02", "failed", "off")
    assert client.delete(f"/sim/inject/{fault.json()['id']}").status_code == 200
    blade = client.get("/sim/state").json()["objects"]["blade"][1]
    assert (blade["status"], blade["power_state"]) == ("ok", "on")
    unknown = client.post("/sim/inject/meteor-strike", json={})
    assert unknown.status_code == 400 and "outlet-off" in unknown.json()["detail"]


class RackLabels:
    @hookimpl
    def dcsim_sim_register_node_labels(self, registry):
        def rack(world, owner):
            return {"sim.rack.row": "B", "sim.env": "lab"} if isinstance(owner, Blade) else {}

        registry.add(rack)
        registry.add_power_context(lambda world, owner: {"rack_row": "B"})


async def test_dcsim_sim_register_node_labels(make_dcsim, recorder):
    async with make_dcsim(RackLabels(), recorder) as dc:
        server = dc.sim.blade("c01s03")
        labels = await dc.sim.nodes.labels(server.node.name)
        assert (labels["sim.rack.row"], labels["sim.env"], labels["sim.id"]) == ("B", "lab", server.id)
        vm = dc.sim.vm("vm-001")
        assert "sim.rack.row" not in await dc.sim.nodes.labels(vm.node.name)
        # A server found off outside dc-sim: the power context's fields are in the event.
        await dc.sim.node_power_observed(server.node.name, PowerState.OFF)
        await recorder.wait_for(lambda events: "blade.power_changed" in [e.type for e in events])
        event = next(e for e in recorder.events if e.type == "blade.power_changed")
        assert (event.data["reason"], event.data["to"], event.data["rack_row"]) == ("external", "off", "B")
        assert dc.sim.blade("c01s03").status is HealthStatus.OK


class HalfRegistered:
    """Registers a kind and a platform, then raises."""

    @hookimpl
    def dcsim_sim_register_kinds(self, registry):
        registry.add("pdu", Pdu)
        registry.add_platform("edge", mac_prefix="0a:00:01")
        raise RuntimeError("broken plugin")


async def test_a_failing_kind_registration_leaves_nothing_behind(make_dcsim):
    async with make_dcsim(HalfRegistered(), OutletOff()) as dc:
        assert "pdu" not in dc.sim.kinds and "vm" in dc.sim.kinds
        assert dc.sim.kinds.mac("edge", "x").startswith("02:00:00")
        assert "outlet-off" in dc.sim.fault_kinds  # the other plugin goes on
