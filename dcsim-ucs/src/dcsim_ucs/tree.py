"""The managed-object tree of one UCS domain, built from the simulation and the store.

The tree is rebuilt for each request: the simulation is the truth for equipment and
service profiles, and the store holds what only UCS has (orgs, VLANs, pools, policies)
and the properties clients set on simulated objects (labels, policy names).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dcsim.model import utcnow
from dcsim.sim.faults import Fault
from dcsim.sim.model import Blade, Chassis, HealthStatus, PowerState
from dcsim_ucs.classes import CLASSES, split_dn
from dcsim_ucs.faults import FABRIC_FAILOVER, FIRMWARE_MISMATCH
from dcsim_ucs.mo import Mo, Tree
from dcsim_ucs.model import FabricInterconnect, ServiceProfile, ServiceProfileTemplate, UcsDomain

if TYPE_CHECKING:
    from dcsim.sim.engine import Simulation

VENDOR = "Cisco Systems Inc"
ORG_ROOT = "org-root"
PSUS_PER_CHASSIS = 4
FAN_MODULES_PER_CHASSIS = 8

#: Properties of stored classes that clients need not give: what UCS Manager fills in.
STORED_DEFAULTS: dict[str, dict[str, str]] = {
    "orgOrg": {"descr": "", "fltAggr": "0", "permAccess": "yes"},
    "lsbootPolicy": {"bootMode": "legacy", "descr": "", "enforceVnicName": "yes", "intId": "auto",
                     "policyLevel": "0", "policyOwner": "local", "purpose": "operational", "rebootOnUpdate": "no"},
    "macpoolPool": {"assigned": "0", "assignmentOrder": "default", "descr": "", "intId": "auto",
                    "policyLevel": "0", "policyOwner": "local", "size": "0"},
    "macpoolBlock": {},
    "firmwareComputeHostPack": {"bladeBundleName": "", "bladeBundleVersion": "", "descr": "", "ignoreCompCheck": "yes",
                                "intId": "auto", "mode": "staged", "policyLevel": "0", "policyOwner": "local",
                                "rackBundleName": "", "rackBundleVersion": "", "stageSize": "0",
                                "updateTrigger": "immediate"},
    "ippoolPool": {"assigned": "0", "assignmentOrder": "default", "descr": "", "extManaged": "internal", "guid": "0",
                   "intId": "auto", "isNetBIOSEnabled": "disabled", "policyLevel": "0", "policyOwner": "local",
                   "size": "0", "supportsDHCP": "disabled", "v4Assigned": "0", "v4Size": "0", "v6Assigned": "0",
                   "v6Size": "0"},
    # What ucs_ip_pool sends when a block's settings are left out, so a rerun matches.
    "ippoolBlock": {"defGw": "0.0.0.0", "primDns": "0.0.0.0", "secDns": "0.0.0.0", "subnet": "255.255.255.0"},
    "ippoolIpV6Block": {"defGw": "::", "prefix": "64", "primDns": "::", "secDns": "::"},
    "uuidpoolPool": {"assigned": "0", "assignmentOrder": "default", "descr": "", "intId": "auto", "policyLevel": "0",
                     "policyOwner": "local", "prefix": "derived", "size": "0"},
    "uuidpoolBlock": {},
    "fcpoolInitiators": {"assigned": "0", "assignmentOrder": "default", "descr": "", "intId": "auto",
                         "maxPortsPerNode": "upto3", "policyLevel": "0", "policyOwner": "local",
                         "purpose": "node-wwn-assignment", "size": "0"},
    "fcpoolBlock": {},
    "fabricVsan": {"configOverlap": "ok", "defaultZoning": "disabled", "epDn": "", "fcZoneSharingMode": "coalesce",
                   "fcoeVlan": "", "global": "0", "id": "", "ifRole": "storage", "ifType": "virtual", "local": "0",
                   "locale": "external", "operState": "ok", "peerDn": "", "policyOwner": "local", "transport": "fc",
                   "type": "san", "zoningState": "disabled"},
    "commNtpProvider": {"adminState": "enabled", "descr": ""},
    "commDnsProvider": {"adminState": "enabled", "descr": ""},
    "fabricVlan": {"cloud": "ethlan", "compressionType": "included", "defaultNet": "no", "global": "0", "id": "",
                   "ifRole": "network", "ifType": "virtual", "local": "0", "locale": "external",
                   "mcastPolicyName": "", "policyOwner": "local", "pubNwName": "", "sharing": "none",
                   "switchId": "dual", "transport": "ether", "type": "lan"},
}  # fmt: skip


def chassis_dn(chassis: Chassis) -> str:
    """``sys/chassis-<number>``."""
    return f"sys/chassis-{chassis.number}"


def blade_dn(chassis: Chassis, blade: Blade) -> str:
    """``sys/chassis-<number>/blade-<slot>``."""
    return f"{chassis_dn(chassis)}/blade-{blade.slot}"


def profile_dn(profile: ServiceProfile | ServiceProfileTemplate) -> str:
    """``<org dn>/ls-<name>``."""
    return f"{profile.org}/ls-{profile.name}"


def org_chain(org_dn: str) -> list[str]:
    """``org_dn`` and its ancestor orgs, nearest first (policy names resolve up this chain)."""
    chain = []
    dn = org_dn
    while dn.startswith(ORG_ROOT):
        chain.append(dn)
        dn = split_dn(dn)[0]
    return chain


def build_tree(sim: Simulation, domain: UcsDomain, stored: Mapping[str, Mapping[str, Any]]) -> Tree:
    """The domain's whole tree; ``stored`` maps DNs to ``{"class": ..., "attrs": {...}}``."""
    world = sim.world
    tree = Tree()
    overlay = {dn: dict(doc["attrs"]) for dn, doc in stored.items()}
    fis = sorted((fi for fi in world.all(FabricInterconnect) if fi.domain_id == domain.id), key=lambda fi: fi.side)
    primary = next((fi.side for fi in fis if fi.primary), "A")
    faults = sim.active_faults()

    tree.add(Mo(class_id="topSystem", dn="sys", attrs={
        "name": domain.name, "address": "127.0.0.1", "ipv6Addr": "::", "mode": "cluster", "descr": "",
        "owner": "", "site": "", "systemUpTime": "00:00:00:00", "currentTime": _now(),
    }))  # fmt: skip
    _firmware(tree, "sys/fw-system", domain.firmware, "system")
    tree.add(Mo(class_id="mgmtController", dn="sys/mgmt", attrs={"subject": "system", "id": "1"}))
    _firmware(tree, "sys/mgmt/fw-system", domain.firmware, "mgmt-ext")
    for index, fi in enumerate(fis):
        dn = f"sys/switch-{fi.side}"
        operable = fi.status is HealthStatus.OK
        tree.add(Mo(class_id="networkElement", dn=dn, attrs={
            "id": fi.side, "model": fi.model, "serial": fi.serial, "vendor": VENDOR, "revision": "0",
            "operability": "operable" if operable else "inoperable", "thermal": "ok" if operable else "unknown",
            "oobIfIp": f"10.10.0.{11 + index}", "oobIfMask": "255.255.255.0", "oobIfGw": "10.10.0.1",
            "oobIfMac": _mac_of(fi.id), "totalMemory": "65536", "expectedMemory": "65536",
            "adminEvacState": "fill", "operEvacState": "fill", "fltAggr": "0",
        }))  # fmt: skip
        tree.add(Mo(class_id="mgmtController", dn=f"{dn}/mgmt", attrs={"subject": "switch", "id": fi.side}))
        _firmware(tree, f"{dn}/mgmt/fw-system", domain.firmware, "switch-software")

    chassis_list = sorted((c for c in world.all(Chassis) if c.id in domain.chassis_ids), key=lambda c: c.number)
    blades = {c.id: sorted((b for b in world.all(Blade) if b.chassis_id == c.id), key=lambda b: b.slot)
              for c in chassis_list}  # fmt: skip
    profiles = [p for p in world.all(ServiceProfile) if p.domain_id == domain.id]
    templates = [t for t in world.all(ServiceProfileTemplate) if t.domain_id == domain.id]
    profile_of_blade = {p.blade_id: p for p in profiles if p.blade_id}

    for chassis in chassis_list:
        dn = chassis_dn(chassis)
        tree.add(Mo(class_id="equipmentChassis", dn=dn, attrs={
            "id": str(chassis.number), "model": chassis.model, "serial": chassis.serial, "vendor": VENDOR,
            "revision": "0", "operState": "operable", "operability": "operable", "power": "ok", "presence": "equipped",
            "thermal": "ok", "configState": "ok", "adminState": "acknowledged", "association": "none",
            "availability": "unavailable", "discovery": "complete", "connPath": "A,B", "connStatus": "A,B",
            "managingInst": primary, "fltAggr": "0", "usrLbl": "",
        } | overlay.get(dn, {})))  # fmt: skip
        for psu in range(1, PSUS_PER_CHASSIS + 1):
            tree.add(Mo(class_id="equipmentPsu", dn=f"{dn}/psu-{psu}", attrs={
                "id": str(psu), "model": "UCSB-PSU-2500ACDV", "serial": _serial(chassis.serial, f"psu{psu}"),
                "vendor": VENDOR, "revision": "0", "operState": "operable", "operability": "operable", "power": "on",
                "presence": "equipped", "thermal": "ok", "voltage": "ok", "perf": "ok",
            }))  # fmt: skip
        for module in range(1, FAN_MODULES_PER_CHASSIS + 1):
            module_dn = f"{dn}/fan-module-1-{module}"
            tree.add(Mo(class_id="equipmentFanModule", dn=module_dn, attrs={
                "id": str(module), "tray": "1", "model": "N20-FAN5", "serial": _serial(chassis.serial, f"fan{module}"),
                "vendor": VENDOR, "operState": "operable", "operability": "operable", "power": "on",
                "presence": "equipped", "thermal": "ok", "voltage": "ok", "perf": "ok",
            }))  # fmt: skip
            for fan in (1, 2):
                tree.add(Mo(class_id="equipmentFan", dn=f"{module_dn}/fan-{fan}", attrs={
                    "id": str(fan), "module": str(module), "tray": "1", "model": "N20-FAN5", "vendor": VENDOR,
                    "operState": "operable", "operability": "operable", "power": "on", "presence": "equipped",
                    "thermal": "ok", "voltage": "ok", "perf": "ok",
                }))  # fmt: skip
        for blade in blades[chassis.id]:
            _blade(tree, chassis, blade, profile_of_blade.get(blade.id), overlay)

    tree.add(Mo(class_id="orgOrg", dn=ORG_ROOT, attrs={"name": "root", "level": "root", "descr": "",
                                                       "fltAggr": "0", "permAccess": "yes"} | overlay.get(ORG_ROOT, {})))  # fmt: skip
    tree.add(Mo(class_id="fabricEp", dn="fabric", attrs={}))
    tree.add(Mo(class_id="fabricLanCloud", dn="fabric/lan", attrs={"macAging": "mode-default", "mode": "end-host",
                                                                   "vlanCompression": "disabled"}))  # fmt: skip
    # The SAN cloud in FC end-host mode (UCS Manager's default), with a fabric per interconnect.
    tree.add(Mo(class_id="fabricSanCloud", dn="fabric/san", attrs={"mode": "end-host"}))
    for fi in fis:
        tree.add(Mo(class_id="fabricFcSan", dn=f"fabric/san/{fi.side}", attrs={
            "id": fi.side, "configQualifier": "", "locale": "external", "name": "", "transport": "fc", "type": "san",
            "uplinkTrunking": "disabled",
        }))  # fmt: skip
    # System services: time zone and DNS domain set by clients are kept as overlays.
    tree.add(Mo(class_id="commSvcEp", dn="sys/svc-ext", attrs={"name": "", "descr": "", "policyOwner": "local",
                                                               "configState": "ok", "configStatusMessage": ""}))  # fmt: skip
    services = {"name": "", "descr": "", "adminState": "enabled", "port": "0", "operPort": "0", "proto": "none",
                "policyLevel": "0", "policyOwner": "local"}  # fmt: skip
    datetime = services | {"timezone": "", "configState": "success"} | overlay.get("sys/svc-ext/datetime-svc", {})
    tree.add(Mo(class_id="commDateTime", dn="sys/svc-ext/datetime-svc",
                attrs=datetime | {"operTimezone": datetime["timezone"]}))  # fmt: skip
    tree.add(Mo(class_id="commDns", dn="sys/svc-ext/dns-svc", attrs=services | {"domain": ""}
                | overlay.get("sys/svc-ext/dns-svc", {})))  # fmt: skip

    # Stored objects, parents first: sub-orgs must exist before the profiles in them.
    stored_dns = (dn for dn, doc in stored.items() if CLASSES[doc["class"]].origin == "stored" and dn != ORG_ROOT)
    for dn in sorted(stored_dns, key=_depth):
        class_id = stored[dn]["class"]
        if split_dn(dn)[0] not in tree:
            continue  # orphaned by a parent deleted outside dc-sim's transactions
        attrs = STORED_DEFAULTS.get(class_id, {}) | dict(stored[dn]["attrs"])
        if class_id == "orgOrg":
            attrs["level"] = str(len(org_chain(dn)) - 1)
        tree.add(Mo(class_id=class_id, dn=dn, attrs=attrs))

    blade_by_id = {b.id: (c, b) for c in chassis_list for b in blades[c.id]}
    template_by_id = {t.id: t for t in templates}
    for template in sorted(templates, key=lambda t: t.name):
        if template.org in tree:
            _profile(tree, template, None, None, overlay)
    for profile in sorted(profiles, key=lambda p: p.name):
        if profile.org not in tree:
            continue
        located = blade_by_id.get(profile.blade_id or "")
        _profile(tree, profile, located, template_by_id.get(profile.template_id or ""), overlay)

    for fault in faults:
        _fault(tree, fault, domain, chassis_list, blade_by_id)
    return tree


