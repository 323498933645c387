"""The ``[plugins.vmware]`` settings table: which vCenter, its ports and its login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from dcsim.errors import ConfigError

#: Keys of ``[plugins.vmware]`` that hold secrets (dcsim config masks them).
SECRET_SETTINGS = ("password",)
#: The documented login of the managed vcsim when the settings give none.
DEFAULT_USERNAME, DEFAULT_PASSWORD = "administrator@vsphere.local", "dcsim-vmware"
#: The documented ports of the managed vcsim (0 would pick free ones at start).
DEFAULT_HTTPS_PORT, DEFAULT_HTTP_PORT = 8989, 8990
_KEYS = {"vcenter", "username", "password", "https_port", "http_port", "binary", "restart_seconds"}


@attrs.frozen(kw_only=True)
class VmwareSettings:
    """What the vmware plugin can be told.

    ``vcenter`` says which vCenter: ``auto`` (the default: the managed simulator when
    its binary is found, otherwise none, with a log line saying how to get it),
    ``managed`` (start and supervise dc-sim's simulator on 127.0.0.1, serving TLS on
    ``https_port`` and plain HTTP on ``http_port``; 0 picks a free port once, kept
    across restarts), ``off`` (no vCenter), or an SDK URL (``https://host/sdk``) of any
    vcsim or vCenter to connect to, starting nothing. ``binary`` is the simulator to
    run (default: ``dcsim-vcsim`` on PATH).
    ``username`` and ``password`` are the login the simulator accepts (or the one used
    with ``url``). ``restart_seconds`` is the pause before a dead simulator is restarted.
    """

    vcenter: str = "auto"
    username: str = DEFAULT_USERNAME
    password: str = attrs.field(default=DEFAULT_PASSWORD, repr=False)
    https_port: int = DEFAULT_HTTPS_PORT
    http_port: int = DEFAULT_HTTP_PORT
    binary: Path | None = None
    restart_seconds: float = 0.5

    @property
    def url(self) -> str | None:
        """The configured vCenter's SDK URL, None unless ``vcenter`` is one."""
        return self.vcenter if self.vcenter.startswith(("http://", "https://")) else None


def load_vmware_settings(table: dict[str, Any]) -> VmwareSettings:
    """Validate the plugin's settings table; a ConfigError says what is wrong."""
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"plugins.vmware: unknown settings {', '.join(unknown)}")
    for key in ("vcenter", "username", "password", "binary"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"plugins.vmware.{key} must be text")
    for key in ("https_port", "http_port"):
        value = table.get(key, 0)
        if isinstance(value, str) and value.isdigit():
            value = int(value)  # from an environment variable
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise ConfigError(f"plugins.vmware.{key} must be a port number (0: a free one)")
        table = {**table, key: value}
    restart = table.get("restart_seconds", 0.5)
    if isinstance(restart, str):
        try:
            restart = float(restart)
        except ValueError:
            raise ConfigError("plugins.vmware.restart_seconds must be a number") from None
    if isinstance(restart, bool) or not isinstance(restart, int | float) or restart < 0:
        raise ConfigError("plugins.vmware.restart_seconds must be a number >= 0")
    return VmwareSettings(
        vcenter=_vcenter(table.get("vcenter", "auto")),
        username=table.get("username", DEFAULT_USERNAME),
        password=table.get("password", DEFAULT_PASSWORD),
        https_port=table.get("https_port", DEFAULT_HTTPS_PORT),
        http_port=table.get("http_port", DEFAULT_HTTP_PORT),
        binary=Path(table["binary"]) if table.get("binary") else None,
        restart_seconds=float(restart),
    )


def _vcenter(value: str) -> str:
    if value in ("auto", "managed", "off") or value.startswith(("http://", "https://")):
        return value
    raise ConfigError("plugins.vmware.vcenter must be auto, managed, off or an SDK URL (https://host/sdk)")


__all__ = ["SECRET_SETTINGS", "VmwareSettings", "load_vmware_settings"]
