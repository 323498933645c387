"""Core's features are internal plugins, each disableable alone; the framework needs none."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from dcsim.builtin import CORE_PLUGINS
from dcsim.errors import ServiceUnavailable

#: A route each internal plugin serves (GET, viewer), to see it on and off.
ROUTES = {
    "sim": "/sim/vms",
    "cmdb": "/cmdb/cis",
    "itsm": "/itsm/incidents",
    "api": "/events",
}


#: Installed plugins of other packages: off in these tests, which are about core alone.
OTHERS = tuple(sorted({ep.name for ep in entry_points(group="dcsim")} - set(CORE_PLUGINS)))


def _core_plugins(client) -> dict[str, dict]:
    return {p["name"]: p for p in client.get("/plugins").json()["plugins"] if p["name"] in CORE_PLUGINS}


def test_every_internal_plugin_is_its_own_entry_point(dcsim_client):
    listed = _core_plugins(dcsim_client)
    assert set(listed) == set(CORE_PLUGINS) == {"sim", "cmdb", "itsm", "patch", "drift", "api"}
    assert {p["status"] for p in listed.values()} == {"loaded"}
    assert {p["module"] for p in listed.values()} == {f"dcsim.builtin.{name}" for name in CORE_PLUGINS}


@pytest.mark.parametrize("off", CORE_PLUGINS)
def test_each_internal_plugin_can_be_disabled_alone(make_client, off):
    client = make_client(disable_plugins=(off, *OTHERS))
    assert client.get("/healthz").status_code == 200
    listed = _core_plugins(client)
    assert listed[off]["status"] == "disabled"
    assert all(p["status"] == "loaded" for name, p in listed.items() if name != off)
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json()
    checks = {check["name"]: check for check in ready.json()["checks"]}
    assert checks[f"plugin:{off}"] == {"name": f"plugin:{off}", "ok": True, "detail": "disabled"}
    for name, route in ROUTES.items():
        status = client.get(route).status_code
        assert status == (404 if name == off else 200), (name, route, status)
    if off != "sim":
        assert len(client.sim.sim.world) > 0
    else:
        with pytest.raises(ServiceUnavailable, match="no Simulation service"):
            _ = client.sim.sim
    assert ("drift.detected" in client.sim.event_types) == (off != "drift")


def test_with_the_cmdb_off_itsm_degrades_clearly(make_client):
    client = make_client(disable_plugins=("cmdb", *OTHERS))
    created = client.post("/itsm/incidents", json={"title": "db slow", "affected_cis": ["vm-001"]})
    assert created.status_code == 201, created.json()


async def test_the_framework_starts_with_every_internal_plugin_off(make_dcsim):
    async with make_dcsim(disable_plugins=CORE_PLUGINS + OTHERS) as sim:
        assert sim.plugins.loaded() == []
        await sim.relay.drain()  # the outbox relay publishes it
        started = [event for _, event in await sim.bus.recent(10) if event.type == "dcsim.started"]
        assert len(started) == 1
        assert [check.name for check in await sim.readiness() if not check.ok] == []


def test_the_framework_routes_need_no_plugin(make_client):
    client = make_client(disable_plugins=CORE_PLUGINS + OTHERS)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert {p["name"] for p in client.get("/plugins").json()["plugins"]} >= set(CORE_PLUGINS)
    assert "dcsim.started" in {t["type"] for t in client.get("/events/types").json()}
