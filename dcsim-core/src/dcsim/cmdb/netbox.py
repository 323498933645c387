"""The ``netbox`` CMDB backend: configuration items in a real NetBox, through pynetbox.

Configured with ``cmdb_backend = "netbox"``, ``netbox_url`` and ``netbox_token`` (installed
with ``pip install dcsim-core[netbox]``). Each CI is one NetBox object, chosen by CI type:
datacenter -> Site, cluster -> Cluster, host -> Device, vm -> VirtualMachine, network ->
VLAN (with a Prefix for its CIDR), or a Prefix when it has a CIDR and no VLAN id; CI types
NetBox has no model for (storage, service_profile, application, a plugin's) become
Tenants in a tenant group per type. SPEC-007's NetBox section says why.

Custom fields make every object answerable as a CI: ``dcsim_ci_type`` marks the objects
dc-sim manages, ``dcsim_source`` and ``dcsim_source_id`` name what it mirrors,
``dcsim_attributes`` holds the attributes, ``dcsim_relationships`` the relationships NetBox
has no structure for. CI tags are NetBox tags named ``key:value``. Relationships NetBox
can hold itself are its own fields (a VM's device, a device's cluster, the site of a
cluster, VLAN or prefix), read back from them. Decommissioning sets a NetBox status and
keeps the object; history is NetBox's change log.

CI ids are ``netbox:<object type>:<id>`` (``netbox:dcim.device:7``), relationship ids
``<source CI id>~<type>~<target CI id>``. An index of every dc-sim object, loaded at start,
written through and reloaded when older than :data:`INDEX_MAX_AGE`, answers reads, so a
sync of the seed makes NetBox calls only for what changes. pynetbox is untyped and
blocking: it is imported lazily, typed ``Any`` and called in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib
import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from dcsim.cmdb.backend import CiQuery, CmdbBackend
from dcsim.cmdb.builtin import check_tags
from dcsim.cmdb.model import TAG_KEYS, Ci, CiStatus, HistoryEntry, Relationship
from dcsim.convert import converter, to_json
from dcsim.errors import ConfigError, Conflict, DcsimError, InvalidInput, NotFound, Unavailable
from dcsim.model import utcnow

if TYPE_CHECKING:
    from dcsim.app import DcSim
    from dcsim.settings import Settings

T = TypeVar("T")

SITE = "dcim.site"
CLUSTER = "virtualization.cluster"
DEVICE = "dcim.device"
VM = "virtualization.virtualmachine"
VLAN = "ipam.vlan"
PREFIX = "ipam.prefix"
TENANT = "tenancy.tenant"

#: The NetBox object type of each CI type that has a model of its own (network: see _model_for).
NATIVE_MODELS = {"datacenter": SITE, "cluster": CLUSTER, "host": DEVICE, "vm": VM}


@attrs.frozen
class _Model:
    """A NetBox model CIs are stored as: its API endpoint and how it says decommissioned."""

    app: str
    endpoint: str
    #: Statuses that read as decommissioned; the first is the one dc-sim writes.
    decommissioned: tuple[str, ...] = ()


MODELS = {
    SITE: _Model("dcim", "sites", ("decommissioning", "retired")),
    CLUSTER: _Model("virtualization", "clusters", ("decommissioning",)),
    DEVICE: _Model("dcim", "devices", ("decommissioning",)),
    VM: _Model("virtualization", "virtual_machines", ("decommissioning",)),
    VLAN: _Model("ipam", "vlans", ("deprecated",)),
    PREFIX: _Model("ipam", "prefixes", ("deprecated",)),
    # Tenants have no status: the dcsim_decommissioned custom field says it.
    TENANT: _Model("tenancy", "tenants"),
}

#: (source object type, relationship type) -> (field of the source, target object type): the
#: relationships NetBox holds in its own structure. Each field holds one target; others of
#: the same type go to dcsim_relationships.
SLOTS: dict[tuple[str, str], tuple[str, str]] = {
    (VM, "runs_on"): ("device", DEVICE),
    (DEVICE, "member_of"): ("cluster", CLUSTER),
    (CLUSTER, "hosted_in"): ("scope", SITE),
    (VLAN, "hosted_in"): ("site", SITE),
    (PREFIX, "hosted_in"): ("scope", SITE),
}

CUSTOM_FIELDS: dict[str, dict[str, Any]] = {
    "dcsim_ci_type": {
        "type": "text",
        "label": "CI type",
        "description": "dc-sim manages this object as a CI of this type",
    },
    "dcsim_source": {"type": "text", "label": "CI source", "description": "sim (made by dc-sim's sync) or manual"},
    "dcsim_source_id": {"type": "text", "label": "Source id", "description": "id of the simulated object it mirrors"},
    "dcsim_attributes": {"type": "json", "label": "CI attributes", "description": "the CI's attributes"},
    "dcsim_relationships": {
        "type": "json",
        "label": "CI relationships",
        "description": "relationships NetBox has no field for: [{type, target, origin}]",
    },
    "dcsim_decommissioned": {
        "type": "boolean",
        "label": "Decommissioned",
        "description": "the CI is decommissioned (tenants have no status)",
        "object_types": [TENANT],
    },
}
CUSTOM_FIELD_GROUP = "dc-sim"
CHANGELOG_PREFIX = "dc-sim: "

#: Platform tag -> cluster type (name, slug); clusters of other platforms get OTHER_CLUSTER_TYPE.
CLUSTER_TYPES = {"vmware": ("VMware", "vmware"), "openstack": ("OpenStack", "openstack"), "ucs": ("UCS", "ucs")}
OTHER_CLUSTER_TYPE = ("dc-sim", "dcsim")
#: Device roles by slug: a host's ``role`` tag ``bare_metal`` picks bare-metal, anything else hypervisor.
DEVICE_ROLES = {"hypervisor": ("hypervisor", "2196f3"), "bare-metal": ("bare-metal", "795548")}
#: Manufacturer (name, slug) by platform tag, and the device type of hosts without a ``model``.
MANUFACTURERS = {"ucs": ("Cisco", "cisco")}
OTHER_MANUFACTURER = ("dc-sim", "dcsim")
DEFAULT_DEVICE_TYPE = "Simulated host"
#: Where devices and VMs wait until a relationship places them (NetBox requires a site).
UNPLACED_SITE = ("dc-sim unplaced", "dcsim-unplaced")
#: The VRF of dc-sim's prefixes: simulated networks overlap (every OpenStack project may have
#: its 10.0.0.0/24), which NetBox refuses in its global table but allows in such a VRF.
VRF = "dc-sim"
TAG_COLOURS = {
    "env": "4caf50",
    "os": "2196f3",
    "platform": "9c27b0",
    "role": "ff9800",
    "owner": "607d8b",
    "tier": "795548",
}

#: Seconds after which reads reload the index, so that changes made in NetBox itself show.
INDEX_MAX_AGE = 30.0
#: Seconds to connect to NetBox and to wait for an answer.
TIMEOUT = (5.0, 60.0)
PAGE_SIZE = 1000
#: Fields left out of listings: rendering devices' and VMs' config contexts is NetBox's slowest part.
LIST_EXCLUDE = {DEVICE: "config_context", VM: "config_context"}


def ci_id(model: str, netbox_id: int) -> str:
    """The CI id of the NetBox object ``model`` (``dcim.device``) number ``netbox_id``."""
    return f"netbox:{model}:{netbox_id}"


def relationship_id(source_id: str, type: str, target_id: str) -> str:
    """Relationships are unique by (source, type, target), so that is their id."""
    return f"{source_id}~{type}~{target_id}"


@attrs.frozen(kw_only=True)
class _View:
    """What a NetBox object says as a CI: from the API or from a change log snapshot."""

    model: str
    ci_type: str | None
    name: str
    status: CiStatus
    attributes: dict[str, Any]
    tags: dict[str, str]
    source: str
    source_id: str | None
    #: Relationship fields (SLOTS) -> NetBox id of the target.
    slots: dict[str, int]
    #: dcsim_relationships: [{type, target, origin}].
    extra: list[dict[str, str]]

    def ci_fields(self) -> dict[str, Any]:
        """The CI as history shows it."""
        return {
            "type": self.ci_type,
            "name": self.name,
            "status": self.status.value,
            "attributes": self.attributes,
            "tags": self.tags,
            "source": self.source,
            "source_id": self.source_id,
        }

    def relationships(self, source_id: str) -> dict[str, dict[str, str]]:
        """Relationship id -> relationship (as JSON) of every relationship the object holds."""
        held = [
            (rel_type, ci_id(target_model, self.slots[field]), _slot_origin(self.source))
            for (_, rel_type), (field, target_model) in _slots_of(self.model)
            if field in self.slots
        ]
        held += [(rel["type"], rel["target"], rel["origin"]) for rel in self.extra]
        return {
            relationship_id(source_id, rel_type, target): {
                "id": relationship_id(source_id, rel_type, target),
                "type": rel_type,
                "source_id": source_id,
                "target_id": target,
                "origin": origin,
            }
            for rel_type, target, origin in held
        }


@attrs.define(kw_only=True)
class _Record:
    """One dc-sim object in NetBox, as the index holds it."""

    model: str
    netbox_id: int
    ci: Ci
    view: _View
    #: Placement fields not read as relationships: a device's and a VM's site, a VM's cluster.
    site: int | None = None
    cluster: int | None = None
    #: Tags on the object that are not CI tags (people's own): kept on every write.
    other_tags: list[int] = attrs.field(factory=list)


def _slots_of(model: str) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    return [(key, slot) for key, slot in SLOTS.items() if key[0] == model]


def _slot_origin(source: str) -> str:
    """The origin of relationships held in NetBox fields: NetBox has no room to say more.

    Only sync's own relationships of sync-made CIs, and people's relationships of CIs made
    by hand, go into those fields (see ``_slot_for``), so the CI's source tells which.
    """
    return "sim" if source == "sim" else "manual"


def _value(value: Any) -> Any:
    """A choice's value: a dict in API answers, a plain value in change log snapshots."""
    return value["value"] if isinstance(value, dict) else value


