"""Compliance: which advisories apply to a CI's packages, and roll-ups of many CIs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dcsim.patch.model import SEVERITIES, Advisory, CiPatchState, Compliance, PendingPatch, Policy, covered

#: ``compare(os_type, installed, candidate)``: -1, 0 or 1 (``dcsim_patch_compare_versions``).
Compare = Callable[[str, str, str], int]


def os_family(os_type: str) -> str:
    """The package family of an OS type (``rhel9`` is ``rhel``, ``ubuntu22`` is ``debian``)."""
    lowered = os_type.lower()
    if lowered.startswith(("rhel", "centos", "rocky", "alma", "fedora")):
        return "rhel"
    if lowered.startswith(("ubuntu", "debian")):
        return "debian"
    return lowered.rstrip("0123456789.") or lowered


def applicable(
    installed: dict[str, str], os_type: str, advisories: Iterable[Advisory], compare: Compare
) -> list[PendingPatch]:
    """The advisories whose package is installed at a version older than the fixed one."""
    pending = []
    for advisory in advisories:
        for fix in advisory.fixes(os_type):
            version = installed.get(fix.package)
            if version is None or compare(os_type, version, fix.fixed_version) >= 0:
                continue
            pending.append(
                PendingPatch(
                    advisory=advisory.id,
                    package=fix.package,
                    installed=version,
                    fixed_version=fix.fixed_version,
                    severity=advisory.severity,
                    type=advisory.type,
                    reboot_suggested=advisory.reboot_suggested,
                )
            )
    return sorted(pending, key=lambda p: (-SEVERITIES.index(p.severity), p.advisory, p.package))


def assess(state: CiPatchState, advisories: dict[str, Advisory], policy: Policy | None) -> None:
    """Set the compliance fields of ``state`` from its ``pending_patches`` and its policy."""
    state.policy = policy.id if policy else None
    state.target_patch_level = policy.patch_level if policy else "all"
    asked = [p for p in state.pending_patches if p.advisory in advisories and
             covered(advisories[p.advisory], state.target_patch_level)]  # fmt: skip
    state.compliance_status = Compliance.NON_COMPLIANT if asked else Compliance.COMPLIANT
    state.current_patch_level = max((p.severity for p in asked), key=SEVERITIES.index) if asked else "current"


def governing_policy(policies: Iterable[Policy], os_type: str | None, tags: dict[str, str]) -> Policy | None:
    """The first enabled policy (by id) for ``os_type`` whose tag selector ``tags`` satisfy."""
    for policy in sorted(policies, key=lambda p: p.id):
        if policy.enabled and policy.os_type == os_type and selects(policy, tags):
            return policy
    return None


def selects(policy: Policy, tags: dict[str, str]) -> bool:
    """True when every tag of the policy's selector is on the CI (``*`` matches any value)."""
    return all(tags.get(key) == value or (value == "*" and key in tags) for key, value in policy.target_ci_tags.items())


def roll_up(states: Iterable[CiPatchState], key: Callable[[CiPatchState], str | None]) -> dict[str, dict[str, Any]]:
    """Counts per group: total, compliant, non-compliant, unknown, percent and pending CVEs."""
    groups: dict[str, dict[str, Any]] = {}
    for state in states:
        name = key(state) or "none"
        group = groups.setdefault(name, {"total": 0, "compliant": 0, "non_compliant": 0, "unknown": 0, "cves": set()})
        group["total"] += 1
        group[state.compliance_status.value] += 1
        group["cves"].update(p.advisory for p in state.pending_patches if p.advisory.startswith("CVE-"))
    return {name: finish(group) for name, group in sorted(groups.items())}


def finish(group: dict[str, Any]) -> dict[str, Any]:
    """A roll-up group with its percentage and the number of distinct pending CVEs."""
    known = group["compliant"] + group["non_compliant"]
    cves = group.pop("cves")
    group["compliance_pct"] = round(100.0 * group["compliant"] / known, 1) if known else 0.0
    group["pending_cves"] = len(cves)
    return group
