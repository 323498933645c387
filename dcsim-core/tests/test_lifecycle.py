"""The instance's lifecycle cannot lose events or leak: groups before start-up hooks, a
failed start undone, registration hooks isolated one implementation at a time."""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dcsim import hookimpl
from dcsim.cli import main
from dcsim.errors import PluginLoadError

# Start-up events on each bus driver: tests/bus/test_startup_delivery.py.


async def test_first_start_delivers_the_cmdb_events_of_the_bootstrap(make_dcsim):
    # The CMDB's bootstrap publishes cmdb.ci.created while the instance starts.
    seen: list[str] = []
    every = asyncio.Event()

    async def on_ci(dcsim, event):
        seen.append(event.data["ci"]["name"])
        if len(seen) >= 9:
            every.set()

    class Watcher:
        @hookimpl
        def dcsim_register_subscribers(self, registry):
            registry.add("ci-watch", on_ci, types=["cmdb.ci.created"])

    async with make_dcsim(Watcher()):
        await asyncio.wait_for(every.wait(), timeout=10)
    assert {"vm-001", "instance-001"} <= set(seen)


def _threads() -> set[threading.Thread]:
    # The loop's default executor keeps its workers (asyncio.to_thread): not a leak.
    return {t for t in threading.enumerate() if t.is_alive() and not t.name.startswith("asyncio_")}


async def _settled(before: set[threading.Thread], timeout: float = 5) -> set[threading.Thread]:
    deadline = time.monotonic() + timeout
    while (extra := _threads() - before) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return extra


async def test_a_failed_start_leaks_no_task_or_thread(make_dcsim):
    shut: list[str] = []

    class Starts:
        @hookimpl
        async def dcsim_startup(self):
            pass

        @hookimpl
        async def dcsim_shutdown(self):
            shut.append("Starts")

    class Fails:
        @hookimpl
        async def dcsim_startup(self, dcsim):
            # Core's plugins are running by now: the SLA task and the node watchers.
            assert dcsim.sim.world
            raise RuntimeError("cannot start")

        @hookimpl
        async def dcsim_shutdown(self):
            shut.append("Fails")

    class NeverStarted:
        @hookimpl
        async def dcsim_startup(self):
            shut.append("NeverStarted started")

        @hookimpl
        async def dcsim_shutdown(self):
            shut.append("NeverStarted")

    threads = _threads()
    tasks = asyncio.all_tasks()
    # Later registered, called earlier: Starts, then Fails; NeverStarted is not reached.
    sim = make_dcsim(NeverStarted(), Fails(), Starts())
    with pytest.raises(RuntimeError, match="cannot start"):
        await sim.start()
    assert not sim.started
    # Only what started (or was starting) is shut down, in reverse order.
    assert shut == ["Fails", "Starts"]
    assert await _settled(threads) == set()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - tasks == set()


async def test_a_failed_start_can_be_retried(make_dcsim):
    attempts: list[int] = []

    class FailsOnce:
        @hookimpl
        async def dcsim_startup(self):
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("not yet")

    sim = make_dcsim(FailsOnce())
    with pytest.raises(RuntimeError):
        await sim.start()
    async with make_dcsim(FailsOnce()) as again:
        assert again.started and len(attempts) == 2


async def test_a_raising_registration_hook_is_isolated(make_client):
    class Good:
        @hookimpl
        def dcsim_register_event_types(self, registry):
            registry.add("good.said", description="fine")

    class Bad:
        @hookimpl
        def dcsim_register_services(self, registry):
            registry.add("bad-service", object())

        @hookimpl
        def dcsim_register_event_types(self, registry):
            registry.add("bad.half", description="added before the failure")
            raise ValueError("bad schema")

        @hookimpl
        async def dcsim_startup(self):
            raise AssertionError("a failed plugin's other hooks never run")

    client = make_client(Good(), Bad())
    sim = client.sim
    assert "good.said" in sim.event_types
    assert "bad.half" not in sim.event_types, "what the failed plugin added is rolled back"
    assert "bad-service" not in sim.services, "and what it registered before is dropped"
    plugins = {p["name"]: p for p in client.get("/plugins").json()["plugins"]}
    assert plugins["Bad"]["status"] == "failed"
    assert plugins["Bad"]["error"] == "dcsim_register_event_types: ValueError: bad schema"
    assert plugins["Good"]["status"] == "loaded"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    checks = {check["name"]: check for check in ready.json()["checks"]}
    assert checks["plugin:Bad"]["ok"] is False and "bad schema" in checks["plugin:Bad"]["detail"]


async def test_a_registration_hook_failing_during_start_up_stops_its_plugin(make_dcsim):
    # ITSM collects its rules when it starts: a plugin failing there is failed at once,
    # and its own start-up (due later in the same start) is skipped.
    class BadRules:
        @hookimpl
        def dcsim_itsm_register_rules(self, registry):
            raise ValueError("bad rule")

        @hookimpl
        async def dcsim_startup(self):
            raise AssertionError("a failed plugin's start-up never runs")

    async with make_dcsim(BadRules()) as sim:
        info = {info.name: info for info in sim.plugins.infos}["BadRules"]
        assert (info.status, info.error) == ("failed", "dcsim_itsm_register_rules: ValueError: bad rule")
        assert sim.started