def _ref(value: Any) -> int | None:
    """A foreign key's id: a nested object in API answers, a number in snapshots."""
    if isinstance(value, dict):
        return int(value["id"])
    return int(value) if isinstance(value, int) else None


def _tag_names(tags: Iterable[Any]) -> list[str]:
    return [tag["name"] if isinstance(tag, dict) else str(tag) for tag in tags]


def _ci_tags(names: Iterable[str]) -> dict[str, str]:
    """CI tags from NetBox tag names ``key:value`` with a known key; other tags are people's own."""
    tags = {}
    for name in names:
        key, sep, value = name.partition(":")
        if sep and key in TAG_KEYS and value:
            tags[key] = value
    return tags


def _view(model: str, data: dict[str, Any], site_type: int | None) -> _View:
    """Read a NetBox object (an API answer or a change log snapshot) as a CI."""
    custom = data.get("custom_fields") or {}
    status = _value(data.get("status"))
    decommissioned = status in MODELS[model].decommissioned or bool(custom.get("dcsim_decommissioned"))
    slots: dict[str, int] = {}
    for _, (field, _target) in _slots_of(model):
        if field == "scope":
            # A scope is a site, a region, a location ...: only a site is a datacenter CI.
            if data.get("scope_type") in (SITE, site_type) and isinstance(data.get("scope_id"), int):
                slots[field] = data["scope_id"]
        elif (target := _ref(data.get(field))) is not None:
            slots[field] = target
    attributes = custom.get("dcsim_attributes")
    return _View(
        model=model,
        ci_type=custom.get("dcsim_ci_type") or None,
        # Prefixes have no name: the description carries the CI's.
        name=str(data.get("description" if model == PREFIX else "name") or ""),
        status=CiStatus.DECOMMISSIONED if decommissioned else CiStatus.ACTIVE,
        attributes=dict(attributes) if isinstance(attributes, dict) else {},
        tags=_ci_tags(_tag_names(data.get("tags") or [])),
        source=custom.get("dcsim_source") or "manual",
        source_id=custom.get("dcsim_source_id") or None,
        slots=slots,
        extra=_extra(custom.get("dcsim_relationships")),
    )


