"""Settings: defaults, then an optional TOML file, then ``DCSIM_*`` environment variables.

Every field can be set in the TOML file under its own name and in the environment as
``DCSIM_<NAME>`` (upper case). Tuples are comma-separated in the environment.

Plugins get a table each: ``[plugins.<name>]`` in the TOML file, or
``DCSIM_PLUGINS__<NAME>__<KEY>`` in the environment (values stay strings there). A
plugin reads its own with :meth:`Settings.plugin` and validates it itself.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import platformdirs

from dcsim.errors import ConfigError
from dcsim.logs import LOG_FORMATS, LOG_LEVELS
from dcsim.redact import MASK, is_secret_name, mask_url

ENV_PREFIX = "DCSIM_"
_PLUGIN_ENV_PREFIX = "DCSIM_PLUGINS__"
#: ``DCSIM_*`` variables that are not settings, and what reads them: the environment may
#: hold them; any other ``DCSIM_*`` variable that is not a setting is an error.
OTHER_VARIABLES = {
    "DCSIM_CONFIG": "the TOML settings file (load_settings)",
    "DCSIM_URL": "dcsim-inventory: the dc-sim server to ask",
    "DCSIM_TOKEN": "dcsim-inventory: the API token",
    "DCSIM_TOKEN_FILE": "dcsim-inventory: a file holding the API token",
    "DCSIM_TEST_DATABASE_URL": "the test suites: the PostgreSQL server of the store tests",
}
#: The values of ``sim_topology``: the 9-node seed, or nothing (a plugin may seed).
SIM_TOPOLOGIES = ("default", "empty")


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
    # Sent outbox rows and Idempotency-Key responses are kept this long.
    outbox_retention_seconds: float = 24 * 3600.0
    idempotency_retention_seconds: float = 24 * 3600.0
    # False: this process writes events to the outbox but never relays them (tests, or a
    # process that must not publish); another process on the same store relays them.
    outbox_relay: bool = True
    # The estate an empty store is seeded with: SIM_TOPOLOGIES.
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
    # Browser origins besides the server's own: CORS, and the Origin of WebSocket upgrades.
    cors_origins: tuple[str, ...] = ()
    # Host header names served ("*.example.com" for subdomains, "*" for any; a port in the
    # header is ignored). Empty: the loopback names when bound to loopback, else any.
    allowed_hosts: tuple[str, ...] = ()
    log_level: str = "INFO"
    # auto: readable lines when stderr is a terminal, JSON lines otherwise; or console, json.
    log_format: str = "auto"
    # This process's name in traces and log lines (``service``), and its deployment
    # environment (``env`` in log lines, e.g. "prod"; None leaves it out).
    service_name: str = "dcsim"
    environment: str | None = None
    # OpenTelemetry traces (dcsim.tracing; needs dcsim-core[tracing]); off by default.
    tracing: bool = False
    # OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; None exports nowhere
    # unless the process already has a tracer provider (a library caller's, a test's).
    tracing_otlp_endpoint: str | None = None
    create_admin_token: bool = True
    # Requests per token in a fixed window, "<count>/<second|minute|hour|day>" or "off";
    # counted in the bus's Redis with the redis bus, so every process shares the budget.
    rate_limit: str = "600/minute"
    # Per-role overrides of rate_limit: "<role>=<rate>" entries, e.g. "admin=6000/minute".
    rate_limit_roles: tuple[str, ...] = ()
    # Per client address: open routes and failed sign-ins. Off by default: open routes are
    # probes, metrics and vendor APIs with sessions of their own (/nuova), and behind a
    # proxy every client has the proxy's address.
    rate_limit_anonymous: str = "off"
    # JWT bearer tokens from an identity provider, on when jwt_issuer is set, with exactly
    # one of jwt_secret, jwt_public_key_file, jwt_jwks_file (dcsim.auth.jwt).
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Allowed algorithms; empty: every one that fits the key (HMAC or public key).
    jwt_algorithms: tuple[str, ...] = ()
    jwt_secret: str | None = None
    jwt_public_key_file: str | None = None
    jwt_jwks_file: str | None = None
    # The claim carrying the role (a dotted path, e.g. realm_access.roles) and how its
    # values map to roles, "<claim value>=<role>" entries (empty: the role names).
    jwt_role_claim: str = "role"
    jwt_roles: tuple[str, ...] = ()
    jwt_leeway_seconds: float = 30.0
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

    def masked(self, secret_keys: Mapping[str, Iterable[str]] | None = None) -> dict[str, Any]:
        """The settings as plain values, secrets replaced by ``***``: tokens and secrets,
        credentials inside any URL (``user:password@``, ``?password=``), and in plugin
        tables the keys with secret names or that the plugin declares (``secret_keys``:
        plugin name -> keys, from each plugin's :data:`SECRET_SETTINGS_ATTRIBUTE`)."""
        declared = secret_keys or {}
        out: dict[str, Any] = {}
        for field in attrs.fields(Settings):
            value = getattr(self, field.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            if field.name.endswith(("_token", "_secret")) and isinstance(value, str):
                value = MASK
            elif field.name == "plugins":
                value = {name: _mask_table(table, set(declared.get(name, ()))) for name, table in value.items()}
            else:
                value = _mask_value(value)
            out[field.name] = value
        out["effective_database_url"] = mask_url(self.effective_database_url)
        return out


#: The attribute by which a plugin object (the module or instance its entry point
#: names) declares the keys of its ``[plugins.<name>]`` table that hold secrets: a tuple
#: of key names. ``dcsim config`` masks them, as it masks keys with secret names.
SECRET_SETTINGS_ATTRIBUTE = "SECRET_SETTINGS"


def _mask_table(table: dict[str, Any], secret: set[str]) -> dict[str, Any]:
    return {key: MASK if key in secret or is_secret_name(key) else _mask_value(value) for key, value in table.items()}


def _mask_value(value: Any) -> Any:
    """``value`` with credentials inside any URL in it masked (lists and tables too)."""
    if isinstance(value, str):
        return mask_url(value) if "://" in value else value
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    if isinstance(value, dict):
        return {key: MASK if is_secret_name(str(key)) else _mask_value(item) for key, item in value.items()}
    return value


def _coerce(source: str, raw: Any, annotation: Any) -> Any:
    """``raw`` (text from the environment, a TOML value or an override) as the field's type;
    only the environment, which has nothing but text, may spell numbers and booleans as text."""
    text = str(annotation)
    if isinstance(raw, str) and text in ("bool", "int", "float") and not source.startswith(ENV_PREFIX):
        raise ConfigError(f"{source}={raw!r}: expected a {_KINDS[text]}, not text", setting=source)
    try:
        if "tuple" in text:
            if isinstance(raw, str):
                return tuple(item.strip() for item in raw.split(",") if item.strip())
            if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
                raise ValueError("expected a list of text or comma-separated text")
            return tuple(raw)
        if text == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            raise ValueError(f"expected one of {', '.join(sorted(_TRUE | _FALSE - {''}))}")
        if text == "int":
            if isinstance(raw, bool | float) or not str(raw).strip().lstrip("-").isdigit():
                raise ValueError("expected a whole number")
            return int(raw)
        if text == "float":
            if isinstance(raw, bool):
                raise ValueError("expected a number")
            try:
                return float(raw)
            except ValueError:
                raise ValueError("expected a number") from None
        if text in ("str", "str | None"):
            if text == "str | None" and raw in ("", None):
                return None
            if not isinstance(raw, str):
                raise ValueError("expected text")
            return raw
        return raw
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}={raw!r}: {exc}", setting=source) from None


_KINDS = {"bool": "boolean", "int": "whole number", "float": "number"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _choices(field: str) -> tuple[str, ...] | None:
    """The values a field may take, when it is one of a known set (drivers: installed ones)."""
    from dcsim.drivers import NAMESPACES, available_drivers  # drivers imports this module

    if field == "sim_topology":
        return SIM_TOPOLOGIES
    if field == "log_level":
        return LOG_LEVELS
    if field == "log_format":
        return LOG_FORMATS
    for namespace, setting in NAMESPACES.items():
        if setting == field:
            return tuple(available_drivers(namespace))
    return None


#: Fields with a lower bound: (minimum, inclusive).
_BOUNDS: dict[str, tuple[float, bool]] = {
    "port": (1, True),
    "bus_redelivery_seconds": (0, False),
    "bus_max_deliveries": (1, True),
    "bus_retention_max_len": (0, True),
    "bus_retention_max_age_seconds": (0, False),
    "outbox_retention_seconds": (0, False),
    "idempotency_retention_seconds": (0, False),
    "max_request_body_bytes": (1, True),
    "jwt_leeway_seconds": (0, True),
}
#: URL fields and the schemes they take.
_SCHEMES = {
    "redis_url": ("redis", "rediss", "unix"),
    "netbox_url": ("http", "https"),
    "tracing_otlp_endpoint": ("http", "https"),
}


def _check(field: str, value: Any, source: str, raw: Any) -> Any:
    """``value`` if it is allowed for ``field``, normalised; else ConfigError naming the
    setting as given (``source``), the value as given (``raw``) and what is allowed."""
    if value is None:
        return value
    choices = _choices(field)
    if choices is not None:
        if field == "log_level":
            value = value.upper()
        if value not in choices:
            allowed = ", ".join(choices) or "none installed"
            raise ConfigError(
                f"{source}={raw!r}: unknown {_WHAT.get(field, field)}; allowed: {allowed}", setting=source
            )
    if field in _BOUNDS:
        minimum, inclusive = _BOUNDS[field]
        if value < minimum or (value == minimum and not inclusive):
            bound = f">= {minimum}" if inclusive else f"> {minimum}"
            raise ConfigError(f"{source}={raw!r}: must be {bound}", setting=source)
        if field == "port" and value > 65535:
            raise ConfigError(f"{source}={raw!r}: must be a TCP port, 1 to 65535", setting=source)
    if field in _SCHEMES and urlsplit(value).scheme not in _SCHEMES[field]:
        schemes = ", ".join(f"{scheme}://" for scheme in _SCHEMES[field])
        raise ConfigError(f"{source}={mask_url(value)!r}: not a URL; allowed: {schemes}", setting=source)
    return value


_WHAT = {
    "sim_topology": "topology",
    "log_level": "log level",
    "log_format": "log format",
    "store_driver": "store driver (dcsim.store entry points)",
    "bus_driver": "bus driver (dcsim.bus entry points)",
    "cmdb_backend": "CMDB backend (dcsim.cmdb entry points)",
    "node_backend": "node backend (dcsim.nodes entry points)",
}


def _unknown_variable(key: str, value: str, fields: Mapping[str, Any]) -> ConfigError:
    names = [ENV_PREFIX + name.upper() for name in fields if name != "plugins"] + list(OTHER_VARIABLES)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return ConfigError(
        f"{key}={value!r}: unknown DCSIM_ variable; {hint}allowed: DCSIM_<SETTING> for the settings"
        f" (dcsim config lists them), {_PLUGIN_ENV_PREFIX}<PLUGIN>__<KEY>, {', '.join(OTHER_VARIABLES)}",
        setting=key,
    )


def _unknown_file_keys(path: Any, unknown: list[str], fields: Mapping[str, Any]) -> ConfigError:
    key = unknown[0]
    close = difflib.get_close_matches(key, list(fields), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return ConfigError(
        f"{key} in {path}: unknown setting{'s ' + ', '.join(unknown) if len(unknown) > 1 else ''}; {hint}"
        f"allowed: {', '.join(sorted(fields))}",
        setting=key,
    )


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from defaults, a TOML file, the environment and explicit overrides.

    The TOML file is ``config_file``, else ``$DCSIM_CONFIG``, else ``dcsim.toml`` in the
    data directory when it exists. Later sources win; ``overrides`` win over all. Every
    value is checked: an unknown key in the file, an unknown ``DCSIM_*`` variable (other
    than :data:`OTHER_VARIABLES` and plugin settings), a value of the wrong type or
    outside its allowed set (topology, log level and format, installed drivers) is a
    :class:`ConfigError` whose one-line message names the key, the value and what is
    allowed.
    """
    env = os.environ if environ is None else environ
    fields = {f.name: f for f in attrs.fields(Settings)}
    values: dict[str, Any] = {}
    #: How each value was given (``DCSIM_PORT``, ``port in dcsim.toml``), for errors.
    sources: dict[str, str] = {}
    plugin_tables: dict[str, dict[str, Any]] = {}
    env_values: dict[str, str] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX) or key.startswith(_PLUGIN_ENV_PREFIX) or key in OTHER_VARIABLES:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in fields or name == "plugins":
            raise _unknown_variable(key, value, fields)
        env_values[name] = value
        sources[name] = key
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
            raise _unknown_file_keys(path, unknown, fields)
        tables = file_values.pop("plugins", {})
        if not isinstance(tables, dict):
            raise ConfigError(f"{path}: plugins must be a table of tables, one per plugin")
        for name, table in tables.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: plugins.{name} must be a table")
            plugin_tables.setdefault(name, {}).update(table)
        values.update(file_values)
        sources.update({name: f"{name} in {path}" for name in file_values if name not in env_values})
    for key, value in env.items():
        if key.startswith(_PLUGIN_ENV_PREFIX):
            name, sep, setting = key[len(_PLUGIN_ENV_PREFIX) :].partition("__")
            if not sep or not name or not setting:
                raise ConfigError(f"{key}: plugin settings are {_PLUGIN_ENV_PREFIX}<PLUGIN>__<KEY>")
            plugin_tables.setdefault(name.lower(), {})[setting.lower()] = value
    values.update(env_values)
    given = {k: v for k, v in overrides.items() if v is not None}
    values.update(given)
    sources.update({name: name for name in given})
    for name, table in (overrides.get("plugins") or {}).items():
        plugin_tables.setdefault(name, {}).update(table)
    values.pop("plugins", None)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(unknown)}; allowed: {', '.join(sorted(fields))}")
    coerced = {
        name: _check(name, _coerce(sources[name], raw, fields[name].type), sources[name], raw)
        for name, raw in values.items()
        if name != "data_dir"
    }
    coerced["plugins"] = plugin_tables
    if "data_dir" in values:
        coerced["data_dir"] = Path(values["data_dir"]).expanduser()
    settings = Settings(**coerced)
    _check_rates_and_jwt(settings, sources)
    return settings


def _check_rates_and_jwt(settings: Settings, sources: Mapping[str, str]) -> None:
    """The rates and the JWT key, checked by the code that uses them, at load too (issue #10:
    every setting is refused when it loads, so ``dcsim config`` refuses it as the app would)."""
    from dcsim.auth.jwt import JwtVerifier  # both import this module
    from dcsim.web.ratelimit import Rate, role_rates

    for name in ("rate_limit", "rate_limit_anonymous"):
        Rate.parse(getattr(settings, name), sources.get(name, name))
    role_rates(settings.rate_limit_roles, sources.get("rate_limit_roles", "rate_limit_roles"))
    JwtVerifier.from_settings(settings)
