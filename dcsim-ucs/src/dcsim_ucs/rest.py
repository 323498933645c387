"""The ``/ucs/api/v1`` REST convenience API: UCS domains as JSON, for clients without ucsmsdk.

Reads come straight from the simulation's world. Changes go through
:class:`~dcsim_ucs.manager.UcsManager`, so they are checked and applied by the same
transaction as the XML API's; a change UCS Manager refuses (a :class:`UcsError`) is
answered as a dc-sim problem document carrying the UCS error code as ``ucs_code``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, Protocol, TypeVar, cast

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from dcsim.app import DcSim
from dcsim.cmdb.mapping import map_blade
from dcsim.errors import Conflict, DcsimError, Forbidden, InvalidInput, NotFound, Unauthorized
from dcsim.model import Token
from dcsim.sim.model import Blade, Chassis, Datacenter, GuestOs, HealthStatus, PowerState
from dcsim.sim.world import World
from dcsim.web.contracts import LimitQuery, Model, OffsetQuery, Page, page, responses
from dcsim_ucs.errors import UcsError
from dcsim_ucs.manager import UcsManager
from dcsim_ucs.model import (
    FabricInterconnect,
    ServiceProfile,
    ServiceProfileTemplate,
    UcsDomain,
    domain_id_of,
    profile_of,
)
from dcsim_ucs.tree import ORG_ROOT, blade_dn, chassis_dn, profile_dn

T = TypeVar("T")


class _Named(Protocol):
    name: str


N = TypeVar("N", bound=_Named)

_EXAMPLES_ORG = [Example(value="org-root")]
#: ``?domain=``: a domain's id or name; an unknown one is a 404.
DomainQuery = Annotated[
    str | None,
    QueryParameter(description="A UCS domain's id or name", examples=[Example(value="ucs-domain-01")], max_length=128),
]

#: The UCS user a change is made as when the request carries no dc-sim token.
DEFAULT_USER = "rest"

#: UCS error codes that are not a refused change (everything else answers 409).
_UCS_CODE_ERRORS: dict[str, type[DcsimError]] = {
    "ERR-MO-object-not-found": NotFound,
    "ERR-MO-unknown-class": InvalidInput,
    "ERR-xml-parse-error": InvalidInput,
    "ERR-aaa-config-modify-error": Forbidden,
    "551": Unauthorized,
    "552": Unauthorized,
}


#: UCS Manager's naming rule for a service profile (and what a template may be called).
ProfileName = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=32,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="UCS Manager's rule: 2..32 characters of A-Z a-z 0-9 _ . : -",
        examples=["SP-web-02"],
    ),
]
TemplateName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="A service profile template's name, looked up from the org upwards",
        examples=["SP-Template-RHEL9"],
    ),
]
OrgDn = Annotated[
    str,
    msgspec.Meta(
        max_length=512,
        pattern=r"^org-root(/org-[A-Za-z0-9_.:-]{1,32})*$",
        description="An org's DN: org-root, or sub-orgs under it",
        examples=["org-root", "org-root/org-Finance"],
    ),
]
Description = Annotated[
    str,
    msgspec.Meta(
        max_length=256,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="UCS Manager's descr: at most 256 printable characters",
        examples=["web tier"],
    ),
]
BladeRef = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:/-]+$",
        description="A blade's name or its DN",
        examples=["c01s04", "sys/chassis-1/blade-4"],
    ),
]
ProfilePower = Literal["up", "down"]
FabricSide = Literal["A", "B"]


class ServiceProfileCreate(Model):
    """Body of ``POST /ucs/api/v1/service-profiles``."""

    name: ProfileName
    template: TemplateName
    org: OrgDn = ORG_ROOT
    description: Description = ""


class ServiceProfileAssociate(Model):
    """Body of ``POST /ucs/api/v1/service-profiles/{name}/associate``."""

    blade: BladeRef


class ServiceProfilePower(Model):
    """Body of ``POST /ucs/api/v1/service-profiles/{name}/power``: the profile's desired power."""

    state: ProfilePower


# Representations: the simulation's objects by name, each with its UCS DN ------------


def _described(description: str, *examples: Any) -> msgspec.Meta:
    return msgspec.Meta(description=description, examples=list(examples) if examples else None)


