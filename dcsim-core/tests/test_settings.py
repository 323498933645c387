"""Settings from defaults, a TOML file and DCSIM_* variables; dcsim config masks secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from dcsim.cli import main
from dcsim.errors import ConfigError
from dcsim.settings import default_data_dir, load_settings


def test_defaults_are_embedded(tmp_path):
    settings = load_settings(environ={})
    assert settings.data_dir == default_data_dir()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.bus_driver == "memory"
    assert settings.effective_database_url == f"sqlite:///{default_data_dir() / 'dcsim.sqlite3'}"
    assert settings.cors_origins == ()


def test_file_then_environment_then_overrides(tmp_path: Path):
    config = tmp_path / "dcsim.toml"
    config.write_text('port = 9000\nbus_driver = "redis"\ndisable_plugins = ["ucs"]\nstrict_plugins = true\n')
    env = {"DCSIM_CONFIG": str(config), "DCSIM_PORT": "9100", "DCSIM_DISABLE_PLUGINS": "ucs, vmware"}
    settings = load_settings(environ=env)
    assert settings.port == 9100
    assert settings.bus_driver == "redis"
    assert settings.disable_plugins == ("ucs", "vmware")
    assert settings.strict_plugins is True
    assert load_settings(environ=env, port=9200).port == 9200


def test_data_dir_config_file_is_found(tmp_path: Path):
    (tmp_path / "dcsim.toml").write_text('log_level = "DEBUG"\n')
    assert load_settings(environ={"DCSIM_DATA_DIR": str(tmp_path)}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DCSIM_PORT": "eighty"}, "DCSIM_PORT='eighty': expected a whole number"),
        ({"DCSIM_CONFIG": "/nonexistent/dcsim.toml"}, "cannot read"),
    ],
)
def test_bad_settings_are_clear_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_file_settings_are_refused(tmp_path: Path):
    config = tmp_path / "x.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(config_file=config, environ={})


def test_config_command_masks_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("DCSIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DCSIM_DATABASE_URL", "postgresql+psycopg://dcsim:hunter2@127.0.0.1/dcsim")
    monkeypatch.setenv("DCSIM_REDIS_URL", "redis://:s3cret@127.0.0.1:6379/0")
    result = CliRunner().invoke(main, ["config", "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)
    assert values["database_url"] == "postgresql+psycopg://dcsim:***@127.0.0.1/dcsim"
    assert values["redis_url"] == "redis://:***@127.0.0.1:6379/0"
    assert "hunter2" not in result.output and "s3cret" not in result.output
    assert values["data_dir"] == str(tmp_path)


def test_plugin_tables_come_from_file_environment_and_overrides(tmp_path: Path):
    config = tmp_path / "x.toml"
    config.write_text('port = 9000\n[plugins.ucs]\nusers = ["admin:pw:admin"]\nsession_seconds = 600\n')
    settings = load_settings(
        config_file=config,
        environ={"DCSIM_PLUGINS__UCS__SESSION_SECONDS": "60", "DCSIM_PLUGINS__VMWARE__VCSIM": "/bin/vcsim"},
        plugins={"ucs": {"domain": "d1"}},
    )
    assert settings.port == 9000
    assert settings.plugin("ucs") == {"users": ["admin:pw:admin"], "session_seconds": "60", "domain": "d1"}
    assert settings.plugin("vmware") == {"vcsim": "/bin/vcsim"}
    assert settings.plugin("openstack") == {}
    # Secret because the plugin declares it (dcsim config reads the declarations).
    assert settings.masked({"ucs": ("users",)})["plugins"]["ucs"]["users"] == "***"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("plugins = 3\n", {}, "plugins"),
        ("[plugins]\nucs = 1\n", {}, "plugins.ucs must be a table"),
        ("", {"DCSIM_PLUGINS__UCS": "x"}, "DCSIM_PLUGINS__<PLUGIN>__<KEY>"),
    ],
)
def test_malformed_plugin_settings_are_clear_errors(tmp_path: Path, text, env, message):
    config = tmp_path / "x.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=config, environ=env)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("DCSIM_SIM_TOPOLOGY", "defualt", "allowed: default, empty"),
        ("DCSIM_LOG_LEVEL", "verbose", "allowed: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("DCSIM_LOG_FORMAT", "pretty", "allowed: auto, console, json"),
        ("DCSIM_BUS_DRIVER", "rabbitmq", "allowed: memory, redis"),
        ("DCSIM_STORE_DRIVER", "sqlite", "allowed: sqlalchemy"),
        ("DCSIM_CMDB_BACKEND", "netbx", "allowed: builtin, netbox"),
        ("DCSIM_NODE_BACKEND", "dokcer", "allowed: docker, virtual"),
        ("DCSIM_STRICT_PLUGINS", "ture", "expected one of"),
        ("DCSIM_PORT", "70000", "1 to 65535"),
        ("DCSIM_BUS_MAX_DELIVERIES", "0", ">= 1"),
        ("DCSIM_REDIS_URL", "127.0.0.1:6379", "allowed: redis://, rediss://, unix://"),
    ],
)
def test_each_typo_is_one_line_naming_key_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={key: value})
    message = caught.value.detail
    assert message.startswith(f"{key}={value!r}: ") and allowed in message, message
    assert "\n" not in message
    assert caught.value.extra == {"setting": key}


def test_valid_values_are_normalised_and_accepted():
    settings = load_settings(
        environ={"DCSIM_LOG_LEVEL": "debug", "DCSIM_SIM_TOPOLOGY": "empty", "DCSIM_STRICT_PLUGINS": "off"}
    )
    assert (settings.log_level, settings.sim_topology, settings.strict_plugins) == ("DEBUG", "empty", False)


def test_unknown_environment_variables_are_refused_like_unknown_file_keys(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"DCSIM_SIM_TOPOLGY": "default"})
    message = caught.value.detail
    assert message.startswith("DCSIM_SIM_TOPOLGY='default': unknown DCSIM_ variable; did you mean DCSIM_SIM_TOPOLOGY?")
    assert "DCSIM_PLUGINS__<PLUGIN>__<KEY>" in message and "\n" not in message
    with pytest.raises(ConfigError, match="DCSIM_PLUGINS='x': unknown DCSIM_ variable"):
        load_settings(environ={"DCSIM_PLUGINS": "x"})

    config = tmp_path / "dcsim.toml"
    config.write_text('sim_topolgy = "default"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config, environ={})
    assert caught.value.detail.startswith(f"sim_topolgy in {config}: unknown setting; did you mean sim_topology?")

    config.write_text('log_level = "verbose"\n')
    with pytest.raises(ConfigError, match=f"log_level in {config}='verbose': unknown log level; allowed: DEBUG"):
        load_settings(config_file=config, environ={})
    config.write_text('port = "80"\n')
    with pytest.raises(ConfigError, match=f"port in {config}='80': expected a whole number, not text"):
        load_settings(config_file=config, environ={})


def test_variables_that_are_not_settings_are_allowed():
    from dcsim.settings import OTHER_VARIABLES

    env = dict.fromkeys(OTHER_VARIABLES, "x") | {"DCSIM_PLUGINS__UCS__DOMAIN": "d1"}
    env.pop("DCSIM_CONFIG")  # names a file that must exist
    assert load_settings(environ=env).plugin("ucs") == {"domain": "d1"}
    assert set(OTHER_VARIABLES) == {
        "DCSIM_CONFIG",
        "DCSIM_URL",
        "DCSIM_TOKEN",
        "DCSIM_TOKEN_FILE",
        "DCSIM_TEST_DATABASE_URL",
    }


@pytest.mark.parametrize("command", [["serve"], ["config"]])
def test_the_cli_stops_with_the_one_line_and_no_traceback(tmp_path, monkeypatch, command):
    monkeypatch.setenv("DCSIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DCSIM_SIM_TOPOLOGY", "defualt")
    result = CliRunner().invoke(main, command)
    assert result.exit_code != 0
    assert result.output == "Error: DCSIM_SIM_TOPOLOGY='defualt': unknown topology; allowed: default, empty\n"
    assert not (tmp_path / "dcsim.sqlite3").exists()  # stopped before anything started


def test_library_open_raises_the_config_error(tmp_path, monkeypatch):
    import dcsim

    monkeypatch.setenv("DCSIM_LOG_LEVEL", "verbose")
    with pytest.raises(ConfigError, match="DCSIM_LOG_LEVEL='verbose': unknown log level"):
        dcsim.open(data_dir=tmp_path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DCSIM_RATE_LIMIT": "fast"}, "DCSIM_RATE_LIMIT='fast': expected <count>/<unit>"),
        ({"DCSIM_RATE_LIMIT_ANONYMOUS": "0/minute"}, "DCSIM_RATE_LIMIT_ANONYMOUS='0/minute': expected <count>/<unit>"),
        ({"DCSIM_RATE_LIMIT_ROLES": "boss=1/minute"}, "DCSIM_RATE_LIMIT_ROLES='boss=1/minute': expected <role>=<rate>"),
        ({"DCSIM_RATE_LIMIT_ROLES": "admin=9/fortnight"}, "DCSIM_RATE_LIMIT_ROLES='9/fortnight': expected"),
        ({"DCSIM_JWT_ISSUER": "https://idp"}, "jwt_issuer is set: give exactly one of jwt_secret"),
        ({"DCSIM_JWT_SECRET": "s" * 32}, "jwt_secret is set but jwt_issuer is not"),
        ({"DCSIM_JWT_ISSUER": "https://idp", "DCSIM_JWT_SECRET": "short"}, "jwt_secret: must be at least 32 bytes"),
        (
            {"DCSIM_JWT_ISSUER": "https://idp", "DCSIM_JWT_SECRET": "s" * 32, "DCSIM_JWT_ALGORITHMS": "RS256"},
            "jwt_algorithms='RS256': RS256 cannot be used with jwt_secret; allowed: HS256",
        ),
        (
            {"DCSIM_JWT_ISSUER": "https://idp", "DCSIM_JWT_SECRET": "s" * 32, "DCSIM_JWT_ROLES": "admins=boss"},
            "jwt_roles='admins=boss': expected <claim value>=<role>",
        ),
        (
            {"DCSIM_JWT_ISSUER": "https://idp", "DCSIM_JWT_PUBLIC_KEY_FILE": "/nonexistent/key.pem"},
            "jwt_public_key_file='/nonexistent/key.pem': cannot use it",
        ),
    ],
)
def test_rates_and_jwt_are_refused_when_settings_load(env, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env)
    assert caught.value.detail.startswith(message), caught.value.detail
    assert "\n" not in caught.value.detail


def test_good_rates_and_jwt_settings_load():
    settings = load_settings(
        environ={
            "DCSIM_RATE_LIMIT": "10/second",
            "DCSIM_RATE_LIMIT_ROLES": "admin=off,viewer=5/minutes",
            "DCSIM_JWT_ISSUER": "https://idp",
            "DCSIM_JWT_SECRET": "s" * 32,
            "DCSIM_JWT_ALGORITHMS": "HS512",
        }
    )
    assert settings.rate_limit == "10/second" and settings.jwt_algorithms == ("HS512",)


def test_config_command_and_open_refuse_a_malformed_rate_with_one_line(tmp_path, monkeypatch):
    import dcsim

    monkeypatch.setenv("DCSIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DCSIM_RATE_LIMIT", "600/minutely")
    result = CliRunner().invoke(main, ["config"])
    assert result.exit_code != 0
    assert result.output.startswith("Error: DCSIM_RATE_LIMIT='600/minutely': expected <count>/<unit>")
    assert result.output.count("\n") == 1
    with pytest.raises(ConfigError, match="DCSIM_RATE_LIMIT='600/minutely'"):
        dcsim.open(data_dir=tmp_path)
