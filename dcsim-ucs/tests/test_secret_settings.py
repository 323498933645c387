"""``dcsim config`` masks the UCS accounts' passwords because the plugin declares
``users`` secret (its name alone would not say so)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dcsim.cli import main
from dcsim.settings import SECRET_SETTINGS_ATTRIBUTE
from dcsim_ucs import plugin


def test_the_plugin_declares_its_secret_settings():
    assert getattr(plugin, SECRET_SETTINGS_ATTRIBUTE) == ("users",)


def test_dcsim_config_masks_the_ucs_users(tmp_path):
    env = {"DCSIM_PLUGINS__UCS__USERS": "ops:s3cr3t-pass:admin", "DCSIM_PLUGINS__UCS__SESSION_SECONDS": "900"}
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "config", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "s3cr3t-pass" not in result.output
    assert json.loads(result.output)["plugins"]["ucs"] == {"users": "***", "session_seconds": "900"}
