"""The dcsim command: version, db upgrade, tokens."""

from __future__ import annotations

from click.testing import CliRunner

import dcsim
from dcsim.cli import main
from dcsim.model import Role
from dcsim.settings import load_settings


def test_version():
    result = CliRunner().invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == f"dcsim-core {dcsim.__version__}"


def test_db_upgrade_shows_progress_and_is_idempotent(tmp_path):
    runner = CliRunner()
    first = runner.invoke(main, ["--data-dir", str(tmp_path), "db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "applying" in first.output and "store at revision 0003 (3 migration(s) applied)" in first.output
    second = runner.invoke(main, ["--data-dir", str(tmp_path), "db", "upgrade"])
    assert "store at revision 0003 (0 migration(s) applied)" in second.output


def test_token_create_list_revoke(tmp_path):
    runner = CliRunner()
    created = runner.invoke(main, ["--data-dir", str(tmp_path), "token", "create", "--role", "operator"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    store = dcsim.open(settings=load_settings(environ={}, data_dir=tmp_path)).store
    token = store.verify_token(secret)
    assert token is not None and token.role is Role.OPERATOR
    listed = runner.invoke(main, ["--data-dir", str(tmp_path), "token", "list"]).output
    assert token.id in listed and secret not in listed
    assert runner.invoke(main, ["--data-dir", str(tmp_path), "token", "revoke", token.id]).exit_code == 0
    assert store.verify_token(secret) is None
    missing = runner.invoke(main, ["--data-dir", str(tmp_path), "token", "revoke", "nope"])
    assert missing.exit_code == 1
    store.close()


def test_bad_role_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "token", "create", "--role", "root"])
    assert result.exit_code == 2 and "root" in result.output


def test_serve_refuses_half_a_tls_configuration(tmp_path):
    result = CliRunner().invoke(main, ["serve"], env={"DCSIM_DATA_DIR": str(tmp_path), "DCSIM_TLS_CERTFILE": "c.pem"})
    assert result.exit_code != 0
    assert "needs both tls_certfile and tls_keyfile" in result.output
