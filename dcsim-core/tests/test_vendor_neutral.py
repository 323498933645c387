"""Core knows no vendor: dcsim-core/src names no vendor-only concept (specs/009-core-and-vendors.md)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Vendor-only concepts and vendors' names, as regular expressions (case-insensitive).
BANNED: dict[str, str] = {
    "ucs": r"(?<![a-z])ucs",
    "cisco": r"cisco",
    "service profile": r"service[\s_.-]?profile",
    "fabric interconnect": r"fabric[\s_.-]?interconnect",
    "keystone": r"keystone",
    "nova": r"\bnova\b",
    "neutron": r"neutron",
    "cinder": r"\bcinder\b",
    "glance": r"\bglance\b",
    "openstack": r"openstack",
    "vmware": r"vmware",
    "vmw": r"\bvmw\b|(?<![a-z])vmw-",
    "vsphere": r"vsphere",
    "vcenter": r"vcenter",
    "vcsim": r"vcsim",
    "esxi": r"esxi",
    "pyvmomi": r"pyvmomi",
    "ucsmsdk": r"ucsmsdk",
    "keypair": r"keypair",
    "security group": r"security[\s_-]?group",
    "floating ip": r"floating[\s_-]?ip",
    "dvswitch": r"dv[\s_-]?switch",
    "resource pool": r"resource[\s_-]?pool",
    "drs": r"\bdrs\b",
}

#: The one exception: the seed's own names and platform labels (data, not concepts).
ALLOWED: dict[str, set[str]] = {
    "dcsim/sim/seed.py": {"vmware", "openstack", "vmw", "esxi", "nova"},
}


def _text_files() -> list[Path]:
    files = []
    for path in sorted(SRC.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in {".pyc", ".png", ".ico"}:
            continue
        files.append(path)
    return files


def _found(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for word, pattern in BANNED.items():
        hits = [m.group(0) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]
        if hits:
            found[word] = hits
    return found


def test_core_source_names_no_vendor_concept():
    offences = []
    for path in _text_files():
        relative = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        for line_number, line in enumerate(text.splitlines(), start=1):
            for word in _found(line):
                if word not in ALLOWED.get(relative, set()):
                    offences.append(f"{relative}:{line_number}: {word!r} in {line.strip()[:100]!r}")
    assert not offences, "core names vendor-only concepts:\n" + "\n".join(offences)


def test_every_exception_is_still_needed():
    for relative, words in ALLOWED.items():
        text = (SRC / relative).read_text(encoding="utf-8")
        assert words == set(_found(text)), f"{relative}: the exception should be exactly {sorted(_found(text))}"


def test_the_search_finds_what_it_is_for():
    # Guards against patterns that can never match (a test that cannot fail).
    samples = {
        "ucs": "labels sim.ucs.sp and UCSB-B200-M5",
        "service profile": "a ServiceProfile or a service_profile",
        "fabric interconnect": "FabricInterconnect",
        "nova": "the zone nova",
        "vmw": "node sim-vmw-vm-001",
        "keypair": "a Keypair",
        "security group": "SecurityGroup",
        "drs": "DRS rules",
    }
    for word, text in samples.items():
        assert word in _found(text), word
    for innocent in ("innovation", "products", "glanceable", "address", "drsomething"):
        assert not _found(innocent), innocent
