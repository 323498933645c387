"""Settings: defaults, then an optional TOML file, then ``DCSIM_*`` environment variables.

Every field can be set in the TOML file under its own name and in the environment as
``DCSIM_<NAME>`` (upper case). Tuples are comma-separated in the environment.

Plugins get a table each: ``[plugins.<name>]`` in the TOML file, or
``DCSIM_PLUGINS__<NAME>__<KEY>`` in the environment (values stay strings there). A
plugin reads its own with :meth:`Settings.plugin` and validates it itself.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import platformdirs

from dcsim.errors import ConfigError

ENV_PREFIX = "DCSIM_"
_PLUGIN_ENV_PREFIX = "DCSIM_PLUGINS__"


def default_data_dir() -> Path:
    """The per-user data directory used when none is configured."""
    return Path(platformdirs.user_data_dir("dcsim", appauthor=False))


@attrs.frozen(kw_only=True)
class Settings:
    """The effective configuration of one dc-sim instance."""

    data_dir: Path = attrs.field(factory=default_data_dir, converter=Path)
    host: str = "127.0.0.1"
    port: int = 8000
    # PEM files: with both set, `dcsim serve` speaks HTTPS (vendor tools that insist on it).
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    # None means a SQLite file in data_dir.
    database_url: str | None = None
    store_driver: str = "sqlalchemy"
    bus_driver: str = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_stream: str = "dcsim:events"
    bus_redelivery_seconds: float = 30.0
    bus_max_deliveries: int = 5
    bus_retention_max_len: int = 100_000
    bus_retention_max_age_seconds: float = 7 * 24 * 3600.0
    # The estate an empty store is seeded with: "default" (the 9-node seed) or "empty".
    sim_topology: str = "default"
    sim_seed: int = 0
    cmdb_backend: str = "builtin"
    # The netbox CMDB backend's NetBox (``http://host:port``) and API token (v1 key or v2 ``nbt_...``).
    netbox_url: str | None = None
    netbox_token: str | None = None
    # ITSM automation rules switched off, by name (GET /itsm/rules lists them).
    itsm_disabled_rules: tuple[str, ...] = ()
    node_backend: str = "virtual"
    # Docker engine of the docker node backend; None means DOCKER_HOST or the local socket.
    docker_url: str | None = None
    # Node images are <prefix>:rhel9 and <prefix>:ubuntu22, snapshots <prefix>-snapshot:<tag>.
    node_image_prefix: str = "dcsim-node"
    # This instance's name on a shared Docker engine (its containers' names and owner
    # label); None derives one from the data directory, so two never share nodes.
    instance: str | None = None
    strict_plugins: bool = False
    disable_plugins: tuple[str, ...] = ()
    max_request_body_bytes: int = 1024 * 1024
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    # auto: readable lines when stderr is a terminal, JSON lines otherwise; or console, json.
    log_format: str = "auto"
    create_admin_token: bool = True
    # Per-plugin tables: plugin name -> its settings, validated by the plugin.
    plugins: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    def plugin(self, name: str) -> dict[str, Any]:
        """The settings table of plugin ``name`` (empty when none is given)."""
        return dict(self.plugins.get(name, {}))

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL of the store."""
        return self.database_url or f"sqlite:///{self.data_dir / 'dcsim.sqlite3'}"

    @property
    def admin_token_path(self) -> Path:
        """Where embedded mode writes the first admin token."""
        return self.data_dir / "admin-token"

    def masked(self) -> dict[str, Any]:
        """The settings as plain values with passwords in URLs and tokens replaced by ``***``."""
        out: dict[str, Any] = {}
        for field in attrs.fields(Settings):
            value = getattr(self, field.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            if field.name.endswith("_url") and isinstance(value, str):
                value = _mask_url(value)
            elif field.name.endswith("_token") and isinstance(value, str):
                value = "***"
            elif field.name == "plugins":
                value = {name: _mask_table(table) for name, table in value.items()}
            out[field.name] = value
        out["effective_database_url"] = _mask_url(self.effective_database_url)
        return out


#: Keys of plugin tables whose values are secrets (account lists carry passwords).
_SECRET_KEYS = ("password", "secret", "token", "users")


def _mask_table(table: dict[str, Any]) -> dict[str, Any]:
    return {key: "***" if any(s in key.lower() for s in _SECRET_KEYS) else value for key, value in table.items()}


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _coerce(name: str, raw: Any, annotation: Any) -> Any:
    text = str(annotation)
    try:
        if "tuple" in text:
            if isinstance(raw, str):
                return tuple(item.strip() for item in raw.split(",") if item.strip())
            return tuple(raw)
        if text == "bool":
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if text == "int":
            return int(raw)
        if text == "float":
            return float(raw)
        if text == "str | None":
            return None if raw in ("", None) else str(raw)
        return raw
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: cannot use {raw!r}: {exc}") from exc


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from defaults, a TOML file, the environment and explicit overrides.

    The TOML file is ``config_file``, else ``$DCSIM_CONFIG``, else ``dcsim.toml`` in the
    data directory when it exists. Later sources win; ``overrides`` win over all.
    """
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in attrs.fields(Settings)}
    values: dict[str, Any] = {}
    plugin_tables: dict[str, dict[str, Any]] = {}
    env_values = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :].lower() in fields
    }
    data_dir = overrides.get("data_dir") or env_values.get("data_dir")
    path = config_file or env.get("DCSIM_CONFIG")
    if path is None:
        candidate = Path(data_dir or default_data_dir()) / "dcsim.toml"
        path = candidate if candidate.exists() else None
    if path is not None:
        try:
            file_values = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        unknown = sorted(set(file_values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown settings in {path}: {', '.join(unknown)}")
        tables = file_values.pop("plugins", {})
        if not isinstance(tables, dict):
            raise ConfigError(f"{path}: plugins must be a table of tables, one per plugin")
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: plugins.{name} must be a table")
            plugin_tables.setdefault(name, {}).update(table)
        values.update(file_values)
    for key, value in env.items():
        if key.startswith(_PLUGIN_ENV_PREFIX):
            name, sep, setting = key[len(_PLUGIN_ENV_PREFIX) :].partition("__")
            if not sep or not name or not setting:
                raise ConfigError(f"{key}: plugin settings are {_PLUGIN_ENV_PREFIX}<PLUGIN>__<KEY>")
            plugin_tables.setdefault(name.lower(), {})[setting.lower()] = value
    values.update(env_values)
    values.update({k: v for k, v in overrides.items() if v is not None})
    for name, table in (overrides.get("plugins") or {}).items():
        plugin_tables.setdefault(name, {}).update(table)
    values.pop("plugins", None)
    coerced = {name: _coerce(name, raw, fields[name].type) for name, raw in values.items() if name != "data_dir"}
    coerced["plugins"] = plugin_tables
    if "data_dir" in values:
        coerced["data_dir"] = Path(values["data_dir"]).expanduser()
    unknown = sorted(set(coerced) - set(fields))
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(unknown)}")
    return Settings(**coerced)
