"""configConfMo(s): a request's changes checked as a whole, then turned into a plan.

Planning runs every change against a copy of the tree, in request order, so a later
change sees an earlier one (a profile created, then bound to a blade). Any refusal
refuses the request: nothing is applied. The plan's steps are engine calls (service
profiles: create, associate, power, firmware policy, delete) and store writes (what
only UCS has, and properties set on simulated objects).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import attrs

from dcsim_ucs.checks import check_values
from dcsim_ucs.classes import CLASSES, ClassMeta, class_meta, split_dn
from dcsim_ucs.errors import already_exists, does_not_exist, invalid_config, unknown_class
from dcsim_ucs.mo import Mo, Tree
from dcsim_ucs.model import PROFILE_NAME
from dcsim_ucs.tree import ORG_ROOT, STORED_DEFAULTS, org_chain

STATUSES = {"created", "modified", "deleted", "removed"}
#: lsPower states: what each sets the profile's desired power to (None: a reset, no change).
POWER_STATES: dict[str, str | None] = {
    "up": "up", "admin-up": "up", "down": "down", "admin-down": "down", "soft-shut-down": "down",
    "soft-shut-down-only": "down", "cycle-immediate": None, "cycle-wait": None, "hard-reset-immediate": None,
    "hard-reset-wait": None, "ipmi-reset": None, "bmc-reset-immediate": None, "bmc-reset-wait": None,
    "diagnostic-interrupt": None,
}  # fmt: skip
TEMPLATE_TYPES = ("initial-template", "updating-template")
#: UCS Manager's rule for the names of orgs, profiles, policies, pools and VLANs.
NAME = re.compile(r"[A-Za-z0-9_.:-]{1,32}")
#: lsServer properties the simulation holds, not the store.
_PROFILE_OWNED = {"name", "type", "srcTemplName"}


@attrs.define(kw_only=True)
class Change:
    """One object of a request, with its children flattened out."""

    class_id: str
    dn: str
    status: set[str]
    attrs: dict[str, str]


@attrs.define(kw_only=True)
class EngineCall:
    """A call of the simulation engine, by method name."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class Plan:
    """What a request will do, in order, once it has been checked whole."""

    steps: list[EngineCall] = attrs.field(factory=list)
    #: Store documents to write (dn -> {"class", "attrs"}) and to delete.
    puts: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    deletes: set[str] = attrs.field(factory=set)
    #: Stored objects created, modified or deleted: (event verb, dn, class).
    stored_events: list[tuple[str, str, str]] = attrs.field(factory=list)
    #: DN and status of each object the response echoes.
    results: list[tuple[str, str]] = attrs.field(factory=list)


def read_changes(element: ET.Element, parent_dn: str = "") -> list[Change]:
    """The changes one ``inConfig`` object holds, parents before children.

    An object without ``status`` is created if missing and modified if present, as
    children inside a created or modified parent are.
    """
    meta = class_meta(element.tag)
    if meta is None:
        raise unknown_class(element.tag)
    values = dict(element.attrib)
    dn = values.pop("dn", None)
    rn = values.pop("rn", None)
    if dn is None:
        if rn is None or not parent_dn:
            raise invalid_config(f"<{element.tag}> needs a dn (or an rn inside its parent)")
        dn = f"{parent_dn}/{rn}"
    raw_status = values.pop("status", "")
    status = {part.strip() for part in raw_status.split(",") if part.strip()}
    if status - STATUSES:
        raise invalid_config(f"{dn}: unknown status {raw_status!r}; use created, modified or deleted")
    if "removed" in status:
        status = (status - {"removed"}) | {"deleted"}
    changes = [Change(class_id=meta.name, dn=dn, status=status, attrs=values)]
    if "deleted" not in status:
        for child in element:
            changes.extend(read_changes(child, dn))
    return changes