class UcsDomainOut(msgspec.Struct, kw_only=True):
    """A UCS domain: its firmware, datacenter, fabric interconnects and counts."""

    id: str
    name: Annotated[str, _described("The domain's name", "ucs-domain-01")]
    dn: Annotated[str, _described("Its UCS DN (always sys)", "sys")]
    firmware: Annotated[str, _described("UCS Manager firmware", "4.2(3d)")]
    datacenter: str
    fabric_interconnects: list[str]
    chassis_count: Annotated[int, msgspec.Meta(ge=0)]
    blade_count: Annotated[int, msgspec.Meta(ge=0)]
    service_profile_count: Annotated[int, msgspec.Meta(ge=0)]


class FabricInterconnectOut(msgspec.Struct, kw_only=True):
    """A fabric interconnect of a domain."""

    id: str
    name: str
    dn: Annotated[str, _described("Its UCS DN", "sys/switch-A")]
    domain: str
    side: FabricSide
    model: str
    serial: str
    primary: bool
    status: HealthStatus


class UcsChassisOut(msgspec.Struct, kw_only=True):
    """A blade chassis of a domain, with its blades by slot."""

    id: str
    name: str
    dn: Annotated[str, _described("Its UCS DN", "sys/chassis-1")]
    domain: str
    number: Annotated[int, msgspec.Meta(ge=1)]
    model: str
    serial: str
    slots: Annotated[int, msgspec.Meta(ge=1)]
    blades: list[str]


class UcsBladeOut(msgspec.Struct, kw_only=True):
    """A blade server: hardware, firmware, power, health, its profile and its node."""

    id: str
    name: str
    dn: Annotated[str, _described("Its UCS DN", "sys/chassis-1/blade-1")]
    domain: str
    chassis: str
    slot: Annotated[int, msgspec.Meta(ge=1)]
    model: str
    serial: str
    cpu: Annotated[int, msgspec.Meta(ge=0, description="CPU cores")]
    memory_mb: Annotated[int, msgspec.Meta(ge=0)]
    firmware: str
    power_state: PowerState
    status: HealthStatus
    service_profile: Annotated[str | None, _described("The associated service profile's name")]
    node: Annotated[str | None, _described("The name of the node the blade runs")]


class ServiceProfileTemplateOut(msgspec.Struct, kw_only=True):
    """A service profile template (profiles are instantiated from these)."""

    id: str
    name: str
    dn: Annotated[str, _described("Its UCS DN", "org-root/ls-SP-Template-RHEL9")]
    domain: str
    org: str
    guest_os: GuestOs
    firmware: str


class ServiceProfileOut(msgspec.Struct, kw_only=True):
    """A service profile: org, template, blade, desired power, firmware policy and MACs."""

    id: str
    name: str
    dn: Annotated[str, _described("Its UCS DN", "org-root/ls-SP-web-01")]
    domain: str
    org: str
    template: str | None
    blade: Annotated[str | None, _described("The associated blade's name")]
    blade_dn: str | None
    assoc_state: Literal["associated", "unassociated"]
    power: ProfilePower
    firmware_policy: Annotated[str, _described("The firmware version the profile wants (empty: none)")]
    macs: list[str]
    description: str


def as_dcsim_error(exc: UcsError) -> DcsimError:
    """The dc-sim error a REST client gets for ``exc``: 409 unless the code says otherwise."""
    error_class = _UCS_CODE_ERRORS.get(exc.code, Conflict)
    return error_class(exc.descr, ucs_code=exc.code)


