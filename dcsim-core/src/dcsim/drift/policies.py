"""The seed's drift policies and how an observation finds its policy."""

from __future__ import annotations

import fnmatch
from datetime import datetime
from typing import Any

from dcsim.drift.model import Category, Policy

#: Files every node's config tree has and drift watches (paths inside the node).
WATCHED_FILES = (
    "/etc/ssh/sshd_config",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/sysctl.conf",
    "/etc/sudoers",
    "/etc/passwd",
    "/etc/shadow",
)


def seed_policies() -> list[Policy]:
    """Policies a fresh instance starts with; the API edits them afterwards."""
    return [
        Policy(id="policy-sshd", name="sshd configuration", monitored_fields=["/etc/ssh/sshd_config"],
               severity="high", category=Category.SECURITY, auto_change_request=True),
        Policy(id="policy-identity-files", name="accounts and privileges",
               monitored_fields=["/etc/sudoers", "/etc/passwd", "/etc/shadow"], severity="critical",
               category=Category.SECURITY, auto_change_request=True),
        Policy(id="policy-system-files", name="system configuration files",
               monitored_fields=["/etc/hosts", "/etc/resolv.conf", "/etc/sysctl.conf"], severity="medium",
               category=Category.CONFIGURATION, auto_change_request=True),
        Policy(id="policy-power-state", name="power state", monitored_fields=["power_state"], severity="high",
               category=Category.STATE),
        Policy(id="policy-health", name="health", monitored_fields=["health"], severity="high",
               category=Category.STATE),
        Policy(id="policy-packages", name="package sets", monitored_fields=["packages.*"], severity="medium",
               category=Category.PACKAGE),
        Policy(id="policy-firmware", name="server firmware", ci_type="blade", monitored_fields=["firmware"],
               severity="high", category=Category.FIRMWARE, auto_change_request=True),
        Policy(id="policy-network-membership", name="network membership", monitored_fields=["networks"],
               severity="medium", category=Category.NETWORK),
    ]  # fmt: skip


def matches(policy: Policy, kind: str, field: str, tags: dict[str, str]) -> bool:
    """Whether ``policy`` watches ``field`` of an object of ``kind`` with ``tags``."""
    if not policy.enabled or policy.ci_type not in ("*", kind):
        return False
    if any(tags.get(key) != value for key, value in policy.tags.items()):
        return False
    return any(fnmatch.fnmatchcase(field, pattern) for pattern in policy.monitored_fields)


def policy_for(policies: list[Policy], kind: str, field: str, tags: dict[str, str]) -> Policy | None:
    """The first policy (in id order) that watches the field, or None: not monitored."""
    return next((p for p in sorted(policies, key=lambda p: p.id) if matches(p, kind, field, tags)), None)


def suppressed(policy: Policy, refs: tuple[str, ...], field: str, now: datetime) -> bool:
    """Whether a drift is in a suppression window or an approved exception of ``policy``."""
    if any(window.start <= now <= window.end for window in policy.suppression_windows):
        return True
    return any(e.ci in refs and fnmatch.fnmatchcase(field, e.field) for e in policy.exceptions)


def itsm_policy(policy: Policy, remediation: str | None) -> dict[str, Any]:
    """The ``policy`` part of ``drift.detected``: what ITSM's rule and the runner's trigger read."""
    shaped: dict[str, Any] = {
        "id": policy.id,
        "name": policy.name,
        "auto_change_request": policy.auto_change_request,
        "auto_remediate": policy.auto_remediate,
    }
    if remediation:
        shaped["remediation"] = remediation
    return shaped