def _blade(tree: Tree, chassis: Chassis, blade: Blade, profile: ServiceProfile | None,
           overlay: Mapping[str, dict[str, str]]) -> None:  # fmt: skip
    dn = blade_dn(chassis, blade)
    tree.blade_names[dn] = blade.name
    associated = profile is not None
    powered = blade.power_state is PowerState.ON
    if blade.status is HealthStatus.FAILED:
        oper_state, operability = "inoperable", "inoperable"
    elif blade.status is HealthStatus.DEGRADED:
        oper_state, operability = "degraded", "degraded"
    elif not associated:
        oper_state, operability = "unassociated", "operable"
    else:
        oper_state, operability = ("ok" if powered else "power-off"), "operable"
    tree.add(Mo(class_id="computeBlade", dn=dn, attrs={
        "chassisId": str(chassis.number), "slotId": str(blade.slot), "serverId": f"{chassis.number}/{blade.slot}",
        "name": "", "model": blade.model, "serial": blade.serial, "vendor": VENDOR, "revision": "0",
        "partNumber": "73-17769-06", "uuid": blade.id, "originalUuid": blade.id,
        "numOfCpus": "2", "numOfCores": str(blade.cpu), "numOfCoresEnabled": str(blade.cpu),
        "numOfThreads": str(blade.cpu * 2), "totalMemory": str(blade.memory_mb),
        "availableMemory": str(blade.memory_mb), "memorySpeed": "2666", "lowVoltageMemory": "regular-voltage",
        "numOfAdaptors": "1", "numOfEthHostIfs": str(len(profile.macs)) if profile else "0",
        "numOfFcHostIfs": "1" if profile else "0",
        "operPower": "on" if powered else "off", "adminPower": "policy", "adminState": "in-service",
        "operState": oper_state, "operability": operability, "presence": "equipped",
        "association": "associated" if associated else "none",
        "assignedToDn": profile_dn(profile) if profile else "",
        "availability": "unavailable" if associated else "available",
        "discovery": "complete", "checkPoint": "discovered", "lc": "discovered", "connPath": "A,B",
        "connStatus": "A,B", "managingInst": "A", "fltAggr": "0", "descr": "", "usrLbl": "",
    } | overlay.get(dn, {})))  # fmt: skip
    tree.add(Mo(class_id="mgmtController", dn=f"{dn}/mgmt", attrs={"subject": "blade", "id": "1"}))
    _firmware(tree, f"{dn}/mgmt/fw-system", blade.firmware, "blade-controller")
    _hardware(tree, dn, chassis, blade, profile)