async def _ucs(change: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    try:
        return await change(*args, **kwargs)
    except UcsError as exc:
        raise as_dcsim_error(exc) from exc


def _user(request: Request[Any, Any, Any]) -> str:
    """The dc-sim token's name (the auth guard keeps the token in the scope's state)."""
    token = request.scope.get("state", {}).get("token")
    return token.name if isinstance(token, Token) else DEFAULT_USER


def _manager(dcsim: DcSim) -> UcsManager:
    manager: UcsManager = dcsim.services["ucs"]
    return manager


def _by_name(objects: list[N]) -> list[N]:
    return sorted(objects, key=lambda obj: obj.name)


def _domain_id(world: World, domain: str | None) -> str | None:
    """The id of the domain a ``?domain=`` filter names (id or name); 404 when unknown."""
    return None if domain is None else world.get(UcsDomain, domain).id


def _ucs_chassis(world: World) -> list[Chassis]:
    """Chassis a UCS domain holds (core may have others)."""
    return [c for c in world.all(Chassis) if domain_id_of(world, c) is not None]


def _blade_domain_id(world: World, blade: Blade) -> str | None:
    return domain_id_of(world, world.get(Chassis, blade.chassis_id))


def _domain_json(world: World, domain: UcsDomain) -> UcsDomainOut:
    chassis_ids = set(domain.chassis_ids)
    fis = sorted((fi for fi in world.all(FabricInterconnect) if fi.domain_id == domain.id), key=lambda fi: fi.side)
    return UcsDomainOut(
        id=domain.id,
        name=domain.name,
        dn="sys",
        firmware=domain.firmware,
        datacenter=world.get(Datacenter, domain.datacenter_id).name,
        fabric_interconnects=[fi.name for fi in fis],
        chassis_count=len(chassis_ids),
        blade_count=sum(1 for b in world.all(Blade) if b.chassis_id in chassis_ids),
        service_profile_count=sum(1 for p in world.all(ServiceProfile) if p.domain_id == domain.id),
    )


def _fi_json(world: World, fi: FabricInterconnect) -> FabricInterconnectOut:
    return FabricInterconnectOut(
        id=fi.id,
        name=fi.name,
        dn=f"sys/switch-{fi.side}",
        domain=world.get(UcsDomain, fi.domain_id).name,
        side=cast(FabricSide, fi.side),
        model=fi.model,
        serial=fi.serial,
        primary=fi.primary,
        status=fi.status,
    )


def _chassis_json(world: World, chassis: Chassis) -> UcsChassisOut:
    blades = sorted((b for b in world.all(Blade) if b.chassis_id == chassis.id), key=lambda b: b.slot)
    return UcsChassisOut(
        id=chassis.id,
        name=chassis.name,
        dn=chassis_dn(chassis),
        domain=world.get(UcsDomain, domain_id_of(world, chassis) or "").name,
        number=chassis.number,
        model=chassis.model,
        serial=chassis.serial,
        slots=chassis.slots,
        blades=[b.name for b in blades],
    )


#: The facts of a blade core's CMDB mapping gives too (one place builds them).
_BLADE_FACTS = ("chassis", "slot", "model", "serial", "cpu", "memory_mb", "firmware", "power_state", "status")


def _blade_json(world: World, blade: Blade) -> UcsBladeOut:
    chassis = world.get(Chassis, blade.chassis_id)
    profile = profile_of(world, blade)
    facts = map_blade(world, blade)[0].attributes
    return UcsBladeOut(
        **{
            "id": blade.id,
            "name": blade.name,
            "dn": blade_dn(chassis, blade),
            "domain": world.get(UcsDomain, domain_id_of(world, chassis) or "").name,
            **{key: facts[key] for key in _BLADE_FACTS},
            "service_profile": profile.name if profile else None,
            "node": blade.node.name if blade.node else None,
        }
    )


def _template_json(world: World, template: ServiceProfileTemplate) -> ServiceProfileTemplateOut:
    return ServiceProfileTemplateOut(
        id=template.id,
        name=template.name,
        dn=profile_dn(template),
        domain=world.get(UcsDomain, template.domain_id).name,
        org=template.org,
        guest_os=template.guest_os,
        firmware=template.firmware,
    )


def _profile_json(world: World, profile: ServiceProfile) -> ServiceProfileOut:
    template = world.find(ServiceProfileTemplate, profile.template_id or "")
    blade = world.find(Blade, profile.blade_id or "")
    return ServiceProfileOut(
        id=profile.id,
        name=profile.name,
        dn=profile_dn(profile),
        domain=world.get(UcsDomain, profile.domain_id).name,
        org=profile.org,
        template=template.name if template else None,
        blade=blade.name if blade else None,
        blade_dn=blade_dn(world.get(Chassis, blade.chassis_id), blade) if blade else None,
        assoc_state="associated" if blade else "unassociated",
        power=cast(ProfilePower, profile.power),
        firmware_policy=profile.firmware_policy,
        macs=list(profile.macs),
        description=profile.description,
    )


class UcsController(Controller):
    """UCS domains, fabric interconnects, chassis, blades and service profiles as JSON."""

    path = "/ucs/api/v1"
    tags = ["ucs"]

    # Equipment -----------------------------------------------------------------------

    @get("/domains", summary="UCS domains", responses=responses())
    async def list_domains(
        self, dcsim: NamedDependency[DcSim], limit: LimitQuery = 100, offset: OffsetQuery = 0
    ) -> Page[UcsDomainOut]:
        """Every UCS domain with its fabric interconnects and how many chassis, blades and profiles it has."""
        world = dcsim.sim.world
        return page([_domain_json(world, d) for d in _by_name(world.all(UcsDomain))], limit, offset)

    @get("/domains/{domain:str}", summary="One UCS domain, by id or name", responses=responses(404))
    async def get_domain(self, dcsim: NamedDependency[DcSim], domain: FromPath[str]) -> UcsDomainOut:
        """A UCS domain: firmware, datacenter, fabric interconnects and counts."""
        world = dcsim.sim.world
        return _domain_json(world, world.get(UcsDomain, domain))

    @get("/fabric-interconnects", summary="Fabric interconnects", responses=responses(404))
    async def list_fabric_interconnects(
        self,
        dcsim: NamedDependency[DcSim],
        domain: DomainQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[FabricInterconnectOut]:
        """Fabric interconnects, of one domain with ``?domain=`` (404 if there is no such domain)."""
        world = dcsim.sim.world
        domain_id = _domain_id(world, domain)
        fis = [fi for fi in _by_name(world.all(FabricInterconnect)) if domain_id in (None, fi.domain_id)]
        return page([_fi_json(world, fi) for fi in fis], limit, offset)

    @get("/fabric-interconnects/{name:str}", summary="One fabric interconnect, by id or name", responses=responses(404))
    async def get_fabric_interconnect(
        self, dcsim: NamedDependency[DcSim], name: FromPath[str]
    ) -> FabricInterconnectOut:
        """A fabric interconnect: side, model, serial, whether it is the primary, and its health."""
        world = dcsim.sim.world
        return _fi_json(world, world.get(FabricInterconnect, name))

    @get("/chassis", summary="Blade chassis", responses=responses(404))
    async def list_chassis(
        self,
        dcsim: NamedDependency[DcSim],
        domain: DomainQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[UcsChassisOut]:
        """Blade chassis, of one domain with ``?domain=``."""
        world = dcsim.sim.world
        domain_id = _domain_id(world, domain)
        chassis = [c for c in _by_name(_ucs_chassis(world)) if domain_id in (None, domain_id_of(world, c))]
        return page([_chassis_json(world, c) for c in chassis], limit, offset)

    @get("/chassis/{name:str}", summary="One chassis, by id or name", responses=responses(404))
    async def get_chassis(self, dcsim: NamedDependency[DcSim], name: FromPath[str]) -> UcsChassisOut:
        """A chassis of a UCS domain: number, model, serial, slots and its blades by slot."""
        world = dcsim.sim.world
        chassis = world.get(Chassis, name)
        if domain_id_of(world, chassis) is None:
            raise NotFound(f"chassis {name!r} is in no UCS domain")
        return _chassis_json(world, chassis)

    @get("/blades", summary="Blade servers", responses=responses(404))
    async def list_blades(
        self,
        dcsim: NamedDependency[DcSim],
        domain: DomainQuery = None,
        chassis: Annotated[str | None, QueryParameter(description="A chassis' id or name", max_length=128)] = None,
        associated: Annotated[
            bool | None, QueryParameter(description="Only blades with (true) or without (false) a profile")
        ] = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[UcsBladeOut]:
        """Blades of UCS domains, filtered by ``?domain=``, ``?chassis=`` and ``?associated=true|false``."""
        world = dcsim.sim.world
        domain_id = _domain_id(world, domain)
        chassis_id = None if chassis is None else world.get(Chassis, chassis).id
        blades = [
            b
            for b in _by_name(world.all(Blade))
            if (blade_domain := _blade_domain_id(world, b)) is not None
            and domain_id in (None, blade_domain)
            and chassis_id in (None, b.chassis_id)
            and associated in (None, profile_of(world, b) is not None)
        ]
        return page([_blade_json(world, b) for b in blades], limit, offset)

    @get("/blades/{name:str}", summary="One blade, by id or name", responses=responses(404))
    async def get_blade(self, dcsim: NamedDependency[DcSim], name: FromPath[str]) -> UcsBladeOut:
        """A blade of a UCS domain: hardware, firmware, power, health, its service profile and its node."""
        world = dcsim.sim.world
        blade = world.get(Blade, name)
        if _blade_domain_id(world, blade) is None:
            raise NotFound(f"blade {name!r} is in no UCS domain")
        return _blade_json(world, blade)

    # Service profiles ----------------------------------------------------------------

    @get("/service-profile-templates", summary="Service profile templates", responses=responses(404))
    async def list_templates(
        self,
        dcsim: NamedDependency[DcSim],
        domain: DomainQuery = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[ServiceProfileTemplateOut]:
        """Service profile templates, of one domain with ``?domain=``; profiles are created from these."""
        world = dcsim.sim.world
        domain_id = _domain_id(world, domain)
        templates = [t for t in _by_name(world.all(ServiceProfileTemplate)) if domain_id in (None, t.domain_id)]
        return page([_template_json(world, t) for t in templates], limit, offset)

    @get("/service-profiles", summary="Service profiles", responses=responses(404))
    async def list_profiles(
        self,
        dcsim: NamedDependency[DcSim],
        domain: DomainQuery = None,
        org: Annotated[
            str | None, QueryParameter(description="An org's DN", examples=_EXAMPLES_ORG, max_length=512)
        ] = None,
        associated: Annotated[
            bool | None, QueryParameter(description="Only associated (true) or unassociated (false) profiles")
        ] = None,
        limit: LimitQuery = 100,
        offset: OffsetQuery = 0,
    ) -> Page[ServiceProfileOut]:
        """Service profiles, filtered by ``?domain=``, ``?org=`` (an org DN) and ``?associated=true|false``."""
        world = dcsim.sim.world
        domain_id = _domain_id(world, domain)
        profiles = [
            p
            for p in _by_name(world.all(ServiceProfile))
            if domain_id in (None, p.domain_id)
            and org in (None, p.org)
            and associated in (None, p.blade_id is not None)
        ]
        return page([_profile_json(world, p) for p in profiles], limit, offset)

    @post(
        "/service-profiles",
        status_code=HTTP_201_CREATED,
        summary="Create a service profile from a template",
        responses=responses(409, 503, body=True),
    )
    async def create_profile(
        self, request: Request[Any, Any, Any], dcsim: NamedDependency[DcSim], data: JSONBody[ServiceProfileCreate]
    ) -> ServiceProfileOut:
        """Instantiate ``template`` (looked up from ``org`` upwards) as an unassociated profile ``name``.

        A refused change (name taken, no such template or org) is a 409 with UCS's code as ``ucs_code``.
        """
        profile = await _ucs(
            _manager(dcsim).create_profile,
            data.name,
            template=data.template,
            org=data.org,
            description=data.description,
            user=_user(request),
        )
        return _profile_json(dcsim.sim.world, profile)

    @get("/service-profiles/{name:str}", summary="One service profile, by id or name", responses=responses(404))
    async def get_profile(self, dcsim: NamedDependency[DcSim], name: FromPath[str]) -> ServiceProfileOut:
        """A service profile: org, template, blade, desired power, firmware policy and MACs."""
        world = dcsim.sim.world
        return _profile_json(world, world.get(ServiceProfile, name))

    @delete(
        "/service-profiles/{name:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a service profile",
        responses=responses(404, 409, 503),
    )
    async def delete_profile(
        self, request: Request[Any, Any, Any], dcsim: NamedDependency[DcSim], name: FromPath[str]
    ) -> None:
        """Delete a service profile; an associated one is disassociated first and its blade powers off."""
        await _ucs(_manager(dcsim).delete_profile, name, user=_user(request))

    @post(
        "/service-profiles/{name:str}/associate",
        status_code=HTTP_200_OK,
        summary="Associate with a blade",
        responses=responses(404, 409, 503, body=True),
    )
    async def associate(
        self,
        request: Request[Any, Any, Any],
        dcsim: NamedDependency[DcSim],
        name: FromPath[str],
        data: JSONBody[ServiceProfileAssociate],
    ) -> ServiceProfileOut:
        """Put the profile on a free, working blade of its domain; the blade follows the profile's power."""
        profile = await _ucs(_manager(dcsim).associate, name, data.blade, user=_user(request))
        return _profile_json(dcsim.sim.world, profile)

    @post(
        "/service-profiles/{name:str}/disassociate",
        status_code=HTTP_200_OK,
        summary="Disassociate from its blade",
        responses=responses(404, 409, 503),
    )
    async def disassociate(
        self, request: Request[Any, Any, Any], dcsim: NamedDependency[DcSim], name: FromPath[str]
    ) -> ServiceProfileOut:
        """Take the profile off its blade, which powers off; a 409 if it is not associated."""
        profile = await _ucs(_manager(dcsim).disassociate, name, user=_user(request))
        return _profile_json(dcsim.sim.world, profile)

    @post(
        "/service-profiles/{name:str}/power",
        status_code=HTTP_200_OK,
        summary="Set the desired power",
        responses=responses(404, 409, 503, body=True),
    )
    async def power(
        self,
        request: Request[Any, Any, Any],
        dcsim: NamedDependency[DcSim],
        name: FromPath[str],
        data: JSONBody[ServiceProfilePower],
    ) -> ServiceProfileOut:
        """Set the profile's desired power; an associated blade follows (409 for up on a failed blade)."""
        profile = await _ucs(_manager(dcsim).power, name, data.state, user=_user(request))
        return _profile_json(dcsim.sim.world, profile)
