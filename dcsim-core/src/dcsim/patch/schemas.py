"""The ``/patch`` API's request and response models (SPEC-010: strict input, typed output)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from dcsim.web.contracts import Model, Tags

Severity = Literal["low", "medium", "high", "critical"]
PatchLevel = Literal["low", "medium", "high", "critical", "all"]
AdvisoryType = Literal["security", "bugfix", "enhancement"]
ComplianceName = Literal["compliant", "non_compliant", "unknown"]
PolicyId = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
OsType = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9._-]+$", examples=["rhel9"])]
Cron = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="cron expression", examples=["0 2 * * 6"])]


class AffectedOut(msgspec.Struct, kw_only=True):
    os: str
    package: str
    fixed_version: str


class AdvisoryOut(msgspec.Struct, kw_only=True):
    """An advisory: a CVE (security) or a bug-fix or enhancement errata."""

    id: str
    title: str
    cvss: float
    severity: Severity
    type: AdvisoryType
    published: str
    reboot_suggested: bool
    affected: list[AffectedOut]
    feed: str
    #: CIs it applies to now (from the last scans).
    affected_cis: list[str]


class PendingPatchOut(msgspec.Struct, kw_only=True):
    advisory: str
    package: str
    installed: str
    fixed_version: str
    severity: Severity
    type: AdvisoryType
    reboot_suggested: bool


class CiPatchStateOut(msgspec.Struct, kw_only=True):
    """The patch state of one CI."""

    ci_id: str
    ci_name: str
    ci_type: str
    node: str | None
    os_type: str | None
    env: str | None
    policy: str | None
    current_patch_level: str
    target_patch_level: str
    compliance_status: ComplianceName
    last_scanned: datetime | None
    last_patched: datetime | None
    pending_patches: list[PendingPatchOut]
    pending_by_severity: dict[str, int]
    pending_reboot: bool
    stale: bool
    installed: dict[str, str]
    reason: str | None


class RollUp(msgspec.Struct, kw_only=True):
    total: int
    compliant: int
    non_compliant: int
    unknown: int
    compliance_pct: float
    pending_cves: int


class ComplianceSummary(msgspec.Struct, kw_only=True):
    """Compliance of the estate rolled up by policy, env and OS, without each CI's state
    (a few hundred bytes however large the estate)."""

    summary: RollUp
    by_policy: dict[str, RollUp]
    by_env: dict[str, RollUp]
    by_os: dict[str, RollUp]


class ComplianceReport(ComplianceSummary, kw_only=True):
    """Compliance of the estate, with roll-ups by policy, env and OS, and every CI's state."""

    cis: list[CiPatchStateOut]


class ScanIn(Model):
    """Which CIs to scan (all patchable CIs when omitted)."""

    ci_ids: Annotated[list[Short], msgspec.Meta(max_length=1000)] | None = None


class ScanOut(msgspec.Struct, kw_only=True):
    scanned: int
    compliance_pct: float
    cis: list[CiPatchStateOut]


class PolicyIn(Model):
    """A patch policy as created or replaced."""

    id: PolicyId
    name: Short
    os_type: OsType
    schedule: Cron | None = None
    target_ci_tags: Tags = {}
    patch_level: PatchLevel = "high"
    pre_patch_snapshot: bool = True
    reboot_required: bool = False
    max_parallel: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2
    rollback_on_failure: bool = True
    playbook: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9._-]+$")] | None = None
    enabled: bool = True


class PolicyOut(msgspec.Struct, kw_only=True):
    """A patch policy, with when its schedule fires next."""

    id: str
    name: str
    os_type: str
    schedule: str | None
    target_ci_tags: dict[str, str]
    patch_level: PatchLevel
    pre_patch_snapshot: bool
    reboot_required: bool
    max_parallel: int
    rollback_on_failure: bool
    playbook: str | None
    enabled: bool
    next_run_at: datetime | None


class RunIn(Model):
    """Start a run of a policy now."""

    policy: PolicyId


class RunCiOut(msgspec.Struct, kw_only=True):
    ci_id: str
    ci_name: str
    node: str | None
    state: Literal["planned", "skipped", "ready", "patching", "patched", "failed", "rolled_back", "cancelled"]
    change: str | None
    snapshot: str | None
    ansible_run: str | None
    patched: dict[str, str]
    incident: str | None
    reason: str | None


class StepOut(msgspec.Struct, kw_only=True):
    name: str
    at: datetime
    note: str


class RunOut(msgspec.Struct, kw_only=True):
    """A patch run and what it did to each CI."""

    id: str
    policy: str
    state: Literal["scheduled", "planning", "validating", "snapshotting", "executing", "verifying", "reporting",
                   "alerting", "completed", "failed", "cancelled"]  # fmt: skip
    requested_by: str
    created_at: datetime
    finished_at: datetime | None
    correlation_id: str
    cis: list[RunCiOut]
    steps: list[StepOut]
    advisories: list[str]
    summary: dict[str, Any]