async def test_a_plugin_needing_a_service_that_is_off_is_failed_and_the_rest_starts(make_dcsim):
    calls: list[str] = []

    async def on_vm(dcsim, event):
        calls.append("handled")

    class NeedsSimulation:
        @hookimpl
        def dcsim_register_subscribers(self, registry):
            registry.add("needs-sim", on_vm, types=["*"])

        @hookimpl
        async def dcsim_startup(self, dcsim):
            calls.append("startup")
            _ = dcsim.sim.world

        @hookimpl
        async def dcsim_shutdown(self):
            calls.append("shutdown")

    async with make_dcsim(NeedsSimulation(), disable_plugins=("sim",)) as sim:
        info = {info.name: info for info in sim.plugins.infos}["NeedsSimulation"]
        assert info.status == "failed"
        assert info.error.startswith("dcsim_startup: ServiceUnavailable: no Simulation service")
        assert "needs-sim" not in sim.subscribers, "a failed plugin's registrations are dropped"
        assert "needs-sim" not in {runner.subscriber.group for runner in sim._runners}
        assert {"cmdb-sync", "itsm-rules"} <= {runner.subscriber.group for runner in sim._runners}
        await sim.publish("dcsim.started", {}, source="/test")
        await asyncio.sleep(0.2)
    # Shut down once, for its partial start, and never again.
    assert calls == ["startup", "shutdown"]

    with pytest.raises(PluginLoadError, match="no Simulation service"):
        await make_dcsim(NeedsSimulation(), disable_plugins=("sim",), strict_plugins=True).start()


def test_strict_mode_makes_a_raising_registration_hook_fatal(make_dcsim):
    class Bad:
        @hookimpl
        def dcsim_register_subscribers(self, registry):
            raise ValueError("bad group")

    with pytest.raises(PluginLoadError, match="bad group"):
        make_dcsim(Bad(), strict_plugins=True)


@pytest.fixture
def raising_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution 'acme-services' whose plugin raises in dcsim_register_services and
    in dcsim_register_routes."""
    site = tmp_path / "site"
    dist = site / "acme_services-2.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-services\nVersion: 2.0\n")
    (dist / "entry_points.txt").write_text("[dcsim]\nacme = acme_services\n")
    (site / "acme_services.py").write_text(
        textwrap.dedent(
            """
            from dcsim import hookimpl

            @hookimpl
            def dcsim_register_services(registry, settings):
                raise RuntimeError("licence server unreachable")

            @hookimpl
            def dcsim_register_routes(registry):
                raise RuntimeError("no routes today")
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("DCSIM_DATA_DIR", str(tmp_path / "data"))
    return site


def test_raising_registration_crashes_no_command(raising_services, make_client):
    # dcsim version reads metadata only; dcsim plugins builds no instance.
    version = CliRunner().invoke(main, ["version"])
    assert version.exit_code == 0, version.output
    assert "acme-services 2.0" in version.output
    listing = CliRunner().invoke(main, ["plugins", "--json"])
    assert listing.exit_code == 0, listing.output
    acme = {p["name"]: p for p in json.loads(listing.stdout)["plugins"]}["acme"]
    assert acme["status"] == "failed" and acme["error"] == "dcsim_register_routes: RuntimeError: no routes today"
    assert not (Path(raising_services).parent / "data").exists(), "no store was created"
    # The server (the same app dcsim serve runs) starts and names the failure.
    client = make_client()
    acme = {p["name"]: p for p in client.get("/plugins").json()["plugins"]}["acme"]
    assert acme["status"] == "failed"
    assert acme["error"] == "dcsim_register_services: RuntimeError: licence server unreachable"
    assert client.get("/sim/vms").status_code == 200


def test_strict_serve_stops_on_a_raising_registration_with_one_line(raising_services):
    result = CliRunner().invoke(main, ["serve", "--strict", "--port", "1"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: plugin 'acme' failed: dcsim_register_services: RuntimeError: licence server unreachable"
    )


def test_dcsim_plugins_builds_no_instance(monkeypatch, tmp_path):
    import dcsim.app

    def refuse(*args, **kwargs):
        raise AssertionError("dcsim plugins must not build an instance")

    monkeypatch.setattr(dcsim.app.DcSim, "__init__", refuse)
    monkeypatch.setenv("DCSIM_DATA_DIR", str(tmp_path / "data"))
    for command in (["plugins"], ["version"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
    assert not (tmp_path / "data").exists()


async def test_shutdown_after_a_good_start_reaches_every_plugin(make_dcsim):
    order: list[str] = []

    class Early:
        @hookimpl
        async def dcsim_shutdown(self):
            order.append("Early")

    class Late:
        @hookimpl
        async def dcsim_shutdown(self):
            order.append("Late")

    sim = make_dcsim(Early(), Late())
    await sim.start()
    await sim.close()
    # Start-up order is Late, Early (last registered first): shut-down is the reverse.
    assert order == ["Early", "Late"]
    assert not sim.started