#: Sizes of the simulated blade hardware.
DIMM_MB = 16_384
SOCKETS = 2
DISKS = 2
DISK_BYTES = 600 * 1000**3


def _hardware(tree: Tree, dn: str, chassis: Chassis, blade: Blade, profile: ServiceProfile | None) -> None:
    """The blade's board (CPUs, DIMMs, a RAID controller and its disks) and its VIC adaptor,
    with a host interface per vNIC of the bound profile."""
    powered = "on" if blade.power_state is PowerState.ON else "off"
    ok = blade.status is not HealthStatus.FAILED
    health = {"operState": "operable" if ok else "inoperable", "operability": "operable" if ok else "inoperable",
              "presence": "equipped", "thermal": "ok", "power": powered, "perf": "ok", "voltage": "ok"}  # fmt: skip
    board = f"{dn}/board"
    tree.add(Mo(class_id="computeBoard", dn=board, attrs={
        "id": "1", "model": "UCSB-B200-M5", "vendor": VENDOR, "serial": _part_serial(blade.serial, "board"),
        "revision": "0", "operPower": powered, "cpuTypeDescription": "Intel(R) Xeon(R) Gold 6230", **health,
    }))  # fmt: skip
    cores = max(1, blade.cpu // SOCKETS)
    for socket in range(1, SOCKETS + 1):
        tree.add(Mo(class_id="processorUnit", dn=f"{board}/cpu-{socket}", attrs={
            "id": str(socket), "socketDesignation": f"CPU{socket}", "model": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
            "vendor": "Intel(R) Corporation", "arch": "Xeon", "cores": str(cores), "coresEnabled": str(cores),
            "threads": str(cores * 2), "threadsEnabled": str(cores * 2), "speed": "2.1", "stepping": "7",
            "serial": "", "revision": "0", "visibility": "yes", **health,
        }))  # fmt: skip
    dimms = max(1, -(-blade.memory_mb // DIMM_MB))
    array = f"{board}/memarray-1"
    tree.add(Mo(class_id="memoryArray", dn=array, attrs={
        "id": "1", "cpuId": "1", "currCapacity": str(dimms * DIMM_MB), "maxCapacity": "3145728", "maxDevices": "24",
        "populated": str(dimms), "errorCorrection": "undiscovered", "vendor": VENDOR, **health,
    }))  # fmt: skip
    for slot in range(1, dimms + 1):
        tree.add(Mo(class_id="memoryUnit", dn=f"{array}/mem-{slot}", attrs={
            "id": str(slot), "array": "1", "bank": "0", "capacity": str(DIMM_MB), "clock": "2933", "speed": "2933",
            "formFactor": "DIMM", "type": "DDR4", "width": "64", "location": f"DIMM_{chr(64 + slot)}1",
            "model": "UCS-MR-X16G1RT-H", "vendor": "0xCE00", "serial": _part_serial(blade.serial, f"mem{slot}"),
            "visibility": "yes", **health,
        }))  # fmt: skip
    controller = f"{board}/storage-SAS-1"
    tree.add(Mo(class_id="storageController", dn=controller, attrs={
        "id": "1", "type": "SAS", "model": "Cisco 12G Modular RAID Controller", "vendor": "LSI Logic",
        "serial": _part_serial(blade.serial, "raid"), "raidSupport": "RAID0, RAID1", "pciSlot": "MEZZ",
        "controllerStatus": "Optimal", "mode": "RAID", **health,
    }))  # fmt: skip
    for disk in range(1, DISKS + 1):
        tree.add(Mo(class_id="storageLocalDisk", dn=f"{controller}/disk-{disk}", attrs={
            "id": str(disk), "model": "ST600MM0009", "vendor": "SEAGATE", "serial": _part_serial(blade.serial, f"disk{disk}"),
            "size": str(DISK_BYTES // 1024**2), "numberOfBlocks": str(DISK_BYTES // 512), "blockSize": "512",
            "connectionProtocol": "SAS", "deviceType": "HDD", "diskState": "good", "linkSpeed": "12-gbps",
            "powerState": "active", "bootable": "false", "presence": "equipped",
            "operability": health["operability"], "thermal": "ok",
        }))  # fmt: skip
    tree.add(Mo(class_id="pciEquipSlot", dn=f"{dn}/equipped-slot-1", attrs={
        "id": "1", "model": "UCSB-MLOM-40G-04", "vendor": VENDOR, "serial": _part_serial(blade.serial, "mlom"),
        "smbiosId": "1", "controllerReported": "MLOM", "hostReported": "MLOM", "discoveryState": "discovered",
    }))  # fmt: skip
    adaptor = f"{dn}/adaptor-1"
    tree.add(Mo(class_id="adaptorUnit", dn=adaptor, attrs={
        "id": "1", "model": "UCSB-MLOM-40G-04", "vendor": VENDOR, "serial": _part_serial(blade.serial, "mlom"),
        "partNumber": "73-19235-02", "revision": "0", "pciSlot": "MLOM", "baseMac": _mac_of(blade.id),
        "chassisId": str(chassis.number), "bladeId": str(blade.slot), "connPath": "A,B",
        "connStatus": "A,B", "managingInst": "A", "integrated": "no", "fltAggr": "0", **health,
    }))  # fmt: skip
    if profile is None:
        return
    profile_path = profile_dn(profile)
    for index, mac in enumerate(profile.macs):
        tree.add(Mo(class_id="adaptorHostEthIf", dn=f"{adaptor}/host-eth-{index + 1}", attrs={
            "id": str(index + 1), "name": f"eth{index}", "mac": mac.upper(), "originalMac": mac.upper(),
            "vnicDn": f"{profile_path}/ether-eth{index}", "switchId": "AB"[index % 2], "side": "left",
            "order": str(index + 1), "mtu": "1500", "adminState": "enabled", "linkState": "up" if powered == "on"
            else "down", "ifRole": "server", "ifType": "virtual", "hostPort": "1", "model": "UCSB-MLOM-40G-04",
            "vendor": VENDOR, "chassisId": str(chassis.number), "slotId": str(blade.slot),
            "discovery": "present", "bootDev": "disabled", "cdnName": "", "epDn": "", "purpose": "general",
            "operState": "operable", "operability": "operable", "presence": "equipped", "type": "ether",
        }))  # fmt: skip
    wwpn = _wwpn(profile)
    tree.add(Mo(class_id="adaptorHostFcIf", dn=f"{adaptor}/host-fc-1", attrs={
        "id": "1", "name": "fc0", "wwn": wwpn, "originalWwn": wwpn, "nodeWwn": "20:00:00:25:B5:00:00:00",
        "originalNodeWwn": "20:00:00:25:B5:00:00:00", "vnicDn": f"{profile_path}/fc-fc0", "switchId": "A",
        "side": "left", "order": str(len(profile.macs) + 1), "maxDataFieldSize": "2048", "adminState": "enabled",
        "linkState": "up" if powered == "on" else "down", "ifRole": "server", "ifType": "virtual", "hostPort": "1",
        "model": "UCSB-MLOM-40G-04", "vendor": VENDOR, "discovery": "present", "bootDev": "disabled", "cdnName": "",
        "epDn": "", "operState": "operable", "operability": "operable", "presence": "equipped", "type": "fc",
        "chassisId": str(chassis.number), "slotId": str(blade.slot), "persBind": "disabled",
    }))  # fmt: skip


def _profile(
    tree: Tree,
    profile: ServiceProfile | ServiceProfileTemplate,
    located: tuple[Chassis, Blade] | None,
    template: ServiceProfileTemplate | None,
    overlay: Mapping[str, dict[str, str]],
) -> None:
    dn = profile_dn(profile)
    is_template = isinstance(profile, ServiceProfileTemplate)
    pn_dn = blade_dn(*located) if located else ""
    blade = located[1] if located else None
    if is_template or blade is None:
        oper_state = "unassociated"
    elif blade.status is HealthStatus.FAILED:
        oper_state = "inoperable"
    elif blade.status is HealthStatus.DEGRADED:
        oper_state = "degraded"
    else:
        oper_state = "ok" if blade.power_state is PowerState.ON else "power-off"
    attrs = {
        "name": profile.name,
        "type": "updating-template" if is_template else "instance",
        "descr": getattr(profile, "description", ""),
        "usrLbl": "",
        "srcTemplName": template.name if template else "",
        "operSrcTemplName": profile_dn(template) if template else "",
        "assignState": "assigned" if blade else "unassigned",
        "assocState": "associated" if blade else "unassociated",
        "pnDn": pn_dn,
        "operState": oper_state,
        "configState": "applied" if blade else "not-applied",
        "uuid": "derived",
        "uuidSuffix": "0000-000000000000",
        "intId": _int_id(profile.id),
        "policyLevel": "0",
        "policyOwner": "local",
        "resolveRemote": "yes",
        "owner": "management",
        "fltAggr": "0",
    }
    attrs |= {
        name: "" for name in CLASSES["lsServer"].config if name.endswith("PolicyName") or name.endswith("ProfileName")
    }
    attrs |= overlay.get(dn, {})
    tree.add(Mo(class_id="lsServer", dn=dn, attrs=attrs))
    if isinstance(profile, ServiceProfile):
        tree.firmware[dn] = profile.firmware_policy
    power = profile.power if isinstance(profile, ServiceProfile) else "up"
    tree.add(Mo(class_id="lsPower", dn=f"{dn}/power", attrs={"state": power, "softShutdownTimer": "150-secs"}
                | overlay.get(f"{dn}/power", {})))  # fmt: skip
    if pn_dn:
        tree.add(Mo(class_id="lsBinding", dn=f"{dn}/pn", attrs={
            "pnDn": pn_dn, "assignedToDn": pn_dn, "computeEpDn": pn_dn, "issues": "", "name": "",
            "operState": "used", "restrictMigration": "no",
        } | overlay.get(f"{dn}/pn", {})))  # fmt: skip
    macs = profile.macs if isinstance(profile, ServiceProfile) else ["derived", "derived"]
    for index, mac in enumerate(macs):
        ether = f"{dn}/ether-eth{index}"
        tree.add(Mo(class_id="vnicEther", dn=ether, attrs={
            "name": f"eth{index}", "addr": mac.upper(), "switchId": "AB"[index % 2], "mtu": "1500", "type": "ether",
            "order": str(index + 1), "adminVcon": "any", "identPoolName": "default", "nwTemplName": "",
            "operSpeed": "line-rate", "equipmentDn": f"{pn_dn}/adaptor-1/host-eth-{index + 1}" if pn_dn else "",
            "instType": "manual", "qosPolicyName": "", "statsPolicyName": "default",
        } | overlay.get(ether, {})))  # fmt: skip
    fc = f"{dn}/fc-fc0"
    wwpn = "derived" if is_template else _wwpn(profile)
    tree.add(Mo(class_id="vnicFc", dn=fc, attrs={
        "name": "fc0", "addr": wwpn, "switchId": "A", "type": "fc", "order": str(len(macs) + 1), "adminVcon": "any",
        "identPoolName": "", "nwTemplName": "", "maxDataFieldSize": "2048", "persBind": "disabled",
        "equipmentDn": f"{pn_dn}/adaptor-1/host-fc-1" if pn_dn else "", "statsPolicyName": "default",
    } | overlay.get(fc, {})))  # fmt: skip


#: How each simulated fault shows as a faultInst: code, cause, severity, type.
_FAULT_CODES: dict[str, tuple[str, str, str, str]] = {
    "host-failure": ("F0317", "equipment-inoperable", "critical", "equipment"),
    FIRMWARE_MISMATCH: ("F0560", "firmware-version-mismatch", "major", "configuration"),
    FABRIC_FAILOVER: ("F0209", "equipment-inoperable", "critical", "equipment"),
}


def _fault(tree: Tree, fault: Fault, domain: UcsDomain, chassis_list: list[Chassis],
           blade_by_id: Mapping[str, tuple[Chassis, Blade]]) -> None:  # fmt: skip
    codes = _FAULT_CODES.get(fault.kind)
    if codes is None:
        return
    code, cause, severity, kind = codes
    for target in fault.targets:
        if target.kind == "blade" and target.id in blade_by_id:
            chassis, blade = blade_by_id[target.id]
            affected = blade_dn(chassis, blade)
            if fault.kind == FIRMWARE_MISMATCH:
                wanted = fault.params.get("version", "")
                descr = f"Server {chassis.number}/{blade.slot} firmware {blade.firmware} differs from policy {wanted}"
            else:
                descr = f"Server {chassis.number}/{blade.slot} health: inoperable ({fault.kind})"
        elif target.kind == "fabric_interconnect" and f"sys/switch-{_side(target.name)}" in tree:
            affected = f"sys/switch-{_side(target.name)}"
            descr = f"Fabric Interconnect {_side(target.name)} operability: inoperable"
        else:
            continue
        injected = fault.injected_at.isoformat(timespec="milliseconds")
        tree.add(Mo(class_id="faultInst", dn=f"{affected}/fault-{code}", attrs={
            "code": code, "cause": cause, "severity": severity, "origSeverity": severity,
            "highestSeverity": severity, "prevSeverity": severity, "type": kind, "descr": descr,
            "id": _int_id(fault.id), "ack": "no", "created": injected, "lastTransition": injected, "lc": "",
            "occur": "1", "rule": cause, "tags": kind, "changeSet": "",
        }))  # fmt: skip


def _side(fi_name: str) -> str:
    return fi_name.rsplit("-", 1)[-1]


def _firmware(tree: Tree, dn: str, version: str, kind: str) -> None:
    tree.add(Mo(class_id="firmwareRunning", dn=dn, attrs={
        "deployment": split_dn(dn)[1].removeprefix("fw-"), "type": kind, "version": version,
        "packageVersion": version, "invTag": "",
    }))  # fmt: skip


def _depth(dn: str) -> int:
    depth = 0
    while dn:
        dn = split_dn(dn)[0]
        depth += 1
    return depth


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _int_id(text: str) -> str:
    return str(int.from_bytes(_digest(text)[:4], "big") % 1_000_000 + 10_000)


def _wwpn(profile: ServiceProfile | ServiceProfileTemplate) -> str:
    """The port WWN of a profile's vHBA (fc0), derived from its id: its vnicFc and its
    blade's host-fc interface must show the same one."""
    return "20:00:00:25:B5:" + ":".join(f"{b:02X}" for b in _digest(profile.id)[:3])


def _part_serial(base: str, part: str) -> str:
    return _digest(f"{base}/{part}").hex()[:11].upper()


def _serial(base: str, part: str) -> str:
    """A part's serial, stable for its chassis: ``PSU...`` or ``FAN...`` and eight hex digits."""
    return part[:3].upper() + _digest(f"{base}/{part}").hex()[:8].upper()


def _mac_of(text: str) -> str:
    return "00:DE:FB:" + ":".join(f"{b:02X}" for b in _digest(text)[:3])


def _now() -> str:
    return utcnow().isoformat(timespec="milliseconds")
