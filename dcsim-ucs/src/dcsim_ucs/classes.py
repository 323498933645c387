"""The managed-object classes dc-sim's UCS Manager has, and what a client may do with each.

Class ids, relative-name (rn) formats, parent classes and property names follow UCS
Manager's object model. Only the classes the simulation presents are here; a query or a
change naming any other class is refused with UCS's unknown-class error.

``origin`` says where an object's state lives:

- ``inventory``: built from the simulation's equipment; read-only but for ``usrLbl``.
- ``profile``: service profiles and their children; changes go through the
  simulation engine (create, associate, power, firmware policy, delete).
- ``stored``: configuration only UCS has (orgs, VLANs, pools, policies); kept by the
  plugin in the store, created, modified and deleted freely.
"""

from __future__ import annotations

import re

import attrs


@attrs.frozen(kw_only=True)
class ClassMeta:
    """What dc-sim knows of one managed-object class."""

    name: str
    rn: str
    parents: tuple[str, ...]
    origin: str
    #: Properties a client may set (besides ``dn``, ``rn`` and ``status``).
    config: frozenset[str] = frozenset()
    #: Whether clients may create and delete objects of the class.
    creatable: bool = False

    @property
    def naming(self) -> tuple[str, ...]:
        """The properties the rn is made of, in order (``ls-[name]`` -> ``name``)."""
        return tuple(re.findall(r"\[(\w+)\]", self.rn))

    def parse_rn(self, rn: str) -> dict[str, str] | None:
        """The naming property values an rn carries; None if it does not fit the format."""
        pattern = "".join(
            f"(?P<{part[1:-1]}>.+?)" if part.startswith("[") else re.escape(part)
            for part in re.split(r"(\[\w+\])", self.rn)
            if part
        )
        match = re.fullmatch(pattern, rn)
        return match.groupdict() if match else None


def _c(*names: str) -> frozenset[str]:
    return frozenset(names)


_LS_SERVER_POLICIES = _c(
    "agentPolicyName", "biosProfileName", "bootPolicyName", "descr", "dynamicConPolicyName", "extIPPoolName",
    "extIPState", "graphicsCardPolicyName", "hostFwPolicyName", "identPoolName", "kvmMgmtPolicyName",
    "localDiskPolicyName", "maintPolicyName", "mgmtAccessPolicyName", "mgmtFwPolicyName",
    "persistentMemoryPolicyName", "policyOwner", "powerPolicyName", "powerSyncPolicyName", "propAcl",
    "resolveRemote", "scrubPolicyName", "solPolicyName", "spdmCertificatePolicyName", "statsPolicyName",
    "usrLbl", "uuid", "vconProfileName", "vmediaPolicyName",
)  # fmt: skip

