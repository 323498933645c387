"""Patch's records: advisories, policies, the patch state of a CI, runs and their steps."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from dcsim.model import new_id, utcnow

#: Severities from least to most severe; a policy's ``patch_level`` names the least it patches.
SEVERITIES = ("low", "medium", "high", "critical")
#: ``patch_level`` values: a severity (security advisories at or above it) or ``all``
#: (every advisory, bug fixes and enhancements too).
PATCH_LEVELS = (*SEVERITIES, "all")


@attrs.define(kw_only=True)
class Affected:
    """One OS's package an advisory fixes, and the version that fixes it."""

    os: str
    package: str
    fixed_version: str


@attrs.define(kw_only=True)
class Advisory:
    """A security, bug-fix or enhancement advisory (a CVE for security ones)."""

    id: str
    title: str = ""
    cvss: float = 0.0
    severity: str = "low"
    type: str = "security"
    published: str = ""
    reboot_suggested: bool = False
    affected: list[Affected] = attrs.field(factory=list)
    #: Where it came from: ``bundled`` or an advisory feed's name.
    feed: str = "bundled"

    def fixes(self, os_type: str) -> list[Affected]:
        """The packages of ``os_type`` this advisory fixes."""
        return [a for a in self.affected if a.os == os_type]


def covered(advisory: Advisory, patch_level: str) -> bool:
    """True when a policy at ``patch_level`` asks for ``advisory``."""
    if patch_level == "all":
        return True
    if advisory.type != "security" or patch_level not in SEVERITIES:
        return False
    return SEVERITIES.index(advisory.severity) >= SEVERITIES.index(patch_level)


class Compliance(enum.Enum):
    """A CI's patch compliance."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    UNKNOWN = "unknown"


@attrs.define(kw_only=True)
class PendingPatch:
    """An advisory that applies to a CI: its package is older than the fixed version."""

    advisory: str
    package: str
    installed: str
    fixed_version: str
    severity: str
    type: str
    reboot_suggested: bool = False


@attrs.define(kw_only=True)
class CiPatchState:
    """The patch state of one CI, as its last scan saw it."""

    ci_id: str
    ci_name: str
    ci_type: str
    node: str | None
    os_type: str | None
    env: str | None = None
    policy: str | None = None
    #: The most severe pending level (``current`` when nothing the policy asks for is pending).
    current_patch_level: str = "unknown"
    #: The policy's ``patch_level`` (``all`` without a policy).
    target_patch_level: str = "all"
    compliance_status: Compliance = Compliance.UNKNOWN
    last_scanned: datetime | None = None
    last_patched: datetime | None = None
    installed: dict[str, str] = attrs.field(factory=dict)
    #: Every applicable advisory (those the policy asks for decide compliance).
    pending_patches: list[PendingPatch] = attrs.field(factory=list)
    pending_reboot: bool = False
    reason: str | None = None


@attrs.define(kw_only=True)
class Policy:
    """Which CIs to patch, to what level, when, and how carefully."""

    id: str
    name: str
    os_type: str
    schedule: str | None = None
    target_ci_tags: dict[str, str] = attrs.field(factory=dict)
    patch_level: str = "high"
    pre_patch_snapshot: bool = True
    reboot_required: bool = False
    max_parallel: int = 2
    rollback_on_failure: bool = True
    #: A playbook to run instead of the runner's patch playbook of the OS.
    playbook: str | None = None
    enabled: bool = True


class RunState(enum.Enum):
    """A run's lifecycle: one state per step, then an end."""

    SCHEDULED = "scheduled"
    PLANNING = "planning"
    VALIDATING = "validating"
    SNAPSHOTTING = "snapshotting"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    REPORTING = "reporting"
    ALERTING = "alerting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_RUN_STATES = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED})


class CiRunState(enum.Enum):
    """What a run did to one CI."""

    PLANNED = "planned"
    SKIPPED = "skipped"
    READY = "ready"
    PATCHING = "patching"
    PATCHED = "patched"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"


@attrs.define(kw_only=True)
class RunCi:
    """One CI of a run."""

    ci_id: str
    ci_name: str
    node: str | None
    state: CiRunState = CiRunState.PLANNED
    change: str | None = None
    snapshot: str | None = None
    #: The package inventory when the snapshot was taken (what a rollback restores).
    snapshot_packages: dict[str, str] | None = None
    ansible_run: str | None = None
    patched: dict[str, str] = attrs.field(factory=dict)
    incident: str | None = None
    reason: str | None = None


@attrs.define(kw_only=True)
class Step:
    """A step a run went through."""

    name: str
    at: datetime
    note: str = ""


@attrs.define(kw_only=True)
class Run:
    """A patch run of one policy."""

    id: str = attrs.field(factory=new_id)
    policy: str
    state: RunState = RunState.SCHEDULED
    requested_by: str = "api"
    created_at: datetime = attrs.field(factory=utcnow)
    finished_at: datetime | None = None
    cis: list[RunCi] = attrs.field(factory=list)
    steps: list[Step] = attrs.field(factory=list)
    advisories: list[str] = attrs.field(factory=list)
    summary: dict[str, Any] = attrs.field(factory=dict)

    @property
    def correlation_id(self) -> str:
        """The prefix of every correlation id the run's runner requests carry."""
        return f"patch:{self.id}"
