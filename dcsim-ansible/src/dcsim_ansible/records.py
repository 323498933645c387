"""The runner's records: runs, their events, playbooks and trigger rules (msgspec Structs).

The same Structs are stored (``msgspec.to_builtins``) and answered by the API, so the
OpenAPI document shows exactly what the store keeps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from dcsim.web.contracts import Model

RunStatus = Literal["queued", "running", "successful", "failed", "canceled", "timeout"]
#: A run in one of these is over; nothing changes it any more.
FINAL: frozenset[str] = frozenset({"successful", "failed", "canceled", "timeout"})

PlaybookName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$", description="a playbook's name")
]
HostPattern = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=1000, pattern=r"^[A-Za-z0-9._:,!&*\[\]-]+$", description="Ansible --limit pattern"
    ),
]
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")]
VarName = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class RunCreate(Model):
    """Body of ``POST /ansible/run``."""

    playbook: PlaybookName
    limit: HostPattern | None = None
    tags: Annotated[list[TagName], msgspec.Meta(max_length=50)] = []
    extra_vars: Annotated[
        dict[VarName, Any], msgspec.Meta(max_length=200, description="extra vars (visible in the run record)")
    ] = {}
    secret_vars: Annotated[
        dict[VarName, str],
        msgspec.Meta(
            max_length=50,
            description="extra vars whose values never appear in events, logs or stdout; stored Vault-encrypted",
        ),
    ] = {}
    vault_vars: Annotated[
        dict[VarName, Annotated[str, msgspec.Meta(max_length=65536)]],
        msgspec.Meta(
            max_length=50,
            description="extra vars given as Ansible Vault ciphertext ($ANSIBLE_VAULT;1.1;AES256 ...), "
            "decrypted by ansible with the configured vault password",
        ),
    ] = {}
    check: bool = False
    diff: bool = False
    forks: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    timeout: Annotated[int, msgspec.Meta(ge=1, le=86400, description="seconds")] | None = None


class HostStats(msgspec.Struct, kw_only=True):
    """What ansible's play recap says of one host."""

    ok: int = 0
    changed: int = 0
    failures: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0


class ChangedTask(msgspec.Struct, kw_only=True):
    """A task that changed a host."""

    host: str
    task: str
    seq: int


class Run(msgspec.Struct, kw_only=True):
    """One playbook run, queued, running or over."""

    id: str
    playbook: str
    status: RunStatus
    trigger: str = "api"
    correlation_id: str | None = None
    requested_by: str = ""
    limit: str | None = None
    tags: list[str] = []
    extra_vars: dict[str, Any] = {}
    secret_var_names: list[str] = []
    check: bool = False
    diff: bool = False
    forks: int = 5
    timeout: int = 3600
    rc: int | None = None
    reason: str | None = None
    worker: str | None = None
    stats: dict[str, HostStats] = {}
    changed_tasks: list[ChangedTask] = []
    event_count: int = 0
    cancel_requested: bool = False
    created_at: datetime
    requeued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RunEvent(msgspec.Struct, kw_only=True):
    """One ansible-runner event of a run, secrets redacted."""

    run_id: str
    seq: int
    event: str
    host: str | None = None
    task: str | None = None
    changed: bool = False
    stdout: str = ""
    created: str | None = None
    data: dict[str, Any] = {}


class RunOutput(msgspec.Struct, kw_only=True):
    """A run's stdout as ansible printed it, secrets redacted."""

    run_id: str
    stdout: str


class Variable(msgspec.Struct, kw_only=True):
    """A variable a playbook reads, as its header declares it."""

    name: str
    description: str = ""
    default: Any = None
    required: bool = False
    secret: bool = False


class Playbook(msgspec.Struct, kw_only=True):
    """A runnable playbook: the library's or a project folder's."""

    name: str
    source: Literal["library", "project"]
    description: str = ""
    tags: list[str] = []
    hosts: str | None = None
    variables: list[Variable] = []
    header_error: str | None = None


class Trigger(msgspec.Struct, kw_only=True):
    """An event trigger rule: which events start which runs."""

    name: str
    event_type: str
    description: str
    enabled: bool = True


class TriggerChange(Model):
    """Body of ``PATCH /ansible/triggers/{name}``."""

    enabled: bool


class RunRequest(msgspec.Struct, kw_only=True):
    """What the bus carries to the workers and the store keeps for them: the run's
    inventory snapshot and its secrets as Vault ciphertext."""

    run_id: str
    playbook_path: str
    inventory: dict[str, Any]
    secret_vars: dict[str, str] = {}
    vault_vars: dict[str, str] = {}
    #: Keep the run to the inventory's hosts (library playbooks): never the controller.
    confined: bool = True
