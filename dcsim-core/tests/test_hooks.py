"""One test per hook, named after it (test_hookspecs_documented enforces that)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import get, post

from dcsim import hookimpl
from dcsim.errors import InvalidInput, PluginLoadError
from dcsim.model import Check, Event
from dcsim.registry import LoadProfile


async def test_dcsim_register_services(make_dcsim):
    service = object()

    class Plugin:
        @hookimpl
        def dcsim_register_services(self, registry, settings):
            registry.add("greeter", service)

    sim = make_dcsim(Plugin())
    assert sim.services["greeter"] is service
    assert sim.services.get(object) is not None

    class Twice:
        @hookimpl
        def dcsim_register_services(self, registry):
            registry.add("greeter", object())

    # A name taken twice fails the second plugin (its registration is isolated) ...
    sim = make_dcsim(Plugin(), Twice())
    infos = {info.name: info for info in sim.plugins.infos}
    assert infos["Plugin"].status == "failed"
    assert infos["Plugin"].error == "dcsim_register_services: ConfigError: service 'greeter' is registered twice"
    assert infos["Twice"].status == "loaded" and infos["sim"].status == "loaded"
    # ... and strict mode makes it fatal.
    with pytest.raises(PluginLoadError, match="greeter"):
        make_dcsim(Plugin(), Twice(), strict_plugins=True)


async def test_dcsim_startup(make_dcsim):
    seen: dict[str, Any] = {}

    class Plugin:
        @hookimpl
        async def dcsim_startup(self, dcsim):
            # Start-up hooks run after the store is migrated and the bus connected.
            seen["revision"] = dcsim.store.current_revision()
            await dcsim.bus.ping()
            seen["started"] = True

    async with make_dcsim(Plugin()):
        assert seen == {"revision": "0003", "started": True}

    class Broken:
        @hookimpl
        async def dcsim_startup(self):
            raise RuntimeError("cannot start")

    with pytest.raises(RuntimeError, match="cannot start"):
        await make_dcsim(Broken()).start()


async def test_dcsim_shutdown(make_dcsim):
    calls: list[str] = []

    class Failing:
        @hookimpl
        async def dcsim_shutdown(self):
            calls.append("failing")
            raise RuntimeError("boom")

    class Quiet:
        @hookimpl
        async def dcsim_shutdown(self, dcsim):
            calls.append("quiet")

    sim = make_dcsim(Failing(), Quiet())
    await sim.start()
    await sim.close()
    assert sorted(calls) == ["failing", "quiet"]
    assert not sim.started


def test_dcsim_readiness(make_client):
    class Plugin:
        @hookimpl
        async def dcsim_readiness(self, dcsim):
            return [Check("upstream", False, "connection refused")]

    client = make_client(Plugin(), role=None)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    names = {check["name"]: check for check in body["checks"]}
    assert names["store"]["ok"] and names["bus"]["ok"]
    assert names["upstream"] == {"name": "upstream", "ok": False, "detail": "connection refused"}

    class Raising:
        @hookimpl
        async def dcsim_readiness(self):
            raise OSError("probe exploded")

    body = make_client(Raising(), role=None).get("/readyz").json()
    assert {"name": "plugin:Raising", "ok": False, "detail": "OSError: probe exploded"} in body["checks"]


def test_dcsim_register_routes(make_client):
    @get("/greeting", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    @post("/greeting", sync_to_thread=False)
    def change_hello() -> dict[str, str]:
        return {"changed": "yes"}

    class Plugin:
        @hookimpl
        def dcsim_register_routes(self, registry):
            registry.add(hello)
            registry.add(change_hello)

    client = make_client(Plugin(), role="viewer")
    assert client.get("/greeting").json() == {"hello": "world"}
    # The role rule applies to plugin routes too: a change needs an operator.
    assert client.post("/greeting").status_code == 403
    assert client.post("/greeting", headers=client.auth_headers("operator")).json() == {"changed": "yes"}


async def test_dcsim_register_event_types(make_dcsim):
    class Plugin:
        @hookimpl
        def dcsim_register_event_types(self, registry):
            registry.add("hello.said", schemaversion=2, description="a greeting", data={"to": "who"})

    async with make_dcsim(Plugin()) as sim:
        event = await sim.publish("hello.said", {"to": "world"}, source="/test", subject="world")
        assert event.schemaversion == 2
        await sim.relay.drain()  # the outbox relay publishes it
        recent = [e for _, e in await sim.bus.recent(10)]
        assert event in recent
        with pytest.raises(InvalidInput, match="not declared"):
            await sim.publish("hello.shouted", {}, source="/test")
    assert sim.event_types["hello.said"].data == {"to": "who"}


async def test_dcsim_register_subscribers(make_dcsim):
    received: list[Event] = []
    arrived = asyncio.Event()

    async def on_hello(dcsim, event):
        received.append(event)
        arrived.set()

    class Plugin:
        @hookimpl
        def dcsim_register_event_types(self, registry):
            registry.add("hello.said", description="a greeting")
            registry.add("bye.said", description="a farewell")

        @hookimpl
        def dcsim_register_subscribers(self, registry):
            registry.add("greeters", on_hello, types=["hello.*"])

    async with make_dcsim(Plugin()) as sim:
        await sim.publish("bye.said", {}, source="/test")
        sent = await sim.publish("hello.said", {"to": "world"}, source="/test")
        await asyncio.wait_for(arrived.wait(), timeout=5)
        await asyncio.sleep(0.1)
        assert received == [sent]
        assert await sim.bus.pending("greeters") == 0


async def test_dcsim_sim_register_load_profiles(make_dcsim):
    class Plugin:
        @hookimpl
        def dcsim_sim_register_load_profiles(self, registry):
            registry.add(LoadProfile("batch", cpu=0.9, memory=0.6, io=0.8, description="nightly batch"))

    sim = make_dcsim(Plugin())
    assert {"idle", "normal", "stressed", "spiking", "batch"} == set(sim.load_profiles)
    assert sim.load_profiles["spiking"].spike_chance > 0
    assert sim.load_profiles["batch"].cpu == 0.9


async def test_dcsim_cmdb_register_types(make_dcsim):
    class Plugin:
        @hookimpl
        def dcsim_cmdb_register_types(self, registry):
            registry.add_ci_type("load_balancer", "an F5 or HAProxy pair")
            registry.add_relationship_type("balances", "a load balancer balances a VM", "balanced_by")

    sim = make_dcsim(Plugin())
    assert set(sim.cmdb_types.ci_types) == {
        "datacenter", "cluster", "host", "vm", "network", "storage", "application",
        "load_balancer",
    }  # fmt: skip
    assert sim.cmdb_types.relationship_types["runs_on"].inverse == "runs"
    assert sim.cmdb_types.relationship_types["balances"].inverse == "balanced_by"


def test_dcsim_itsm_priority(make_dcsim):
    sim = make_dcsim()
    priority = sim.call.itsm_priority
    assert priority(impact=1, urgency=1) == "P1"
    assert priority(impact=1, urgency=2) == "P2"
    assert priority(impact=2, urgency=2) == "P3"
    assert priority(impact=3, urgency=3) == "P4"
    with pytest.raises(InvalidInput):
        priority(impact=0, urgency=4)

    class Stricter:
        @hookimpl
        def dcsim_itsm_priority(self, impact, urgency):
            return "P1" if impact == 1 else None

    priority = make_dcsim(Stricter()).call.itsm_priority
    assert priority(impact=1, urgency=3) == "P1"
    assert priority(impact=2, urgency=3) == "P4"  # falls through to core's matrix


@pytest.mark.parametrize(
    ("installed", "candidate", "expected"),
    [
        ("1.0", "1.0", 0),
        ("1.0", "1.0.1", -1),
        ("1.10", "1.9", 1),
        ("2:1.0", "1:9.9", 1),
        ("1.0~rc1", "1.0", -1),
        ("3.0.7-27.el9", "3.0.7-28.el9", -1),
        ("8.7p1-38.el9", "8.7p1-38.el9", 0),
        ("1:8.9p1-3ubuntu0.10", "1:8.9p1-3ubuntu0.4", 1),
        ("1.2a", "1.2", 1),
    ],
)
def test_dcsim_patch_compare_versions(make_dcsim, installed, candidate, expected):
    compare = make_dcsim().call.patch_compare_versions
    assert compare(os_family="rhel", installed=installed, candidate=candidate) == expected
    assert compare(os_family="rhel", installed=candidate, candidate=installed) == -expected


def test_dcsim_drift_values_equal(make_dcsim):
    assert make_dcsim().call.drift_values_equal(field="power_state", desired="on", actual="on") is True
    assert make_dcsim().call.drift_values_equal(field="power_state", desired="on", actual="off") is False

    class IgnoreComments:
        @hookimpl
        def dcsim_drift_values_equal(self, field, desired, actual):
            if not field.startswith("files."):
                return None
            strip = lambda text: [line for line in text.splitlines() if not line.startswith("#")]  # noqa: E731
            return strip(desired) == strip(actual)

    equal = make_dcsim(IgnoreComments()).call.drift_values_equal
    assert equal(field="files./etc/ssh/sshd_config", desired="PermitRootLogin no\n", actual="# x\nPermitRootLogin no\n")
    assert not equal(field="files./etc/ssh/sshd_config", desired="PermitRootLogin no", actual="PermitRootLogin yes")
    assert not equal(field="power_state", desired="on", actual="off")


async def test_dcsim_sim_seed_topology(make_dcsim):
    from dcsim.sim.model import Datacenter, Vm

    class EdgeSite:
        @hookimpl
        def dcsim_sim_seed_topology(self, topology, settings):
            topology.datacenter("dc-edge", "edge")

    async with make_dcsim(EdgeSite()) as sim:
        names = {dc.name for dc in sim.sim.world.all(Datacenter)}
        assert names == {"dc-west", "RegionOne", "dc-edge"}
        assert len(sim.sim.world.all(Vm)) == 6

    # Without core's default estate the plugin's objects are all there is.
    async with make_dcsim(EdgeSite(), sim_topology="empty", data_dir=sim.settings.data_dir / "other") as empty:
        assert [dc.name for dc in empty.sim.world.all(Datacenter)] == ["dc-edge"]
        assert empty.sim.world.all(Vm) == []
