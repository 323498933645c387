"""The hook contract is enforced: async-ness checked at load, implementations called
through pluggy (wrappers run), first-result answers validated and blamed on their plugin."""

from __future__ import annotations

import pytest

from dcsim import hookimpl
from dcsim.errors import PluginContractError, PluginLoadError


@pytest.mark.parametrize(
    ("plugin", "hook", "wanted"),
    [
        pytest.param("AsyncOfSync", "dcsim_register_event_types", "def (not async)", id="async-impl-of-sync-hook"),
        pytest.param("SyncOfAsync", "dcsim_startup", "async def", id="sync-impl-of-async-hook"),
    ],
)
def test_async_ness_must_match_the_spec(make_dcsim, plugin, hook, wanted):
    class AsyncOfSync:
        @hookimpl
        async def dcsim_register_event_types(self, registry):
            registry.add("never.declared", description="pluggy would drop this coroutine")

    class SyncOfAsync:
        @hookimpl
        def dcsim_startup(self, dcsim):
            pass

    offender = {"AsyncOfSync": AsyncOfSync, "SyncOfAsync": SyncOfAsync}[plugin]()
    sim = make_dcsim(offender)
    info = {info.name: info for info in sim.plugins.infos}[plugin]
    assert info.status == "failed"
    assert (
        info.error == f"{hook}: the hook is {'async' if wanted == 'async def' else 'sync'}; implement it with {wanted}"
    )
    assert plugin not in dict(sim.plugins.pm.list_name_plugin()), "refused plugins are unregistered"
    assert "never.declared" not in sim.event_types
    with pytest.raises(PluginLoadError, match=f"{plugin}.*{hook}"):
        make_dcsim(type(offender)(), strict_plugins=True)


async def test_a_wrapper_on_dcsim_startup_runs(make_dcsim):
    seen: list[object] = []

    class Timing:
        @hookimpl(wrapper=True)
        def dcsim_startup(self, dcsim):
            seen.append("before")
            awaitables = yield
            # The wrapper sees every implementation's coroutine, and may add its own.
            seen.append(len(awaitables))

            async def after_every_plugin():
                seen.append(("after", dcsim.sim.world is not None))

            return [*awaitables, after_every_plugin()]

    class Plain:
        @hookimpl
        async def dcsim_startup(self):
            seen.append("plain")

    async with make_dcsim(Timing(), Plain()):
        pass
    assert seen[0] == "before"
    assert seen[1] >= 4  # sim, cmdb, itsm and Plain at least
    assert seen[2:] == ["plain", ("after", True)]


def test_an_invalid_first_result_names_the_plugin_the_hook_and_the_value(make_client):
    class Fifth:
        @hookimpl
        def dcsim_itsm_priority(self, impact, urgency):
            return "P5"

    client = make_client(Fifth())
    with pytest.raises(PluginContractError) as caught:
        client.sim.call.itsm_priority(impact=1, urgency=1)
    assert caught.value.extra == {"plugin": "Fifth", "hook": "dcsim_itsm_priority", "value": "'P5'"}
    response = client.post("/itsm/incidents", json={"title": "disk filling", "impact": 2, "urgency": 2})
    assert response.status_code == 500
    problem = response.json()
    assert problem["code"] == "plugin_contract"
    assert problem["plugin"] == "Fifth" and problem["hook"] == "dcsim_itsm_priority" and problem["value"] == "'P5'"
    assert problem["detail"] == (
        "plugin 'Fifth' returned 'P5' from dcsim_itsm_priority: a priority is one of P1, P2, P3, P4"
    )


@pytest.mark.parametrize(
    ("hook", "answer", "call"),
    [
        ("dcsim_patch_compare_versions", 2, lambda c: c.patch_compare_versions("rhel", "1", "2")),
        ("dcsim_patch_compare_versions", True, lambda c: c.patch_compare_versions("rhel", "1", "2")),
        ("dcsim_drift_values_equal", "yes", lambda c: c.drift_values_equal("power_state", "on", "on")),
        ("dcsim_itsm_sla_targets", 3600, lambda c: c.itsm_sla_targets("P1")),
    ],
)
def test_every_first_result_hook_checks_its_answer(make_dcsim, hook, answer, call):
    # pluggy reads the argument names: give the implementation the hook's own.
    spec_args = getattr(make_dcsim().plugins.pm.hook, hook).spec.argnames
    namespace = {}
    exec(f"def {hook}(self, {', '.join(spec_args)}):\n    return answer", {"answer": answer}, namespace)
    plugin = type("Odd", (), {hook: hookimpl(namespace[hook])})
    with pytest.raises(PluginContractError, match=f"plugin 'Odd' returned {answer!r} from {hook}"):
        call(make_dcsim(plugin()).call)


def test_a_wrapper_that_spoils_the_answer_is_blamed(make_dcsim):
    class Spoiler:
        @hookimpl(wrapper=True)
        def dcsim_itsm_priority(self, impact, urgency):
            yield
            return "urgent"

    with pytest.raises(PluginContractError, match="plugin 'Spoiler' returned 'urgent'"):
        make_dcsim(Spoiler()).call.itsm_priority(impact=1, urgency=1)


def test_an_answer_is_required_when_the_default_plugin_is_off(make_dcsim):
    from dcsim.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable, match="'patch' plugin"):
        make_dcsim(disable_plugins=("patch",)).call.patch_compare_versions("rhel", "1", "2")
