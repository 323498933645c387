"""How dc-sim's CIs sit in NetBox: object types, relationship fields, ids, and reading
an object (an API answer or a change log snapshot) back as a CI.

Pure data and functions: no NetBox calls here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from dcsim.cmdb.model import TAG_KEYS, Ci, CiStatus

SITE = "dcim.site"
CLUSTER = "virtualization.cluster"
DEVICE = "dcim.device"
VM = "virtualization.virtualmachine"
VLAN = "ipam.vlan"
PREFIX = "ipam.prefix"
TENANT = "tenancy.tenant"

#: The NetBox object type of each CI type that has a model of its own (network: see model_for).
NATIVE_MODELS = {"datacenter": SITE, "cluster": CLUSTER, "host": DEVICE, "vm": VM}


@attrs.frozen
class NetboxModel:
    """A NetBox model CIs are stored as: its API endpoint and how it says decommissioned."""

    app: str
    endpoint: str
    #: Statuses that read as decommissioned; the first is the one dc-sim writes.
    decommissioned: tuple[str, ...] = ()


MODELS = {
    SITE: NetboxModel("dcim", "sites", ("decommissioning", "retired")),
    CLUSTER: NetboxModel("virtualization", "clusters", ("decommissioning",)),
    DEVICE: NetboxModel("dcim", "devices", ("decommissioning",)),
    VM: NetboxModel("virtualization", "virtual_machines", ("decommissioning",)),
    VLAN: NetboxModel("ipam", "vlans", ("deprecated",)),
    PREFIX: NetboxModel("ipam", "prefixes", ("deprecated",)),
    # Tenants have no status: the dcsim_decommissioned custom field says it.
    TENANT: NetboxModel("tenancy", "tenants"),
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

#: The custom fields dc-sim keeps on its objects (group CUSTOM_FIELD_GROUP).
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
#: Change log messages of dc-sim's writes start with this; the rest names the actor.
CHANGELOG_PREFIX = "dc-sim: "


def ci_id(model: str, netbox_id: int) -> str:
    """The CI id of the NetBox object ``model`` (``dcim.device``) number ``netbox_id``."""
    return f"netbox:{model}:{netbox_id}"


def relationship_id(source_id: str, type: str, target_id: str) -> str:
    """Relationships are unique by (source, type, target), so that is their id."""
    return f"{source_id}~{type}~{target_id}"


@attrs.frozen(kw_only=True)
class View:
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
            (rel_type, ci_id(target_model, self.slots[field]), slot_origin(self.source))
            for (_, rel_type), (field, target_model) in slots_of(self.model)
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
class IndexRecord:
    """One dc-sim object in NetBox, as the index holds it."""

    model: str
    netbox_id: int
    ci: Ci
    view: View
    #: Placement fields not read as relationships: a device's and a VM's site, a VM's cluster.
    site: int | None = None
    cluster: int | None = None
    #: Tags on the object that are not CI tags (people's own): kept on every write.
    other_tags: list[int] = attrs.field(factory=list)


def slots_of(model: str) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    return [(key, slot) for key, slot in SLOTS.items() if key[0] == model]


def slot_origin(source: str) -> str:
    """The origin of relationships held in NetBox fields: NetBox has no room to say more.

    Only sync's own relationships of sync-made CIs, and people's relationships of CIs made
    by hand, go into those fields (see ``NetboxCmdb._slot_for``), so the CI's source tells which.
    """
    return "sim" if source == "sim" else "manual"


def choice_value(value: Any) -> Any:
    """A choice's value: a dict in API answers, a plain value in change log snapshots."""
    return value["value"] if isinstance(value, dict) else value


def ref(value: Any) -> int | None:
    """A foreign key's id: a nested object in API answers, a number in snapshots."""
    if isinstance(value, dict):
        return int(value["id"])
    return int(value) if isinstance(value, int) else None


def tag_names(tags: Iterable[Any]) -> list[str]:
    return [tag["name"] if isinstance(tag, dict) else str(tag) for tag in tags]


def ci_tags(names: Iterable[str]) -> dict[str, str]:
    """CI tags from NetBox tag names ``key:value`` with a known key; other tags are people's own."""
    tags = {}
    for name in names:
        key, sep, value = name.partition(":")
        if sep and key in TAG_KEYS and value:
            tags[key] = value
    return tags


def read_view(model: str, data: dict[str, Any], site_type: int | None) -> View:
    """Read a NetBox object (an API answer or a change log snapshot) as a CI."""
    custom = data.get("custom_fields") or {}
    status = choice_value(data.get("status"))
    decommissioned = status in MODELS[model].decommissioned or bool(custom.get("dcsim_decommissioned"))
    slots: dict[str, int] = {}
    for _, (field, _target) in slots_of(model):
        if field == "scope":
            # A scope is a site, a region, a location ...: only a site is a datacenter CI.
            if data.get("scope_type") in (SITE, site_type) and isinstance(data.get("scope_id"), int):
                slots[field] = data["scope_id"]
        elif (target := ref(data.get(field))) is not None:
            slots[field] = target
    attributes = custom.get("dcsim_attributes")
    return View(
        model=model,
        ci_type=custom.get("dcsim_ci_type") or None,
        # Prefixes have no name: the description carries the CI's.
        name=str(data.get("description" if model == PREFIX else "name") or ""),
        status=CiStatus.DECOMMISSIONED if decommissioned else CiStatus.ACTIVE,
        attributes=dict(attributes) if isinstance(attributes, dict) else {},
        tags=ci_tags(tag_names(data.get("tags") or [])),
        source=custom.get("dcsim_source") or "manual",
        source_id=custom.get("dcsim_source_id") or None,
        slots=slots,
        extra=read_extra(custom.get("dcsim_relationships")),
    )


def read_extra(value: Any) -> list[dict[str, str]]:
    """dcsim_relationships as written by dc-sim; entries people mangled in NetBox are skipped."""
    keys = ("type", "target", "origin")
    entries = value if isinstance(value, list) else []
    return [
        {key: entry[key] for key in keys}
        for entry in entries
        if isinstance(entry, dict) and all(isinstance(entry.get(key), str) for key in keys)
    ]


def read_record(model: str, data: dict[str, Any]) -> IndexRecord:
    """The index entry of an API answer (which names scopes by object type, not by number)."""
    view = read_view(model, data, None)
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
    return IndexRecord(
        model=model,
        netbox_id=data["id"],
        ci=ci,
        view=view,
        site=ref(data.get("site")) if model in (DEVICE, VM) else None,
        cluster=ref(data.get("cluster")) if model == VM else None,
        other_tags=[tag["id"] for tag in data.get("tags") or [] if not ci_tags([tag["name"]])],
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


def vlan_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4094 else None


def cidr(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return None


def number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 else None


def model_for(ci: Ci) -> str:
    """The NetBox object type a new CI becomes; it stays that type for the CI's life."""
    if ci.type in NATIVE_MODELS:
        return NATIVE_MODELS[ci.type]
    if ci.type == "network":
        if vlan_id(ci.attributes.get("vlan")):
            return VLAN
        if cidr(ci.attributes.get("cidr")):
            return PREFIX
    return TENANT
