"""Hook implementations of the `ansible` plugin, and nothing else.

This module is what the entry point `ansible` in the group `dcsim` names. Installing
dcsim-ansible adds the automation runner (SPEC-013): the `/ansible` API, run workers on
the bus (one in-process with `dcsim serve` unless `[plugins.ansible] worker = false`),
event triggers and facts back to the CMDB. ansible-runner and ansible-core are imported
lazily, only when a run executes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim import hookimpl
from dcsim_ansible.settings import SECRET_SETTINGS as SECRET_SETTINGS

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.model import Event
    from dcsim.registry import (
        CommandRegistry,
        EventTypeRegistry,
        RouteRegistry,
        ServiceRegistry,
        SubscriberRegistry,
    )
    from dcsim.settings import Settings


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim_ansible.service import AnsibleRunner
    from dcsim_ansible.settings import load_ansible_settings

    registry.add("ansible", AnsibleRunner(load_ansible_settings(settings.plugin("ansible"))))


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim_ansible.metrics import RunnerCollector

    runner = dcsim.services["ansible"]
    await runner.start(dcsim, worker=runner.settings.worker)
    runner.collector = RunnerCollector(dcsim.store)
    dcsim.metrics.register(runner.collector)


@hookimpl
async def dcsim_shutdown(dcsim: DcSim) -> None:
    runner = dcsim.services["ansible"]
    if runner.collector is not None:
        dcsim.metrics.unregister(runner.collector)
        runner.collector = None
    await runner.close()


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim_ansible.routes import AnsibleController

    registry.add(AnsibleController)


@hookimpl
def dcsim_register_commands(registry: CommandRegistry) -> None:
    from dcsim_ansible.cli import ansible

    registry.add(ansible)


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    from dcsim_ansible.events import EVENT_TYPES

    registry.add_catalogue(EVENT_TYPES)


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    from dcsim_ansible.triggers import EVENT_TYPES as TRIGGER_EVENTS

    async def trigger(dcsim: DcSim, event: Event) -> None:
        triggers = dcsim.services["ansible"].triggers
        if triggers is not None:
            await triggers.handle(event)

    async def facts(dcsim: DcSim, event: Event) -> None:
        from dcsim_ansible.facts import keep_facts_through_sync, record_facts

        if event.type == "cmdb.ci.updated":
            await keep_facts_through_sync(dcsim, event)
        else:
            await record_facts(dcsim, event)

    registry.add("ansible-triggers", trigger, types=TRIGGER_EVENTS)
    registry.add("ansible-facts", facts, types=("ansible.facts_collected", "cmdb.ci.updated"))