def _extra(value: Any) -> list[dict[str, str]]:
    """dcsim_relationships as written by dc-sim; entries people mangled in NetBox are skipped."""
    keys = ("type", "target", "origin")
    entries = value if isinstance(value, list) else []
    return [
        {key: entry[key] for key in keys}
        for entry in entries
        if isinstance(entry, dict) and all(isinstance(entry.get(key), str) for key in keys)
    ]


def _record(model: str, data: dict[str, Any]) -> _Record:
    """The index entry of an API answer (which names scopes by object type, not by number)."""
    view = _view(model, data, None)
    ci = Ci(
        id=ci_id(model, data["id"]),
        type=view.ci_type or "",
        name=view.name,
        status=view.status,
        attributes=view.attributes,
        tags=view.tags,
        source=view.source,
        source_id=view.source_id,
        created_at=datetime.fromisoformat(data["created"]),
        updated_at=datetime.fromisoformat(data["last_updated"]),
    )
    return _Record(
        model=model,
        netbox_id=data["id"],
        ci=ci,
        view=view,
        site=_ref(data.get("site")) if model in (DEVICE, VM) else None,
        cluster=_ref(data.get("cluster")) if model == VM else None,
        other_tags=[tag["id"] for tag in data.get("tags") or [] if not _ci_tags([tag["name"]])],
    )


def slugify(text: str) -> str:
    """A NetBox slug: lower-case letters, digits, ``-`` and ``_``."""
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")[:100] or "ci"


def tag_slug(key: str, value: str) -> str:
    """The slug of tag ``key:value``, with a digest when slugging loses characters (``A b`` vs ``a-b``)."""
    if re.fullmatch(r"[a-z0-9_-]+", value):
        return f"{key}-{value}"[:100]
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{key}-{slugify(value)[:80]}-{digest}"


