"""Writing a CI as its NetBox object: the fields that say it, the payload, the VLAN's
prefix, and moving a cluster's devices. Blocking calls: run through ``NetboxClient.run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.cmdb.model import CiStatus
from dcsim.cmdb.netbox.objects import (
    CHANGELOG_PREFIX,
    CLUSTER,
    DEVICE,
    MODELS,
    PREFIX,
    SITE,
    TENANT,
    VLAN,
    VM,
    IndexRecord,
    choice_value,
    ci_id,
    cidr,
    number,
    ref,
    slugify,
    vlan_id,
)

if TYPE_CHECKING:
    from dcsim.cmdb.model import Ci
    from dcsim.cmdb.netbox.client import NetboxClient
    from dcsim.cmdb.netbox.schema import NetboxSchema


class NetboxWriter:
    """Creates and updates the NetBox objects of CIs."""

    def __init__(self, client: NetboxClient, schema: NetboxSchema) -> None:
        self.client = client
        self.schema = schema

    def fields(self, model: str, ci: Ci) -> dict[str, Any]:
        """The NetBox fields that say the CI's name, status, attributes and tags."""
        decommissioned = ci.status is CiStatus.DECOMMISSIONED
        status = MODELS[model].decommissioned[0] if decommissioned and model != TENANT else "active"
        attributes, tags = ci.attributes, ci.tags
        power = attributes.get("power_state")
        if model == SITE:
            return {"name": ci.name, "status": status}
        if model == CLUSTER:
            return {"name": ci.name, "status": status, "type": self.schema.cluster_type(ci)}
        if model == DEVICE:
            if not decommissioned and attributes.get("status") == "failed":
                status = "failed"
            elif not decommissioned and power in ("off", "suspended"):
                status = "offline"
            return {
                "name": ci.name,
                "status": status,
                "role": self.schema.roles["bare-metal" if tags.get("role") == "bare_metal" else "hypervisor"],
                "device_type": self.schema.device_type(ci),
                "serial": str(attributes.get("serial") or "")[:50],
            }
        if model == VM:
            if not decommissioned:
                status = {"off": "offline", "suspended": "paused"}.get(str(power), "active")
            return {
                "name": ci.name,
                "status": status,
                "vcpus": number(attributes.get("cpu")),
                "memory": number(attributes.get("memory_mb")),
            }
        if model == VLAN:
            fields: dict[str, Any] = {"name": ci.name, "status": status}
            if vid := vlan_id(attributes.get("vlan")):
                fields["vid"] = vid
            return fields
        if model == PREFIX:
            fields = {"description": ci.name, "status": status, "vrf": self.schema.vrf}
            if network := cidr(attributes.get("cidr")):
                fields["prefix"] = network
            return fields
        return {"name": ci.name, "group": self.schema.tenant_group(ci.type)}

    def write(
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
            **self.fields(model, ci),
            **placement,
            "tags": sorted({*self.schema.tag_ids(ci.tags), *other_tags}),
            "custom_fields": custom,
            "changelog_message": (CHANGELOG_PREFIX + actor)[:200],
        }
        endpoint = self.client.endpoint(model)
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
        endpoint = self.client.api.ipam.prefixes
        owner = ci_id(VLAN, vlan["id"])
        existing = [dict(item) for item in endpoint.filter(vlan_id=vlan["id"], cf_dcsim_source_id=owner)]
        network = cidr(ci.attributes.get("cidr"))
        message = (CHANGELOG_PREFIX + actor)[:200]
        if network is None:
            if existing:
                endpoint.delete([item["id"] for item in existing])
            return
        site = ref(vlan.get("site"))
        payload = {
            "prefix": network,
            "vlan": vlan["id"],
            "vrf": self.schema.vrf,
            "description": ci.name,
            "status": choice_value(vlan["status"]),
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

    def move_devices(self, cluster: IndexRecord, devices: list[int], site: int, actor: str) -> list[dict[str, Any]]:
        """Move a cluster's member devices to ``site`` before the cluster moves there.

        NetBox checks each device's site against its cluster's: a cluster in another site
        leaves that site for the move.
        """
        message = (CHANGELOG_PREFIX + actor)[:200]
        if cluster.view.slots.get("scope") is not None:
            self.client.endpoint(CLUSTER).update(
                [{"id": cluster.netbox_id, "scope_type": None, "scope_id": None, "changelog_message": message}]
            )
        moved = self.client.endpoint(DEVICE).update(
            [{"id": d, "site": site, "changelog_message": message} for d in devices]
        )
        return [dict(item) for item in moved]