class Planner:
    """Checks changes against a working copy of the tree and records the plan."""

    def __init__(self, tree: Tree, stored: Mapping[str, Mapping[str, Any]], domain: str) -> None:
        self.tree = tree.copy()
        self.domain = domain
        self.stored = {dn: {"class": doc["class"], "attrs": dict(doc["attrs"])} for dn, doc in stored.items()}
        self.plan = Plan()
        self._firmware_dirty: set[str] = set()

    def add(self, change: Change) -> None:
        """Check one change and add its steps to the plan; a UcsError refuses the request."""
        meta = CLASSES[change.class_id]
        existing = self.tree.get(change.dn)
        if existing is not None and existing.class_id != meta.name:
            raise invalid_config(f"{change.dn} is a {existing.class_id}, not a {meta.name}")
        if "deleted" in change.status:
            if existing is not None:
                self._delete(meta, existing)
            self.plan.results.append((change.dn, "deleted"))
            return
        if existing is None:
            if change.status == {"modified"}:
                raise does_not_exist(change.dn)
            self._create(meta, change)
            self.plan.results.append((change.dn, "created"))
        else:
            if change.status == {"created"}:
                raise already_exists(change.dn)
            self._modify(meta, existing, change)
            self.plan.results.append((change.dn, "modified"))

    def finish(self) -> Plan:
        """The plan, with firmware policies recomputed for what the request touched."""
        for dn in sorted(self._firmware_dirty):
            mo = self.tree.get(dn)
            if mo is not None and mo.attrs.get("type") == "instance":
                version = self.firmware_version(mo)
                if version and self.tree.firmware.get(dn) != version:
                    self.plan.steps.append(EngineCall(method="set_service_profile_firmware_policy",
                                                      args=(mo.attrs["name"], version)))  # fmt: skip
        return self.plan

    def firmware_version(self, profile: Mo) -> str | None:
        """The blade bundle version of the host firmware pack the profile names, if any."""
        name = profile.attrs.get("hostFwPolicyName", "")
        if not name:
            return None
        for org in org_chain(profile.parent_dn):
            pack = self.tree.get(f"{org}/fw-host-pack-{name}")
            if pack is not None:
                return pack.attrs.get("bladeBundleVersion") or None
        raise invalid_config(f"{profile.dn}: no host firmware package {name!r} in {profile.parent_dn} or above")

    # Create ---------------------------------------------------------------------------

    def _create(self, meta: ClassMeta, change: Change) -> None:
        parent_dn, rn = split_dn(change.dn)
        parent = self.tree.get(parent_dn) if parent_dn else None
        if parent_dn and parent is None:
            raise invalid_config(f"cannot create {change.dn}: its parent {parent_dn} does not exist")
        parent_class = parent.class_id if parent else "topRoot"
        if parent_class not in meta.parents:
            raise invalid_config(f"a {meta.name} cannot be created under a {parent_class} ({change.dn})")
        naming = meta.parse_rn(rn)
        if naming is None:
            raise invalid_config(f"{change.dn}: a {meta.name}'s rn has the form {meta.rn}")
        for prop, value in naming.items():
            if change.attrs.get(prop, value) != value:
                raise invalid_config(f"{change.dn}: {prop}={change.attrs[prop]!r} does not match the rn")
        self._check_props(meta, change, naming)
        name = naming.get("name")
        if name is not None and not (PROFILE_NAME if meta.name == "lsServer" else NAME).fullmatch(name):
            raise invalid_config(f"{change.dn}: {name!r} is not a valid name (letters, digits and _ . : -, up to 32)")
        attrs_ = naming | change.attrs
        # lsPower is never created: every profile has one (made with it, above, when new).
        if not meta.creatable:
            raise invalid_config(f"{meta.name} objects are not created by clients in dc-sim ({change.dn})")
        if meta.name == "lsServer":
            self._create_profile(change.dn, attrs_)
        elif meta.name == "lsBinding":
            self._bind(parent, attrs_.get("pnDn", ""))  # type: ignore[arg-type]
            self.tree.add(Mo(class_id="lsBinding", dn=change.dn, attrs={"pnDn": attrs_.get("pnDn", "")}))
            # restrictMigration and the like: kept while the binding lasts.
            self._put_overlay(change.dn, "lsBinding", {k: v for k, v in attrs_.items() if k != "pnDn"})
        else:
            self._check_stored(meta, change.dn, attrs_)
            full = STORED_DEFAULTS.get(meta.name, {}) | attrs_
            self.tree.add(Mo(class_id=meta.name, dn=change.dn, attrs=full))
            self.stored[change.dn] = {"class": meta.name, "attrs": attrs_}
            self.plan.puts[change.dn] = self.stored[change.dn]
            self.plan.deletes.discard(change.dn)
            self.plan.stored_events.append(("created", change.dn, meta.name))
            if meta.name == "firmwareComputeHostPack":
                self._packs_changed()

    def _create_profile(self, dn: str, values: dict[str, str]) -> None:
        kind = values.get("type", "instance")
        if kind in TEMPLATE_TYPES:
            raise invalid_config(
                f"{dn}: service profile templates come from the simulation's topology in dc-sim; "
                "create instances (type instance) from them"
            )
        if kind != "instance":
            raise invalid_config(f"{dn}: type must be instance, initial-template or updating-template")
        org = split_dn(dn)[0]
        template = self._template(org, values.get("srcTemplName", ""))
        overlay = {k: v for k, v in values.items() if k not in _PROFILE_OWNED}
        profile = Mo(class_id="lsServer", dn=dn, attrs={
            "name": values["name"], "type": "instance", "srcTemplName": template.attrs["name"] if template else "",
            "hostFwPolicyName": "", "descr": "", "usrLbl": "",
        } | overlay)  # fmt: skip
        version = self.firmware_version(profile)
        self.plan.steps.append(EngineCall(method="create_service_profile", args=(values["name"],), kwargs={
            "template": template.attrs["name"] if template else None, "org": org, "domain": self.domain,
            "description": values.get("descr", ""), **({"firmware_policy": version} if version else {}),
        }))  # fmt: skip
        if version:
            self.tree.firmware[dn] = version
        self.tree.add(profile)
        self.tree.add(Mo(class_id="lsPower", dn=f"{dn}/power", attrs={"state": "up"}))
        self._put_overlay(dn, "lsServer", overlay)

    def _template(self, org: str, name: str) -> Mo | None:
        if not name:
            return None
        for candidate in org_chain(org):
            mo = self.tree.get(f"{candidate}/ls-{name}")
            if mo is not None and mo.attrs.get("type") in TEMPLATE_TYPES:
                return mo
        raise invalid_config(f"no service profile template {name!r} in {org} or above")

    # Modify ---------------------------------------------------------------------------

    def _modify(self, meta: ClassMeta, existing: Mo, change: Change) -> None:
        naming = meta.parse_rn(existing.rn) or {}
        for prop, value in naming.items():
            if change.attrs.get(prop, value) != value:
                raise invalid_config(f"{change.dn}: {prop} is part of the rn and cannot change")
        self._check_props(meta, change, naming)
        values = {k: v for k, v in change.attrs.items() if k not in naming}
        if meta.name == "lsServer":
            if values.get("type", existing.attrs["type"]) != existing.attrs["type"]:
                raise invalid_config(f"{change.dn}: type cannot change from {existing.attrs['type']}")
            if values.get("srcTemplName", existing.attrs["srcTemplName"]) != existing.attrs["srcTemplName"]:
                raise invalid_config(f"{change.dn}: dc-sim does not bind a profile to another template")
            overlay = {k: v for k, v in values.items() if k not in _PROFILE_OWNED}
            existing.attrs |= overlay
            self._put_overlay(existing.dn, "lsServer", overlay)
            if "hostFwPolicyName" in overlay:
                self._firmware_dirty.add(existing.dn)
        elif meta.name == "lsBinding":
            parent = self.tree.get(existing.parent_dn)
            if "pnDn" in values and values["pnDn"] != existing.attrs.get("pnDn"):
                self.plan.steps.append(EngineCall(method="disassociate_service_profile",
                                                  args=(parent.attrs["name"],)))  # type: ignore[union-attr]  # fmt: skip
                self._unbind(existing)
                self._bind(parent, values["pnDn"])  # type: ignore[arg-type]
                self.tree.add(Mo(class_id="lsBinding", dn=change.dn, attrs={"pnDn": values["pnDn"]}))
            self._put_overlay(change.dn, "lsBinding", {k: v for k, v in values.items() if k != "pnDn"})
        elif meta.name == "lsPower":
            if "state" in values:
                self._power(self.tree.get(existing.parent_dn), values["state"])  # type: ignore[arg-type]
        elif meta.origin == "stored" and existing.dn != ORG_ROOT:
            merged = dict(self.stored.get(existing.dn, {}).get("attrs", {})) | values
            self._check_stored(meta, existing.dn, naming | merged)
            existing.attrs |= values
            self.stored[existing.dn] = {"class": meta.name, "attrs": merged}
            self.plan.puts[existing.dn] = self.stored[existing.dn]
            self.plan.stored_events.append(("modified", existing.dn, meta.name))
            if meta.name == "firmwareComputeHostPack" and "bladeBundleVersion" in values:
                self._packs_changed()
        else:
            # Inventory objects, vNICs and org-root: the properties clients may set are kept in the store.
            existing.attrs |= values
            self._put_overlay(existing.dn, meta.name, values)

    def _check_props(self, meta: ClassMeta, change: Change, naming: dict[str, str]) -> None:
        unknown = sorted(set(change.attrs) - meta.config - set(naming))
        if unknown:
            raise invalid_config(f"{change.dn}: {meta.name} has no settable property {', '.join(unknown)}")

    def _check_stored(self, meta: ClassMeta, dn: str, values: dict[str, str]) -> None:
        """Refuse the values UCS Manager refuses; ``values`` is the object whole (rn's properties too)."""
        check_values(self.tree, meta.name, dn, values)

    # Delete ---------------------------------------------------------------------------

    def _delete(self, meta: ClassMeta, existing: Mo) -> None:
        if meta.name == "lsBinding":
            parent = self.tree.get(existing.parent_dn)
            self.plan.steps.append(EngineCall(method="disassociate_service_profile",
                                              args=(parent.attrs["name"],)))  # type: ignore[union-attr]  # fmt: skip
            self._unbind(existing)
            self._forget(existing.dn)
            return
        if existing.dn == ORG_ROOT or not meta.creatable:
            raise invalid_config(f"{existing.dn} cannot be deleted")
        profiles = [mo for mo in [existing, *self.tree.descendants(existing.dn)] if mo.class_id == "lsServer"]
        templates = [mo.dn for mo in profiles if mo.attrs.get("type") in TEMPLATE_TYPES]
        if templates:
            raise invalid_config(f"cannot delete {existing.dn}: it holds simulated templates {', '.join(templates)}")
        for profile in profiles:
            self.plan.steps.append(EngineCall(method="delete_service_profile", args=(profile.attrs["name"],)))
        for mo in [existing, *self.tree.descendants(existing.dn)]:
            if mo.dn in self.stored:
                if CLASSES[mo.class_id].origin == "stored":
                    self.plan.stored_events.append(("deleted", mo.dn, mo.class_id))
                del self.stored[mo.dn]
                self.plan.puts.pop(mo.dn, None)
                self.plan.deletes.add(mo.dn)
            if mo.class_id == "firmwareComputeHostPack":
                self._packs_changed()
        self.tree.remove(existing.dn)

    # Profiles -------------------------------------------------------------------------

    def _bind(self, profile: Mo, blade_dn: str) -> None:
        self._instance(profile)
        blade = self.tree.get(blade_dn)
        if blade is None or blade.class_id != "computeBlade":
            raise invalid_config(f"{profile.dn}: pnDn {blade_dn!r} is not a blade of this domain")
        owner = blade.attrs.get("assignedToDn")
        if owner and owner != profile.dn:
            raise invalid_config(f"{blade_dn} is already associated with {owner}")
        if blade.attrs.get("operability") == "inoperable":
            raise invalid_config(f"{blade_dn} is inoperable and cannot be associated")
        if self.tree.get(f"{profile.dn}/pn") is not None:
            raise invalid_config(f"{profile.dn} is already associated")
        self.plan.steps.append(EngineCall(method="associate_service_profile",
                                          args=(profile.attrs["name"], self.tree.blade_names[blade_dn])))  # fmt: skip
        blade.attrs["assignedToDn"] = profile.dn
        profile.attrs["pnDn"] = blade_dn

    def _unbind(self, binding: Mo) -> None:
        blade = self.tree.get(binding.attrs.get("pnDn", ""))
        if blade is not None:
            blade.attrs["assignedToDn"] = ""
        self.tree.remove(binding.dn)

    def _power(self, profile: Mo, state: str) -> None:
        self._instance(profile)
        if state not in POWER_STATES:
            raise invalid_config(f"{profile.dn}/power: unknown state {state!r}; use one of {', '.join(POWER_STATES)}")
        desired = POWER_STATES[state]
        power = self.tree.get(f"{profile.dn}/power")
        if desired is None or power is None or power.attrs.get("state") == desired:
            return
        self.plan.steps.append(EngineCall(method="set_service_profile_power", args=(profile.attrs["name"], desired)))
        power.attrs["state"] = desired

    def _instance(self, profile: Mo) -> None:
        if profile.attrs.get("type") != "instance":
            raise invalid_config(f"{profile.dn} is a template: bind and power its instances instead")

    def _packs_changed(self) -> None:
        for mo in self.tree.of_class("lsServer"):
            if mo.attrs.get("hostFwPolicyName"):
                self._firmware_dirty.add(mo.dn)

    def _forget(self, dn: str) -> None:
        if self.stored.pop(dn, None) is not None:
            self.plan.puts.pop(dn, None)
            self.plan.deletes.add(dn)

    def _put_overlay(self, dn: str, class_id: str, values: dict[str, str]) -> None:
        if not values:
            return
        merged = dict(self.stored.get(dn, {}).get("attrs", {})) | values
        self.stored[dn] = {"class": class_id, "attrs": merged}
        self.plan.puts[dn] = self.stored[dn]
        self.plan.deletes.discard(dn)


def plan_changes(tree: Tree, stored: Mapping[str, Mapping[str, Any]], changes: list[Change], domain: str) -> Plan:
    """Check ``changes`` to ``domain``'s tree as a whole; the plan, or a UcsError that refuses them all."""
    planner = Planner(tree, stored, domain)
    for change in changes:
        planner.add(change)
    return planner.finish()


__all__ = ["Change", "EngineCall", "Plan", "Planner", "plan_changes", "read_changes"]