def _vid(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4094 else None


def _cidr(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return None


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def _model_for(ci: Ci) -> str:
    """The NetBox object type a new CI becomes; it stays that type for the CI's life."""
    if ci.type in NATIVE_MODELS:
        return NATIVE_MODELS[ci.type]
    if ci.type == "network":
        if _vid(ci.attributes.get("vlan")):
            return VLAN
        if _cidr(ci.attributes.get("cidr")):
            return PREFIX
    return TENANT


def _message(error: Any) -> str:
    """NetBox's validation errors ({field: [messages]}) as one line."""
    try:
        parsed = json.loads(error) if isinstance(error, str) else error
    except ValueError:
        return str(error)
    if isinstance(parsed, dict):
        parts = []
        for field, messages in parsed.items():
            text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(text if field in ("__all__", "detail", "non_field_errors") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(parsed, list):
        return "; ".join(_message(item) for item in parsed)
    return str(parsed)


class NetboxCmdb(CmdbBackend):
    """CMDB records in a NetBox (4.x), read and written with pynetbox."""

    name = "netbox"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.netbox_url or not settings.netbox_token:
            raise ConfigError("cmdb_backend 'netbox' needs the netbox_url and netbox_token settings")
        self.url = settings.netbox_url.rstrip("/")
        self._token = settings.netbox_token
        self._api: Any = None
        self._pynetbox: Any = None
        self._requests: Any = None
        self._lock = asyncio.Lock()
        self._records: dict[str, _Record] = {}
        self._by_source: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._ci_types: list[str] = []
        # What start() bootstraps, and what writes create on demand, by name or slug -> id.
        self._site_type: int | None = None
        self._unplaced_site = 0
        self._vrf = 0
        self._cluster_types: dict[str, int] = {}
        self._roles: dict[str, int] = {}
        self._manufacturers: dict[str, int] = {}
        self._device_types: dict[tuple[int, str], int] = {}
        self._tenant_groups: dict[str, int] = {}
        self._tags: dict[str, int] = {}

    # Lifecycle ------------------------------------------------------------------------

    async def start(self, dcsim: DcSim) -> None:
        """Connect, create what dc-sim needs in NetBox (idempotent) and load the index.

        Called again by the CMDB service after NetBox was unreachable, so it starts over.
        """
        try:
            self._pynetbox = importlib.import_module("pynetbox")
        except ImportError as exc:
            raise ConfigError("the netbox CMDB backend needs pynetbox: pip install 'dcsim-core[netbox]'") from exc
        self._requests = importlib.import_module("requests")
        api = self._pynetbox.api(self.url, token=self._token)
        # requests has no session-wide timeout, and a NetBox that hangs must not hang dc-sim.
        api.http_session.request = functools.partial(api.http_session.request, timeout=TIMEOUT)
        self._ci_types = sorted(dcsim.cmdb_types.ci_types)
        async with self._lock:
            # Swapped under the lock, so that no write is using the client it replaces.
            old, self._api = self._api, api
            if old is not None:
                old.http_session.close()
            # NetBox may have come back with other data (a restored database): look again.
            self._tags, self._device_types = {}, {}
            await self._run(self._bootstrap)
            await self._reload()

    async def close(self) -> None:
        if self._api is not None:
            self._api.http_session.close()
            self._api = None

    async def ping(self) -> None:
        if self._api is None:
            raise Unavailable(f"NetBox at {self.url} is not connected yet")
        await self._run(self._api.status)

    # Reads ----------------------------------------------------------------------------

    async def list_cis(self, query: CiQuery) -> tuple[int, list[Ci]]:
        await self._reload_if_stale()
        matching = sorted(
            (record.ci for record in self._records.values() if query.matches(record.ci)),
            key=lambda ci: (ci.type, ci.name),
        )
        return len(matching), matching[query.offset : query.offset + query.limit]

    async def get_ci(self, ci_id: str) -> Ci:
        await self._reload_if_stale()
        return self._get(ci_id).ci

    async def find_by_source(self, source_id: str) -> Ci | None:
        await self._reload_if_stale()
        found = self._by_source.get(source_id)
        return self._records[found].ci if found else None

    async def relationships(self, ci_id: str | None = None) -> list[Relationship]:
        await self._reload_if_stale()
        found = [rel for record in self._records.values() for rel in self._relationships_of(record)]
        return found if ci_id is None else [r for r in found if ci_id in (r.source_id, r.target_id)]

    async def history(self, ci_id: str) -> list[HistoryEntry]:
        """The CI's NetBox change log: who (the dc-sim actor, or ``netbox:<user>`` for
        changes made in NetBox), when, and before and after of the CI's fields."""
        await self._reload_if_stale()
        record = self._get(ci_id)
        changes = await self._run(self._object_changes, record.model, record.netbox_id)
        entries: list[HistoryEntry] = []
        for change in changes:
            entries += self._history_entries(record, change)
        return entries

    # Writes ---------------------------------------------------------------------------

    async def create_ci(self, ci: Ci, actor: str) -> Ci:
        check_tags(ci.tags)
        await self._reload_if_stale()
        async with self._lock:
            if ci.source_id and ci.source_id in self._by_source:
                raise Conflict(f"a CI already mirrors {ci.source_id}")
            model = _model_for(ci)
            payload = self._placement(model, ci, {}, None)
            data = await self._run(self._write, model, None, ci, payload, [], [], actor)
            return self._index(_record(model, data)).ci

    async def update_ci(self, ci_id: str, changes: dict[str, Any], actor: str) -> Ci:
        editable = ("name", "attributes", "tags", "status")
        unknown = sorted(set(changes) - set(editable))
        if unknown:
            raise InvalidInput(f"cannot change {unknown}; editable: {', '.join(editable)}")
        if "tags" in changes:
            check_tags(changes["tags"])
        await self._reload_if_stale()
        async with self._lock:
            record = self._get(ci_id)
            before = to_json(record.ci)
            updated = converter.structure({**before, **to_json(changes), "updated_at": utcnow().isoformat()}, Ci)
            after = to_json(updated)
            if all(before[key] == after[key] for key in editable):
                return record.ci
            return await self._rewrite(record, updated, record.view.slots, record.view.extra, actor)

    async def add_relationship(self, relationship: Relationship, actor: str) -> Relationship:
        await self._reload_if_stale()
        async with self._lock:
            source = self._get(relationship.source_id)
            target = self._get(relationship.target_id)
            rel_id = relationship_id(source.ci.id, relationship.type, target.ci.id)
            if any(rel.id == rel_id for rel in self._relationships_of(source)):
                raise Conflict("that relationship already exists")
            slots, extra = dict(source.view.slots), list(source.view.extra)
            field = self._slot_for(source, relationship.type, target, relationship.origin)
            if field is None:
                extra.append({"type": relationship.type, "target": target.ci.id, "origin": relationship.origin})
            else:
                # The newest wins the field; the one it held moves to dcsim_relationships
                # (sync removes it next when the simulation moved on).
                held = slots.get(field)
                held_id = ci_id(SLOTS[(source.model, relationship.type)][1], held) if held else None
                if held_id in self._records:
                    extra.append(
                        {"type": relationship.type, "target": held_id, "origin": _slot_origin(source.ci.source)}
                    )
                slots[field] = target.netbox_id
            await self._rewrite(source, source.ci, slots, extra, actor)
            return attrs.evolve(relationship, id=rel_id)

    async def remove_relationship(self, relationship_id: str, actor: str) -> None:
        await self._reload_if_stale()
        async with self._lock:
            source_id, _, rest = relationship_id.partition("~")
            rel_type, _, target_id = rest.partition("~")
            source = self._records.get(source_id)
            if source is None or not any(rel.id == relationship_id for rel in self._relationships_of(source)):
                raise NotFound(f"no relationship {relationship_id!r}")
            slots, extra = dict(source.view.slots), list(source.view.extra)
            kept = [rel for rel in extra if (rel["type"], rel["target"]) != (rel_type, target_id)]
            if len(kept) == len(extra):
                field = SLOTS[(source.model, rel_type)][0]
                del slots[field]
                # Another relationship of the type may take the field it frees.
                for rel in kept:
                    candidate = self._records.get(rel["target"])
                    if (
                        rel["type"] == rel_type
                        and candidate
                        and self._slot_for(source, rel_type, candidate, rel["origin"])
                    ):
                        slots[field] = candidate.netbox_id
                        kept.remove(rel)
                        break
            await self._rewrite(source, source.ci, slots, kept, actor)

    # The index ------------------------------------------------------------------------

    def _get(self, ci_id: str) -> _Record:
        try:
            return self._records[ci_id]
        except KeyError:
            raise NotFound(f"no CI {ci_id!r}") from None

    def _index(self, record: _Record) -> _Record:
        self._records[record.ci.id] = record
        if record.ci.source_id:
            self._by_source[record.ci.source_id] = record.ci.id
        return record

    async def _reload_if_stale(self) -> None:
        if time.monotonic() - self._loaded_at > INDEX_MAX_AGE:
            async with self._lock:
                if time.monotonic() - self._loaded_at > INDEX_MAX_AGE:
                    await self._reload()

    async def _reload(self) -> None:
        """Load every dc-sim object, one listing per object type, in parallel."""
        if self._api is None:
            raise Unavailable(f"NetBox at {self.url} is not connected yet")
        listings = await asyncio.gather(*(self._run(self._list_managed, model) for model in MODELS))
        self._records, self._by_source = {}, {}
        for model, items in zip(MODELS, listings, strict=True):
            for data in items:
                self._index(_record(model, data))
        self._loaded_at = time.monotonic()

    def _relationships_of(self, record: _Record) -> list[Relationship]:
        """The relationships ``record`` holds whose target is a CI (a NetBox object dc-sim knows)."""
        held = record.view.relationships(record.ci.id).values()
        return [Relationship(**rel) for rel in held if rel["target_id"] in self._records]

    def _slot_for(self, source: _Record, rel_type: str, target: _Record, origin: str) -> str | None:
        """The NetBox field to hold the relationship, None when dcsim_relationships must."""
        field, target_model = SLOTS.get((source.model, rel_type), ("", ""))
        if target.model != target_model or origin != _slot_origin(source.ci.source):
            return None
        return field

    def _placement(self, model: str, ci: Ci, slots: dict[str, int], record: _Record | None) -> dict[str, Any]:
        """The NetBox fields that place the object, from its relationship fields and the index.

        NetBox requires a device's site to be its cluster's, and a VM's cluster and site
        to be its device's. A device or VM that nothing places yet waits in the
        ``dc-sim unplaced`` site. A decommissioned VM leaves its cluster, so that a new
        VM of the same name can join it (NetBox names VMs uniquely per cluster).
        """
        if model in (SITE, TENANT):
            return {}
        if model in (CLUSTER, PREFIX):
            scope = slots.get("scope")
            return {"scope_type": SITE if scope else None, "scope_id": scope}
        if model == VLAN:
            return {"site": slots.get("site")}
        current_site = (record.site if record else None) or self._unplaced_site
        if model == DEVICE:
            cluster = self._records.get(ci_id(CLUSTER, slots["cluster"])) if "cluster" in slots else None
            site = cluster.view.slots.get("scope") if cluster else None
            return {"cluster": slots.get("cluster"), "site": site or current_site}
        device_id = slots.get("device")
        device = self._records.get(ci_id(DEVICE, device_id)) if device_id else None
        if device is not None:
            return {"device": device_id, "cluster": device.view.slots.get("cluster"), "site": device.site}
        if device_id is not None:  # a device dc-sim does not manage: its placement is NetBox's business
            return {"device": device_id}
        kept_cluster = None if ci.status is CiStatus.DECOMMISSIONED or record is None else record.cluster
        return {"device": None, "cluster": kept_cluster, "site": current_site}

    async def _rewrite(
        self, record: _Record, ci: Ci, slots: dict[str, int], extra: list[dict[str, str]], actor: str
    ) -> Ci:
        """Write ``record`` as ``ci`` with these relationships; a cluster moving to another
        site takes its member devices along first (NetBox refuses a cluster whose hosts are
        elsewhere)."""
        payload = self._placement(record.model, ci, slots, record)
        if record.model == CLUSTER and slots.get("scope") not in (None, record.view.slots.get("scope")):
            site = slots["scope"]
            members = [
                other
                for other in self._records.values()
                if other.model == DEVICE and other.view.slots.get("cluster") == record.netbox_id and other.site != site
            ]
            if members:
                moved = await self._run(self._move_devices, record, [m.netbox_id for m in members], site, actor)
                for data in moved:
                    self._index(_record(DEVICE, data))
        data = await self._run(
            self._write, record.model, record.netbox_id, ci, payload, extra, record.other_tags, actor
        )
        return self._index(_record(record.model, data)).ci

    # History --------------------------------------------------------------------------

    def _history_entries(self, record: _Record, change: dict[str, Any]) -> list[HistoryEntry]:
        """The CI history of one NetBox object change (none when no CI field changed)."""
        message = change.get("message") or ""
        actor = message[len(CHANGELOG_PREFIX) :] if message.startswith(CHANGELOG_PREFIX) else None
        key = f"netbox:change:{change['id']}"

        def entry(action: str, suffix: str = "", **change_data: dict[str, Any]) -> HistoryEntry:
            return HistoryEntry(
                id=key + suffix,
                ci_id=record.ci.id,
                at=datetime.fromisoformat(change["time"]),
                actor=actor or f"netbox:{change.get('user_name') or 'unknown'}",
                action=action,
                **change_data,
            )

        snapshots = [change.get(name) for name in ("prechange_data", "postchange_data")]
        pre, post = (_view(record.model, data, self._site_type) if data else None for data in snapshots)
        action = _value(change["action"])
        if action == "create" and post is not None:
            return [entry("created", after=post.ci_fields())]
        if pre is None:
            return []
        if action == "delete" or post is None:
            return [entry("decommissioned", before=pre.ci_fields())]
        entries = []
        before, after = pre.ci_fields(), post.ci_fields()
        changed = [field for field in ("name", "attributes", "tags", "status") if before[field] != after[field]]
        if changed:
            name = "updated"
            if pre.status is not post.status:
                name = "decommissioned" if post.status is CiStatus.DECOMMISSIONED else "recommissioned"
            entries.append(entry(name, before={f: before[f] for f in changed}, after={f: after[f] for f in changed}))
        old, new = pre.relationships(record.ci.id), post.relationships(record.ci.id)
        entries += [entry("relationship_added", f"+{rel}", after=new[rel]) for rel in sorted(new.keys() - old.keys())]
        entries += [
            entry("relationship_removed", f"-{rel}", before=old[rel]) for rel in sorted(old.keys() - new.keys())
        ]
        return entries

    # NetBox calls (blocking: run in a worker thread by _run) ----------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._call, fn, *args)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Call NetBox; its failures become dc-sim errors.

        Unreachable, a 5xx, or a refused token (it needs fixing in NetBox, and dc-sim
        keeps retrying meanwhile) is Unavailable; a 400 is the caller's InvalidInput, or
        a Conflict when NetBox says something of the name already exists.
        """
        try:
            return fn(*args)
        except self._pynetbox.RequestError as exc:
            raise self._error(exc.req.status_code, _message(exc.error)) from exc
        except self._pynetbox.ContentError as exc:
            raise Unavailable(f"NetBox at {self.url} did not answer JSON: {exc}") from exc
        except self._requests.RequestException as exc:
            raise Unavailable(f"NetBox at {self.url} is unreachable: {exc}") from exc

    def _error(self, status: int, message: str) -> DcsimError:
        if status >= 500 or status in (401, 403):
            return Unavailable(f"NetBox at {self.url} answered {status}: {message}")
        if status == 404:
            return NotFound(f"NetBox: {message}")
        if status == 409 or "already exists" in message or "must be unique" in message:
            return Conflict(f"NetBox: {message}")
        return InvalidInput(f"NetBox: {message}")

    def _endpoint(self, model: str) -> Any:
        return getattr(getattr(self._api, MODELS[model].app), MODELS[model].endpoint)

    def _list_managed(self, model: str) -> list[dict[str, Any]]:
        extra = {"exclude": LIST_EXCLUDE[model]} if model in LIST_EXCLUDE else {}
        found = self._endpoint(model).filter(cf_dcsim_ci_type=self._ci_types, limit=PAGE_SIZE, **extra)
        return [dict(item) for item in found]

    def _object_changes(self, model: str, netbox_id: int) -> list[dict[str, Any]]:
        found = self._api.core.object_changes.filter(
            changed_object_type=model, changed_object_id=netbox_id, limit=PAGE_SIZE
        )
        return sorted((dict(change) for change in found), key=lambda change: (change["time"], change["id"]))

    def _bootstrap(self) -> None:
        """Create the custom fields, cluster types, device roles, manufacturers, device type,
        tenant groups and the unplaced site that dc-sim needs, unless they exist."""
        api, message = self._api, CHANGELOG_PREFIX + "bootstrap"
        self._ensure_custom_fields(message)
        self._site_type = api.core.object_types.get(app_label="dcim", model="site").id
        cluster_types = [*CLUSTER_TYPES.values(), OTHER_CLUSTER_TYPE]
        self._cluster_types = self._ensure(api.virtualization.cluster_types, {s: {"name": n} for n, s in cluster_types})
        roles = {slug: {"name": name, "color": colour} for slug, (name, colour) in DEVICE_ROLES.items()}
        self._roles = self._ensure(api.dcim.device_roles, roles)
        manufacturers = [*MANUFACTURERS.values(), OTHER_MANUFACTURER]
        self._manufacturers = self._ensure(api.dcim.manufacturers, {s: {"name": n} for n, s in manufacturers})
        name, slug = UNPLACED_SITE
        description = "dc-sim places devices and VMs here until their cluster or host is known"
        self._unplaced_site = self._ensure(
            api.dcim.sites, {slug: {"name": name, "status": "planned", "description": description}}
        )[slug]
        vrf = api.ipam.vrfs.get(name=VRF) or api.ipam.vrfs.create(
            name=VRF, enforce_unique=False, description="the simulated datacenter's networks", changelog_message=message
        )
        self._vrf = vrf.id
        without_model = [ci_type for ci_type in self._ci_types if ci_type not in NATIVE_MODELS]
        self._tenant_groups = self._ensure(
            api.tenancy.tenant_groups,
            {f"dcsim-{slugify(ci_type)}": {"name": f"dc-sim {ci_type}"} for ci_type in without_model},
        )
        self._device_type(OTHER_MANUFACTURER[1], DEFAULT_DEVICE_TYPE)

    def _ensure_custom_fields(self, message: str) -> None:
        wanted = {
            name: {**spec, "object_types": spec.get("object_types", list(MODELS)), "group_name": CUSTOM_FIELD_GROUP}
            for name, spec in CUSTOM_FIELDS.items()
        }
        endpoint = self._api.extras.custom_fields
        existing = {field.name: field for field in endpoint.filter(name=list(wanted))}
        updates = [
            {"id": field.id, "object_types": sorted({*field.object_types, *wanted[name]["object_types"]})}
            for name, field in existing.items()
            if not set(wanted[name]["object_types"]) <= set(field.object_types)
        ]
        if updates:
            endpoint.update([{**update, "changelog_message": message} for update in updates])
        missing = [
            {"name": name, **spec, "changelog_message": message}
            for name, spec in wanted.items()
            if name not in existing
        ]
        if missing:
            endpoint.create(missing)

    def _ensure(self, endpoint: Any, wanted: dict[str, dict[str, Any]]) -> dict[str, int]:
        """Slug -> id of objects that must exist, created when they do not (one call each way)."""
        found = {item.slug: item.id for item in endpoint.filter(slug=list(wanted), limit=PAGE_SIZE)}
        missing = [
            {"slug": slug, **fields, "changelog_message": CHANGELOG_PREFIX + "bootstrap"}
            for slug, fields in wanted.items()
            if slug not in found
        ]
        if missing:
            found |= {item.slug: item.id for item in endpoint.create(missing)}
        return found

    def _device_type(self, manufacturer_slug: str, model: str) -> int:
        manufacturer = self._manufacturers[manufacturer_slug]
        key = (manufacturer, model)
        if key not in self._device_types:
            endpoint = self._api.dcim.device_types
            existing = endpoint.get(manufacturer_id=manufacturer, model=model)
            if existing is None:
                # Height 0: simulated hosts sit in no rack.
                fields = {"manufacturer": manufacturer, "model": model, "slug": slugify(model), "u_height": 0}
                existing = endpoint.create(**fields, changelog_message=CHANGELOG_PREFIX + "bootstrap")
            self._device_types[key] = existing.id
        return self._device_types[key]

    def _tag_ids(self, tags: dict[str, str]) -> list[int]:
        """Ids of the NetBox tags ``key:value`` of ``tags``, created when missing."""
        names = {f"{key}:{value}": (key, value) for key, value in tags.items()}
        missing = [name for name in names if name not in self._tags]
        if missing:
            endpoint = self._api.extras.tags
            self._tags |= {tag.name: tag.id for tag in endpoint.filter(name=missing, limit=PAGE_SIZE)}
            new = [
                {
                    "name": name,
                    "slug": tag_slug(*names[name]),
                    "color": TAG_COLOURS.get(names[name][0], "9e9e9e"),
                    "description": "a dc-sim CI tag",
                    "changelog_message": CHANGELOG_PREFIX + "bootstrap",
                }
                for name in missing
                if name not in self._tags
            ]
            if new:
                self._tags |= {tag.name: tag.id for tag in endpoint.create(new)}
        return sorted(self._tags[name] for name in names)

    def _tenant_group(self, ci_type: str) -> int:
        slug = f"dcsim-{slugify(ci_type)}"
        if slug not in self._tenant_groups:
            self._tenant_groups |= self._ensure(self._api.tenancy.tenant_groups, {slug: {"name": f"dc-sim {ci_type}"}})
        return self._tenant_groups[slug]

    def _fields(self, model: str, ci: Ci) -> dict[str, Any]:
        """The NetBox fields that say the CI's name, status, attributes and tags."""
        decommissioned = ci.status is CiStatus.DECOMMISSIONED
        status = MODELS[model].decommissioned[0] if decommissioned and model != TENANT else "active"
        attributes, tags = ci.attributes, ci.tags
        power = attributes.get("power_state")
        if model == SITE:
            return {"name": ci.name, "status": status}
        if model == CLUSTER:
            slug = CLUSTER_TYPES.get(tags.get("platform", ""), OTHER_CLUSTER_TYPE)[1]
            return {"name": ci.name, "status": status, "type": self._cluster_types[slug]}
        if model == DEVICE:
            if not decommissioned and attributes.get("status") == "failed":
                status = "failed"
            elif not decommissioned and power in ("off", "suspended"):
                status = "offline"
            manufacturer = MANUFACTURERS.get(tags.get("platform", ""), OTHER_MANUFACTURER)[1]
            model_name = attributes.get("model") if isinstance(attributes.get("model"), str) else None
            return {
                "name": ci.name,
                "status": status,
                "role": self._roles["bare-metal" if tags.get("role") == "bare_metal" else "hypervisor"],
                "device_type": self._device_type(manufacturer, model_name or DEFAULT_DEVICE_TYPE),
                "serial": str(attributes.get("serial") or "")[:50],
            }
        if model == VM:
            if not decommissioned:
                status = {"off": "offline", "suspended": "paused"}.get(str(power), "active")
            return {
                "name": ci.name,
                "status": status,
                "vcpus": _number(attributes.get("cpu")),
                "memory": _number(attributes.get("memory_mb")),
            }
        if model == VLAN:
            fields: dict[str, Any] = {"name": ci.name, "status": status}
            if vid := _vid(attributes.get("vlan")):
                fields["vid"] = vid
            return fields
        if model == PREFIX:
            fields = {"description": ci.name, "status": status, "vrf": self._vrf}
            if cidr := _cidr(attributes.get("cidr")):
                fields["prefix"] = cidr
            return fields
        return {"name": ci.name, "group": self._tenant_group(ci.type)}

    def _write(
        self,
        model: str,
        netbox_id: int | None,
        ci: Ci,
        placement: dict[str, Any],
        extra: list[dict[str, str]],
        other_tags: list[int],
        actor: str,
    ) -> dict[str, Any]:
        """Create (``netbox_id`` None) or update the object of ``ci``; return NetBox's answer."""
        custom: dict[str, Any] = {
            "dcsim_ci_type": ci.type,
            "dcsim_source": ci.source,
            "dcsim_source_id": ci.source_id,
            "dcsim_attributes": ci.attributes,
            "dcsim_relationships": sorted(extra, key=lambda rel: (rel["type"], rel["target"])) or None,
        }
        if model == TENANT:
            custom["dcsim_decommissioned"] = ci.status is CiStatus.DECOMMISSIONED
        payload = {
            **self._fields(model, ci),
            **placement,
            "tags": sorted({*self._tag_ids(ci.tags), *other_tags}),
            "custom_fields": custom,
            "changelog_message": (CHANGELOG_PREFIX + actor)[:200],
        }
        endpoint = self._endpoint(model)
        if netbox_id is None:
            if model in (SITE, TENANT):
                payload["slug"] = slugify(ci.name)
            data = dict(endpoint.create(payload))
        else:
            data = dict(endpoint.update([{"id": netbox_id, **payload}])[0])
        if model == VLAN:
            self._write_vlan_prefix(data, ci, actor)
        return data

    def _write_vlan_prefix(self, vlan: dict[str, Any], ci: Ci, actor: str) -> None:
        """Keep the Prefix of a VLAN network's CIDR: on the VLAN, in its site, marked by
        ``dcsim_source_id`` = the CI's id (and no CI type: it is part of the VLAN's CI)."""
        endpoint = self._api.ipam.prefixes
        owner = ci_id(VLAN, vlan["id"])
        existing = [dict(item) for item in endpoint.filter(vlan_id=vlan["id"], cf_dcsim_source_id=owner)]
        cidr = _cidr(ci.attributes.get("cidr"))
        message = (CHANGELOG_PREFIX + actor)[:200]
        if cidr is None:
            if existing:
                endpoint.delete([item["id"] for item in existing])
            return
        site = _ref(vlan.get("site"))
        payload = {
            "prefix": cidr,
            "vlan": vlan["id"],
            "vrf": self._vrf,
            "description": ci.name,
            "status": _value(vlan["status"]),
            "scope_type": SITE if site else None,
            "scope_id": site,
            "tags": [tag["id"] for tag in vlan.get("tags") or []],
            "custom_fields": {"dcsim_source_id": owner},
            "changelog_message": message,
        }
        if existing:
            first, *rest = existing
            endpoint.update([{"id": first["id"], **payload}])
            if rest:
                endpoint.delete([item["id"] for item in rest])
        else:
            endpoint.create(payload)

    def _move_devices(self, cluster: _Record, devices: list[int], site: int, actor: str) -> list[dict[str, Any]]:
        """Move a cluster's member devices to ``site`` before the cluster moves there.

        NetBox checks each device's site against its cluster's: a cluster in another site
        leaves that site for the move.
        """
        message = (CHANGELOG_PREFIX + actor)[:200]
        if cluster.view.slots.get("scope") is not None:
            self._endpoint(CLUSTER).update(
                [{"id": cluster.netbox_id, "scope_type": None, "scope_id": None, "changelog_message": message}]
            )
        moved = self._endpoint(DEVICE).update([{"id": d, "site": site, "changelog_message": message} for d in devices])
        return [dict(item) for item in moved]
