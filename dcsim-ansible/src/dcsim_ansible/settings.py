"""The ``[plugins.ansible]`` settings table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from dcsim.errors import ConfigError

#: Keys of ``[plugins.ansible]`` that hold secrets: ``dcsim config`` masks them.
SECRET_SETTINGS = ("vault_password",)

_KEYS = {
    "worker",
    "project_dirs",
    "vault_password",
    "lease_seconds",
    "requeue_seconds",
    "default_timeout",
    "default_forks",
    "triggers_disabled",
}


@attrs.frozen(kw_only=True)
class AnsibleSettings:
    """What the runner can be told.

    ``worker``: whether ``dcsim serve`` runs a worker in-process (default true).
    ``project_dirs``: folders of playbooks (``*.yml``) runnable next to the library.
    ``vault_password``: the Ansible Vault password; secret extra vars are refused without it.
    ``lease_seconds``: how long a worker's hold on a running run lasts unrenewed; a run
    whose worker stopped renewing it is failed with the reason after that.
    ``requeue_seconds``: a run still queued after this is asked for again on the bus.
    ``default_timeout`` (seconds) and ``default_forks``: for runs that give none.
    ``triggers_disabled``: names of event trigger rules switched off at start.
    """

    worker: bool = True
    project_dirs: tuple[Path, ...] = ()
    vault_password: str | None = attrs.field(default=None, repr=False)
    lease_seconds: float = 10.0
    requeue_seconds: float = 60.0
    default_timeout: int = 3600
    default_forks: int = 5
    triggers_disabled: tuple[str, ...] = ()


def _number(table: dict[str, Any], key: str, default: float, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"plugins.ansible.{key}: {value!r} is not a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"plugins.ansible.{key}: must be a number >= {minimum:g}")
    return float(value)


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value or ())


def load_ansible_settings(table: dict[str, Any]) -> AnsibleSettings:
    """Validate the plugin's settings table; a ConfigError says what is wrong."""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"plugins.ansible: unknown settings {', '.join(unknown)}")
    worker = table.get("worker", True)
    if isinstance(worker, str):
        worker = worker.strip().lower() in ("1", "true", "yes", "on")
    return AnsibleSettings(
        worker=bool(worker),
        project_dirs=tuple(Path(p) for p in _names(table.get("project_dirs"))),
        vault_password=str(table["vault_password"]) if table.get("vault_password") else None,
        lease_seconds=_number(table, "lease_seconds", 10.0, 1.0),
        requeue_seconds=_number(table, "requeue_seconds", 60.0, 1.0),
        default_timeout=int(_number(table, "default_timeout", 3600, 1)),
        default_forks=int(_number(table, "default_forks", 5, 1)),
        triggers_disabled=_names(table.get("triggers_disabled")),
    )