CLASSES: dict[str, ClassMeta] = {
    meta.name: meta
    for meta in [
        ClassMeta(name="topSystem", rn="sys", parents=("topRoot",), origin="inventory"),
        ClassMeta(name="mgmtController", rn="mgmt", parents=("topSystem", "networkElement", "computeBlade"),
                  origin="inventory"),
        ClassMeta(name="firmwareRunning", rn="fw-[deployment]", parents=("topSystem", "mgmtController"),
                  origin="inventory"),
        ClassMeta(name="networkElement", rn="switch-[id]", parents=("topSystem",), origin="inventory"),
        ClassMeta(name="equipmentChassis", rn="chassis-[id]", parents=("topSystem",), origin="inventory",
                  config=_c("usrLbl")),
        ClassMeta(name="equipmentPsu", rn="psu-[id]", parents=("equipmentChassis",), origin="inventory"),
        ClassMeta(name="equipmentFanModule", rn="fan-module-[tray]-[id]", parents=("equipmentChassis",),
                  origin="inventory"),
        ClassMeta(name="equipmentFan", rn="fan-[id]", parents=("equipmentFanModule",), origin="inventory"),
        ClassMeta(name="computeBlade", rn="blade-[slotId]", parents=("equipmentChassis",), origin="inventory",
                  config=_c("usrLbl")),
        # A blade's hardware: what inventory tools (ucsmsdk's get_inventory) walk.
        ClassMeta(name="computeBoard", rn="board", parents=("computeBlade",), origin="inventory"),
        ClassMeta(name="processorUnit", rn="cpu-[id]", parents=("computeBoard",), origin="inventory"),
        ClassMeta(name="memoryArray", rn="memarray-[id]", parents=("computeBoard",), origin="inventory"),
        ClassMeta(name="memoryUnit", rn="mem-[id]", parents=("memoryArray",), origin="inventory"),
        ClassMeta(name="storageController", rn="storage-[type]-[id]", parents=("computeBoard",),
                  origin="inventory"),
        ClassMeta(name="storageLocalDisk", rn="disk-[id]", parents=("storageController",), origin="inventory"),
        ClassMeta(name="pciEquipSlot", rn="equipped-slot-[id]", parents=("computeBlade",), origin="inventory"),
        ClassMeta(name="adaptorUnit", rn="adaptor-[id]", parents=("computeBlade",), origin="inventory"),
        ClassMeta(name="adaptorHostEthIf", rn="host-eth-[id]", parents=("adaptorUnit",), origin="inventory"),
        ClassMeta(name="adaptorHostFcIf", rn="host-fc-[id]", parents=("adaptorUnit",), origin="inventory"),
        ClassMeta(name="faultInst", rn="fault-[code]",
                  parents=("computeBlade", "networkElement", "equipmentChassis", "lsServer"),
                  origin="inventory"),
        ClassMeta(name="orgOrg", rn="org-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("descr"), creatable=True),
        ClassMeta(name="lsServer", rn="ls-[name]", parents=("orgOrg",), origin="profile",
                  config=_LS_SERVER_POLICIES | {"srcTemplName", "type"}, creatable=True),
        ClassMeta(name="lsBinding", rn="pn", parents=("lsServer",), origin="profile",
                  config=_c("pnDn", "restrictMigration", "name", "propAcl"), creatable=True),
        ClassMeta(name="lsPower", rn="power", parents=("lsServer",), origin="profile",
                  config=_c("state", "softShutdownTimer", "propAcl")),
        ClassMeta(name="vnicEther", rn="ether-[name]", parents=("lsServer",), origin="profile",
                  config=_c("adminVcon", "mtu", "nwTemplName", "order", "qosPolicyName", "statsPolicyName",
                            "adaptorProfileName", "nwCtrlPolicyName", "pinToGroupName", "switchId",
                            "identPoolName", "adminCdnName", "cdnSource", "adminHostPort", "redundancyPairType",
                            "propAcl")),
        ClassMeta(name="vnicFc", rn="fc-[name]", parents=("lsServer",), origin="profile",
                  config=_c("adminVcon", "maxDataFieldSize", "nwTemplName", "order", "qosPolicyName",
                            "statsPolicyName", "adaptorProfileName", "pinToGroupName", "switchId",
                            "identPoolName", "adminCdnName", "cdnSource", "adminHostPort", "persBind",
                            "persBindClear")),
        ClassMeta(name="lsbootPolicy", rn="boot-policy-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("bootMode", "descr", "enforceVnicName", "policyOwner", "purpose", "rebootOnUpdate"),
                  creatable=True),
        ClassMeta(name="macpoolPool", rn="mac-pool-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("assignmentOrder", "descr", "policyOwner"), creatable=True),
        ClassMeta(name="macpoolBlock", rn="block-[from]-[to]", parents=("macpoolPool",), origin="stored",
                  creatable=True),
        # Identity pools: IP addresses (KVM / management), UUIDs, WWNNs and WWPNs. Blocks have no
        # settable properties but an IP block's network settings; from and to name them.
        ClassMeta(name="ippoolPool", rn="ip-pool-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("assignmentOrder", "descr", "extManaged", "guid", "isNetBIOSEnabled", "policyOwner",
                            "supportsDHCP"), creatable=True),
        ClassMeta(name="ippoolBlock", rn="block-[from]-[to]", parents=("ippoolPool",), origin="stored",
                  config=_c("defGw", "primDns", "secDns", "subnet"), creatable=True),
        ClassMeta(name="ippoolIpV6Block", rn="v6block-[from]-[to]", parents=("ippoolPool",), origin="stored",
                  config=_c("defGw", "prefix", "primDns", "secDns"), creatable=True),
        ClassMeta(name="uuidpoolPool", rn="uuid-pool-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("assignmentOrder", "descr", "policyOwner", "prefix"), creatable=True),
        ClassMeta(name="uuidpoolBlock", rn="block-from-[from]-to-[to]", parents=("uuidpoolPool",), origin="stored",
                  creatable=True),
        ClassMeta(name="fcpoolInitiators", rn="wwn-pool-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("assignmentOrder", "descr", "maxPortsPerNode", "policyOwner", "purpose"), creatable=True),
        ClassMeta(name="fcpoolBlock", rn="block-[from]-[to]", parents=("fcpoolInitiators",), origin="stored",
                  creatable=True),
        ClassMeta(name="firmwareComputeHostPack", rn="fw-host-pack-[name]", parents=("orgOrg",), origin="stored",
                  config=_c("bladeBundleName", "bladeBundleVersion", "descr", "ignoreCompCheck", "mode",
                            "overrideDefaultExclusion", "policyOwner", "rackBundleName", "rackBundleVersion",
                            "servicePackBundleName", "servicePackBundleVersion", "stageSize", "updateTrigger"),
                  creatable=True),
        ClassMeta(name="fabricEp", rn="fabric", parents=("topRoot",), origin="inventory"),
        ClassMeta(name="fabricLanCloud", rn="lan", parents=("fabricEp",), origin="inventory"),
        ClassMeta(name="fabricVlan", rn="net-[name]", parents=("fabricLanCloud",), origin="stored",
                  config=_c("compressionType", "defaultNet", "id", "mcastPolicyName", "policyOwner", "pubNwName",
                            "sharing"), creatable=True),
        # The SAN cloud: VSANs common to both fabrics (fabric/san/net-X) or of one (fabric/san/A/net-X).
        ClassMeta(name="fabricSanCloud", rn="san", parents=("fabricEp",), origin="inventory"),
        ClassMeta(name="fabricFcSan", rn="[id]", parents=("fabricSanCloud",), origin="inventory"),
        ClassMeta(name="fabricVsan", rn="net-[name]", parents=("fabricSanCloud", "fabricFcSan"), origin="stored",
                  config=_c("fcZoneSharingMode", "fcoeVlan", "id", "policyOwner", "zoningState"), creatable=True),
        # System services (sys/svc-ext): singletons whose settings are kept like inventory labels;
        # the NTP and DNS servers under them are stored objects.
        ClassMeta(name="commSvcEp", rn="svc-ext", parents=("topSystem",), origin="inventory"),
        ClassMeta(name="commDateTime", rn="datetime-svc", parents=("commSvcEp",), origin="inventory",
                  config=_c("adminState", "descr", "policyOwner", "port", "timezone")),
        ClassMeta(name="commDns", rn="dns-svc", parents=("commSvcEp",), origin="inventory",
                  config=_c("adminState", "descr", "domain", "policyOwner", "port")),
        ClassMeta(name="commNtpProvider", rn="ntp-[name]", parents=("commDateTime",), origin="stored",
                  config=_c("descr"), creatable=True),
        ClassMeta(name="commDnsProvider", rn="dns-[name]", parents=("commDns",), origin="stored",
                  config=_c("descr"), creatable=True),
    ]
}  # fmt: skip

#: Lower-cased class id to class id: clients may send ``ComputeBlade`` or ``computeBlade``.
_BY_LOWER = {name.lower(): name for name in CLASSES}


def class_meta(class_id: str) -> ClassMeta | None:
    """The class named ``class_id`` (any case), None if dc-sim has no such class."""
    name = _BY_LOWER.get(class_id.lower())
    return CLASSES[name] if name else None


def split_dn(dn: str) -> tuple[str, str]:
    """``(parent dn, rn)``; a slash inside brackets (``[...]``) does not split."""
    depth = 0
    for index in range(len(dn) - 1, -1, -1):
        char = dn[index]
        if char == "]":
            depth += 1
        elif char == "[":
            depth -= 1
        elif char == "/" and depth == 0:
            return dn[:index], dn[index + 1 :]
    return "", dn
