"""``dcsim config`` masks secrets: tokens, credentials inside any URL, and plugin settings
whose names say secret or that their plugin declares secret."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dcsim.cli import main
from dcsim.redact import mask_url, redact_text
from dcsim.settings import load_settings


def _config(tmp_path, env):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "config", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return result.output, json.loads(result.output)


def test_dcsim_config_masks_every_credential(tmp_path):
    env = {
        "DCSIM_DATABASE_URL": "postgresql+psycopg://dcsim:hunter2@db.example/dcsim?password=swordfish&sslmode=require",
        "DCSIM_REDIS_URL": "redis://:redispass@127.0.0.1:6379/0",
        "DCSIM_NETBOX_URL": "https://netbox.example",
        "DCSIM_NETBOX_TOKEN": "nbt_verysecret",
        "DCSIM_PLUGINS__ACME__API_KEY": "apikey-value",
        "DCSIM_PLUGINS__ACME__CREDENTIAL": "credential-value",
        "DCSIM_PLUGINS__ACME__ENDPOINT": "https://bob:bobspass@acme.example/api?access_token=tokval&region=eu",
        "DCSIM_PLUGINS__ACME__REGION": "eu-west",
    }
    text, values = _config(tmp_path, env)
    for secret in ("hunter2", "swordfish", "redispass", "nbt_verysecret", "apikey-value", "credential-value"):
        assert secret not in text, secret
    assert "bobspass" not in text and "tokval" not in text
    assert values["database_url"] == "postgresql+psycopg://dcsim:***@db.example/dcsim?password=***&sslmode=require"
    assert values["effective_database_url"] == values["database_url"]
    assert values["redis_url"] == "redis://:***@127.0.0.1:6379/0"
    assert values["netbox_token"] == "***"
    acme = values["plugins"]["acme"]
    assert acme["api_key"] == "***" and acme["credential"] == "***"
    assert acme["endpoint"] == "https://bob:***@acme.example/api?access_token=***&region=eu"
    # What is not secret stays readable.
    assert acme["region"] == "eu-west"
    assert values["netbox_url"] == "https://netbox.example"


def test_keys_a_plugin_declares_secret_are_masked(tmp_path):
    settings = load_settings(environ={}, data_dir=tmp_path, plugins={"acme": {"users": "a:pw:admin", "zone": "z1"}})
    assert settings.masked()["plugins"]["acme"] == {"users": "a:pw:admin", "zone": "z1"}
    assert settings.masked({"acme": ("users",)})["plugins"]["acme"] == {"users": "***", "zone": "z1"}


def test_urls_and_log_text_are_masked_without_changing_the_rest():
    assert mask_url("sqlite:////var/lib/dcsim/db.sqlite3") == "sqlite:////var/lib/dcsim/db.sqlite3"
    assert mask_url("http://u:p@h/x?pwd=1&a=b") == "http://u:***@h/x?pwd=***&a=b"
    line = '127.0.0.1:5 - "WebSocket /ws?types=vm.*&token=abc123" [accepted]'
    assert redact_text(line) == '127.0.0.1:5 - "WebSocket /ws?types=vm.*&token=***" [accepted]'
