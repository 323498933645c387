"""``UcsManager``: the UCS Manager of one simulated domain, shared by /nuova and the REST API.

It builds the managed-object tree from the simulation and the store, checks sessions,
and applies configuration: checked whole first (``config.plan_changes``), then the
engine calls in order, then the store writes in one transaction, then the events.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from dcsim.errors import Conflict, DcsimError, InvalidInput, NotFound
from dcsim.sim.model import Blade, Chassis
from dcsim_ucs.config import Change, Plan, plan_changes
from dcsim_ucs.errors import invalid_config, not_privileged
from dcsim_ucs.events import EventChannels
from dcsim_ucs.mo import Tree
from dcsim_ucs.model import ServiceProfile, UcsDomain
from dcsim_ucs.profiles import ServiceProfiles
from dcsim_ucs.sessions import Session, Sessions
from dcsim_ucs.settings import UcsSettings
from dcsim_ucs.tree import ORG_ROOT, blade_dn, build_tree, profile_dn

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.sim.engine import Simulation

log = structlog.get_logger(__name__)

SOURCE = "/ucs"
EVENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {
    f"ucs.mo.{verb}": (
        f"a UCS configuration object (org, VLAN, pool, policy) was {verb}",
        {"domain": "UCS domain name", "dn": "the object's DN", "class": "its class id", "user": "UCS user"},
    )
    for verb in ("created", "modified", "deleted")
}


class UcsManager:
    """The service ``dcsim.services["ucs"]``."""

    def __init__(self, settings: UcsSettings) -> None:
        self.settings = settings
        self._dcsim: DcSim | None = None
        self._sessions: Sessions | None = None
        self._profiles: ServiceProfiles | None = None
        self.channels = EventChannels(self, settings.event_channels)
        # One configuration at a time, as UCS Manager's transactions are.
        self._lock = asyncio.Lock()

    async def start(self, dcsim: DcSim) -> None:
        """Attach to the started instance and seed default policies into new domains."""
        self._dcsim = dcsim
        self._sessions = Sessions(dcsim.store, self.settings)
        self._profiles = ServiceProfiles(dcsim.sim)
        await self.seed()

    @property
    def dcsim(self) -> DcSim:
        """The instance this manager belongs to."""
        if self._dcsim is None:
            raise RuntimeError("the UCS manager is not started")
        return self._dcsim

    @property
    def sessions(self) -> Sessions:
        """UCS sessions (cookies)."""
        if self._sessions is None:
            raise RuntimeError("the UCS manager is not started")
        return self._sessions

    @property
    def profiles(self) -> ServiceProfiles:
        """Service-profile operations on the simulation."""
        if self._profiles is None:
            raise RuntimeError("the UCS manager is not started")
        return self._profiles

    @property
    def sim(self) -> Simulation:
        """The simulation engine."""
        return self.dcsim.sim

    def domain(self) -> UcsDomain:
        """The domain this manager serves: ``plugins.ucs.domain``, else the first one."""
        domains = sorted(self.sim.world.all(UcsDomain), key=lambda d: d.name)
        if self.settings.domain:
            domain = next((d for d in domains if d.name == self.settings.domain), None)
            if domain is None:
                raise NotFound(f"no UCS domain {self.settings.domain!r} in the simulation")
            return domain
        if not domains:
            raise NotFound("the simulation has no UCS domain")
        return domains[0]

    def namespace(self, domain: UcsDomain | None = None) -> str:
        """The store namespace of the domain's UCS-only objects and client-set properties."""
        return f"ucs.mo.{(domain or self.domain()).name}"

    async def stored(self, domain: UcsDomain | None = None) -> dict[str, dict[str, Any]]:
        """The domain's stored objects, by DN."""
        documents = await asyncio.to_thread(self.dcsim.store.list, self.namespace(domain))
        return {doc.key: doc.value for doc in documents}

    async def tree(self) -> Tree:
        """The domain's managed-object tree as it is now."""
        domain = self.domain()
        return build_tree(self.sim, domain, await self.stored(domain))

    async def seed(self) -> None:
        """Give a domain that has no stored objects UCS Manager's default policies."""
        for domain in self.sim.world.all(UcsDomain):
            namespace = self.namespace(domain)
            if await asyncio.to_thread(self.dcsim.store.list, namespace, "", 1):
                continue
            defaults = {
                "org-root/boot-policy-default": ("lsbootPolicy", {"name": "default", "descr": "default boot policy"}),
                "org-root/mac-pool-default": ("macpoolPool", {"name": "default", "assignmentOrder": "sequential"}),
                "org-root/mac-pool-default/block-00:25:B5:00:00:00-00:25:B5:00:00:FF": (
                    "macpoolBlock", {"from": "00:25:B5:00:00:00", "to": "00:25:B5:00:00:FF"}),
                "org-root/fw-host-pack-default": (
                    "firmwareComputeHostPack", {"name": "default", "bladeBundleVersion": domain.firmware}),
                "fabric/lan/net-default": ("fabricVlan", {"name": "default", "id": "1", "defaultNet": "yes"}),
            }  # fmt: skip

            def write(namespace: str = namespace, defaults: dict[str, tuple[str, dict[str, str]]] = defaults) -> None:
                with self.dcsim.store.transaction() as session:
                    for dn, (class_id, attrs) in defaults.items():
                        session.put(namespace, dn, {"class": class_id, "attrs": attrs})

            await asyncio.to_thread(write)
            log.info("ucs.seeded", domain=domain.name, objects=len(defaults))

    async def configure(self, session: Session, changes: list[Change]) -> tuple[Plan, Tree]:
        """Apply ``changes`` for a UCS session, all or nothing; the plan and the tree afterwards."""
        if session.read_only:
            raise not_privileged(session.user)
        return await self.apply(changes, user=session.user)

    async def apply(self, changes: list[Change], *, user: str) -> tuple[Plan, Tree]:
        """Apply ``changes`` on behalf of ``user``, all or nothing; the plan and the tree afterwards."""
        async with self._lock:
            domain = self.domain()
            stored = await self.stored(domain)
            plan = plan_changes(build_tree(self.sim, domain, stored), stored, changes, domain.name)
            await self._apply(domain, plan, user)
            return plan, build_tree(self.sim, domain, await self.stored(domain))

    # What the REST API asks for, as the same checked changes the XML API makes ----------

    async def create_profile(
        self, name: str, *, template: str, org: str = ORG_ROOT, description: str = "", user: str
    ) -> ServiceProfile:
        """A service profile instantiated from ``template`` (looked up from ``org`` upwards)."""
        attrs_ = {"name": name, "type": "instance", "srcTemplName": template, "descr": description}
        await self.apply([Change(class_id="lsServer", dn=f"{org}/ls-{name}", status={"created"}, attrs=attrs_)],
                         user=user)  # fmt: skip
        return self.sim.world.get(ServiceProfile, name)

    async def associate(self, profile: str, blade: str, *, user: str) -> ServiceProfile:
        """Bind a profile to a blade (by blade name or DN)."""
        sp = self.sim.world.get(ServiceProfile, profile)
        blade_dn = blade if blade.startswith("sys/") else self._blade_dn(blade)
        await self.apply([Change(class_id="lsBinding", dn=f"{profile_dn(sp)}/pn", status={"created"},
                                 attrs={"pnDn": blade_dn})], user=user)  # fmt: skip
        return self.sim.world.get(ServiceProfile, profile)

    async def disassociate(self, profile: str, *, user: str) -> ServiceProfile:
        """Unbind a profile from its blade; a 409 if it is not associated."""
        sp = self.sim.world.get(ServiceProfile, profile)
        if sp.blade_id is None:
            raise Conflict(f"{sp.name} is not associated")
        await self.apply([Change(class_id="lsBinding", dn=f"{profile_dn(sp)}/pn", status={"deleted"}, attrs={})],
                         user=user)  # fmt: skip
        return self.sim.world.get(ServiceProfile, profile)

    async def power(self, profile: str, state: str, *, user: str) -> ServiceProfile:
        """Set a profile's desired power, ``up`` or ``down`` (its blade follows)."""
        sp = self.sim.world.get(ServiceProfile, profile)
        if state not in ("up", "down"):
            raise InvalidInput(f"state must be up or down, not {state!r}")
        await self.apply([Change(class_id="lsPower", dn=f"{profile_dn(sp)}/power", status={"modified"},
                                 attrs={"state": state})], user=user)  # fmt: skip
        return self.sim.world.get(ServiceProfile, profile)

    async def delete_profile(self, profile: str, *, user: str) -> ServiceProfile:
        """Delete a profile (disassociating it first)."""
        sp = self.sim.world.get(ServiceProfile, profile)
        await self.apply([Change(class_id="lsServer", dn=profile_dn(sp), status={"deleted"}, attrs={})], user=user)
        return sp

    async def forget_profile(self, profile: dict[str, Any]) -> None:
        """Drop what the store holds about a deleted profile (labels, policy names, children)."""
        domain = next((d for d in self.sim.world.all(UcsDomain) if d.id == profile.get("domain_id")), None)
        if domain is None:
            return
        dn = f"{profile['org']}/ls-{profile['name']}"
        namespace = self.namespace(domain)

        def forget() -> None:
            with self.dcsim.store.transaction() as session:
                for document in session.list(namespace, dn):
                    if document.key == dn or document.key.startswith(dn + "/"):
                        session.delete(namespace, document.key)

        await asyncio.to_thread(forget)

    async def forget_binding(self, profile_id: str) -> None:
        """Drop the stored properties of a profile's binding (``<profile>/pn``) once it is gone."""
        profile = self.sim.world.find(ServiceProfile, profile_id)
        if profile is None or profile.blade_id is not None:
            return  # deleted (forget_profile covers it), or bound again meanwhile
        domain = self.sim.world.get(UcsDomain, profile.domain_id)
        namespace, key = self.namespace(domain), f"{profile_dn(profile)}/pn"

        def forget() -> None:
            with self.dcsim.store.transaction() as session:
                if session.find(namespace, key) is not None:
                    session.delete(namespace, key)

        await asyncio.to_thread(forget)

    def _blade_dn(self, name: str) -> str:
        blade = self.sim.world.get(Blade, name)
        return blade_dn(self.sim.world.get(Chassis, blade.chassis_id), blade)

    async def _apply(self, domain: UcsDomain, plan: Plan, user: str) -> None:
        for step in plan.steps:
            try:
                await getattr(self.profiles, step.method)(*step.args, **step.kwargs)
            except DcsimError as exc:
                # Checked beforehand; only a change made meanwhile through another API gets here.
                log.warning("ucs.config_step_failed", step=step.method, args=step.args, error=exc.detail)
                raise invalid_config(f"{step.method} {' '.join(map(str, step.args))}: {exc.detail}") from exc
        namespace = self.namespace(domain)

        def write() -> None:
            with self.dcsim.store.transaction() as session:
                for dn in plan.deletes:
                    if session.find(namespace, dn) is not None:
                        session.delete(namespace, dn)
                for dn, value in plan.puts.items():
                    session.put(namespace, dn, value)

        await asyncio.to_thread(write)
        for verb, dn, class_id in plan.stored_events:
            await self.dcsim.publish(
                f"ucs.mo.{verb}",
                {"domain": domain.name, "dn": dn, "class": class_id, "user": user},
                source=SOURCE,
                subject=f"ucs/{domain.name}/{dn}",
            )


__all__ = ["EVENT_TYPES", "UcsManager"]
