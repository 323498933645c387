"""The ``patch`` plugin: advisories, compliance, policies and runs (:mod:`dcsim.patch`, SPEC-015).

It owns ``patch.scheduled`` (the runner's ``patch-runs`` trigger consumes it),
``patch.run.started`` and ``patch.run.completed``, and core's ordering of package versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dcsim.hooks import hookimpl
from dcsim.model import Event
from dcsim.patch.versions import compare_versions
from dcsim.registry import EventTypeRegistry, RouteRegistry, ServiceRegistry, SubscriberRegistry
from dcsim.settings import Settings

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.patch.service import PatchService

PATCH_EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "patch.scheduled": (
        "a patch run hands a batch of CIs to the runner",
        {
            "run_id": "the patch run (GET /patch/runs/{id})",
            "policy": "the policy",
            "os": "the OS type of the targets (rhel9, ubuntu22, ...)",
            "targets": "CI ids to patch",
            "playbook": "a playbook other than the OS's patch playbook (a policy's own, or a rollback), if any",
            "extra_vars": "patch_advisories [{id, package, fixed_version, severity}], patch_reboot, patch_max_parallel",
            "correlation_id": "patch:<run>:batch-<n> or patch:<run>:rollback-<ci>; the runner's result carries it",
        },
    ),
    "patch.run.started": ("a patch run starts", {"run_id": "the run", "policy": "the policy"}),
    "patch.run.completed": (
        "a patch run ended: completed, failed or cancelled",
        {
            "run_id": "the run",
            "policy": "the policy",
            "state": "completed | failed | cancelled",
            "summary": "counts of CIs by outcome",
            "skipped": "CI ids skipped (no approved change)",
            "failed": "CI ids that failed (rolled back or not)",
        },
    ),
}


def _patch(dcsim: DcSim) -> PatchService:
    from dcsim.patch.service import PatchService

    return dcsim.services.get(PatchService)


@hookimpl
def dcsim_register_services(registry: ServiceRegistry, settings: Settings) -> None:
    from dcsim.patch.service import PatchService

    registry.add("patch", PatchService(settings))


@hookimpl
async def dcsim_startup(dcsim: DcSim) -> None:
    from dcsim.patch.metrics import PatchCollector

    patch = _patch(dcsim)
    await patch.start(dcsim)
    dcsim.metrics.register(PatchCollector(patch))


@hookimpl
async def dcsim_shutdown(dcsim: DcSim) -> None:
    await _patch(dcsim).close()


@hookimpl
def dcsim_register_event_types(registry: EventTypeRegistry) -> None:
    registry.add_catalogue(PATCH_EVENTS)


@hookimpl
def dcsim_register_subscribers(registry: SubscriberRegistry) -> None:
    async def runner_results(dcsim: DcSim, event: Event) -> None:
        await _patch(dcsim).on_event(event)

    registry.add("patch", runner_results, types=("ansible.run.completed",))


@hookimpl
def dcsim_register_routes(registry: RouteRegistry) -> None:
    from dcsim.patch.routes import HANDLERS

    registry.add_all(HANDLERS)


@hookimpl(trylast=True)
def dcsim_patch_compare_versions(os_family: str, installed: str, candidate: str) -> int:
    return compare_versions(installed, candidate)
